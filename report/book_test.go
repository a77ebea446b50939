package report_test

// book_test.go: round trips per entry (fragments are one trade; contracts
// counted apart), a crossing fill, a reconciliation that finds the venue
// flat (a correction, never paired with the next run's fills), and a
// property: over any fills that end flat, the book's trips carry exactly
// the money and contracts of the desk's FIFO ledger.

import (
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/report"
)

func fill(seq uint64, id string, side market.Side, qty int64, px string) report.Fill {
	return report.Fill{Seq: seq, Account: "A", Strategy: "orb", ClientID: id, Side: side, Qty: qty, Price: market.MustPrice(px), Time: int64(seq) * 1e9}
}

func book(t *testing.T, b *report.Book, fs ...report.Fill) {
	t.Helper()
	for _, f := range fs {
		if err := b.Fill(f); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFragmentsAreOneTrade(t *testing.T) {
	b := report.NewBook(nil)
	// A 5-lot entry filled 2 + 3, out 4 at the stop and 1 at the target.
	book(t, b, fill(1, "A.1", market.Buy, 2, "5000.00"), fill(2, "A.1", market.Buy, 3, "5000.25"),
		fill(3, "A.1.stop", market.Sell, 4, "4999.00"), fill(4, "A.1.target", market.Sell, 1, "5003.00"))
	trips := b.Trips()
	if len(trips) != 1 {
		t.Fatalf("%d trips, want 1: %+v", len(trips), trips)
	}
	tr := trips[0]
	// Ticks: 2 × −4 + 2 × −5 (the 5000.25 lots at the stop) + 1 × +11 = −7.
	if tr.Qty != 5 || tr.Fills != 4 || tr.TickQty != -7 || tr.ID != "A.1" || tr.Side != market.Buy ||
		!tr.Fees.Equal(decimal.RequireFromString("6.00")) || tr.Gross().StringFixed(2) != "-8.75" {
		t.Fatalf("trip %+v", tr)
	}
	r := report.Build(trips)
	if r.Desk.Trades != 1 || r.Desk.Contracts != 5 || r.Desk.Losses != 1 || r.Desk.WinRate != 0 {
		t.Fatalf("desk %+v", r.Desk)
	}
}

func TestCrossingFillOpensATripOfItsOwn(t *testing.T) {
	b := report.NewBook(nil)
	book(t, b, fill(1, "A.1", market.Buy, 2, "5000.00"), fill(2, "A.1.stop", market.Sell, 3, "5002.00"),
		fill(3, "liquidate.A.1", market.Buy, 1, "5003.00"))
	trips := b.Trips()
	if len(trips) != 2 || trips[0].TickQty != 16 || trips[0].Qty != 2 || trips[1].ID != "A.1.stop" || trips[1].Side != market.Sell ||
		trips[1].TickQty != -4 || trips[1].Qty != 1 {
		t.Fatalf("trips %+v", trips)
	}
	if p := b.Positions()["A"]; p != 0 {
		t.Fatalf("position %d", p)
	}
}

// The case: a short of 5 left open when the built-in venue stopped
// with the desk; the next run's fills must not close it into a winner.
func TestRestartWithTheVenueFlatIsACorrection(t *testing.T) {
	b := report.NewBook(nil)
	book(t, b, fill(1, "A.1", market.Sell, 5, "5020.00"))
	c := b.Reconcile(2, 2e9, "A", 0, 0, "position: journal -5, venue 0")
	if c == nil || c.Books != -5 || c.Venue != 0 || c.Qty != 5 || c.Side != market.Sell || c.Entry != 5020 || c.Price != 0 || c.PnL != "" || c.Trips != 1 {
		t.Fatalf("correction %+v", c)
	}
	// The next run: a long of 5 in and out.
	book(t, b, fill(3, "A.7", market.Buy, 5, "5005.50"), fill(4, "A.7.target", market.Sell, 5, "5007.50"))
	trips := b.Trips()
	if len(trips) != 1 || trips[0].ID != "A.7" || trips[0].TickQty != 40 || trips[0].Side != market.Buy {
		t.Fatalf("trips %+v: the vanished short was paired", trips)
	}
	if len(b.Corrections()) != 1 {
		t.Fatalf("corrections %+v", b.Corrections())
	}
	// Venue agrees: nothing to correct.
	if c := b.Reconcile(5, 5e9, "A", 0, 0, ""); c != nil {
		t.Fatalf("a reconciliation that agrees made %+v", c)
	}
}

func TestReconcileAtAPriceAndAPositionTheBooksLack(t *testing.T) {
	b := report.NewBook(nil)
	book(t, b, fill(1, "A.1", market.Buy, 3, "5000.00"), fill(2, "A.1.stop", market.Sell, 1, "4999.00"))
	// The venue has 1 left: 1 contract went at 5001.00 as the desk booked it.
	c := b.Reconcile(3, 3e9, "A", 1, market.MustPrice("5001.00"), "position: journal 2, venue 1")
	if c == nil || c.Qty != 1 || c.PnL != "5.00" || c.Trips != 0 {
		t.Fatalf("correction %+v", c)
	}
	// The rest closes normally, but the trip lost a contract to the
	// correction: it is not a whole trade.
	book(t, b, fill(4, "A.1.target", market.Sell, 1, "5002.00"))
	if trips := b.Trips(); len(trips) != 0 {
		t.Fatalf("a trip ended in part by a correction was counted: %+v", trips)
	}
	// The venue holds a short the books never saw, booked at 5010.00 and
	// then covered.
	c = b.Reconcile(5, 5e9, "A", -2, market.MustPrice("5010.00"), "unknown position")
	if c == nil || c.Books != 0 || c.Venue != -2 || c.Qty != 2 {
		t.Fatalf("correction %+v", c)
	}
	book(t, b, fill(6, "liquidate.A.2", market.Buy, 2, "5009.00"))
	if trips := b.Trips(); len(trips) != 1 || trips[0].Strategy != "reconcile" || trips[0].TickQty != 8 {
		t.Fatalf("trips %+v", trips)
	}
}

func TestBookRefusesBadFills(t *testing.T) {
	b := report.NewBook(nil)
	for _, f := range []report.Fill{{Account: "A", Qty: 1, Price: 1}, {Account: "A", Side: market.Buy, Price: 1}, {Account: "A", Side: market.Buy, Qty: 1}} {
		if err := b.Fill(f); err == nil {
			t.Errorf("fill %+v booked", f)
		}
	}
}

func TestPropertyBookMatchesLedgerMoney(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		l, err := accounts.NewLedger(accounts.Config{ID: "A", StartEquity: decimal.NewFromInt(50000)})
		if err != nil {
			rt.Fatal(err)
		}
		b := report.NewBook(nil)
		n := rapid.IntRange(1, 30).Draw(rt, "n")
		pos := int64(0)
		apply := func(f report.Fill) {
			if err := b.Fill(f); err != nil {
				rt.Fatal(err)
			}
			if err := l.ApplyFill(accounts.Fill{Time: f.Time, Side: f.Side, Qty: f.Qty, Price: f.Price, ClientID: f.ClientID}); err != nil {
				rt.Fatal(err)
			}
			pos += f.Side.Sign() * f.Qty
		}
		for i := range n {
			side := market.Buy
			if rapid.Bool().Draw(rt, "sell") {
				side = market.Sell
			}
			id := rapid.SampledFrom([]string{"A.1", "A.2", "A.3", "liquidate.A"}).Draw(rt, "id")
			apply(report.Fill{Account: "A", ClientID: id, Side: side, Qty: rapid.Int64Range(1, 6).Draw(rt, "qty"),
				Price: market.Price(20000 + rapid.Int64Range(-40, 40).Draw(rt, "px")), Time: int64(i+1) * 1e9})
		}
		if pos != 0 { // end flat
			side := market.Sell
			if pos < 0 {
				side = market.Buy
			}
			apply(report.Fill{Account: "A", ClientID: "flat", Side: side, Qty: max(pos, -pos), Price: 20000, Time: int64(n+1) * 1e9})
		}
		var gq int64
		gross, fees := decimal.Zero, decimal.Zero
		for _, tr := range b.Trips() {
			gq += tr.Qty
			gross = gross.Add(tr.Gross())
			fees = fees.Add(tr.Fees)
		}
		var lq int64
		for _, rt := range l.RoundTrips() {
			lq += rt.Qty
		}
		if gq != lq || !gross.Equal(l.Realized()) || !fees.Equal(l.Fees()) {
			rt.Fatalf("book: %d contracts gross %s fees %s; ledger: %d contracts realized %s fees %s", gq, gross, fees, lq, l.Realized(), l.Fees())
		}
	})
}

// TestUnpricedCorrectionThenItsClose: a correction with no price opens
// contracts the books hold with no trip; the fill that closes them (and a
// later correction) must not panic — a desk's run summary did, "index out
// of range [0] with length 0" in Fill, at the end of a drill round.
func TestUnpricedCorrectionThenItsClose(t *testing.T) {
	b := report.NewBook(nil)
	if c := b.Reconcile(1, 1e9, "A", 2, 0, "position: journal 0, venue 2"); c == nil || c.Qty != 2 {
		t.Fatalf("correction %+v", c)
	}
	book(t, b, fill(2, "liquidate.A.1", market.Sell, 1, "5000.00"))
	if c := b.Reconcile(3, 3e9, "A", 0, market.MustPrice("5001.00"), "position: journal 1, venue 0"); c == nil || c.Qty != 1 {
		t.Fatalf("second correction %+v", c)
	}
	book(t, b, fill(4, "A.2", market.Buy, 1, "5000.00"), fill(5, "A.2.stop", market.Sell, 1, "4999.00"))
	if p := b.Positions()["A"]; p != 0 {
		t.Fatalf("position %d, want 0", p)
	}
	if trips := b.Trips(); len(trips) != 1 || trips[0].ID != "A.2" {
		t.Fatalf("trips %+v, want the one whole trade A.2", trips)
	}
}
