package drill

// process.go: the process scenarios. The desk runs as the real binary
// (`deskguard run`, its `deskguard worker` children) and trades over the
// Tradovate protocol on loopback with a venue that the drill hosts itself:
// the same code as `deskguard venue` (package venue), held in this process
// so that the drill can feed it trades, inject its faults, and read its own
// records after every trade. process-crash SIGKILLs the supervisor at
// random moments and restarts it on the same journal; venue-faults drops
// the venue's sockets, fails and penalizes its REST answers, expires its
// tokens and restarts it. Both end with a kill from the CLI's control
// socket and the invariant checks of check.go against the venue.
// It touches only the round's directory, loopback sockets and the
// processes it starts.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/broker"
	venuepkg "github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/journal/ledgercheck"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor"
)

const (
	// procSession is how long a process round's session lasts in wall
	// time: the synthetic session's trades are spread over it.
	procSession = 6 * time.Second
	// procTail trades are kept back for the end of the round: the desk's
	// recovery from the last fault (at most procRecover) and the closing
	// kill (the last procKillTail).
	procTail     = 700
	procKillTail = 200
	// procRecover bounds how long after the session's last fault the desk
	// may take to have both links up and the venue's trades reaching it.
	procRecover = 10 * time.Second
	// silenceNotice is how long a silent socket takes to be seen as dead:
	// the Tradovate connector's SilenceTimeout (broker/tradovate Options,
	// default 5 s, which `deskguard run` keeps). A silence's procRecover
	// counts from then: before it the desk cannot know anything is wrong.
	silenceNotice = 5 * time.Second
	// procRecoverEvery paces the trades fed while it recovers.
	procRecoverEvery = 20 * time.Millisecond
	// procTailEvery paces the tail: the closing kill's market orders fill
	// on these trades, so the kill latency measured has this granularity.
	procTailEvery = 2 * time.Millisecond
	// venuePassword is the venue's demo password, passed to the desk in
	// the environment variable the desk's config names.
	venuePassword = "drill-pw"
	venuePassEnv  = "DESKGUARD_DRILL_VENUE_PW"
)

// liveWindows are the checker's windows for a desk in another process.
var liveWindows = liveBounds{gap: 1500 * time.Millisecond, flat: 2 * time.Second, entry: 500 * time.Millisecond}

// liveVenue is the drill's view of a hosted venue for the checker.
type liveVenue struct {
	v      hostedVenue
	last   market.Trade
	trades int
}

func (l *liveVenue) eventsSince(n int) []broker.Event { return l.v.HistorySince(n) }
func (l *liveVenue) isExternal(account, clientID string) bool {
	x, ok := l.v.(interface {
		IsExternal(account, clientID string) bool
	})
	return ok && x.IsExternal(account, clientID)
}
func (l *liveVenue) lastTrade() (market.Trade, int) { return l.last, l.trades }
func (l *liveVenue) position(id string) (broker.Position, error) {
	return l.v.Engine().Position(id)
}
func (l *liveVenue) openOrders(id string) []broker.OrderState {
	open, _ := l.v.Engine().OpenOrders(context.Background(), id)
	return open
}

// userLinked: whether the venue would reach the desk with a push now (a
// venue that cannot say: always).
func (l *liveVenue) userLinked() bool {
	if u, ok := l.v.(interface{ UserLinked() bool }); ok {
		return u.UserLinked()
	}
	return true
}

func (l *liveVenue) trade(t market.Trade) {
	l.v.Trade(t)
	l.last = t
	l.trades++
}

// procDesk is `deskguard run` as a child process.
type procDesk struct {
	o     *Options
	dir   string
	cfg   string
	life  int
	cmd   *exec.Cmd
	done  chan error
	files []*os.File
}

func (p *procDesk) sock() string  { return filepath.Join(p.dir, "desk.sock") }
func (p *procDesk) token() string { return filepath.Join(p.dir, "deskguard.token") }

// start runs the next life of the desk and waits until its control socket
// answers with the manager token it wrote.
func (p *procDesk) start(ctx context.Context) error {
	p.life++
	_ = os.Remove(p.token())
	cmd, done, files, err := startRunProcess(p.o, p.dir, fmt.Sprintf("run%d", p.life),
		[]string{venuePassEnv + "=" + venuePassword},
		"--config", p.cfg, "--status-every", "1h", "--summary", filepath.Join(p.dir, "summary.json"))
	p.files = append(p.files, files...)
	if err != nil {
		return err
	}
	p.cmd, p.done = cmd, done
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		if _, err := p.status(ctx); err == nil {
			return nil
		}
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("drill: desk life %d exited at start (%v): %s", p.life, err, p.tail("err"))
		case <-ctx.Done():
			return fmt.Errorf("drill: desk life %d did not answer on its control socket: %s", p.life, p.tail("err"))
		case <-time.After(10 * time.Millisecond): // an outside observer's polling interval
		}
	}
}

// startRunProcess starts `deskguard run ARGS` (o.Exe) in dir with o.Env
// and env added, its stdout and stderr in dir/NAME.out and NAME.err; done
// receives its exit. The files are returned for the caller to close, also
// on error.
func startRunProcess(o *Options, dir, name string, env []string, args ...string) (*exec.Cmd, chan error, []*os.File, error) {
	cmd := exec.Command(o.Exe, append([]string{"run"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), o.Env...), env...)
	var files []*os.File
	for i, ext := range []string{"out", "err"} {
		f, err := os.Create(filepath.Join(dir, name+"."+ext))
		if err != nil {
			return nil, nil, files, fmt.Errorf("drill: desk output: %w", err)
		}
		files = append(files, f)
		if i == 0 {
			cmd.Stdout = f
		} else {
			cmd.Stderr = f
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, files, fmt.Errorf("drill: start the desk: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return cmd, done, files, nil
}

func (p *procDesk) call(ctx context.Context, req deskapi.Request) (deskapi.Response, error) {
	tok, err := os.ReadFile(p.token())
	if err != nil {
		return deskapi.Response{}, err
	}
	req.Token = strings.TrimSpace(string(tok))
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := deskapi.Call(cctx, p.sock(), req)
	if err == nil && !resp.OK {
		err = fmt.Errorf("desk refused %s: %s", req.Op, resp.Error)
	}
	return resp, err
}

func (p *procDesk) status(ctx context.Context) (*deskapi.Status, error) {
	resp, err := p.call(ctx, deskapi.Request{Op: "status"})
	if err != nil {
		return nil, err
	}
	if resp.Status == nil {
		return nil, errors.New("status without a body")
	}
	return resp.Status, nil
}

// kill SIGKILLs the desk: no clean shutdown at all. Its worker children
// see their pipe close and exit.
func (p *procDesk) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop ends the desk with SIGTERM, as an operator would, and reports how
// it exited.
func (p *procDesk) stop(ctx context.Context) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("drill: desk exited with %v: %s", err, p.tail("err"))
		}
		return nil
	case <-time.After(60 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("drill: desk did not stop within 60s of SIGTERM: %s", p.tail("err"))
	case <-ctx.Done():
		_ = p.cmd.Process.Kill()
		<-p.done
		return ctx.Err()
	}
}

func (p *procDesk) close() {
	if p.cmd != nil && p.cmd.ProcessState == nil {
		select {
		case err := <-p.done:
			p.done <- err
		default:
			p.kill()
		}
	}
	for _, f := range p.files {
		_ = f.Close()
	}
}

// tail is the end of the current life's output, for error messages.
func (p *procDesk) tail(name string) string {
	b, _ := os.ReadFile(filepath.Join(p.dir, fmt.Sprintf("run%d.%s", p.life, name)))
	if len(b) > 1500 {
		b = b[len(b)-1500:]
	}
	return strings.TrimSpace(string(b))
}

// procConfig writes the desk's config: the drill's five accounts, worker
// processes, the hosted venue ([broker] section brokerTOML: a Tradovate
// environment or an R|Protocol gateway), console off.
func procConfig(dir, brokerTOML string, specs []supervisor.AccountSpec) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, `[desk]
journal = %q
control_socket = %q
workers = "process"
log_level = "info"

%s
[console]
listen = "off"
`, filepath.Join(dir, "desk.db"), filepath.Join(dir, "desk.sock"), brokerTOML)
	for _, s := range specs {
		fmt.Fprintf(&b, "\n[[accounts]]\nid = %q\nstart_equity = %q\nfees_rt = %q\nstrategies = [%q]\n",
			s.Config.ID, s.Config.StartEquity.StringFixed(2), s.Config.FeesRT.StringFixed(2), s.Config.Strategies[0])
	}
	p := filepath.Join(dir, "desk.toml")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		return "", fmt.Errorf("drill: config: %w", err)
	}
	return p, nil
}

// procRound is one process round: the hosted venue, the desk process, the
// checker, and the trades.
type procRound struct {
	o     *Options
	dir   string
	specs []supervisor.AccountSpec
	v     hostedVenue
	lv    *liveVenue
	desk  *procDesk
	c     *checker
	stopV func() error
	// noticed is when the desk could first see the round's latest fault
	// (its end, or later for a fault a desk cannot see at once: a silent
	// socket); procRecover counts from it.
	noticed time.Time
}

func newProcRound(ctx context.Context, o *Options, dir, protocol string) (*procRound, error) {
	if o.Exe == "" {
		return nil, errors.New("needs the deskguard binary (Options.Exe): run it as `deskguard drill`")
	}
	specs := deskSpecs()
	var ids []string
	for _, s := range specs {
		ids = append(ids, s.Config.ID)
	}
	hv, err := hostVenue(protocol, ids, o.Log)
	if err != nil {
		return nil, err
	}
	v := hv.v
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("drill: venue listen: %w", err)
	}
	vctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- hv.serve(vctx, ln) }()
	<-hv.ready
	pr := &procRound{o: o, dir: dir, specs: specs, v: v, lv: &liveVenue{v: v}, c: newCheckerFor(specs),
		stopV: func() error { cancel(); return <-served }}
	pr.c.live = &liveWindows
	cfg, err := procConfig(dir, hv.brokerTOML(), specs)
	if err != nil {
		pr.close()
		return nil, err
	}
	pr.desk = &procDesk{o: o, dir: dir, cfg: cfg}
	if err := pr.desk.start(ctx); err != nil {
		pr.close()
		return nil, err
	}
	// The desk subscribes to the tick chart once it has recovered and
	// connected; the session starts then, as it would at the open.
	select {
	case <-v.ChartSubscribed():
	case <-ctx.Done():
		pr.close()
		return nil, ctx.Err()
	case <-time.After(30 * time.Second):
		pr.close()
		return nil, fmt.Errorf("drill: the desk never subscribed to the venue's tick chart: %s", pr.desk.tail("err"))
	}
	return pr, nil
}

func (pr *procRound) close() {
	if pr.desk != nil {
		pr.desk.close()
	}
	if pr.stopV != nil {
		_ = pr.stopV()
		pr.stopV = nil
	}
}

// fault is something done to the desk or the venue while the session runs;
// it runs on its own goroutine (the venue keeps trading meanwhile) and
// reports on done. back says the desk was dead and is up again.
type fault struct {
	at   int // body trade index
	what string
	do   func(ctx context.Context) (back bool, err error)
	// notice is how long after it ends the desk can first see it (0: at
	// once).
	notice time.Duration
}

// play feeds the body at the round's pace, running each fault at its
// trade (or, while another fault is still running, as soon as it ends),
// checking the venue after every trade.
func (pr *procRound) play(ctx context.Context, body []market.Trade, faults []fault) (int, error) {
	type result struct {
		f    fault
		back bool
		err  error
		end  time.Time
	}
	results := make(chan result, len(faults))
	pending, injected := 0, 0
	per := procSession / time.Duration(len(body)+1)
	start := time.Now()
	handle := func(r result) error {
		pending--
		if r.err != nil {
			return fmt.Errorf("%s: %w", r.f.what, r.err)
		}
		injected++
		if t := r.end.Add(r.f.notice); t.After(pr.noticed) {
			pr.noticed = t
		}
		if r.back {
			pr.c.deskBack()
		}
		return nil
	}
	next := 0
	for i, t := range body {
		if err := ctx.Err(); err != nil {
			return injected, err
		}
		// One fault at a time: a fault due while another is still running
		// (a desk restarting) waits for it.
		if next < len(faults) && faults[next].at <= i && pending == 0 {
			f := faults[next]
			next++
			pending++
			go func() {
				back, err := f.do(ctx)
				results <- result{f, back, err, time.Now()}
			}()
		}
		select {
		case r := <-results:
			if err := handle(r); err != nil {
				return injected, err
			}
		default:
		}
		// Pace the feed: the session's trades spread over procSession.
		if wait := time.Until(start.Add(per * time.Duration(i))); wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
			case r := <-results:
				timer.Stop()
				if err := handle(r); err != nil {
					return injected, err
				}
			}
		}
		pr.lv.trade(t)
		pr.c.observeView(pr.lv)
	}
	for pending > 0 {
		select {
		case r := <-results:
			if err := handle(r); err != nil {
				return injected, err
			}
		case <-ctx.Done():
			return injected, ctx.Err()
		}
	}
	return injected, nil
}

// end kills the desk from its control socket as the CLI does, feeds the
// tail until the venue is flat, checks that the kill reached every
// account, stops the desk and runs the end-of-round checks.
func (pr *procRound) end(ctx context.Context, tail []market.Trade, rd *round) error {
	tail, err := pr.recovered(ctx, tail)
	if err != nil {
		return err
	}
	t0 := time.Now()
	if _, err := pr.desk.call(ctx, deskapi.Request{Op: "flatten", Reason: "drill_end"}); err != nil {
		return fmt.Errorf("closing kill: %w", err)
	}
	var lat time.Duration
	for _, t := range tail {
		if pr.flat() {
			lat = time.Since(t0)
			break
		}
		timer := time.NewTimer(procTailEvery) // the tail's pace
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		}
		pr.lv.trade(t)
		pr.c.observeView(pr.lv)
	}
	if lat == 0 && pr.flat() {
		lat = time.Since(t0)
	}
	rd.kills = append(rd.kills, supervisor.KillReport{TotalNs: lat})
	pr.c.killReachedView(pr.lv, "closing kill")
	// Halted: rearm is refused nowhere else, so a desk that took the kill
	// reports halting or halted.
	if st, err := pr.desk.status(ctx); err != nil {
		return fmt.Errorf("status after the kill: %w", err)
	} else if st.State != "halted" && st.State != "halting" {
		pr.c.violate(nil, "", "after the closing kill the desk is %s", st.State)
	}
	if err := pr.desk.stop(ctx); err != nil {
		return err
	}
	pr.finish()
	for _, ev := range pr.v.History() {
		if ev.Kind == broker.FilledEv || ev.Kind == broker.PartiallyFilled {
			rd.fills++
		}
	}
	rd.repair = pr.c.worstGap
	for _, a := range pr.c.accts {
		if a.breachAt > 0 {
			rd.breach++
		}
	}
	rd.viol = append(rd.viol, pr.c.viol...)
	return nil
}

// recovered feeds trades slowly until the desk reports its venue and data
// links up and its trade count moves with the venue's feed, and returns
// what is left of the tail for the closing kill. Not recovered within
// procRecover of now or of when the desk could first see the last fault
// (whichever is later) is a violation.
func (pr *procRound) recovered(ctx context.Context, tail []market.Trade) ([]market.Trade, error) {
	deadline := time.Now().Add(procRecover)
	if d := pr.noticed.Add(procRecover); d.After(deadline) {
		deadline = d
	}
	base := int64(-1)
	var last *deskapi.Status
	for i, t := range tail[:len(tail)-procKillTail] {
		st, err := pr.desk.status(ctx)
		if err == nil {
			last = st
			if st.Links.Venue == "up" && st.Links.Data == "up" {
				if base < 0 {
					base = st.Trades
				} else if st.Trades > base {
					return tail[i:], nil
				}
			}
		}
		if time.Now().After(deadline) {
			break
		}
		if err := sleepCtx(ctx, procRecoverEvery); err != nil { // the feed's pace while the desk recovers
			return nil, err
		}
		pr.lv.trade(t)
		pr.c.observeView(pr.lv)
	}
	what := "no status"
	if last != nil {
		what = fmt.Sprintf("venue link %s, data link %s, %d trades", last.Links.Venue, last.Links.Data, last.Trades)
	}
	pr.c.violate(nil, "", "the desk was not whole again %s after the last fault (or after it could see it): %s", procRecover, what)
	return tail[len(tail)-procKillTail:], nil
}

func (pr *procRound) flat() bool {
	for _, id := range pr.c.order {
		pos, _ := pr.lv.position(id)
		if pos.Qty != 0 || len(pr.lv.openOrders(id)) > 0 {
			return false
		}
	}
	return true
}

// finish: the desk's final books (its summary) against the venue's
// positions and realized PnL, every venue order's client id unique, no
// intent journaled as sent twice, and the journal verifies.
func (pr *procRound) finish() {
	c := pr.c
	var sum supervisor.Summary
	b, err := os.ReadFile(filepath.Join(pr.dir, "summary.json"))
	if err == nil {
		err = json.Unmarshal(b, &sum)
	}
	if err != nil {
		c.violate(nil, "", "the desk's summary: %v", err)
	}
	tick := decimal.RequireFromString("1.25")
	for _, a := range sum.Accounts {
		vp, err := pr.lv.position(a.ID)
		if err != nil {
			c.violate(nil, "", "%s: not at the venue: %v", a.ID, err)
			continue
		}
		if a.Position != vp.Qty {
			c.violate(nil, "", "%s: ledger position %d, venue %d", a.ID, a.Position, vp.Qty)
		}
		gp, _ := decimal.NewFromString(a.GrossProfit)
		gl, _ := decimal.NewFromString(a.GrossLoss)
		if want := decimal.NewFromInt(vp.Realized).Mul(tick); !gp.Sub(gl).Equal(want) {
			c.violate(nil, "", "%s: ledger realized %s, venue %s", a.ID, gp.Sub(gl), want)
		}
	}
	if len(sum.Accounts) != len(pr.specs) && err == nil {
		c.violate(nil, "", "the desk's summary has %d accounts, the desk %d", len(sum.Accounts), len(pr.specs))
	}
	// Every order the venue accepted has its own client id: a resend after
	// a lost answer or a restart found the first one.
	seen := map[string]int{}
	for _, ev := range pr.v.History() {
		if ev.Kind == broker.Accepted && ev.ClientID != "" {
			seen[ev.Account+"/"+ev.ClientID]++
		}
	}
	for _, k := range sortedKeys(seen) {
		if seen[k] > 1 {
			c.violate(nil, "", "the venue accepted client id %s %d times", k, seen[k])
		}
	}
	path := filepath.Join(pr.dir, "desk.db")
	rep, err := journal.Verify(path, journal.VerifyOptions{Timeout: 5 * time.Second, FillOwner: venueOwned, Checkers: []journal.Checker{ledgercheck.New()}})
	switch {
	case err != nil:
		c.violate(nil, "", "journal verify: %v", err)
	case !rep.OK:
		c.violate(nil, "", "journal verify: %s", strings.Join(rep.Problems, "; "))
	}
	j, err := journal.Open(path, journal.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		c.violate(nil, "", "journal open: %v", err)
		return
	}
	defer j.Close()
	sent := map[string]bool{}
	err = j.Iterate(1, func(r journal.Record) error {
		if r.Kind != journal.KindIntent {
			return nil
		}
		body, err := r.IntentBody()
		if err != nil {
			return err
		}
		if body.Decision != nil && body.Decision.Allowed {
			if sent[body.Intent.ID] {
				c.violate(nil, "", "intent %s journaled as sent twice", body.Intent.ID)
			}
			sent[body.Intent.ID] = true
		}
		return nil
	})
	if err != nil {
		c.violate(nil, "", "journal read: %v", err)
	}
}

// procTrades is a round's session: the body and the tail.
func procTrades(o *Options, seed int64) ([]market.Trade, []market.Trade, error) {
	ts, err := sessionTrades(seed, o.Scale)
	if err != nil {
		return nil, nil, err
	}
	if len(ts) < 4*procTail {
		return nil, nil, fmt.Errorf("drill: a session of %d trades is too short (raise --scale)", len(ts))
	}
	return ts[:len(ts)-procTail], ts[len(ts)-procTail:], nil
}

// runProcessCrash: the supervisor process is SIGKILLed 1–2 times a round
// at random trades while the session runs on, and started again on the
// same journal after a random pause; the venue keeps matching and holding
// the brackets meanwhile.
func runProcessCrash(ctx context.Context, o *Options, seed int64, dir string) (round, error) {
	return processCrash(ctx, o, seed, dir, "tradovate")
}

// processCrash is runProcessCrash over a protocol (tradovate, rithmic).
func processCrash(ctx context.Context, o *Options, seed int64, dir, protocol string) (round, error) {
	var rd round
	body, tail, err := procTrades(o, seed)
	if err != nil {
		return rd, err
	}
	pr, err := newProcRound(ctx, o, dir, protocol)
	if err != nil {
		return rd, err
	}
	defer pr.close()
	rng := newRand(seed)
	var faults []fault
	n := 1 + rng.IntN(2)
	for k := 0; k < n; k++ {
		lo := len(body) * (1 + 4*k) / 10 // the first kill in 10–50%, the second in 50–90%
		at := lo + rng.IntN(len(body)*4/10)
		down := time.Duration(300+rng.IntN(1200)) * time.Millisecond
		faults = append(faults, fault{at: at, what: fmt.Sprintf("SIGKILL at trade %d", at), do: func(ctx context.Context) (bool, error) {
			pr.desk.kill()
			from := len(pr.v.History())
			defer func() { rd.dead += bracketFills(pr.v.HistorySince(from)) }()
			if err := sleepCtx(ctx, down); err != nil { // the desk stays dead a while (fault injection)
				return false, err
			}
			if err := pr.desk.start(ctx); err != nil {
				return false, err
			}
			if !strings.Contains(readFile(filepath.Join(dir, fmt.Sprintf("run%d.out", pr.desk.life))), "recovered from the journal") {
				return true, fmt.Errorf("life %d did not recover from the journal", pr.desk.life)
			}
			return true, nil
		}})
	}
	rd.faults, err = pr.play(ctx, body, faults)
	if err != nil {
		return rd, err
	}
	return rd, pr.end(ctx, tail, &rd)
}

// venueFaultKinds are the venue's faults, one drawn per injection: its
// protocol faults and those that change its books behind the desk's back
// (venue.DeskSideFaults: a bust, a correction, a trader's bracket on the
// broker's platform, the broker's auto-liquidation, a cash adjustment).
var venueFaultKinds = append(append([]string{"drop-sockets", "rest-5xx", "rest-5xx-after-acting", "penalty", "expire-tokens", "restart"},
	venuepkg.InjectedFaults...), venuepkg.DeskSideFaults...)

// runVenueFaults: 4–8 venue faults a round at random trades.
func runVenueFaults(ctx context.Context, o *Options, seed int64, dir string) (round, error) {
	return venueFaults(ctx, o, seed, dir, "tradovate")
}

// venueFaults is runVenueFaults over a protocol, with its faults.
func venueFaults(ctx context.Context, o *Options, seed int64, dir, protocol string) (round, error) {
	var rd round
	body, tail, err := procTrades(o, seed)
	if err != nil {
		return rd, err
	}
	pr, err := newProcRound(ctx, o, dir, protocol)
	if err != nil {
		return rd, err
	}
	defer pr.close()
	rng := newRand(seed)
	n := 4 + rng.IntN(5)
	var faults []fault
	for k := 0; k < n; k++ {
		at := len(body)/20 + rng.IntN(len(body)*17/20)
		faults = append(faults, protocolFault(protocol, pr.v, int(seed)+k, at, rng))
	}
	sortFaults(faults)
	rd.faults, err = pr.play(ctx, body, faults)
	if err != nil {
		return rd, err
	}
	// After the faults the desk must be trading again: its closing kill
	// (end) reaches every account only over a working connection.
	return rd, pr.end(ctx, tail, &rd)
}

func venueFault(v *venuepkg.Venue, kind string, at int, rng *rand.Rand) fault {
	f := fault{at: at, what: fmt.Sprintf("%s at trade %d", kind, at)}
	switch kind {
	case "drop-sockets":
		f.do = func(context.Context) (bool, error) { v.DropWebSockets(); return false, nil }
	case "rest-5xx":
		code := []int{500, 502, 503}[rng.IntN(3)]
		k := 1 + rng.IntN(3)
		f.do = func(context.Context) (bool, error) { v.FailNextREST(k, code); return false, nil }
	case "rest-5xx-after-acting":
		k := 1 + rng.IntN(2)
		f.do = func(context.Context) (bool, error) { v.FailNextRESTAfter(k, 500); return false, nil }
	case "penalty":
		k := 1 + rng.IntN(2)
		f.do = func(context.Context) (bool, error) { v.PenalizeNext(k, 1); return false, nil }
	case "expire-tokens":
		f.do = func(context.Context) (bool, error) { v.ExpireTokens(); return false, nil }
	case "restart":
		down := time.Duration(100+rng.IntN(700)) * time.Millisecond
		f.do = func(ctx context.Context) (bool, error) { return false, v.Bounce(ctx, down) }
	default: // the venue's own named faults (venue.InjectedFaults)
		r := rand.New(rand.NewPCG(rng.Uint64(), 0))
		f.do = func(ctx context.Context) (bool, error) { return false, v.Inject(ctx, kind, r) }
		if kind == "silence" {
			// Half-open sockets: the desk sees them dead only when its
			// silence timeout runs out.
			f.notice = silenceNotice
		}
	}
	return f
}

// bracketFills counts the fills of stop and target legs among evs.
func bracketFills(evs []broker.Event) int {
	n := 0
	for _, ev := range evs {
		if (ev.Kind == broker.FilledEv || ev.Kind == broker.PartiallyFilled) && (ev.Role == broker.StopLeg || ev.Role == broker.TargetLeg) {
			n++
		}
	}
	return n
}

func sortFaults(fs []fault) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].at < fs[j-1].at; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}
