// This file is the REST side: authentication and renewal, the penalty
// protocol (p-ticket, p-time, p-captcha: example-api-faq
// docs/HowToHandleRequestLimits.md), HTTP 429, and retries of 5xx and
// network errors.

package tradovate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskguard/deskguard/market"
)

// APIError is a REST call that the API answered with an error status or an
// errorText/failureReason.
type APIError struct {
	Path   string
	Status int
	Text   string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("tradovate: %s: HTTP %d: %s", e.Path, e.Status, e.Text)
}

// Temporary reports whether retrying the same request may succeed.
func (e *APIError) Temporary() bool { return e.Status >= 500 }

// ErrAuth is wrapped when the credentials are refused.
var ErrAuth = errors.New("tradovate: authentication refused")

// ErrCaptcha is wrapped when a penalty ticket demands a captcha: a server
// integration cannot answer it and must wait about an hour.
var ErrCaptcha = errors.New("tradovate: penalty requires a captcha")

type token struct {
	access, md string
	issued     time.Time
	expires    time.Time
	userID     int64
}

type rest struct {
	cfg   Config
	creds Credentials
	http  *http.Client
	log   *slog.Logger
	clock market.Clock
	// after waits (timers are infrastructure: the wall clock, not logic).
	after func(time.Duration) <-chan time.Time

	mu  sync.Mutex
	tok token

	authMu sync.Mutex // one authentication at a time
}

func newREST(cfg Config, creds Credentials, log *slog.Logger, clock market.Clock) *rest {
	return &rest{
		cfg: cfg, creds: creds, log: log, clock: clock,
		http:  &http.Client{Timeout: 15 * time.Second},
		after: time.After,
	}
}

func (r *rest) token() token {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tok
}

// authenticate requests a new token with the credentials.
func (r *rest) authenticate(ctx context.Context) error {
	r.authMu.Lock()
	defer r.authMu.Unlock()
	req := accessTokenRequest{Name: r.cfg.User, Password: r.creds.Password, AppID: r.cfg.AppID,
		AppVersion: r.cfg.AppVersion, CID: r.cfg.CID, Sec: r.creds.Secret, DeviceID: r.cfg.DeviceID}
	var resp accessTokenResponse
	if err := r.call(ctx, http.MethodPost, "/auth/accesstokenrequest", req, &resp, callOpts{noAuth: true, safe: true}); err != nil {
		return fmt.Errorf("tradovate: accesstokenrequest: %w", err)
	}
	return r.setToken(resp, "accesstokenrequest")
}

// renew renews the current token; if the API refuses (expired), it
// authenticates again with the credentials.
func (r *rest) renew(ctx context.Context) error {
	var resp accessTokenResponse
	err := r.call(ctx, http.MethodGet, "/auth/renewAccessToken", nil, &resp, callOpts{safe: true, noRenew: true})
	if err == nil {
		if err = r.setToken(resp, "renewAccessToken"); err == nil {
			return nil
		}
	}
	r.log.Info("tradovate: token renewal refused, authenticating again", "err", err)
	return r.authenticate(ctx)
}

func (r *rest) setToken(resp accessTokenResponse, via string) error {
	if resp.ErrorText != "" || resp.AccessToken == "" {
		txt := resp.ErrorText
		if txt == "" {
			txt = "no access token in the response"
		}
		return fmt.Errorf("%w: %s: %s", ErrAuth, via, txt)
	}
	exp, err := time.Parse(time.RFC3339Nano, resp.ExpirationTime)
	if err != nil {
		return fmt.Errorf("tradovate: %s: expirationTime %q: %w", via, resp.ExpirationTime, err)
	}
	r.mu.Lock()
	md := resp.MDAccessToken
	if md == "" {
		md = r.tok.md
	}
	uid := resp.UserID
	if uid == 0 {
		uid = r.tok.userID
	}
	r.tok = token{access: resp.AccessToken, md: md, issued: r.clock.Now(), expires: exp, userID: uid}
	r.mu.Unlock()
	r.log.Info("tradovate: token", "via", via, "expires", exp.UTC().Format(time.RFC3339))
	return nil
}

// renewLoop renews the token before it expires until ctx ends.
func (r *rest) renewLoop(ctx context.Context) {
	for {
		t := r.token()
		at := renewAt(t.issued, t.expires, time.Duration(r.cfg.RenewBeforeSec)*time.Second)
		wait := at.Sub(r.clock.Now())
		if wait < 0 {
			wait = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-r.after(wait):
		}
		if r.token().expires != t.expires { // renewed meanwhile (401 path)
			continue
		}
		if err := r.renew(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			r.log.Warn("tradovate: token renewal failed; retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-r.after(time.Second):
			}
		}
	}
}

type callOpts struct {
	noAuth  bool // no bearer token (auth endpoints)
	noRenew bool // do not renew on 401 (the renew call itself)
	safe    bool // retry 5xx and network errors (reads, idempotent writes)
	// before runs before each retry of an unsafe call; it returns true when
	// the request already took effect (so the call is done).
	before func(ctx context.Context) (bool, error)
}

// call performs one REST call with the penalty protocol, a renewal on 401,
// and retries of 5xx/network errors when the call is safe to repeat (or
// opts.before says it did not take effect).
func (r *rest) call(ctx context.Context, method, path string, in, out any, opts callOpts) error {
	var body map[string]any
	var raw []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("tradovate: %s: encode: %w", path, err)
		}
		raw = b
	}
	renewed := false
	backoff := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		status, resp, retryAfter, err := r.roundTrip(ctx, method, path, raw, opts.noAuth)
		retryable := false
		wait := backoff
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			retryable = true
		case status == http.StatusUnauthorized && !opts.noAuth && !opts.noRenew && !renewed:
			renewed = true
			if rerr := r.renew(ctx); rerr != nil {
				return rerr
			}
			attempt--
			continue
		case status >= 500:
			err = &APIError{Path: path, Status: status, Text: errText(resp)}
			retryable = true
		case status == http.StatusTooManyRequests:
			// A 429, possibly with an empty body: the request-rate limit
			// said plainly. The public sources document only penalty
			// tickets; the worst case is assumed: the body says nothing,
			// the wait is Retry-After if given, else the backoff, and an
			// unsafe request is checked for having taken effect first.
			err = &APIError{Path: path, Status: status, Text: errText(resp)}
			retryable = true
			wait = max(wait, retryAfter)
		case status != http.StatusOK:
			return &APIError{Path: path, Status: status, Text: errText(resp)}
		default:
			var p penalty
			if json.Unmarshal(resp, &p) == nil && p.Ticket != "" {
				if p.Captcha {
					return fmt.Errorf("%w: %s", ErrCaptcha, path)
				}
				r.log.Warn("tradovate: penalty ticket", "path", path, "wait_s", p.Time)
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-r.after(time.Duration(p.Time * float64(time.Second))):
				}
				if body == nil {
					body = map[string]any{}
					if raw != nil {
						if err := json.Unmarshal(raw, &body); err != nil {
							return fmt.Errorf("tradovate: %s: re-encode for p-ticket: %w", path, err)
						}
					}
				}
				body["p-ticket"] = p.Ticket
				raw, _ = json.Marshal(body)
				attempt--
				continue
			}
			if out != nil {
				if err := json.Unmarshal(resp, out); err != nil {
					return fmt.Errorf("tradovate: %s: decode: %w", path, err)
				}
			}
			return nil
		}
		if !retryable || attempt >= r.cfg.MaxRetries {
			return fmt.Errorf("tradovate: %s: giving up after %d attempts: %w", path, attempt+1, err)
		}
		r.log.Warn("tradovate: retrying", "path", path, "attempt", attempt+1, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.after(wait):
		}
		backoff *= 2
		if !opts.safe {
			if opts.before == nil {
				return fmt.Errorf("tradovate: %s: not safe to retry: %w", path, err)
			}
			done, berr := opts.before(ctx)
			if berr != nil {
				return fmt.Errorf("tradovate: %s: after %v, checking whether it took effect: %w", path, err, berr)
			}
			if done {
				return nil
			}
		}
	}
}

func (r *rest) roundTrip(ctx context.Context, method, path string, body []byte, noAuth bool) (int, []byte, time.Duration, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.cfg.BaseURL+path, rd)
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !noAuth {
		req.Header.Set("Authorization", "Bearer "+r.token().access)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, nil, 0, err
	}
	var after time.Duration
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
		after = min(time.Duration(s)*time.Second, time.Minute)
	}
	return resp.StatusCode, b, after, nil
}

func errText(b []byte) string {
	var e struct {
		ErrorText     string `json:"errorText"`
		FailureText   string `json:"failureText"`
		FailureReason string `json:"failureReason"`
	}
	if json.Unmarshal(b, &e) == nil {
		switch {
		case e.ErrorText != "":
			return e.ErrorText
		case e.FailureText != "":
			return e.FailureText
		case e.FailureReason != "":
			return e.FailureReason
		}
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
