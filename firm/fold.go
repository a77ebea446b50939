package firm

// fold.go: one desk's books rebuilt from its journal records, in journal
// order (a record the stream delivers early is held until the ones before
// it arrive), exactly once each: accounts (ledger from the journaled fills, from
// the start equity and fee rate the desk journaled), positions, working
// orders, account and desk states, kills and lockouts. It folds the records
// as the desk's own recovery does (supervisor/recover.go: snapshots, session
// resets, allowed intents reserving their bracket, venue events, broker
// errors, reconciliations, stop repairs), so the firm's view is the desk's:
// TestFirmViewEqualsDesks compares them. Pure: no I/O, no clock.

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// Order is a desk's order as the firm books it.
type Order struct {
	ID       string           `json:"id"`
	Strategy string           `json:"strategy"`
	Role     limits.Role      `json:"role"`
	Group    string           `json:"group,omitempty"`
	Side     market.Side      `json:"side"`
	Type     market.OrderType `json:"type"`
	Qty      int64            `json:"qty"` // working quantity
	Filled   int64            `json:"filled"`
	Price    market.Price     `json:"price"`
	Stop     market.Price     `json:"stop,omitempty"`
	Status   broker.Status    `json:"status"`
}

// done: filled, cancelled, rejected or expired.
func (o *Order) done() bool { return o.Status.Done() }

// Working reports whether the desk's status lists the order: not finished
// and not an exit leg still waiting for its entry.
func (o *Order) Working() bool { return !o.done() && o.Status != broker.Pending }

// Account is one account of a desk.
type Account struct {
	ID        string               `json:"id"`
	State     string               `json:"state"`
	LockedOut bool                 `json:"locked_out"`
	Ledger    accounts.LedgerState `json:"ledger"`
	Orders    map[string]*Order    `json:"orders"`

	l *accounts.Ledger // the live ledger (Ledger is its state when saved)
}

// Kill is a kill the desk journaled.
type Kill struct {
	Seq     uint64 `json:"seq"`
	Wall    int64  `json:"wall"`
	Scope   string `json:"scope"`
	Trigger string `json:"trigger"`
	Who     string `json:"who"`
}

// Book is one desk's state rebuilt from its journal.
type Book struct {
	Desk     string              `json:"desk"`
	Journal  string              `json:"journal"`  // the journal's identity (its creation time)
	LastSeq  uint64              `json:"last_seq"` // the last record folded
	Records  uint64              `json:"records"`  // records folded
	Gaps     []string            `json:"gaps,omitempty"`
	State    string              `json:"state"` // the desk's state machine
	Accounts map[string]*Account `json:"accounts"`
	Kills    []Kill              `json:"kills,omitempty"`
	Errors   []string            `json:"errors,omitempty"` // records the fold could not use (kept, never fatal)
	// Ahead holds records that reached the firm before one they follow:
	// the stream may store a desk's records out of journal order (a
	// publish the NATS client retried after a "no responders" during a
	// leader change lands behind later ones; the outbox's resend after a
	// failure does too). They are folded, in order, once the missing ones
	// arrive; saved with the state, so a restart loses none.
	Ahead map[uint64]journal.Record `json:"ahead,omitempty"`

	fees  map[string]int64 // account → fee per round turn in cents, from the desk's config record
	start map[string]int64 // account → start equity cents, from the config record
}

// NewBook starts an empty book of desk.
func NewBook(desk string) *Book {
	return &Book{Desk: desk, Accounts: map[string]*Account{}, fees: map[string]int64{}, start: map[string]int64{}}
}

// defaultFeesCents is MES's default round-turn fee ($1.20).
var defaultFeesCents = accounts.Cents(market.MES().FeesRT)

const maxErrors = 32

func (b *Book) errorf(seq uint64, format string, args ...any) {
	if len(b.Errors) < maxErrors {
		b.Errors = append(b.Errors, fmt.Sprintf("seq %d: ", seq)+fmt.Sprintf(format, args...))
	}
}

// account returns the account, creating it (flat, at the desk's journaled
// start equity) on first sight.
func (b *Book) account(id string) *Account {
	a := b.Accounts[id]
	if a != nil {
		return a
	}
	start, ok := b.start[id]
	if !ok {
		start = 1 // unknown until a session reset or snapshot says; never shown as equity alone
	}
	fees, ok := b.fees[id]
	if !ok {
		fees = defaultFeesCents
	}
	l, err := accounts.Restore(accounts.LedgerState{ID: id, FeesRTCents: fees, StartCents: start})
	if err != nil { // unreachable: the state above is valid
		l, _ = accounts.NewLedger(accounts.Config{ID: id, StartEquity: decimal.NewFromInt(1)})
	}
	a = &Account{ID: id, State: "idle", Orders: map[string]*Order{}, l: l}
	b.Accounts[id] = a
	return a
}

// Apply folds one record. A record at or below LastSeq was folded already
// and is skipped (false); a record past LastSeq+1 is folded and the gap
// noted.
// MaxAhead bounds the records a book holds for missing ones before them:
// past it the missing ones are declared a gap (Gaps) and the held ones
// folded, so a record the stream never got (removed by an operator's
// limits, a lost replica) cannot stall the desk's view for ever.
const MaxAhead = 10000

// Apply folds r into the book in journal order, each seq once: a record
// that arrives before one it follows is held (Ahead) until the missing
// ones arrive. It returns the seqs folded by this call (r's and the held
// ones it released, in order), and whether r was a duplicate (a seq
// already folded or held).
func (b *Book) Apply(r journal.Record) (folded []uint64, duplicate bool) {
	if r.Seq <= b.LastSeq {
		return nil, true
	}
	if _, held := b.Ahead[r.Seq]; held {
		return nil, true
	}
	if r.Seq != b.LastSeq+1 {
		if b.Ahead == nil {
			b.Ahead = map[uint64]journal.Record{}
		}
		b.Ahead[r.Seq] = r
		if len(b.Ahead) <= MaxAhead {
			return nil, false
		}
		first := r.Seq
		for seq := range b.Ahead {
			first = min(first, seq)
		}
		b.Gaps = append(b.Gaps, fmt.Sprintf("%d..%d missing", b.LastSeq+1, first-1))
		b.LastSeq = first - 1
	} else {
		b.foldOne(r)
		folded = append(folded, r.Seq)
	}
	for {
		next, ok := b.Ahead[b.LastSeq+1]
		if !ok {
			break
		}
		delete(b.Ahead, next.Seq)
		b.foldOne(next)
		folded = append(folded, next.Seq)
	}
	if len(b.Ahead) == 0 {
		b.Ahead = nil
	}
	return folded, false
}

func (b *Book) foldOne(r journal.Record) {
	b.LastSeq = r.Seq
	b.Records++
	if err := b.fold(r); err != nil {
		b.errorf(r.Seq, "%s: %v", r.Kind, err)
	}
}

// The desk-private record kinds the fold reads (supervisor/recover.go).
const (
	kindReconcile journal.Kind = "reconcile"
	kindClear     journal.Kind = "clear"
)

func (b *Book) fold(r journal.Record) error {
	switch r.Kind {
	case journal.KindConfigChange:
		cc, err := r.ConfigChange()
		if err != nil || cc.Key != "config" || len(cc.Effective) == 0 {
			return err
		}
		var sum struct {
			Accounts []struct {
				ID          string `json:"id"`
				StartEquity string `json:"start_equity"`
				FeesRT      string `json:"fees_rt"`
			} `json:"accounts"`
		}
		if err := json.Unmarshal(cc.Effective, &sum); err != nil {
			return err
		}
		for _, a := range sum.Accounts {
			if d, err := decimal.NewFromString(a.FeesRT); err == nil {
				b.fees[a.ID] = accounts.Cents(d)
			}
			if d, err := decimal.NewFromString(a.StartEquity); err == nil && d.Sign() > 0 {
				b.start[a.ID] = accounts.Cents(d)
			}
			if x := b.Accounts[a.ID]; x == nil || x.l.StartCents() <= 1 {
				b.resetAccount(b.account(a.ID), b.start[a.ID])
			}
		}
	case journal.KindSnapshot:
		raw, err := r.Snapshot()
		if err != nil {
			return err
		}
		return b.restore(raw)
	case journal.KindSessionReset:
		sr, err := r.SessionReset()
		if err != nil {
			return err
		}
		for id, eq := range sr.Accounts {
			d, err := decimal.NewFromString(eq)
			if err != nil || d.Sign() <= 0 {
				continue
			}
			b.start[id] = accounts.Cents(d)
			a := b.account(id)
			// "desk start": the desk's books are already the config's (or
			// what recovery rebuilt); the record only says what they are.
			if sr.Why != "desk start" || a.l.StartCents() <= 1 {
				b.resetAccount(a, accounts.Cents(d))
			}
		}
	case journal.KindIntent:
		if r.Account == "" {
			return nil
		}
		ib, err := r.IntentBody()
		if err != nil {
			return err
		}
		if ib.Decision != nil && ib.Decision.Allowed {
			b.reserve(b.account(r.Account), ib.Intent)
		}
	case journal.KindBrokerEvent:
		if r.Account == "" {
			return nil
		}
		ev, err := r.BrokerEvent()
		if err != nil {
			return err
		}
		return b.applyEvent(b.account(r.Account), ev)
	case journal.KindBrokerError:
		if r.Account == "" || r.ClientID == "" {
			return nil
		}
		be, err := r.BrokerError()
		if err != nil {
			return err
		}
		a := b.account(r.Account)
		if o := a.Orders[r.ClientID]; o != nil && o.Status == 0 {
			o.Status = broker.Rejected
			if be.Op == "withdrawn" {
				o.Status = broker.Cancelled
			}
			o.Qty = 0
		}
	case journal.KindTransition:
		t, err := r.Transition()
		if err != nil || t.To == "" {
			return err
		}
		if t.Machine == "desk" {
			b.State = t.To
		} else if t.ID != "" {
			a := b.account(t.ID)
			a.State = t.To
			a.LockedOut = t.To == "locked_out"
		}
	case journal.KindKill:
		k, err := r.Kill()
		if err != nil {
			return err
		}
		b.Kills = append(b.Kills, Kill{Seq: r.Seq, Wall: r.Wall, Scope: k.Scope, Trigger: k.Trigger, Who: k.Who})
		if len(b.Kills) > 64 {
			b.Kills = b.Kills[len(b.Kills)-64:]
		}
	case journal.KindLockout:
		if r.Account != "" {
			a := b.account(r.Account)
			a.LockedOut, a.State = true, "locked_out"
		}
	case journal.KindUnlock:
		if r.Account != "" {
			b.account(r.Account).LockedOut = false
		}
	case journal.KindStopRepair:
		if r.Account == "" || r.ClientID == "" {
			return nil
		}
		var sr struct {
			Repair string       `json:"repair"`
			Qty    int64        `json:"qty"`
			Stop   market.Price `json:"stop"`
			Side   market.Side  `json:"side"`
		}
		if err := json.Unmarshal(r.Body, &sr); err != nil {
			return err
		}
		a := b.account(r.Account)
		if sr.Repair == limits.RepairPlaceStop.String() && a.Orders[r.ClientID] == nil {
			a.Orders[r.ClientID] = &Order{ID: r.ClientID, Strategy: "desk", Role: limits.RoleStop, Side: sr.Side,
				Type: market.StopOrder, Qty: sr.Qty, Price: sr.Stop}
		}
	case kindReconcile:
		if r.Account == "" {
			return nil
		}
		var rr struct {
			Closed []struct {
				ID string `json:"id"`
			} `json:"closed"`
			Adopted    []snapOrder `json:"adopted"`
			Correction *struct {
				Time  int64        `json:"time"`
				Side  market.Side  `json:"side"`
				Qty   int64        `json:"qty"`
				Price market.Price `json:"price"`
			} `json:"correction"`
		}
		if err := json.Unmarshal(r.Body, &rr); err != nil {
			return err
		}
		a := b.account(r.Account)
		for _, c := range rr.Closed {
			if o := a.Orders[c.ID]; o != nil && !o.done() {
				o.Status, o.Qty = broker.Cancelled, 0
			}
		}
		for _, s := range rr.Adopted {
			if a.Orders[s.ID] == nil {
				a.Orders[s.ID] = s.order()
			}
		}
		if c := rr.Correction; c != nil {
			if err := a.l.ApplyFill(accounts.Fill{Time: c.Time, Side: c.Side, Qty: c.Qty, Price: c.Price, Strategy: "reconcile",
				ClientID: "reconcile"}); err != nil {
				return err
			}
		}
	case kindClear:
		if r.Account != "" {
			if a := b.account(r.Account); a.State == "faulted" {
				a.State = "idle"
			}
		}
	}
	return nil
}

func (b *Book) resetAccount(a *Account, startCents int64) {
	if startCents <= 0 {
		return
	}
	st := a.l.State()
	st.StartCents, st.RealizedTicks, st.FeesCents, st.RoundTrips, st.MaxDrawdown = startCents, 0, 0, nil, 0
	if f, ok := b.fees[a.ID]; ok {
		st.FeesRTCents = f
	}
	l, err := accounts.Restore(st)
	if err == nil {
		a.l = l
	}
}

// reserve books the orders an allowed entry creates: the entry, and its
// bracket's legs waiting for its fills (as the desk's reserve does).
func (b *Book) reserve(a *Account, in intent.Intent) {
	switch in.Kind {
	case intent.Enter, intent.Add:
		px := in.Entry
		if in.EntryType == market.StopLimitOrder && in.Limit != 0 {
			px = in.Limit
		}
		a.Orders[in.ID] = &Order{ID: in.ID, Strategy: in.Strategy, Role: limits.RoleEntry, Group: in.ID, Side: in.Side,
			Type: in.EntryType, Qty: in.Qty, Price: px, Stop: in.Stop}
		stopID, targetID := journal.LegIDs(in.ID)
		a.Orders[stopID] = &Order{ID: stopID, Strategy: in.Strategy, Role: limits.RoleStop, Group: in.ID, Side: in.Side.Opposite(),
			Type: market.StopOrder, Price: in.Stop, Status: broker.Pending}
		a.Orders[targetID] = &Order{ID: targetID, Strategy: in.Strategy, Role: limits.RoleTarget, Group: in.ID, Side: in.Side.Opposite(),
			Type: market.LimitOrder, Price: in.Target, Status: broker.Pending}
	}
}

// applyEvent folds a venue event as the desk's applyEvent does.
func (b *Book) applyEvent(a *Account, ev broker.Event) error {
	o := a.Orders[ev.ClientID]
	if o == nil {
		role := limits.RoleOther
		if ev.Role == broker.StopLeg {
			role = limits.RoleStop
		}
		o = &Order{ID: ev.ClientID, Strategy: "desk", Role: role, Group: ev.GroupID, Side: ev.Side, Type: market.MarketOrder}
		a.Orders[ev.ClientID] = o
	}
	switch ev.Kind {
	case broker.Accepted, broker.Modified:
		if o.Status == 0 || o.Status == broker.Pending || o.Status == broker.Working {
			o.Status = broker.Working
		}
		if ev.LeavesQty > 0 || ev.Kind == broker.Accepted {
			o.Qty = ev.LeavesQty
		}
	case broker.TriggeredEv:
		o.Status = broker.Triggered
	case broker.PartiallyFilled, broker.FilledEv:
		o.Filled += ev.FillQty
		o.Qty = ev.LeavesQty
		if ev.Kind == broker.FilledEv {
			o.Status, o.Qty = broker.Filled, 0
		} else if o.Status == 0 || o.Status == broker.Pending {
			o.Status = broker.Working
		}
		if err := a.l.ApplyFill(accounts.Fill{Time: ev.Time, Side: ev.Side, Qty: ev.FillQty, Price: ev.FillPrice,
			Strategy: o.Strategy, ClientID: ev.ClientID}); err != nil {
			return err
		}
	case broker.RejectedEv, broker.CancelledEv, broker.ExpiredEv:
		if ev.Kind == broker.RejectedEv && o.Status != 0 {
			return nil // a later request about a live order was refused: the order is unchanged
		}
		switch ev.Kind {
		case broker.CancelledEv:
			o.Status = broker.Cancelled
		case broker.RejectedEv:
			o.Status = broker.Rejected
		default:
			o.Status = broker.Expired
		}
		o.Qty = 0
	}
	return nil
}

// snapOrder is an order in the desk's snapshot record (the desk's
// orderSnap JSON).
type snapOrder struct {
	ID       string `json:"id"`
	Strategy string `json:"strategy"`
	Role     uint8  `json:"role"`
	Group    string `json:"group"`
	Side     int8   `json:"side"`
	Type     uint8  `json:"type"`
	Qty      int64  `json:"qty"`
	Filled   int64  `json:"filled"`
	Price    int64  `json:"price"`
	Stop     int64  `json:"stop"`
	Status   uint8  `json:"status"`
}

func (s snapOrder) order() *Order {
	return &Order{ID: s.ID, Strategy: s.Strategy, Role: limits.Role(s.Role), Group: s.Group, Side: market.Side(s.Side),
		Type: market.OrderType(s.Type), Qty: s.Qty, Filled: s.Filled, Price: market.Price(s.Price), Stop: market.Price(s.Stop),
		Status: broker.Status(s.Status)}
}

// restore starts the books again from a desk snapshot record: the desk's
// checkpoint of every ledger, account state and working order.
func (b *Book) restore(raw json.RawMessage) error {
	var s struct {
		Ledgers  []accounts.LedgerState `json:"ledgers"`
		Accounts map[string]struct {
			State  string      `json:"state"`
			Orders []snapOrder `json:"orders"`
		} `json:"accounts"`
		Desk string `json:"desk"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	for _, st := range s.Ledgers {
		l, err := accounts.Restore(st)
		if err != nil {
			return err
		}
		b.account(st.ID).l = l
		b.start[st.ID], b.fees[st.ID] = st.StartCents, st.FeesRTCents
	}
	for id, as := range s.Accounts {
		a := b.account(id)
		a.State = as.State
		a.LockedOut = as.State == "locked_out"
		a.Orders = map[string]*Order{}
		for _, o := range as.Orders {
			a.Orders[o.ID] = o.order()
		}
	}
	if s.Desk != "" {
		b.State = s.Desk
	}
	return nil
}

// freeze copies the live ledgers into their saved form (before a save).
func (b *Book) freeze() {
	for _, a := range b.Accounts {
		a.Ledger = a.l.State()
	}
}

// thaw rebuilds the live ledgers from their saved form (after a load).
func (b *Book) thaw() error {
	if b.Accounts == nil {
		b.Accounts = map[string]*Account{}
	}
	b.fees, b.start = map[string]int64{}, map[string]int64{}
	for id, a := range b.Accounts {
		l, err := accounts.Restore(a.Ledger)
		if err != nil {
			return fmt.Errorf("firm: desk %s account %s: %w", b.Desk, id, err)
		}
		a.l = l
		if a.Orders == nil {
			a.Orders = map[string]*Order{}
		}
		b.fees[id], b.start[id] = a.Ledger.FeesRTCents, a.Ledger.StartCents
	}
	return nil
}

// AccountView is one account in the firm's view (money in cents, marked
// at the desk's last price).
type AccountView struct {
	ID          string      `json:"id"`
	State       string      `json:"state"`
	LockedOut   bool        `json:"locked_out"`
	Position    int64       `json:"position"`
	CostTicks   int64       `json:"cost_ticks"`
	Realized    string      `json:"realized"`
	Fees        string      `json:"fees"`
	Unrealized  string      `json:"unrealized"`
	StartEquity string      `json:"start_equity"`
	Equity      string      `json:"equity"`
	Net         string      `json:"net"`
	Orders      []OrderView `json:"orders,omitempty"`

	netCents int64
}

// OrderView is a working order.
type OrderView struct {
	ID     string  `json:"client_id"`
	Role   string  `json:"role"`
	Side   string  `json:"side"`
	Qty    int64   `json:"qty"`
	Filled int64   `json:"filled"`
	Price  float64 `json:"price"`
	Status string  `json:"status"`
}

// View is the desk's accounts marked at mark (ticks; 0: unmarked, no
// unrealized PnL), sorted by id.
func (b *Book) View(mark market.Price) []AccountView {
	ids := make([]string, 0, len(b.Accounts))
	for id := range b.Accounts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]AccountView, 0, len(ids))
	for _, id := range ids {
		a := b.Accounts[id]
		st := a.l.State()
		unreal := int64(0)
		if st.Position != 0 && mark > 0 {
			unreal = (st.Position*int64(mark) - st.CostTicks) * market.TickCents
		}
		eq := st.StartCents + st.RealizedTicks*market.TickCents - st.FeesCents + unreal
		v := AccountView{ID: id, State: a.State, LockedOut: a.LockedOut, Position: st.Position, CostTicks: st.CostTicks,
			Realized: accounts.Money(st.RealizedTicks * market.TickCents).StringFixed(2), Fees: accounts.Money(st.FeesCents).StringFixed(2),
			Unrealized: accounts.Money(unreal).StringFixed(2), StartEquity: accounts.Money(st.StartCents).StringFixed(2),
			Equity: accounts.Money(eq).StringFixed(2), Net: accounts.Money(eq - st.StartCents).StringFixed(2), netCents: eq - st.StartCents}
		oids := make([]string, 0, len(a.Orders))
		for oid, o := range a.Orders {
			if o.Working() {
				oids = append(oids, oid)
			}
		}
		sort.Strings(oids)
		for _, oid := range oids {
			o := a.Orders[oid]
			v.Orders = append(v.Orders, OrderView{ID: o.ID, Role: roleName(o.Role), Side: o.Side.String(), Qty: o.Qty, Filled: o.Filled,
				Price: o.Price.Points(), Status: statusName(o.Status)})
		}
		out = append(out, v)
	}
	return out
}

func roleName(r limits.Role) string {
	switch r {
	case limits.RoleEntry:
		return "entry"
	case limits.RoleStop:
		return "stop"
	case limits.RoleTarget:
		return "target"
	}
	return "single"
}

func statusName(s broker.Status) string {
	if s == 0 {
		return "sending"
	}
	return s.String()
}
