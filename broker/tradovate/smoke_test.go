// This file checks one bracket's round trip over the protocol: placeoso,
// the armed exits, a stop fill and the position, event by event against
// the venue's own engine.

package tradovate_test

import (
	"context"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/market"
)

// collect reads n events or fails after a deadline.
func collect(t *testing.T, ch <-chan broker.Event, n int) []broker.Event {
	t.Helper()
	var out []broker.Event
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	for len(out) < n {
		select {
		case ev := <-ch:
			out = append(out, ev)
		case <-timer.C:
			t.Fatalf("got %d events of %d: %+v", len(out), n, out)
		}
	}
	return out
}

func TestBracketRoundTrip(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A", "B"}})
	defer stop()
	c := dial(t, v)
	defer c.Close()
	ctx := context.Background()
	base := int64(1_710_250_200_000_000_000) // 2024-03-12 13:30 UTC
	v.Trade(trade(base, "5100.00", 1, market.Buy))
	b := broker.Bracket{
		Entry:  broker.Order{ClientID: "e1", Account: "A", Side: market.Buy, Qty: 2, Type: market.LimitOrder, Price: market.MustPrice("5099.00")},
		Stop:   broker.Order{ClientID: "s1", Side: market.Sell, Type: market.StopOrder, StopPrice: market.MustPrice("5097.00")},
		Target: broker.Order{ClientID: "t1", Side: market.Sell, Type: market.LimitOrder, Price: market.MustPrice("5105.00")},
	}
	if err := c.SubmitBracket(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := c.SubmitBracket(ctx, b); err != nil { // same ClientID: one bracket
		t.Fatal(err)
	}
	v.Trade(trade(base+1e9, "5098.75", 5, market.Sell)) // entry fills, exits armed
	v.Trade(trade(base+2e9, "5096.50", 5, market.Sell)) // stop triggers and fills with slippage
	want := v.History()
	if len(want) < 8 {
		t.Fatalf("venue history has %d events: %+v", len(want), want)
	}
	got := collect(t, c.Events(), len(want))
	for i := range want {
		w, g := want[i], got[i]
		if g.ClientID != w.ClientID || g.Kind != w.Kind || g.FillQty != w.FillQty || g.FillPrice != w.FillPrice ||
			g.LeavesQty != w.LeavesQty || g.Role != w.Role || g.GroupID != w.GroupID || g.Slippage != w.Slippage ||
			g.Time != w.Time || g.Side != w.Side || g.Account != w.Account {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	ps, err := c.Positions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	vp := v.Positions()
	if len(ps) != 2 || ps[0] != vp[0] || ps[1] != vp[1] {
		t.Errorf("positions: got %+v, venue %+v", ps, vp)
	}
}
