package supervisor

// desk.go: the Desk — accounts, their ledgers, gates, monitors and working
// orders, the desk and account machines, and the three paths of DESIGN.md:
// the tick path (OnTrades), the intent path (HandleIntent → gate → journal
// → broker) and the broker-event path (OnBrokerEvent → journal → ledger →
// machines). The kill path is in kill.go.
//
// Locking: d.mu guards everything below it and is held only for in-memory
// work, never across a journal fsync or a broker call. Each account's
// sendMu is read-held by an intent from its gate check to its broker call;
// the kill path write-locks it after raising the halt flag, so no order that
// adds risk can reach the venue after the liquidation it serves.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/alerts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/strategies"
	"github.com/deskguard/deskguard/supervisor/wire"
)

// WorkerMode says where the engines run.
type WorkerMode int

const (
	// InProcess runs every account's engines in the supervisor, called
	// synchronously on the tick path: replays and backtests.
	InProcess WorkerMode = iota
	// Processes runs each account's engines in a `deskguard worker` child.
	Processes
)

// AccountSpec is one sub-account as the desk runs it.
type AccountSpec struct {
	Config     accounts.Config
	DayTrading bool // flattened by the 15:55 schedule
	EnginesOff bool // start with engines stopped
}

// Options configures a Desk.
type Options struct {
	Clock           market.Clock
	Log             *slog.Logger
	Journal         Journal
	Broker          broker.Broker
	Limits          limits.Config   // desk-wide defaults; accounts may override
	DeskDrawdownPct decimal.Decimal // desk aggregate lockout; zero = the account default
	Accounts        []AccountSpec
	Engines         strategies.Config
	Schedule        ScheduleConfig
	Workers         WorkerMode
	Proc            ProcConfig
	Alerts          Alerter
	ManualUnlock    bool // lockouts survive the session reset until the risk manager unlocks
	// CoverageGrace is how long a stop-coverage gap may last before it is
	// repaired (live venues arm a bracket just after its entry fills);
	// 0 = repair at once (synchronous replay).
	CoverageGrace time.Duration
	// PressButton, when set, presses the simulated panic button (Press).
	PressButton func() error
	// LinkStatus reports the health of outside links for Status (optional).
	LinkStatus func() (venue, data, slack, button string)
	// OnStateChange is told the desk state and whether any account is
	// locked out after every transition (the desk lights). Must not block.
	OnStateChange func(deskState string, anyLockedOut bool)
	// LightsStatus reports the desk lights for Status (optional).
	LightsStatus func() (green, red, blinking, buzzer bool)
}

// order is the desk's view of one order at the venue.
type order struct {
	id       string
	strategy string
	role     limits.Role
	group    string
	side     market.Side
	typ      market.OrderType
	qty      int64 // working (remaining) quantity
	filled   int64
	price    market.Price // limit, or a stop's trigger
	stop     market.Price // entries: their bracket's stop
	target   market.Price
	status   broker.Status
	expireAt int64 // entries: cancel when unfilled at this market time
}

func (o *order) done() bool { return o.status.Done() }

type account struct {
	id     string
	spec   AccountSpec
	m      *Machine
	ledger *accounts.Ledger
	mon    *limits.DrawdownMonitor
	gate   *limits.Gate
	rate   *limits.RateLimiter
	snap   limits.Snapshot
	work   []limits.WorkingOrder
	orders map[string]*order
	host   EngineHost // in-process engines
	proc   *ProcHost  // worker process
	halted atomic.Bool
	// liquidating is set while a liquidation is on its way to flat: the
	// liquidation is the stop-coverage repair, and a stop placed beside it
	// would outlive the position it was meant to cover.
	liquidating atomic.Bool
	sendMu      sync.RWMutex
	lastStop    market.Price
	dirty       bool // a fill since the last stop-coverage check
	gapSince    int64
	gapWall     time.Time
	expiring    []*order // entries with an expiry, scanned on the tick path
	// earlier sessions of this run (replay summaries span sessions)
	pastTrips  []accounts.RoundTrip
	pastFees   int64
	firstStart int64
	worker     string
	signal     string
	rejects    map[string]int
	nOrders    int
	nFills     int
	curve      []curvePoint
	repairs    int
	repairMax  time.Duration
}

type curvePoint struct {
	t     int64
	cents int64
}

// Desk is the supervisor's core.
type Desk struct {
	opt     Options
	log     *slog.Logger
	clock   market.Clock
	j       Journal
	br      broker.Broker
	alerts  Alerter
	m       *Machine
	sched   *Schedule
	events  chan WorkerEvent
	killMu  sync.Mutex
	idSeq   atomic.Uint64
	session atomic.Value // market.Session

	mu           sync.Mutex
	accts        []*account
	byID         map[string]*account
	deskMon      *limits.DeskMonitor
	last         market.Price
	lastTime     int64
	trades       int64
	minute       int64
	kills        []KillReport
	tickBuf      []byte
	floodDropped atomic.Int64
	recovered    *Recovered
	seenVenue    map[string]bool // venue event ids already booked
	linksDown    map[string]time.Time
	evInFlight   atomic.Int64 // OnBrokerEvent calls under way (reconciliation waits for them)
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
	if opt.Alerts == nil {
		opt.Alerts = nopAlerter{}
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
	d := &Desk{opt: opt, log: opt.Log, clock: opt.Clock, j: opt.Journal, br: opt.Broker, alerts: opt.Alerts,
		sched: sched, byID: map[string]*account{}, deskMon: dm, events: make(chan WorkerEvent, 4096), seenVenue: map[string]bool{}}
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
	mon, err := limits.NewDrawdownMonitor(led.StartCents(), gate.Config().DrawdownPct)
	if err != nil {
		return nil, fmt.Errorf("supervisor: account %q drawdown: %w", cfg.ID, err)
	}
	a := &account{id: cfg.ID, spec: spec, ledger: led, mon: mon, gate: gate, rate: gate.NewRateLimiter(),
		orders: map[string]*order{}, rejects: map[string]int{}}
	a.m = NewAccountMachine(cfg.ID, AcctIdle, d.onTransition, d.onIllegal)
	return a, nil
}

// onTransition journals every state change (invariant: every transition is
// journaled). It runs inside Machine.Fire, after the change.
func (d *Desk) onTransition(tr Transition) {
	d.journal(context.Background(), Entry{Kind: "transition", Account: accountOf(tr), Market: d.nowNs(), Body: tr})
	d.log.Info("transition", "machine", tr.Machine, "id", tr.ID, "from", tr.From, "to", tr.To, "event", tr.Event, "why", tr.Why)
	if d.opt.OnStateChange != nil && d.m != nil {
		locked := false
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
	d.journal(context.Background(), Entry{Kind: "transition", Account: "", Market: d.nowNs(),
		Body: map[string]string{"refused": e.Error()}})
	d.log.Warn("illegal transition refused", "err", e)
}

func accountOf(tr Transition) string {
	if tr.Machine == "account" {
		return tr.ID
	}
	return ""
}

func (d *Desk) nowNs() int64 { return d.clock.Now().UnixNano() }

// journal appends a record the desk does not wait on to decide anything;
// a failure degrades the desk.
func (d *Desk) journal(ctx context.Context, e Entry) {
	if _, err := d.j.Append(context.WithoutCancel(ctx), e); err != nil {
		d.journalFailed(err)
	}
}

func (d *Desk) journalFailed(err error) {
	d.log.Error("journal append failed", "err", err)
	if d.m.Can(EvDegrade) {
		_ = d.m.Fire(EvDegrade, "journal: "+err.Error())
	}
	d.alerts.Notify(alerts.JournalFailed(d.clock.Now(), err.Error()))
}

// Start recovers (see recover.go), brings the desk to running and starts
// the engines. In Processes mode it starts one worker per account.
func (d *Desk) Start(ctx context.Context) error {
	if err := d.m.Fire(EvRecover, "start"); err != nil {
		return err
	}
	now := d.clock.Now()
	d.session.Store(market.SessionOf(now))
	d.sched.Start(now)
	d.journal(ctx, Entry{Kind: "session_reset", Market: now.UnixNano(), Body: map[string]any{
		"session": market.SessionOf(now).String(), "why": "desk start", "accounts": d.startEquities()}})
	if base := uint64(now.UnixNano()/1e6) % 1e9 * 1000; base > d.idSeq.Load() {
		d.idSeq.Store(base) // ids unique across restarts of the same journal
	}
	if d.recovered != nil && d.recovered.Records > 0 {
		// The venue replays its reports to a new connection: book the ones
		// the journal lacks (fills while the desk was down) before comparing.
		d.drainPending(ctx, 300*time.Millisecond)
		if _, err := d.Reconcile(ctx); err != nil {
			d.log.Error("reconcile", "err", err)
			d.alerts.Notify(alerts.ReconcileMismatch(d.clock.Now(), "", alerts.ReconcileFacts{Action: "reconciliation failed: " + err.Error()}))
		}
		switch d.recovered.DeskState {
		case DeskHalting, DeskHalted:
			// A kill journaled before the restart stays in force until re-armed.
			_ = d.m.Fire(EvHalt, "recovered: kill in force")
			for _, a := range d.accts {
				if a.m.State() == AcctHalting {
					d.liquidateAccount(ctx, a, "recovered_kill", "deskguard")
				}
				d.checkHalted(a)
			}
		}
	}
	if d.m.State() == DeskRecovering {
		if err := d.m.Fire(EvReady, "recovered"); err != nil {
			return err
		}
	}
	for _, a := range d.accts {
		switch d.opt.Workers {
		case InProcess:
			h, err := NewRunnerHost(d.hello(a, 0))
			if err != nil {
				return fmt.Errorf("supervisor: account %s engines: %w", a.id, err)
			}
			d.mu.Lock()
			a.host = h
			a.worker = "in-process"
			d.mu.Unlock()
		case Processes:
			a := a
			p := NewProcHost(a.id, d.opt.Proc, func(r int) wire.HelloMsg { return d.hello(a, r) },
				func() []outFrame { return d.syncFrames(a) }, d.events, d.log, nil)
			d.mu.Lock()
			a.proc = p
			a.worker = "starting"
			d.mu.Unlock()
			go p.Run(ctx)
		}
		if !a.spec.EnginesOff && a.m.State() == AcctIdle {
			_ = a.m.Fire(EvStart, "desk start")
		}
	}
	return nil
}

func (d *Desk) startEquities() map[string]string {
	out := map[string]string{}
	for _, a := range d.accts {
		out[a.id] = a.ledger.StartEquity().StringFixed(2)
	}
	return out
}

func (d *Desk) hello(a *account, restart int) wire.HelloMsg {
	cfg, _ := jsonMarshal(d.opt.Engines)
	return wire.HelloMsg{Account: a.id, Strategies: a.spec.Config.Strategies, Config: cfg, Restart: restart}
}

// syncFrames re-sends an account's state to a restarted worker.
func (d *Desk) syncFrames(a *account) []outFrame {
	d.mu.Lock()
	pos := wire.PositionMsg{Qty: a.ledger.Position(), AvgPrice: a.ledger.AvgEntryTick()}
	halted := a.halted.Load() || a.m.State() != AcctTrading
	d.mu.Unlock()
	p, _ := jsonMarshal(pos)
	out := []outFrame{{wire.Position, p}}
	if halted {
		out = append(out, outFrame{wire.Halt, []byte("{}")})
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
		case <-time.After(quiet):
			return
		}
	}
}

// SyncWorkers is a barrier over every worker process (ProcHost.Sync): when
// it returns nil, every intent the workers proposed for the frames sent so
// far is waiting in WorkerEvents. In-process it does nothing.
func (d *Desk) SyncWorkers(ctx context.Context) error {
	type pending struct {
		a      *account
		n, gen uint64
	}
	var ps []pending
	for _, a := range d.accts {
		if a.proc == nil {
			continue
		}
		if sent := a.proc.sent.Load(); sent == a.proc.synced {
			continue // nothing sent since the last barrier
		} else {
			a.proc.synced = sent
		}
		n, gen, err := a.proc.syncSend()
		if err != nil {
			return fmt.Errorf("supervisor: sync %s: %w", a.id, err)
		}
		ps = append(ps, pending{a, n, gen})
	}
	for _, p := range ps {
		if err := p.a.proc.syncWait(ctx, p.n, p.gen); err != nil {
			return fmt.Errorf("supervisor: sync %s: %w", p.a.id, err)
		}
	}
	return nil
}

// WorkersReady waits until every worker process is running.
func (d *Desk) WorkersReady(ctx context.Context) error {
	for _, a := range d.accts {
		if a.proc == nil {
			continue
		}
		if err := a.proc.Ready(ctx); err != nil {
			return fmt.Errorf("supervisor: worker %s: %w", a.id, err)
		}
	}
	return nil
}

// WorkerEvents is the stream a live driver must drain (Processes mode).
func (d *Desk) WorkerEvents() <-chan WorkerEvent { return d.events }

// HandleWorkerEvent applies one event from a worker process.
func (d *Desk) HandleWorkerEvent(ctx context.Context, ev WorkerEvent) {
	a := d.byID[ev.Account]
	if a == nil {
		return
	}
	switch ev.Kind {
	case WorkerIntent:
		d.HandleIntent(ctx, ev.Intent)
	case WorkerStarted:
		d.mu.Lock()
		a.worker = "running"
		d.mu.Unlock()
		if ev.Restart > 0 {
			d.alerts.Notify(alerts.WorkerRestart(d.clock.Now(), a.id, ev.Restart, 0))
		}
	case WorkerCrashed:
		d.mu.Lock()
		a.worker = "restarting"
		d.mu.Unlock()
		d.journal(ctx, Entry{Kind: "worker", Account: a.id, Market: d.nowNs(), Body: map[string]any{"event": "crashed", "err": errString(ev.Err), "restart": ev.Restart}})
		d.alerts.Notify(alerts.WorkerCrash(d.clock.Now(), a.id, errString(ev.Err)))
	case WorkerFaulted:
		d.mu.Lock()
		a.worker = "faulted"
		d.mu.Unlock()
		d.journal(ctx, Entry{Kind: "worker", Account: a.id, Market: d.nowNs(), Body: map[string]any{"event": "faulted", "err": errString(ev.Err)}})
		d.faultAccount(ctx, a, "worker crash loop: "+errString(ev.Err))
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// faultAccount moves an account to faulted and liquidates it.
func (d *Desk) faultAccount(ctx context.Context, a *account, why string) {
	a.halted.Store(true)
	_ = a.m.Fire(EvFault, why)
	d.alerts.Notify(alerts.WorkerFault(d.clock.Now(), a.id, why))
	d.liquidateAccount(ctx, a, "fault", "deskguard")
}

// OnTrades is the tick path: marks, drawdown checks, expiries and the
// schedule, then fan-out to the engines. It never blocks on a worker.
func (d *Desk) OnTrades(ctx context.Context, ts []market.Trade) {
	if len(ts) == 0 {
		return
	}
	type breach struct {
		a *account
		b limits.Breach
	}
	var breaches []breach
	var deskBreach *limits.Breach
	var expired []*order
	var expAcct []*account
	d.mu.Lock()
	for _, t := range ts {
		d.last, d.lastTime = t.Price, t.Time
		d.trades++
		for _, a := range d.accts {
			a.ledger.MarkAt(t.Time, t.Price)
			eq := a.ledger.EquityCents()
			if b, ok := a.mon.Mark(t.Time, eq); ok {
				breaches = append(breaches, breach{a, b})
			}
			if b, ok := d.deskMon.Mark(t.Time, a.id, eq); ok {
				bb := b
				deskBreach = &bb
			}
		}
	}
	last := ts[len(ts)-1]
	if m := last.Time / int64(time.Minute); m != d.minute {
		d.minute = m
		for _, a := range d.accts {
			a.curve = append(a.curve, curvePoint{last.Time, a.ledger.EquityCents()})
		}
	}
	for _, a := range d.accts {
		if len(a.expiring) == 0 {
			continue
		}
		keep := a.expiring[:0]
		for _, o := range a.expiring {
			switch {
			case o.done() || o.filled > 0 || o.expireAt == 0:
			case o.status == 0:
				// Still on its way to the venue (its intent is being made
				// durable): a cancel now would overtake it and find nothing
				// to cancel. Expire it once the venue has acknowledged it.
				keep = append(keep, o)
			case last.Time >= o.expireAt:
				o.expireAt = 0
				expired = append(expired, o)
				expAcct = append(expAcct, a)
			default:
				keep = append(keep, o)
			}
		}
		a.expiring = keep
	}
	d.mu.Unlock()

	for _, br := range breaches {
		d.lockout(ctx, br.a, br.b)
	}
	if deskBreach != nil {
		d.log.Warn("desk drawdown limit breached", "breach", deskBreach.String())
		_ = d.Flatten(ctx, "", "desk_drawdown", "deskguard")
	}
	for i, o := range expired {
		d.cancelExpired(ctx, expAcct[i], o)
	}
	for _, due := range d.sched.Advance(time.Unix(0, last.Time)) {
		d.runJob(ctx, due)
	}
	d.checkCoverage(ctx)
	d.fanOut(ctx, ts)
}

func (d *Desk) fanOut(ctx context.Context, ts []market.Trade) {
	switch d.opt.Workers {
	case InProcess:
		for _, t := range ts {
			for _, a := range d.accts {
				if a.host == nil {
					continue
				}
				for _, in := range a.host.OnTrade(t) {
					d.HandleIntent(ctx, in)
				}
			}
		}
	case Processes:
		d.tickBuf = wire.AppendTicks(d.tickBuf[:0], ts)
		p := append([]byte(nil), d.tickBuf...) // shared read-only by every worker queue
		for _, a := range d.accts {
			if a.proc != nil {
				a.proc.Send(wire.Ticks, p)
			}
		}
	}
}

// cancelExpired cancels an entry whose time ran out (the engine asked for it
// with ExpireNs); the cancel is journaled as the desk's own intent.
func (d *Desk) cancelExpired(ctx context.Context, a *account, o *order) {
	in := intent.Intent{Kind: intent.Cancel, Account: a.id, Strategy: o.strategy, Time: d.nowNs(), Ref: o.id,
		Reason: "desk: entry expired unfilled"}
	d.HandleIntent(ctx, in)
}

// newID returns a fresh client order id.
func (d *Desk) newID(a *account) string {
	return fmt.Sprintf("%s.%d", a.id, d.idSeq.Add(1))
}

// IntentResult is what became of an intent.
type IntentResult struct {
	ID       string
	Decision limits.Decision
	Sent     bool
	Err      error
}

// HandleIntent is the intent path: gate → journal (durable) → broker.
// Rejected intents are journaled with their reason and returned to the
// engine; nothing rejected reaches the broker.
func (d *Desk) HandleIntent(ctx context.Context, in intent.Intent) IntentResult {
	ctx = context.WithoutCancel(ctx)
	a := d.byID[in.Account]
	if a == nil {
		res := IntentResult{Decision: limits.Decision{Reason: limits.Invalid, Detail: "unknown account"}}
		d.journal(ctx, Entry{Kind: "intent", Account: in.Account, Market: d.nowNs(), Body: intentBody{in, res.Decision}})
		return res
	}
	a.sendMu.RLock()
	defer a.sendMu.RUnlock()

	d.mu.Lock()
	if in.ID == "" {
		in.ID = d.newID(a)
	}
	now := d.nowNs()
	if in.Time == 0 {
		in.Time = now
	}
	if in.Kind == intent.Exit && in.Qty == 0 {
		in.Qty = abs64(a.ledger.Position())
	}
	a.ledger.FillSnapshot(&a.snap, a.mon)
	a.snap.NowNs = now
	a.snap.Orders = a.workingOrders()
	st := a.m.State()
	a.snap.LockedOut = st == AcctLockedOut || a.mon.Breached()
	a.snap.Halted = a.halted.Load() || st != AcctTrading
	ds := d.m.State()
	a.snap.DeskHalted = ds != DeskRunning
	a.snap.Rate = a.rate
	dec := a.gate.Check(&a.snap, &in)
	addsRisk := in.Kind == intent.Enter || in.Kind == intent.Add
	if dec.Allowed {
		if addsRisk {
			a.rate.Record(now)
		}
		d.reserve(a, &in)
		a.nOrders++
		if in.Reason != "" {
			a.signal = in.Reason
		}
	} else {
		a.rejects[string(dec.Reason)]++
	}
	d.mu.Unlock()

	res := IntentResult{ID: in.ID, Decision: dec}
	if _, err := d.j.Append(ctx, Entry{Kind: "intent", Account: a.id, ClientID: in.ID, Market: in.Time, Body: intentBody{in, dec}}); err != nil {
		// Not durable: not sent (invariant 7).
		d.mu.Lock()
		d.unreserve(a, &in)
		d.mu.Unlock()
		d.journalFailed(err)
		res.Err = fmt.Errorf("%w: %v", ErrJournal, err)
		d.tellRejected(ctx, a, in, "journal_failed")
		return res
	}
	if !dec.Allowed {
		d.tellRejected(ctx, a, in, string(dec.Reason))
		return res
	}
	if addsRisk && a.halted.Load() {
		// A kill or lockout landed while this intent was being made
		// durable: it adds risk, so it is withdrawn, not sent (the
		// liquidation would only have to cancel it).
		d.mu.Lock()
		d.unreserve(a, &in)
		a.rejects[string(limits.Halted)]++
		d.mu.Unlock()
		d.journal(ctx, Entry{Kind: "broker_error", Account: a.id, ClientID: in.ID, Market: d.nowNs(),
			Body: map[string]string{"op": "withdrawn", "err": "halted before it was sent"}})
		d.tellRejected(ctx, a, in, string(limits.Halted))
		res.Decision = limits.Decision{Reason: limits.Halted, Detail: "halted before it was sent"}
		return res
	}
	err := d.send(ctx, a, &in)
	if err != nil {
		d.log.Warn("broker refused intent", "account", a.id, "id", in.ID, "err", err)
		d.journal(ctx, Entry{Kind: "broker_error", Account: a.id, ClientID: in.ID, Market: d.nowNs(), Body: map[string]string{"err": err.Error()}})
		d.mu.Lock()
		if o := a.orders[in.ID]; o != nil && o.status == 0 {
			o.status = broker.Rejected
		}
		d.mu.Unlock()
		if addsRisk {
			d.tellRejected(ctx, a, in, "broker: "+err.Error())
		}
		res.Err = err
		return res
	}
	res.Sent = true
	return res
}

type intentBody struct {
	Intent   intent.Intent   `json:"intent"`
	Decision limits.Decision `json:"decision"`
}

// reserve records the orders an accepted intent will create, so the next
// gate check sees them working.
func (d *Desk) reserve(a *account, in *intent.Intent) {
	switch in.Kind {
	case intent.Enter, intent.Add:
		e := &order{id: in.ID, strategy: in.Strategy, role: limits.RoleEntry, group: in.ID, side: in.Side, typ: in.EntryType,
			qty: in.Qty, price: entryPrice(in), stop: in.Stop, target: in.Target}
		if in.ExpireNs > 0 {
			e.expireAt = in.Time + in.ExpireNs
			a.expiring = append(a.expiring, e)
		}
		a.orders[e.id] = e
		stopID, targetID := LegIDs(in.ID)
		// Legs are armed by the entry's fills: zero working quantity until then.
		a.orders[stopID] = &order{id: stopID, strategy: in.Strategy, role: limits.RoleStop, group: in.ID, side: in.Side.Opposite(),
			typ: market.StopOrder, price: in.Stop, status: broker.Pending}
		a.orders[targetID] = &order{id: targetID, strategy: in.Strategy, role: limits.RoleTarget, group: in.ID, side: in.Side.Opposite(),
			typ: market.LimitOrder, price: in.Target, status: broker.Pending}
	}
}

func (d *Desk) unreserve(a *account, in *intent.Intent) {
	if in.Kind == intent.Enter || in.Kind == intent.Add {
		s, t := LegIDs(in.ID)
		delete(a.orders, in.ID)
		delete(a.orders, s)
		delete(a.orders, t)
	}
}

func entryPrice(in *intent.Intent) market.Price {
	if in.EntryType == market.StopLimitOrder && in.Limit != 0 {
		return in.Limit
	}
	return in.Entry
}

// LegIDs returns the client ids of a bracket's stop and target legs.
func LegIDs(entryID string) (stop, target string) { return entryID + ".stop", entryID + ".target" }

// send turns an accepted intent into a broker call.
func (d *Desk) send(ctx context.Context, a *account, in *intent.Intent) error {
	switch in.Kind {
	case intent.Enter, intent.Add:
		stopID, targetID := LegIDs(in.ID)
		e := broker.Order{ClientID: in.ID, Account: a.id, Side: in.Side, Qty: in.Qty, Type: in.EntryType, TIF: broker.Day}
		switch in.EntryType {
		case market.LimitOrder:
			e.Price = in.Entry
		case market.StopOrder:
			e.StopPrice = in.Entry
		case market.StopLimitOrder:
			e.StopPrice, e.Price = in.Entry, in.Limit
		}
		b := broker.Bracket{
			Entry: e,
			// Protective stops are stop-market and GTC (invariants 2 and 9).
			Stop:   broker.Order{ClientID: stopID, Account: a.id, Side: in.Side.Opposite(), Qty: in.Qty, Type: market.StopOrder, StopPrice: in.Stop, TIF: broker.GTC},
			Target: broker.Order{ClientID: targetID, Account: a.id, Side: in.Side.Opposite(), Qty: in.Qty, Type: market.LimitOrder, Price: in.Target, TIF: broker.GTC},
		}
		return d.br.SubmitBracket(ctx, b)
	case intent.MoveStop:
		if err := d.br.Modify(ctx, a.id, in.Ref, 0, in.Stop); err != nil {
			return err
		}
		d.mu.Lock()
		if o := a.orders[in.Ref]; o != nil {
			o.price = in.Stop
			if g := a.orders[o.group]; g != nil {
				g.stop = in.Stop
			}
		}
		d.mu.Unlock()
		return nil
	case intent.Cancel:
		return d.br.Cancel(ctx, a.id, in.Ref)
	case intent.Exit:
		// Exit closes the account's position at the venue as one operation
		// (cancel working orders, flatten): it always reduces risk. Until
		// the account is flat the liquidation is its stop cover, as a kill's
		// is: a repair stop placed beside a partly filled liquidation would
		// outlive the position and open a new one when it fills.
		d.mu.Lock()
		open := a.ledger.Position() != 0
		d.mu.Unlock()
		if open {
			a.liquidating.Store(true) // cleared once flat (checkHalted)
		}
		if err := d.br.Liquidate(ctx, a.id); err != nil {
			a.liquidating.Store(false) // coverage repair takes over
			return err
		}
		return nil
	}
	return fmt.Errorf("supervisor: intent kind %s cannot be sent", in.Kind)
}

// tellRejected returns a refusal to the engine that proposed it.
func (d *Desk) tellRejected(ctx context.Context, a *account, in intent.Intent, reason string) {
	if in.Kind != intent.Enter && in.Kind != intent.Add {
		return
	}
	d.notifyDone(ctx, a, wire.OrderDoneMsg{ClientID: in.ID, Strategy: in.Strategy, Filled: false, Reason: reason})
}

func (d *Desk) notifyDone(ctx context.Context, a *account, m wire.OrderDoneMsg) {
	host, proc := d.hostsOf(a)
	switch {
	case host != nil:
		for _, in := range host.OnOrderDone(m) {
			d.HandleIntent(ctx, in)
		}
	case proc != nil:
		p, _ := jsonMarshal(m)
		proc.Send(wire.OrderDone, p)
	}
}

// hostsOf reads an account's engine host (set by Start) under the lock.
func (d *Desk) hostsOf(a *account) (EngineHost, *ProcHost) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return a.host, a.proc
}

func (d *Desk) notifyFill(ctx context.Context, a *account, m wire.FillMsg) {
	host, proc := d.hostsOf(a)
	switch {
	case host != nil:
		for _, in := range host.OnFill(m) {
			d.HandleIntent(ctx, in)
		}
	case proc != nil:
		p, _ := jsonMarshal(m)
		proc.Send(wire.Fill, p)
	}
}

// workingOrders returns the account's live orders for the gate, reusing a
// slice.
func (a *account) workingOrders() []limits.WorkingOrder {
	a.work = a.work[:0]
	ids := make([]string, 0, len(a.orders))
	for id, o := range a.orders {
		if !o.done() && (o.qty > 0 || o.status == 0) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids) // deterministic order for replay
	for _, id := range ids {
		o := a.orders[id]
		a.work = append(a.work, limits.WorkingOrder{ClientID: o.id, Role: o.role, Side: o.side, Qty: o.qty, Type: o.typ, Price: o.price})
	}
	return a.work
}

// OnBrokerEvent is the broker-event path: journal → orders and ledger →
// engines → machines.
func (d *Desk) OnBrokerEvent(ctx context.Context, ev broker.Event) {
	d.evInFlight.Add(1)
	defer d.evInFlight.Add(-1)
	ctx = context.WithoutCancel(ctx)
	if ev.VenueID != "" {
		// A venue replays its reports to a new connection: an event the
		// journal already holds is not booked twice.
		d.mu.Lock()
		seen := d.seenVenue[ev.VenueID]
		if !seen {
			d.seenVenue[ev.VenueID] = true
		}
		d.mu.Unlock()
		if seen {
			return
		}
	}
	d.journal(ctx, Entry{Kind: "broker_event", Account: ev.Account, ClientID: ev.ClientID, Market: ev.Time, Body: ev})
	d.applyBrokerEvent(ctx, ev)
}

// OnBrokerEvents is OnBrokerEvent for events that arrived together: with a
// BatchJournal they are made durable by one commit, in order, before any of
// them is applied; otherwise they go one by one.
func (d *Desk) OnBrokerEvents(ctx context.Context, evs []broker.Event) {
	bj, ok := d.j.(BatchJournal)
	if !ok || len(evs) == 1 {
		for _, ev := range evs {
			d.OnBrokerEvent(ctx, ev)
		}
		return
	}
	d.evInFlight.Add(1)
	defer d.evInFlight.Add(-1)
	ctx = context.WithoutCancel(ctx)
	fresh := make([]broker.Event, 0, len(evs))
	d.mu.Lock()
	for _, ev := range evs {
		if ev.VenueID != "" {
			if d.seenVenue[ev.VenueID] {
				continue
			}
			d.seenVenue[ev.VenueID] = true
		}
		fresh = append(fresh, ev)
	}
	d.mu.Unlock()
	if len(fresh) == 0 {
		return
	}
	es := make([]Entry, len(fresh))
	for i, ev := range fresh {
		es[i] = Entry{Kind: "broker_event", Account: ev.Account, ClientID: ev.ClientID, Market: ev.Time, Body: ev}
	}
	if err := bj.AppendBatch(ctx, es); err != nil {
		d.journalFailed(err)
	}
	for _, ev := range fresh {
		d.applyBrokerEvent(ctx, ev)
	}
}

// applyBrokerEvent is the part of the broker-event path after the journal:
// orders and ledger → engines → machines.
func (d *Desk) applyBrokerEvent(ctx context.Context, ev broker.Event) {
	a := d.byID[ev.Account]
	if a == nil {
		d.log.Warn("event for unknown account", "account", ev.Account, "id", ev.ClientID)
		return
	}
	d.mu.Lock()
	o, fill, done := d.applyEvent(a, ev)
	d.mu.Unlock()
	if fill != nil && o.strategy != "desk" {
		d.notifyFill(ctx, a, *fill)
	}
	if done != nil && o.strategy != "desk" {
		d.notifyDone(ctx, a, *done)
	}
	d.checkHalted(a)
}

// applyEvent folds one venue event into the account's orders and ledger
// (d.mu held). It is shared by the live path and recovery. It returns the
// order and what the owning engine must be told.
func (d *Desk) applyEvent(a *account, ev broker.Event) (o *order, fill *wire.FillMsg, done *wire.OrderDoneMsg) {
	o = a.orders[ev.ClientID]
	if o == nil {
		// An order the desk did not place itself (a liquidation's market
		// order, a repair): track it so fills land in the ledger.
		role := limits.RoleOther
		if ev.Role == broker.StopLeg {
			role = limits.RoleStop
		}
		o = &order{id: ev.ClientID, strategy: "desk", role: role, group: ev.GroupID, side: ev.Side, typ: market.MarketOrder}
		a.orders[ev.ClientID] = o
	}
	switch ev.Kind {
	case broker.Accepted, broker.Modified:
		if o.status == 0 || o.status == broker.Pending || o.status == broker.Working {
			o.status = broker.Working
		}
		if ev.LeavesQty > 0 || ev.Kind == broker.Accepted {
			o.qty = ev.LeavesQty
		}
	case broker.TriggeredEv:
		o.status = broker.Triggered
	case broker.PartiallyFilled, broker.FilledEv:
		o.filled += ev.FillQty
		o.qty = ev.LeavesQty
		if ev.Kind == broker.FilledEv {
			o.status = broker.Filled
			o.qty = 0
		} else if o.status == 0 || o.status == broker.Pending {
			o.status = broker.Working
		}
		if err := a.ledger.ApplyFill(accounts.Fill{Time: ev.Time, Side: ev.Side, Qty: ev.FillQty, Price: ev.FillPrice,
			Strategy: o.strategy, ClientID: ev.ClientID}); err != nil {
			d.log.Error("ledger refused a fill", "account", a.id, "id", ev.ClientID, "err", err)
		}
		a.nFills++
		if o.role == limits.RoleEntry && o.stop != 0 {
			a.lastStop = o.stop
		}
		a.dirty = true
		fill = &wire.FillMsg{ClientID: ev.ClientID, Strategy: o.strategy, Side: ev.Side, Qty: ev.FillQty, Price: ev.FillPrice, Time: ev.Time}
		if ev.Kind == broker.FilledEv {
			done = &wire.OrderDoneMsg{ClientID: ev.ClientID, Strategy: o.strategy, Filled: true}
		}
	case broker.RejectedEv, broker.CancelledEv, broker.ExpiredEv:
		if ev.Kind == broker.RejectedEv && o.status != 0 {
			// The venue refused a later request about a live order (a cancel
			// of a filled order, a stop move): the order itself is unchanged.
			d.log.Warn("venue refused a request", "account", a.id, "id", ev.ClientID, "reason", ev.Reason)
			return o, nil, nil
		}
		switch ev.Kind {
		case broker.CancelledEv:
			o.status = broker.Cancelled
		case broker.RejectedEv:
			o.status = broker.Rejected
		default:
			o.status = broker.Expired
		}
		o.qty = 0
		a.dirty = true
		if o.role == limits.RoleEntry || o.role == limits.RoleOther {
			done = &wire.OrderDoneMsg{ClientID: ev.ClientID, Strategy: o.strategy, Filled: o.filled > 0, Reason: ev.Reason}
		}
	}
	return o, fill, done
}

// Settle runs the checks that must wait until a burst of broker events has
// been applied (the venue arms a bracket's exits right after its entry
// fills): stop coverage. Drivers call it when their event queue is empty.
func (d *Desk) Settle(ctx context.Context) { d.checkCoverage(ctx) }

// checkCoverage verifies invariant 6 for every account with a fill since
// the last check, and repairs a gap at once: place the missing stop, or
// flatten when no sensible stop price exists. With a CoverageGrace (live
// venues deliver a bracket's arming events just after the entry's fill) a
// gap must outlast the grace before it is repaired; the window is measured.
func (d *Desk) checkCoverage(ctx context.Context) {
	type repair struct {
		a   *account
		act limits.RepairAction
	}
	var repairs []repair
	d.mu.Lock()
	any := false
	for _, a := range d.accts {
		any = any || a.dirty
	}
	if !any {
		d.mu.Unlock()
		return
	}
	now := time.Now()
	mkt := d.lastTime
	for _, a := range d.accts {
		if !a.dirty {
			continue
		}
		if a.liquidating.Load() {
			continue // stays dirty: looked at again once flat or if the liquidation failed
		}
		a.dirty = false
		covered, act := limits.StopCoverage(a.ledger.Position(), a.workingOrders(), a.lastStop, d.last)
		if covered {
			if !a.gapWall.IsZero() {
				if w := now.Sub(a.gapWall); w > a.repairMax {
					a.repairMax = w
				}
				a.gapWall = time.Time{}
				a.gapSince = 0
			}
			continue
		}
		if a.gapWall.IsZero() {
			a.gapWall, a.gapSince = now, mkt
		}
		if d.opt.CoverageGrace > 0 && now.Sub(a.gapWall) < d.opt.CoverageGrace {
			a.dirty = true // look again on the next settle
			continue
		}
		if act.Kind == limits.RepairTrimStops {
			a.dirty = true
		}
		repairs = append(repairs, repair{a, act})
	}
	d.mu.Unlock()
	for _, r := range repairs {
		d.repairStops(ctx, r.a, r.act)
	}
}

// RepairWindowMax returns the longest stop-coverage gap seen per account.
func (d *Desk) RepairWindowMax() map[string]time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]time.Duration{}
	for _, a := range d.accts {
		out[a.id] = a.repairMax
	}
	return out
}

func (d *Desk) repairStops(ctx context.Context, a *account, act limits.RepairAction) {
	a.repairs++
	d.mu.Lock()
	pos := a.ledger.Position()
	d.mu.Unlock()
	covered := abs64(pos) - act.Qty
	text := fmt.Sprintf("%s %d at %s", act.Kind, act.Qty, act.StopPrice)
	d.log.Warn("stop coverage gap", "account", a.id, "repair", act.Kind.String(), "qty", act.Qty, "stop", act.StopPrice.String())
	// A repair stop is journaled with its client id before it is sent
	// (write-ahead, like an intent): recovery rebuilds it as a stop.
	var id string
	if act.Kind == limits.RepairPlaceStop {
		id = fmt.Sprintf("%s.repair.%d", a.id, d.idSeq.Add(1))
	}
	d.journal(ctx, Entry{Kind: "stop_repair", Account: a.id, ClientID: id, Market: d.nowNs(), Body: stopRepairBody{
		Repair: act.Kind.String(), Qty: act.Qty, Stop: act.StopPrice, Side: act.Side}})
	switch act.Kind {
	case limits.RepairTrimStops:
		// More stop than position: cancel the desk's own repair stops first
		// (a bracket's legs are trimmed by the venue's OCO).
		d.mu.Lock()
		var ids []string
		left := act.Qty
		for id, o := range a.orders {
			if o.strategy == "desk" && o.role == limits.RoleStop && !o.done() && o.qty > 0 && left > 0 {
				ids = append(ids, id)
				left -= o.qty
			}
		}
		d.mu.Unlock()
		for _, id := range ids {
			if err := d.br.Cancel(ctx, a.id, id); err != nil {
				d.log.Warn("cancel surplus repair stop", "account", a.id, "id", id, "err", err)
			}
		}
		return
	case limits.RepairPlaceStop:
		// Like an intent, the repair holds the send lock so a liquidation
		// either sees it placed (and cancels it) or it sees the liquidation.
		a.sendMu.RLock()
		if a.liquidating.Load() {
			a.sendMu.RUnlock()
			return
		}
		d.mu.Lock()
		a.orders[id] = &order{id: id, strategy: "desk", role: limits.RoleStop, side: act.Side, typ: market.StopOrder, qty: act.Qty, price: act.StopPrice}
		d.mu.Unlock()
		err := d.br.SubmitOrder(ctx, broker.Order{ClientID: id, Account: a.id, Side: act.Side, Qty: act.Qty, Type: market.StopOrder,
			StopPrice: act.StopPrice, TIF: broker.GTC})
		// Release the send lock before any liquidation, which takes it for
		// writing (holding it here deadlocked a refused repair).
		a.sendMu.RUnlock()
		if err != nil {
			d.log.Error("stop repair refused; flattening", "account", a.id, "err", err)
			d.liquidateAccount(ctx, a, "stop_repair_failed", "deskguard")
		}
	case limits.RepairFlatten:
		d.liquidateAccount(ctx, a, "stop_repair", "deskguard")
	}
	d.alerts.Notify(alerts.StopRepaired(d.clock.Now(), a.id, alerts.StopFacts{Position: pos, Covered: covered, Action: text}))
}

// lockout carries out a drawdown breach (invariant 5).
func (d *Desk) lockout(ctx context.Context, a *account, b limits.Breach) {
	ctx = context.WithoutCancel(ctx)
	d.journal(ctx, Entry{Kind: "lockout", Account: a.id, Market: b.TimeNs, Body: map[string]any{
		"equity": accounts.Money(b.EquityCents).StringFixed(2), "line": accounts.Money(b.LineCents).StringFixed(2),
		"start": accounts.Money(b.StartCents).StringFixed(2)}})
	a.halted.Store(true)
	if err := a.m.Fire(EvLockout, b.String()); err != nil {
		d.log.Warn("lockout transition", "account", a.id, "err", err)
	}
	d.haltWorker(a)
	d.liquidateAccount(ctx, a, "drawdown_lockout", "deskguard")
	d.alerts.Notify(alerts.Lockout(time.Unix(0, b.TimeNs), a.id, alerts.LockoutFacts{Equity: accounts.Money(b.EquityCents),
		StartEquity: accounts.Money(b.StartCents), Limit: a.gate.Config().DrawdownPct.Div(decimal.NewFromInt(100))}))
}

func (d *Desk) haltWorker(a *account) {
	if _, proc := d.hostsOf(a); proc != nil {
		proc.Send(wire.Halt, []byte("{}"))
	}
}

// liquidateAccount drains the account's in-flight sends and asks the venue
// to cancel everything and flatten, as one operation.
func (d *Desk) liquidateAccount(ctx context.Context, a *account, trigger, who string) {
	a.liquidating.Store(true)
	a.sendMu.Lock()
	//lint:ignore SA2001 an empty critical section waits for in-flight sends
	a.sendMu.Unlock()
	if err := d.br.Liquidate(context.WithoutCancel(ctx), a.id); err != nil {
		a.liquidating.Store(false) // coverage repair takes over
		d.log.Error("liquidate failed", "account", a.id, "trigger", trigger, "err", err)
		d.journal(ctx, Entry{Kind: "broker_error", Account: a.id, Market: d.nowNs(), Body: map[string]string{"op": "liquidate", "err": err.Error()}})
	}
}

// runJob carries out a scheduled job.
func (d *Desk) runJob(ctx context.Context, due Due) {
	d.log.Info("schedule", "job", due.Job, "at", due.At.In(market.NewYork).Format(time.RFC3339))
	switch due.Job {
	case JobFlattenDay:
		for _, a := range d.accts {
			if !a.spec.DayTrading {
				continue
			}
			d.mu.Lock()
			busy := a.ledger.Position() != 0 || len(a.workingOrders()) > 0
			d.mu.Unlock()
			if busy {
				// A scheduled flatten is not a kill: nothing is halted.
				d.journal(ctx, Entry{Kind: "marker", Account: a.id, Market: due.At.UnixNano(), Body: map[string]any{
					"scheduled_flatten": a.id, "job": JobFlattenDay, "at": due.At.In(market.NewYork).Format("15:04 ET")}})
				d.liquidateAccount(ctx, a, "schedule_flat_by", "deskguard")
			}
		}
	case JobDailySummary:
		d.alerts.Notify(d.summaryAlert())
	case JobSessionReset:
		d.sessionReset(ctx, due.At)
	case JobNoEntries:
		// The gate refuses entries after the configured time by itself.
	}
}

// sessionReset starts a new session: new start equity (the cash balance),
// lockouts lifted unless unlocks are manual.
func (d *Desk) sessionReset(ctx context.Context, at time.Time) {
	s := market.SessionOf(at.Add(time.Minute))
	d.session.Store(s)
	d.mu.Lock()
	starts := map[string]int64{}
	var unlock []*account
	for _, a := range d.accts {
		a.pastTrips = append(a.pastTrips, a.ledger.RoundTrips()...)
		a.pastFees += accounts.Cents(a.ledger.Fees())
		if a.firstStart == 0 {
			a.firstStart = a.ledger.StartCents()
		}
		cash := a.ledger.StartEquity().Add(a.ledger.Realized()).Sub(a.ledger.Fees())
		if err := a.ledger.ResetSession(cash); err != nil {
			d.log.Error("session reset", "account", a.id, "err", err)
		}
		a.mon.Reset(a.ledger.StartCents())
		a.rate.Reset()
		starts[a.id] = a.ledger.StartCents()
		a.curve = a.curve[:0]
		if a.m.State() == AcctLockedOut && !d.opt.ManualUnlock {
			unlock = append(unlock, a)
		}
	}
	d.deskMon.Reset(starts)
	d.mu.Unlock()
	d.journal(ctx, Entry{Kind: "session_reset", Market: at.UnixNano(), Body: map[string]any{"session": s.String(), "accounts": d.startEquities()}})
	if err := d.Snapshot(ctx); err != nil {
		d.log.Warn("snapshot", "err", err)
	}
	for _, a := range unlock {
		a.halted.Store(false)
		_ = a.m.Fire(EvUnlock, "session reset")
		if !a.spec.EnginesOff {
			_ = a.m.Fire(EvStart, "session reset")
		}
		d.resumeWorker(a)
	}
}

func (d *Desk) resumeWorker(a *account) {
	if _, proc := d.hostsOf(a); proc != nil {
		proc.Send(wire.Resume, []byte("{}"))
	}
}

func (d *Desk) summaryAlert() alerts.Alert {
	d.mu.Lock()
	defer d.mu.Unlock()
	f := alerts.SummaryFacts{}
	if sess, ok := d.session.Load().(market.Session); ok {
		f.Session = sess.String()
	}
	for _, a := range d.accts {
		row := alerts.SummaryRow{Account: a.id, Net: accounts.Money(a.ledger.EquityCents() - a.ledger.StartCents()),
			DrawdownUsed: decimal.NewFromFloat(drawdownUsed(a)).Round(4)}
		for _, r := range a.ledger.RoundTrips() {
			row.Trades++
			if r.Net().IsPositive() {
				row.Wins++
			}
		}
		f.Accounts = append(f.Accounts, row)
	}
	return alerts.DailySummary(d.clock.Now(), f)
}

// killAlert builds the kill message with the positions being flattened.
func (d *Desk) killAlert(scope, acct, trigger, who string, ids []string) alerts.Alert {
	d.mu.Lock()
	defer d.mu.Unlock()
	f := alerts.KillFacts{Scope: acct, Trigger: trigger, Who: who, Accounts: ids}
	var net int64
	for _, id := range ids {
		a := d.byID[id]
		if p := a.ledger.Position(); p != 0 {
			f.Flattened = append(f.Flattened, alerts.Position{Account: id, Qty: p})
		}
		net += a.ledger.EquityCents() - a.ledger.StartCents()
	}
	f.NetPnL = accounts.Money(net)
	return alerts.Kill(d.clock.Now(), f)
}

func drawdownUsed(a *account) float64 {
	start := a.ledger.StartCents()
	line := a.mon.LineCents()
	allow := start - line
	if allow <= 0 {
		return 0
	}
	used := float64(start-a.ledger.EquityCents()) / float64(allow)
	if used < 0 {
		return 0
	}
	return used
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
