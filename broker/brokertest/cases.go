// cases.go: the conformance cases. Prices are offsets in ticks from Base;
// every test starts with one trade at Base.
package brokertest

import (
	"errors"
	"strings"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

func isFill(id string) func(broker.Event) bool {
	return func(ev broker.Event) bool {
		return ev.ClientID == id && (ev.Kind == broker.PartiallyFilled || ev.Kind == broker.FilledEv)
	}
}

func testMarket(s *Session) {
	s.submit(broker.Order{ClientID: "m1", Side: market.Buy, Qty: 2, Type: market.MarketOrder})
	s.Trade(1, 5)
	fills := s.WaitFilled("m1")
	if q := sumFills(fills); q != 2 {
		s.T.Fatalf("filled %d, want 2", q)
	}
	for _, f := range fills {
		if f.FillPrice != Base+1 {
			s.T.Fatalf("market fill at %s, want the next trade's price %s", f.FillPrice, Base+1)
		}
	}
	s.wantPos("A", 2)
	s.wantPos("B", 0)
	s.wantNoOpen("A")
}

func testMarketShared(s *Session) {
	s.submit(broker.Order{ClientID: "m1", Side: market.Buy, Qty: 2, Type: market.MarketOrder})
	s.submit(broker.Order{ClientID: "m2", Side: market.Sell, Qty: 2, Type: market.MarketOrder, Account: "B"})
	s.Trade(0, 3) // 3 contracts traded: m1 (earlier) gets 2, m2 gets 1
	s.WaitFilled("m1")
	ev := s.WaitFunc("m2 partial", isFill("m2"))
	if ev.Kind != broker.PartiallyFilled || ev.FillQty != 1 || ev.LeavesQty != 1 {
		s.T.Fatalf("m2: %s, want a partial fill of 1 with 1 left", fmtEv(ev))
	}
	s.Trade(-1, 10)
	ev = s.Wait("m2", broker.FilledEv)
	if ev.FillQty != 1 || ev.FillPrice != Base-1 {
		s.T.Fatalf("m2 rest: %s, want 1 at %s", fmtEv(ev), Base-1)
	}
	s.wantPos("A", 2)
	s.wantPos("B", -2)
}

func testLimit(s *Session) {
	s.submit(broker.Order{ClientID: "l1", Side: market.Sell, Qty: 3, Type: market.LimitOrder, Price: Base + 4})
	s.Barrier()
	s.Trade(2, 50)
	s.NoEvent("trade below a sell limit", isFill("l1"))
	if o := s.Open("A")["l1"]; o.Status != broker.Working {
		s.T.Fatalf("l1 status %s, want working", o.Status)
	}
	s.Trade(5, 10)
	fills := s.WaitFilled("l1")
	if sumFills(fills) != 3 {
		s.T.Fatalf("l1 filled %d, want 3", sumFills(fills))
	}
	for _, f := range fills {
		if f.FillPrice < Base+4 {
			s.T.Fatalf("sell limit %s filled below its price at %s", Base+4, f.FillPrice)
		}
	}
	s.wantPos("A", -3)
}

func testStop(s *Session) {
	s.submit(broker.Order{ClientID: "s1", Side: market.Sell, Qty: 1, Type: market.StopOrder, StopPrice: Base - 4, TIF: broker.GTC})
	s.Barrier()
	s.Trade(-3, 5)
	s.NoEvent("trade above a sell stop", func(ev broker.Event) bool { return ev.ClientID == "s1" && ev.Kind != broker.Accepted })
	s.Trade(-84, 2) // a 20-point gap through the stop
	s.Wait("s1", broker.TriggeredEv)
	ev := s.Wait("s1", broker.FilledEv)
	if ev.FillPrice != Base-84 || ev.Slippage != 80 {
		s.T.Fatalf("stop fill %s, want the gap trade's price %s with 80 ticks slippage", fmtEv(ev), Base-84)
	}
	s.wantPos("A", -1)
}

func testStopLimit(s *Session) {
	s.submit(broker.Order{ClientID: "sl1", Side: market.Buy, Qty: 1, Type: market.StopLimitOrder, StopPrice: Base + 4, Price: Base + 6})
	s.submit(broker.Order{ClientID: "sl2", Side: market.Buy, Qty: 1, Type: market.StopLimitOrder, StopPrice: Base + 10, Price: Base + 11})
	s.Trade(5, 5)
	s.Wait("sl1", broker.TriggeredEv)
	ev := s.Wait("sl1", broker.FilledEv)
	if ev.FillPrice > Base+6 || ev.FillPrice < Base+4 {
		s.T.Fatalf("sl1 fill %s outside stop..limit", fmtEv(ev))
	}
	s.Trade(14, 5) // triggers sl2 beyond its limit: it rests at the limit
	s.Wait("sl2", broker.TriggeredEv)
	s.NoEvent("stop-limit triggered beyond its limit", isFill("sl2"))
	if o := s.Open("A")["sl2"]; o.Status != broker.Triggered {
		s.T.Fatalf("sl2 status %s, want triggered", o.Status)
	}
	s.Trade(10, 5)
	ev = s.Wait("sl2", broker.FilledEv)
	if ev.FillPrice > Base+11 {
		s.T.Fatalf("sl2 fill %s above its limit", fmtEv(ev))
	}
	s.wantPos("A", 2)
}

func testModify(s *Session) {
	s.submit(broker.Order{ClientID: "s1", Side: market.Sell, Qty: 2, Type: market.StopOrder, StopPrice: Base - 8, TIF: broker.GTC})
	if err := s.B.Modify(s.Ctx, "A", "s1", 0, Base-4); err != nil {
		s.T.Fatalf("modify: %v", err)
	}
	s.Wait("s1", broker.Modified)
	if o := s.Open("A")["s1"]; o.StopPrice != Base-4 {
		s.T.Fatalf("stop price %s after modify, want %s", o.StopPrice, Base-4)
	}
	s.Trade(-5, 5)
	ev := s.Wait("s1", broker.FilledEv)
	if ev.FillPrice != Base-5 || ev.Slippage != 1 {
		s.T.Fatalf("modified stop fill %s, want %s with slippage 1", fmtEv(ev), Base-5)
	}
	err := s.B.Modify(s.Ctx, "A", "s1", 0, Base-10)
	s.wantReject("modify a filled order", err, broker.ErrOrderDone, "s1")
	// A modify that puts a stop on the wrong side is refused; the order stays.
	s.submit(broker.Order{ClientID: "s2", Side: market.Sell, Qty: 1, Type: market.StopOrder, StopPrice: Base - 10, TIF: broker.GTC})
	err = s.B.Modify(s.Ctx, "A", "s2", 0, Base)
	s.wantReject("modify stop through the market", err, broker.ErrInvalid, "s2")
	if o, ok := s.Open("A")["s2"]; !ok || o.StopPrice != Base-10 {
		s.T.Fatalf("s2 after a refused modify: %+v, want working at %s", o, Base-10)
	}
}

func testCancelAll(s *Session) {
	s.submit(broker.Order{ClientID: "l1", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: Base - 10})
	s.submit(broker.Order{ClientID: "s1", Side: market.Buy, Qty: 1, Type: market.StopOrder, StopPrice: Base + 10})
	s.submit(broker.Order{ClientID: "b1", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: Base - 10, Account: "B"})
	if err := s.B.CancelAll(s.Ctx, "A"); err != nil {
		s.T.Fatalf("cancel all: %v", err)
	}
	s.Wait("l1", broker.CancelledEv)
	s.Wait("s1", broker.CancelledEv)
	s.wantNoOpen("A")
	if _, ok := s.Open("B")["b1"]; !ok {
		s.T.Fatal("cancel all on A cancelled B's order")
	}
}

func testBracketTarget(s *Session) {
	b := Bracket(broker.Order{ClientID: "e1", Side: market.Buy, Qty: 3, Type: market.LimitOrder, Price: Base - 2}, -10, 8)
	s.bracket(b)
	open := s.Open("A")
	if len(open) != 3 || open["e1.stop"].Status != broker.Pending || open["e1.target"].Status != broker.Pending {
		s.T.Fatalf("bracket before fill: %v, want entry working and both legs pending", keys(open))
	}
	s.Trade(-3, 10)
	s.WaitFilled("e1")
	s.WaitArmed("e1.stop", 3)
	s.WaitArmed("e1.target", 3)
	s.wantPos("A", 3)
	s.Trade(9, 10)
	fills := s.WaitFilled("e1.target")
	if sumFills(fills) != 3 {
		s.T.Fatalf("target filled %d, want 3", sumFills(fills))
	}
	ev := s.Wait("e1.stop", broker.CancelledEv)
	if ev.Reason == "" {
		s.T.Fatal("OCO cancel without a reason")
	}
	s.wantPos("A", 0)
	s.wantNoOpen("A")
}

func testBracketStop(s *Session) {
	b := Bracket(broker.Order{ClientID: "e1", Side: market.Sell, Qty: 2, Type: market.MarketOrder}, 6, -8)
	s.bracket(b)
	s.Trade(0, 5)
	s.WaitFilled("e1")
	s.WaitArmed("e1.stop", 2)
	s.wantPos("A", -2)
	s.Trade(7, 5)
	ev := s.Wait("e1.stop", broker.FilledEv)
	if ev.FillPrice != Base+7 || ev.Slippage != 1 {
		s.T.Fatalf("stop leg fill %s, want %s slippage 1", fmtEv(ev), Base+7)
	}
	s.Wait("e1.target", broker.CancelledEv)
	s.wantPos("A", 0)
	s.wantNoOpen("A")
}

func testBracketPartial(s *Session) {
	b := Bracket(broker.Order{ClientID: "e1", Side: market.Buy, Qty: 5, Type: market.LimitOrder, Price: Base - 2}, -10, 8)
	s.bracket(b)
	s.Trade(-3, 2) // 2 of 5 fill
	ev := s.WaitFunc("e1 partial", isFill("e1"))
	if ev.Kind != broker.PartiallyFilled || ev.FillQty != 2 || ev.LeavesQty != 3 {
		s.T.Fatalf("entry: %s, want 2 filled, 3 left", fmtEv(ev))
	}
	s.WaitArmed("e1.stop", 2)
	s.WaitArmed("e1.target", 2)
	s.Trade(9, 1) // the target takes 1: the stop shrinks to 1 (OCO)
	ev = s.WaitFunc("target partial", isFill("e1.target"))
	if ev.Kind != broker.PartiallyFilled || ev.FillQty != 1 || ev.LeavesQty != 1 {
		s.T.Fatalf("target: %s, want 1 filled, 1 left", fmtEv(ev))
	}
	s.WaitArmed("e1.stop", 1)
	s.wantPos("A", 1)
	s.Trade(-3, 10) // the rest of the entry: exits grow to 4
	s.Wait("e1", broker.FilledEv)
	s.WaitArmed("e1.stop", 4)
	s.WaitArmed("e1.target", 4)
	s.wantPos("A", 4)
	s.Trade(-11, 10)
	ev = s.Wait("e1.stop", broker.FilledEv)
	if ev.FillQty != 4 {
		s.T.Fatalf("stop: %s, want 4", fmtEv(ev))
	}
	s.Wait("e1.target", broker.CancelledEv)
	s.wantPos("A", 0)
	s.wantNoOpen("A")
}

func testBracketCancelEntry(s *Session) {
	s.bracket(Bracket(broker.Order{ClientID: "e1", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: Base - 20}, -30, 10))
	if err := s.B.Cancel(s.Ctx, "A", "e1"); err != nil {
		s.T.Fatalf("cancel entry: %v", err)
	}
	s.Wait("e1", broker.CancelledEv)
	s.Wait("e1.stop", broker.CancelledEv)
	s.Wait("e1.target", broker.CancelledEv)
	s.wantNoOpen("A")
}

func testLiquidate(s *Session) {
	s.bracket(Bracket(broker.Order{ClientID: "e1", Side: market.Buy, Qty: 2, Type: market.MarketOrder}, -10, 10))
	s.Trade(0, 5)
	s.WaitFilled("e1")
	s.WaitArmed("e1.stop", 2)
	s.WaitArmed("e1.target", 2)
	s.bracket(Bracket(broker.Order{ClientID: "e2", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: Base - 20}, -30, 10))
	s.submit(broker.Order{ClientID: "l1", Side: market.Sell, Qty: 1, Type: market.LimitOrder, Price: Base + 40})
	s.submit(broker.Order{ClientID: "b1", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: Base - 10, Account: "B"})
	if err := s.B.Liquidate(s.Ctx, "A"); err != nil {
		s.T.Fatalf("liquidate: %v", err)
	}
	for _, id := range []string{"e1.stop", "e1.target", "e2", "e2.stop", "e2.target", "l1"} {
		s.Wait(id, broker.CancelledEv)
	}
	known := map[string]bool{"e1": true, "e1.stop": true, "e1.target": true, "e2": true, "e2.stop": true,
		"e2.target": true, "l1": true, "b1": true}
	s.Trade(-1, 10)
	ev := s.WaitFunc("the liquidation's fill", func(ev broker.Event) bool {
		return ev.Account == "A" && ev.Kind == broker.FilledEv && !known[ev.ClientID]
	})
	if ev.Side != market.Sell {
		s.T.Fatalf("liquidation fill %s, want a sell", fmtEv(ev))
	}
	s.wantPos("A", 0)
	s.wantNoOpen("A")
	if _, ok := s.Open("B")["b1"]; !ok {
		s.T.Fatal("liquidating A cancelled B's order")
	}
	// Liquidating a flat account with nothing working is a no-op.
	s.Barrier()
	if err := s.B.Liquidate(s.Ctx, "A"); err != nil {
		s.T.Fatalf("liquidate flat: %v", err)
	}
	s.NoEvent("liquidate a flat account", func(ev broker.Event) bool { return ev.Account == "A" })
}

func testIdempotent(s *Session) {
	o := broker.Order{ClientID: "l1", Account: "A", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: Base - 10, TIF: broker.Day}
	for i := range 2 {
		if err := s.B.SubmitOrder(s.Ctx, o); err != nil {
			s.T.Fatalf("submission %d: %v", i+1, err)
		}
	}
	b := Bracket(broker.Order{ClientID: "e1", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: Base - 20}, -30, 10)
	for i := range 2 {
		if err := s.B.SubmitBracket(s.Ctx, b); err != nil {
			s.T.Fatalf("bracket submission %d: %v", i+1, err)
		}
	}
	n := map[string]int{}
	for _, ev := range s.Barrier() {
		if ev.Kind == broker.Accepted {
			n[ev.ClientID]++
		}
		if ev.Kind == broker.RejectedEv {
			s.T.Fatalf("resubmission rejected: %s", fmtEv(ev))
		}
	}
	for _, id := range []string{"l1", "e1", "e1.stop", "e1.target"} {
		if n[id] != 1 {
			s.T.Fatalf("%s accepted %d times, want once", id, n[id])
		}
	}
	if m := s.Open("A"); len(m) != 4 {
		s.T.Fatalf("open orders %v, want 4", keys(m))
	}
}

func testRejections(s *Session) {
	sub := func(o broker.Order) error {
		if o.TIF == 0 {
			o.TIF = broker.Day
		}
		return s.B.SubmitOrder(s.Ctx, o)
	}
	cases := []struct {
		name     string
		o        broker.Order
		sentinel error
	}{
		{"unknown account", broker.Order{ClientID: "r1", Account: "nobody", Side: market.Buy, Qty: 1, Type: market.MarketOrder}, broker.ErrUnknownAccount},
		{"zero quantity", broker.Order{ClientID: "r2", Account: "A", Side: market.Buy, Qty: 0, Type: market.MarketOrder}, broker.ErrInvalid},
		{"negative quantity", broker.Order{ClientID: "r3", Account: "A", Side: market.Sell, Qty: -2, Type: market.LimitOrder, Price: Base}, broker.ErrInvalid},
		{"zero price", broker.Order{ClientID: "r4", Account: "A", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: 0}, broker.ErrInvalid},
		{"negative price", broker.Order{ClientID: "r5", Account: "A", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: -4}, broker.ErrInvalid},
		{"absurd price", broker.Order{ClientID: "r6", Account: "A", Side: market.Sell, Qty: 1, Type: market.LimitOrder, Price: Base * 10}, broker.ErrInvalid},
		{"buy stop below market", broker.Order{ClientID: "r7", Account: "A", Side: market.Buy, Qty: 1, Type: market.StopOrder, StopPrice: Base - 4}, broker.ErrInvalid},
		{"sell stop above market", broker.Order{ClientID: "r8", Account: "A", Side: market.Sell, Qty: 1, Type: market.StopOrder, StopPrice: Base + 4}, broker.ErrInvalid},
		{"sell stop-limit above market", broker.Order{ClientID: "r9", Account: "A", Side: market.Sell, Qty: 1, Type: market.StopLimitOrder, StopPrice: Base + 4, Price: Base + 2}, broker.ErrInvalid},
		{"no side", broker.Order{ClientID: "r10", Account: "A", Qty: 1, Type: market.MarketOrder}, broker.ErrInvalid},
	}
	for _, c := range cases {
		s.wantReject(c.name, sub(c.o), c.sentinel, c.o.ClientID)
	}
	bad := Bracket(broker.Order{ClientID: "rb", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: Base - 4}, 2, 10)
	s.wantReject("long bracket with its stop above the entry", s.B.SubmitBracket(s.Ctx, bad), broker.ErrInvalid, "rb")
	if err := s.B.Cancel(s.Ctx, "A", "nope"); !errors.Is(err, broker.ErrUnknownOrder) {
		s.T.Fatalf("cancel unknown id: %v, want ErrUnknownOrder", err)
	}
	if err := s.B.Modify(s.Ctx, "A", "nope", Base, 0); !errors.Is(err, broker.ErrUnknownOrder) {
		s.T.Fatalf("modify unknown id: %v, want ErrUnknownOrder", err)
	}
	if _, err := s.B.OpenOrders(s.Ctx, "nobody"); !errors.Is(err, broker.ErrUnknownAccount) {
		s.T.Fatalf("open orders of an unknown account: %v, want ErrUnknownAccount", err)
	}
	s.wantReject("liquidate unknown account", s.B.Liquidate(s.Ctx, "nobody"), broker.ErrUnknownAccount, "")
	s.wantNoOpen("A")
	s.wantPos("A", 0)
}

func testCancelFilled(s *Session) {
	s.submit(broker.Order{ClientID: "m1", Side: market.Buy, Qty: 1, Type: market.MarketOrder})
	s.Trade(0, 1)
	s.Wait("m1", broker.FilledEv)
	ev := s.wantReject("cancel a filled order", s.B.Cancel(s.Ctx, "A", "m1"), broker.ErrOrderDone, "m1")
	if !strings.Contains(ev.Reason, "filled") {
		s.T.Fatalf("rejection reason %q does not say the order is filled", ev.Reason)
	}
	s.wantPos("A", 1)
}
