package drill

// rig.go: one drill desk with its real parts — a journal file, the sim
// venue (synchronous) behind a recording broker, the real Desk — and the
// driver that feeds it trades the way supervisor.Replay does, one trade at
// a time, so a scenario can inject a fault between any two steps. The
// venue outlives the desk: a crashed desk is abandoned and a new one is
// built on the same journal file and the same venue.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/strategies"
	"github.com/deskguard/deskguard/supervisor"
)

// errCrashed is what the parts of a crashed desk answer: nothing it does
// after the crash point reaches the journal file or the venue.
var errCrashed = errors.New("drill: desk crashed")

// errRefused is what the venue answers to an order a test makes it refuse.
var errRefused = errors.New("drill: venue refuses this order")

// deskSpecs is the drill desk: five accounts, one per engine cycling, with
// start equities from comfortable to tight so that lockouts happen.
func deskSpecs() []supervisor.AccountSpec {
	engs := []string{"orb", "vwapmr", "delta"}
	eq := []int64{50000, 20000, 8000, 5000, 3000}
	var out []supervisor.AccountSpec
	for i, e := range eq {
		out = append(out, supervisor.AccountSpec{DayTrading: true, Config: accounts.Config{ID: fmt.Sprintf("D%d", i+1),
			StartEquity: decimal.NewFromInt(e), FeesRT: decimal.RequireFromString("1.20"), Strategies: []string{engs[i%3]}}})
	}
	return out
}

// drillSpecs is the in-process drill desk: deskSpecs with lockout lines of
// their own on three accounts (2%, 1% and 1.2% instead of the desk's 1.5%),
// so the checker proves each account is held to its own configured line.
func drillSpecs() []supervisor.AccountSpec {
	specs := deskSpecs()
	for i, pct := range map[int]string{1: "2", 3: "1", 4: "1.2"} {
		specs[i].Config.Limits.DrawdownPct = decimal.RequireFromString(pct)
	}
	return specs
}

// venue is the sim with a record of everything the desk asked of it and
// everything it answered. It survives the desks that use it.
type venue struct {
	*sim.Sim
	mu      sync.Mutex
	submits map[string]int // client id → times submitted (brackets count their legs)
	liqs    map[string]int // account → liquidate requests
	events  []broker.Event
	trades  int
	last    market.Trade
	audits  []string // requests that broke an invariant on arrival (audit.go)
}

func newVenue(ids []string) (*venue, error) {
	s, err := sim.New(sim.Config{Accounts: ids, Synchronous: true})
	if err != nil {
		return nil, err
	}
	return &venue{Sim: s, submits: map[string]int{}, liqs: map[string]int{}}, nil
}

func (v *venue) onTrade(t market.Trade) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.Sim.OnTrade(t)
	v.trades++
	v.last = t
}

func (v *venue) drain() []broker.Event {
	v.mu.Lock()
	defer v.mu.Unlock()
	evs := v.Sim.Drain()
	for i := range evs {
		venueID(&evs[i])
	}
	v.events = append(v.events, evs...)
	return evs
}

func (v *venue) submitted(ids ...string) {
	v.mu.Lock()
	for _, id := range ids {
		v.submits[id]++
	}
	v.mu.Unlock()
}

// port is one desk's connection to the venue: a crashed desk's port is cut,
// so a zombie call after the crash point never reaches the venue.
type port struct {
	v      *venue
	cut    atomic.Bool
	after  func() // called after each request reaches the venue (crash points)
	sent   atomic.Int64
	before func() error // called before each risk-adding request (journal-faults scenario)
	replay chan broker.Event
	refuse func(broker.Order) bool // the venue refuses these single orders (tests)
}

func (p *port) do(f func() error) error {
	if p.cut.Load() {
		return fmt.Errorf("%w: %w", broker.ErrDisconnected, errCrashed)
	}
	err := f()
	p.sent.Add(1)
	if p.after != nil {
		p.after()
	}
	return err
}

func (p *port) SubmitOrder(ctx context.Context, o broker.Order) error {
	return p.do(func() error {
		if p.before != nil {
			if err := p.before(); err != nil {
				return err
			}
		}
		p.v.submitted(o.ClientID)
		p.v.auditOrder(o)
		if p.refuse != nil && p.refuse(o) {
			return fmt.Errorf("%w: %s", broker.ErrInvalid, errRefused)
		}
		return p.v.Sim.SubmitOrder(ctx, o)
	})
}

func (p *port) SubmitBracket(ctx context.Context, b broker.Bracket) error {
	return p.do(func() error {
		if p.before != nil {
			if err := p.before(); err != nil {
				return err
			}
		}
		p.v.submitted(b.Entry.ClientID, b.Stop.ClientID, b.Target.ClientID)
		p.v.auditBracket(b)
		return p.v.Sim.SubmitBracket(ctx, b)
	})
}

func (p *port) Modify(ctx context.Context, a, id string, px, sp market.Price) error {
	return p.do(func() error {
		p.v.auditModify(a, id, sp)
		return p.v.Sim.Modify(ctx, a, id, px, sp)
	})
}
func (p *port) Cancel(ctx context.Context, a, id string) error {
	return p.do(func() error {
		p.v.auditCancel(a, id)
		return p.v.Sim.Cancel(ctx, a, id)
	})
}
func (p *port) CancelAll(ctx context.Context, a string) error {
	return p.do(func() error { return p.v.Sim.CancelAll(ctx, a) })
}
func (p *port) Liquidate(ctx context.Context, a string) error {
	return p.do(func() error {
		p.v.mu.Lock()
		p.v.liqs[a]++
		p.v.mu.Unlock()
		return p.v.Sim.Liquidate(ctx, a)
	})
}
func (p *port) OpenOrders(ctx context.Context, a string) ([]broker.OrderState, error) {
	if p.cut.Load() {
		return nil, errCrashed
	}
	return p.v.Sim.OpenOrders(ctx, a)
}
func (p *port) Positions(ctx context.Context) ([]broker.Position, error) {
	if p.cut.Load() {
		return nil, errCrashed
	}
	return p.v.Sim.Positions(ctx)
}

// Events is the venue's replay of its reports to a new connection: every
// event of the session (the desk books each venue id once).
func (p *port) Events() <-chan broker.Event { return p.replay }
func (p *port) Close() error                { return nil } // the venue outlives the desk

// jport is one desk's journal connection; a crashed desk's is cut.
type jport struct {
	j     supervisor.Journal
	cut   atomic.Bool
	n     atomic.Int64
	after func(n int64) // called after each durable append (crash points)
}

func (p *jport) Append(ctx context.Context, e journal.Record) (uint64, error) {
	if p.cut.Load() {
		return 0, errCrashed
	}
	seq, err := p.j.Append(ctx, e)
	if err == nil && p.after != nil {
		p.after(p.n.Add(1))
	}
	return seq, err
}

// rigOpt configures a rig.
type rigOpt struct {
	Dir      string
	Accounts []supervisor.AccountSpec // default drillSpecs()
	Limits   limits.Config            // the desk's limits (accounts override)
	Workers  supervisor.WorkerMode
	Proc     supervisor.ProcConfig
	MaxSize  int // journal size cap (bytes); 0 = none
	// Inject is the journal's fault-injection point (journal.Options.Inject).
	Inject    func(records int) journal.Fault
	Alerts    supervisor.Alerter
	Log       *slog.Logger
	Schedule  supervisor.ScheduleConfig
	Start     time.Time        // the replay clock's start (first trade time)
	NoEngines bool             // engines off: only the chaos trader trades
	Calendar  *limits.Calendar // the news calendar (supervisor.Options.Calendar)
}

// rig is a venue and the desk currently attached to it.
type rig struct {
	opt   rigOpt
	path  string
	v     *venue
	clock *market.ReplayClock
	j     *journal.Journal
	jp    *jport
	p     *port
	d     *supervisor.Desk
	ids   []string
	gen   int // desks built so far (1 + restarts)
	ctx   context.Context
	stop  context.CancelFunc
	kmu   sync.Mutex
	kills []supervisor.KillReport
	// allIn, when set, puts every account in a position and kills the desk
	// once in the round (allin.go).
	allIn *allIn
	// pending holds venue events drained but not applied when the desk
	// crashed; the next desk gets them as a venue's replay.
	pending []broker.Event
}

func newRig(ctx context.Context, o rigOpt) (*rig, error) {
	if o.Accounts == nil {
		o.Accounts = drillSpecs()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	ids := make([]string, len(o.Accounts))
	for i, a := range o.Accounts {
		ids[i] = a.Config.ID
	}
	v, err := newVenue(ids)
	if err != nil {
		return nil, err
	}
	r := &rig{opt: o, path: filepath.Join(o.Dir, "desk.db"), v: v, ids: ids,
		clock: market.NewReplayClock(o.Start)}
	if err := r.boot(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// boot builds a desk on the rig's journal file and venue, recovers it from
// the journal and starts it (Start reconciles with the venue).
func (r *rig) boot(ctx context.Context) error {
	j, err := journal.Open(r.path, journal.Options{Clock: r.clock, Timeout: 5 * time.Second, MaxSize: r.opt.MaxSize,
		Inject: r.opt.Inject, Log: r.opt.Log})
	if err != nil {
		return fmt.Errorf("drill: open journal: %w", err)
	}
	r.j = j
	r.jp = &jport{j: supervisor.JournalOf(j)}
	// A new connection gets the venue's whole account of the session, as
	// Tradovate's user/syncrequest replays every execution report: the desk
	// books each venue id once, so what its journal holds is skipped and
	// what it lost (applied but never journaled, or never applied) is booked.
	r.v.drain()
	all := r.v.eventsSince(0)
	r.p = &port{v: r.v, replay: make(chan broker.Event, len(all))}
	for _, ev := range all {
		r.p.replay <- ev
	}
	close(r.p.replay)
	r.pending = nil
	specs := append([]supervisor.AccountSpec(nil), r.opt.Accounts...)
	if r.opt.NoEngines {
		for i := range specs {
			specs[i].EnginesOff = false
			specs[i].Config.Strategies = nil
		}
	}
	lim := r.opt.Limits
	lim.MaxDataAge = 0
	d, err := supervisor.New(supervisor.Options{Clock: r.clock, Log: r.opt.Log, Journal: r.jp, Broker: r.p, Limits: lim,
		Accounts: specs, Engines: strategies.DefaultConfig(), Schedule: r.opt.Schedule, Workers: r.opt.Workers,
		Proc: r.opt.Proc, Alerts: r.opt.Alerts, Calendar: r.opt.Calendar})
	if err != nil {
		_ = j.Close()
		return fmt.Errorf("drill: new desk: %w", err)
	}
	if _, err := d.Recover(j); err != nil {
		_ = j.Close()
		return fmt.Errorf("drill: recover: %w", err)
	}
	r.ctx, r.stop = context.WithCancel(ctx)
	if err := d.Start(r.ctx); err != nil {
		r.stop()
		_ = j.Close()
		return fmt.Errorf("drill: start: %w", err)
	}
	if err := d.WorkersReady(r.ctx); err != nil {
		r.stop()
		_ = j.Close()
		return fmt.Errorf("drill: workers: %w", err)
	}
	r.d = d
	r.gen++
	return nil
}

// crash abandons the desk where it stands: its journal and venue ports are
// cut, so nothing it does after this point is durable or reaches the
// venue — what a SIGKILL does to a process. Everything appended before is
// on disk: Append returns only after the commit. Safe to call from inside
// the desk's own calls (the crash points).
func (r *rig) crash() {
	r.jp.cut.Store(true)
	r.p.cut.Store(true)
}

// restart finishes a crash — the workers die with their supervisor, the
// journal file's lock is released as the kernel releases a dead process's
// — and boots a new desk on the same journal file and venue.
func (r *rig) restart(ctx context.Context) error {
	r.crash()
	r.stop()
	_ = r.j.Close()
	r.j = nil
	return r.boot(ctx)
}

// close stops the desk cleanly and closes the journal.
func (r *rig) close() {
	if r.stop != nil {
		r.stop()
	}
	if r.j != nil {
		_ = r.j.Close()
	}
	_ = r.v.Close()
}

// crashed reports whether a crash point fired during the last call.
func (r *rig) crashed() bool { return r.jp.cut.Load() }

// step runs one trade through venue and desk as supervisor.Replay does:
// the venue matches first, its events are applied, then the tick path,
// then events and settle checks until quiet. It stops early when the desk
// crashed.
func (r *rig) step(t market.Trade) {
	r.clock.Advance(t.Time)
	r.v.onTrade(t)
	if r.drain() {
		return
	}
	r.d.OnTrades(r.ctx, []market.Trade{t})
	if r.crashed() {
		return
	}
	r.drain()
}

// drain applies venue events (and worker intents) until quiet; true when
// the desk crashed meanwhile.
func (r *rig) drain() bool {
	settled := false
	for i := 0; i < 1000; i++ {
		n := r.workers()
		evs := r.v.drain()
		for _, ev := range evs {
			if r.crashed() {
				break
			}
			r.d.OnBrokerEvent(r.ctx, ev)
		}
		if r.crashed() {
			// The venue replays these to the next connection; the ones the
			// journal already holds are recognised by their venue id.
			r.pending = append(r.pending, evs...)
			return true
		}
		if len(evs) > 0 || n > 0 {
			settled = false
			continue
		}
		if settled {
			return false
		}
		r.d.Settle(r.ctx) // may send a repair: look once more
		settled = true
		if r.crashed() {
			return true
		}
	}
	return r.crashed()
}

// workers applies what the worker processes proposed so far (Processes
// mode): a barrier with a bound, then a non-blocking drain. A worker that
// died or hangs does not hold the drill up: its host restarts it.
func (r *rig) workers() int {
	if r.opt.Workers != supervisor.Processes || r.d == nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(r.ctx, 200*time.Millisecond)
	_ = r.d.SyncWorkers(ctx)
	cancel()
	n := 0
	for {
		select {
		case ev := <-r.d.WorkerEvents():
			r.d.HandleWorkerEvent(r.ctx, ev)
			n++
		default:
			return n
		}
	}
}

// kill flattens the desk (or one account) and keeps the timing.
func (r *rig) kill(acct, trigger string) (supervisor.KillReport, error) {
	rep, err := r.d.FlattenReport(r.ctx, acct, trigger, "drill")
	if err == nil {
		r.kmu.Lock() // the button's kills run on goroutines of their own
		r.kills = append(r.kills, rep)
		r.kmu.Unlock()
	}
	return rep, err
}
