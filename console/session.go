package console

// session.go: who is calling. A bearer token (Authorization header) or a
// login session: the browser holds only a random session id in an HttpOnly,
// SameSite=Strict cookie, never the token; sessions live in memory and
// expire. Cookie-authenticated POSTs must carry the session's CSRF token.

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/market"
)

// CookieName is the session cookie.
const CookieName = "deskguard_session"

// CSRFHeader carries the CSRF token of a cookie session.
const CSRFHeader = "X-CSRF-Token"

type session struct {
	id      string
	csrf    string
	p       auth.Principal
	expires time.Time
}

type sessions struct {
	mu    sync.Mutex
	m     map[string]*session
	ttl   time.Duration
	clock market.Clock
}

func newSessions(ttl time.Duration, clock market.Clock) *sessions {
	return &sessions{m: make(map[string]*session), ttl: ttl, clock: clock}
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// create starts a session for p, dropping expired ones.
func (ss *sessions) create(p auth.Principal) (*session, error) {
	id, err := randomHex(32)
	if err != nil {
		return nil, err
	}
	csrf, err := randomHex(32)
	if err != nil {
		return nil, err
	}
	now := ss.clock.Now()
	s := &session{id: id, csrf: csrf, p: p, expires: now.Add(ss.ttl)}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k, v := range ss.m {
		if !now.Before(v.expires) {
			delete(ss.m, k)
		}
	}
	ss.m[id] = s
	return s, nil
}

// get returns the live session id, or nil.
func (ss *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[id]
	if s == nil {
		return nil
	}
	if !ss.clock.Now().Before(s.expires) {
		delete(ss.m, id)
		return nil
	}
	return s
}

func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	delete(ss.m, id)
	ss.mu.Unlock()
}

// caller is an authenticated request's principal and how it proved itself.
type caller struct {
	p    auth.Principal
	sess *session // nil for bearer auth
}

var (
	errNoAuth   = errors.New("authentication required")
	errBadToken = errors.New("unknown token")
	errExpired  = errors.New("session expired or logged out")
	errCSRF     = errors.New("missing or wrong CSRF token (X-CSRF-Token, from GET /api/session)")
)

// authenticate finds the caller of r. A present Authorization header is
// decisive: a bad bearer token never falls back to the cookie.
func (s *Server) authenticate(r *http.Request) (caller, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return caller{}, errBadToken
		}
		p, err := s.checkToken(r, tok)
		if err != nil {
			return caller{}, err
		}
		return caller{p: p}, nil
	}
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return caller{}, errNoAuth
	}
	sess := s.sessions.get(c.Value)
	if sess == nil {
		return caller{}, errExpired
	}
	return caller{p: sess.p, sess: sess}, nil
}

// tooMany is a token check refused by the login limiter.
type tooMany struct{ wait time.Duration }

func (e *tooMany) Error() string {
	return fmt.Sprintf("too many failed logins from this address: try again in %s", e.wait.Round(time.Second))
}

// retryAfter is the Retry-After header's value: whole seconds, rounded up.
func (e *tooMany) retryAfter() string {
	return strconv.FormatInt(int64((e.wait+time.Second-1)/time.Second), 10)
}

// clientKey is the login limiter's key for r: its client's IP address.
func clientKey(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// checkToken checks tok for r's client under the login limiter: while the
// client must wait the token is not checked at all (*tooMany); a failure
// counts, a success clears the client.
func (s *Server) checkToken(r *http.Request, tok string) (auth.Principal, error) {
	key := clientKey(r)
	if w := s.logins.Attempt(key); w > 0 {
		return auth.Principal{}, &tooMany{wait: w}
	}
	p, err := s.tokens.Check(strings.TrimSpace(tok))
	if err != nil {
		return auth.Principal{}, errBadToken
	}
	s.logins.Succeed(key)
	return p, nil
}

// checkCSRF verifies a cookie session's CSRF header; bearer callers need none.
func checkCSRF(r *http.Request, c caller) error {
	if c.sess == nil {
		return nil
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.sess.csrf)) != 1 {
		return errCSRF
	}
	return nil
}

func (s *Server) sessionCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     CookieName,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.cfg.TLS(),
		SameSite: http.SameSiteStrictMode,
	}
}
