// risk_test.go: the broker's own risk over Rithmic's RMS against the
// venue: the desk's daily loss checked against what the RMS holds (a
// client cannot set it), the RMS liquidating an account with its update
// late and after a reconnect (the subscription renewed), its refusals
// of new orders, a gateway that refuses the RMS requests; the cash
// balance from the PnL plant; and the PnL plant down in Notes.

package rithmic_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/rithmic"
	rvenue "github.com/deskguard/deskguard/broker/venue/rithmic"
	"github.com/deskguard/deskguard/market"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestRMSReadBackAndRefusals(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A", "B", "C"}})
	defer stop()
	if err := v.SetRMS("A", 500, true); err != nil {
		t.Fatal(err)
	}
	if err := v.SetRMS("C", 300, false); err != nil {
		t.Fatal(err)
	}
	c := dial(t, v)
	defer c.Close()
	ctx := ctx10(t)
	got, err := c.SetAutoLiq(ctx, "A", dec("500"), time.Time{})
	if err != nil || !got.Set || !got.DailyLoss.Equal(dec("500")) || !got.ChangesLocked {
		t.Fatalf("A at its RMS's limit: %+v %v", got, err)
	}
	for _, tc := range []struct {
		name    string
		account string
		loss    string
		flatten time.Time
		why     string
	}{
		{"a different daily loss", "A", "400", time.Time{}, "auto-liquidates at 500.00"},
		{"a flatten time", "A", "500", time.Date(2026, 3, 2, 20, 55, 0, 0, time.UTC), "no flatten time"},
		{"no limit at the RMS", "B", "500", time.Time{}, "no loss limit"},
		{"a limit that only refuses", "C", "300", time.Time{}, "does not auto-liquidate"},
	} {
		got, err := c.SetAutoLiq(ctx, tc.account, dec(tc.loss), tc.flatten)
		if !errors.Is(err, broker.ErrRiskRefused) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s: %+v %v", tc.name, got, err)
		}
		if !got.ChangesLocked {
			t.Errorf("%s: the RMS is not changeable by a client: %+v", tc.name, got)
		}
	}
	if a, err := c.AutoLiq(ctx, "C"); err != nil || !a.Set || !a.DailyLoss.IsZero() {
		t.Fatalf("C: a loss limit without auto-liquidation liquidates at no loss: %+v %v", a, err)
	}
	if r, err := c.RMS(ctx, "C"); err != nil || !r.Limited || !r.LossLimit.Equal(dec("300")) || r.AutoLiquidate || r.Locked() {
		t.Fatalf("C's RMS %+v %v", r, err)
	}
	if _, err := c.SetAutoLiq(ctx, "Z", dec("1"), time.Time{}); !errors.Is(err, broker.ErrUnknownAccount) {
		t.Fatalf("unknown account: %v", err)
	}
}

// TestRMSLiquidatesLateUpdateAfterReconnect: the order plant reconnects
// (the RMS subscription must be renewed), the RMS liquidates the account
// at its loss limit with its 356 late; the desk sees the fills, then the
// account locked at the broker, and new orders refused.
func TestRMSLiquidatesLateUpdateAfterReconnect(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A", "B"}})
	defer stop()
	if err := v.SetRMS("A", 50, true); err != nil {
		t.Fatal(err)
	}
	c := dial(t, v)
	defer c.Close()
	ev := collect(t, c)
	ctx := ctx10(t)
	ck := newClock(v)
	v.DropPlant(rvenue.Order)
	if err := c.WaitSynced(ctx, 2); err != nil {
		t.Fatal(err)
	}
	v.LateRMS(50 * time.Millisecond)
	if err := c.SubmitOrder(ctx, broker.Order{ClientID: "m1", Account: "A", Side: market.Buy, Qty: 2, Type: market.MarketOrder}); err != nil {
		t.Fatal(err)
	}
	ck.trade(0, 5)
	ev.wait(t, "m1 filled", is("m1", broker.FilledEv))
	ck.trade(-20, 1) // -50.00 on 2 contracts: the RMS acts
	ck.trade(-20, 5) // its market sell fills
	sold := ev.wait(t, "the RMS's sell filled", func(e broker.Event) bool {
		return e.Account == "A" && e.Kind == broker.FilledEv && e.Side == market.Sell && e.FillQty == 2
	})
	// An order the desk did not place; with the RMS's update still to
	// come the connector cannot know it is the RMS's (the desk infers it).
	if !sold.External || sold.ByBroker || sold.OrderType != market.MarketOrder {
		t.Fatalf("the RMS's fill %+v: want External, not ByBroker, a market order", sold)
	}
	lock := ev.wait(t, "A locked at the broker", func(e broker.Event) bool {
		return e.Account == "A" && e.Kind == broker.RiskStatusEv && e.Status == broker.Rejected
	})
	if !strings.Contains(lock.Reason, "disabled") || !strings.Contains(lock.Reason, "50.00") || lock.VenueID == "" {
		t.Fatalf("lock event %+v", lock)
	}
	if n := ev.count(func(e broker.Event) bool { return e.Kind == broker.RiskStatusEv }); n != 1 {
		t.Fatalf("%d risk status events, want 1 (B has no limit):\n%s", n, dump(ev.all))
	}
	err := c.SubmitOrder(ctx, broker.Order{ClientID: "m2", Account: "A", Side: market.Buy, Qty: 1, Type: market.MarketOrder})
	if !errors.Is(err, broker.ErrInvalid) || !strings.Contains(err.Error(), "loss limit") {
		t.Fatalf("m2 past the RMS's limit: %v", err)
	}
	ev.wait(t, "m2 rejected", is("m2", broker.RejectedEv))
	ps, err := c.Positions(ctx)
	if err != nil || len(ps) != 2 || ps[0].Qty != 0 {
		t.Fatalf("positions %+v %v", ps, err)
	}
	// B trades on.
	if err := c.SubmitOrder(ctx, broker.Order{ClientID: "b1", Account: "B", Side: market.Buy, Qty: 1, Type: market.MarketOrder}); err != nil {
		t.Fatal(err)
	}
	// The firm lifts the limit: A is active again.
	if err := v.SetRMS("A", 0, false); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "A normal at the broker again", func(e broker.Event) bool {
		return e.Account == "A" && e.Kind == broker.RiskStatusEv && e.Status == broker.Working
	})
}

func TestRMSRefusedByTheGateway(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}})
	defer stop()
	v.RefuseRMS(2) // the 3508 and the 304 of the first login
	c := dial(t, v)
	defer c.Close()
	notes := strings.Join(c.Notes(), "\n")
	if !strings.Contains(notes, "RMS updates of A refused") || !strings.Contains(notes, "RMS limits not read") {
		t.Fatalf("notes %q", notes)
	}
	ctx := ctx10(t)
	// Orders go on.
	if err := c.SubmitOrder(ctx, limit("l1", base-8)); err != nil {
		t.Fatal(err)
	}
	v.RefuseRMS(1)
	if _, err := c.SetAutoLiq(ctx, "A", dec("100"), time.Time{}); err == nil || errors.Is(err, broker.ErrRiskRefused) {
		t.Fatalf("a refused read is not a refused setting: %v", err)
	}
}

func TestCashBalanceFromThePnLPlant(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}, StartingBalance: 25000})
	defer stop()
	c := dial(t, v)
	defer c.Close()
	ev := collect(t, c)
	ctx := ctx10(t)
	ck := newClock(v)
	cash := func(want broker.Cash) {
		t.Helper()
		got, err := c.CashBalance(ctx, "A")
		if err != nil {
			t.Fatal(err)
		}
		if !got.TotalCash.Equal(want.TotalCash) || !got.Realized.Equal(want.Realized) || !got.Open.Equal(want.Open) || !got.NetLiq.Equal(want.NetLiq) {
			t.Fatalf("cash %+v, want %+v", got, want)
		}
	}
	cash(broker.Cash{TotalCash: dec("25000"), NetLiq: dec("25000")})
	if err := c.SubmitOrder(ctx, broker.Order{ClientID: "m1", Account: "A", Side: market.Buy, Qty: 1, Type: market.MarketOrder}); err != nil {
		t.Fatal(err)
	}
	ck.trade(0, 5)
	ev.wait(t, "m1 filled", is("m1", broker.FilledEv))
	ck.trade(4, 1) // +4 ticks open: 5.00
	cash(broker.Cash{TotalCash: dec("25000"), Open: dec("5"), NetLiq: dec("25005")})
	if err := c.SubmitOrder(ctx, broker.Order{ClientID: "m2", Account: "A", Side: market.Sell, Qty: 1, Type: market.MarketOrder}); err != nil {
		t.Fatal(err)
	}
	ck.trade(-2, 5) // closed at -2: -2.50 realized
	ev.wait(t, "m2 filled", is("m2", broker.FilledEv))
	cash(broker.Cash{TotalCash: dec("24997.5"), Realized: dec("-2.5"), NetLiq: dec("24997.5")})
	if _, err := c.CashBalance(ctx, "Z"); !errors.Is(err, broker.ErrUnknownAccount) {
		t.Fatalf("unknown account: %v", err)
	}
}

// TestPnLPlantDownInNotes: the PnL plant killed at the venue shows in
// the connection's notes (the desk's links) until it is back; the cash
// balance fails as disconnected meanwhile.
func TestPnLPlantDownInNotes(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}})
	defer stop()
	cfg, creds := clientConfig(v)
	opt := options(t)
	opt.RequestTimeout = 300 * time.Millisecond
	dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rithmic.Dial(dctx, cfg, creds, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n := c.Notes(); len(n) != 0 {
		t.Fatalf("notes with every plant up: %q", n)
	}
	ctx := ctx10(t)
	v.PlantDown(rvenue.PnL, time.Hour)
	if err := c.WaitPnL(ctx, false); err != nil {
		t.Fatal(err)
	}
	notes := c.Notes()
	if len(notes) != 1 || !strings.Contains(notes[0], "PnL plant down") {
		t.Fatalf("notes %q", notes)
	}
	if _, err := c.CashBalance(ctx, "A"); !errors.Is(err, broker.ErrDisconnected) {
		t.Fatalf("cash balance with the PnL plant down: %v", err)
	}
	if !c.Connected() {
		t.Fatal("the order plant went down with the PnL plant")
	}
	v.RefuseLogins(rvenue.PnL, 0)
	if err := c.WaitPnL(ctx, true); err != nil {
		t.Fatal(err)
	}
	if n := c.Notes(); len(n) != 0 {
		t.Fatalf("notes with the PnL plant back: %q", n)
	}
}
