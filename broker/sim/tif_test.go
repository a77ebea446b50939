// tif_test.go: a bracket's exits outlive the session (invariant 9): legs
// submitted without a time in force are GTC, so a filled entry's stop and
// target are still working at the venue on the next session's first trade,
// while the day entry of another bracket expires.

package sim_test

import (
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/market"
)

func TestBracketLegsDefaultToGTCAndSurviveTheSession(t *testing.T) {
	v := newVenue(t, sim.Config{})
	v.trade(P, 1)
	// The helper leaves the legs' TIF unset: the venue's default applies.
	v.bracket(broker.Order{ClientID: "e", Side: market.Buy, Qty: 2, Type: market.MarketOrder, TIF: broker.Day}, P-8, P+8)
	v.trade(P, 2) // fills the entry: both legs armed for 2
	if p := v.pos("A"); p.Qty != 2 {
		t.Fatalf("entry not filled: %+v", p)
	}
	for _, id := range []string{"e.stop", "e.target"} {
		o, err := v.s.Order("A", id)
		if err != nil {
			t.Fatal(err)
		}
		if o.TIF != broker.GTC || o.Status != broker.Working || o.Qty != 2 {
			t.Fatalf("%s after the entry filled: tif %s status %s qty %d, want gtc working 2", id, o.TIF, o.Status, o.Qty)
		}
	}
	v.now = time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC).UnixNano() // 18:30 ET: the next Globex session
	v.trade(P, 1)
	for _, id := range []string{"e.stop", "e.target"} {
		if got := v.status(id); got != broker.Working {
			t.Errorf("%s on the next session: %s, want working (a protective stop must not expire with the day)", id, got)
		}
	}
	if p := v.pos("A"); p.Qty != 2 {
		t.Fatalf("position changed across the session: %+v", p)
	}
	// Still protecting: a trade at the stop fills it.
	v.trade(P-8, 2)
	if p := v.pos("A"); p.Qty != 0 {
		t.Fatalf("the stop did not fire on the next session: %+v", p)
	}
}
