package supervisor

// tradovate_busts_test.go: trade busts and corrections (TradeCancel,
// TradeCorrect execution reports) and the broker's own risk status, over
// the real protocol against the venue doing them.

import (
	"context"
	"testing"
	"time"

	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

// filledEntry sends a one-lot entry on account, fills it at the next trade
// and waits until the desk holds it with its stop working.
func (r *tvRig) filledEntry(account string, side market.Side) string {
	r.t.Helper()
	r.trade(r.px)
	if st := r.d.byID[account].m.State(); st == AcctIdle {
		if err := r.d.byID[account].m.Fire(EvStart, "test"); err != nil {
			r.t.Fatal(err)
		}
	}
	res := r.enter(account, side, 1)
	if !res.Sent {
		r.t.Fatalf("entry refused: %+v", res)
	}
	want := r.position(account) + side.Sign()
	r.trade(r.px)
	stop, _ := LegIDs(res.ID)
	r.within("the entry filled with its stop working", func() bool {
		a := r.d.byID[account]
		a.mu.Lock()
		defer a.mu.Unlock()
		o := a.orders[stop]
		return a.ledger.Position() == want && o != nil && o.status == broker.Working && o.qty == 1
	})
	return res.ID
}

// TestBustBookedAsTheVenue: the venue busts a bracket's entry fill. The
// desk's position goes back to flat as the venue's does (rebooked, not an
// opposite fill), and the bracket's exits, which the venue does not resize
// and which would now open a naked position, are cancelled. Then the venue
// busts a target's fill: the position is back, its stop gone by OCO, and
// the desk covers it again. Before, the desk ignored TradeCancel: it held
// a position the venue did not (and the exits stayed).
func TestBustBookedAsTheVenue(t *testing.T) {
	r := newTVRig(t, tvOpt{Venue: venue.Config{Faults: venue.Realistic()}})
	id := r.filledEntry("A", market.Buy)
	if err := r.v.Bust("A", id); err != nil {
		t.Fatal(err)
	}
	r.within("flat as the venue, the orphaned exits cancelled", func() bool {
		return r.position("A") == 0 && r.venuePos("A").Qty == 0 && r.openAtVenue("A") == 0
	})
	r.sameBooks()

	id = r.filledEntry("A", market.Buy)
	r.trade(r.px + 13) // the target fills
	r.within("flat after the target", func() bool { return r.position("A") == 0 && r.openAtVenue("A") == 0 })
	_, target := LegIDs(id)
	if err := r.v.Bust("A", target); err != nil {
		t.Fatal(err)
	}
	r.within("long again as the venue, covered by a stop at the venue", func() bool {
		if r.position("A") != 1 || r.venuePos("A").Qty != 1 {
			return false
		}
		open, _ := r.v.Engine().OpenOrders(context.Background(), "A")
		return len(open) == 1 && open[0].Type == market.StopOrder && open[0].Side == market.Sell && open[0].Qty == 1
	})
	r.sameBooks()
	if st := r.d.Status(r.ctx).Accounts[0]; st.Busts != 2 || !st.StopCovered {
		t.Errorf("status: busts %d, stop covered %v", st.Busts, st.StopCovered)
	}
	if n := r.alerts.count(alert.KindBroker, "A"); n != 2 {
		t.Errorf("%d broker alerts, want 2 (one per bust)", n)
	}
	rep := r.finish()
	if rep.Busts != 2 {
		t.Errorf("journal verify counts %d busts, want 2", rep.Busts)
	}
}

// TestCorrectionBookedAsTheVenue: the venue corrects an entry's fill price;
// when the position is closed the desk's realized PnL is the venue's.
func TestCorrectionBookedAsTheVenue(t *testing.T) {
	r := newTVRig(t, tvOpt{Venue: venue.Config{Faults: venue.Realistic()}})
	id := r.filledEntry("A", market.Buy)
	a := r.d.byID["A"]
	a.mu.Lock()
	before := a.ledger.CostTicks()
	a.mu.Unlock()
	if err := r.v.Correct("A", id, r.px-3); err != nil {
		t.Fatal(err)
	}
	r.within("the corrected price booked", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.ledger.CostTicks() == int64(r.px-3) && a.corrections == 1
	})
	if before == int64(r.px-3) {
		t.Fatal("the correction changed nothing: the test proves nothing")
	}
	r.trade(r.px + 13)
	r.within("flat", func() bool { return r.position("A") == 0 && r.openAtVenue("A") == 0 })
	r.sameBooks()
	r.finish()
}

// TestLockedAtBroker: the broker makes the account liquidate-only; the desk
// journals the status event, shows "locked at broker" and alerts; back to
// normal, it clears.
func TestLockedAtBroker(t *testing.T) {
	r := newTVRig(t, tvOpt{Venue: venue.Config{Faults: venue.Realistic()}})
	r.trade(r.px)
	if err := r.v.SetRiskStatus("A", "LiquidateOnlyModeImmediately"); err != nil {
		t.Fatal(err)
	}
	r.within("locked at broker in status", func() bool {
		return len(r.d.Status(r.ctx).Accounts[0].AtBroker) > 0
	})
	st := r.d.Status(r.ctx).Accounts[0]
	if want := "locked at broker"; len(st.AtBroker) < len(want) || st.AtBroker[:len(want)] != want {
		t.Fatalf("at_broker %q", st.AtBroker)
	}
	if r.alerts.count(alert.KindBroker, "A") != 1 {
		t.Fatal("not alerted")
	}
	n := 0
	for _, rec := range r.records() {
		if ev, err := rec.BrokerEvent(); err == nil && ev.Kind == broker.RiskStatusEv && ev.Account == "A" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d risk status events journaled", n)
	}
	if err := r.v.SetRiskStatus("A", "Normal"); err != nil {
		t.Fatal(err)
	}
	r.within("normal again", func() bool { return r.d.Status(r.ctx).Accounts[0].AtBroker == "" })
	r.finish()
}

// TestUnconfirmedBracketFlattens: the venue answers a bracket with neither
// an order id nor a failure and its orders do not show it
// (broker.ErrUnconfirmed: it may or may not hold it). The desk flattens
// the account through the kill path (trigger unconfirmed_stop) and
// alerts. Before, the entry was booked as refused and the account traded
// on, while the venue might hold an entry without its stop.
func TestUnconfirmedBracketFlattens(t *testing.T) {
	r := newTVRig(t, tvOpt{Venue: venue.Config{Faults: venue.Realistic()}})
	r.trade(r.px)
	_ = r.d.byID["A"].m.Fire(EvStart, "test")
	r.v.NoOrderIDNext(1, false)
	res := r.enter("A", market.Buy, 1)
	if res.Err == nil {
		t.Fatalf("entry %+v: no error", res)
	}
	k := r.kills()
	if len(k) != 1 || k[0].Trigger != string(TriggerUnconfirmedStop) || k[0].Scope != "A" {
		t.Fatalf("kills %+v, want one unconfirmed_stop kill of A", k)
	}
	if r.alerts.count(alert.KindStopRepaired, "A") != 1 {
		t.Fatal("not alerted")
	}
	r.trade(r.px)
	r.within("flat at the venue", func() bool { return r.venuePos("A").Qty == 0 && r.openAtVenue("A") == 0 })
	r.finish()
}

// TestUnconfirmedRepairStopFlattens: a repair stop (here for a trader's
// naked position) answered without an order id that the venue's orders do
// not show flattens the account with trigger unconfirmed_stop.
func TestUnconfirmedRepairStopFlattens(t *testing.T) {
	r := newTVRig(t, tvOpt{Venue: venue.Config{Faults: venue.Realistic()}})
	r.trade(r.px)
	r.v.NoOrderIDNext(1, false)
	if err := r.v.PlaceExternalOrder(broker.Order{ClientID: "man.1", Account: "A", Side: market.Sell, Qty: 1, Type: market.MarketOrder,
		TIF: broker.Day}); err != nil {
		t.Fatal(err)
	}
	r.trade(r.px)
	r.within("an unconfirmed_stop kill", func() bool {
		for _, rec := range r.records() {
			if k, err := rec.Kill(); err == nil && k.Trigger == string(TriggerUnconfirmedStop) {
				return true
			}
		}
		return false
	})
	r.trade(r.px)
	r.within("flat at the venue", func() bool { return r.venuePos("A").Qty == 0 && r.position("A") == 0 && r.openAtVenue("A") == 0 })
	var repairs int
	for _, rec := range r.records() {
		if rec.Kind == journal.KindStopRepair {
			repairs++
		}
	}
	if repairs == 0 {
		t.Fatal("no repair journaled")
	}
	r.sameBooks()
	r.finish()
}

// TestBustRepairsWithoutTheGrace: a bust's surplus exits and the gap it
// opens are certain — not the venue's arming events in flight, which the
// coverage grace waits out — so the desk repairs them at once. The desk's
// wall clock is frozen here, so the grace never passes: the busted entry's
// orphaned legs must still be cancelled, and after a target's fill is
// busted the reopened position must still get its stop. Before, both
// waited for the grace; in the venue-faults drill (round 43) a bracket's
// stop of 4 filled inside it on a position a bust had cut to 3, opening a
// short of 1.
func TestBustRepairsWithoutTheGrace(t *testing.T) {
	wall := market.NewReplayClock(time.Now())
	r := newTVRig(t, tvOpt{Venue: venue.Config{Faults: venue.Realistic()}, Desk: func(o *Options) { o.Wall = wall }})
	settle := func() { r.d.Settle(r.ctx) } // within holds r.booked, as the driver does
	id := r.filledEntry("A", market.Buy)
	if err := r.v.Bust("A", id); err != nil {
		t.Fatal(err)
	}
	r.within("flat as the venue, the orphaned exits cancelled inside the grace", func() bool {
		settle()
		return r.position("A") == 0 && r.venuePos("A").Qty == 0 && r.openAtVenue("A") == 0
	})
	id = r.filledEntry("A", market.Buy)
	r.trade(r.px + 13) // the target fills
	r.within("flat after the target", func() bool { return r.position("A") == 0 && r.openAtVenue("A") == 0 })
	_, target := LegIDs(id)
	if err := r.v.Bust("A", target); err != nil {
		t.Fatal(err)
	}
	r.within("long again as the venue, covered by a stop inside the grace", func() bool {
		settle()
		if r.position("A") != 1 || r.venuePos("A").Qty != 1 {
			return false
		}
		open, _ := r.v.Engine().OpenOrders(context.Background(), "A")
		return len(open) == 1 && open[0].Type == market.StopOrder && open[0].Qty == 1
	})
	r.sameBooks()
	r.finish()
}
