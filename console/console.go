// Package console is the risk manager's web console: an HTTP server with a
// JSON API, a server-sent-events stream of desk status and an embedded web
// page (plain HTML, CSS and JavaScript; no build step, nothing fetched from
// elsewhere). It reaches the desk only through deskapi.Desk and
// authenticates callers with auth.Tokens; every role check is made here, on
// the server, whatever the page shows.
//
// It may touch auth, authz, deskapi and market, and serves HTTP only on the listener it is given; it never
// imports the supervisor.
package console

// console.go: configuration, construction, the bind policy (non-loopback
// needs TLS or an explicit insecure flag) and serving.

import (
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/market"
)

//go:embed static
var staticFS embed.FS

// Defaults.
const (
	DefaultListen       = "127.0.0.1:8080"
	DefaultStatusEvery  = 500 * time.Millisecond
	DefaultSessionTTL   = 12 * time.Hour
	DefaultClientBuffer = 4
	DefaultWriteTimeout = 10 * time.Second
	DefaultReadTimeout  = 10 * time.Second
)

// Config configures the console (the [console] table of the desk config).
type Config struct {
	// Listen is host:port; default 127.0.0.1:8080.
	Listen string `toml:"listen"`
	// TLSCert and TLSKey are PEM files; both or neither.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// Insecure allows a non-loopback bind without TLS; the page then shows
	// an INSECURE banner.
	Insecure bool `toml:"insecure"`
	// StatusEvery is the push interval of the status stream; default 500ms.
	StatusEvery time.Duration `toml:"status_every"`
	// SessionTTL is how long a login lasts; default 12h.
	SessionTTL time.Duration `toml:"session_ttl"`
	// ClientBuffer is how many status snapshots may wait for one stream
	// client before the oldest is dropped; default 4.
	ClientBuffer int `toml:"client_buffer"`
	// WriteTimeout bounds one write to a stream client; a client that
	// takes longer is disconnected. Default 10s.
	WriteTimeout time.Duration `toml:"write_timeout"`
	// ReadTimeout bounds how long a client may take to send one request,
	// headers and body: a client that trickles its body (an unauthenticated
	// /api/login is the obvious target) is cut off after it instead of
	// holding a connection open. It bounds reading the request, not the
	// response: a status stream lives on past it. Default 10s.
	ReadTimeout time.Duration `toml:"read_timeout"`
	// LoginBurst failed token checks (POST /api/login, a bearer token) are
	// allowed per client address; after them each failure makes the address
	// wait LoginBackoff before its next try, doubling up to LoginBackoffMax,
	// and its token checks get 429 meanwhile (cookie sessions already
	// logged in are not affected). A success clears the address. The
	// control socket applies the same limits per peer uid. Defaults 5, 1s, 5m.
	LoginBurst      int           `toml:"login_burst"`
	LoginBackoff    time.Duration `toml:"login_backoff"`
	LoginBackoffMax time.Duration `toml:"login_backoff_max"`

	// Clock is the wall clock for session expiry; default market.WallClock.
	Clock market.Clock `toml:"-"`

	// ticker replaces time.NewTicker for the snapshot loop (tests).
	ticker func(time.Duration) (<-chan time.Time, func())
}

// ErrInsecureBind is returned for a non-loopback bind without TLS or Insecure.
var ErrInsecureBind = errors.New("console: refusing a non-loopback bind without TLS: set tls_cert and tls_key, or insecure = true")

func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.StatusEvery <= 0 {
		c.StatusEvery = DefaultStatusEvery
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.ClientBuffer <= 0 {
		c.ClientBuffer = DefaultClientBuffer
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.LoginBurst <= 0 {
		c.LoginBurst = auth.DefaultLoginBurst
	}
	if c.LoginBackoff <= 0 {
		c.LoginBackoff = auth.DefaultLoginBackoff
	}
	if c.LoginBackoffMax <= 0 {
		c.LoginBackoffMax = auth.DefaultLoginBackoffMax
	}
	if c.Clock == nil {
		c.Clock = market.WallClock{}
	}
	if c.ticker == nil {
		c.ticker = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	return c
}

// LoginLimits is the login limiter's configuration (also the control
// socket's, per peer uid).
func (c Config) LoginLimits() auth.LimitConfig {
	c = c.withDefaults()
	return auth.LimitConfig{Burst: c.LoginBurst, Backoff: c.LoginBackoff, BackoffMax: c.LoginBackoffMax}
}

// TLS reports whether the console serves HTTPS.
func (c Config) TLS() bool { return c.TLSCert != "" && c.TLSKey != "" }

// Server is the console. Create it with New and run it with Serve or
// ListenAndServe.
type Server struct {
	cfg      Config
	desk     deskapi.Desk
	tokens   *auth.Tokens
	log      *slog.Logger
	tlsCfg   *tls.Config
	sessions *sessions
	logins   *auth.Limiter // failed token checks per client address
	hub      *hub
	handler  http.Handler
	mounts   *http.ServeMux // set by the first Mount
	mounted  map[string]bool
}

// New checks cfg and builds a console for desk. tokens must hold at least
// one token. log may be nil (then nothing is logged).
func New(cfg Config, desk deskapi.Desk, tokens *auth.Tokens, log *slog.Logger) (*Server, error) {
	cfg = cfg.withDefaults()
	if desk == nil {
		return nil, errors.New("console: no desk")
	}
	if tokens == nil || tokens.Len() == 0 {
		return nil, errors.New("console: no tokens: nobody could log in")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, desk: desk, tokens: tokens, log: log}
	if cfg.TLS() {
		cert, err := cfg.loadCert()
		if err != nil {
			return nil, err
		}
		s.tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	s.sessions = newSessions(cfg.SessionTTL, cfg.Clock)
	s.logins = auth.NewLimiter(cfg.LoginLimits(), cfg.Clock.Now)
	s.hub = newHub(desk, cfg, log)
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("console: embedded assets: %w", err)
	}
	s.handler = s.routes(static)
	return s, nil
}

// Validate returns every reason New would refuse cfg (joined): tls_cert
// and tls_key not set together or not loadable, a non-loopback (or
// malformed) listen address without TLS or insecure. `deskguard config
// check` calls it through the config package, so that what check passes,
// run starts. Unset values take their defaults first.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("console: tls_cert and tls_key go together: set both or neither"))
	} else if c.TLS() {
		if _, err := c.loadCert(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := checkBind(c.Listen, c); err != nil {
		errs = append(errs, err)
	}
	if c.LoginBackoffMax < c.LoginBackoff {
		errs = append(errs, fmt.Errorf("console: login_backoff_max (%s) is shorter than login_backoff (%s)", c.LoginBackoffMax, c.LoginBackoff))
	}
	return errors.Join(errs...)
}

func (c Config) loadCert() (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return cert, fmt.Errorf("console: load TLS cert %s and key %s: %w", c.TLSCert, c.TLSKey, err)
	}
	return cert, nil
}

// checkBind refuses a non-loopback address unless TLS or Insecure is set.
func checkBind(addr string, cfg Config) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("console: listen address %q: %w", addr, err)
	}
	if isLoopback(host) || cfg.TLS() || cfg.Insecure {
		return nil
	}
	return fmt.Errorf("%w (listen = %q)", ErrInsecureBind, addr)
}

// isLoopback reports whether host names only this machine. An empty host,
// an unspecified address or any other host name counts as non-loopback.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Mount serves h at path (an exact path such as "/slack/commands") on the
// console's server, with its TLS and bind rules, but outside the console's
// token authentication and CSRF checks: h must authenticate its requests
// itself (Slack's endpoint verifies Slack's request signatures). Call it
// before Serve or Handler. The console's own paths (/, /api/…, the page's
// files) cannot be mounted over.
func (s *Server) Mount(path string, h http.Handler) error {
	switch {
	case h == nil:
		return errors.New("console: mount: nil handler")
	case !strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/") || strings.ContainsAny(path, " {}"):
		return fmt.Errorf("console: mount %q: want an exact path such as /slack/commands", path)
	case strings.HasPrefix(path, "/api/") || path == "/api":
		return fmt.Errorf("console: mount %q: /api is the console's", path)
	case path == HealthPath || path == ReadyPath:
		return fmt.Errorf("console: mount %q: the console's probe", path)
	case s.mounted[path]:
		return fmt.Errorf("console: mount %q: already mounted", path)
	}
	if _, err := fs.Stat(staticFS, "static"+path); err == nil {
		return fmt.Errorf("console: mount %q: the console serves that file", path)
	}
	if s.mounts == nil {
		s.mounts = http.NewServeMux()
		s.mounts.Handle("/", s.handler)
		s.handler = s.mounts
		s.mounted = map[string]bool{}
	}
	s.mounts.Handle(path, securityHeaders(s.cfg.TLS(), h))
	s.mounted[path] = true
	return nil
}

// StreamClients is the number of status stream (server-sent events)
// clients connected now: the metrics' deskguard_console_stream_clients.
func (s *Server) StreamClients() int { return s.hub.clientCount() }

// Handler returns the console's HTTP handler (for embedding in another
// server or httptest); the status stream needs Serve or Run to be running.
func (s *Server) Handler() http.Handler { return s.handler }

// Run runs the status snapshot loop until ctx ends. Serve and
// ListenAndServe run it themselves; call Run only when serving Handler
// some other way.
func (s *Server) Run(ctx context.Context) { s.hub.run(ctx) }

// ListenAndServe binds cfg.Listen and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("console: listen %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends, then shuts down (closing every status
// stream). It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := checkBind(ln.Addr().String(), s.cfg); err != nil {
		ln.Close()
		return err
	}
	if s.tlsCfg != nil {
		ln = tls.NewListener(ln, s.tlsCfg)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); s.hub.run(ctx) }()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	scheme := "http"
	if s.tlsCfg != nil {
		scheme = "https"
	}
	s.log.Info("console: serving", "url", scheme+"://"+ln.Addr().String()+"/", "insecure", s.insecure())
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	shutCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer done()
	_ = srv.Shutdown(shutCtx)
	<-hubDone
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("console: serve: %w", err)
	}
	return nil
}

// insecure reports whether the page must show the INSECURE banner: plain
// HTTP allowed by the insecure flag.
func (s *Server) insecure() bool { return s.cfg.Insecure && !s.cfg.TLS() }
