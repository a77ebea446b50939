// match.go: the matching engine: OnTrade walks the live orders in time
// priority, sharing the trade's size among the orders it can fill, and
// applies fills to positions and brackets (OSO arming, OCO reduction).
package sim

import (
	"fmt"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

// OnTrade feeds one printed trade to the venue. Orders submitted before
// this call can match it; exits armed by a fill at this trade, and orders
// given a new priority by it, can match from the next trade on. A trade
// whose size or price is not positive is ignored and counted
// (IgnoredTrades). A trade from a later Globex session first expires the
// Day orders of the previous one.
func (s *Sim) OnTrade(t market.Trade) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if t.Size <= 0 || t.Price <= 0 {
		s.ignored++
		return
	}
	first := !s.hasLast
	s.last, s.hasLast = t, true
	if first || t.Time >= s.sessEnd {
		ss, end := sessionOf(t.Time)
		if !first && ss != s.session {
			s.endSession()
		}
		s.session, s.sessEnd = ss, end
	}
	s.nTrade++
	if s.stale > 64 && s.stale*2 > len(s.active) {
		s.compact()
	}
	pool := t.Size
	for i := 0; i < len(s.active); i++ {
		sl := s.active[i]
		o := sl.o
		if sl.prio != o.prio || o.leaves == 0 || o.liveFrom > s.nTrade {
			continue
		}
		s.match(o, t, &pool)
	}
}

func (s *Sim) compact() {
	n := s.active[:0]
	for _, sl := range s.active {
		if sl.prio == sl.o.prio && !sl.o.st.Status.Done() {
			n = append(n, sl)
		}
	}
	clear(s.active[len(n):])
	s.active = n
	s.stale = 0
}

// within reports whether a trade at tp is at or better than limit p for side.
func within(side market.Side, tp, p market.Price) bool {
	if side == market.Buy {
		return tp <= p
	}
	return tp >= p
}

// through reports whether a trade at tp printed strictly through limit p.
func through(side market.Side, tp, p market.Price) bool {
	if side == market.Buy {
		return tp < p
	}
	return tp > p
}

func (s *Sim) match(o *order, t market.Trade, pool *int64) {
	side := o.st.Side
	switch {
	case o.isMarket():
		s.take(o, t.Price, o.leaves, pool)
	case o.st.Type == market.StopOrder || o.st.Type == market.StopLimitOrder && !o.triggered:
		stop := o.st.StopPrice
		if !within(side.Opposite(), t.Price, stop) {
			return // a buy stop needs a trade at or above it, a sell stop at or below
		}
		o.triggered = true
		if o.st.Type == market.StopLimitOrder {
			o.st.Status = broker.Triggered
		}
		s.emit(o.event(broker.TriggeredEv, fmt.Sprintf("trade %s at or through stop %s", t.Price, stop)))
		if o.st.Type == market.StopOrder {
			s.take(o, t.Price, o.leaves, pool)
			return
		}
		if within(side, t.Price, o.st.Price) {
			o.aggressive = true
			s.take(o, t.Price, o.leaves, pool)
			return
		}
		s.rest(o) // rests as a limit at its limit price, from the next trade
	case o.isLimit():
		p := o.st.Price
		if o.aggressive {
			if within(side, t.Price, p) {
				s.take(o, t.Price, o.leaves, pool)
				return
			}
			o.aggressive = false // the market moved away: it now rests at p
			o.ahead = s.cfg.QueueAhead
			return
		}
		if through(side, t.Price, p) {
			o.ahead = 0
			s.take(o, p, o.leaves, pool)
			return
		}
		if t.Price == p {
			excess := t.Size - o.ahead
			o.ahead = max(0, o.ahead-t.Size)
			if excess > 0 {
				s.take(o, p, min(o.leaves, excess), pool)
			}
		}
	}
}

// take fills up to want contracts of o at price from the trade's pool.
func (s *Sim) take(o *order, price market.Price, want int64, pool *int64) {
	q := min(want, *pool)
	if q <= 0 {
		return
	}
	*pool -= q
	s.fill(o, q, price)
}

// fill books q contracts of o at price and applies the bracket rules.
func (s *Sim) fill(o *order, q int64, price market.Price) {
	o.leaves -= q
	o.st.FilledQty += q
	o.cost += q * int64(price)
	o.st.AvgPrice = roundDiv(o.cost, o.st.FilledQty)
	o.acct.apply(o.st.Side, q, price)
	ev := o.event(broker.PartiallyFilled, "")
	ev.FillQty, ev.FillPrice = q, price
	if o.st.Type == market.StopOrder || o.st.Type == market.StopLimitOrder {
		ev.Slippage = int64(price-o.st.StopPrice) * o.st.Side.Sign()
	}
	done := func() {
		o.st.Status = broker.Filled
		ev.Kind = broker.FilledEv
		s.stale++
	}
	g := o.grp
	if g == nil || g.closed {
		if o.leaves == 0 {
			done()
		}
		s.emit(ev)
		return
	}
	if o == g.entry {
		if o.leaves == 0 {
			done()
		}
		s.emit(ev)
		g.entryFilled += q
		for _, leg := range []*order{g.stop, g.target} {
			if leg.st.Status.Done() {
				continue
			}
			leg.leaves += q
			leg.st.Qty = leg.leaves + leg.st.FilledQty
			if leg.st.Status == broker.Pending {
				leg.st.Status = broker.Working
			}
			if leg.prio == 0 {
				s.rest(leg)
			}
			s.emit(leg.event(broker.Modified, fmt.Sprintf("armed by entry %s fill", g.entry.st.ClientID)))
		}
		return
	}
	// An exit leg: the bracket's open quantity shrinks for both legs (OCO).
	g.exitFilled += q
	other := g.other(o)
	if g.open() > 0 {
		s.emit(ev)
		if !other.st.Status.Done() {
			other.leaves = g.open()
			other.st.Qty = other.leaves + other.st.FilledQty
			s.emit(other.event(broker.Modified, fmt.Sprintf("oco: reduced by %s fill", o.st.ClientID)))
		}
		return
	}
	// Closed: this leg is filled, the other leg and any unfilled entry end.
	g.closed = true
	o.st.Qty = o.st.FilledQty
	done()
	s.emit(ev)
	if !other.st.Status.Done() {
		s.finish(other, broker.Cancelled, fmt.Sprintf("oco: %s filled", o.st.ClientID))
	}
	if !g.entry.st.Status.Done() {
		s.finish(g.entry, broker.Cancelled, fmt.Sprintf("bracket closed by %s", o.st.ClientID))
	}
}
