// tif_test.go: protective stops reach the venue as GTC over the protocol
// (invariant 9: Cancel-on-Disconnect and the session end cancel day
// orders), so a filled bracket's stop still protects on the next session.

package tradovate_test

import (
	"context"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/market"
)

func TestBracketStopGoesOutGTC(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dial(t, v)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := int64(1_710_250_200_000_000_000) // 2024-03-12 13:30 UTC (09:30 ET)
	v.Trade(trade(base, "5100.00", 1, market.Buy))
	b := broker.Bracket{
		Entry: broker.Order{ClientID: "e1", Account: "A", Side: market.Buy, Qty: 1, Type: market.LimitOrder,
			Price: market.MustPrice("5100.00"), TIF: broker.Day},
		Stop: broker.Order{ClientID: "e1.stop", Account: "A", Side: market.Sell, Qty: 1, Type: market.StopOrder,
			StopPrice: market.MustPrice("5098.00"), TIF: broker.GTC},
		Target: broker.Order{ClientID: "e1.target", Account: "A", Side: market.Sell, Qty: 1, Type: market.LimitOrder,
			Price: market.MustPrice("5104.00"), TIF: broker.GTC},
	}
	if err := c.SubmitBracket(ctx, b); err != nil {
		t.Fatal(err)
	}
	v.Trade(trade(base+1e9, "5099.75", 3, market.Sell)) // the entry fills; the exits are armed
	eng := v.Engine()
	for id, want := range map[string]broker.TIF{"e1": broker.Day, "e1.stop": broker.GTC, "e1.target": broker.GTC} {
		o, err := eng.Order("A", id)
		if err != nil {
			t.Fatalf("%s at the venue: %v", id, err)
		}
		if o.TIF != want {
			t.Errorf("%s reached the venue as %s, want %s", id, o.TIF, want)
		}
	}
	// The next Globex session (18:30 ET): the day orders of the last one
	// expire, the stop keeps working.
	v.Trade(trade(time.Date(2024, 3, 12, 22, 30, 0, 0, time.UTC).UnixNano(), "5100.00", 1, market.Buy))
	o, err := eng.Order("A", "e1.stop")
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != broker.Working {
		t.Fatalf("the stop on the next session: %s, want working", o.Status)
	}
	if p, _ := eng.Position("A"); p.Qty != 1 {
		t.Fatalf("venue position %+v, want long 1", p)
	}
}
