// Package metrics is the desk's Prometheus metrics
// (github.com/prometheus/client_golang): the registry, the collectors and
// the /metrics handler.
//
// Two kinds of metric, kept apart so the tick path and the gate stay
// allocation-free:
//   - Latency: histograms the desk's paths observe as they run — the gate
//     check (deskguard_gate_check_seconds, measured around limits.Gate.Check
//     on the intent path, outside it), the kill from its trigger to every
//     liquidation sent (deskguard_kill_sent_seconds, by trigger) and to each
//     account flat (deskguard_kill_flat_seconds), and the journal's commits
//     (deskguard_journal_commit_seconds, deskguard_journal_commit_records).
//     It is the supervisor's Observer and the journal's OnCommit: each
//     sample is one atomic add on a histogram built in advance.
//   - DeskCollector: the desk's counts and state read when Prometheus
//     scrapes (Desk.Counts and Desk.Status), never pushed on a trade:
//     intents, orders, fills, rejections by reason and worker restarts per
//     account; per account equity, lockout line, allowance used, position,
//     state; the desk's state and equity; the links' states; the console's
//     stream clients; the outbox's lag when a firm is configured.
//
// Names follow Prometheus' conventions (deskguard_ prefix, base units in
// the name, _total for counters). Label values are bounded: account ids
// come from the config, reasons and states from the packages that define
// them, kill triggers from the supervisor's (any other is "other"), link
// states from the desk's few words (LinkState); order ids and free text
// are never labels.
//
// No global state: the caller makes the registry (NewRegistry), passes it
// in and serves it with Handler. It may touch deskapi, limits (its reason
// codes), supervisor (its
// Observer, Counts and trigger names) and outbox (its trigger name); it
// opens no listener of its own.
package metrics

// metrics.go: the registry and the /metrics handler with its token rule.

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/deskguard/deskguard/auth"
)

// Path is where the console's server serves the metrics.
const Path = "/metrics"

// NewRegistry returns a registry holding the Go runtime's, the process's
// and the build's standard collectors (go_*, process_*, go_build_info).
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector())
	return reg
}

// HandlerOptions configures Handler.
type HandlerOptions struct {
	// Token is the bearer token ("Authorization: Bearer TOKEN", what
	// Prometheus sends for authorization.credentials_file) a scrape from
	// another machine must send. A scrape from a loopback client address
	// needs none; with no Token, only those are answered (403 otherwise).
	Token string
	// Limits bound failed token checks per client address (a burst, then a
	// growing delay, as the console's logins); zero = auth's defaults.
	Limits auth.LimitConfig
	// Now is the limiter's clock; nil = time.Now.
	Now func() time.Time
	Log *slog.Logger // nil = discard
}

// Handler serves reg in the Prometheus text (or negotiated) format to a
// loopback client, and to any other that sends the token.
func Handler(reg *prometheus.Registry, opt HandlerOptions) http.Handler {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(opt.Log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError, // a family that fails is logged; the rest are served
		Timeout:       10 * time.Second,
	})
	want := sha256.Sum256([]byte(opt.Token))
	lim := auth.NewLimiter(opt.Limits, opt.Now)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := clientAddr(r)
		if loopback(addr) {
			h.ServeHTTP(w, r)
			return
		}
		if opt.Token == "" {
			http.Error(w, "metrics are served to this machine only: no [metrics] token is configured", http.StatusForbidden)
			return
		}
		if wait := lim.Attempt(addr); wait > 0 {
			w.Header().Set("Retry-After", retryAfter(wait))
			http.Error(w, "too many failed token checks", http.StatusTooManyRequests)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			// The token is never logged, nor said back.
			opt.Log.Warn("metrics: refused a scrape without the metrics token", "client", addr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="deskguard metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		lim.Succeed(addr)
		h.ServeHTTP(w, r)
	})
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func retryAfter(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

// loopback reports whether a client host (an IP address from
// RemoteAddr) is this machine. Only the connection's own address counts:
// no forwarding header is trusted.
func loopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
