// sim_test.go: table tests of the fill rules for every order type, the
// bracket (OSO/OCO) paths, the gap scenario, positions and PnL at the venue,
// idempotency, rejections and event stamping, on a synchronous Sim.
package sim_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/market"
)

// P is 5000.00 in ticks; tests write prices as P±ticks.
const P = market.Price(5000 * market.TicksPerPoint)

// day0 is 10:00 ET on a Monday (RTH), in ns.
var day0 = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC).UnixNano()

type venue struct {
	t   *testing.T
	s   *sim.Sim
	now int64
	evs []broker.Event
}

func newVenue(t *testing.T, cfg sim.Config) *venue {
	t.Helper()
	if cfg.Accounts == nil {
		cfg.Accounts = []string{"A", "B"}
	}
	cfg.Synchronous = true
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &venue{t: t, s: s, now: day0}
}

func (v *venue) trade(p market.Price, size int64) {
	v.now += int64(time.Second)
	v.s.OnTrade(market.Trade{Time: v.now, Price: p, Size: size})
	v.drain()
}

func (v *venue) drain() {
	v.evs = append(v.evs, v.s.Drain()...)
}

func (v *venue) submit(o broker.Order) {
	v.t.Helper()
	if o.Account == "" {
		o.Account = "A"
	}
	if err := v.s.SubmitOrder(context.Background(), o); err != nil {
		v.t.Fatalf("submit %s: %v", o.ClientID, err)
	}
	v.drain()
}

func (v *venue) bracket(e broker.Order, stop, target market.Price) {
	v.t.Helper()
	if e.Account == "" {
		e.Account = "A"
	}
	b := broker.Bracket{Entry: e,
		Stop:   broker.Order{ClientID: e.ClientID + ".stop", Side: e.Side.Opposite(), Qty: e.Qty, Type: market.StopOrder, StopPrice: stop},
		Target: broker.Order{ClientID: e.ClientID + ".target", Side: e.Side.Opposite(), Qty: e.Qty, Type: market.LimitOrder, Price: target}}
	if err := v.s.SubmitBracket(context.Background(), b); err != nil {
		v.t.Fatalf("bracket %s: %v", e.ClientID, err)
	}
	v.drain()
}

func (v *venue) cancel(id string) {
	v.t.Helper()
	if err := v.s.Cancel(context.Background(), "A", id); err != nil {
		v.t.Fatalf("cancel %s: %v", id, err)
	}
	v.drain()
}

// fills renders the fill events as "id qty@price[ slip N]" lines.
func (v *venue) fills() []string {
	var out []string
	for _, e := range v.evs {
		if e.Kind == broker.PartiallyFilled || e.Kind == broker.FilledEv {
			s := fmt.Sprintf("%s %d@%s", e.ClientID, e.FillQty, e.FillPrice)
			if e.Slippage != 0 {
				s += fmt.Sprintf(" slip %d", e.Slippage)
			}
			out = append(out, s)
		}
	}
	return out
}

// kinds renders every non-fill event for id as "kind[:leaves]".
func (v *venue) kinds(id string) []string {
	var out []string
	for _, e := range v.evs {
		if e.ClientID == id {
			out = append(out, fmt.Sprintf("%s:%d", e.Kind, e.LeavesQty))
		}
	}
	return out
}

func (v *venue) status(id string) broker.Status {
	v.t.Helper()
	o, err := v.s.Order("A", id)
	if err != nil {
		v.t.Fatal(err)
	}
	return o.Status
}

func (v *venue) pos(acct string) broker.Position {
	v.t.Helper()
	p, err := v.s.Position(acct)
	if err != nil {
		v.t.Fatal(err)
	}
	return p
}

func buy(id string, typ market.OrderType, qty int64, price, stop market.Price) broker.Order {
	return broker.Order{ClientID: id, Side: market.Buy, Qty: qty, Type: typ, Price: price, StopPrice: stop, TIF: broker.GTC}
}

func sell(id string, typ market.OrderType, qty int64, price, stop market.Price) broker.Order {
	o := buy(id, typ, qty, price, stop)
	o.Side = market.Sell
	return o
}

func TestFillRules(t *testing.T) {
	type step func(v *venue)
	cases := []struct {
		name  string
		cfg   sim.Config
		steps []step
		fills []string
		pos   int64
	}{
		{"market fills at the next trade, not the last", sim.Config{}, []step{
			func(v *venue) { v.submit(buy("m", market.MarketOrder, 2, 0, 0)) },
			func(v *venue) { v.trade(P+3, 10) },
		}, []string{"m 2@5000.75"}, 2},
		{"market partial fills limited by traded size", sim.Config{}, []step{
			func(v *venue) { v.submit(sell("m", market.MarketOrder, 5, 0, 0)) },
			func(v *venue) { v.trade(P, 2) },
			func(v *venue) { v.trade(P-1, 2) },
			func(v *venue) { v.trade(P-2, 7) },
		}, []string{"m 2@5000.00", "m 2@4999.75", "m 1@4999.50"}, -5},
		{"buy limit fills at its price when a trade prints through", sim.Config{}, []step{
			func(v *venue) { v.submit(buy("l", market.LimitOrder, 3, P-4, 0)) },
			func(v *venue) { v.trade(P-2, 50) },
			func(v *venue) { v.trade(P-6, 2) },
			func(v *venue) { v.trade(P-5, 9) },
		}, []string{"l 2@4999.00", "l 1@4999.00"}, 3},
		{"limit at its price with no queue ahead fills on the first touch", sim.Config{}, []step{
			func(v *venue) { v.submit(sell("l", market.LimitOrder, 3, P+4, 0)) },
			func(v *venue) { v.trade(P+4, 2) },
		}, []string{"l 2@5001.00"}, -2},
		{"limit at its price waits for the queue ahead", sim.Config{QueueAhead: 5}, []step{
			func(v *venue) { v.submit(sell("l", market.LimitOrder, 3, P+4, 0)) },
			func(v *venue) { v.trade(P+4, 3) }, // 2 still ahead
			func(v *venue) { v.trade(P+4, 3) }, // 1 for us
			func(v *venue) { v.trade(P+3, 9) },
			func(v *venue) { v.trade(P+4, 9) },
		}, []string{"l 1@5001.00", "l 2@5001.00"}, -3},
		{"a trade through the price fills regardless of the queue", sim.Config{QueueAhead: 100}, []step{
			func(v *venue) { v.submit(sell("l", market.LimitOrder, 3, P+4, 0)) },
			func(v *venue) { v.trade(P+4, 30) },
			func(v *venue) { v.trade(P+5, 30) },
		}, []string{"l 3@5001.00"}, -3},
		{"marketable buy limit fills at the trade price", sim.Config{}, []step{
			func(v *venue) { v.submit(buy("l", market.LimitOrder, 1, P+8, 0)) },
			func(v *venue) { v.trade(P+1, 5) },
		}, []string{"l 1@5000.25"}, 1},
		{"marketable limit the market runs from rests at its price", sim.Config{QueueAhead: 4}, []step{
			func(v *venue) { v.submit(buy("l", market.LimitOrder, 2, P+2, 0)) },
			func(v *venue) { v.trade(P+5, 5) },
			func(v *venue) { v.trade(P+2, 5) }, // queue: 4 ahead, 1 for us
			func(v *venue) { v.trade(P+1, 5) },
		}, []string{"l 1@5000.50", "l 1@5000.50"}, 2},
		{"orders share a trade's size in time priority", sim.Config{}, []step{
			func(v *venue) { v.submit(buy("l1", market.LimitOrder, 2, P-4, 0)) },
			func(v *venue) { v.submit(buy("l2", market.LimitOrder, 2, P-4, 0)) },
			func(v *venue) { v.trade(P-5, 3) },
			func(v *venue) { v.trade(P-5, 3) },
		}, []string{"l1 2@4999.00", "l2 1@4999.00", "l2 1@4999.00"}, 4},
		{"buy stop triggers at its price", sim.Config{}, []step{
			func(v *venue) { v.submit(buy("s", market.StopOrder, 1, 0, P+4)) },
			func(v *venue) { v.trade(P+3, 5) },
			func(v *venue) { v.trade(P+4, 5) },
		}, []string{"s 1@5001.00"}, 1},
		{"gap: a sell stop fills at the first trade 20 points through it", sim.Config{}, []step{
			func(v *venue) { v.submit(sell("s", market.StopOrder, 2, 0, P-4)) },
			func(v *venue) { v.trade(P-3, 5) },
			func(v *venue) { v.trade(P-84, 5) },
			func(v *venue) { v.trade(P-90, 5) },
		}, []string{"s 2@4979.00 slip 80"}, -2},
		{"a stop larger than the triggering trade fills the rest at the next trades", sim.Config{}, []step{
			func(v *venue) { v.submit(sell("s", market.StopOrder, 3, 0, P-4)) },
			func(v *venue) { v.trade(P-5, 1) },
			func(v *venue) { v.trade(P-8, 5) },
		}, []string{"s 1@4998.75 slip 1", "s 2@4998.00 slip 4"}, -3},
		{"stop-limit within its limit fills at the triggering trade", sim.Config{}, []step{
			func(v *venue) { v.submit(buy("sl", market.StopLimitOrder, 1, P+6, P+4)) },
			func(v *venue) { v.trade(P+5, 5) },
		}, []string{"sl 1@5001.25 slip 1"}, 1},
		{"stop-limit gapped past its limit rests, fills when traded through", sim.Config{QueueAhead: 10}, []step{
			func(v *venue) { v.submit(buy("sl", market.StopLimitOrder, 1, P+6, P+4)) },
			func(v *venue) { v.trade(P+9, 5) },
			func(v *venue) { v.trade(P+6, 5) }, // at the limit, behind 10
			func(v *venue) { v.trade(P+5, 5) },
		}, []string{"sl 1@5001.50 slip 2"}, 1},
		{"a modified limit loses its queue position", sim.Config{QueueAhead: 4}, []step{
			func(v *venue) { v.submit(buy("l", market.LimitOrder, 1, P-2, 0)) },
			func(v *venue) { v.trade(P-2, 3) },
			func(v *venue) {
				if err := v.s.Modify(context.Background(), "A", "l", P-2, 0); err != nil {
					v.t.Fatal(err)
				}
			},
			func(v *venue) { v.trade(P-2, 3) }, // would have filled 2 without the modify
			func(v *venue) { v.trade(P-2, 3) },
		}, []string{"l 1@4999.50"}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newVenue(t, c.cfg)
			v.trade(P, 1)
			for _, st := range c.steps {
				st(v)
			}
			if got := v.fills(); strings.Join(got, "\n") != strings.Join(c.fills, "\n") {
				t.Fatalf("fills:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.fills, "\n"))
			}
			if p := v.pos("A"); p.Qty != c.pos {
				t.Fatalf("position %d, want %d", p.Qty, c.pos)
			}
		})
	}
}

func TestBrackets(t *testing.T) {
	long := func(id string, qty int64, entry market.Price) broker.Order {
		return buy(id, market.LimitOrder, qty, entry, 0)
	}
	cases := []struct {
		name   string
		steps  func(v *venue)
		fills  []string
		kinds  map[string]string // id → its events
		status map[string]broker.Status
		pos    int64
	}{
		{"target fills, stop cancelled (OCO)", func(v *venue) {
			v.bracket(long("e", 2, P-2), P-10, P+8)
			v.trade(P-3, 5)
			v.trade(P+9, 5)
		}, []string{"e 2@4999.50", "e.target 2@5002.00"}, map[string]string{
			"e.stop":   "accepted:0 modified:2 cancelled:0",
			"e.target": "accepted:0 modified:2 filled:0",
		}, map[string]broker.Status{"e": broker.Filled, "e.stop": broker.Cancelled, "e.target": broker.Filled}, 0},
		{"stop fills with slippage, target cancelled", func(v *venue) {
			v.bracket(long("e", 2, P-2), P-10, P+8)
			v.trade(P-3, 5)
			v.trade(P-12, 5)
		}, []string{"e 2@4999.50", "e.stop 2@4997.00 slip 2"}, map[string]string{
			"e.target": "accepted:0 modified:2 cancelled:0",
		}, map[string]broker.Status{"e.stop": broker.Filled, "e.target": broker.Cancelled}, 0},
		{"partial entry arms partial exits", func(v *venue) {
			v.bracket(long("e", 5, P-2), P-10, P+8)
			v.trade(P-3, 2)
		}, []string{"e 2@4999.50"}, map[string]string{
			"e":        "accepted:5 partially_filled:3",
			"e.stop":   "accepted:0 modified:2",
			"e.target": "accepted:0 modified:2",
		}, map[string]broker.Status{"e": broker.Working, "e.stop": broker.Working}, 2},
		{"a partial target fill reduces the stop; more entry fills grow both", func(v *venue) {
			v.bracket(long("e", 5, P-2), P-10, P+8)
			v.trade(P-3, 2)
			v.trade(P+9, 1)
			v.trade(P-3, 10)
			v.trade(P-11, 10)
		}, []string{"e 2@4999.50", "e.target 1@5002.00", "e 3@4999.50", "e.stop 4@4997.25 slip 1"}, map[string]string{
			"e.stop":   "accepted:0 modified:2 modified:1 modified:4 triggered:4 filled:0",
			"e.target": "accepted:0 modified:2 partially_filled:1 modified:4 cancelled:0",
		}, nil, 0},
		{"an exit that closes the bracket cancels the unfilled entry", func(v *venue) {
			v.bracket(long("e", 5, P-2), P-10, P+8)
			v.trade(P-3, 2)
			v.trade(P+9, 10)
			v.trade(P-3, 10)
		}, []string{"e 2@4999.50", "e.target 2@5002.00"}, map[string]string{
			"e": "accepted:5 partially_filled:3 cancelled:0",
		}, map[string]broker.Status{"e": broker.Cancelled, "e.stop": broker.Cancelled}, 0},
		{"cancelling an unfilled entry cancels its legs", func(v *venue) {
			v.bracket(long("e", 1, P-2), P-10, P+8)
			v.cancel("e")
		}, nil, map[string]string{
			"e.stop":   "accepted:0 cancelled:0",
			"e.target": "accepted:0 cancelled:0",
		}, map[string]broker.Status{"e": broker.Cancelled, "e.stop": broker.Cancelled, "e.target": broker.Cancelled}, 0},
		{"cancelling a partly filled entry keeps the armed exits", func(v *venue) {
			v.bracket(long("e", 3, P-2), P-10, P+8)
			v.trade(P-3, 1)
			v.cancel("e")
			v.trade(P+8, 5)
		}, []string{"e 1@4999.50", "e.target 1@5002.00"}, nil,
			map[string]broker.Status{"e": broker.Cancelled, "e.stop": broker.Cancelled, "e.target": broker.Filled}, 0},
		{"cancelling one leg leaves the other protecting", func(v *venue) {
			v.bracket(long("e", 1, P-2), P-10, P+8)
			v.trade(P-3, 1)
			v.cancel("e.target")
			v.trade(P+9, 5)
			v.trade(P-10, 5)
		}, []string{"e 1@4999.50", "e.stop 1@4997.50"}, nil,
			map[string]broker.Status{"e.target": broker.Cancelled, "e.stop": broker.Filled}, 0},
		{"exits armed by a gap fill match from the next trade", func(v *venue) {
			v.bracket(long("e", 1, P-2), P-10, P+8)
			v.trade(P-20, 5) // fills the entry and is through the stop
			v.trade(P-21, 5) // the stop triggers here
		}, []string{"e 1@4999.50", "e.stop 1@4994.75 slip 11"}, nil, nil, 0},
		{"a market-entry short bracket", func(v *venue) {
			v.bracket(sell("e", market.MarketOrder, 2, 0, 0), P+6, P-8)
			v.trade(P, 5)
			v.trade(P-9, 1)
			v.trade(P-9, 1)
		}, []string{"e 2@5000.00", "e.target 1@4998.00", "e.target 1@4998.00"}, map[string]string{
			"e.stop": "accepted:0 modified:2 modified:1 cancelled:0",
		}, nil, 0},
		{"stop leg moved before the entry fills", func(v *venue) {
			v.bracket(long("e", 1, P-2), P-10, P+8)
			if err := v.s.Modify(context.Background(), "A", "e.stop", 0, P-6); err != nil {
				v.t.Fatal(err)
			}
			v.trade(P-3, 1)
			v.trade(P-6, 1)
		}, []string{"e 1@4999.50", "e.stop 1@4998.50"}, nil, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newVenue(t, sim.Config{})
			v.trade(P, 1)
			c.steps(v)
			if got := v.fills(); strings.Join(got, "\n") != strings.Join(c.fills, "\n") {
				t.Fatalf("fills:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.fills, "\n"))
			}
			for id, want := range c.kinds {
				if got := strings.Join(v.kinds(id), " "); got != want {
					t.Errorf("%s events: %s, want %s", id, got, want)
				}
			}
			for id, want := range c.status {
				if got := v.status(id); got != want {
					t.Errorf("%s status %s, want %s", id, got, want)
				}
			}
			if p := v.pos("A"); p.Qty != c.pos {
				t.Fatalf("position %d, want %d", p.Qty, c.pos)
			}
		})
	}
}

func TestGapSlippageReported(t *testing.T) {
	v := newVenue(t, sim.Config{})
	v.trade(P, 1)
	v.bracket(buy("e", market.MarketOrder, 3, 0, 0), P-8, P+40)
	v.trade(P, 10)
	// The market drops 20 points in one print: the stop fills there.
	v.trade(P-80, 10)
	var ev broker.Event
	for _, e := range v.evs {
		if e.ClientID == "e.stop" && e.Kind == broker.FilledEv {
			ev = e
		}
	}
	if ev.FillPrice != P-80 || ev.Slippage != 72 || ev.FillQty != 3 {
		t.Fatalf("stop fill %+v, want 3 at %s with 72 ticks slippage", ev, P-80)
	}
	p := v.pos("A")
	if p.Qty != 0 || p.Realized != -80*3 {
		t.Fatalf("position %+v, want flat with -240 ticks realized", p)
	}
}

func TestPositionsAndPnL(t *testing.T) {
	v := newVenue(t, sim.Config{})
	v.trade(P, 1)
	v.submit(buy("b1", market.MarketOrder, 2, 0, 0))
	v.trade(P, 5)
	v.submit(sell("s1", market.MarketOrder, 1, 0, 0))
	v.trade(P+4, 5) // +4 on one
	v.submit(sell("s2", market.MarketOrder, 3, 0, 0))
	v.trade(P-2, 5) // -2 on one, then short 2 at P-2
	p := v.pos("A")
	want := broker.Position{Account: "A", Qty: -2, AvgPrice: P - 2, CostTick: -2 * int64(P-2), Realized: 2}
	if p != want {
		t.Fatalf("position %+v, want %+v", p, want)
	}
	v.submit(buy("b2", market.MarketOrder, 1, 0, 0))
	v.trade(P-1, 5)
	v.submit(buy("b3", market.MarketOrder, 2, 0, 0))
	v.trade(P-4, 5)
	p = v.pos("A")
	want = broker.Position{Account: "A", Qty: 1, AvgPrice: P - 4, CostTick: int64(P - 4), Realized: 2 - 1 + 2}
	if p != want {
		t.Fatalf("position %+v, want %+v", p, want)
	}
	ps, err := v.s.Positions(context.Background())
	if err != nil || len(ps) != 2 || ps[0].Account != "A" || ps[1] != (broker.Position{Account: "B"}) {
		t.Fatalf("positions %+v %v", ps, err)
	}
}

func TestLiquidate(t *testing.T) {
	v := newVenue(t, sim.Config{})
	v.trade(P, 1)
	v.bracket(sell("e", market.MarketOrder, 4, 0, 0), P+10, P-10)
	v.trade(P, 10)
	v.bracket(sell("e2", market.LimitOrder, 1, P+20, 0), P+30, P-10)
	v.submit(buy("l", market.LimitOrder, 1, P-30, 0))
	if err := v.s.Liquidate(context.Background(), "A"); err != nil {
		t.Fatal(err)
	}
	v.drain()
	open, _ := v.s.OpenOrders(context.Background(), "A")
	if len(open) != 1 || open[0].ClientID != "liquidate.A.1" || open[0].Side != market.Buy || open[0].Qty != 4 {
		t.Fatalf("after liquidate: %+v, want only the liquidation order", open)
	}
	v.trade(P+1, 3) // the flattening order is size-limited like any market order
	v.trade(P+2, 3)
	if got := v.fills(); strings.Join(got, ",") != "e 4@5000.00,liquidate.A.1 3@5000.25,liquidate.A.1 1@5000.50" {
		t.Fatalf("fills %v", got)
	}
	open, _ = v.s.OpenOrders(context.Background(), "A")
	if p := v.pos("A"); p.Qty != 0 || len(open) != 0 {
		t.Fatalf("after liquidation: %+v, open %+v", p, open)
	}
	if p := v.pos("A"); p.Realized != -1*3-2 {
		t.Fatalf("realized %d, want -5", p.Realized)
	}
}

func TestSessionExpiry(t *testing.T) {
	v := newVenue(t, sim.Config{})
	v.trade(P, 1)
	v.submit(broker.Order{ClientID: "day", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: P - 10, TIF: broker.Day})
	v.submit(broker.Order{ClientID: "dflt", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: P - 10})
	v.submit(buy("gtc", market.LimitOrder, 1, P-10, 0))
	v.bracket(broker.Order{ClientID: "e", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: P - 10, TIF: broker.Day}, P-20, P+10)
	v.trade(P, 1)                                                    // same session: nothing happens
	v.now = time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC).UnixNano() // 18:30 ET: next session
	v.trade(P, 1)
	for id, want := range map[string]broker.Status{"day": broker.Expired, "dflt": broker.Expired, "gtc": broker.Working,
		"e": broker.Expired, "e.stop": broker.Cancelled, "e.target": broker.Cancelled} {
		if got := v.status(id); got != want {
			t.Errorf("%s: %s, want %s", id, got, want)
		}
	}
	for _, e := range v.evs {
		if e.Kind == broker.ExpiredEv && e.Time != v.now {
			t.Errorf("expiry at %d, want the new session's first trade %d", e.Time, v.now)
		}
	}
}

func TestIdempotentAndConflicts(t *testing.T) {
	v := newVenue(t, sim.Config{})
	v.trade(P, 1)
	o := buy("x", market.LimitOrder, 1, P-4, 0)
	o.Account = "A"
	v.submit(o)
	n := len(v.evs)
	v.submit(o)
	if len(v.evs) != n {
		t.Fatalf("resubmission emitted %v", v.evs[n:])
	}
	// The original request stays idempotent after a modify.
	if err := v.s.Modify(context.Background(), "A", "x", P-5, 0); err != nil {
		t.Fatal(err)
	}
	v.submit(o)
	o2 := o
	o2.Qty = 2
	err := v.s.SubmitOrder(context.Background(), o2)
	var rj *sim.RejectError
	if !errors.Is(err, broker.ErrInvalid) || !errors.As(err, &rj) || v.s.Drain() != nil {
		t.Fatalf("reused id: %v, want ErrInvalid and no event", err)
	}
	// The same id on another account is another order.
	o.Account = "B"
	v.submit(o)
	// A rejected order is not remembered.
	bad := buy("r", market.LimitOrder, 0, P-4, 0)
	bad.Account = "A"
	for range 2 {
		if err := v.s.SubmitOrder(context.Background(), bad); !errors.Is(err, broker.ErrInvalid) {
			t.Fatalf("bad order: %v", err)
		}
	}
	if got := v.s.Drain(); len(got) != 2 || got[0].Kind != broker.RejectedEv || got[1].Kind != broker.RejectedEv {
		t.Fatalf("two rejections expected, got %+v", got)
	}
	// A leg id already in use refuses the bracket without an event.
	b := broker.Bracket{Entry: buy("e", market.LimitOrder, 1, P-4, 0),
		Stop:   sell("x", market.StopOrder, 1, 0, P-8),
		Target: sell("t", market.LimitOrder, 1, P+4, 0)}
	b.Entry.Account = "A"
	if err := v.s.SubmitBracket(context.Background(), b); !errors.Is(err, broker.ErrInvalid) || v.s.Drain() != nil {
		t.Fatalf("bracket reusing a leg id: %v", err)
	}
}

func TestRejections(t *testing.T) {
	v := newVenue(t, sim.Config{PriceBand: 40})
	ctx := context.Background()
	// Before any trade there is no market to be on the wrong side of.
	if err := v.s.SubmitOrder(ctx, broker.Order{ClientID: "s0", Account: "A", Side: market.Sell, Qty: 1, Type: market.StopOrder, StopPrice: P - 8}); err != nil {
		t.Fatal(err)
	}
	v.trade(P+1, 1)
	cases := []struct {
		name string
		call func() error
		err  error
		why  string
	}{
		{"band", func() error { return v.s.SubmitOrder(ctx, sell("a", market.LimitOrder, 1, P+42, 0)) }, broker.ErrUnknownAccount, "unknown account"},
		{"beyond band", func() error {
			o := sell("a", market.LimitOrder, 1, P+42, 0)
			o.Account = "A"
			return v.s.SubmitOrder(ctx, o)
		}, broker.ErrInvalid, "more than 10.00 points"},
		{"stop at the last trade", func() error {
			o := buy("b", market.StopOrder, 1, 0, P+1)
			o.Account = "A"
			return v.s.SubmitOrder(ctx, o)
		}, broker.ErrInvalid, "wrong side"},
		{"stop-limit limit below stop", func() error {
			o := buy("c", market.StopLimitOrder, 1, P+2, P+4)
			o.Account = "A"
			return v.s.SubmitOrder(ctx, o)
		}, broker.ErrInvalid, "below its stop"},
		{"unknown type", func() error {
			return v.s.SubmitOrder(ctx, broker.Order{ClientID: "d", Account: "A", Side: market.Buy, Qty: 1, Type: 9})
		}, broker.ErrInvalid, "order type"},
		{"bad tif", func() error {
			return v.s.SubmitOrder(ctx, broker.Order{ClientID: "e", Account: "A", Side: market.Buy, Qty: 1, Type: market.MarketOrder, TIF: 7})
		}, broker.ErrInvalid, "time in force"},
		{"empty id", func() error {
			return v.s.SubmitOrder(ctx, broker.Order{Account: "A", Side: market.Buy, Qty: 1, Type: market.MarketOrder})
		}, broker.ErrInvalid, "empty client order id"},
		{"bracket with a limit stop", func() error {
			return v.s.SubmitBracket(ctx, broker.Bracket{Entry: broker.Order{ClientID: "f", Account: "A", Side: market.Buy, Qty: 1, Type: market.MarketOrder},
				Stop:   broker.Order{ClientID: "f.s", Side: market.Sell, Type: market.LimitOrder, Price: P - 4},
				Target: broker.Order{ClientID: "f.t", Side: market.Sell, Type: market.LimitOrder, Price: P + 4}})
		}, broker.ErrInvalid, "want stop"},
		{"bracket legs on the entry's side", func() error {
			return v.s.SubmitBracket(ctx, broker.Bracket{Entry: broker.Order{ClientID: "g", Account: "A", Side: market.Buy, Qty: 1, Type: market.MarketOrder},
				Stop:   broker.Order{ClientID: "g.s", Side: market.Buy, Type: market.StopOrder, StopPrice: P - 4},
				Target: broker.Order{ClientID: "g.t", Side: market.Sell, Type: market.LimitOrder, Price: P + 4}})
		}, broker.ErrInvalid, "opposite"},
		{"market bracket target below the market", func() error {
			return v.s.SubmitBracket(ctx, broker.Bracket{Entry: broker.Order{ClientID: "h", Account: "A", Side: market.Buy, Qty: 1, Type: market.MarketOrder},
				Stop:   broker.Order{ClientID: "h.s", Side: market.Sell, Type: market.StopOrder, StopPrice: P - 4},
				Target: broker.Order{ClientID: "h.t", Side: market.Sell, Type: market.LimitOrder, Price: P}})
		}, broker.ErrInvalid, "long bracket"},
		{"modify a market order", func() error {
			o := buy("m", market.MarketOrder, 1, 0, 0)
			o.Account = "A"
			if err := v.s.SubmitOrder(ctx, o); err != nil {
				return err
			}
			return v.s.Modify(ctx, "A", "m", P, 0)
		}, broker.ErrInvalid, "market order"},
		{"modify without a price", func() error { return v.s.Modify(ctx, "A", "s0", 0, 0) }, broker.ErrInvalid, "no new price"},
		{"modify unknown account", func() error { return v.s.Modify(ctx, "Z", "s0", 0, P+8) }, broker.ErrUnknownAccount, "unknown account"},
		{"cancel all unknown account", func() error { return v.s.CancelAll(ctx, "Z") }, broker.ErrUnknownAccount, "unknown account"},
	}
	for _, c := range cases {
		v.s.Drain()
		err := c.call()
		if !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
			continue
		}
		evs := v.s.Drain()
		var rej *broker.Event
		for i := range evs {
			if evs[i].Kind == broker.RejectedEv {
				rej = &evs[i]
			}
		}
		if rej == nil || !strings.Contains(rej.Reason, c.why) || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: error %v, events %+v, want a rejection saying %q", c.name, err, evs, c.why)
		}
	}
	// A refused bracket rejects all three ids.
	v.s.Drain()
	_ = v.s.SubmitBracket(ctx, broker.Bracket{Entry: broker.Order{ClientID: "k", Account: "A", Side: market.Sell, Qty: 0, Type: market.MarketOrder},
		Stop:   broker.Order{ClientID: "k.s", Side: market.Buy, Type: market.StopOrder, StopPrice: P + 4},
		Target: broker.Order{ClientID: "k.t", Side: market.Buy, Type: market.LimitOrder, Price: P - 4}})
	var ids []string
	for _, e := range v.s.Drain() {
		if e.Kind == broker.RejectedEv {
			ids = append(ids, e.ClientID+"/"+e.Role.String())
		}
	}
	if strings.Join(ids, " ") != "k/entry k.s/stop k.t/target" {
		t.Fatalf("bracket rejections %v", ids)
	}
	// No order was left behind by any rejection.
	open, _ := v.s.OpenOrders(ctx, "A")
	if len(open) != 2 { // s0 and m
		t.Fatalf("open orders %+v", open)
	}
}

func TestEventStamping(t *testing.T) {
	v := newVenue(t, sim.Config{})
	v.submit(buy("pre", market.LimitOrder, 1, P-10, 0)) // before any trade: time 0
	v.trade(P, 1)
	t1 := v.now
	v.submit(buy("m", market.MarketOrder, 1, 0, 0)) // between trades: the last trade's time
	v.trade(P+1, 1)
	want := []int64{0, t1, v.now}
	for i, e := range v.evs {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
		if e.Time != want[i] {
			t.Fatalf("event %d (%s %s) time %d, want %d", i, e.ClientID, e.Kind, e.Time, want[i])
		}
	}
}

func TestModes(t *testing.T) {
	sync, _ := sim.New(sim.Config{Synchronous: true, Accounts: []string{"A"}})
	if _, ok := <-sync.Events(); ok {
		t.Fatal("synchronous venue's Events channel is open")
	}
	async, _ := sim.New(sim.Config{Accounts: []string{"A"}})
	ctx := context.Background()
	_ = async.SubmitOrder(ctx, buy("x", market.MarketOrder, 1, 0, 0)) // unknown account "": rejected
	if async.Drain() != nil {
		t.Fatal("Drain on an asynchronous venue returned events")
	}
	if ev := <-async.Events(); ev.Kind != broker.RejectedEv {
		t.Fatalf("got %+v", ev)
	}
	_ = async.Close()
	if _, ok := <-async.Events(); ok {
		t.Fatal("Events open after Close")
	}
	if err := async.SubmitOrder(ctx, buy("y", market.MarketOrder, 1, 0, 0)); !errors.Is(err, broker.ErrDisconnected) {
		t.Fatalf("after close: %v", err)
	}
	_ = sync.Close()
	if _, err := sim.New(sim.Config{Accounts: []string{"A", "A"}}); err == nil {
		t.Fatal("duplicate account accepted")
	}
	if _, err := sim.New(sim.Config{Accounts: []string{""}}); err == nil {
		t.Fatal("empty account accepted")
	}
	if _, err := sim.New(sim.Config{QueueAhead: -1}); err == nil {
		t.Fatal("negative queue accepted")
	}
}

func TestAddAccountBadTradesAndContext(t *testing.T) {
	v := newVenue(t, sim.Config{Accounts: []string{}})
	if err := v.s.AddAccount(""); err == nil {
		t.Fatal("empty account added")
	}
	if err := v.s.AddAccount("N"); err != nil {
		t.Fatal(err)
	}
	if err := v.s.AddAccount("N"); err != nil {
		t.Fatal(err)
	}
	v.s.OnTrade(market.Trade{Time: 1, Price: P, Size: 0})
	v.s.OnTrade(market.Trade{Time: 1, Price: -1, Size: 3})
	if v.s.IgnoredTrades() != 2 {
		t.Fatalf("ignored %d", v.s.IgnoredTrades())
	}
	if _, ok := v.s.LastTrade(); ok {
		t.Fatal("ignored trade became the last trade")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := buy("x", market.MarketOrder, 1, 0, 0)
	o.Account = "N"
	if err := v.s.SubmitOrder(ctx, o); !errors.Is(err, context.Canceled) || v.s.Drain() != nil {
		t.Fatalf("cancelled context: %v", err)
	}
	v.submit(o)
	v.trade(P, 1)
	if p, _ := v.s.Position("N"); p.Qty != 1 {
		t.Fatalf("added account position %+v", p)
	}
	if _, err := v.s.Position("nope"); !errors.Is(err, broker.ErrUnknownAccount) {
		t.Fatal(err)
	}
	if _, err := v.s.Order("N", "nope"); !errors.Is(err, broker.ErrUnknownOrder) {
		t.Fatal(err)
	}
}
