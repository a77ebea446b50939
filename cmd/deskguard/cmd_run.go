package main

// cmd_run.go: deskguard run — the desk. With no config it runs the
// built-in desk: three accounts, one per engine, a synthetic session
// replayed at 60× real time against a local venue, the journal in
// ./deskguard.db, the console on 127.0.0.1:8080 and the control socket in
// ./deskguard.sock; demo tokens are printed at start.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/deskguard/deskguard/alerts"
	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/console"
	"github.com/deskguard/deskguard/control"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/hw"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/metrics"
	"github.com/deskguard/deskguard/supervisor"
)

func cmdRun(e *env) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "desk config TOML (default: the built-in desk; see `deskguard config example`)")
	pace := fs.Float64("pace", 0, "replay pace × real time, a finite number ≥ 0; 0 = as fast as possible (default: the config's, 60)")
	listen := fs.String("console", "", "console address (default: the config's, 127.0.0.1:8080); \"off\" disables it")
	journalPath := fs.String("journal", "", "journal file (default: the config's, deskguard.db)")
	socket := fs.String("socket", "", "control socket (default: the config's, deskguard.sock)")
	statusEvery := fs.Duration("status-every", 5*time.Second, "how often to print the status lines")
	summaryFile := fs.String("summary", "", "also write the end-of-run summary as JSON to this file")
	endIdle := fs.Duration("end-after-idle", 0, "end the run when the venue sends no trade for this long (0: only at the session's end)")
	firmURL := fs.String("firm", "", "publish the journal to the firm's NATS JetStream and obey signed firm kills (nats://HOST:PORT; default the config's [firm] url)")
	followLink := fs.Bool("journal-follow-symlink", false, "accept a journal path that is a symbolic link (default: the config's [desk] journal_follow_symlink, false)")
	if !parseFlags(e, fs) {
		return 2
	}
	// The config as it will run (the file, then the flags), checked as
	// `config check` checks it: every problem at once, before anything starts.
	c, ck, err := loadChecked(*cfgPath, func(c *config.Config) {
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "pace" {
				c.Data.Pace = *pace // checked as the config's: nan, inf, < 0 refused
			}
		})
		if *listen != "" {
			c.Console.Listen = *listen
		}
		if *journalPath != "" {
			c.Desk.Journal = *journalPath
		}
		if *socket != "" {
			c.Desk.ControlSocket = *socket
		}
	}, *followLink)
	if err != nil {
		return fail(e, "run", err, 2)
	}
	if *summaryFile != "" {
		// Refused now, not after the session: the summary would be lost.
		if fi, err := os.Stat(filepath.Dir(*summaryFile)); err != nil || !fi.IsDir() {
			return fail(e, "run", fmt.Errorf("--summary %s: its directory does not exist", *summaryFile), 2)
		}
	}
	log := newLogger(e.stderr, c.Desk.LogLevel)
	ctx, stop := context.WithCancel(e.ctx)
	defer stop()

	// Tokens: the config's, or demo tokens printed once at start.
	tokens := ck.tokens
	mgrToken := ""
	if tokens.Len() == 0 {
		// The token file is checked now (a link, another user's file or a
		// readable one refuses the start) and written once the desk is up.
		if err := checkTokenPath(defaultTokenFile, os.Geteuid()); err != nil {
			return fail(e, "run", err, 2)
		}
		tokens, mgrToken = demoTokens(e, c)
	}

	// The console's address before anything else binds or trades: a desk
	// whose console (and Slack endpoint) cannot serve does not start, unless
	// the console is off ([console] listen = "off", or --console off).
	var consoleLn net.Listener
	if c.Console.Listen != "off" {
		var lc net.ListenConfig
		consoleLn, err = lc.Listen(ctx, "tcp", c.Console.Listen)
		if err != nil {
			return fail(e, "run", fmt.Errorf("console: listen %s: %w (the desk does not start without its console; "+
				"set [console] listen = \"off\" or --console off to run without one)", c.Console.Listen, err), 1)
		}
		defer consoleLn.Close()
	}

	// The metrics' histograms first: the journal and the desk report to
	// them (metrics_wiring.go; nil when metrics are off).
	met, err := newDeskMetrics(c, ck.metricsToken, log)
	if err != nil {
		return fail(e, "run", err, 2)
	}

	// The journal first: nothing may trade without it. (checkConfig has
	// refused a symlinked path unless the config says to follow it.)
	j, err := journal.Open(c.Desk.Journal, journal.Options{Clock: market.WallClock{}, Log: log.With("part", "journal"), QuickOpen: true,
		OnCommit: met.onCommit()})
	if err != nil {
		return fail(e, "run", err, 1)
	}
	defer j.Close()

	feed, closeFeed, what, _, err := openFeed(c)
	if err != nil {
		return fail(e, "run", err, 2)
	}
	defer closeFeed()
	clock := market.NewReplayClock(time.Unix(0, 0))

	// Alerts: Slack when configured, else the log (said once).
	scfg := ck.slack
	scfg.Zone = c.Desk.Location() // alerts say their times in the desk's zone
	rec := &journalRecorder{j: j, clock: clock}
	notifier := alerts.New(scfg, rec, log.With("part", "alerts"), clock)
	go func() { _ = notifier.Run(ctx) }()

	specs, ids := specsWithIDs(c)
	bp, err := openBrokerAndData(ctx, c, ids, log)
	if err != nil {
		return fail(e, "run", err, 1)
	}
	defer bp.close()
	br := bp.br
	livePace := c.Data.Pace
	if bp.feed != nil {
		// The venue replays the data and paces it; the desk reads its stream.
		closeFeed()
		feed, livePace = bp.feed, 0
		if sf, ok := feed.(*sessionFeed); ok {
			sf.endIdle = *endIdle
		}
		what = bp.what
	}

	workers := supervisor.Processes
	if c.Desk.Workers == "in-process" {
		workers = supervisor.InProcess
	}
	hwdev, hwStatus, hwLights, press, err := openHW(ctx, c, log)
	if err != nil {
		return fail(e, "run", err, 2)
	}
	var d *supervisor.Desk
	var firmNow atomic.Pointer[firmLink]
	opt := supervisor.Options{Clock: clock, Log: log.With("part", "desk"), Journal: supervisor.JournalOf(j), Broker: br,
		Limits: c.Limits, DeskDrawdownPct: c.Desk.DrawdownPct, Accounts: specs, Engines: c.Strategies, Schedule: c.Schedule,
		Workers: workers, Alerts: notifier, CoverageGrace: 250 * time.Millisecond, FreshVenue: !bp.outlives, ManualUnlock: c.Desk.ManualUnlock, ExternalOrders: c.Desk.ExternalOrders, BrokerLiqWindow: c.Desk.BrokerLiqWindow, PressButton: press,
		LinkStatus: func() (string, string, string, string) {
			return bp.status(), bp.data(), notifier.Status(), hwStatus()
		},
		LinkNotes:    bp.notes,
		LightsStatus: hwLights,
		// The firm link starts after the desk: nil in Status until then.
		FirmStatus: func() *deskapi.FirmLink { return firmNow.Load().Status() },
		OnStateChange: func(st string, locked bool) {
			if hwdev != nil {
				hwdev.dev.Lights.Set(hw.DeskState(st), locked)
			}
		},
	}
	if err := withRisk(&opt, c); err != nil {
		return fail(e, "run", err, 2)
	}
	opt.Observer = met.observer()
	d, err = supervisor.New(opt)
	if err != nil {
		return fail(e, "run", err, 2)
	}
	if hwdev != nil {
		hwdev.Attach(d)
	}
	// Recovery always runs, whatever the venue (issue 25.2: a lockout, a
	// kill or a fault in force survives a restart of the built-in desk
	// too). A venue the desk has just started (sim, the venue child) knows
	// nothing of the journal: Start's reconciliation (Options.FreshVenue)
	// finds what the journal holds open gone at the venue, corrects the
	// books to it, journals the correction and alerts it; the account starts
	// flat, not faulted — the venue that held it stopped with the desk.
	recd, err := d.Recover(j)
	if err != nil {
		return fail(e, "run", err, 1)
	}
	if recd.Records > 0 {
		fmt.Fprintf(e.stdout, "recovered from the journal: %d records from seq %d; desk was %s; locked out: %v; desk locked out: %v; "+
			"entries with no outcome: %d (matched with the venue at start)\n",
			recd.Records, recd.From, recd.DeskState, recd.LockedOut, recd.DeskLockedOut, recd.OpenIntents)
	}
	if !bp.outlives {
		gone, err := journalOpen(j)
		if err != nil {
			return fail(e, "run", err, 1)
		}
		for _, v := range gone {
			fmt.Fprintf(e.stdout, "%s: the journal leaves a position of %d that this new %s does not hold (it stopped with the "+
				"previous run, no fill closed it): reconciled at start, journaled as a correction; the account starts flat\n",
				v.Account, v.Books, venueName(c.Broker.Kind))
		}
	}
	// The effective config, journaled after recovery and before anything
	// trades: a config_change record with its summary and SHA-256.
	if err := journalConfig(ctx, j, c); err != nil {
		return fail(e, "run", err, 1)
	}

	// Control socket and console: the desk as its surfaces show it, times
	// in the desk's zone.
	zone := c.Desk.Location().String()
	shown := deskapi.WithZone(d, zone)
	ctl := &control.Server{Desk: shown, Tokens: tokens, Log: log.With("part", "control"), Journal: journalControl{j},
		Logins: auth.NewLimiter(c.Console.LoginLimits(), market.WallClock{}.Now)}
	if err := ctl.Listen(c.Desk.ControlSocket); err != nil {
		return fail(e, "run", err, 1)
	}
	defer os.Remove(c.Desk.ControlSocket)
	go ctl.Serve(ctx)
	// Slack commands: Socket Mode when an app token is configured; the HTTP
	// endpoint (Slack-signed requests, 503 without a signing secret) on the
	// console's server at alerts.HTTPPath.
	cmdr := alerts.NewCommander(scfg, slackDesk{d, c.Desk.Location()}, rec, log.With("part", "slack"), clock)
	if c.Console.Listen == "off" && scfg.SigningSecret.IsSet() {
		log.Warn("slack commands over HTTP are not served: the console is off (they are served on the console's server at " + alerts.HTTPPath + ")")
	}
	var consoleSrv *console.Server
	if consoleLn != nil {
		srv, err := console.New(c.Console.Config, shown, tokens, log.With("part", "console"))
		if err != nil {
			return fail(e, "run", err, 2)
		}
		if err := srv.Mount(alerts.HTTPPath, cmdr.HTTPHandler()); err != nil {
			return fail(e, "run", err, 2)
		}
		if err := met.mount(srv); err != nil {
			return fail(e, "run", err, 2)
		}
		consoleSrv = srv
		go func() {
			if err := srv.Serve(ctx, consoleLn); err != nil {
				log.Error("console stopped", "err", err)
			}
		}()
		// The bound address (the real port when the config says 0).
		scheme := "http"
		if c.Console.TLS() {
			scheme = "https"
		}
		fmt.Fprintf(e.stdout, "console: %s://%s\n", scheme, consoleLn.Addr())
		if scfg.SigningSecret.IsSet() {
			log.Info("slack commands over HTTP", "url", fmt.Sprintf("%s://%s%s", scheme, consoleLn.Addr(), alerts.HTTPPath))
		}
	}
	go func() {
		if err := cmdr.RunSocketMode(ctx); err != nil && !errors.Is(err, alerts.ErrOff) && ctx.Err() == nil {
			log.Error("slack socket mode stopped", "err", err)
		}
	}()

	// The firm link (firm_wiring.go): never on the desk's kill path.
	if *firmURL != "" {
		c.Firm.URL = *firmURL
	}
	// Its reduce-only hook is the desk's firm reduce-only (journaled, in
	// status); one the journal restored starts the link in it.
	fctx := context.WithoutCancel(ctx)
	fl, err := startFirmLink(ctx, e, c, j, d, log, func(on bool) { d.SetFirmReduceOnly(fctx, on) }, d.FirmReduceOnly())
	if err != nil {
		return fail(e, "run", err, 2)
	}
	defer fl.Stop()
	firmNow.Store(fl)
	if fl == nil && d.FirmReduceOnly() {
		// Restored from a run that had a firm link; none in this one can
		// lift it.
		log.Warn("the journal left the desk reduce-only by the firm link; this run has no firm link: lifted")
		d.LiftFirmReduceOnly(fctx, "this run has no firm link: the firm reduce-only the journal restored is lifted (no firm was heard)")
	}
	// The metrics' desk collector, and their own listener if they have one.
	if addr, err := met.start(ctx, c, d, consoleSrv, consoleLn, fl); err != nil {
		return fail(e, "run", err, 1)
	} else if addr != "" {
		scheme := "http"
		if c.Console.TLS() {
			scheme = "https"
		}
		fmt.Fprintf(e.stdout, "metrics: %s://%s%s\n", scheme, addr, metrics.Path)
	}

	// SIGUSR1 flattens the desk.
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-usr1:
				log.Warn("SIGUSR1: flattening the desk")
				_ = d.Flatten(ctx, "", "sigusr1", "signal")
			}
		}
	}()

	if mgrToken != "" {
		// Only now that this desk holds its journal, its socket and its
		// console: a second run that fails at start never replaces the
		// running desk's token.
		if err := writeTokenFile(defaultTokenFile, mgrToken); err != nil {
			log.Error("the manager token was not written for the CLI (it is printed above)", "err", err)
		} else {
			defer removeTokenFile(defaultTokenFile, mgrToken)
			fmt.Fprintf(e.stdout, "the manager token is also in ./%s for the CLI (status, flatten, rearm, unlock, press)\n", defaultTokenFile)
		}
	}
	fmt.Fprintf(e.stdout, "deskguard: %d accounts on %s, pace %gx, journal %s, control socket %s\n",
		len(specs), what, c.Data.Pace, c.Desk.Journal, c.Desk.ControlSocket)
	if bp.feedFailed != nil {
		go func() {
			select {
			case why := <-bp.feedFailed:
				d.LinkHealth("data", false, "the venue's data failed: "+why)
			case <-ctx.Done():
			}
		}()
	}
	var mu sync.Mutex
	lastPrint := time.Now()
	err = supervisor.RunLive(ctx, d, supervisor.LiveOptions{Feed: feed, Pace: livePace, Matcher: bp.matcher, Clock: clock,
		StaleAfter: c.Desk.StaleDataKill,
		OnBatch: func(market.Trade) {
			mu.Lock()
			defer mu.Unlock()
			if time.Since(lastPrint) >= *statusEvery {
				lastPrint = time.Now()
				printStatus(e, shown.Status(ctx))
			}
		}})
	// Let the venue's last events land before the summary.
	settle(br, d, ctx)
	printStatus(e, shown.Status(context.Background()))
	_ = d.Snapshot(context.Background())
	sum := d.Summary(0)
	facts := summaryFacts{journal: j, zone: c.Desk.Location(), venue: c.Broker.Kind, venueGoes: !bp.outlives,
		orders: func(id string) int {
			for _, a := range shown.Status(context.Background()).Accounts {
				if a.ID == id {
					return len(a.Orders)
				}
			}
			return 0
		}, ended: errors.Is(err, supervisor.ErrFeedEnded), session: shown.Status(context.Background()).Session}
	perEntry(&sum, &facts)
	if *summaryFile != "" {
		b, jerr := json.MarshalIndent(sum, "", "  ")
		if jerr == nil {
			jerr = os.WriteFile(*summaryFile, b, 0o644)
		}
		if jerr != nil {
			fmt.Fprintf(e.stderr, "deskguard run: --summary: %v\n", jerr)
		}
	}
	printSummary(e, sum, facts)
	switch {
	case errors.Is(err, supervisor.ErrFeedEnded):
		fmt.Fprintln(e.stdout, "session ended")
		return 0
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(e.stdout, "stopped")
		return 0
	case err != nil:
		return fail(e, "run", err, 1)
	}
	return 0
}

func settle(br broker.Broker, d *supervisor.Desk, ctx context.Context) {
	deadline := time.After(500 * time.Millisecond)
	for {
		select {
		case ev, ok := <-br.Events():
			if !ok {
				return
			}
			d.OnBrokerEvent(context.WithoutCancel(ctx), ev)
		case <-deadline:
			return
		}
	}
}

func printStatus(e *env, st deskapi.Status) {
	locked := ""
	if st.DeskLockedOut {
		locked = " DESK LOCKED OUT"
	}
	fmt.Fprintf(e.stdout, "%s desk %-8s last %.2f trades %d net %s%s\n", personTime(st.Time, st.Zone), st.State, st.LastPrice, st.Trades, st.Net, locked)
	for _, a := range st.Accounts {
		fmt.Fprintf(e.stdout, "  %-7s %-10s pos %3d net %9s dd %3.0f%% orders %d %s\n", a.ID, a.State, a.Position, a.Net,
			a.DrawdownUsed*100, len(a.Orders), a.LastSignal)
	}
}

// demoTokens makes one token per role for a desk without configured
// tokens, prints them once, and returns the manager's, which writeTokenFile
// (tokenfile.go) writes to ./deskguard.token for the CLI once the desk is up.
func demoTokens(e *env, c *config.Config) (*auth.Tokens, string) {
	ts := &auth.Tokens{}
	mgr := auth.NewToken()
	ts.AddPlain("demo-manager", mgr, auth.Role{Kind: "manager"})
	fmt.Fprintf(e.stdout, "demo tokens (this run only):\n  manager  %s\n", mgr)
	view := auth.NewToken()
	ts.AddPlain("demo-viewer", view, auth.Role{Kind: "viewer"})
	fmt.Fprintf(e.stdout, "  viewer   %s\n", view)
	for _, a := range c.Accounts {
		t := auth.NewToken()
		ts.AddPlain("demo-trader-"+a.ID, t, auth.Role{Kind: "trader", Account: a.ID})
		fmt.Fprintf(e.stdout, "  trader:%-6s %s\n", a.ID, t)
	}
	return ts, mgr
}

// journalRecorder journals Slack commands and alert delivery failures.
type journalRecorder struct {
	j     *journal.Journal
	clock market.Clock
}

func (r *journalRecorder) RecordCommand(user, command string, allowed bool, detail string) {
	_, _ = r.j.Append(context.Background(), journal.NewCommand("", r.clock.Now().UnixNano(),
		journal.Command{Who: user, Source: "slack", Command: command, Allowed: allowed, Detail: detail}))
}

func (r *journalRecorder) RecordAlertFailed(kind string, err error) {
	_, _ = r.j.Append(context.Background(), journal.NewAlertFailed("", r.clock.Now().UnixNano(), journal.AlertFailed{Alert: kind, Err: err.Error()}))
}

var _ = slog.Default
