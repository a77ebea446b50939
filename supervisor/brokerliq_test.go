package supervisor

// brokerliq_test.go: the broker's own liquidation of an account is not a
// trader's external order (brokerliq.go), over the real Tradovate protocol
// against the venue doing it: the venue's auto-liquidation (its order
// marked admin, the account made liquidate-only) is booked and alerted as
// the broker's, never faulted under external_orders = "fault"; an order
// the desk did not place that only reduces the position is the broker's
// when the broker reports the account locked just after it, and a
// trader's (faulted) when no lock comes within the window; and a kill
// while the broker's liquidation works waits for it instead of racing it.
// Each fails on the desk that took every external order for a trader's.

import (
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

// brokerAlerts are the broker alerts on account whose what is what.
func (r *tvRig) brokerAlerts(account, what string) []alert.Alert {
	r.alerts.mu.Lock()
	defer r.alerts.mu.Unlock()
	var out []alert.Alert
	for _, a := range r.alerts.got {
		if a.Kind == alert.KindBroker && a.Account == account && a.Broker != nil && a.Broker.What == what {
			out = append(out, a)
		}
	}
	return out
}

// longOne enters account long 1 through the intent path and waits for
// the fill at the desk and the venue.
func (r *tvRig) longOne(account string) {
	r.t.Helper()
	_ = r.d.byID[account].m.Fire(EvStart, "test")
	r.trade(r.px)
	res := r.enter(account, market.Buy, 1)
	if !res.Sent {
		r.t.Fatalf("entry not sent: %+v", res)
	}
	r.trade(r.px)
	r.within(account+" long 1 at the desk and the venue", func() bool { return r.position(account) == 1 && r.venuePos(account).Qty == 1 })
}

// liquidateEvents counts the journaled events of the desk's own
// liquidation orders on account.
func (r *tvRig) liquidateEvents(account string) int {
	n := 0
	for _, rec := range r.records() {
		if rec.Kind != journal.KindBrokerEvent {
			continue
		}
		if ev, err := rec.BrokerEvent(); err == nil && ev.Account == account && strings.HasPrefix(ev.ClientID, "liquidate.") {
			n++
		}
	}
	return n
}

// TestBrokerAutoLiquidationIsNotATradersOrder: with external_orders =
// "fault", the broker's auto-liquidation of A (the venue makes it
// liquidate-only and flattens it with an admin order) is booked as the
// broker's: no fault, no kill, one "liquidated by broker" alert naming the
// broker's status and one broker_liquidation risk record, the books the
// venue's, the journal verified; while the broker's order works, the gap
// its cancels left in A's stop coverage is not repaired. Before, the desk
// faulted A as if a trader had placed the order and liquidated it again.
func TestBrokerAutoLiquidationIsNotATradersOrder(t *testing.T) {
	r := newTVRig(t, tvOpt{Venue: venue.Config{Faults: venue.Realistic()}, Desk: func(o *Options) { o.ExternalOrders = ExternalFault }})
	r.longOne("A")
	if err := r.v.AutoLiquidate("A"); err != nil {
		t.Fatal(err)
	}
	// The broker cancelled A's stop and its market sell works: past the
	// coverage grace the desk has not repaired the gap (a stop, or a
	// flatten, beside the broker's).
	r.within("the broker's liquidation working at the desk", func() bool { return r.d.byID["A"].brokerHold.Load() == 1 })
	r.pastGrace()
	for _, rec := range r.records() {
		if rec.Kind == journal.KindStopRepair {
			t.Fatalf("the desk repaired A's coverage beside the broker's liquidation: %s", rec.Body)
		}
	}
	r.trade(r.px - 2) // the broker's market sell fills
	r.within("flat at the desk and the venue", func() bool { return r.position("A") == 0 && r.venuePos("A").Qty == 0 })
	r.within("the liquidation alerted", func() bool { return len(r.brokerAlerts("A", "liquidated by broker")) > 0 })
	if st := r.d.byID["A"].m.State(); st == AcctFaulted {
		t.Fatalf("A faulted by the broker's own liquidation")
	}
	if k := r.kills(); len(k) != 0 {
		t.Fatalf("kills %+v after the broker's liquidation, want none", k)
	}
	if n := r.liquidateEvents("A"); n != 0 {
		t.Fatalf("%d events of a liquidation of the desk's beside the broker's", n)
	}
	al := r.brokerAlerts("A", "liquidated by broker")
	if len(al) != 1 || !strings.Contains(al[0].Detail, "liquidate-only") || !strings.Contains(al[0].Detail, "venue marks it") {
		t.Fatalf("liquidation alerts %+v, want one naming the broker's status, marked by the venue", al)
	}
	if ex := r.brokerAlerts("A", "external order"); len(ex) != 0 {
		t.Fatalf("the broker's liquidation alerted as an external order: %+v", ex)
	}
	if rk := r.riskRecords("A", riskBrokerLiq); len(rk) != 1 {
		t.Fatalf("broker_liquidation risk records %+v, want 1", rk)
	}
	r.within("nothing working", func() bool { return r.openAtVenue("A") == 0 })
	r.sameBooks()
	rep := r.finish()
	if rep.External == 0 {
		t.Error("journal verify counts no external fills: the broker's fill is not booked as an order the desk did not place")
	}
}

// TestBrokerLiquidationInferred: the venue does not mark the orders
// (PlaceExternalOrder: no admin). On A, a market sell of the whole
// position is followed within the window by the broker locking the
// account (a late risk update): the desk takes it for the broker's
// liquidation — no fault. On B, the same order with no lock: once the
// window has passed, it is a trader's and faults B. A buy on a flat
// account adds risk: a trader's at once.
func TestBrokerLiquidationInferred(t *testing.T) {
	wall := market.NewReplayClock(time.Now())
	r := newTVRig(t, tvOpt{Venue: venue.Config{Faults: venue.Realistic(), Accounts: []string{"A", "B", "C"}}, Desk: func(o *Options) {
		o.ExternalOrders, o.Wall, o.BrokerLiqWindow = ExternalFault, wall, 2*time.Second
	}})
	settle := func() {
		r.booked.Lock()
		defer r.booked.Unlock()
		r.d.Settle(r.ctx)
	}
	r.longOne("A")
	r.longOne("B")
	for _, acct := range []string{"A", "B"} {
		if err := r.v.PlaceExternalOrder(broker.Order{ClientID: "x." + acct, Account: acct, Side: market.Sell, Qty: 1,
			Type: market.MarketOrder, TIF: broker.Day}); err != nil {
			t.Fatal(err)
		}
	}
	r.trade(r.px)
	r.within("A and B flat", func() bool { return r.position("A") == 0 && r.position("B") == 0 })
	settle() // within the window: nothing decided yet
	if k := r.kills(); len(k) != 0 {
		t.Fatalf("kills %+v within the window, want none", k)
	}
	wall.Advance(wall.Now().Add(time.Second).UnixNano())
	if err := r.v.SetRiskStatus("A", "LiquidateOnlyModeImmediately"); err != nil {
		t.Fatal(err)
	}
	r.within("A's liquidation alerted", func() bool { return len(r.brokerAlerts("A", "liquidated by broker")) == 1 })
	if al := r.brokerAlerts("A", "liquidated by broker"); !strings.Contains(al[0].Detail, "inference") {
		t.Errorf("A's alert %q does not say it is the desk's inference", al[0].Detail)
	}
	wall.Advance(wall.Now().Add(2 * time.Second).UnixNano()) // past B's window
	settle()
	r.within("B faulted", func() bool { return r.d.byID["B"].m.State() == AcctFaulted })
	if st := r.d.byID["A"].m.State(); st == AcctFaulted {
		t.Fatal("A faulted: its order came just before the broker locked it")
	}
	k := r.kills()
	if len(k) != 1 || k[0].Trigger != string(TriggerExternalOrder) || k[0].Scope != "B" {
		t.Fatalf("kills %+v, want one external_order kill of B", k)
	}
	if al := r.brokerAlerts("B", "liquidated by broker"); len(al) != 0 {
		t.Fatalf("B alerted as liquidated by the broker: %+v", al)
	}
	// A buy on a flat account is no liquidation: faulted at once.
	if err := r.v.PlaceExternalOrder(broker.Order{ClientID: "x.C", Account: "C", Side: market.Buy, Qty: 1, Type: market.MarketOrder,
		TIF: broker.Day}); err != nil {
		t.Fatal(err)
	}
	r.within("C faulted", func() bool { return r.d.byID["C"].m.State() == AcctFaulted })
	r.trade(r.px)
	r.within("flat everywhere", func() bool {
		return r.venuePos("A").Qty == 0 && r.venuePos("B").Qty == 0 && r.venuePos("C").Qty == 0 && r.position("C") == 0
	})
	r.sameBooks()
	r.finish()
}

// TestKillWaitsForTheBrokersLiquidation: the broker's auto-liquidation of
// A is working (its market sell has not filled) when the desk kills A: the
// desk's liquidation is held back, not sent beside the broker's; once the
// broker's fills, the desk's goes (on a flat account: nothing to flatten)
// and A halts. Before, the desk's liquidateposition went at once, beside
// the broker's order.
func TestKillWaitsForTheBrokersLiquidation(t *testing.T) {
	r := newTVRig(t, tvOpt{Venue: venue.Config{Faults: venue.Realistic()}})
	r.longOne("A")
	if err := r.v.AutoLiquidate("A"); err != nil {
		t.Fatal(err)
	}
	r.within("the broker's liquidation working at the desk", func() bool { return r.d.byID["A"].brokerHold.Load() == 1 })
	rep, err := r.d.Kill(r.ctx, AccountScope("A"), TriggerConsole, "test")
	if err != nil {
		t.Fatal(err)
	}
	// The report says the desk's liquidation was held, not answered by the venue.
	if len(rep.Held) != 1 || rep.Held[0] != "A" {
		t.Errorf("kill report Held %v, want [A]", rep.Held)
	}
	if fa := r.d.lastKill.Load().answer(); len(fa.Held) != 1 || len(fa.Unconfirmed)+len(fa.Refused) != 0 {
		t.Errorf("flatten answer %+v, want A held", fa)
	}
	if !r.d.byID["A"].liqDeferred.Load() {
		t.Fatal("the desk's liquidation was not held back while the broker's works")
	}
	if p := r.venuePos("A"); p.Qty != 1 {
		t.Fatalf("venue position %d before the broker's order filled, want 1", p.Qty)
	}
	r.trade(r.px - 2) // the broker's market sell fills
	r.within("A halted, flat", func() bool {
		return r.d.byID["A"].m.State() == AcctHalted && r.venuePos("A").Qty == 0 && r.position("A") == 0
	})
	if r.d.byID["A"].liqDeferred.Load() {
		t.Fatal("the held-back liquidation was never sent")
	}
	if n := r.liquidateEvents("A"); n != 0 {
		t.Fatalf("%d events of a liquidation order of the desk's: it raced the broker's", n)
	}
	r.trade(r.px - 30)
	r.within("still flat", func() bool { return r.venuePos("A").Qty == 0 && r.openAtVenue("A") == 0 })
	r.sameBooks()
	r.finish()
}

// TestClassifyExternal: whose a new order the desk did not place is taken
// for, from what it finds (a table over classifyLocked and reducesOnly):
// the venue's word first; else a lone market order on the exit side for at
// most the position is the broker's when the account is locked at the
// broker and undecided (a suspect) when not; anything else a trader's.
func TestClassifyExternal(t *testing.T) {
	mkt := func(side market.Side, qty int64) broker.Event {
		return broker.Event{Account: "A", ClientID: "x", Kind: broker.Accepted, Side: side, LeavesQty: qty, Role: broker.Single,
			External: true, OrderType: market.MarketOrder}
	}
	with := func(ev broker.Event, f func(*broker.Event)) broker.Event { f(&ev); return ev }
	for _, tc := range []struct {
		name   string
		ev     broker.Event
		pos    int64
		locked bool
		want   liqClass
	}{
		{"marked by the venue, even adding", with(mkt(market.Buy, 3), func(e *broker.Event) { e.ByBroker = true }), 2, false, liqBroker},
		{"sell all of a long, locked", mkt(market.Sell, 2), 2, true, liqBroker},
		{"buy all of a short, locked", mkt(market.Buy, 2), -2, true, liqBroker},
		{"sell part of a long, locked", mkt(market.Sell, 1), 2, true, liqBroker},
		{"sell all of a long, not locked yet", mkt(market.Sell, 2), 2, false, liqSuspect},
		{"a fill first: its quantity counts", with(mkt(market.Sell, 0), func(e *broker.Event) { e.Kind, e.FillQty = broker.FilledEv, 2 }), 2, false, liqSuspect},
		{"sell more than the long", mkt(market.Sell, 3), 2, true, liqTrader},
		{"sell on a flat account", mkt(market.Sell, 1), 0, true, liqTrader},
		{"buy on a long", mkt(market.Buy, 1), 2, true, liqTrader},
		{"a limit order", with(mkt(market.Sell, 1), func(e *broker.Event) { e.OrderType = market.LimitOrder }), 2, true, liqTrader},
		{"a bracket's entry", with(mkt(market.Sell, 1), func(e *broker.Event) { e.Role = broker.EntryLeg }), 2, true, liqTrader},
		{"the type not said", with(mkt(market.Sell, 1), func(e *broker.Event) { e.OrderType = 0 }), 2, true, liqBroker},
		{"no quantity said", mkt(market.Sell, 0), 2, true, liqTrader},
	} {
		a := &account{suspects: map[string]suspect{}, brokerLocked: tc.locked}
		if got := a.classifyLocked(tc.ev, tc.pos, time.Unix(0, 0)); got != tc.want {
			t.Errorf("%s: class %d, want %d", tc.name, got, tc.want)
		}
		if _, held := a.suspects["x"]; held != (tc.want == liqSuspect) {
			t.Errorf("%s: held as a suspect %v", tc.name, held)
		}
	}
}
