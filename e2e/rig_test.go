// rig_test.go: one real desk for the end-to-end tests — a journal file in
// t.TempDir(), the asynchronous sim venue behind a tap that timestamps
// every liquidate request, in-process engines, and a synthetic session fed
// through supervisor.RunLive from a feed the test can pause (so a desk can
// be held in halting while its liquidation orders wait for a trade).

package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
	"github.com/deskguard/deskguard/strategies"
	"github.com/deskguard/deskguard/supervisor"
)

// wait bounds every wait on the desk (a failure, never a synchronisation):
// a hang guard, generous because `go test -race ./...` runs these desks on
// a loaded 2-core machine; a passing wait returns as soon as its condition
// holds.
const wait = 2 * time.Minute

// deskSpecs is the e2e desk: the built-in desk's three engine accounts plus
// n manual accounts (trading, no engines) that the tests give positions.
func deskSpecs(manual int) []supervisor.AccountSpec {
	var out []supervisor.AccountSpec
	for _, a := range []struct{ id, eng string }{{"ORB1", "orb"}, {"VWAP1", "vwapmr"}, {"DELTA1", "delta"}} {
		out = append(out, supervisor.AccountSpec{DayTrading: true, Config: accounts.Config{ID: a.id,
			StartEquity: decimal.NewFromInt(50000), FeesRT: decimal.RequireFromString("1.20"), Strategies: []string{a.eng}}})
	}
	for i := 1; i <= manual; i++ {
		out = append(out, manualSpec(fmt.Sprintf("MAN%d", i)))
	}
	return out
}

// manualSpec is a trading account without engines.
func manualSpec(id string) supervisor.AccountSpec {
	return supervisor.AccountSpec{DayTrading: true, Config: accounts.Config{ID: id, StartEquity: decimal.NewFromInt(50000),
		FeesRT: decimal.RequireFromString("1.20")}}
}

// liq is one liquidate request that returned from the venue.
type liq struct {
	Account string
	At      time.Time
	Err     error
}

// tapBroker is the sim venue with every Liquidate timestamped on return.
type tapBroker struct {
	*sim.Sim
	liqs chan liq
}

func (b *tapBroker) Liquidate(ctx context.Context, account string) error {
	err := b.Sim.Liquidate(ctx, account)
	select {
	case b.liqs <- liq{Account: account, At: time.Now(), Err: err}:
	default: // nobody is counting: drop
	}
	return err
}

var _ broker.Broker = (*tapBroker)(nil)

// holdFeed is the synthetic session, held (no EOF) at its end so the desk
// keeps running.
type holdFeed struct {
	r   market.TradeReader
	ctx context.Context
}

func (f *holdFeed) Next() (market.Trade, error) {
	t, err := f.r.Next()
	if errors.Is(err, io.EOF) {
		<-f.ctx.Done()
		return market.Trade{}, f.ctx.Err()
	}
	return t, err
}

// gate is the venue's view of the market (RunLive's Matcher) with a
// switch: while paused no trade reaches the venue, so a liquidation order
// waits and the desk stays halting. The desk's own tick path stops with it
// (RunLive shows the venue each trade before the desk).
type gate struct {
	sim *sim.Sim
	ctx context.Context
	n   atomic.Int64 // trades the venue has seen

	mu     sync.Mutex
	paused chan struct{} // closed by Resume
	after  func(market.Trade) bool
	held   chan struct{} // closed when after held the venue
}

func (g *gate) OnTrade(t market.Trade) {
	for {
		g.mu.Lock()
		p := g.paused
		if p == nil {
			g.sim.OnTrade(t)
			g.n.Add(1)
			if g.after != nil && g.after(t) {
				g.paused, g.after = make(chan struct{}), nil
				close(g.held)
			}
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		select {
		case <-p:
		case <-g.ctx.Done():
			return
		}
	}
}

// Pause returns once no further trade can reach the venue until Resume.
func (g *gate) Pause() {
	g.mu.Lock()
	if g.paused == nil {
		g.paused = make(chan struct{})
	}
	g.mu.Unlock()
}

// PauseAfter pauses the venue after the first trade for which cond holds
// (cond runs on the feed's goroutine once the venue has seen the trade, so
// it may ask the venue about it); the channel is closed then. The trade
// cond accepted is the venue's last until Resume. A nil cond cancels an
// earlier one.
func (g *gate) PauseAfter(cond func(market.Trade) bool) <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if cond == nil {
		g.after = nil
		return nil
	}
	g.after, g.held = cond, make(chan struct{})
	return g.held
}

// Resume lets trades reach the venue again.
func (g *gate) Resume() {
	g.mu.Lock()
	if g.paused != nil {
		close(g.paused)
	}
	g.paused = nil
	g.mu.Unlock()
}

// rigOpt says what desk to build.
type rigOpt struct {
	Accounts      []supervisor.AccountSpec // default deskSpecs(1)
	Pace          float64                  // 0: as fast as possible
	Scale         float64                  // synth volume; default 0.2
	MaxBatch      int                      // RunLive's; default 64 (1: the desk sees each trade as the venue does, so a PauseAfter holds both at the same trade)
	Alerts        supervisor.Alerter
	OnStateChange func(state string, anyLockedOut bool)
	PressButton   func() error
	LightsStatus  func() (green, red, blinking, buzzer bool)
	LinkStatus    func() (venue, data, slack, button string)
}

// rig is one running desk.
type rig struct {
	t     testing.TB
	j     *journal.Journal
	sim   *sim.Sim
	br    *tapBroker
	clock *market.ReplayClock
	d     *supervisor.Desk
	feed  *gate
	ids   []string
}

// newDesk builds the desk (not yet running).
func newDesk(t testing.TB, o rigOpt) *rig {
	t.Helper()
	if o.Accounts == nil {
		o.Accounts = deskSpecs(1)
	}
	if o.Scale == 0 {
		o.Scale = 0.2
	}
	r := &rig{t: t, clock: market.NewReplayClock(time.Unix(0, 0))}
	for _, a := range o.Accounts {
		r.ids = append(r.ids, a.Config.ID)
	}
	j, err := journal.Open(filepath.Join(t.TempDir(), "desk.db"), journal.Options{Clock: r.clock, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r.j = j
	t.Cleanup(func() { _ = j.Close() })
	s, err := sim.New(sim.Config{Accounts: r.ids, Synchronous: false})
	if err != nil {
		t.Fatal(err)
	}
	r.sim = s
	t.Cleanup(func() { _ = s.Close() })
	r.br = &tapBroker{Sim: s, liqs: make(chan liq, 4096)}
	lim := limits.Config{}.WithDefaults()
	lim.MaxDataAge = 0 // the replay clock is the data's own
	r.d, err = supervisor.New(supervisor.Options{Clock: r.clock, Log: slog.New(slog.DiscardHandler), Journal: supervisor.JournalOf(j),
		Broker: r.br, Limits: lim, Accounts: o.Accounts, Engines: strategies.DefaultConfig(), Schedule: supervisor.DefaultSchedule(),
		Workers: supervisor.InProcess, Alerts: o.Alerts, CoverageGrace: 250 * time.Millisecond,
		OnStateChange: o.OnStateChange, PressButton: o.PressButton, LightsStatus: o.LightsStatus, LinkStatus: o.LinkStatus})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// run starts RunLive over a synthetic session (seed 3) and waits for the
// desk to be running with trades flowing; it stops at cleanup.
func (r *rig) run(o rigOpt) {
	t := r.t
	t.Helper()
	if o.Scale == 0 {
		o.Scale = 0.2
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = 64
	}
	rd, err := synth.NewReader(synth.Options{Seed: 3, Scale: o.Scale})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.feed = &gate{sim: r.sim, ctx: ctx}
	done := make(chan error, 1)
	go func() {
		done <- supervisor.RunLive(ctx, r.d, supervisor.LiveOptions{Feed: &holdFeed{r: rd, ctx: ctx}, Pace: o.Pace, Matcher: r.feed,
			Clock: r.clock, MaxBatch: o.MaxBatch})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("RunLive: %v", err)
			}
		case <-time.After(wait):
			t.Error("RunLive did not stop")
		}
	})
	// Desk.Start runs in RunLive's feed loop before the venue sees the first
	// trade; Status is read only after that (see TestStatusWhileTheDeskStarts).
	r.within("the first trade at the venue", func() bool { return r.feed.n.Load() > 0 })
	r.within("the desk running with trades flowing", func() bool {
		return r.d.Status(context.Background()).State == "running" && r.feed.n.Load() > 100
	})
}

// within polls cond until it holds, failing the test after wait.
func (r *rig) within(what string, cond func() bool) {
	r.t.Helper()
	within(r.t, what, cond)
}

func within(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	tk := time.NewTicker(2 * time.Millisecond)
	defer tk.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", wait, what)
		}
		<-tk.C
	}
}

func (r *rig) status() deskapi.Status { return r.d.Status(context.Background()) }

// open gives account a long position of one contract through the real
// intent path (gate → journal → venue): a market entry with a bracket wide
// enough (stop 10 points, target 20) to stay open for the test, and waits
// until the desk books the fill.
func (r *rig) open(account string) {
	r.t.Helper()
	last, ok := r.sim.LastTrade()
	if !ok {
		r.t.Fatal("open: the venue has seen no trade")
	}
	res := r.d.HandleIntent(context.Background(), intent.Intent{Kind: intent.Enter, Account: account, Strategy: "e2e",
		Time: r.clock.Now().UnixNano(), Side: market.Buy, Qty: 1, EntryType: market.MarketOrder,
		Stop: last.Price - 40, Target: last.Price + 80, Reason: "e2e: a position to flatten"})
	if !res.Sent || res.Err != nil {
		r.t.Fatalf("open %s: sent %v, err %v, decision %+v", account, res.Sent, res.Err, res.Decision)
	}
	r.within(account+" long at the desk", func() bool { return r.position(account) != 0 })
}

// position is account's position as the desk books it.
func (r *rig) position(account string) int64 {
	for _, a := range r.status().Accounts {
		if a.ID == account {
			return a.Position
		}
	}
	r.t.Fatalf("no account %s", account)
	return 0
}

// venueOpen is what the venue holds for account: its position and its
// working orders.
func (r *rig) venueOpen(account string) (int64, int) {
	p, err := r.sim.Position(account)
	if err != nil {
		r.t.Fatal(err)
	}
	open, err := r.sim.OpenOrders(context.Background(), account)
	if err != nil {
		r.t.Fatal(err)
	}
	return p.Qty, len(open)
}

// allFlatAtVenue reports whether every account is flat with nothing
// working at the venue.
func (r *rig) allFlatAtVenue() bool {
	for _, id := range r.ids {
		if q, n := r.venueOpen(id); q != 0 || n != 0 {
			return false
		}
	}
	return true
}

// requireFlattened checks the end of a kill: the desk halted, every account
// halted (or locked out) and flat with nothing working at the venue and in
// the desk's books.
func (r *rig) requireFlattened() {
	r.t.Helper()
	r.within("the desk halted", func() bool { return r.status().State == "halted" })
	r.within("every account flat at the venue", r.allFlatAtVenue)
	for _, a := range r.status().Accounts {
		if a.State != "halted" && a.State != "locked_out" {
			r.t.Errorf("%s is %s after the kill, want halted", a.ID, a.State)
		}
		if a.Position != 0 || len(a.Orders) != 0 {
			r.t.Errorf("%s at the desk: position %d, %d working orders", a.ID, a.Position, len(a.Orders))
		}
	}
}

// records returns the journal's records of kind.
func (r *rig) records(kind journal.Kind) []journal.Record {
	r.t.Helper()
	var out []journal.Record
	if err := r.j.Iterate(0, func(rec journal.Record) error {
		if rec.Kind == kind {
			out = append(out, rec)
		}
		return nil
	}); err != nil {
		r.t.Fatal(err)
	}
	return out
}

// kills returns the journaled kills.
func (r *rig) kills() []journal.Kill {
	r.t.Helper()
	var out []journal.Kill
	for _, rec := range r.records(journal.KindKill) {
		k, err := rec.Kill()
		if err != nil {
			r.t.Fatal(err)
		}
		out = append(out, k)
	}
	return out
}

// commands returns the journaled operator commands.
func (r *rig) commands() []journal.Command {
	r.t.Helper()
	var out []journal.Command
	for _, rec := range r.records(journal.KindCommand) {
		c, err := rec.Command()
		if err != nil {
			r.t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// rearm re-arms the halted desk and waits for it to run again.
func (r *rig) rearm(who string) {
	r.t.Helper()
	if err := r.d.Rearm(context.Background(), who, "e2e: next step"); err != nil {
		r.t.Fatalf("rearm: %v", err)
	}
	r.within("the desk running after the re-arm", func() bool { return r.status().State == "running" })
}

// deskRef is cmd/deskguard's forwarding Desk (wiring.go): parts built
// before the desk call it once it exists. It also records each call's
// result, so a test can see that a press returned no error.
type deskRef struct {
	mu    sync.Mutex
	d     *supervisor.Desk
	calls []flattenCall
	ch    chan flattenCall
}

type flattenCall struct {
	Account, Trigger, Who string
	Err                   error
	Start                 time.Time // when the call came in
}

func newDeskRef() *deskRef { return &deskRef{ch: make(chan flattenCall, 1024)} }

func (r *deskRef) set(d *supervisor.Desk) { r.mu.Lock(); r.d = d; r.mu.Unlock() }

func (r *deskRef) Flatten(ctx context.Context, account, trigger, who string) error {
	start := time.Now()
	r.mu.Lock()
	d := r.d
	r.mu.Unlock()
	err := errors.New("desk not started")
	if d != nil {
		err = d.Flatten(ctx, account, trigger, who)
	}
	c := flattenCall{account, trigger, who, err, start}
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	r.ch <- c
	return err
}

func (r *deskRef) returned() []flattenCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]flattenCall(nil), r.calls...)
}
