package main

// metrics_wiring.go: the desk's Prometheus metrics in `deskguard run`
// (package metrics; [metrics] in the config, docs/service.md#metrics).
// The latency histograms are handed to the journal (OnCommit) and the
// desk (Observer) as they are built; the scrape-time desk collector is
// registered once the desk, the console and the firm link exist; /metrics
// is mounted on the console's server ([metrics] listen = "") or served on
// a listener of its own (HTTPS with the console's certificate when the
// console has one). Everything here is nil-safe: a desk with metrics off
// has a nil *deskMetrics.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/console"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/metrics"
	"github.com/deskguard/deskguard/supervisor"
)

// deskMetrics is run's metrics: the registry, its latency histograms and
// how /metrics is served.
type deskMetrics struct {
	reg     *prometheus.Registry
	lat     *metrics.Latency
	handler http.Handler
	own     string // [metrics] listen: its own listener's address; "" = the console's server
	log     *slog.Logger
}

// newDeskMetrics builds the registry and the latency histograms; nil when
// metrics are off ([metrics] listen = "off", or on the console's server
// with the console off).
func newDeskMetrics(c *config.Config, token string, log *slog.Logger) (*deskMetrics, error) {
	if c.MetricsAddr() == "" {
		if c.Metrics.Listen == "" {
			log.Info("metrics are not served: the console is off (set [metrics] listen to give them their own address)")
		}
		return nil, nil
	}
	reg := metrics.NewRegistry()
	lat, err := metrics.NewLatency(reg)
	if err != nil {
		return nil, err
	}
	lg := log.With("part", "metrics")
	m := &deskMetrics{reg: reg, lat: lat, own: c.Metrics.Listen, log: lg}
	m.handler = metrics.Handler(reg, metrics.HandlerOptions{Token: token, Limits: c.Console.LoginLimits(),
		Now: market.WallClock{}.Now, Log: lg})
	return m, nil
}

// onCommit is journal.Options.OnCommit (nil without metrics).
func (m *deskMetrics) onCommit() func(int, time.Duration) {
	if m == nil {
		return nil
	}
	return m.lat.JournalCommit
}

// observer is supervisor.Options.Observer (nil without metrics).
func (m *deskMetrics) observer() supervisor.Observer {
	if m == nil {
		return nil
	}
	return m.lat
}

// mount puts /metrics on the console's server when it is served there;
// call it before the console serves.
func (m *deskMetrics) mount(srv *console.Server) error {
	if m == nil || m.own != "" || srv == nil {
		return nil
	}
	return srv.Mount(metrics.Path, m.handler)
}

// start registers the desk collector (the desk's counts and Status, the
// console's stream clients, the firm link's lag and heartbeat) and, with
// an address of its own, binds it and serves until ctx ends. It returns
// the address served ("" without metrics): its own, or the console's
// listener's (consoleLn, nil when the console is off).
func (m *deskMetrics) start(ctx context.Context, c *config.Config, d *supervisor.Desk, srv *console.Server, consoleLn net.Listener,
	fl *firmLink) (string, error) {
	if m == nil {
		return "", nil
	}
	opt := metrics.DeskOptions{Desk: d}
	if srv != nil {
		opt.StreamClients = srv.StreamClients
	}
	if fl != nil {
		opt.OutboxLag = fl.ob.Lag
		opt.FirmUp = func() bool { up, _ := fl.link.FirmLink(); return up }
	}
	if err := m.reg.Register(metrics.NewDesk(opt)); err != nil {
		return "", fmt.Errorf("metrics: %w", err)
	}
	if m.own == "" {
		if consoleLn == nil || srv == nil {
			return "", nil
		}
		return consoleLn.Addr().String(), nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", m.own)
	if err != nil {
		return "", fmt.Errorf("metrics: listen %s: %w (set [metrics] listen = \"\" to serve them on the console's server, or \"off\")", m.own, err)
	}
	if c.Console.TLS() {
		cert, err := tls.LoadX509KeyPair(c.Console.TLSCert, c.Console.TLSKey)
		if err != nil {
			ln.Close()
			return "", fmt.Errorf("metrics: the console's TLS cert: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	mux := http.NewServeMux()
	mux.Handle(metrics.Path, m.handler)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("metrics server stopped", "err", err)
		}
	}()
	return ln.Addr().String(), nil
}
