package console

// api.go: routes, the JSON API, the status stream handler and the security
// headers. Every action checks the caller's role here and passes the
// caller's name to the desk, which journals it.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/deskguard/deskguard/authz"
	"github.com/deskguard/deskguard/deskapi"
)

// maxBody bounds a request body.
const maxBody = 16 << 10

// Trigger is the trigger the console passes to deskapi.Desk.Flatten.
const Trigger = "console"

func (s *Server) routes(static fs.FS) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/status", s.get(s.handleStatus))
	mux.Handle("/api/events", s.get(s.handleEvents))
	mux.Handle("/api/session", s.get(s.handleSession))
	mux.Handle("/api/login", s.postNoAuth(s.handleLogin))
	mux.Handle("/api/logout", s.post(s.handleLogout))
	mux.Handle("/api/flatten", s.post(s.handleFlatten))
	mux.Handle("/api/rearm", s.post(s.handleRearm))
	mux.Handle("/api/unlock", s.post(s.handleUnlock))
	mux.Handle("/api/unlock_desk", s.post(s.handleUnlockDesk))
	mux.Handle("/api/clear", s.post(s.handleClear))
	mux.Handle("/api/reset_trailing", s.post(s.handleResetTrailing))
	mux.Handle("/api/engines", s.post(s.handleEngines))
	mux.Handle("/api/press", s.post(s.handlePress))
	mux.HandleFunc(HealthPath, s.handleHealth)
	mux.HandleFunc(ReadyPath, s.handleReady)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, "no such endpoint")
	})
	files := http.FileServerFS(static)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeErr(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		files.ServeHTTP(w, r)
	})
	return securityHeaders(s.cfg.TLS(), mux)
}

func securityHeaders(tls bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if tls {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// apiError is every error body.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

type handler func(w http.ResponseWriter, r *http.Request, c caller)

func (s *Server) authed(w http.ResponseWriter, r *http.Request) (caller, bool) {
	c, err := s.authenticate(r)
	if err != nil {
		s.log.Warn("console: refused", "path", r.URL.Path, "remote", r.RemoteAddr, "why", err.Error())
		var tm *tooMany
		if errors.As(err, &tm) {
			w.Header().Set("Retry-After", tm.retryAfter())
			writeErr(w, http.StatusTooManyRequests, err.Error())
			return caller{}, false
		}
		if r.Header.Get("Authorization") != "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="deskguard"`)
		}
		writeErr(w, http.StatusUnauthorized, err.Error())
		return caller{}, false
	}
	return c, true
}

// get serves an authenticated, read-only endpoint.
func (s *Server) get(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			writeErr(w, http.StatusMethodNotAllowed, "method not allowed: use GET")
			return
		}
		if c, ok := s.authed(w, r); ok {
			h(w, r, c)
		}
	})
}

// post serves an authenticated, state-changing endpoint (CSRF-checked for
// cookie sessions).
func (s *Server) post(h handler) http.Handler {
	return s.postNoAuth(func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.authed(w, r)
		if !ok {
			return
		}
		if err := checkCSRF(r, c); err != nil {
			s.log.Warn("console: refused", "path", r.URL.Path, "who", c.p.Name, "why", err.Error())
			writeErr(w, http.StatusForbidden, err.Error())
			return
		}
		h(w, r, c)
	})
}

// postNoAuth checks the method and that a browser request comes from this
// origin.
func (s *Server) postNoAuth(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeErr(w, http.StatusMethodNotAllowed, "method not allowed: use POST")
			return
		}
		if !sameOrigin(r) {
			writeErr(w, http.StatusForbidden, "cross-origin request refused")
			return
		}
		// The body within the read timeout, also when the handler is served
		// by a server other than Serve's (Handler, Mount elsewhere).
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout))
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		h(w, r)
	})
}

// sameOrigin accepts requests without an Origin header (non-browser
// clients) and browser requests whose Origin host is the request's Host.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// decode reads a JSON body into v; an empty body leaves v zero. The body
// must be one JSON value and nothing after it but white space, all within
// maxBody: a request padded past the limit is refused, not acted on.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("bad request body: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("data after the JSON value")
		}
		return fmt.Errorf("bad request body: %w", err)
	}
	return nil
}

// writeBodyErr answers a body that could not be read: 413 past maxBody,
// else 400.
func writeBodyErr(w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeErr(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", maxBody))
		return
	}
	writeErr(w, http.StatusBadRequest, err.Error())
}

// The probes: unauthenticated, GET or HEAD, and their body says nothing
// beyond "ok" or "not ready" (a load balancer, systemd or Kubernetes may
// ask anyone's behalf).
const (
	HealthPath = "/healthz" // the process serves: 200 "ok"
	ReadyPath  = "/readyz"  // Ready(status): 200 "ok", else 503 "not ready"
)

// Ready reports whether a desk in st is ready to trade: recovered (not
// starting or recovering), its venue link up (or the in-process sim) and
// its market data up. A halted desk is ready (it has recovered and its
// links are up: re-arming it is a manager's act, not a probe's).
func Ready(st deskapi.Status) bool {
	switch st.State {
	case "", "starting", "recovering":
		return false
	}
	return (st.Links.Venue == "up" || st.Links.Venue == "sim") && st.Links.Data == "up"
}

func probe(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	return true
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if probe(w, r) {
		_, _ = io.WriteString(w, "ok\n")
	}
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if !probe(w, r) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if Ready(s.status(ctx)) {
		_, _ = io.WriteString(w, "ok\n")
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, "not ready\n")
}

// SessionInfo answers GET /api/session and POST /api/login.
type SessionInfo struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Account  string `json:"account,omitempty"`
	CSRF     string `json:"csrf,omitempty"` // only for cookie sessions
	Insecure bool   `json:"insecure"`
	Expires  string `json:"expires,omitempty"`
	Can      Can    `json:"can"`
}

// Can is what the page may offer; the server checks again on every action.
type Can struct {
	FlattenDesk bool `json:"flatten_desk"`
	Manage      bool `json:"manage"`
	Press       bool `json:"press"`
	Act         bool `json:"act"` // flatten own account, engines
}

func (s *Server) info(c caller) SessionInfo {
	r := c.p.Role
	in := SessionInfo{
		Name:     c.p.Name,
		Role:     r.String(),
		Account:  r.Account,
		Insecure: s.insecure(),
		Can: Can{
			FlattenDesk: authz.Allowed(r, authz.Flatten, "") == nil,
			Manage:      authz.Allowed(r, authz.Rearm, "") == nil,
			Press:       authz.Allowed(r, authz.Press, "") == nil,
			Act:         authz.Allowed(r, authz.Flatten, r.Account) == nil,
		},
	}
	if c.sess != nil {
		in.CSRF = c.sess.csrf
		in.Expires = c.sess.expires.UTC().Format(time.RFC3339)
	}
	return in
}

func (s *Server) handleSession(w http.ResponseWriter, r *http.Request, c caller) {
	writeJSON(w, http.StatusOK, s.info(c))
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var tok string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var body struct {
			Token string `json:"token"`
		}
		if err := decode(r, &body); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeBodyErr(w, err)
				return
			}
			writeErr(w, http.StatusBadRequest, "bad request body")
			return
		}
		tok = body.Token
	} else {
		if err := r.ParseForm(); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeBodyErr(w, err)
				return
			}
			writeErr(w, http.StatusBadRequest, "bad form")
			return
		}
		tok = r.PostForm.Get("token")
	}
	p, err := s.checkToken(r, tok)
	var tm *tooMany
	if errors.As(err, &tm) {
		s.log.Warn("console: login refused (limited)", "remote", r.RemoteAddr, "wait", tm.wait)
		w.Header().Set("Retry-After", tm.retryAfter())
		writeErr(w, http.StatusTooManyRequests, err.Error())
		return
	}
	if err != nil {
		s.log.Warn("console: login refused", "remote", r.RemoteAddr)
		writeErr(w, http.StatusUnauthorized, errBadToken.Error())
		return
	}
	sess, err := s.sessions.create(p)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "cannot create a session")
		return
	}
	http.SetCookie(w, s.sessionCookie(sess.id, int(s.cfg.SessionTTL/time.Second)))
	s.log.Info("console: login", "who", p.Name, "role", p.Role.String(), "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, s.info(caller{p: p, sess: sess}))
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, c caller) {
	if c.sess != nil {
		s.sessions.remove(c.sess.id)
	}
	http.SetCookie(w, s.sessionCookie("", -1))
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// status returns a fresh-enough snapshot: the stream's latest if it is
// recent, else a direct call.
func (s *Server) status(ctx context.Context) deskapi.Status {
	if sn := s.hub.current(); sn != nil && s.hub.fresh(sn) {
		return sn.st
	}
	return s.desk.Status(ctx)
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request, c caller) {
	if _, ok := s.allow(w, c, authz.Status, "", ""); !ok {
		return
	}
	writeJSON(w, http.StatusOK, authz.StatusFor(c.p.Role, s.status(r.Context())))
}

// ActionResult answers a successful action.
type ActionResult struct {
	OK  bool   `json:"ok"`
	Who string `json:"who"`
}

// act runs one desk call (never cancelled by the client going away: a kill
// must not be lost), logs it, maps its error and pushes a fresh status.
func (s *Server) act(w http.ResponseWriter, r *http.Request, c caller, op, account string, call func(ctx context.Context) error) {
	ctx := context.WithoutCancel(r.Context())
	err := call(ctx)
	s.log.Info("console: action", "op", op, "account", account, "who", c.p.Name, "err", err)
	if err != nil {
		writeErr(w, deskErrCode(err), err.Error())
		return
	}
	wctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	s.hub.refresh(wctx)
	writeJSON(w, http.StatusOK, ActionResult{OK: true, Who: c.p.Name})
}

func deskErrCode(err error) int {
	switch {
	case errors.Is(err, deskapi.ErrUnknownAccount):
		return http.StatusNotFound
	case errors.Is(err, deskapi.ErrReasonRequired), errors.Is(err, authz.ErrBadReason):
		return http.StatusBadRequest
	case errors.Is(err, deskapi.ErrNotAllowed), errors.Is(err, deskapi.ErrNoSimButton):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// allow asks authz whether c may do act to account with reason why (the
// same rules as the control socket and Slack) and answers a refusal: 403
// for the role, 400 for a missing account or a missing or malformed
// reason. It returns the reason to pass to the desk (trimmed).
func (s *Server) allow(w http.ResponseWriter, c caller, act authz.Act, account, why string) (string, bool) {
	why, err := authz.Check(c.p.Role, act, account, why)
	if err == nil {
		return why, true
	}
	if errors.Is(err, authz.ErrForbidden) {
		s.log.Warn("console: forbidden", "op", act, "account", account, "who", c.p.Name, "role", c.p.Role.String())
		writeErr(w, http.StatusForbidden, fmt.Sprintf("%s (%s)", c.p.Name, err))
		return "", false
	}
	writeErr(w, http.StatusBadRequest, err.Error())
	return "", false
}

// FlattenRequest is the body of POST /api/flatten; Account "" is the desk.
type FlattenRequest struct {
	Account string `json:"account"`
}

func (s *Server) handleFlatten(w http.ResponseWriter, r *http.Request, c caller) {
	var req FlattenRequest
	if err := decode(r, &req); err != nil {
		writeBodyErr(w, err)
		return
	}
	if _, ok := s.allow(w, c, authz.Flatten, req.Account, ""); !ok {
		return
	}
	s.act(w, r, c, "flatten", req.Account, func(ctx context.Context) error {
		return s.desk.Flatten(ctx, req.Account, Trigger, c.p.Name)
	})
}

// RearmRequest is the body of POST /api/rearm.
type RearmRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) handleRearm(w http.ResponseWriter, r *http.Request, c caller) {
	var req RearmRequest
	if err := decode(r, &req); err != nil {
		writeBodyErr(w, err)
		return
	}
	why, ok := s.allow(w, c, authz.Rearm, "", req.Reason)
	if !ok {
		return
	}
	s.act(w, r, c, "rearm", "", func(ctx context.Context) error {
		return s.desk.Rearm(ctx, c.p.Name, why)
	})
}

// UnlockRequest is the body of POST /api/unlock.
type UnlockRequest struct {
	Account string `json:"account"`
	Reason  string `json:"reason"`
}

func (s *Server) handleUnlock(w http.ResponseWriter, r *http.Request, c caller) {
	var req UnlockRequest
	if err := decode(r, &req); err != nil {
		writeBodyErr(w, err)
		return
	}
	why, ok := s.allow(w, c, authz.Unlock, req.Account, req.Reason)
	if !ok {
		return
	}
	s.act(w, r, c, "unlock", req.Account, func(ctx context.Context) error {
		return s.desk.Unlock(ctx, req.Account, c.p.Name, why)
	})
}

// UnlockDeskRequest is the body of POST /api/unlock_desk: lift the
// desk-wide drawdown lockout (deskapi.Desk.Unlock with account ""). An
// account, if given, must be empty (as on the control socket).
type UnlockDeskRequest struct {
	Account string `json:"account,omitempty"`
	Reason  string `json:"reason"`
}

func (s *Server) handleUnlockDesk(w http.ResponseWriter, r *http.Request, c caller) {
	var req UnlockDeskRequest
	if err := decode(r, &req); err != nil {
		writeBodyErr(w, err)
		return
	}
	why, ok := s.allow(w, c, authz.UnlockDesk, "", req.Reason)
	if !ok {
		return
	}
	if req.Account != "" {
		writeErr(w, http.StatusBadRequest, "unlock_desk lifts the desk's lockout: it takes no account (unlock ACCOUNT lifts an account's)")
		return
	}
	s.act(w, r, c, "unlock_desk", "", func(ctx context.Context) error {
		return s.desk.Unlock(ctx, "", c.p.Name, why)
	})
}

// ClearRequest is the body of POST /api/clear: clear a faulted account.
type ClearRequest struct {
	Account string `json:"account"`
	Reason  string `json:"reason"`
}

func (s *Server) handleClear(w http.ResponseWriter, r *http.Request, c caller) {
	var req ClearRequest
	if err := decode(r, &req); err != nil {
		writeBodyErr(w, err)
		return
	}
	why, ok := s.allow(w, c, authz.Clear, req.Account, req.Reason)
	if !ok {
		return
	}
	s.act(w, r, c, "clear", req.Account, func(ctx context.Context) error {
		return s.desk.ClearFault(ctx, req.Account, c.p.Name, why)
	})
}

// ResetTrailingRequest is the body of POST /api/reset_trailing: reset an
// account's breached trailing drawdown line.
type ResetTrailingRequest struct {
	Account string `json:"account"`
	Reason  string `json:"reason"`
}

func (s *Server) handleResetTrailing(w http.ResponseWriter, r *http.Request, c caller) {
	var req ResetTrailingRequest
	if err := decode(r, &req); err != nil {
		writeBodyErr(w, err)
		return
	}
	why, ok := s.allow(w, c, authz.ResetTrailing, req.Account, req.Reason)
	if !ok {
		return
	}
	s.act(w, r, c, "reset_trailing", req.Account, func(ctx context.Context) error {
		return s.desk.ResetTrailing(ctx, req.Account, c.p.Name, why)
	})
}

// EnginesRequest is the body of POST /api/engines.
type EnginesRequest struct {
	Account string `json:"account"`
	Run     bool   `json:"run"`
}

func (s *Server) handleEngines(w http.ResponseWriter, r *http.Request, c caller) {
	var req EnginesRequest
	if err := decode(r, &req); err != nil {
		writeBodyErr(w, err)
		return
	}
	if _, ok := s.allow(w, c, authz.Engines, req.Account, ""); !ok {
		return
	}
	if req.Run {
		// A halting or halted desk starts nothing: the halt is lifted by a
		// manager's re-arm, not by an account's engines (the desk refuses
		// it too; this says why before asking it).
		if st := s.desk.Status(r.Context()); st.State == "halting" || st.State == "halted" {
			s.log.Warn("console: refused", "op", "engines", "account", req.Account, "who", c.p.Name, "desk", st.State)
			writeErr(w, http.StatusConflict, fmt.Sprintf("the desk is %s: engines start only after a re-arm", st.State))
			return
		}
	}
	s.act(w, r, c, "engines", req.Account, func(ctx context.Context) error {
		return s.desk.SetEngines(ctx, req.Account, req.Run, c.p.Name)
	})
}

func (s *Server) handlePress(w http.ResponseWriter, r *http.Request, c caller) {
	if _, ok := s.allow(w, c, authz.Press, "", ""); !ok {
		return
	}
	s.act(w, r, c, "press", "", func(ctx context.Context) error {
		return s.desk.Press(ctx, c.p.Name)
	})
}

// handleEvents streams "status" events: the latest snapshot at once, then
// each new one, as the caller's role may see it.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, c caller) {
	if _, ok := s.allow(w, c, authz.Status, "", ""); !ok {
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	cl := s.hub.add()
	defer s.hub.remove(cl)
	write := func(b []byte) error {
		_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := write([]byte("retry: 2000\n\n")); err != nil {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case sn := <-cl.ch:
			if c.sess != nil && s.sessions.get(c.sess.id) == nil {
				_ = write([]byte("event: logout\ndata: {}\n\n"))
				return
			}
			b, err := sn.encoded(c.p.Role)
			if err != nil {
				s.log.Error("console: encode status", "err", err)
				return
			}
			msg := make([]byte, 0, len(b)+32)
			msg = append(msg, "event: status\ndata: "...)
			msg = append(msg, b...)
			msg = append(msg, "\n\n"...)
			if err := write(msg); err != nil {
				return
			}
		}
	}
}
