package supervisor

// tradovate_brokerside_test.go: the desk's use of what the broker does
// beside the Broker interface (brokerside.go), over the real protocol
// against the venue doing it: the broker's own risk limits set as a second
// line, positions carried from an earlier trade date, the ledger checked
// against the broker's cash balance (at start and after a reconnect), and
// the desk's orders rebound by the venue's ids after a restart.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

// riskRecords are the journal's broker-risk records of account.
func (r *tvRig) riskRecords(account, event string) []journal.Risk {
	var out []journal.Risk
	for _, rec := range r.records() {
		if rec.Kind != journal.KindRisk || rec.Account != account {
			continue
		}
		rk, err := rec.Risk()
		if err != nil {
			r.t.Fatal(err)
		}
		if rk.Event == event {
			out = append(out, rk)
		}
	}
	return out
}

// reconciles are the journal's reconcile records of account.
func (r *tvRig) reconciles(account string) []journal.Reconcile {
	var out []journal.Reconcile
	for _, rec := range r.records() {
		if rec.Kind != journal.KindReconcile || rec.Account != account {
			continue
		}
		rc, err := rec.Reconcile()
		if err != nil {
			r.t.Fatal(err)
		}
		out = append(out, rc)
	}
	return out
}

// TestBrokerRiskSetAtStart: at start the desk sets each day account's
// broker-side daily loss to its lockout allowance and its flatten time to
// the desk's flat-by, reads them back and journals them; an account whose
// settings the broker has locked is shown "broker risk not set", alerted
// and journaled. Before, the broker's own limits were never set: a dead
// desk was bounded by nothing at the broker.
func TestBrokerRiskSetAtStart(t *testing.T) {
	r := newTVRig(t, tvOpt{Venue: venue.Config{Faults: venue.Realistic()}, NoStart: true, Desk: func(o *Options) {
		o.Schedule.FlattenDay = "55 15 * * 1-5"
		for i := range o.Accounts {
			o.Accounts[i].DayTrading = true
		}
	}})
	if err := r.v.LockRiskChanges("B"); err != nil {
		t.Fatal(err)
	}
	r.start()

	a := r.d.byID["A"]
	allow := accounts.Money(a.ledger.StartCents() - a.rules.Drawdown.LineCents())
	if !allow.IsPositive() {
		t.Fatalf("allowance %s", allow)
	}
	loss, flatten, ok := r.v.AutoLiqSettings("A")
	if !ok || !decimal.NewFromFloat(loss).Equal(allow) {
		t.Fatalf("broker daily loss %v (set %v), want the allowance %s", loss, ok, allow)
	}
	// 15:55 New York on the rig's day (2024-03-12, EDT).
	if want := time.Date(2024, 3, 12, 15, 55, 0, 0, market.NewYork).UTC().Format(time.RFC3339); flatten != want {
		t.Fatalf("broker flatten time %q, want the flat-by %q", flatten, want)
	}
	st := r.d.Status(r.ctx)
	if got := st.Accounts[0].BrokerRisk; !strings.HasPrefix(got, "daily loss "+allow.StringFixed(2)+", flatten at 2024-03-12 15:55") {
		t.Errorf("A broker_risk %q", got)
	}
	if n := len(r.riskRecords("A", riskBrokerSet)); n != 1 {
		t.Errorf("A: %d broker_risk_set records, want 1", n)
	}

	// B: the broker's settings are locked; the write is answered 200 and
	// ignored, and only the read-back tells.
	if got := st.Accounts[1].BrokerRisk; !strings.HasPrefix(got, "broker risk not set") {
		t.Errorf("B broker_risk %q, want broker risk not set", got)
	}
	if r.alerts.count(alert.KindBroker, "B") != 1 || r.alerts.count(alert.KindBroker, "A") != 0 {
		t.Errorf("broker alerts: A %d, B %d; want 0, 1", r.alerts.count(alert.KindBroker, "A"), r.alerts.count(alert.KindBroker, "B"))
	}
	if n := len(r.riskRecords("B", riskBrokerRefused)); n != 1 {
		t.Errorf("B: %d broker_risk_refused records, want 1", n)
	}
	if lossB, _, _ := r.v.AutoLiqSettings("B"); lossB != 0 {
		t.Errorf("B's locked settings changed: daily loss %v", lossB)
	}
	r.finish()
}

// TestBrokerRiskNotForSwingAccounts: an account the flat-by does not
// flatten gets the daily loss but no flatten time at the broker.
func TestBrokerRiskNotForSwingAccounts(t *testing.T) {
	r := newTVRig(t, tvOpt{Venue: venue.Config{Accounts: []string{"A"}}, Desk: func(o *Options) {
		o.Schedule.FlattenDay = "55 15 * * 1-5"
	}})
	if _, flatten, ok := r.v.AutoLiqSettings("A"); !ok || flatten != "" {
		t.Fatalf("swing account: set %v, flatten %q; want set, no flatten time", ok, flatten)
	}
}

// TestCarriedPositionBooked: the venue holds a position carried from an
// earlier trade date (prevPos 2 at 5090.00). The desk books it at the
// carried price, covers it with a stop, and when it is flattened the
// desk's realized PnL is the venue's (the ledger and the broker's cash
// agree). A restart the same trade date does not book it twice. Before, the
// desk started flat while the venue held 2: an uncovered position, and any
// exit booked as a phantom realized PnL.
func TestCarriedPositionBooked(t *testing.T) {
	carried := market.MustPrice("5090.00")
	v, stopV := startTVVenue(t, venue.Config{Accounts: []string{"A", "B"}, Carried: map[string]venue.Carry{"A": {Qty: 2, Price: carried}}})
	defer stopV()
	r := newTVRig(t, tvOpt{Venue0: v})
	r.trade(r.px)
	if got := r.position("A"); got != 2 {
		t.Fatalf("desk position %d, want the carried 2", got)
	}
	a := r.d.byID["A"]
	a.mu.Lock()
	cost, real := a.ledger.CostTicks(), a.ledger.RealizedTicks()
	a.mu.Unlock()
	if cost != 2*int64(carried) || real != 0 {
		t.Fatalf("carried at cost %d ticks realized %d, want %d, 0", cost, real, 2*int64(carried))
	}
	carriedRecs := 0
	for _, rc := range r.reconciles("A") {
		if rc.Correction != nil && rc.Correction.Carried {
			carriedRecs++
		}
	}
	if carriedRecs != 1 {
		t.Fatalf("%d carried reconcile records, want 1", carriedRecs)
	}
	if st := r.d.byID["A"].m.State(); st == AcctFaulted {
		t.Fatal("a carried position faulted the account")
	}
	r.pastGrace()
	r.within("the carried position covered by a stop at the venue", func() bool {
		open, _ := r.v.Engine().OpenOrders(context.Background(), "A")
		return len(open) == 1 && open[0].Type == market.StopOrder && open[0].Qty == 2 && open[0].Side == market.Sell
	})
	if ms := r.d.CheckCash(r.ctx); len(ms) != 0 {
		t.Fatalf("cash mismatch with a carried position: %+v", ms)
	}
	r.finish() // the journal (and its ledger check) accepts the carried booking

	// A restart on the same venue and journal: booked once, not twice.
	r2 := newTVRig(t, tvOpt{Venue0: v, Path: r.path, NoStart: true})
	if _, err := r2.d.Recover(r2.j); err != nil {
		t.Fatal(err)
	}
	r2.start()
	if got := r2.position("A"); got != 2 {
		t.Fatalf("after a restart the desk holds %d, want 2", got)
	}
	if st := r2.d.byID["A"].m.State(); st == AcctFaulted {
		t.Fatal("the restart faulted the account")
	}
	r2.trade(r2.px)
	if _, err := r2.d.Kill(r2.ctx, AccountScope("A"), TriggerCLI, "test"); err != nil {
		t.Fatal(err)
	}
	r2.trade(r2.px) // the liquidation's market order fills
	r2.within("flat", func() bool { return r2.position("A") == 0 && r2.venuePos("A").Qty == 0 })
	r2.sameBooks()
	a2 := r2.d.byID["A"]
	a2.mu.Lock()
	real = a2.ledger.RealizedTicks()
	a2.mu.Unlock()
	if want := r2.venuePos("A").Realized; real != want || real == 0 {
		t.Fatalf("realized %d ticks, venue %d (want equal, not zero: the carried lots closed above their price)", real, want)
	}
	if ms := r2.d.CheckCash(r2.ctx); len(ms) != 0 {
		t.Fatalf("cash mismatch after flattening the carried position: %+v", ms)
	}
	// (Not journal verify here: its ledger check starts a new session at
	// the restart's session_reset record, which the recovered desk does not
	// — a restart-on-the-same-journal difference outside this test.)
}

// TestCashCheckedAgainstTheBroker: the broker's cash balance moves by a
// cent (within a cent per contract: no mismatch), then by another (beyond:
// journaled with both sides, shown, alerted), checked at once and, with a
// further adjustment, after a reconnect (the connection's syncs grew).
// Before, the desk never looked at the broker's balance.
func TestCashCheckedAgainstTheBroker(t *testing.T) {
	r := newTVRig(t, tvOpt{Venue: venue.Config{}})
	r.filledEntry("A", market.Buy)
	if ms := r.d.CheckCash(r.ctx); len(ms) != 0 {
		t.Fatalf("mismatch with books that agree: %+v", ms)
	}
	r.v.SkewCash("A", -0.01) // one contract open: a cent is within
	if ms := r.d.CheckCash(r.ctx); len(ms) != 0 {
		t.Fatalf("a cent on one contract called a mismatch: %+v", ms)
	}
	r.v.SkewCash("A", -0.01)
	ms := r.d.CheckCash(r.ctx)
	if len(ms) != 1 || ms[0].Account != "A" || ms[0].Check.BrokerRealized != "-0.02" || ms[0].Check.DeskRealized != "0.00" {
		t.Fatalf("mismatches %+v, want A's: broker -0.02, desk 0.00", ms)
	}
	if got := r.d.Status(r.ctx).Accounts[0].BrokerCash; !strings.Contains(got, "realized at the broker -0.02") {
		t.Errorf("broker_cash %q", got)
	}
	recs := r.reconciles("A")
	if len(recs) != 1 || recs[0].Cash == nil || recs[0].Cash.BrokerRealized != "-0.02" || recs[0].Faulted ||
		recs[0].JournalPosition != 1 || recs[0].VenuePosition != 1 {
		t.Fatalf("reconcile records %+v", recs)
	}
	if r.alerts.count(alert.KindBroker, "A") != 1 || len(r.reconciles("B")) != 0 {
		t.Fatal("want one cash alert for A, nothing for B")
	}
	if st := r.d.byID["A"].m.State(); st == AcctFaulted {
		t.Fatal("a cash difference faulted the account (it is only reported)")
	}

	// A reconnect: the next check runs once the connection has synced again.
	if r.d.Resynced(r.ctx) {
		t.Fatal("Resynced ran a check with no new sync")
	}
	r.v.SkewCash("B", -5)
	syncs := r.c.Syncs()
	r.v.DropWebSockets()
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	if err := r.c.WaitSynced(ctx, syncs+1); err != nil {
		t.Fatal(err)
	}
	if !r.d.Resynced(r.ctx) {
		t.Fatal("no cash check after the reconnect")
	}
	if len(r.reconciles("B")) != 1 {
		t.Fatal("B's difference not journaled after the reconnect")
	}
	r.finish()
}

// TestVenueOrdersAdoptedOnRestart: a venue that leaves clOrdId empty knows
// the desk's bracket only by its own order ids after a restart. The desk
// rebinds them from its journal (Event.VenueOrder) before reconciling: no
// "unknown order at the venue", no lost stop, no fault, and the desk can
// cancel its orders by its own ids. Before, the restarted desk faulted the
// account and could not cancel its own stop.
func TestVenueOrdersAdoptedOnRestart(t *testing.T) {
	v, stopV := startTVVenue(t, venue.Config{Accounts: []string{"A", "B"}, Faults: venue.Faults{EmptyClOrdID: true}})
	defer stopV()
	r := newTVRig(t, tvOpt{Venue0: v})
	id := r.filledEntry("A", market.Buy)
	r.finish()

	r2 := newTVRig(t, tvOpt{Venue0: v, Path: r.path, NoStart: true})
	if _, err := r2.d.Recover(r2.j); err != nil {
		t.Fatal(err)
	}
	r2.start()
	if st := r2.d.byID["A"].m.State(); st == AcctFaulted {
		for _, rc := range r2.reconciles("A") {
			t.Logf("reconcile: %+v", rc)
		}
		t.Fatal("the restarted desk faulted the account over its own orders")
	}
	stop, target := LegIDs(id)
	open, err := r2.c.OpenOrders(r2.ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, o := range open {
		names[o.ClientID] = true
	}
	if !names[stop] || !names[target] {
		t.Fatalf("the connector lists %v, want the desk's %s and %s", names, stop, target)
	}
	if err := r2.c.Cancel(r2.ctx, "A", target); err != nil {
		t.Fatalf("cancel the desk's target by its id: %v", err)
	}
	r2.within("the target cancelled", func() bool {
		a := r2.d.byID["A"]
		a.mu.Lock()
		defer a.mu.Unlock()
		o := a.orders[target]
		return o != nil && o.status == broker.Cancelled
	})
}

// TestBrokerRiskRefreshedAtSessionReset: the broker's flatten time is a
// moment, not a time of day, and the allowance moves with the session's
// start equity: at the session reset the desk sets both again (the new
// day's flat-by, the new allowance), reads them back and journals them,
// off the tick path. Before, the broker held the first day's flat-by after
// it had passed: from the second day on, a desk that died was bounded by
// no flatten time at the broker.
func TestBrokerRiskRefreshedAtSessionReset(t *testing.T) {
	r := newTVRig(t, tvOpt{Venue: venue.Config{Accounts: []string{"A"}}, Desk: func(o *Options) {
		o.Schedule.FlattenDay = "55 15 * * 1-5"
		o.Schedule.SessionReset = "0 18 * * 0-4"
		o.Accounts[0].DayTrading = true
	}})
	day := func(d int) string {
		return time.Date(2024, 3, d, 15, 55, 0, 0, market.NewYork).UTC().Format(time.RFC3339)
	}
	if _, flatten, _ := r.v.AutoLiqSettings("A"); flatten != day(12) {
		t.Fatalf("at start the broker flattens at %q, want %q", flatten, day(12))
	}
	// A loss today: the next session's allowance is measured from less.
	r.filledEntry("A", market.Buy)
	start0 := r.d.byID["A"].ledger.StartCents()
	if _, err := r.d.Kill(r.ctx, AccountScope("A"), TriggerCLI, "test"); err != nil {
		t.Fatal(err)
	}
	r.trade(r.px - 4) // the liquidation fills lower
	r.within("A flat", func() bool { return r.position("A") == 0 && r.venuePos("A").Qty == 0 })

	// Past the flat-by and the session reset (18:00 New York).
	r.now = time.Date(2024, 3, 12, 18, 0, 0, 0, market.NewYork).UnixNano()
	r.trade(r.px)
	a := r.d.byID["A"]
	a.mu.Lock()
	allow := accounts.Money(a.ledger.StartCents() - a.rules.Drawdown.LineCents())
	start1 := a.ledger.StartCents()
	a.mu.Unlock()
	if start1 >= start0 {
		t.Fatalf("the session started from %d cents after a loss, the day before from %d", start1, start0)
	}
	r.within("the broker's flatten time moved to the next day's flat-by", func() bool {
		_, flatten, _ := r.v.AutoLiqSettings("A")
		return flatten == day(13)
	})
	r.d.later.Wait() // the refresh has journaled what it read back
	if loss, _, _ := r.v.AutoLiqSettings("A"); !decimal.NewFromFloat(loss).Equal(allow) {
		t.Errorf("broker daily loss %v after the session reset, want the new session's allowance %s", loss, allow)
	}
	recs := r.riskRecords("A", riskBrokerSet)
	if len(recs) != 2 || !strings.Contains(recs[1].Detail, "flatten at 2024-03-13 15:55") ||
		!strings.Contains(recs[1].Detail, "daily loss "+allow.StringFixed(2)) {
		t.Fatalf("broker_risk_set records %+v, want the start's and the session reset's (%s, 2024-03-13 15:55)", recs, allow)
	}
	if got := r.d.Status(r.ctx).Accounts[0].BrokerRisk; !strings.Contains(got, "flatten at 2024-03-13 15:55") {
		t.Errorf("status broker_risk %q, want the new day's flatten time", got)
	}
	r.finish()
}
