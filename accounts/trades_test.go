// trades_test.go: Trades groups the ledger's round trips (one per lot
// piece) into trades, one per entry, whatever the fill fragments.

package accounts

import (
	"testing"

	"github.com/deskguard/deskguard/market"
)

// An entry of 5 filled in three fragments (2 @ 5150.00, 2 @ 5150.25,
// 1 @ 5150.50) and closed by two exit fragments (a target's 3 @ 5152.00,
// then a stop's 2 @ 5149.00) is one trade of 5 — four pieces in the
// ledger; a second entry's single lot is a second trade; a piece with no
// entry id (a carried lot) is a trade of its own. Before, status and the
// summaries counted the pieces: 6 "trades" here, not 3.
func TestTradesOnePerEntry(t *testing.T) {
	l := newLedger(t, "10000", "1.20")
	f := func(ns int64, side market.Side, qty int64, px, id string) {
		t.Helper()
		if err := l.ApplyFill(Fill{Time: ns, Side: side, Qty: qty, Price: market.MustPrice(px), Strategy: "orb", ClientID: id}); err != nil {
			t.Fatal(err)
		}
	}
	f(1, market.Buy, 2, "5150.00", "E1")
	f(2, market.Buy, 2, "5150.25", "E1")
	f(3, market.Buy, 1, "5150.50", "E1")
	f(4, market.Sell, 3, "5152.00", "E1.target")
	f(5, market.Sell, 2, "5149.00", "E1.stop")
	f(6, market.Sell, 1, "5149.00", "E2")
	f(7, market.Buy, 1, "5148.00", "E2.target")
	f(8, market.Buy, 1, "5148.00", "")
	f(9, market.Sell, 1, "5147.00", "liquidate.x")
	pieces := l.RoundTrips()
	if len(pieces) != 6 {
		t.Fatalf("%d round-trip pieces, want 6 (the test's premise)", len(pieces))
	}
	got := Trades(pieces)
	if len(got) != 3 {
		t.Fatalf("%d trades, want 3: %+v", len(got), got)
	}
	e1 := got[0]
	// Entry avg (2×20600 + 2×20601 + 20602)/5 = 20600.8 → 20601 ticks (5150.25);
	// exit avg (3×20608 + 2×20596)/5 = 20603.2 → 20603 (5150.75).
	if e1.EntryID != "E1" || e1.Qty != 5 || e1.Side != market.Buy || e1.EntryPrice != market.MustPrice("5150.25") ||
		e1.ExitPrice != market.MustPrice("5150.75") || e1.EntryTime != 1 || e1.ExitTime != 5 {
		t.Fatalf("first trade %+v", e1)
	}
	// E1's four pieces: its PnL and fees are their sums, exactly.
	var pnl, fees = pieces[0].PnL, pieces[0].Fees
	for _, p := range pieces[1:4] {
		pnl, fees = pnl.Add(p.PnL), fees.Add(p.Fees)
	}
	if !e1.PnL.Equal(pnl) || !e1.Fees.Equal(fees) {
		t.Fatalf("first trade PnL %s fees %s, want the pieces' %s and %s", e1.PnL, e1.Fees, pnl, fees)
	}
	wantMoney(t, "first trade fees", e1.Fees, "6.00") // 5 × 1.20
	if e2 := got[1]; e2.EntryID != "E2" || e2.Qty != 1 || e2.Side != market.Sell || e2.Ticks != 4 {
		t.Fatalf("second trade %+v", e2)
	}
	if c := got[2]; c.EntryID != "" || c.Qty != 1 || c.Ticks != -4 {
		t.Fatalf("the lot with no entry id %+v", c)
	}
	if n := len(Trades(nil)); n != 0 {
		t.Fatalf("Trades(nil) = %d trades", n)
	}
}

func TestRoundDiv(t *testing.T) {
	for _, c := range []struct{ a, b, want int64 }{{7, 2, 4}, {5, 2, 3}, {4, 2, 2}, {-7, 2, -4}, {-5, 2, -3}, {1, 3, 0}, {2, 3, 1}, {-2, 3, -1}} {
		if got := roundDiv(c.a, c.b); got != c.want {
			t.Errorf("roundDiv(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
