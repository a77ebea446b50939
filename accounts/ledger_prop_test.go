// ledger_prop_test.go: the ledger against a naive reference under random
// fills and marks: position and cost equal the lots, realized equals the
// round trips, fees are FeesRT per closed contract plus the entry side of
// the open ones, and equity = start + realized − fees + unrealized.

package accounts

import (
	"testing"

	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

func TestPropertyLedgerAccounting(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		feesRT := rapid.Int64Range(0, 500).Draw(t, "feesCents")
		l, err := NewLedger(Config{ID: "p", StartEquity: decimal.NewFromInt(50000), FeesRT: Money(feesRT)})
		if err != nil {
			t.Fatal(err)
		}
		if feesRT == 0 {
			feesRT = 120 // zero means the default
		}
		var signedQty, contractSides, closed int64
		price := market.Price(20600)
		for i := range rapid.IntRange(1, 60).Draw(t, "n") {
			price += market.Price(rapid.IntRange(-8, 8).Draw(t, "move"))
			if rapid.Bool().Draw(t, "isFill") {
				side := rapid.SampledFrom([]market.Side{market.Buy, market.Sell}).Draw(t, "side")
				q := rapid.Int64Range(1, 7).Draw(t, "qty")
				c := min(q, max(0, -signedQty*side.Sign())) // closing part
				closed += c
				contractSides += q
				signedQty += side.Sign() * q
				if err := l.ApplyFill(Fill{Time: int64(i), Side: side, Qty: q, Price: price}); err != nil {
					t.Fatal(err)
				}
			} else {
				l.Mark(price)
			}
			if l.Position() != signedQty {
				t.Fatalf("position %d, want %d", l.Position(), signedQty)
			}
			var lq, lc int64
			for _, lot := range l.Lots() {
				lq += lot.Qty
				lc += lot.Qty * int64(lot.Price)
			}
			if signedQty < 0 {
				lq, lc = -lq, -lc
			}
			if lq != l.Position() || lc != l.CostTicks() {
				t.Fatalf("lots %d/%d vs position %d cost %d", lq, lc, l.Position(), l.CostTicks())
			}
			var rtPnL, rtFees decimal.Decimal
			var rtQty int64
			for _, rt := range l.RoundTrips() {
				rtPnL, rtFees, rtQty = rtPnL.Add(rt.PnL), rtFees.Add(rt.Fees), rtQty+rt.Qty
			}
			if rtQty != closed || !rtPnL.Equal(l.Realized()) {
				t.Fatalf("round trips %d contracts %s, want %d and %s", rtQty, rtPnL, closed, l.Realized())
			}
			open := contractSides - 2*closed // contracts opened and still open
			wantFees := Money(closed*feesRT + open*(feesRT/2))
			if !l.Fees().Equal(wantFees) || !rtFees.Equal(Money(closed*feesRT)) {
				t.Fatalf("fees %s (round trips %s), want %s", l.Fees(), rtFees, wantFees)
			}
			eq := l.StartEquity().Add(l.Realized()).Sub(l.Fees()).Add(l.Unrealized())
			if !l.Equity().Equal(eq) || !Money(l.EquityCents()).Equal(l.Equity()) {
				t.Fatalf("equity %s, want %s", l.Equity(), eq)
			}
			if l.MaxDrawdown().LessThan(l.HighWater().Sub(l.Equity())) {
				t.Fatalf("max drawdown %s below the current one %s", l.MaxDrawdown(), l.HighWater().Sub(l.Equity()))
			}
		}
	})
}

// FillSnapshot sits on the intent path: it must not allocate.
func TestFillSnapshotZeroAlloc(t *testing.T) {
	l, _ := NewLedger(Config{ID: "a", StartEquity: decimal.NewFromInt(10000)})
	_ = l.ApplyFill(Fill{Time: 1, Side: market.Buy, Qty: 2, Price: 20600})
	l.MarkAt(2, 20598)
	mon, _ := limits.NewDrawdownMonitor(l.StartCents(), decimal.Zero)
	var s limits.Snapshot
	if n := testing.AllocsPerRun(100, func() { l.FillSnapshot(&s, mon) }); n != 0 {
		t.Fatalf("FillSnapshot allocates %v", n)
	}
	// 10000 − 1.20 fees − 4 ticks × 1.25 = 9993.80; line 9850.00.
	if s.PositionQty != 2 || s.CostTicks != 41200 || s.LastPrice != 20598 || s.LastTimeNs != 2 || s.FeesRTCents != 120 ||
		s.AllowanceCents != 143_80 {
		t.Fatalf("snapshot %+v", s)
	}
}

func BenchmarkLedgerMark(b *testing.B) {
	l, _ := NewLedger(Config{ID: "a", StartEquity: decimal.NewFromInt(10000)})
	_ = l.ApplyFill(Fill{Time: 1, Side: market.Buy, Qty: 2, Price: 20600})
	mon, _ := limits.NewDrawdownMonitor(l.StartCents(), decimal.Zero)
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		i++
		l.MarkAt(i, market.Price(20590+i%20))
		mon.Mark(i, l.EquityCents())
	}
}
