package supervisor

// clearfault_test.go: start-up reconciliation (issue 07) — a protective
// stop the journal says is working but the venue lost faults the account
// (journaled), repairs its stop coverage and alerts; an entry durable in
// the journal that never reached the venue is matched by client id and
// closed; the risk manager's ClearFault (a reason, the manager role, the
// venue's agreement) returns the account to trading, and a restart on the
// same journal keeps it cleared.

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/control"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/strategies"
)

// recAlerts records the desk's alert.
type recAlerts struct {
	mu  sync.Mutex
	got []alert.Alert
}

func (r *recAlerts) Notify(a alert.Alert) { r.mu.Lock(); r.got = append(r.got, a); r.mu.Unlock() }

func (r *recAlerts) count(kind alert.Kind, account string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, a := range r.got {
		if a.Kind == kind && a.Account == account {
			n++
		}
	}
	return n
}

func clearSpecs() []AccountSpec {
	return []AccountSpec{{Config: accounts.Config{ID: "L1", StartEquity: decimal.NewFromInt(50000), Strategies: []string{"orb"}}},
		{Config: accounts.Config{ID: "BIG", StartEquity: decimal.NewFromInt(100000), Strategies: []string{"orb"}}}}
}

// restartOnVenue is a supervisor restart that keeps the venue: the old
// desk's journal is closed (the process died) and a new desk opens the same
// file against the same sim, which kept every order it held.
func (r *rig) restartOnVenue(specs []AccountSpec, al Alerter) *rig {
	r.t.Helper()
	if r.j != nil {
		_ = r.j.Close()
		r.j = nil
	}
	clock := market.NewReplayClock(r.clock.Now())
	j, err := journal.Open(r.path, journal.Options{Clock: clock, Timeout: 5 * time.Second})
	if err != nil {
		r.t.Fatal(err)
	}
	d, err := New(Options{Clock: clock, Log: testLog(r.t), Journal: JournalOf(j), Broker: r.rec, Accounts: specs,
		Engines: strategies.DefaultConfig(), Alerts: al})
	if err != nil {
		r.t.Fatal(err)
	}
	r2 := &rig{t: r.t, path: r.path, j: j, sim: r.sim, rec: r.rec, clock: clock, d: d}
	r.t.Cleanup(func() { r2.close() })
	return r2
}

// recoverAndStart recovers the rig's desk from its journal and starts it at
// tm; the venue's answers to what Start sent (repairs) are applied.
func (r *rig) recoverAndStart(ctx context.Context, tm int64) Recovered {
	r.t.Helper()
	rec, err := r.d.Recover(r.j)
	if err != nil {
		r.t.Fatal(err)
	}
	r.start(ctx, tm)
	if err := r.d.drainSync(ctx, r.rec); err != nil {
		r.t.Fatal(err)
	}
	return rec
}

// reconciles returns the journal's reconcile records for account from seq on.
func (r *rig) reconciles(account string, from uint64) []journal.Reconcile {
	r.t.Helper()
	var out []journal.Reconcile
	for _, rec := range r.records() {
		if rec.Kind != journal.KindReconcile || rec.Account != account || rec.Seq < from {
			continue
		}
		rr, err := rec.Reconcile()
		if err != nil {
			r.t.Fatal(err)
		}
		out = append(out, rr)
	}
	return out
}

// transitions counts the journaled account transitions of account to state
// (by event) from seq on.
func (r *rig) transitions(account, to, event string, from uint64) int {
	r.t.Helper()
	n := 0
	for _, rec := range r.records() {
		if rec.Kind != journal.KindTransition || rec.Account != account || rec.Seq < from {
			continue
		}
		if tr, err := rec.Transition(); err == nil && tr.To == to && (event == "" || tr.Event == event) {
			n++
		}
	}
	return n
}

func (r *rig) lastSeq() uint64 {
	recs := r.records()
	if len(recs) == 0 {
		return 0
	}
	return recs[len(recs)-1].Seq
}

// venueStops returns the account's working stop-market orders at the venue.
func (r *rig) venueStops(ctx context.Context, account string) []broker.OrderState {
	r.t.Helper()
	open, err := r.sim.OpenOrders(ctx, account)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []broker.OrderState
	for _, o := range open {
		if o.Type == market.StopOrder && o.Status == broker.Working {
			out = append(out, o)
		}
	}
	return out
}

func closedWhy(rr []journal.Reconcile, id string) string {
	for _, r := range rr {
		for _, c := range r.Closed {
			if c.ID == id {
				return c.Why
			}
		}
	}
	return ""
}

func TestReconcileLostStopFaultsAndClearFault(t *testing.T) {
	ctx := ctxT(t, 60*time.Second)
	specs := clearSpecs()
	r := newRig(t, rigOpt{Accounts: specs, Path: filepath.Join(t.TempDir(), "desk.db")})
	r.start(ctx, etAt(10, 0, 0))
	r.step(ctx, etAt(10, 0, 1), pts(5000.25))
	res := r.d.HandleIntent(ctx, buyBracket(etAt(10, 0, 1)))
	if !res.Sent {
		t.Fatalf("entry not sent: %+v", res)
	}
	r.step(ctx, etAt(10, 0, 2), pts(5000)) // fills the entry, arms the bracket
	stopID, targetID := LegIDs(res.ID)
	if o, err := r.sim.Order("L1", stopID); err != nil || o.Status != broker.Working {
		t.Fatalf("bracket stop at the venue: %+v %v", o, err)
	}
	// An entry made durable just before the desk died, never sent.
	unsent := intent.Intent{Kind: intent.Enter, Account: "L1", Strategy: "test", ID: "L1.unsent.1", Time: etAt(10, 0, 2),
		Side: market.Buy, Qty: 1, EntryType: market.LimitOrder, Entry: pts(4990), Stop: pts(4989), Target: pts(4995)}
	if _, err := r.j.Append(ctx, journal.NewIntent(unsent, &journal.Decision{Allowed: true})); err != nil {
		t.Fatal(err)
	}
	// The venue loses the protective stop, with no report the desk will see.
	if err := r.sim.Cancel(ctx, "L1", stopID); err != nil {
		t.Fatal(err)
	}
	_ = r.sim.Drain()

	// Restart 1: the lost stop is a mismatch.
	al := &recAlerts{}
	r2 := r.restartOnVenue(specs, al)
	from := r2.lastSeq() + 1
	rec := r2.recoverAndStart(ctx, etAt(10, 1, 0))
	if rec.OpenIntents != 1 {
		t.Errorf("recovered %d open intents, want 1 (the unsent entry)", rec.OpenIntents)
	}
	a := r2.d.byID["L1"]
	if st := a.m.State(); st != AcctFaulted {
		t.Fatalf("L1 %s after a lost stop, want faulted", st)
	}
	if st := r2.d.byID["BIG"].m.State(); st != AcctTrading {
		t.Errorf("BIG %s, want trading (nothing disagreed)", st)
	}
	if n := r2.transitions("L1", AcctFaulted, EvFault, from); n != 1 {
		t.Errorf("%d journaled transitions to faulted, want 1", n)
	}
	rr := r2.reconciles("L1", from)
	if len(rr) != 1 || !rr[0].Faulted || len(rr[0].Mismatches) != 1 || !strings.Contains(rr[0].Mismatches[0], stopID) {
		t.Fatalf("reconcile records %+v", rr)
	}
	if w := closedWhy(rr, stopID); w != closedLostStop {
		t.Errorf("lost stop closed as %q", w)
	}
	if w := closedWhy(rr, targetID); w != "" {
		t.Errorf("target (still at the venue) closed as %q", w)
	}
	if w := closedWhy(rr, unsent.ID); w != closedNeverSent {
		t.Errorf("unsent entry closed as %q", w)
	}
	if rr[0].IntentsNotAtVenue != 1 || rr[0].IntentsAtVenue != 0 {
		t.Errorf("intents matched: %d at the venue, %d not", rr[0].IntentsAtVenue, rr[0].IntentsNotAtVenue)
	}
	if al.count(alert.KindReconcileMismatch, "L1") != 1 || al.count(alert.KindStopRepaired, "L1") != 1 {
		t.Errorf("alerts %+v", al.got)
	}
	stops := r2.venueStops(ctx, "L1")
	if len(stops) != 1 || stops[0].Qty != 1 || stops[0].Side != market.Sell || stops[0].StopPrice != pts(4999) ||
		!strings.Contains(stops[0].ClientID, ".repair.") {
		t.Fatalf("stops at the venue after the repair: %+v", stops)
	}
	repair1 := stops[0].ClientID
	if got := r2.d.HandleIntent(ctx, buyBracket(etAt(10, 1, 1))); got.Sent || got.Decision.Reason != limits.Halted {
		t.Fatalf("entry on a faulted account: %+v", got)
	}

	// Refusals.
	if err := r2.d.ClearFault(ctx, "L1", "risk", " "); !errors.Is(err, deskapi.ErrReasonRequired) {
		t.Errorf("clear without a reason: %v", err)
	}
	if err := r2.d.ClearFault(ctx, "BIG", "risk", "why"); !errors.Is(err, deskapi.ErrNotAllowed) {
		t.Errorf("clear of a trading account: %v", err)
	}
	if err := r2.d.ClearFault(ctx, "NOPE", "risk", "why"); !errors.Is(err, deskapi.ErrUnknownAccount) {
		t.Errorf("clear of an unknown account: %v", err)
	}
	var toks auth.Tokens
	toks.AddPlain("risk", "mtok", auth.Role{Kind: "manager"})
	toks.AddPlain("alice", "ttok", auth.Role{Kind: "trader", Account: "L1"})
	toks.AddPlain("wall", "vtok", auth.Role{Kind: "viewer"})
	ctl := &control.Server{Desk: r2.d, Tokens: &toks}
	for _, tok := range []string{"ttok", "vtok"} {
		if resp := ctl.Do(ctx, deskapi.Request{Token: tok, Op: "clear", Account: "L1", Reason: "please"}); resp.OK {
			t.Errorf("%s cleared the fault: %+v", tok, resp)
		}
	}
	if resp := ctl.Do(ctx, deskapi.Request{Token: "mtok", Op: "clear", Account: "L1"}); resp.OK {
		t.Errorf("clear without a reason over the socket: %+v", resp)
	}
	// The venue loses the repair stop too: the clear is refused, the
	// account stays faulted.
	if err := r2.sim.Cancel(ctx, "L1", repair1); err != nil {
		t.Fatal(err)
	}
	_ = r2.sim.Drain()
	if err := r2.d.ClearFault(ctx, "L1", "risk", "looks fine"); !errors.Is(err, deskapi.ErrNotAllowed) || !strings.Contains(err.Error(), "stop cover") {
		t.Errorf("clear with the position uncovered at the venue: %v", err)
	}
	if st := a.m.State(); st != AcctFaulted {
		t.Fatalf("L1 %s after refused clears, want faulted", st)
	}
	if n := r2.transitions("L1", AcctIdle, EvClear, 0); n != 0 {
		t.Fatalf("%d clear transitions journaled by refused clears", n)
	}

	// Restart 2: the lost repair is found (a stop, rebuilt from its
	// stop_repair record); the bracket stop closed at restart 1 is not
	// reported again.
	r3 := r2.restartOnVenue(specs, al)
	from = r3.lastSeq() + 1
	r3.recoverAndStart(ctx, etAt(10, 2, 0))
	a = r3.d.byID["L1"]
	if st := a.m.State(); st != AcctFaulted {
		t.Fatalf("L1 %s after restart 2, want faulted", st)
	}
	rr = r3.reconciles("L1", from)
	if len(rr) != 1 || len(rr[0].Mismatches) != 1 || !strings.Contains(rr[0].Mismatches[0], repair1) {
		t.Fatalf("restart 2 reconcile records %+v", rr)
	}
	stops = r3.venueStops(ctx, "L1")
	if len(stops) != 1 || stops[0].ClientID == repair1 || stops[0].Qty != 1 {
		t.Fatalf("stops at the venue after restart 2: %+v", stops)
	}

	// The risk manager clears it over the control socket.
	ctl.Desk = r3.d
	if resp := ctl.Do(ctx, deskapi.Request{Token: "mtok", Op: "clear", Account: "L1", Reason: "repair stop confirmed at the venue"}); !resp.OK {
		t.Fatalf("manager clear: %+v", resp)
	}
	if st := a.m.State(); st != AcctTrading {
		t.Fatalf("L1 %s after the clear, want trading", st)
	}
	if n := r3.transitions("L1", AcctIdle, EvClear, from); n != 1 {
		t.Errorf("%d clear transitions journaled, want 1", n)
	}
	cleared := 0
	for _, x := range r3.records() {
		if x.Kind == journal.KindClear && x.Account == "L1" && strings.Contains(string(x.Body), "repair stop confirmed") {
			cleared++
		}
	}
	if cleared != 1 || al.count(alert.KindFaultCleared, "L1") != 1 {
		t.Errorf("clear records %d, fault_cleared alerts %d; want 1 and 1", cleared, al.count(alert.KindFaultCleared, "L1"))
	}
	if err := r3.d.ClearFault(ctx, "L1", "risk", "again"); !errors.Is(err, deskapi.ErrNotAllowed) {
		t.Errorf("second clear: %v", err)
	}

	// Restart 3: the cleared account stays cleared.
	r4 := r3.restartOnVenue(specs, al)
	from = r4.lastSeq() + 1
	r4.recoverAndStart(ctx, etAt(10, 3, 0))
	a = r4.d.byID["L1"]
	if st := a.m.State(); st != AcctTrading {
		t.Fatalf("L1 %s after a restart following the clear, want trading", st)
	}
	if n := r4.transitions("L1", AcctFaulted, "", from); n != 0 {
		t.Fatalf("restart after the clear faulted L1 again")
	}
	for _, x := range r4.reconciles("L1", from) {
		if x.Faulted || len(x.Mismatches) > 0 {
			t.Fatalf("restart after the clear: reconcile %+v", x)
		}
	}
	// And it trades: the repaired stop takes the position out, a new entry goes.
	r4.step(ctx, etAt(10, 3, 1), pts(4999))
	if p, _ := r4.sim.Position("L1"); p.Qty != 0 || r4.d.byID["L1"].ledger.Position() != 0 {
		t.Fatalf("venue position %d, ledger %d after the repaired stop fired", p.Qty, r4.d.byID["L1"].ledger.Position())
	}
	r4.step(ctx, etAt(10, 3, 2), pts(5000.25))
	if got := r4.d.HandleIntent(ctx, buyBracket(etAt(10, 3, 2))); !got.Sent {
		t.Fatalf("entry after the clear: %+v", got)
	}
}

// TestClearFaultRefusedWhileDeskHalted: a desk kill in force is lifted by
// Rearm first.
func TestClearFaultRefusedWhileDeskHalted(t *testing.T) {
	ctx := ctxT(t, 20*time.Second)
	r := newRig(t, rigOpt{Accounts: clearSpecs()})
	r.start(ctx, etAt(10, 0, 0))
	r.step(ctx, etAt(10, 0, 1), pts(5000.25))
	a := r.d.byID["L1"]
	r.d.faultAccount(ctx, a, TriggerFault, "test fault")
	if st := a.m.State(); st != AcctFaulted {
		t.Fatalf("L1 %s, want faulted", st)
	}
	if err := r.d.Flatten(ctx, "", "test", "tester"); err != nil {
		t.Fatal(err)
	}
	r.step(ctx, etAt(10, 0, 2), pts(5000.25))
	if st := r.d.m.State(); st != DeskHalted {
		t.Fatalf("desk %s, want halted", st)
	}
	if err := r.d.ClearFault(ctx, "L1", "risk", "checked"); !errors.Is(err, deskapi.ErrNotAllowed) {
		t.Fatalf("clear while the desk is halted: %v", err)
	}
	if err := r.d.Rearm(ctx, "risk", "checked"); err != nil {
		t.Fatal(err)
	}
	if st := a.m.State(); st != AcctFaulted {
		t.Fatalf("L1 %s after re-arm, want still faulted", st)
	}
	if err := r.d.ClearFault(ctx, "L1", "risk", "checked"); err != nil {
		t.Fatal(err)
	}
	if st := a.m.State(); st != AcctTrading {
		t.Fatalf("L1 %s after clear, want trading", st)
	}
}
