package supervisor

// harness_test.go: the integration rig — a desk over a real journal file in
// t.TempDir(), the real sim venue, and in-process engines or real worker
// processes (this test binary re-executed as `deskguard worker`); plus a
// recording broker that keeps the venue's own event log in exact order.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
	"github.com/deskguard/deskguard/strategies"
)

// rigOpt says what desk to build.
type rigOpt struct {
	Accounts     []AccountSpec
	Workers      WorkerMode
	Proc         ProcConfig
	ManualUnlock bool
	Path         string // journal file; default a new one in t.TempDir()
	Limits       limits.Config
	Schedule     ScheduleConfig
	Async        bool // asynchronous sim (Events) instead of Synchronous (Drain)
	// Broker and Journal, when set, wrap what the desk is given (tests
	// that hold a request or an append).
	Broker  func(*recBroker) broker.Broker
	Journal func(Journal) Journal
	// KillJournalWait is Options.KillJournalWait (0: the default).
	KillJournalWait time.Duration
	// The risk rules' desk options (rules_test.go).
	Alerts            Alerter
	Calendar          *limits.Calendar
	DeskWarnPct       int
	DeskReduceOnlyPct int
	// DeskDrawdownPct is Options.DeskDrawdownPct (zero: the account default).
	DeskDrawdownPct decimal.Decimal
}

// rig is one desk with its real parts.
type rig struct {
	t     *testing.T
	path  string
	j     *journal.Journal
	sim   *sim.Sim
	rec   *recBroker
	clock *market.ReplayClock
	d     *Desk
}

// builtinSpecs is the built-in desk's three accounts (one per engine).
func builtinSpecs() []AccountSpec {
	var out []AccountSpec
	for _, a := range []struct{ id, eng string }{{"ORB1", "orb"}, {"VWAP1", "vwapmr"}, {"DELTA1", "delta"}} {
		out = append(out, AccountSpec{DayTrading: true, Config: accounts.Config{ID: a.id, StartEquity: decimal.NewFromInt(50000),
			FeesRT: decimal.RequireFromString("1.20"), Strategies: []string{a.eng}}})
	}
	return out
}

// manySpecs is n accounts cycling through the three engines.
func manySpecs(n int, equity int64) []AccountSpec {
	engs := []string{"orb", "vwapmr", "delta"}
	var out []AccountSpec
	for i := 0; i < n; i++ {
		out = append(out, AccountSpec{DayTrading: true, Config: accounts.Config{ID: fmt.Sprintf("A%02d", i),
			StartEquity: decimal.NewFromInt(equity), Strategies: []string{engs[i%3]}}})
	}
	return out
}

func enginesProc(fault string) ProcConfig {
	exe, _ := os.Executable()
	env := []string{"DESKGUARD_TEST_WORKER=engines"}
	if fault != "" {
		env = append(env, "DESKGUARD_WORKER_FAULT="+fault)
	}
	return ProcConfig{Exe: exe, Args: []string{"-test.run=^$"}, Env: env,
		HeartbeatEvery: 50 * time.Millisecond, HeartbeatTimeout: 1500 * time.Millisecond,
		BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond, CrashLoop: 4, CrashWindow: time.Minute}
}

func newRig(t *testing.T, o rigOpt) *rig {
	t.Helper()
	if o.Accounts == nil {
		o.Accounts = builtinSpecs()
	}
	if o.Path == "" {
		o.Path = filepath.Join(t.TempDir(), "desk.db")
	}
	clock := market.NewReplayClock(time.Unix(0, 0))
	j, err := journal.Open(o.Path, journal.Options{Clock: clock, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(o.Accounts))
	for i, a := range o.Accounts {
		ids[i] = a.Config.ID
	}
	s, err := sim.New(sim.Config{Accounts: ids, Synchronous: !o.Async})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recBroker{Sim: s, async: o.Async}
	if o.Async {
		// Tee the venue's stream: the desk reads the copy, the log keeps all.
		rec.tee = make(chan broker.Event, 1<<16)
		go func() {
			defer close(rec.tee)
			for ev := range s.Events() {
				rec.mu.Lock()
				rec.events = append(rec.events, ev)
				rec.mu.Unlock()
				rec.tee <- ev
			}
		}()
	}
	lim := o.Limits
	lim.MaxDataAge = 0
	var br broker.Broker = rec
	if o.Broker != nil {
		br = o.Broker(rec)
	}
	dj := JournalOf(j)
	if o.Journal != nil {
		dj = o.Journal(dj)
	}
	d, err := New(Options{Clock: clock, Log: testLog(t), Journal: dj, Broker: br, Limits: lim,
		Accounts: o.Accounts, Engines: strategies.DefaultConfig(), Schedule: o.Schedule, Workers: o.Workers, Proc: o.Proc,
		ManualUnlock: o.ManualUnlock, KillJournalWait: o.KillJournalWait, Alerts: o.Alerts, Calendar: o.Calendar,
		DeskWarnPct: o.DeskWarnPct, DeskReduceOnlyPct: o.DeskReduceOnlyPct, DeskDrawdownPct: o.DeskDrawdownPct})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, path: o.Path, j: j, sim: s, rec: rec, clock: clock, d: d}
	t.Cleanup(func() { r.close() })
	return r
}

// close closes the journal (idempotent).
func (r *rig) close() {
	if r.j != nil {
		_ = r.j.Close()
		r.j = nil
	}
	_ = r.sim.Close()
}

func testLog(t *testing.T) *slog.Logger {
	if os.Getenv("DESKGUARD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// session returns the first n trades of a seeded synthetic session at scale.
func session(t testing.TB, seed int64, scale float64, n int) []market.Trade {
	t.Helper()
	ts, err := synth.Generate(synth.Options{Seed: seed, Regime: synth.Mixed, Scale: scale})
	if err != nil {
		t.Fatal(err)
	}
	if n > 0 && n < len(ts) {
		ts = ts[:n]
	}
	return ts
}

// sliceReader is a TradeReader over a slice.
type sliceReader struct {
	ts []market.Trade
	i  int
}

func (r *sliceReader) Next() (market.Trade, error) {
	if r.i >= len(r.ts) {
		return market.Trade{}, io.EOF
	}
	r.i++
	return r.ts[r.i-1], nil
}

// recCall is one request the desk made of the venue, in order.
type recCall struct {
	Op       string // bracket, order, modify, cancel, cancel_all, liquidate
	Account  string
	ClientID string
	Seq      int // position in the call log
}

// recBroker is the sim with a log: every request in the order the venue
// took it (requests are serialised) and, for a synchronous sim, every event
// the venue emitted, in Seq order, as the driver drained them.
type recBroker struct {
	*sim.Sim
	async  bool
	tee    chan broker.Event
	mu     sync.Mutex
	calls  []recCall
	events []broker.Event
}

func (b *recBroker) call(op, acct, id string, f func() error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, recCall{Op: op, Account: acct, ClientID: id, Seq: len(b.calls)})
	return f()
}

func (b *recBroker) SubmitOrder(ctx context.Context, o broker.Order) error {
	return b.call("order", o.Account, o.ClientID, func() error { return b.Sim.SubmitOrder(ctx, o) })
}
func (b *recBroker) SubmitBracket(ctx context.Context, br broker.Bracket) error {
	return b.call("bracket", br.Entry.Account, br.Entry.ClientID, func() error { return b.Sim.SubmitBracket(ctx, br) })
}
func (b *recBroker) Modify(ctx context.Context, acct, id string, p, sp market.Price) error {
	return b.call("modify", acct, id, func() error { return b.Sim.Modify(ctx, acct, id, p, sp) })
}
func (b *recBroker) Cancel(ctx context.Context, acct, id string) error {
	return b.call("cancel", acct, id, func() error { return b.Sim.Cancel(ctx, acct, id) })
}
func (b *recBroker) CancelAll(ctx context.Context, acct string) error {
	return b.call("cancel_all", acct, "", func() error { return b.Sim.CancelAll(ctx, acct) })
}
func (b *recBroker) Liquidate(ctx context.Context, acct string) error {
	return b.call("liquidate", acct, "", func() error { return b.Sim.Liquidate(ctx, acct) })
}

// OnTrade is serialised with the requests, so the log's order is the venue's.
func (b *recBroker) OnTrade(t market.Trade) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Sim.OnTrade(t)
}

// Drain hands the venue's events over and keeps a copy.
func (b *recBroker) Drain() []broker.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	evs := b.Sim.Drain()
	b.events = append(b.events, evs...)
	return evs
}

func (b *recBroker) Calls() []recCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]recCall(nil), b.calls...)
}

func (b *recBroker) Events() <-chan broker.Event {
	if b.tee != nil {
		return b.tee
	}
	return b.Sim.Events()
}

func (b *recBroker) Log() []broker.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]broker.Event(nil), b.events...)
}

// records reads every journal record of the rig's file.
func (r *rig) records() []journal.Record {
	r.t.Helper()
	var out []journal.Record
	if err := r.j.Iterate(1, func(rec journal.Record) error { out = append(out, rec); return nil }); err != nil {
		r.t.Fatal(err)
	}
	return out
}

// within waits for cond with a deadline, re-checking whenever poke says
// something may have changed (or every few ms, as a fallback for state
// changed by other goroutines).
func within(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	withinOr(t, d, what, cond, nil)
}

// withinOr is within with a dump of the state on timeout.
func withinOr(t testing.TB, d time.Duration, what string, cond func() bool, dump func()) {
	t.Helper()
	deadline := time.Now().Add(d)
	tk := time.NewTicker(2 * time.Millisecond)
	defer tk.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			if dump != nil {
				dump()
			}
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		<-tk.C
	}
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var errStop = errors.New("stop")

// dumpDesk logs every account's state, position and orders.
func (r *rig) dumpDesk() {
	st := r.d.Status(context.Background())
	r.t.Logf("desk %s, %d trades, last %v", st.State, st.Trades, st.Time)
	for _, a := range st.Accounts {
		p, _ := r.sim.Position(a.ID)
		r.t.Logf("  %s %s pos %d (venue %d) worker %s orders %+v", a.ID, a.State, a.Position, p.Qty, a.Worker, a.Orders)
	}
}
