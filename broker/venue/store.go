// This file is the venue's Tradovate entities (orders, order versions,
// commands, fills, positions, execution reports) and their derivation from
// the engine's events, one execution report per engine event.

package venue

import (
	"fmt"
	"strings"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

type ckey struct{ account, clOrd string }

type vOrder struct {
	ord     orderEnt
	ver     orderVersionEnt
	account string
	clOrd   string
	role    broker.Role
	group   string
	cum     int64
	cost    int64
	ocoPeer int64 // placeoco: the other order's id
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
	reports   []execReportEnt
	positions map[string]*positionEnt
	pend      map[ckey]pendingOrder // requests in flight: details for orders the engine has not kept
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
		byCl: map[ckey]int64{}, positions: map[string]*positionEnt{}, pend: map[ckey]pendingOrder{}}
	for i, a := range cfg.Accounts {
		id := int64(10001 + i)
		s.acctID[a] = id
		s.acctName[id] = a
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
		for _, o := range cancels { // placeoco: a fill cancels the other order
			_ = v.sim.Cancel(bg, o.account, o.clOrd)
		}
		v.refreshPositions(evs)
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
	rep := execReportEnt{ID: s.id(), AccountID: acctID, Timestamp: stamp(ev.Time), Action: action(ev.Side), Text: ev.Reason}
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
			f := fillEnt{ID: s.id(), OrderID: o.ord.ID, ContractID: ContractID, Timestamp: stamp(ev.Time),
				Action: o.ord.Action, Qty: ev.FillQty, Price: float64(ev.FillPrice) / market.TicksPerPoint, Active: true}
			s.fills = append(s.fills, f)
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
		rep.LeavesQty = ev.LeavesQty
		if o.cum > 0 {
			rep.AvgPx = float64(o.cost) / float64(o.cum) / market.TicksPerPoint
		}
	}
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
		rep.ExecType = "Triggered"
	case broker.ExpiredEv:
		rep.ExecType = "Expired"
	case broker.Modified:
		rep.ExecType = "Replaced"
	}
	s.reports = append(s.reports, rep)
	v.pushLocked("executionReport", "Created", rep, ev.Account)
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
	vo := &vOrder{account: ev.Account, clOrd: ev.ClientID, role: role, group: group}
	vo.ord = orderEnt{ID: s.id(), AccountID: s.acctID[ev.Account], ContractID: ContractID, Timestamp: stamp(ev.Time),
		Action: action(o.Side), OrdStatus: "PendingNew", ParentID: parent}
	if parent != 0 {
		vo.ord.OCOID = parent
	}
	if o.Side == market.Unknown {
		vo.ord.Action = action(ev.Side)
	}
	cmd := commandEnt{ID: s.id(), OrderID: vo.ord.ID, Timestamp: vo.ord.Timestamp, ClOrdID: ev.ClientID,
		CommandType: "New", CommandStatus: "RiskPassed", IsAutomated: true}
	if ev.Kind == broker.RejectedEv {
		cmd.CommandStatus = "RiskRejected"
	}
	vo.ver = orderVersionEnt{ID: s.id(), OrderID: vo.ord.ID, OrderQty: o.Qty, OrderType: typeName(o.Type),
		Price: priceOf(o.Type, o.Price, true), StopPrice: priceOf(o.Type, o.StopPrice, false), TimeInForce: tifName(o.TIF)}
	if strings.HasPrefix(ev.ClientID, "liquidate.") {
		vo.ver.Text = "liquidateposition"
	}
	s.orders[vo.ord.ID] = vo
	s.order = append(s.order, vo.ord.ID)
	s.byCl[k] = vo.ord.ID
	s.commands = append(s.commands, cmd)
	s.versions = append(s.versions, vo.ver)
	v.pushLocked("command", "Created", cmd, ev.Account)
	v.pushLocked("order", "Created", vo.ord, ev.Account)
	v.pushLocked("orderVersion", "Created", vo.ver, ev.Account)
	return vo
}

// refreshPositions updates the position entities of the accounts that
// filled in this batch from the engine (bought/sold from the fills).
func (v *Venue) refreshPositions(evs []broker.Event) {
	s := v.st
	seen := map[string]bool{}
	for _, ev := range evs {
		if ev.Kind != broker.PartiallyFilled && ev.Kind != broker.FilledEv {
			continue
		}
		p := s.positions[ev.Account]
		if p == nil {
			p = &positionEnt{ID: s.id(), AccountID: s.acctID[ev.Account], ContractID: ContractID}
			s.positions[ev.Account] = p
		}
		px := float64(ev.FillPrice) / market.TicksPerPoint
		if ev.Side == market.Buy {
			p.Bought += ev.FillQty
			p.BoughtValue += float64(ev.FillQty) * px
		} else {
			p.Sold += ev.FillQty
			p.SoldValue += float64(ev.FillQty) * px
		}
		p.Timestamp = stamp(ev.Time)
		seen[ev.Account] = true
	}
	for a := range seen {
		p := s.positions[a]
		ep, err := v.sim.Position(a)
		if err != nil {
			v.log.Error("venue: engine position", "account", a, "err", err)
			continue
		}
		p.NetPos = ep.Qty
		p.NetPrice = 0
		if ep.Qty != 0 {
			p.NetPrice = float64(ep.CostTick) / float64(ep.Qty) / market.TicksPerPoint
		}
		v.pushLocked("position", "Updated", *p, a)
	}
}

// snapshot builds the user/syncrequest answer for some accounts (nil = all).
func (s *store) snapshot(accounts map[int64]bool, user int64) syncSnapshot {
	in := func(id int64) bool { return accounts == nil || accounts[id] }
	var snap syncSnapshot
	snap.Users = []userEnt{{ID: user, Name: "demo", Status: "Active"}}
	for _, a := range s.sortedAccounts() {
		if in(a.ID) {
			snap.Accounts = append(snap.Accounts, a)
		}
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
	snap.Contracts = []contractEnt{{ID: ContractID, Name: ""}}
	return snap
}

func (s *store) sortedAccounts() []accountEnt {
	out := make([]accountEnt, 0, len(s.acctID))
	for name, id := range s.acctID {
		out = append(out, accountEnt{ID: id, Name: name, UserID: userID, AccountType: "Customer", Active: true})
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (s *store) String() string { return fmt.Sprintf("venue store: %d orders", len(s.orders)) }
