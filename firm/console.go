package firm

// console.go: the firm console — one page and a small JSON API over the
// Aggregator: the firm-wide exposure (net and gross contracts), loss, each
// desk's books and links, the firm kills and which desks acknowledged and
// are flat. Every API request needs a token (auth.Tokens, the desks'
// token scheme); the firm kill needs the firm role. It binds loopback
// unless configured otherwise.

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/authz"
)

//go:embed static/index.html
var static embed.FS

// Console serves the firm console.
type Console struct {
	Agg    *Aggregator
	Tokens *auth.Tokens
	Log    *slog.Logger
}

// maxBody bounds a console request body.
const maxBody = 4 << 10

// Handler is the console's HTTP handler.
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := static.ReadFile("static/index.html")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("GET /api/view", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := c.check(w, r, false); ok {
			writeJSON(w, http.StatusOK, c.Agg.View())
		}
	})
	mux.HandleFunc("POST /api/kill", func(w http.ResponseWriter, r *http.Request) {
		p, ok := c.check(w, r, true)
		if !ok {
			return
		}
		var req struct {
			Reason string `json:"reason"`
		}
		if err := decodeBody(r, &req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if strings.TrimSpace(req.Reason) == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "a reason is required"})
			return
		}
		id, err := c.Agg.Kill(r.Context(), p.Name, req.Reason)
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
			return
		}
		c.log().Warn("firm kill from the console", "who", p.Name, "kill", id)
		writeJSON(w, http.StatusAccepted, map[string]string{"kill_id": id})
	})
	return mux
}

func (c *Console) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

// check authenticates the request's bearer token and, for a kill, the
// firm role. It answers the request itself when it fails.
func (c *Console) check(w http.ResponseWriter, r *http.Request, kill bool) (auth.Principal, bool) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p, err := c.Tokens.Check(tok)
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or unknown token"})
		return p, false
	}
	if !firmMay(p.Role, kill) {
		c.log().Warn("firm console: refused", "who", p.Name, "role", p.Role.String(), "path", r.URL.Path)
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "role " + p.Role.String() + " may not do this"})
		return p, false
	}
	return p, true
}

// firmMay is the firm console's rule, package authz's (FirmView,
// FirmKill): the firm role (the firm's risk manager) sees the firm and may
// kill it; a desk's manager and a viewer may see it; nobody else may do
// anything. (The firm role has no act on a desk: authz refuses it every
// desk act; a desk hears the firm only through the firm's signed command.)
func firmMay(r auth.Role, kill bool) bool {
	act := authz.FirmView
	if kill {
		act = authz.FirmKill
	}
	return authz.Allowed(r, act, "") == nil
}

// FirmRole is the role of the firm's risk manager on the firm console
// (authz.Firm).
const FirmRole = "firm"

// decodeBody reads one JSON object of at most maxBody bytes with nothing
// after it.
func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("body: %w", err)
	}
	if len(b) > maxBody {
		return errors.New("body too large")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("body: data after the JSON object")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Serve serves the console on ln until ctx ends.
func (c *Console) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: c.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("firm console: %w", err)
	}
	return nil
}
