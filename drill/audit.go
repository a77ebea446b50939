package drill

// audit.go: every request the desk sends the in-process venue is judged
// against the venue's own state at the moment it arrives (its position,
// its open orders, its last trade), before the venue acts on it:
//
//   - invariant 1: an order that opens or adds to a position comes as a
//     bracket; a single order never adds risk;
//   - invariant 2: a bracket's stop and every repair stop are stop-market
//     orders and GTC (invariant 9); a stop is never moved away from the
//     market; a protective stop is never cancelled while the position it
//     protects would be left uncovered;
//   - invariant 3: an add (a bracket on the side of the open position) only
//     while the position is in profit by at least a tick at the venue's last
//     trade, and at a price no worse than the position's average entry.
//
// What fails is kept on the venue (it outlives the desks) and the checker
// reports it.

import (
	"context"
	"fmt"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

// breach records one audit failure.
func (v *venue) breach(format string, args ...any) {
	v.mu.Lock()
	v.audits = append(v.audits, fmt.Sprintf(format, args...))
	v.mu.Unlock()
}

// auditFindings returns the audit failures from the n-th on.
func (v *venue) auditFindings(n int) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if n >= len(v.audits) {
		return nil
	}
	return append([]string(nil), v.audits[n:]...)
}

func (v *venue) lastPrice() market.Price {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.last.Price
}

// auditBracket judges a bracket as it reaches the venue.
func (v *venue) auditBracket(b broker.Bracket) {
	e := b.Entry
	acct := e.Account
	if b.Stop.Type != market.StopOrder {
		v.breach("%s: bracket %s's stop %s is a %s order, not stop-market (invariant 2)", acct, e.ClientID, b.Stop.ClientID, b.Stop.Type)
	}
	if b.Stop.TIF != broker.GTC {
		v.breach("%s: bracket %s's stop %s is %s, not GTC (invariant 9)", acct, e.ClientID, b.Stop.ClientID, b.Stop.TIF)
	}
	if b.Stop.ClientID == "" || b.Target.ClientID == "" || b.Stop.StopPrice <= 0 {
		v.breach("%s: bracket %s without a stop or a target (invariant 1)", acct, e.ClientID)
	}
	pos, err := v.Sim.Position(acct)
	if err != nil || pos.Qty == 0 {
		return
	}
	if e.Side.Sign()*sign(pos.Qty) < 0 {
		v.breach("%s: entry %s against the open position %d (the gate's rule: exit first)", acct, e.ClientID, pos.Qty)
		return
	}
	// An add (invariant 3), judged on the venue's numbers.
	last := v.lastPrice()
	q, cost := abs(pos.Qty), abs(pos.CostTick)
	px := last // a market add fills at the market
	switch e.Type {
	case market.LimitOrder:
		px = e.Price
	case market.StopOrder, market.StopLimitOrder:
		v.breach("%s: add %s is a resting %s order (an add must be marketable; invariant 3)", acct, e.ClientID, e.Type)
		return
	}
	if pos.Qty > 0 {
		if int64(last)*q-cost < q {
			v.breach("%s: add %s to a long of %d while not in profit by a tick (last %s, average %s; invariant 3)",
				acct, e.ClientID, pos.Qty, last, market.Price(cost/q))
		}
		if int64(px)*q < cost {
			v.breach("%s: add %s to a long at %s, below its average entry (invariant 3)", acct, e.ClientID, px)
		}
		return
	}
	if cost-int64(last)*q < q {
		v.breach("%s: add %s to a short of %d while not in profit by a tick (last %s, average %s; invariant 3)",
			acct, e.ClientID, pos.Qty, last, market.Price(cost/q))
	}
	if int64(px)*q > cost {
		v.breach("%s: add %s to a short at %s, above its average entry (invariant 3)", acct, e.ClientID, px)
	}
}

// auditOrder judges a single order: it may only reduce risk, and a stop is
// a GTC stop-market.
func (v *venue) auditOrder(o broker.Order) {
	pos, err := v.Sim.Position(o.Account)
	if err != nil {
		return
	}
	if pos.Qty == 0 || o.Side.Sign()*sign(pos.Qty) > 0 {
		v.breach("%s: single order %s (%s %d %s) would open or add to the position %d without a bracket (invariant 1)",
			o.Account, o.ClientID, o.Side, o.Qty, o.Type, pos.Qty)
	}
	if o.Type == market.StopLimitOrder {
		v.breach("%s: stop %s is a stop-limit order, not stop-market (invariant 2)", o.Account, o.ClientID)
	}
	if o.Type == market.StopOrder && o.TIF != broker.GTC {
		v.breach("%s: stop %s is %s, not GTC (invariant 9)", o.Account, o.ClientID, o.TIF)
	}
}

// auditModify judges a stop move: never away from the market.
func (v *venue) auditModify(acct, id string, stopPx market.Price) {
	o, err := v.Sim.Order(acct, id)
	if err != nil || o.Type != market.StopOrder || o.Status.Done() || stopPx <= 0 {
		return
	}
	if (o.Side == market.Sell && stopPx < o.StopPrice) || (o.Side == market.Buy && stopPx > o.StopPrice) {
		v.breach("%s: %s stop %s moved from %s to %s, away from the market (invariant 2)", acct, o.Side, id, o.StopPrice, stopPx)
	}
}

// auditCancel judges a cancel: a protective stop may go only if the
// position stays fully covered without it.
func (v *venue) auditCancel(acct, id string) {
	o, err := v.Sim.Order(acct, id)
	if err != nil || o.Type != market.StopOrder || o.Status.Done() {
		return
	}
	pos, err := v.Sim.Position(acct)
	if err != nil || pos.Qty == 0 || o.Side.Sign()*sign(pos.Qty) >= 0 {
		return
	}
	open, _ := v.Sim.OpenOrders(context.Background(), acct)
	var cover int64
	for _, x := range open {
		if x.ClientID != id && x.Type == market.StopOrder && x.Side == o.Side &&
			(x.Status == broker.Working || x.Status == broker.Triggered) {
			cover += x.Qty - x.FilledQty
		}
	}
	if cover < abs(pos.Qty) {
		v.breach("%s: protective stop %s cancelled while the position %d is open (cover left %d; invariant 2)", acct, id, pos.Qty, cover)
	}
}
