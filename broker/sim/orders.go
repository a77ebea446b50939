// orders.go: the venue's request side: validation with typed rejections,
// idempotent submission of orders and brackets, modify, cancel, cancel all,
// liquidate and end-of-session expiry.
package sim

import (
	"context"
	"fmt"
	"sort"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

// RejectError is a request the venue refused. It wraps one of the broker
// sentinels (ErrInvalid, ErrUnknownAccount, ErrOrderDone) and carries the
// same reason as the RejectedEv event, when one was emitted.
type RejectError struct {
	Account  string
	ClientID string
	Reason   string
	Err      error
}

func (e *RejectError) Error() string {
	return fmt.Sprintf("sim: %s/%s rejected: %s", e.Account, e.ClientID, e.Reason)
}

func (e *RejectError) Unwrap() error { return e.Err }

// order is one order at the venue.
type order struct {
	st         broker.OrderState
	orig       broker.Order // as first submitted, for idempotency
	acct       *account
	grp        *group
	leaves     int64 // quantity that can still fill now
	cost       int64 // Σ fill qty × price
	prio       uint64
	liveFrom   uint64
	ahead      int64 // contracts still ahead at its limit price
	aggressive bool  // marketable limit: fills at the trade price
	triggered  bool
}

func (o *order) isMarket() bool {
	return o.st.Type == market.MarketOrder || (o.st.Type == market.StopOrder && o.triggered)
}

func (o *order) isLimit() bool {
	return o.st.Type == market.LimitOrder || (o.st.Type == market.StopLimitOrder && o.triggered)
}

func (o *order) event(kind broker.EventKind, reason string) broker.Event {
	return broker.Event{Account: o.st.Account, ClientID: o.st.ClientID, Kind: kind, Side: o.st.Side,
		LeavesQty: o.leaves, Reason: reason, Role: o.st.Role, GroupID: o.st.GroupID}
}

// group is a bracket: entry, stop and target. Exits are sized by
// entryFilled - exitFilled (the bracket's open quantity).
type group struct {
	orig                    broker.Bracket
	entry, stop, target     *order
	entryFilled, exitFilled int64
	closed                  bool
}

func (g *group) open() int64 { return g.entryFilled - g.exitFilled }

func (g *group) other(o *order) *order {
	if o == g.stop {
		return g.target
	}
	return g.stop
}

// reject emits a RejectedEv for ev and returns the matching error. Caller
// holds s.mu.
func (s *Sim) reject(ev broker.Event, sentinel error) error {
	ev.Kind = broker.RejectedEv
	s.emit(ev)
	return &RejectError{Account: ev.Account, ClientID: ev.ClientID, Reason: ev.Reason, Err: sentinel}
}

func orderEv(o broker.Order, role broker.Role, group, reason string) broker.Event {
	return broker.Event{Account: o.Account, ClientID: o.ClientID, Side: o.Side, Role: role, GroupID: group, Reason: reason}
}

func (s *Sim) gate(ctx context.Context, what string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sim: %s: %w", what, err)
	}
	if s.closed {
		return fmt.Errorf("sim: %s: %w", what, broker.ErrDisconnected)
	}
	return nil
}

// SubmitOrder places one order. Submitting a ClientID the account already
// used for the same order returns nil and emits nothing (one order); reusing
// it for a different order is an error wrapping broker.ErrInvalid, with no
// event (an event under that id would describe the live order). A rejected
// order is not remembered: resubmitting it is judged afresh.
func (s *Sim) SubmitOrder(ctx context.Context, o broker.Order) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.gate(ctx, "submit "+o.ClientID); err != nil {
		return err
	}
	if o.TIF == 0 {
		o.TIF = broker.Day
	}
	a := s.accts[o.Account]
	if a == nil {
		return s.reject(orderEv(o, broker.Single, "", fmt.Sprintf("unknown account %q", o.Account)), broker.ErrUnknownAccount)
	}
	if o.ClientID == "" {
		return s.reject(orderEv(o, broker.Single, "", "empty client order id"), broker.ErrInvalid)
	}
	if ex := a.orders[o.ClientID]; ex != nil {
		if ex.grp == nil && ex.orig == o {
			return nil
		}
		return &RejectError{Account: o.Account, ClientID: o.ClientID, Reason: "client order id already used by a different order", Err: broker.ErrInvalid}
	}
	if r := s.check(o); r != "" {
		return s.reject(orderEv(o, broker.Single, "", r), broker.ErrInvalid)
	}
	s.accept(a, o, broker.Single, "", "")
	return nil
}

// check validates an order against the venue's rules; "" means valid.
func (s *Sim) check(o broker.Order) string {
	if o.Side != market.Buy && o.Side != market.Sell {
		return fmt.Sprintf("side %s: must be buy or sell", o.Side)
	}
	if o.Qty <= 0 {
		return fmt.Sprintf("quantity %d: must be positive", o.Qty)
	}
	if o.TIF != broker.Day && o.TIF != broker.GTC {
		return fmt.Sprintf("time in force %s unknown", o.TIF)
	}
	switch o.Type {
	case market.MarketOrder:
		return ""
	case market.LimitOrder:
		return s.checkPrice("limit", o.Price)
	case market.StopOrder:
		if r := s.checkPrice("stop", o.StopPrice); r != "" {
			return r
		}
		return s.checkStopSide(o.Side, o.StopPrice)
	case market.StopLimitOrder:
		if r := s.checkPrice("stop", o.StopPrice); r != "" {
			return r
		}
		if r := s.checkPrice("limit", o.Price); r != "" {
			return r
		}
		if r := s.checkStopSide(o.Side, o.StopPrice); r != "" {
			return r
		}
		return checkStopLimit(o.Side, o.StopPrice, o.Price)
	}
	return fmt.Sprintf("order type %s unknown", o.Type)
}

// checkPrice refuses prices off the tick grid (not positive) and beyond
// the sanity band around the last trade.
func (s *Sim) checkPrice(what string, p market.Price) string {
	if p <= 0 {
		return fmt.Sprintf("%s price %d ticks is off the tick grid (must be a positive tick price)", what, int64(p))
	}
	if s.hasLast {
		d := p - s.last.Price
		if d < 0 {
			d = -d
		}
		if d > s.cfg.PriceBand {
			return fmt.Sprintf("%s price %s is more than %s points from the last trade %s", what, p, s.cfg.PriceBand, s.last.Price)
		}
	}
	return ""
}

// checkStopSide refuses a stop at or through the last trade: a buy stop
// must be above it, a sell stop below.
func (s *Sim) checkStopSide(side market.Side, stop market.Price) string {
	if !s.hasLast {
		return ""
	}
	if side == market.Buy && stop <= s.last.Price {
		return fmt.Sprintf("buy stop %s is at or below the last trade %s (wrong side of the market)", stop, s.last.Price)
	}
	if side == market.Sell && stop >= s.last.Price {
		return fmt.Sprintf("sell stop %s is at or above the last trade %s (wrong side of the market)", stop, s.last.Price)
	}
	return ""
}

func checkStopLimit(side market.Side, stop, limit market.Price) string {
	if side == market.Buy && limit < stop {
		return fmt.Sprintf("buy stop-limit's limit %s is below its stop %s", limit, stop)
	}
	if side == market.Sell && limit > stop {
		return fmt.Sprintf("sell stop-limit's limit %s is above its stop %s", limit, stop)
	}
	return ""
}

// accept books a valid order as working and emits Accepted.
func (s *Sim) accept(a *account, o broker.Order, role broker.Role, group, reason string) *order {
	ord := &order{st: broker.OrderState{Order: o, Status: broker.Working, GroupID: group, Role: role},
		orig: o, acct: a, leaves: o.Qty}
	a.orders[o.ClientID] = ord
	a.list = append(a.list, ord)
	s.rest(ord)
	s.emit(ord.event(broker.Accepted, reason))
	return ord
}

// rest gives an order a new time priority, a fresh queue position and
// makes it eligible from the next trade on.
func (s *Sim) rest(o *order) {
	if o.prio != 0 {
		s.stale++
	}
	s.prio++
	o.prio = s.prio
	o.liveFrom = s.nTrade + 1
	o.ahead = s.cfg.QueueAhead
	o.aggressive = false
	if o.isLimit() && s.hasLast {
		o.aggressive = (o.st.Side == market.Buy && o.st.Price > s.last.Price) ||
			(o.st.Side == market.Sell && o.st.Price < s.last.Price)
	}
	s.active = append(s.active, slot{o, o.prio})
}

// SubmitBracket places an entry with its stop (stop-market) and target
// (limit). The legs wait (Pending, zero quantity) until the entry fills;
// each entry fill arms both for the filled quantity. Leg quantities in the
// request are ignored. Leg TIF defaults to GTC, entry TIF to Day, leg
// accounts to the entry's. Resubmitting the same bracket (same entry
// ClientID, same request) returns nil and emits nothing. A refused bracket
// emits one RejectedEv per client id.
func (s *Sim) SubmitBracket(ctx context.Context, b broker.Bracket) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.gate(ctx, "submit bracket "+b.Entry.ClientID); err != nil {
		return err
	}
	e := &b.Entry
	if e.TIF == 0 {
		e.TIF = broker.Day
	}
	for _, l := range []*broker.Order{&b.Stop, &b.Target} {
		if l.TIF == 0 {
			l.TIF = broker.GTC
		}
		if l.Account == "" {
			l.Account = e.Account
		}
	}
	gid := e.ClientID
	rejectAll := func(sentinel error, reason string) error {
		var err error
		seen := map[string]bool{}
		for i, o := range []broker.Order{b.Entry, b.Stop, b.Target} {
			if o.ClientID == "" || seen[o.ClientID] {
				continue
			}
			seen[o.ClientID] = true
			ev := orderEv(o, broker.Role(i+1), gid, reason)
			ev.Account = e.Account
			if e2 := s.reject(ev, sentinel); err == nil {
				err = e2
			}
		}
		if err == nil {
			s.emit(broker.Event{Account: e.Account, Kind: broker.RejectedEv, Reason: reason, Role: broker.EntryLeg})
			err = &RejectError{Account: e.Account, Reason: reason, Err: sentinel}
		}
		return err
	}
	a := s.accts[e.Account]
	if a == nil {
		return rejectAll(broker.ErrUnknownAccount, fmt.Sprintf("unknown account %q", e.Account))
	}
	if e.ClientID == "" || b.Stop.ClientID == "" || b.Target.ClientID == "" {
		return rejectAll(broker.ErrInvalid, "a bracket needs three client order ids")
	}
	if e.ClientID == b.Stop.ClientID || e.ClientID == b.Target.ClientID || b.Stop.ClientID == b.Target.ClientID {
		return rejectAll(broker.ErrInvalid, "a bracket's three client order ids must differ")
	}
	if ex := a.orders[e.ClientID]; ex != nil {
		if ex.grp != nil && ex.grp.entry == ex && ex.grp.orig == b {
			return nil
		}
		return &RejectError{Account: e.Account, ClientID: e.ClientID, Reason: "client order id already used by a different order", Err: broker.ErrInvalid}
	}
	for _, id := range []string{b.Stop.ClientID, b.Target.ClientID} {
		if a.orders[id] != nil {
			return &RejectError{Account: e.Account, ClientID: id, Reason: "bracket leg client order id already used", Err: broker.ErrInvalid}
		}
	}
	if r := s.checkBracket(b); r != "" {
		return rejectAll(broker.ErrInvalid, r)
	}
	g := &group{orig: b}
	g.entry = s.accept(a, *e, broker.EntryLeg, gid, "")
	g.entry.grp = g
	for i, l := range []broker.Order{b.Stop, b.Target} {
		l.Qty = 0
		leg := &order{st: broker.OrderState{Order: l, Status: broker.Pending, GroupID: gid, Role: broker.Role(i + 2)},
			orig: l, acct: a, grp: g}
		a.orders[l.ClientID] = leg
		a.list = append(a.list, leg)
		if i == 0 {
			g.stop = leg
		} else {
			g.target = leg
		}
		s.emit(leg.event(broker.Accepted, "pending entry fill"))
	}
	return nil
}

func (s *Sim) checkBracket(b broker.Bracket) string {
	e, st, tg := b.Entry, b.Stop, b.Target
	if r := s.check(e); r != "" {
		return "entry: " + r
	}
	if st.Account != e.Account || tg.Account != e.Account {
		return "bracket legs must be on the entry's account"
	}
	if st.Type != market.StopOrder {
		return fmt.Sprintf("stop leg: type %s, want stop (stop-market)", st.Type)
	}
	if tg.Type != market.LimitOrder {
		return fmt.Sprintf("target leg: type %s, want limit", tg.Type)
	}
	if st.Side != e.Side.Opposite() || tg.Side != e.Side.Opposite() {
		return "bracket legs must be on the side opposite to the entry"
	}
	for _, l := range []broker.Order{st, tg} {
		if l.TIF != broker.Day && l.TIF != broker.GTC {
			return fmt.Sprintf("leg %s: time in force %s unknown", l.ClientID, l.TIF)
		}
	}
	if r := s.checkPrice("stop leg", st.StopPrice); r != "" {
		return r
	}
	if r := s.checkPrice("target leg", tg.Price); r != "" {
		return r
	}
	ref, ok := e.Price, true
	switch e.Type {
	case market.StopOrder, market.StopLimitOrder:
		ref = e.StopPrice
	case market.MarketOrder:
		ref, ok = s.last.Price, s.hasLast
	}
	if !ok {
		return ""
	}
	if e.Side == market.Buy && (st.StopPrice >= ref || tg.Price <= ref) {
		return fmt.Sprintf("long bracket needs stop %s < entry %s < target %s", st.StopPrice, ref, tg.Price)
	}
	if e.Side == market.Sell && (st.StopPrice <= ref || tg.Price >= ref) {
		return fmt.Sprintf("short bracket needs target %s < entry %s < stop %s", tg.Price, ref, st.StopPrice)
	}
	return ""
}

// lookup resolves account and order for cancel/modify. The unknown
// account case emits a RejectedEv; an unknown order id is only an error.
func (s *Sim) lookup(what, account, id string) (*order, error) {
	a := s.accts[account]
	if a == nil {
		return nil, s.reject(broker.Event{Account: account, ClientID: id,
			Reason: fmt.Sprintf("%s rejected: unknown account %q", what, account)}, broker.ErrUnknownAccount)
	}
	o := a.orders[id]
	if o == nil {
		return nil, fmt.Errorf("sim: %s %s/%s: %w", what, account, id, broker.ErrUnknownOrder)
	}
	if o.st.Status.Done() {
		ev := o.event(broker.RejectedEv, fmt.Sprintf("%s rejected: order already %s", what, o.st.Status))
		return nil, s.reject(ev, broker.ErrOrderDone)
	}
	return o, nil
}

// Cancel cancels one working or pending order. Cancelling the entry of a
// bracket before any fill cancels its legs too; cancelling a leg leaves the
// other leg working.
func (s *Sim) Cancel(ctx context.Context, account, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.gate(ctx, "cancel "+clientID); err != nil {
		return err
	}
	o, err := s.lookup("cancel", account, clientID)
	if err != nil {
		return err
	}
	s.finish(o, broker.Cancelled, "cancelled on request")
	return nil
}

// Modify changes the limit price (limit, target legs, stop-limits) or the
// stop price (stops, stop-limits not yet triggered) of a live order; a zero
// price means unchanged. The order loses its time priority and queue
// position. A refused modify emits a RejectedEv whose LeavesQty is the
// order's unchanged working quantity: the order stays live.
func (s *Sim) Modify(ctx context.Context, account, clientID string, price, stopPrice market.Price) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.gate(ctx, "modify "+clientID); err != nil {
		return err
	}
	o, err := s.lookup("modify", account, clientID)
	if err != nil {
		return err
	}
	fail := func(r string) error {
		return s.reject(o.event(broker.RejectedEv, "modify rejected: "+r), broker.ErrInvalid)
	}
	if price == 0 && stopPrice == 0 {
		return fail("no new price given")
	}
	np, ns := o.st.Price, o.st.StopPrice
	switch {
	case o.isMarket():
		return fail("a market order (or a triggered stop) has no price to change")
	case o.isLimit():
		if stopPrice != 0 {
			return fail("a limit order (or a triggered stop-limit) has no stop price to change")
		}
		if r := s.checkPrice("limit", price); r != "" {
			return fail(r)
		}
		np = price
	case o.st.Type == market.StopOrder:
		if price != 0 {
			return fail("a stop-market order has no limit price")
		}
		ns = stopPrice
	default: // stop-limit, not triggered
		if price != 0 {
			np = price
		}
		if stopPrice != 0 {
			ns = stopPrice
		}
		if r := s.checkPrice("limit", np); r != "" {
			return fail(r)
		}
		if r := checkStopLimit(o.st.Side, ns, np); r != "" {
			return fail(r)
		}
	}
	if ns != o.st.StopPrice {
		if r := s.checkPrice("stop", ns); r != "" {
			return fail(r)
		}
		if r := s.checkStopSide(o.st.Side, ns); r != "" {
			return fail(r)
		}
	}
	o.st.Price, o.st.StopPrice = np, ns
	if o.prio != 0 && o.leaves > 0 {
		s.rest(o)
	}
	s.emit(o.event(broker.Modified, "modified"))
	return nil
}

// CancelAll cancels every live order of the account, in submission order.
func (s *Sim) CancelAll(ctx context.Context, account string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.gate(ctx, "cancel all "+account); err != nil {
		return err
	}
	a := s.accts[account]
	if a == nil {
		return s.reject(broker.Event{Account: account, Reason: fmt.Sprintf("cancel all rejected: unknown account %q", account)},
			broker.ErrUnknownAccount)
	}
	s.cancelAll(a, "cancel all")
	return nil
}

func (s *Sim) cancelAll(a *account, reason string) {
	for _, o := range a.list {
		if !o.st.Status.Done() {
			s.finish(o, broker.Cancelled, reason)
		}
	}
}

// Liquidate cancels every live order of the account and, if it holds a
// position, places a market order for the whole of it (ClientID
// "liquidate.ACCOUNT.N", Accepted reason "liquidate"), all under one lock:
// no trade can match between the cancels and the flattening order, which
// fills at the next trade(s).
func (s *Sim) Liquidate(ctx context.Context, account string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.gate(ctx, "liquidate "+account); err != nil {
		return err
	}
	a := s.accts[account]
	if a == nil {
		return s.reject(broker.Event{Account: account, Reason: fmt.Sprintf("liquidate rejected: unknown account %q", account)},
			broker.ErrUnknownAccount)
	}
	s.cancelAll(a, "liquidate")
	if a.pos == 0 {
		return nil
	}
	var id string
	for {
		a.liqN++
		id = fmt.Sprintf("liquidate.%s.%d", a.id, a.liqN)
		if a.orders[id] == nil {
			break
		}
	}
	side := market.Sell
	if a.pos < 0 {
		side = market.Buy
	}
	qty := a.pos
	if qty < 0 {
		qty = -qty
	}
	s.accept(a, broker.Order{ClientID: id, Account: a.id, Side: side, Qty: qty, Type: market.MarketOrder, TIF: broker.Day},
		broker.Single, "", "liquidate")
	return nil
}

// EndSession expires every live Day order (ExpiredEv). OnTrade calls it
// itself when a trade belongs to a later Globex session than the last one;
// callers that know the session has closed may call it earlier.
func (s *Sim) EndSession() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endSession()
}

func (s *Sim) endSession() {
	for _, id := range s.sortedAccounts() {
		for _, o := range s.accts[id].list {
			if !o.st.Status.Done() && o.st.TIF == broker.Day {
				s.finish(o, broker.Expired, "day order expired at session end")
			}
		}
	}
}

func (s *Sim) sortedAccounts() []string {
	ids := make([]string, 0, len(s.accts))
	for id := range s.accts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// finish ends a live order as Cancelled or Expired and applies the bracket
// consequences: an entry that ends before any fill takes its legs with it.
func (s *Sim) finish(o *order, status broker.Status, reason string) {
	kind := broker.CancelledEv
	if status == broker.Expired {
		kind = broker.ExpiredEv
	}
	o.st.Status = status
	o.leaves = 0
	if o.prio != 0 {
		s.stale++
	}
	s.emit(o.event(kind, reason))
	g := o.grp
	if g == nil || g.closed || o != g.entry || g.entryFilled > 0 {
		return
	}
	g.closed = true
	for _, leg := range []*order{g.stop, g.target} {
		if !leg.st.Status.Done() {
			s.finish(leg, broker.Cancelled, fmt.Sprintf("bracket entry %s %s before any fill", o.st.ClientID, status))
		}
	}
}
