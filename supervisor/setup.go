package supervisor

// setup.go: the Desk and its accounts — building them (New) and bringing
// them up (Start: recovery's loose ends, the schedule, the engines); the
// options are in options.go. The desk's paths live in their own rooms: tick.go, intent.go,
// events.go, coverage.go, session.go, manage.go, kill.go, recover.go and
// reconcile.go; the worker processes are package workerhost.
//
// Locking: there is no desk-wide lock. Each account's books are behind
// its own a.mu (account.go); the tick path's desk-wide state (trade
// count, desk monitor) behind d.tick.mu; the broker-event dedup set behind
// d.ev.mu; the links behind d.links.mu; kill reports behind d.killMu.
// None is held across a journal append or a broker call, and the kill
// path takes none of them before its last liquidate request is out.
// Lock order where two are held: d.tick.mu before any a.mu.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor/wire"
	"github.com/deskguard/deskguard/supervisor/workerhost"
)

// Desk is the supervisor's core.
type Desk struct {
	opt     Options
	log     *slog.Logger
	clock   market.Clock
	wall    market.Clock
	j       Journal
	br      broker.Broker
	alerts  Alerter
	m       *Machine
	events  chan workerhost.WorkerEvent
	idSeq   atomic.Uint64
	session atomic.Value // market.Session

	accts []*account // fixed by New
	byID  map[string]*account

	// The last trade, written by the tick path, read by every path.
	lastPx   atomic.Int64 // market.Price
	lastTime atomic.Int64

	// tick is the tick path's desk-wide state.
	tick struct {
		mu      sync.Mutex
		sched   *Schedule
		deskMon *limits.DeskMonitor
		// deskStarts are the equities the desk's allowance restarted from
		// at an unlock of the desk this session (nil: the session's start
		// equities); snapshots carry them.
		deskStarts map[string]int64
		trades     int64
		minute     int64
		buf        []byte
		eq         []int64     // scratch: equity per trade per account
		fired      []ruleFired // scratch: the rules' events of the batch (rules.go)
	}
	// deskLevel is the desk ladder's rung (a limits.Level), written by the
	// tick path under d.tick.mu and read by the intent path without it.
	deskLevel atomic.Uint32
	// firmReduce is the firm link's reduce-only (SetFirmReduceOnly), read
	// by the intent path beside deskLevel.
	firmReduce atomic.Bool
	// firmReduceAt is when the firm reduce-only went on (desk clock, ns; 0
	// = off or not known), for the lifted alert's "reduce-only for".
	firmReduceAt atomic.Int64
	// markHook, when set (tests), is called in the middle of the tick
	// path's mark loop, with the account's books locked.
	markHook func(account string, trade int)

	ev struct {
		mu   sync.Mutex
		seen map[string]bool // venue event ids already booked
	}
	// books orders the books against snapshots: the event path holds it
	// (read) from an event's journal append until the event is booked, a
	// snapshot (write) from reading the books until its record is
	// appended, so a snapshot holds every record journaled before it
	// (recovery = the latest snapshot + the records after it). Never taken
	// by the tick path.
	books      sync.RWMutex
	evInFlight atomic.Int64                  // broker events being booked (reconciliation waits for them)
	evIdle     atomic.Pointer[chan struct{}] // closed (and replaced) each time evInFlight falls to zero

	links struct {
		mu   sync.Mutex
		down map[string]time.Time
	}

	killMu   sync.Mutex
	kills    []KillReport
	lastKill atomic.Pointer[killRun] // the latest kill, for Status (killrun.go)
	// lateAnswers counts liquidations unanswered past VenueAnswerBound.
	lateAnswers atomic.Int64
	chases      sync.WaitGroup // second liquidations waiting for a request in flight (kill.go)
	chased      atomic.Int64   // second liquidations sent
	later       sync.WaitGroup // a kill's alert and halted check, when they wait for books the tick path holds; the broker's risk limits set again at a session reset

	// deskLocked: the desk-wide drawdown lockout is in force (kill.go
	// raises it with the desk_drawdown kill; manage.go's unlock of the desk
	// and the session reset lift it). The intent path reads it for the gate.
	deskLocked atomic.Bool

	syncs         atomic.Int64 // the broker's user-data snapshots at the last cash check (brokerside.go)
	brokerStarted atomic.Bool  // Start's checks of the broker's side done (brokerside.go)
	riskMu        sync.Mutex   // one setting of the broker's risk limits at a time (brokerside.go)

	floodDropped  atomic.Int64
	recovered     *Recovered
	pendingLadder *deskLadderRestore // recovery's desk ladder, set once the books are let go (recover.go)

	view statusView // what Status shows of the journal (statusview.go)
}

// ErrJournal marks an intent refused because the journal could not make it
// durable; the desk goes degraded.
var ErrJournal = errors.New("supervisor: journal append failed")

// New builds a desk from its options; nothing starts until Start.
func New(opt Options) (*Desk, error) {
	if opt.Clock == nil || opt.Journal == nil || opt.Broker == nil {
		return nil, errors.New("supervisor: Clock, Journal and Broker are required")
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Observer == nil {
		opt.Observer = nopObserver{}
	}
	if opt.Alerts == nil {
		opt.Alerts = nopAlerter{}
	}
	if opt.Wall == nil {
		opt.Wall = market.WallClock{}
	}
	switch opt.ExternalOrders {
	case "":
		opt.ExternalOrders = ExternalAdopt
	case ExternalAdopt, ExternalFault:
	default:
		return nil, fmt.Errorf("supervisor: external orders %q: want %q or %q", opt.ExternalOrders, ExternalAdopt, ExternalFault)
	}
	if opt.BrokerLiqWindow <= 0 {
		opt.BrokerLiqWindow = 5 * time.Second
	}
	if opt.KillJournalWait <= 0 {
		opt.KillJournalWait = 250 * time.Millisecond
	}
	if opt.KillAnswerWait <= 0 {
		opt.KillAnswerWait = time.Second
	}
	if opt.VenueAnswerBound <= 0 {
		opt.VenueAnswerBound = 2 * time.Second
	}
	if len(opt.Accounts) == 0 {
		return nil, errors.New("supervisor: no accounts")
	}
	sched, err := NewSchedule(opt.Schedule)
	if err != nil {
		return nil, err
	}
	deskPct := opt.DeskDrawdownPct
	if deskPct.IsZero() {
		deskPct = opt.Limits.WithDefaults().DrawdownPct
	}
	dm, err := limits.NewDeskMonitor(deskPct)
	if err != nil {
		return nil, fmt.Errorf("supervisor: desk limit: %w", err)
	}
	lim := opt.Limits.WithDefaults()
	warn, reduce := opt.DeskWarnPct, opt.DeskReduceOnlyPct
	if warn == 0 {
		warn = lim.WarnPct
	}
	if reduce == 0 {
		reduce = lim.ReduceOnlyPct
	}
	if err := dm.SetLadder(warn, reduce); err != nil {
		return nil, fmt.Errorf("supervisor: desk ladder: %w", err)
	}
	d := &Desk{opt: opt, log: opt.Log, clock: opt.Clock, wall: opt.Wall, j: opt.Journal, br: opt.Broker, alerts: opt.Alerts,
		byID: map[string]*account{}, events: make(chan workerhost.WorkerEvent, 4096)}
	d.tick.sched, d.tick.deskMon = sched, dm
	idle := make(chan struct{})
	d.evIdle.Store(&idle)
	d.ev.seen = map[string]bool{}
	d.m = NewDeskMachine(d.onTransition, d.onIllegal)
	for _, spec := range opt.Accounts {
		cfg := spec.Config.WithDefaults()
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("supervisor: account %q: %w", cfg.ID, err)
		}
		if _, dup := d.byID[cfg.ID]; dup {
			return nil, fmt.Errorf("supervisor: account %q listed twice", cfg.ID)
		}
		spec.Config = cfg
		a, err := d.newAccount(spec)
		if err != nil {
			return nil, err
		}
		d.accts = append(d.accts, a)
		d.byID[cfg.ID] = a
		dm.SetAccount(cfg.ID, a.ledger.StartCents())
	}
	return d, nil
}

func (d *Desk) newAccount(spec AccountSpec) (*account, error) {
	cfg := spec.Config
	led, err := accounts.NewLedger(cfg)
	if err != nil {
		return nil, fmt.Errorf("supervisor: account %q: %w", cfg.ID, err)
	}
	gcfg := cfg.GateConfig(d.opt.Limits)
	gate, err := limits.NewGate(gcfg)
	if err != nil {
		return nil, fmt.Errorf("supervisor: account %q limits: %w", cfg.ID, err)
	}
	// The account's rules: the ladder and lockout line, the trailing and
	// weekly lines, the scaling tier (from its first balance), its sends and
	// the blackout flattens; the gate reads the same calendar.
	rules, err := limits.NewAccountRules(gcfg, accounts.Cents(cfg.StartEquity), led.StartCents(), d.nowNs(), d.opt.Calendar)
	if err != nil {
		return nil, fmt.Errorf("supervisor: account %q rules: %w", cfg.ID, err)
	}
	a := &account{id: cfg.ID, spec: spec, ledger: led, rules: rules, gate: gate.WithCalendar(d.opt.Calendar), rate: gate.NewRateLimiter(),
		orders: map[string]*order{}, rejects: map[string]int{}, byVenue: map[string]string{}, external: map[string]bool{},
		extGroups: map[string]bool{}, liqByBroker: map[string]time.Time{}, suspects: map[string]suspect{}}
	if rules.Trailing != nil {
		a.trailLine = rules.Trailing.LineCents() // the starting line needs no record
	}
	ch := make(chan struct{})
	a.sent.Store(&ch)
	a.m = NewAccountMachine(cfg.ID, AcctIdle, d.onTransition, d.onIllegal)
	return a, nil
}

// onTransition journals every state change (invariant: every transition is
// journaled). It runs inside Machine.Fire, after the change.
func (d *Desk) onTransition(tr Transition) {
	d.journal(context.Background(), journal.NewTransition(d.nowNs(), journal.Transition{Machine: tr.Machine, ID: tr.ID, From: tr.From,
		To: tr.To, Event: tr.Event, Why: tr.Why}))
	d.log.Info("transition", "machine", tr.Machine, "id", tr.ID, "from", tr.From, "to", tr.To, "event", tr.Event, "why", tr.Why)
	d.tellLights(tr)
}

// lightsChanged tells the desk lights of a change that is no transition
// (the desk's lockout lifted).
func (d *Desk) lightsChanged() { d.tellLights(Transition{}) }

// tellLights tells OnStateChange the desk state and whether anything is
// locked out (the desk, or an account), tr being the transition that has
// just happened (the zero Transition for none).
func (d *Desk) tellLights(tr Transition) {
	if d.opt.OnStateChange != nil && d.m != nil {
		locked := d.deskLocked.Load()
		for _, a := range d.accts {
			if a.m != nil && (a.m.State() == AcctLockedOut || (tr.ID == a.id && tr.To == AcctLockedOut)) {
				locked = true
			}
		}
		st := d.m.State()
		if tr.Machine == "desk" {
			st = tr.To
		}
		d.opt.OnStateChange(st, locked)
	}
}

func (d *Desk) onIllegal(e *TransitionError) {
	d.journal(context.Background(), journal.NewTransition(d.nowNs(), journal.Transition{Refused: e.Error()}))
	d.log.Warn("illegal transition refused", "err", e)
}

func (d *Desk) nowNs() int64 { return d.clock.Now().UnixNano() }

// last returns the last trade's price.
func (d *Desk) last() market.Price { return market.Price(d.lastPx.Load()) }

// journal appends a record the desk does not wait on to decide anything;
// a failure degrades the desk.
func (d *Desk) journal(ctx context.Context, e journal.Record) {
	if _, err := d.j.Append(context.WithoutCancel(ctx), e); err != nil {
		d.journalFailed(err)
	}
}

func (d *Desk) journalFailed(err error) {
	d.log.Error("journal append failed", "err", err)
	if d.m.Can(EvDegrade) {
		_ = d.m.Fire(EvDegrade, "journal: "+err.Error())
	}
	d.alerts.Notify(alert.JournalFailed(d.clock.Now(), err.Error()))
}

// Start recovers (see recover.go), brings the desk to running and starts
// the engines. In Processes mode it starts one worker per account.
func (d *Desk) Start(ctx context.Context) error {
	if err := d.m.Fire(EvRecover, "start"); err != nil {
		return err
	}
	now := d.clock.Now()
	d.session.Store(market.SessionOf(now))
	d.tick.mu.Lock()
	d.tick.sched.Start(now)
	d.tick.mu.Unlock()
	d.journal(ctx, journal.NewSessionReset(now.UnixNano(), journal.SessionReset{Session: market.SessionOf(now).String(),
		Why: "desk start", Accounts: d.startEquities()}))
	if base := uint64(now.UnixNano()/1e6) % 1e9 * 1000; base > d.idSeq.Load() {
		d.idSeq.Store(base) // ids unique across restarts of the same journal
	}
	// The broker's side (brokerside.go): the venue's orders rebound by its
	// ids, carried positions booked.
	differs := d.startBrokerSide(ctx)
	if d.recovered != nil && d.recovered.Records > 0 || differs {
		// The venue replays its reports to a new connection: book the ones
		// the journal lacks (fills while the desk was down) before comparing.
		d.drainPending(ctx, 300*time.Millisecond)
		if _, err := d.Reconcile(ctx); err != nil {
			d.log.Error("reconcile", "err", err)
			d.alerts.Notify(alert.ReconcileMismatch(d.clock.Now(), "", alert.ReconcileFacts{Action: "reconciliation failed: " + err.Error()}))
		}
		d.resumeKills(ctx)
	}
	d.finishBrokerSide(ctx)
	if d.m.State() == DeskRecovering {
		if err := d.m.Fire(EvReady, "recovered"); err != nil {
			return err
		}
	}
	for _, a := range d.accts {
		switch d.opt.Workers {
		case InProcess:
			h, err := workerhost.NewRunnerHost(d.hello(a, 0))
			if err != nil {
				return fmt.Errorf("supervisor: account %s engines: %w", a.id, err)
			}
			a.eng.Store(&engines{host: h})
			a.setWorker("in-process")
		case Processes:
			a := a
			p := workerhost.NewProcHost(a.id, d.opt.Proc, func(r int) wire.HelloMsg { return d.hello(a, r) },
				a.syncFrames, d.events, d.log, d.wall)
			p.SetHalted(true) // until the account trades (below)
			a.eng.Store(&engines{proc: p})
			a.setWorker("starting")
			go p.Run(ctx)
		}
		if !a.spec.EnginesOff && a.m.State() == AcctIdle {
			_ = a.m.Fire(EvStart, "desk start")
		}
		if p := a.proc(); p != nil {
			p.SetHalted(a.stopsRisk() || a.m.State() != AcctTrading)
		}
	}
	return nil
}

func (d *Desk) startEquities() map[string]string {
	out := map[string]string{}
	for _, a := range d.accts {
		a.mu.Lock()
		out[a.id] = a.ledger.StartEquity().StringFixed(2)
		a.mu.Unlock()
	}
	return out
}

// drainPending applies the broker events already waiting, until none has
// come for quiet (asynchronous venues only).
func (d *Desk) drainPending(ctx context.Context, quiet time.Duration) {
	evs := d.br.Events()
	if evs == nil {
		return
	}
	for {
		select {
		case ev, ok := <-evs:
			if !ok {
				return
			}
			d.OnBrokerEvent(ctx, ev)
		case <-d.wall.After(quiet):
			return
		}
	}
}
