package supervisor

// trades_test.go: status, the daily summary and the run summary count
// trades per entry (accounts.Trades), not per fill fragment.

import (
	"context"
	"testing"
	"time"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/market"
)

// An entry of 3 filled in three fragments and closed by two exits is one
// trade in Status (RoundTrips, Wins, Trades), the daily summary and the run
// summary; before, each counted the ledger's pieces (3 here). A second,
// losing entry is a second trade.
func TestStatusCountsTradesPerEntry(t *testing.T) {
	r := newRig(t, rigOpt{Accounts: builtinSpecs()[:1]})
	a := r.d.byID["ORB1"]
	a.mu.Lock()
	for i, f := range []accounts.Fill{
		{Side: market.Buy, Qty: 1, Price: market.MustPrice("5150.00"), ClientID: "E1"},
		{Side: market.Buy, Qty: 1, Price: market.MustPrice("5150.25"), ClientID: "E1"},
		{Side: market.Buy, Qty: 1, Price: market.MustPrice("5150.25"), ClientID: "E1"},
		{Side: market.Sell, Qty: 2, Price: market.MustPrice("5152.00"), ClientID: "E1.target"},
		{Side: market.Sell, Qty: 1, Price: market.MustPrice("5151.00"), ClientID: "E1.stop"},
		{Side: market.Sell, Qty: 1, Price: market.MustPrice("5151.00"), ClientID: "E2"},
		{Side: market.Buy, Qty: 1, Price: market.MustPrice("5153.00"), ClientID: "E2.stop"},
	} {
		f.Time, f.Strategy = int64(i+1)*int64(time.Second), "orb"
		if err := a.ledger.ApplyFill(f); err != nil {
			t.Fatal(err)
		}
	}
	pieces := len(a.ledger.RoundTrips())
	a.mu.Unlock()
	if pieces != 4 {
		t.Fatalf("%d ledger pieces, want 4 (the test's premise)", pieces)
	}
	st := r.d.Status(context.Background())
	as := st.Accounts[0]
	if as.RoundTrips != 2 || as.Wins != 1 || as.Losses != 1 || len(as.Trades) != 2 || as.Trades[0].Qty != 3 {
		t.Fatalf("status: %d round trips, %d wins, %d losses, trades %+v; want 2 trades (3 lots, then 1), one win",
			as.RoundTrips, as.Wins, as.Losses, as.Trades)
	}
	if rows := r.d.summaryAlert().Summary.Accounts; len(rows) != 1 || rows[0].Trades != 2 || rows[0].Wins != 1 {
		t.Fatalf("daily summary rows %+v, want 2 trades, 1 win", rows)
	}
	if s := r.d.Summary(time.Second); s.Accounts[0].RoundTrips != 2 || s.Accounts[0].Wins != 1 {
		t.Fatalf("run summary %+v, want 2 round trips, 1 win", s.Accounts[0])
	}
}
