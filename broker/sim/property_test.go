// property_test.go: rapid property tests over random trade streams and
// order flow: the venue's position equals the sum of signed fills, fills
// never exceed a trade's size or cross a limit, bracket exits never close
// more than their entry opened, and after liquidate no order outlives the
// flat position.
package sim_test

import (
	"context"
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/market"
)

type propModel struct {
	t      *rapid.T
	s      *sim.Sim
	now    int64
	last   market.Price
	seq    uint64
	fills  map[string]int64 // account → Σ signed fill qty
	orders map[string]broker.Order
	ids    []string         // account/id
	entry  map[string]int64 // group → entry fills
	exits  map[string]int64 // group → exit fills
	n      int
}

func (m *propModel) absorb(evs []broker.Event) int64 {
	var filled int64
	for _, e := range evs {
		if e.Seq != m.seq+1 {
			m.t.Fatalf("seq %d after %d", e.Seq, m.seq)
		}
		m.seq = e.Seq
		if e.Kind != broker.PartiallyFilled && e.Kind != broker.FilledEv {
			continue
		}
		filled += e.FillQty
		m.fills[e.Account] += e.Side.Sign() * e.FillQty
		o, ok := m.orders[e.Account+"/"+e.ClientID]
		if ok && (o.Type == market.LimitOrder) && !within(o.Side, e.FillPrice, o.Price) {
			m.t.Fatalf("limit %s %s@%s filled at %s", e.ClientID, o.Side, o.Price, e.FillPrice)
		}
		switch e.Role {
		case broker.EntryLeg:
			m.entry[e.GroupID] += e.FillQty
		case broker.StopLeg, broker.TargetLeg:
			m.exits[e.GroupID] += e.FillQty
			if m.exits[e.GroupID] > m.entry[e.GroupID] {
				m.t.Fatalf("bracket %s: exits filled %d > entry %d", e.GroupID, m.exits[e.GroupID], m.entry[e.GroupID])
			}
		}
	}
	return filled
}

func within(side market.Side, fill, limit market.Price) bool {
	if side == market.Buy {
		return fill <= limit
	}
	return fill >= limit
}

func (m *propModel) checkPositions() {
	for _, a := range []string{"A", "B"} {
		p, _ := m.s.Position(a)
		if p.Qty != m.fills[a] {
			m.t.Fatalf("%s: venue position %d, Σ fills %d", a, p.Qty, m.fills[a])
		}
	}
}

func (m *propModel) trade(size int64) {
	m.now += 1e6
	m.last = max(1, m.last+market.Price(rapid.IntRange(-4, 4).Draw(m.t, "move")))
	m.s.OnTrade(market.Trade{Time: m.now, Price: m.last, Size: size})
	if got := m.absorb(m.s.Drain()); got > size {
		m.t.Fatalf("trade of %d filled %d", size, got)
	}
}

func (m *propModel) order(acct string) broker.Order {
	m.n++
	side := rapid.SampledFrom([]market.Side{market.Buy, market.Sell}).Draw(m.t, "side")
	typ := rapid.SampledFrom([]market.OrderType{market.MarketOrder, market.LimitOrder, market.StopOrder, market.StopLimitOrder}).Draw(m.t, "type")
	off := market.Price(rapid.IntRange(-12, 12).Draw(m.t, "off"))
	o := broker.Order{ClientID: fmt.Sprintf("o%d", m.n), Account: acct, Side: side, Qty: int64(rapid.IntRange(0, 4).Draw(m.t, "qty")),
		Type: typ, TIF: broker.GTC}
	switch typ {
	case market.LimitOrder:
		o.Price = m.last + off
	case market.StopOrder:
		o.StopPrice = m.last + off
	case market.StopLimitOrder:
		o.StopPrice = m.last + off
		o.Price = o.StopPrice + market.Price(side.Sign()*int64(rapid.IntRange(-1, 4).Draw(m.t, "lim")))
	}
	return o
}

func TestPropertyPositionIsSumOfFills(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s, err := sim.New(sim.Config{Accounts: []string{"A", "B"}, Synchronous: true,
			QueueAhead: int64(rapid.IntRange(0, 5).Draw(t, "queue"))})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		m := &propModel{t: t, s: s, now: day0, last: P, fills: map[string]int64{}, orders: map[string]broker.Order{},
			entry: map[string]int64{}, exits: map[string]int64{}}
		ctx := context.Background()
		m.trade(1)
		steps := rapid.IntRange(1, 100).Draw(t, "steps")
		for range steps {
			acct := rapid.SampledFrom([]string{"A", "B"}).Draw(t, "acct")
			switch rapid.IntRange(0, 12).Draw(t, "action") {
			case 0, 1, 2:
				m.trade(int64(rapid.IntRange(1, 6).Draw(t, "size")))
			case 3:
				o := m.order(acct)
				if s.SubmitOrder(ctx, o) == nil {
					m.orders[acct+"/"+o.ClientID] = o
					m.ids = append(m.ids, acct+"/"+o.ClientID)
					if rapid.Bool().Draw(t, "resubmit") {
						n := len(s.Drain())
						m.seq += uint64(n) // accepted events are not fills
						if err := s.SubmitOrder(ctx, o); err != nil || len(s.Drain()) != 0 {
							t.Fatalf("resubmission: %v", err)
						}
					}
				}
			case 4, 10, 11, 12:
				e := m.order(acct)
				stop := market.Price(rapid.IntRange(1, 6).Draw(t, "stop"))
				tgt := market.Price(rapid.IntRange(1, 6).Draw(t, "target"))
				ref := m.last
				switch e.Type {
				case market.LimitOrder:
					ref = e.Price
				case market.StopOrder, market.StopLimitOrder:
					ref = e.StopPrice
				}
				sg := market.Price(e.Side.Sign())
				b := broker.Bracket{Entry: e,
					Stop:   broker.Order{ClientID: e.ClientID + ".s", Side: e.Side.Opposite(), Type: market.StopOrder, StopPrice: ref - sg*stop},
					Target: broker.Order{ClientID: e.ClientID + ".t", Side: e.Side.Opposite(), Type: market.LimitOrder, Price: ref + sg*tgt}}
				if s.SubmitBracket(ctx, b) == nil {
					m.orders[acct+"/"+e.ClientID] = e
					m.orders[acct+"/"+b.Target.ClientID] = b.Target
					m.ids = append(m.ids, acct+"/"+e.ClientID, acct+"/"+b.Stop.ClientID, acct+"/"+b.Target.ClientID)
				}
			case 5:
				if len(m.ids) > 0 {
					id := rapid.SampledFrom(m.ids).Draw(t, "cancel")
					_ = s.Cancel(ctx, id[:1], id[2:])
				}
			case 6:
				if len(m.ids) > 0 {
					id := rapid.SampledFrom(m.ids).Draw(t, "modify")
					np := m.last + market.Price(rapid.IntRange(-10, 10).Draw(t, "np"))
					if o, ok := m.orders[id]; ok && o.Type == market.LimitOrder {
						if s.Modify(ctx, id[:1], id[2:], np, 0) == nil {
							o.Price = np
							m.orders[id] = o
						}
					} else {
						_ = s.Modify(ctx, id[:1], id[2:], 0, np)
					}
				}
			case 7:
				_ = s.CancelAll(ctx, acct)
			case 8:
				if err := s.Liquidate(ctx, acct); err != nil {
					t.Fatal(err)
				}
				m.absorb(s.Drain())
				open, _ := s.OpenOrders(ctx, acct)
				p, _ := s.Position(acct)
				if (p.Qty == 0 && len(open) != 0) || (p.Qty != 0 && (len(open) != 1 || open[0].Qty != abs(p.Qty) || open[0].Type != market.MarketOrder)) {
					t.Fatalf("after liquidate: position %d, open %+v", p.Qty, open)
				}
			case 9:
				m.trade(int64(rapid.IntRange(50, 100).Draw(t, "big")))
			}
			m.absorb(s.Drain())
			m.checkPositions()
		}
		// Liquidate both accounts: one trade large enough flattens them and
		// no order (no exit) is left.
		for _, a := range []string{"A", "B"} {
			if err := s.Liquidate(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		m.absorb(s.Drain())
		m.trade(1000)
		m.checkPositions()
		for _, a := range []string{"A", "B"} {
			open, _ := s.OpenOrders(ctx, a)
			p, _ := s.Position(a)
			if p.Qty != 0 || len(open) != 0 {
				t.Fatalf("%s after liquidate and a trade: position %d, open %+v", a, p.Qty, open)
			}
		}
	})
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
