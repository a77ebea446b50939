package supervisor

// account.go: one sub-account as the desk holds it — its books behind its
// own small lock, and the flags the kill path raises as atomics beside
// them, so that a kill never waits for the tick path, the intent path or
// a worker.
//
// Locking: a.mu guards the books (ledger, rules, orders, counters) and
// is held only for in-memory work, never across a journal append or a
// broker call. The tick path takes it once per account per batch of
// trades; the intent and broker-event paths once per intent or event. The
// kill path never takes it before its last liquidate request is out: it
// reads and writes only the atomics (halted, liquidating, sending).

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor/workerhost"
)

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
	expireAt int64  // entries: cancel when unfilled at this market time
	venue    string // the venue's own id of the order (Event.VenueOrder), once known
	byBroker bool   // the broker's own liquidation (brokerliq.go)
}

func (o *order) done() bool { return o.status.Done() }

// Who placed an order the desk books but no engine owns.
const (
	stratDesk     = "desk"     // the desk itself: a liquidation's market order, a repair stop
	stratExternal = "external" // not the desk: a trader on the broker's platform, the broker's auto-liquidation
)

// engines reports whether an engine owns the order (and is told of it).
func (o *order) engines() bool { return o.strategy != stratDesk && o.strategy != stratExternal }

// engines is where an account's engines run: in-process (host) or in a
// worker process (proc). Set once by Start.
type engines struct {
	host workerhost.EngineHost
	proc *workerhost.ProcHost
}

type account struct {
	id   string
	spec AccountSpec
	gate *limits.Gate // immutable
	m    *Machine     // replaced only by Recover, before Start

	// The kill path's flags (kill.go). halted: risk-adding intents are
	// refused (a kill, lockout or fault is in force). liquidating: a
	// liquidation is on its way to flat — risk-adding intents and stop
	// repairs are refused too (a stop placed beside the liquidation would
	// outlive the position it was meant to cover). sending counts the
	// risk-adding requests between their last look at those flags and the
	// broker's answer; sent is closed (and replaced) as each one returns. A
	// kill that finds sending > 0 when it liquidates waits for them and
	// liquidates again, so nothing that adds risk outlives the liquidation.
	halted      atomic.Bool
	liquidating atomic.Bool
	sending     atomic.Int64
	sent        atomic.Pointer[chan struct{}]
	// owed is the trigger of a kill in force whose liquidation this run
	// has not yet sent (recovery, recover.go); Start sends it.
	owed Trigger

	eng atomic.Pointer[engines]

	// pub is the account's working orders as last published (a.mu held
	// while publishing; read without it): what the other accounts' gates
	// check for self-match, so no intent takes another account's lock.
	pub atomic.Pointer[[]limits.WorkingOrder]

	mu        sync.Mutex // the books below
	ledger    *accounts.Ledger
	rules     *limits.AccountRules // the ladder, lockout line and the rules of issue 20 (rules.go)
	rate      *limits.RateLimiter
	snap      limits.Snapshot
	work      []limits.WorkingOrder
	others    []limits.WorkingOrder // scratch: the other accounts' working orders (self-match)
	trailLine int64                 // the trailing line last journaled (rules.go)
	orders    map[string]*order
	lastStop  market.Price
	dirty     bool // a fill since the last stop-coverage check
	gapSince  int64
	gapWall   time.Time
	// bustRepair: a trade bust left the account's exits and position apart
	// (the venue does not resize the legs a busted fill armed): the surplus
	// and the gap it leaves are certain, not the venue's arming events in
	// flight, so coverage repairs them without the grace until covered.
	bustRepair bool
	expiring   []*order // entries with an expiry, scanned on the tick path
	pastTrips  []accounts.RoundTrip
	pastFees   int64 // earlier sessions of this run (replay summaries span sessions)
	firstStart int64
	worker     string
	signal     string
	rejects    map[string]int
	nOrders    int
	nFills     int
	nIntents   int // intents gated (Counts)
	nRestarts  int // worker restarts (Counts)
	// killAt is the wall time (ns) of the kill this account is being
	// flattened by, 0 when none: KillFlat's start (kill.go).
	killAt    atomic.Int64
	curve     []curvePoint
	repairs   int
	repairMax time.Duration

	// What the broker did beside the desk (events.go): its own risk status
	// of the account ("" = normal; a RiskStatusEv), the venue's order ids
	// of the desk's orders (a venue that echoes no client order id names
	// them by these after a restart), the orders the desk did not place,
	// whether the position holds contracts they opened, and the busts and
	// corrections booked.
	brokerRisk    string
	brokerLocked  bool
	brokerRiskSet string            // the broker-side limits set at start, or why not (brokerside.go)
	brokerCash    string            // the last cash check that found the ledger apart from the broker's (brokerside.go)
	byVenue       map[string]string // venue order id → client id
	external      map[string]bool   // external orders seen (client id as the venue names them)
	extGroups     map[string]bool   // external brackets (or lone orders) seen: one alert, one fault each
	extOpen       bool              // the position holds contracts no order of the desk's opened (external, or carried)
	busts         int
	corrections   int
	// The broker's own liquidations (brokerliq.go): its orders booked as
	// such (client id → wall time first seen), the orders the desk did
	// not place that only reduce the position and wait for the broker's
	// risk status to say whose they are, and how many of either still
	// work within Options.BrokerLiqWindow (an atomic: the kill path reads
	// it without the books). liqDeferred: a kill's liquidation of the
	// account waits for the broker's to end.
	liqByBroker map[string]time.Time
	suspects    map[string]suspect
	brokerHold  atomic.Int32
	liqDeferred atomic.Bool
}

type curvePoint struct {
	t     int64
	cents int64
}

// hosts returns the account's engine hosts (nil before Start).
func (a *account) hosts() (workerhost.EngineHost, *workerhost.ProcHost) {
	if e := a.eng.Load(); e != nil {
		return e.host, e.proc
	}
	return nil, nil
}

// proc returns the account's worker process host, if any.
func (a *account) proc() *workerhost.ProcHost {
	_, p := a.hosts()
	return p
}

// stopsRisk reports whether risk-adding requests are refused now.
func (a *account) stopsRisk() bool { return a.halted.Load() || a.liquidating.Load() }

// beginSend counts a risk-adding request on its way and reports whether it
// may go: false (and uncounted) once a kill's flags are up. The count goes
// up before the flags are read and the kill raises the flags before it
// reads the count, so either the request sees the flags or the kill sees
// the request (sequentially consistent atomics).
func (a *account) beginSend() bool { return a.begin(a.stopsRisk) }

// beginRepair is beginSend for a repair stop: refused only while a
// liquidation is on its way (a halted or faulted account that still holds
// a position keeps its stop coverage).
func (a *account) beginRepair() bool { return a.begin(a.liquidating.Load) }

func (a *account) begin(refused func() bool) bool {
	a.sending.Add(1)
	if refused() {
		a.endSend()
		return false
	}
	return true
}

// endSend marks a risk-adding request answered and wakes every waiter.
func (a *account) endSend() {
	a.sending.Add(-1)
	ch := make(chan struct{})
	close(*a.sent.Swap(&ch))
}

// waitSends returns once no risk-adding request is in flight. With the
// flags up no new one starts, so the count only falls.
func (a *account) waitSends() {
	for {
		ch := *a.sent.Load()
		if a.sending.Load() == 0 {
			return
		}
		<-ch
	}
}

// flat reports whether the account holds nothing at the venue as the desk
// books it (a.mu held).
func (a *account) flat() bool { return a.ledger.Position() == 0 && len(a.workingOrders()) == 0 }

// workingOrders returns the account's live orders for the gate, reusing a
// slice (a.mu held).
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

func drawdownUsed(a *account) float64 {
	start := a.ledger.StartCents()
	line := a.rules.Drawdown.LineCents()
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
