package supervisor

// killcrash_test.go: a crash in the middle of a kill (issue 15, item 2).
// The supervisor dies at every step of a kill and of its aftermath — right
// after each durable journal append (the kill's record, the machines'
// transitions, the fills) and right after each request reached the venue
// (each liquidation) — the way the drill's crash-restart scenario stops at
// exact durable points: from the crash on, nothing the dead desk does
// reaches the journal file or the venue. A new desk recovers from the same
// journal file against the same venue (which replays its reports to the
// new connection) and must be halting or halted, never trading, with every
// account in the kill's scope flat once the liquidations it had not
// confirmed are finished. The same for a lockout.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/strategies"
)

var errCrashed = errors.New("test: desk crashed")

// crashPoint cuts a desk's journal and venue at the n-th durable append or
// the n-th venue request after arming.
type crashPoint struct {
	cut      atomic.Bool
	appends  atomic.Int64
	requests atomic.Int64
	mu       sync.Mutex
	atAppend int64 // crash right after this append (0: not armed)
	atReq    int64 // crash right after this request (0: not armed)
}

func (c *crashPoint) arm(appendN, requestN int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if appendN > 0 {
		c.atAppend = c.appends.Load() + appendN
	}
	if requestN > 0 {
		c.atReq = c.requests.Load() + requestN
	}
}

func (c *crashPoint) afterAppend() {
	n := c.appends.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.atAppend > 0 && n >= c.atAppend {
		c.cut.Store(true)
	}
}

func (c *crashPoint) afterRequest() {
	n := c.requests.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.atReq > 0 && n >= c.atReq {
		c.cut.Store(true)
	}
}

// crashJournal is a desk's journal connection, cut at the crash point.
type crashJournal struct {
	j Journal
	c *crashPoint
}

func (p *crashJournal) Append(ctx context.Context, e journal.Record) (uint64, error) {
	if p.c.cut.Load() {
		return 0, errCrashed
	}
	seq, err := p.j.Append(ctx, e)
	if err == nil {
		p.c.afterAppend()
	}
	return seq, err
}

func (p *crashJournal) AppendUrgent(ctx context.Context, e journal.Record) (uint64, error) {
	if p.c.cut.Load() {
		return 0, errCrashed
	}
	seq, err := p.j.(UrgentJournal).AppendUrgent(ctx, e)
	if err == nil {
		p.c.afterAppend()
	}
	return seq, err
}

// crashVenue is the sim as every desk reaches it: it numbers the venue's
// reports (venue ids) and keeps them all, to replay them to a new
// connection as a real venue does.
type crashVenue struct {
	*recBroker
	mu  sync.Mutex
	log []broker.Event
}

func (v *crashVenue) drain() []broker.Event {
	evs := v.recBroker.Drain()
	v.mu.Lock()
	defer v.mu.Unlock()
	for i := range evs {
		evs[i].VenueID = "sim-" + strconv.FormatUint(evs[i].Seq, 10)
	}
	v.log = append(v.log, evs...)
	return evs
}

// crashPort is one desk's connection to the venue, cut at the crash point.
type crashPort struct {
	v      *crashVenue
	c      *crashPoint
	replay chan broker.Event
}

func (p *crashPort) do(f func() error) error {
	if p.c.cut.Load() {
		return fmt.Errorf("%w: %w", broker.ErrDisconnected, errCrashed)
	}
	err := f()
	p.c.afterRequest()
	return err
}

func (p *crashPort) SubmitBracket(ctx context.Context, b broker.Bracket) error {
	return p.do(func() error { return p.v.SubmitBracket(ctx, b) })
}
func (p *crashPort) SubmitOrder(ctx context.Context, o broker.Order) error {
	return p.do(func() error { return p.v.SubmitOrder(ctx, o) })
}
func (p *crashPort) Modify(ctx context.Context, a, id string, px, sp market.Price) error {
	return p.do(func() error { return p.v.Modify(ctx, a, id, px, sp) })
}
func (p *crashPort) Cancel(ctx context.Context, a, id string) error {
	return p.do(func() error { return p.v.Cancel(ctx, a, id) })
}
func (p *crashPort) CancelAll(ctx context.Context, a string) error {
	return p.do(func() error { return p.v.CancelAll(ctx, a) })
}
func (p *crashPort) Liquidate(ctx context.Context, a string) error {
	return p.do(func() error { return p.v.Liquidate(ctx, a) })
}
func (p *crashPort) OpenOrders(ctx context.Context, a string) ([]broker.OrderState, error) {
	if p.c.cut.Load() {
		return nil, errCrashed
	}
	return p.v.OpenOrders(ctx, a)
}
func (p *crashPort) Positions(ctx context.Context) ([]broker.Position, error) {
	if p.c.cut.Load() {
		return nil, errCrashed
	}
	return p.v.Positions(ctx)
}
func (p *crashPort) Events() <-chan broker.Event { return p.replay }
func (p *crashPort) Close() error                { return nil }

// OnTrade and Drain make the port the desk's SyncBroker: a dead desk
// drains nothing (the venue keeps its reports for the next desk).
func (p *crashPort) OnTrade(t market.Trade) { p.v.OnTrade(t) }
func (p *crashPort) Drain() []broker.Event {
	if p.c.cut.Load() {
		return nil
	}
	return p.v.drain()
}

// crashDesk is one desk life on the shared journal file and venue.
type crashDesk struct {
	t     *testing.T
	j     *journal.Journal
	c     *crashPoint
	port  *crashPort
	clock *market.ReplayClock
	d     *Desk
}

func openCrashDesk(t *testing.T, path string, v *crashVenue, specs []AccountSpec, now time.Time) *crashDesk {
	t.Helper()
	clock := market.NewReplayClock(now)
	j, err := journal.Open(path, journal.Options{Clock: clock, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c := &crashPoint{}
	v.drain() // the reports no desk took yet: the venue replays them too
	v.mu.Lock()
	replay := make(chan broker.Event, len(v.log)+1)
	for _, ev := range v.log {
		replay <- ev
	}
	v.mu.Unlock()
	port := &crashPort{v: v, c: c, replay: replay}
	d, err := New(Options{Clock: clock, Log: testLog(t), Journal: &crashJournal{j: JournalOf(j), c: c}, Broker: port,
		Accounts: specs, Engines: strategies.DefaultConfig(), Limits: limits.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	return &crashDesk{t: t, j: j, c: c, port: port, clock: clock, d: d}
}

// step feeds one trade to the venue and, unless it is dead, the desk.
func (cd *crashDesk) step(ctx context.Context, tm int64, px market.Price) {
	cd.t.Helper()
	tr := market.Trade{Time: tm, Price: px, Size: 10, Aggressor: market.Sell}
	cd.clock.Advance(tm)
	cd.port.OnTrade(tr)
	if cd.c.cut.Load() {
		return
	}
	if err := cd.d.drainSync(ctx, cd.port); err != nil {
		cd.t.Fatal(err)
	}
	cd.d.OnTrades(ctx, []market.Trade{tr})
	if err := cd.d.drainSync(ctx, cd.port); err != nil {
		cd.t.Fatal(err)
	}
}

// die closes the journal as the dead process's file.
func (cd *crashDesk) die() {
	cd.c.cut.Store(true)
	cd.d.chases.Wait()
	cd.d.later.Wait()
	_ = cd.j.Close()
}

// killScenario is the kill whose every step is a crash point.
type killScenario struct {
	name  string
	specs []AccountSpec
	// kill sets the kill off on a desk whose accounts are all long 1.
	kill func(ctx context.Context, cd *crashDesk)
	// after checks the restarted desk once its liquidations filled.
	after func(t *testing.T, cd *crashDesk)
}

// runToCrash plays the scenario on a fresh venue and journal with the
// crash point armed (0, 0: never) and returns the venue, the journal path
// and the dead (or finished) desk.
func runToCrash(t *testing.T, sc killScenario, appendN, requestN int64) (*crashVenue, string, *crashDesk) {
	t.Helper()
	ctx := ctxT(t, 30*time.Second)
	path := filepath.Join(t.TempDir(), "desk.db")
	ids := make([]string, len(sc.specs))
	for i, s := range sc.specs {
		ids[i] = s.Config.ID
	}
	s, err := sim.New(sim.Config{Accounts: ids, Synchronous: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	v := &crashVenue{recBroker: &recBroker{Sim: s}}
	cd := openCrashDesk(t, path, v, sc.specs, time.Unix(0, etAt(10, 0, 0)))
	if err := cd.d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cd.step(ctx, etAt(10, 0, 1), pts(5000.25))
	for _, a := range cd.d.accts {
		_ = a.m.Fire(EvStart, "test")
		if res := cd.d.HandleIntent(ctx, entryFor(a.id, etAt(10, 0, 1))); !res.Sent {
			t.Fatalf("%s: entry not sent: %+v", a.id, res)
		}
	}
	cd.step(ctx, etAt(10, 0, 2), pts(5000))
	cd.step(ctx, etAt(10, 0, 3), pts(5000.25))
	cd.c.arm(appendN, requestN)
	sc.kill(ctx, cd)
	cd.step(ctx, etAt(10, 0, 5), pts(5000.25)) // the liquidations fill
	cd.step(ctx, etAt(10, 0, 6), pts(5000.25))
	cd.die()
	return v, path, cd
}

// TestKillSurvivesACrashAtEveryStep: for every durable append and every
// venue request from the trigger to the desk halted, a crash right after
// it, then a restart on the same journal and venue.
func TestKillSurvivesACrashAtEveryStep(t *testing.T) {
	desk := killScenario{
		name:  "desk kill",
		specs: killSpecs(3),
		kill: func(ctx context.Context, cd *crashDesk) {
			_, _ = cd.d.Kill(ctx, DeskScope, TriggerConsole, "tester")
		},
		after: func(t *testing.T, cd *crashDesk) {
			if st := cd.d.m.State(); st != DeskHalting && st != DeskHalted {
				t.Errorf("desk %s after the restart, want halting or halted", st)
			}
			for _, a := range cd.d.accts {
				if st := a.m.State(); st != AcctHalted {
					t.Errorf("%s is %s after the restart and its liquidation, want halted", a.id, st)
				}
			}
		},
	}
	lockout := killScenario{
		name: "lockout",
		specs: append(killSpecs(1), AccountSpec{EnginesOff: true, Config: lockoutSpec()[0].Config},
			AccountSpec{EnginesOff: true, Config: lockoutSpec()[1].Config}),
		kill: func(ctx context.Context, cd *crashDesk) {
			// L1 crosses its line on the desk's feed before the venue trades it.
			crash := market.Trade{Time: etAt(10, 0, 4), Price: pts(4990), Size: 10, Aggressor: market.Sell}
			cd.clock.Advance(crash.Time)
			cd.d.OnTrades(ctx, []market.Trade{crash})
		},
		after: func(t *testing.T, cd *crashDesk) {
			if st := cd.d.byID["L1"].m.State(); st != AcctLockedOut {
				t.Errorf("L1 is %s after the restart, want locked_out", st)
			}
		},
	}
	for _, sc := range []killScenario{desk, lockout} {
		t.Run(sc.name, func(t *testing.T) {
			// The run once, uncrashed: how many steps there are to crash at.
			nA, nR := stepsAfterArming(t, sc)
			t.Logf("%s: %d durable appends and %d venue requests from the trigger on", sc.name, nA, nR)
			if nA < 3 || nR < 1 {
				t.Fatalf("too few steps to crash at: %d appends, %d requests", nA, nR)
			}
			for k := int64(1); k <= nA+nR; k++ {
				appendN, requestN := k, int64(0)
				what := fmt.Sprintf("after durable append %d of %d", k, nA)
				if k > nA {
					appendN, requestN = 0, k-nA
					what = fmt.Sprintf("after venue request %d of %d", k-nA, nR)
				}
				t.Run(what, func(t *testing.T) {
					v, path, dead := runToCrash(t, sc, appendN, requestN)
					if !dead.c.cut.Load() {
						t.Fatal("the crash point never fired")
					}
					restartAfterKill(t, v, path, sc)
				})
			}
		})
	}
}

// stepsAfterArming counts the durable appends and venue requests of the
// scenario from the trigger on, in a run that does not crash.
func stepsAfterArming(t *testing.T, sc killScenario) (appends, requests int64) {
	t.Helper()
	var a0, r0 int64
	kill := sc.kill
	sc.kill = func(ctx context.Context, cd *crashDesk) {
		a0, r0 = cd.c.appends.Load(), cd.c.requests.Load()
		kill(ctx, cd)
	}
	_, _, cd := runToCrash(t, sc, 0, 0)
	return cd.c.appends.Load() - a0, cd.c.requests.Load() - r0
}

// restartAfterKill brings a new desk up on the crashed desk's journal and
// venue and checks the kill is in force and finished.
func restartAfterKill(t *testing.T, v *crashVenue, path string, sc killScenario) {
	t.Helper()
	ctx := ctxT(t, 30*time.Second)
	cd := openCrashDesk(t, path, v, sc.specs, time.Unix(0, etAt(10, 1, 0)))
	t.Cleanup(cd.die)
	if _, err := cd.d.Recover(cd.j); err != nil {
		t.Fatal(err)
	}
	if err := cd.d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cd.d.drainSync(ctx, cd.port); err != nil {
		t.Fatal(err)
	}
	// Never trading: an entry on any account is refused.
	for _, a := range cd.d.accts {
		if res := cd.d.HandleIntent(ctx, entryFor(a.id, etAt(10, 1, 0))); res.Sent {
			if sc.name != "lockout" || a.id == "L1" {
				t.Errorf("%s: an entry was sent after the restart (%s, desk %s)", a.id, a.m.State(), cd.d.m.State())
			}
		}
	}
	cd.step(ctx, etAt(10, 1, 1), pts(5000.25)) // what the restart liquidated fills
	cd.step(ctx, etAt(10, 1, 2), pts(5000.25))
	scope := map[string]bool{}
	for _, a := range cd.d.accts {
		scope[a.id] = sc.name != "lockout" || a.id == "L1"
	}
	for id, in := range scope {
		if !in {
			continue
		}
		p, _ := v.Position(id)
		open, _ := v.OpenOrders(ctx, id)
		if p.Qty != 0 || len(open) != 0 {
			t.Errorf("%s at the venue after the restart: position %d, %d open orders", id, p.Qty, len(open))
		}
	}
	sc.after(t, cd)
}
