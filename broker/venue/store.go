// This file is the venue's Tradovate entities (orders, order versions,
// commands, fills, positions, execution reports, account risk status,
// auto-liquidation settings) and their derivation from the engine's
// events, one execution report per engine event, with the faults that
// reorder or delay what is pushed (Faults.ShuffleReports, LateCommands,
// EmptyClOrdID).

package venue

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/market"
)

type ckey struct{ account, clOrd string }

type vOrder struct {
	ord     orderEnt
	ver     orderVersionEnt
	account string
	clOrd   string // the engine's ClientID (the desk's clOrdId, or the venue's own name)
	role    broker.Role
	group   string
	cum     int64
	cost    int64
	ocoPeer int64 // placeoco: the other order's id
	// external: placed on the broker's own platform or by its
	// auto-liquidation, not through the API (no clOrdId, isAutomated false).
	external bool
}

type store struct {
	nextID    int64
	acctID    map[string]int64
	acctName  map[int64]string
	orders    map[int64]*vOrder
	order     []int64 // order ids in creation order
	byCl      map[ckey]int64
	versions  []orderVersionEnt
	commands  []commandEnt
	fills     []fillEnt
	fillIdx   map[int64]int   // fill id → index in fills
	fillRep   map[int64]int64 // fill id → the Trade report that made it
	reports   []execReportEnt
	positions map[string]*positionEnt
	pend      map[ckey]pendingOrder // requests in flight: details for orders the engine has not kept
	carried   map[string]Carry
	risk      map[string]*accountRiskStatusEnt
	autoLiq   map[string]*userAccountAutoLiqEnt
	cash      map[string]*cashBalanceEnt
	// batch holds the execution reports of one engine step until they are
	// pushed (in reverse order with ShuffleReports).
	batch []pushItem
	// deferred holds pushes made after the current REST answer
	// (LateCommands).
	deferred []pushItem
	// externalNext names orders created by the venue itself.
	externalNext bool
	tradeDay     tradeDate
}

type pushItem struct {
	entityType, eventType string
	entity                any
	account               string
}

// pendingOrder is what a request said about an order, for the entities of
// an order the engine refuses (and so does not remember).
type pendingOrder struct {
	o      broker.Order
	role   broker.Role
	group  string
	parent int64
}

func newStore(cfg Config) *store {
	s := &store{nextID: 1, acctID: map[string]int64{}, acctName: map[int64]string{}, orders: map[int64]*vOrder{},
		byCl: map[ckey]int64{}, positions: map[string]*positionEnt{}, pend: map[ckey]pendingOrder{},
		fillIdx: map[int64]int{}, fillRep: map[int64]int64{}, carried: map[string]Carry{},
		risk: map[string]*accountRiskStatusEnt{}, autoLiq: map[string]*userAccountAutoLiqEnt{}, cash: map[string]*cashBalanceEnt{}}
	for i, a := range cfg.Accounts {
		id := int64(10001 + i)
		s.acctID[a] = id
		s.acctName[id] = a
		s.risk[a] = &accountRiskStatusEnt{ID: id, AdminAction: "Normal"}
		s.cash[a] = &cashBalanceEnt{ID: id, AccountID: id, CurrencyID: 1, Amount: cfg.StartCash}
	}
	return s
}

func (s *store) id() int64 {
	s.nextID++
	return s.nextID
}

func stamp(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

func pts(p market.Price) *float64 {
	if p == market.NoPrice {
		return nil
	}
	f := float64(p) / market.TicksPerPoint
	return &f
}

func action(s market.Side) string {
	if s == market.Sell {
		return "Sell"
	}
	return "Buy"
}

func typeName(t market.OrderType) string {
	switch t {
	case market.MarketOrder:
		return "Market"
	case market.LimitOrder:
		return "Limit"
	case market.StopOrder:
		return "Stop"
	case market.StopLimitOrder:
		return "StopLimit"
	}
	return ""
}

func tifName(t broker.TIF) string {
	if t == broker.GTC {
		return "GTC"
	}
	return "Day"
}

func dayOf(ns int64) tradeDate {
	d := market.SessionOf(time.Unix(0, ns))
	return tradeDate{Year: d.Year, Month: int(d.Month), Day: d.Day}
}

// live returns the live (not rejected) order for a ClientID, if any.
func (s *store) live(account, clOrd string) *vOrder {
	id, ok := s.byCl[ckey{account, clOrd}]
	if !ok {
		return nil
	}
	o := s.orders[id]
	if o.ord.OrdStatus == "Rejected" {
		return nil
	}
	return o
}

// applyLocked drains the engine and turns each event into entities and
// pushes. Caller holds v.mu.
func (v *Venue) applyLocked() {
	for {
		evs := v.sim.Drain()
		if len(evs) == 0 {
			return
		}
		var cancels []*vOrder
		for _, ev := range evs {
			v.history = append(v.history, ev)
			if o := v.applyEvent(ev); o != nil {
				cancels = append(cancels, o)
			}
		}
		v.flushBatch()
		for _, o := range cancels { // placeoco: a fill cancels the other order
			_ = v.sim.Cancel(bg, o.account, o.clOrd)
		}
		v.refreshPositions(evs)
	}
}

// flushBatch pushes the step's execution reports, reversed with
// ShuffleReports (their ids then arrive out of order). Caller holds v.mu.
func (v *Venue) flushBatch() {
	b := v.st.batch
	v.st.batch = nil
	if v.cfg.Faults.ShuffleReports {
		for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
			b[i], b[j] = b[j], b[i]
		}
	}
	for _, p := range b {
		v.pushLocked(p.entityType, p.eventType, p.entity, p.account)
	}
}

// flushDeferred pushes what LateCommands held back. Caller holds v.mu.
func (v *Venue) flushDeferred() {
	d := v.st.deferred
	v.st.deferred = nil
	for _, p := range d {
		v.pushLocked(p.entityType, p.eventType, p.entity, p.account)
	}
}

// applyEvent records one engine event. It returns the OCO peer to cancel,
// if the event is the first fill of a placeoco order.
func (v *Venue) applyEvent(ev broker.Event) *vOrder {
	s := v.st
	acctID := s.acctID[ev.Account]
	var o *vOrder
	if ev.ClientID != "" {
		k := ckey{ev.Account, ev.ClientID}
		if id, ok := s.byCl[k]; ok {
			o = s.orders[id]
			if o.ord.OrdStatus == "Rejected" && (ev.Kind == broker.Accepted || s.pendingFresh(k)) {
				o = nil // a resubmission of a refused order is a new order
			}
		}
		if o == nil {
			o = v.newOrder(ev)
		}
	}
	rep := execReportEnt{ID: s.id(), AccountID: acctID, ContractID: ContractID, Timestamp: stamp(ev.Time), Action: action(ev.Side), Text: ev.Reason}
	var peer *vOrder
	if o != nil {
		rep.OrderID = o.ord.ID
		rep.Action = o.ord.Action
		status := o.ord.OrdStatus
		switch ev.Kind {
		case broker.Accepted:
			status = "Working"
			if ev.LeavesQty == 0 && (o.role == broker.StopLeg || o.role == broker.TargetLeg) {
				status = "Suspended"
			}
		case broker.RejectedEv:
			if o.ord.OrdStatus == "" || o.ord.OrdStatus == "PendingNew" {
				status = "Rejected"
			}
		case broker.PartiallyFilled:
			status = "Working"
		case broker.FilledEv:
			status = "Filled"
		case broker.CancelledEv:
			status = "Canceled"
		case broker.ExpiredEv:
			status = "Expired"
		case broker.TriggeredEv, broker.Modified:
			if status == "Suspended" && ev.LeavesQty > 0 {
				status = "Working"
			}
		}
		if ev.Kind == broker.PartiallyFilled || ev.Kind == broker.FilledEv {
			o.cum += ev.FillQty
			o.cost += ev.FillQty * int64(ev.FillPrice)
			f := fillEnt{ID: s.id(), OrderID: o.ord.ID, ContractID: ContractID, Timestamp: stamp(ev.Time), TradeDate: dayOf(ev.Time),
				Action: o.ord.Action, Qty: ev.FillQty, Price: float64(ev.FillPrice) / market.TicksPerPoint, Active: true}
			s.fillIdx[f.ID] = len(s.fills)
			s.fillRep[f.ID] = rep.ID
			s.fills = append(s.fills, f)
			s.book(o.account, f)
			v.pushLocked("fill", "Created", f, o.account)
			if o.ocoPeer != 0 {
				if p := s.orders[o.ocoPeer]; p != nil && !done(p.ord.OrdStatus) {
					peer = p
				}
			}
		}
		// The order's quantity follows the engine: cum + leaves while live
		// (bracket exits are sized by their entry's fills).
		if !done(status) && status != "Rejected" {
			if q := o.cum + ev.LeavesQty; q != o.ver.OrderQty && (q > 0 || o.role != broker.Single) {
				o.ver.OrderQty = q
				v.pushLocked("orderVersion", "Updated", o.ver, o.account)
			}
		}
		if ev.Kind == broker.Modified || ev.Kind == broker.TriggeredEv {
			if st, err := v.sim.Order(o.account, o.clOrd); err == nil {
				nv := o.ver
				nv.Price, nv.StopPrice = priceOf(st.Type, st.Price, true), priceOf(st.Type, st.StopPrice, false)
				if !samePx(nv.Price, o.ver.Price) || !samePx(nv.StopPrice, o.ver.StopPrice) {
					o.ver = nv
					v.pushLocked("orderVersion", "Updated", o.ver, o.account)
				}
			}
		}
		if status != o.ord.OrdStatus {
			o.ord.OrdStatus = status
			v.pushLocked("order", "Updated", o.ord, o.account)
		}
		rep.OrdStatus = status
		rep.CumQty = o.cum
		if o.cum > 0 {
			rep.AvgPx = float64(o.cost) / float64(o.cum) / market.TicksPerPoint
		}
	}
	// The swagger's execType enum only (ExecutionReport.execType): the
	// engine's trigger of a stop has no execType of its own there, so it
	// goes out as an OrderStatus report (an assumption: the public sources
	// do not say how Tradovate reports a trigger; docs/tradovate.md).
	switch ev.Kind {
	case broker.Accepted:
		rep.ExecType = "New"
	case broker.RejectedEv:
		rep.ExecType = "Rejected"
		rep.RejectReason = "UnknownReason"
	case broker.PartiallyFilled, broker.FilledEv:
		rep.ExecType = "Trade"
		rep.LastQty = ev.FillQty
		rep.LastPx = float64(ev.FillPrice) / market.TicksPerPoint
	case broker.CancelledEv:
		rep.ExecType = "Canceled"
	case broker.TriggeredEv:
		rep.ExecType = "OrderStatus"
	case broker.ExpiredEv:
		rep.ExecType = "Expired"
	case broker.Modified:
		rep.ExecType = "Replaced"
	}
	s.reports = append(s.reports, rep)
	s.batch = append(s.batch, pushItem{"executionReport", "Created", rep, ev.Account})
	return peer
}

func (s *store) pendingFresh(k ckey) bool {
	_, ok := s.pend[k]
	return ok
}

func done(st string) bool {
	switch st {
	case "Filled", "Canceled", "Expired", "Rejected", "Completed":
		return true
	}
	return false
}

func priceOf(t market.OrderType, p market.Price, limit bool) *float64 {
	if limit && (t == market.LimitOrder || t == market.StopLimitOrder) {
		return pts(p)
	}
	if !limit && (t == market.StopOrder || t == market.StopLimitOrder) {
		return pts(p)
	}
	return nil
}

func samePx(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// newOrder creates the entities of an order the engine just reported:
// command (with the clOrdId), order and order version, from the engine's
// view of it, else from the request that placed it.
func (v *Venue) newOrder(ev broker.Event) *vOrder {
	s := v.st
	k := ckey{ev.Account, ev.ClientID}
	var (
		o      broker.Order
		role   = ev.Role
		group  = ev.GroupID
		parent int64
	)
	if p, ok := s.pend[k]; ok {
		o, role, group, parent = p.o, p.role, p.group, p.parent
	}
	if st, err := v.sim.Order(ev.Account, ev.ClientID); err == nil && ev.Kind != broker.RejectedEv {
		o, role, group = st.Order, st.Role, st.GroupID
	}
	if o.ClientID == "" {
		o = broker.Order{ClientID: ev.ClientID, Account: ev.Account, Side: ev.Side}
	}
	if parent == 0 && group != "" && role != broker.EntryLeg {
		if e := s.live(ev.Account, group); e != nil {
			parent = e.ord.ID
		}
	}
	liquidation := strings.HasPrefix(ev.ClientID, "liquidate.")
	vo := &vOrder{account: ev.Account, clOrd: ev.ClientID, role: role, group: group, external: s.externalNext}
	vo.ord = orderEnt{ID: s.id(), AccountID: s.acctID[ev.Account], ContractID: ContractID, Timestamp: stamp(ev.Time),
		Action: action(o.Side), OrdStatus: "PendingNew", ParentID: parent, Admin: liquidation && s.externalNext}
	if parent != 0 {
		vo.ord.OCOID = parent
	}
	if o.Side == market.Unknown {
		vo.ord.Action = action(ev.Side)
	}
	// clOrdId is what the client sent: nothing for a liquidation
	// (LiquidatePosition has no clOrdId field), nothing for an order from
	// the broker's own platform, and nothing at all with EmptyClOrdID.
	cl := ev.ClientID
	if liquidation || vo.external || v.cfg.Faults.EmptyClOrdID {
		cl = ""
	}
	cmd := commandEnt{ID: s.id(), OrderID: vo.ord.ID, Timestamp: vo.ord.Timestamp, ClOrdID: cl,
		CommandType: "New", CommandStatus: "RiskPassed", IsAutomated: !vo.external}
	if ev.Kind == broker.RejectedEv {
		cmd.CommandStatus = "RiskRejected"
	}
	vo.ver = orderVersionEnt{ID: s.id(), OrderID: vo.ord.ID, OrderQty: o.Qty, OrderType: typeName(o.Type),
		Price: priceOf(o.Type, o.Price, true), StopPrice: priceOf(o.Type, o.StopPrice, false), TimeInForce: tifName(o.TIF)}
	if liquidation {
		vo.ver.Text = "liquidateposition"
		if vo.external {
			vo.ver.Text = "AutoLiq"
		}
	}
	s.orders[vo.ord.ID] = vo
	s.order = append(s.order, vo.ord.ID)
	s.byCl[k] = vo.ord.ID
	s.commands = append(s.commands, cmd)
	s.versions = append(s.versions, vo.ver)
	if v.cfg.Faults.LateCommands {
		s.deferred = append(s.deferred, pushItem{"command", "Created", cmd, ev.Account})
	} else {
		v.pushLocked("command", "Created", cmd, ev.Account)
	}
	v.pushLocked("order", "Created", vo.ord, ev.Account)
	v.pushLocked("orderVersion", "Created", vo.ver, ev.Account)
	return vo
}

// position returns the account's position entity, creating it. Caller
// holds v.mu.
func (s *store) position(account string) *positionEnt {
	p := s.positions[account]
	if p == nil {
		p = &positionEnt{ID: s.id(), AccountID: s.acctID[account], ContractID: ContractID, TradeDate: s.tradeDay}
		s.positions[account] = p
	}
	return p
}

// refreshPositions updates the position entities of the accounts that
// filled in this batch.
func (v *Venue) refreshPositions(evs []broker.Event) {
	seen := map[string]bool{}
	for _, ev := range evs {
		if ev.Kind != broker.PartiallyFilled && ev.Kind != broker.FilledEv {
			continue
		}
		v.st.tradeDay = dayOf(ev.Time)
		seen[ev.Account] = true
	}
	for _, a := range sortedKeys(seen) {
		v.refreshPosition(a)
	}
}

// book adds a fill to its account's bought/sold. Caller holds v.mu.
func (s *store) book(account string, f fillEnt) {
	p := s.position(account)
	if f.Action == "Buy" {
		p.Bought += f.Qty
		p.BoughtValue += float64(f.Qty) * f.Price
	} else {
		p.Sold += f.Qty
		p.SoldValue += float64(f.Qty) * f.Price
	}
	p.Timestamp = f.Timestamp
}

// rebookFills recomputes an account's bought/sold from the day's active
// fills (after a bust or a correction). Caller holds v.mu.
func (s *store) rebookFills(a string) {
	p := s.position(a)
	p.Bought, p.BoughtValue, p.Sold, p.SoldValue = 0, 0, 0, 0
	for _, f := range s.fills {
		if o := s.orders[f.OrderID]; o != nil && o.account == a && f.Active {
			s.book(a, f)
		}
	}
}

// refreshPosition updates one account's position entity: netPos/netPrice
// from the engine, prevPos and prevPrice from the carried position
// (bought/sold are booked fill by fill). Caller holds v.mu.
func (v *Venue) refreshPosition(a string) {
	s := v.st
	p := s.position(a)
	p.TradeDate = s.tradeDay
	ep, err := v.sim.Position(a)
	if err != nil {
		v.log.Error("venue: engine position", "account", a, "err", err)
		return
	}
	p.NetPos = ep.Qty
	p.NetPrice = nil
	if c, ok := s.carried[a]; ok {
		p.PrevPos, p.PrevPrice = c.Qty, pts(c.Price)
	}
	if ep.Qty != 0 && (p.Bought != 0 || p.Sold != 0) {
		np := float64(ep.CostTick) / float64(ep.Qty) / market.TicksPerPoint
		p.NetPrice = &np
	}
	v.pushLocked("position", "Updated", *p, a)
}

// rebook resets the engine's position of an account to its carried
// position plus the day's active fills (after a bust or a correction).
// Caller holds v.mu.
func (v *Venue) rebook(a string) error {
	s := v.st
	var fills []sim.Fill
	if c, ok := s.carried[a]; ok && c.Qty != 0 {
		side, q := market.Buy, c.Qty
		if q < 0 {
			side, q = market.Sell, -q
		}
		fills = append(fills, sim.Fill{Side: side, Qty: q, Price: c.Price})
	}
	for _, f := range s.fills {
		o := s.orders[f.OrderID]
		if o == nil || o.account != a || !f.Active {
			continue
		}
		px, err := market.PriceFromPoints(f.Price)
		if err != nil {
			return fmt.Errorf("venue: rebook %s: fill %d: %w", a, f.ID, err)
		}
		side := market.Buy
		if f.Action == "Sell" {
			side = market.Sell
		}
		fills = append(fills, sim.Fill{Side: side, Qty: f.Qty, Price: px})
	}
	return v.sim.Rebook(a, fills)
}

// snapshot builds the user/syncrequest answer for some accounts (nil = all).
func (v *Venue) snapshot(accounts map[int64]bool, user int64) syncSnapshot {
	s := v.st
	in := func(id int64) bool { return accounts == nil || accounts[id] }
	var snap syncSnapshot
	snap.Users = []userEnt{{ID: user, Name: "demo", Status: "Active"}}
	for _, a := range s.sortedAccounts() {
		if !in(a.ID) {
			continue
		}
		snap.Accounts = append(snap.Accounts, a)
		snap.AccountRiskStatuses = append(snap.AccountRiskStatuses, *s.risk[a.Name])
		if al := s.autoLiq[a.Name]; al != nil {
			snap.UserAccountAutoLiqs = append(snap.UserAccountAutoLiqs, *al)
		}
		snap.CashBalances = append(snap.CashBalances, v.cashBalanceLocked(a.Name))
	}
	acctOf := map[int64]int64{}
	for _, id := range s.order {
		o := s.orders[id]
		acctOf[id] = o.ord.AccountID
		if in(o.ord.AccountID) {
			snap.Orders = append(snap.Orders, o.ord)
			snap.OrderVersions = append(snap.OrderVersions, o.ver)
		}
	}
	for _, c := range s.commands {
		if in(acctOf[c.OrderID]) {
			snap.Commands = append(snap.Commands, c)
		}
	}
	for _, f := range s.fills {
		if in(acctOf[f.OrderID]) {
			snap.Fills = append(snap.Fills, f)
		}
	}
	for _, a := range s.sortedAccounts() {
		if p := s.positions[a.Name]; p != nil && in(a.ID) {
			snap.Positions = append(snap.Positions, *p)
		}
	}
	for _, r := range s.reports {
		if in(r.AccountID) {
			snap.ExecutionReports = append(snap.ExecutionReports, r)
		}
	}
	if v.cfg.Faults.ShuffleReports {
		r := snap.ExecutionReports
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
	}
	snap.Contracts = []contractEnt{{ID: ContractID, Name: v.cfg.Symbol}}
	return snap
}

func (s *store) sortedAccounts() []accountEnt {
	out := make([]accountEnt, 0, len(s.acctID))
	for name, id := range s.acctID {
		out = append(out, accountEnt{ID: id, Name: name, UserID: userID, AccountType: "Customer", Active: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *store) String() string { return "venue store: " + strconv.Itoa(len(s.orders)) + " orders" }
