package supervisor

// rules_test.go: the risk rules of docs/risk.md wired into the desk — each
// one through the whole desk (the real journal, the real sim, the gate),
// each with what the desk must do when it trips and, where it has state,
// a restart in the middle of that state on the same journal and venue that
// comes back in the same state. Each test fails when its wiring is
// removed: the rung, line or tier not acted on, not journaled, not
// restored, the gate's snapshot not filled.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/strategies"
)

// dayAt is 2024-03-DD hh:mm:ss ET (the 12th is a Tuesday).
func dayAt(dd, hh, mm, ss int) int64 {
	return time.Date(2024, 3, dd, hh, mm, ss, 0, market.NewYork).UnixNano()
}

// ruleSpec is an account running no engine (so only the test's intents
// trade) with its own limits.
func ruleSpec(id string, equity int64, lim limits.Config) AccountSpec {
	return AccountSpec{Config: accounts.Config{ID: id, StartEquity: decimal.NewFromInt(equity), Strategies: []string{}, Limits: lim}}
}

// bigSpec keeps the desk-wide limit (the sum) clear of the account under test.
func bigSpec() AccountSpec { return ruleSpec("BIG", 10_000_000, limits.Config{}) }

func enterAt(acct string, at int64, side market.Side, qty int64, entry, stop, target float64) intent.Intent {
	return intent.Intent{Kind: intent.Enter, Account: acct, Strategy: "test", Time: at, Side: side, Qty: qty,
		EntryType: market.LimitOrder, Entry: pts(entry), Stop: pts(stop), Target: pts(target), Reason: "test"}
}

func addAt(acct string, at int64, qty int64, entry, stop, target float64) intent.Intent {
	in := enterAt(acct, at, market.Buy, qty, entry, stop, target)
	in.Kind = intent.Add
	return in
}

func exitAt(acct string, at int64) intent.Intent {
	return intent.Intent{Kind: intent.Exit, Account: acct, Strategy: "test", Time: at, Reason: "test exit"}
}

// restartOn is a supervisor restart that keeps the venue (the sim held every
// order and position): the journal is closed (the process died) and a new
// desk with the same options opens it, recovers and starts at tm.
func (r *rig) restartOn(ctx context.Context, o rigOpt, tm int64) (*rig, Recovered) {
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
	lim := o.Limits
	lim.MaxDataAge = 0
	d, err := New(Options{Clock: clock, Log: testLog(r.t), Journal: JournalOf(j), Broker: r.rec, Limits: lim, Accounts: o.Accounts,
		Engines: strategies.DefaultConfig(), Schedule: o.Schedule, ManualUnlock: o.ManualUnlock, Alerts: o.Alerts,
		Calendar: o.Calendar, DeskWarnPct: o.DeskWarnPct, DeskReduceOnlyPct: o.DeskReduceOnlyPct})
	if err != nil {
		r.t.Fatal(err)
	}
	r2 := &rig{t: r.t, path: r.path, j: j, sim: r.sim, rec: r.rec, clock: clock, d: d}
	r.t.Cleanup(func() { r2.close() })
	rec := r2.recoverAndStart(ctx, tm)
	return r2, rec
}

// send asks the desk for in and fails unless the result is the one wanted:
// sent, or refused with reason.
func (r *rig) send(ctx context.Context, in intent.Intent, want limits.Reason) IntentResult {
	r.t.Helper()
	res := r.d.HandleIntent(ctx, in)
	switch {
	case want == limits.OK && (!res.Sent || res.Err != nil):
		r.t.Fatalf("%s %s at %s: not sent: %+v", in.Kind, in.Account, time.Unix(0, in.Time).In(market.NewYork).Format("15:04:05"), res)
	case want != limits.OK && (res.Sent || res.Decision.Reason != want):
		r.t.Fatalf("%s %s at %s: got %+v, want refused %s", in.Kind, in.Account, time.Unix(0, in.Time).In(market.NewYork).Format("15:04:05"),
			res, want)
	}
	return res
}

// riskEvents lists the journal's risk records of account ("" = the desk).
func (r *rig) riskEvents(account string) []journal.Risk {
	r.t.Helper()
	var out []journal.Risk
	for _, rec := range r.records() {
		if rec.Kind != journal.KindRisk || rec.Account != account {
			continue
		}
		rk, err := rec.Risk()
		if err != nil {
			r.t.Fatal(err)
		}
		out = append(out, rk)
	}
	return out
}

func countRisk(rs []journal.Risk, event string) int {
	n := 0
	for _, r := range rs {
		if r.Event == event {
			n++
		}
	}
	return n
}

func (r *rig) risk(id string) deskapi.RiskUsage {
	r.t.Helper()
	for _, a := range r.d.Status(context.Background()).Accounts {
		if a.ID == id && a.Risk != nil {
			return *a.Risk
		}
	}
	r.t.Fatalf("no risk usage for %s", id)
	return deskapi.RiskUsage{}
}

func (r *rig) state(id string) string { return r.d.byID[id].m.State() }

func (r *rig) venuePos(id string) int64 {
	p, _ := r.sim.Position(id)
	return p.Qty
}

func (r *rig) liquidations(id string) int {
	n := 0
	for _, c := range r.rec.Calls() {
		if c.Op == "liquidate" && c.Account == id {
			n++
		}
	}
	return n
}

// TestRulesLadderAccount: the ladder's warning is alerted and journaled;
// at reduce-only entries and adds are refused while the exit goes; the rung
// is sticky after equity comes back, and after a restart.
func TestRulesLadderAccount(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	al := &recAlerts{}
	o := rigOpt{Accounts: []AccountSpec{ruleSpec("L1", 10000, limits.Config{WarnPct: 10, ReduceOnlyPct: 20}), bigSpec()}, Alerts: al}
	r := newRig(t, o)
	// The allowance is 1.5% of $10,000 = $150: warning at $15 used, reduce-only at $30.
	r.start(ctx, dayAt(12, 10, 0, 0))
	r.step(ctx, dayAt(12, 10, 0, 1), pts(5000.25))
	r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 1), market.Buy, 1, 5000, 4992, 5010), limits.OK)
	r.step(ctx, dayAt(12, 10, 0, 2), pts(5000))
	if r.venuePos("L1") != 1 {
		t.Fatalf("venue position %d, want 1", r.venuePos("L1"))
	}
	r.step(ctx, dayAt(12, 10, 0, 3), pts(4997)) // −12 ticks + the entry fee: $15.60 used, 10.4%
	if n := al.count(alert.KindRiskWarning, "L1"); n != 1 {
		t.Fatalf("%d warning alerts, want 1", n)
	}
	if n := countRisk(r.riskEvents("L1"), riskWarning); n != 1 {
		t.Fatalf("%d warning records, want 1", n)
	}
	if lv := r.risk("L1").Level; lv != "warning" {
		t.Fatalf("level %s, want warning", lv)
	}
	r.step(ctx, dayAt(12, 10, 0, 4), pts(4994)) // $30.60 used: reduce-only
	if n := al.count(alert.KindReduceOnly, "L1"); n != 1 {
		t.Fatalf("%d reduce-only alerts, want 1", n)
	}
	if n := countRisk(r.riskEvents("L1"), riskReduce); n != 1 {
		t.Fatalf("%d reduce-only records, want 1", n)
	}
	r.step(ctx, dayAt(12, 10, 0, 5), pts(5003)) // back up: up on the day, the rung stays
	r.send(ctx, addAt("L1", dayAt(12, 10, 0, 5), 1, 5003, 5001, 5010), limits.ReduceOnly)
	r.send(ctx, exitAt("L1", dayAt(12, 10, 0, 5)), limits.OK)
	r.step(ctx, dayAt(12, 10, 0, 6), pts(5003))
	if r.venuePos("L1") != 0 {
		t.Fatalf("venue position %d after the exit, want 0", r.venuePos("L1"))
	}
	if u := r.risk("L1"); u.AllowanceUsed[0] != '-' || u.Level != "reduce_only" {
		t.Fatalf("after a winning exit: %+v, want up on the day and still reduce_only", u)
	}
	r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 6), market.Buy, 1, 5003, 4999, 5010), limits.ReduceOnly)

	r2, _ := r.restartOn(ctx, o, dayAt(12, 10, 5, 0))
	r2.step(ctx, dayAt(12, 10, 5, 1), pts(5003))
	if lv := r2.risk("L1").Level; lv != "reduce_only" {
		t.Fatalf("after the restart level %s, want reduce_only", lv)
	}
	r2.send(ctx, enterAt("L1", dayAt(12, 10, 5, 1), market.Buy, 1, 5003, 4999, 5010), limits.ReduceOnly)
	// The session reset starts the ladder again.
	r2.d.sessionReset(ctx, time.Unix(0, dayAt(12, 18, 0, 0)))
	r2.step(ctx, dayAt(13, 10, 0, 0), pts(5003))
	r2.send(ctx, enterAt("L1", dayAt(13, 10, 0, 0), market.Buy, 1, 5003, 4999, 5010), limits.OK)
}

// TestRulesDeskLadder: the same rungs over the sum of the accounts; at the
// desk's reduce-only an account with nothing used of its own is refused
// too, and the rung comes back after a restart.
func TestRulesDeskLadder(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	al := &recAlerts{}
	o := rigOpt{Accounts: []AccountSpec{ruleSpec("A1", 10000, limits.Config{}), ruleSpec("A2", 10000, limits.Config{})},
		Alerts: al, DeskWarnPct: 10, DeskReduceOnlyPct: 20}
	r := newRig(t, o)
	// The desk's allowance: 1.5% of $20,000 = $300; warning at $30, reduce-only at $60.
	r.start(ctx, dayAt(12, 10, 0, 0))
	r.step(ctx, dayAt(12, 10, 0, 1), pts(5000.25))
	r.send(ctx, enterAt("A1", dayAt(12, 10, 0, 1), market.Buy, 1, 5000, 4987, 5010), limits.OK)
	r.step(ctx, dayAt(12, 10, 0, 2), pts(5000))
	r.step(ctx, dayAt(12, 10, 0, 3), pts(4994)) // $30.60: 10.2% of the desk's, 20.4% of A1's own
	if n := al.count(alert.KindRiskWarning, ""); n != 1 {
		t.Fatalf("%d desk warning alerts, want 1", n)
	}
	if n := al.count(alert.KindRiskWarning, "A1"); n != 0 {
		t.Fatalf("%d account warnings for A1 at 20%% of its own allowance", n)
	}
	r.step(ctx, dayAt(12, 10, 0, 4), pts(4988)) // $60.60: the desk is reduce-only
	if n := al.count(alert.KindReduceOnly, ""); n != 1 {
		t.Fatalf("%d desk reduce-only alerts, want 1", n)
	}
	if n := countRisk(r.riskEvents(""), riskDeskLevel); n != 2 {
		t.Fatalf("%d desk ladder records, want 2", n)
	}
	r.step(ctx, dayAt(12, 10, 0, 5), pts(5000))
	r.send(ctx, enterAt("A2", dayAt(12, 10, 0, 5), market.Buy, 1, 5000, 4995, 5005), limits.ReduceOnly)
	if st := r.d.Status(ctx); st.DeskLevel != "reduce_only" {
		t.Fatalf("desk level %q", st.DeskLevel)
	}

	r2, _ := r.restartOn(ctx, o, dayAt(12, 10, 5, 0))
	r2.step(ctx, dayAt(12, 10, 5, 1), pts(5000)) // the desk is back near flat: only the restored rung refuses
	if st := r2.d.Status(ctx); st.DeskLevel != "reduce_only" {
		t.Fatalf("after the restart desk level %q, want reduce_only", st.DeskLevel)
	}
	r2.send(ctx, enterAt("A2", dayAt(12, 10, 5, 1), market.Buy, 1, 5000, 4995, 5005), limits.ReduceOnly)
}

// TestRulesTrailing: the intraday line follows the peak (journaled once a
// minute, so a restart brings it back), a breach locks the account out and
// flattens it; neither an unlock nor the session reset lifts it, across a
// restart; the manager's reset with a reason does.
func TestRulesTrailing(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	al := &recAlerts{}
	o := rigOpt{Accounts: []AccountSpec{ruleSpec("L1", 10000, limits.Config{TrailingMode: limits.TrailingIntraday,
		TrailingDrawdown: decimal.NewFromInt(20)}), bigSpec()}, Alerts: al}
	r := newRig(t, o)
	r.start(ctx, dayAt(12, 10, 0, 0))
	r.step(ctx, dayAt(12, 10, 0, 1), pts(5000.25))
	if u := r.risk("L1"); u.TrailingLine != "9980.00" {
		t.Fatalf("trailing line %q, want 9980.00", u.TrailingLine)
	}
	// The worst case must stay above the line: a stop 14 ticks away would
	// reach it ((14+2)·$1.25 + $1.20 > $20).
	r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 1), market.Buy, 1, 5000, 4996.5, 5010), limits.TrailingDrawdown)
	r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 1), market.Buy, 1, 5000, 4997, 5010), limits.OK)
	r.step(ctx, dayAt(12, 10, 0, 2), pts(5000))
	r.step(ctx, dayAt(12, 10, 0, 30), pts(5005)) // the peak: 9999.40 + 25.00
	r.step(ctx, dayAt(12, 10, 1, 0), pts(5005))  // a new minute: the risen line is journaled
	if u := r.risk("L1"); u.TrailingLine != "10004.40" {
		t.Fatalf("trailing line %q, want 10004.40", u.TrailingLine)
	}
	if n := countRisk(r.riskEvents("L1"), riskLine); n != 1 {
		t.Fatalf("%d trailing line records, want 1", n)
	}

	// A restart here keeps the risen line.
	r, _ = r.restartOn(ctx, o, dayAt(12, 10, 1, 10))
	r.step(ctx, dayAt(12, 10, 1, 11), pts(5005))
	if u := r.risk("L1"); u.TrailingLine != "10004.40" || u.TrailingBroken {
		t.Fatalf("after the restart: %+v, want the line 10004.40, not breached", u)
	}
	r.step(ctx, dayAt(12, 10, 1, 20), pts(5001)) // +4 ticks: equity 10004.40, at the line
	if st := r.state("L1"); st != AcctLockedOut {
		t.Fatalf("state %s at the trailing line, want locked_out", st)
	}
	r.step(ctx, dayAt(12, 10, 1, 21), pts(5001))
	if p := r.venuePos("L1"); p != 0 {
		t.Fatalf("venue position %d after the trailing breach", p)
	}
	if n := al.count(alert.KindTrailingBreach, "L1"); n != 1 {
		t.Fatalf("%d trailing breach alerts, want 1", n)
	}
	if n := countRisk(r.riskEvents("L1"), riskTrailing); n != 1 {
		t.Fatalf("%d trailing breach records, want 1", n)
	}
	r.send(ctx, enterAt("L1", dayAt(12, 10, 1, 22), market.Buy, 1, 5001, 4998, 5010), limits.LockedOut)
	if err := r.d.Unlock(ctx, "L1", "risk", "try"); !errors.Is(err, deskapi.ErrNotAllowed) {
		t.Fatalf("unlock past the trailing line: %v, want ErrNotAllowed", err)
	}
	r.d.sessionReset(ctx, time.Unix(0, dayAt(12, 18, 0, 0)))
	if st := r.state("L1"); st != AcctLockedOut {
		t.Fatalf("state %s after the session reset, want locked_out (the trailing line holds it)", st)
	}

	r2, rec := r.restartOn(ctx, o, dayAt(13, 9, 59, 0))
	if len(rec.LockedOut) != 1 || rec.LockedOut[0] != "L1" {
		t.Fatalf("recovered lockouts %v", rec.LockedOut)
	}
	r2.step(ctx, dayAt(13, 10, 0, 0), pts(5001))
	if st, u := r2.state("L1"), r2.risk("L1"); st != AcctLockedOut || !u.TrailingBroken {
		t.Fatalf("after the restart: %s %+v, want locked_out with the trailing line breached", st, u)
	}
	if err := r2.d.Unlock(ctx, "L1", "risk", "try"); !errors.Is(err, deskapi.ErrNotAllowed) {
		t.Fatalf("unlock past the trailing line after the restart: %v", err)
	}
	if err := r2.d.ResetTrailing(ctx, "L1", "risk", "  "); !errors.Is(err, deskapi.ErrReasonRequired) {
		t.Fatalf("reset without a reason: %v", err)
	}
	if err := r2.d.ResetTrailing(ctx, "BIG", "risk", "why"); !errors.Is(err, deskapi.ErrNotAllowed) {
		t.Fatalf("reset of an account without a trailing line: %v", err)
	}
	if err := r2.d.ResetTrailing(ctx, "L1", "risk", "evaluation restarted"); err != nil {
		t.Fatal(err)
	}
	if st, u := r2.state("L1"), r2.risk("L1"); st != AcctTrading || u.TrailingBroken || u.TrailingLine != "9983.80" {
		t.Fatalf("after the reset: %s %+v, want trading with the line $20 below 10003.80", st, u)
	}
	if n := al.count(alert.KindTrailingReset, "L1"); n != 1 {
		t.Fatalf("%d reset alerts, want 1", n)
	}
	if err := r2.d.ResetTrailing(ctx, "L1", "risk", "again"); !errors.Is(err, deskapi.ErrNotAllowed) {
		t.Fatalf("a second reset: %v, want ErrNotAllowed (not breached)", err)
	}
	r2.send(ctx, enterAt("L1", dayAt(13, 10, 0, 1), market.Buy, 1, 5001, 4998, 5010), limits.OK)
	recs := r2.riskEvents("L1")
	if last := recs[len(recs)-1]; last.Event != riskReset || last.Who != "risk" || last.Why != "evaluation restarted" {
		t.Fatalf("last risk record %+v", last)
	}
}

// TestRulesWeekly: the week's loss line locks the account out; the
// session reset does not lift it within the week, a restart keeps it, the
// manager's unlock does; the next week's session reset lifts it too.
func TestRulesWeekly(t *testing.T) {
	for _, lift := range []string{"unlock", "next week"} {
		t.Run(lift, func(t *testing.T) {
			ctx := ctxT(t, 30*time.Second)
			al := &recAlerts{}
			o := rigOpt{Accounts: []AccountSpec{ruleSpec("L1", 10000, limits.Config{WeeklyLossPct: decimal.RequireFromString("0.5")}), bigSpec()},
				Alerts: al}
			r := newRig(t, o)
			r.start(ctx, dayAt(12, 10, 0, 0))
			r.step(ctx, dayAt(12, 10, 0, 1), pts(5000.25))
			r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 1), market.Buy, 1, 5000, 4993, 5010), limits.OK)
			r.step(ctx, dayAt(12, 10, 0, 2), pts(5000))
			r.step(ctx, dayAt(12, 10, 0, 3), pts(4987)) // a gap through the stop: −$66.20, below the week's line 9950
			r.step(ctx, dayAt(12, 10, 0, 4), pts(4987))
			if st := r.state("L1"); st != AcctLockedOut || r.venuePos("L1") != 0 {
				t.Fatalf("state %s, venue %d after the weekly breach", st, r.venuePos("L1"))
			}
			if n := al.count(alert.KindWeeklyBreach, "L1"); n != 1 {
				t.Fatalf("%d weekly breach alerts", n)
			}
			if n := al.count(alert.KindLockout, "L1"); n != 0 {
				t.Fatalf("%d drawdown lockout alerts for a weekly breach ($66 of a $150 day)", n)
			}
			r.d.sessionReset(ctx, time.Unix(0, dayAt(12, 18, 0, 0)))
			if st := r.state("L1"); st != AcctLockedOut {
				t.Fatalf("state %s after Tuesday's session reset", st)
			}
			r2, _ := r.restartOn(ctx, o, dayAt(13, 9, 59, 0))
			r2.step(ctx, dayAt(13, 10, 0, 0), pts(4990))
			if st, u := r2.state("L1"), r2.risk("L1"); st != AcctLockedOut || !u.WeeklyBroken {
				t.Fatalf("after the restart: %s %+v", st, u)
			}
			r2.send(ctx, enterAt("L1", dayAt(13, 10, 0, 1), market.Buy, 1, 4990, 4987, 5000), limits.LockedOut)
			switch lift {
			case "unlock":
				if err := r2.d.Unlock(ctx, "L1", "risk", "reviewed the week"); err != nil {
					t.Fatal(err)
				}
				if u := r2.risk("L1"); u.WeeklyBroken || u.WeeklyLine != "9884.14" {
					t.Fatalf("after the unlock: %+v, want the week's line 0.5%% below 9933.80", u)
				}
				r2.send(ctx, enterAt("L1", dayAt(13, 10, 0, 1), market.Buy, 1, 4990, 4987, 5000), limits.OK)
			case "next week":
				r2.d.sessionReset(ctx, time.Unix(0, dayAt(17, 18, 0, 0))) // Sunday 18:00: the next trading week
				if st := r2.state("L1"); st != AcctTrading {
					t.Fatalf("state %s after the next week's session reset, want trading", st)
				}
				r2.step(ctx, dayAt(18, 10, 0, 0), pts(4990))
				if u := r2.risk("L1"); u.WeeklyBroken {
					t.Fatalf("the new week: %+v", u)
				}
				r2.send(ctx, enterAt("L1", dayAt(18, 10, 0, 1), market.Buy, 1, 4990, 4987, 5000), limits.OK)
			}
		})
	}
}

// TestRulesOrderCapAndDuplicate: every intent the gate allows counts
// toward daily_order_limit; an entry like one sent within
// duplicate_window is refused; the count comes back after a restart.
func TestRulesOrderCapAndDuplicate(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	o := rigOpt{Accounts: []AccountSpec{ruleSpec("L1", 10000, limits.Config{DailyOrderLimit: 4, DuplicateWindow: 2 * time.Second}), bigSpec()}}
	r := newRig(t, o)
	r.start(ctx, dayAt(12, 10, 0, 0))
	r.step(ctx, dayAt(12, 10, 0, 1), pts(5000.25))
	first := r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 1), market.Buy, 1, 4999, 4995, 5005), limits.OK) // 1
	r.step(ctx, dayAt(12, 10, 0, 1), pts(5000.25))
	r.send(ctx, intent.Intent{Kind: intent.Cancel, Account: "L1", Strategy: "test", Time: dayAt(12, 10, 0, 1), Ref: first.ID}, limits.OK) // 2
	r.step(ctx, dayAt(12, 10, 0, 2), pts(5000.25))
	r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 2), market.Buy, 1, 4999, 4995, 5005), limits.DuplicateOrder)
	r.step(ctx, dayAt(12, 10, 0, 3), pts(5000.25))
	again := r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 3), market.Buy, 1, 4999, 4995, 5005), limits.OK) // 3: 2 s later
	r.step(ctx, dayAt(12, 10, 0, 3), pts(5000.25))
	r.send(ctx, intent.Intent{Kind: intent.Cancel, Account: "L1", Strategy: "test", Time: dayAt(12, 10, 0, 3), Ref: again.ID}, limits.OK) // 4
	r.step(ctx, dayAt(12, 10, 0, 4), pts(5000.25))
	r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 4), market.Buy, 1, 4998, 4995, 5005), limits.DailyOrderLimit)
	if u := r.risk("L1"); u.OrdersToday != 4 || u.OrderLimit != 4 || u.NearestRule != string(limits.DailyOrderLimit) || u.NearestBP != 10000 {
		t.Fatalf("usage %+v", u)
	}
	r2, _ := r.restartOn(ctx, o, dayAt(12, 10, 5, 0))
	r2.step(ctx, dayAt(12, 10, 5, 1), pts(5000.25))
	r2.send(ctx, enterAt("L1", dayAt(12, 10, 5, 1), market.Buy, 1, 4998, 4995, 5005), limits.DailyOrderLimit)
}

// TestRulesSelfMatch: an order of one sub-account that could trade against
// another's working order is refused; one that cannot is sent.
func TestRulesSelfMatch(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	r := newRig(t, rigOpt{Accounts: []AccountSpec{ruleSpec("L1", 10000, limits.Config{}), ruleSpec("L2", 10000, limits.Config{})}})
	r.start(ctx, dayAt(12, 10, 0, 0))
	r.step(ctx, dayAt(12, 10, 0, 1), pts(5000.25))
	r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 1), market.Buy, 1, 4999, 4995, 5005), limits.OK)
	r.step(ctx, dayAt(12, 10, 0, 2), pts(5000.25)) // L1's buy rests at 4999
	r.send(ctx, enterAt("L2", dayAt(12, 10, 0, 2), market.Sell, 1, 4999, 5003, 4995), limits.SelfMatch)
	r.send(ctx, enterAt("L2", dayAt(12, 10, 0, 2), market.Sell, 1, 5001, 5005, 4999.75), limits.OK)
}

// TestRulesNewsBlackout: no entries inside a release's blackout; the
// account is flattened blackout_flatten before it, once, also across a
// restart inside the window; entries resume after it.
func TestRulesNewsBlackout(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	al := &recAlerts{}
	cal := limits.NewCalendar([]limits.Release{{TimeNs: dayAt(12, 10, 30, 0), Name: "CPI"}})
	o := rigOpt{Accounts: []AccountSpec{ruleSpec("L1", 10000, limits.Config{BlackoutBefore: 5 * time.Minute, BlackoutAfter: 5 * time.Minute,
		BlackoutFlatten: 2 * time.Minute}), bigSpec()}, Alerts: al, Calendar: cal}
	r := newRig(t, o)
	r.start(ctx, dayAt(12, 10, 20, 0))
	r.step(ctx, dayAt(12, 10, 20, 1), pts(5000.25))
	r.send(ctx, enterAt("L1", dayAt(12, 10, 20, 1), market.Buy, 1, 5000, 4995, 5010), limits.OK)
	r.step(ctx, dayAt(12, 10, 20, 2), pts(5000))
	if u := r.risk("L1"); u.NextRelease != "CPI" || u.BlackoutFrom != time.Unix(0, dayAt(12, 10, 25, 0)).UTC().Format(time.RFC3339) {
		t.Fatalf("usage %+v", u)
	}
	r.step(ctx, dayAt(12, 10, 25, 0), pts(5000))
	r.send(ctx, enterAt("BIG", dayAt(12, 10, 25, 0), market.Buy, 1, 5000, 4995, 5010), limits.NewsBlackout)
	r.step(ctx, dayAt(12, 10, 27, 59), pts(5000))
	if r.venuePos("L1") != 1 || r.liquidations("L1") != 0 {
		t.Fatalf("flattened before blackout_flatten: venue %d, %d liquidations", r.venuePos("L1"), r.liquidations("L1"))
	}
	r.step(ctx, dayAt(12, 10, 28, 0), pts(5000)) // 2 minutes before: flatten
	r.step(ctx, dayAt(12, 10, 28, 1), pts(5000))
	if r.venuePos("L1") != 0 || r.liquidations("L1") != 1 {
		t.Fatalf("venue %d, %d liquidations at blackout_flatten", r.venuePos("L1"), r.liquidations("L1"))
	}
	if st := r.state("L1"); st != AcctTrading {
		t.Fatalf("state %s: a blackout flatten changes no state", st)
	}
	if n := al.count(alert.KindBlackoutFlatten, "L1"); n != 1 {
		t.Fatalf("%d blackout alerts", n)
	}
	if n := countRisk(r.riskEvents("L1"), riskBlackout); n != 1 {
		t.Fatalf("%d blackout records", n)
	}
	r.step(ctx, dayAt(12, 10, 28, 30), pts(5000))
	if r.liquidations("L1") != 1 {
		t.Fatalf("%d liquidations: flattened twice for one release", r.liquidations("L1"))
	}
	r2, _ := r.restartOn(ctx, o, dayAt(12, 10, 29, 0))
	r2.step(ctx, dayAt(12, 10, 29, 1), pts(5000))
	if n := r2.liquidations("L1"); n != 1 {
		t.Fatalf("%d liquidations after a restart inside the window, want still 1", n)
	}
	r2.send(ctx, enterAt("L1", dayAt(12, 10, 34, 59), market.Buy, 1, 5000, 4995, 5010), limits.NewsBlackout)
	r2.step(ctx, dayAt(12, 10, 35, 0), pts(5000))
	r2.send(ctx, enterAt("L1", dayAt(12, 10, 35, 0), market.Buy, 1, 5000, 4995, 5010), limits.OK)
}

// TestRulesScalingTier: max position follows the tier; a tier earned at
// the session's end comes back after a restart; a unit is lost (and
// journaled) as soon as equity falls below its tier.
func TestRulesScalingTier(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	o := rigOpt{Accounts: []AccountSpec{ruleSpec("L1", 10000, limits.Config{ScalingUnit: 1,
		ScalingTiers: []decimal.Decimal{decimal.NewFromInt(10)}}), bigSpec()}}
	r := newRig(t, o)
	r.start(ctx, dayAt(12, 10, 0, 0))
	r.step(ctx, dayAt(12, 10, 0, 1), pts(5000.25))
	r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 1), market.Buy, 2, 5000, 4996, 5003), limits.ScalingPlan)
	r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 1), market.Buy, 1, 5000, 4996, 5003), limits.OK)
	r.step(ctx, dayAt(12, 10, 0, 2), pts(5000))
	r.step(ctx, dayAt(12, 10, 0, 3), pts(5003.25)) // the target: +12 ticks, net $13.80
	r.step(ctx, dayAt(12, 10, 0, 4), pts(5003.25))
	if r.venuePos("L1") != 0 {
		t.Fatalf("venue position %d after the target", r.venuePos("L1"))
	}
	if u := r.risk("L1"); u.TierUnits != 1 {
		t.Fatalf("tier %d before the session's end (units are earned at the close)", u.TierUnits)
	}
	r.d.sessionReset(ctx, time.Unix(0, dayAt(12, 18, 0, 0)))
	r2, _ := r.restartOn(ctx, o, dayAt(13, 9, 59, 0))
	r2.step(ctx, dayAt(13, 10, 0, 1), pts(5000.25))
	if u := r2.risk("L1"); u.TierUnits != 2 || u.TierMaxPos != 2 {
		t.Fatalf("after the restart: %+v, want 2 units", u)
	}
	r2.send(ctx, enterAt("L1", dayAt(13, 10, 0, 1), market.Buy, 2, 5000, 4996, 5003), limits.OK)
	r2.step(ctx, dayAt(13, 10, 0, 2), pts(5000))
	r2.step(ctx, dayAt(13, 10, 0, 3), pts(4999.5)) // equity 10013.80 − 1.20 − 5.00 < 10010: a unit lost
	if u := r2.risk("L1"); u.TierUnits != 1 {
		t.Fatalf("tier %d below the tier's profit, want 1", u.TierUnits)
	}
	if n := countRisk(r2.riskEvents("L1"), riskTier); n != 1 {
		t.Fatalf("%d tier records", n)
	}
}

// TestRulesCooldownTradesAndReference: the loss-streak cooldown, the
// trades-per-session cap and the reference price reach the gate through
// the ledger; the cooldown comes back after a restart (from the fills).
func TestRulesCooldownTradesAndReference(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	o := rigOpt{Accounts: []AccountSpec{ruleSpec("L1", 10000, limits.Config{LossStreak: 2, LossCooldown: 30 * time.Minute,
		DailyTradeLimit: 3}), bigSpec()}}
	r := newRig(t, o)
	r.start(ctx, dayAt(12, 10, 0, 0))
	r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 0), market.Buy, 1, 5000, 4998, 5005), limits.NoReferencePrice)
	lose := func(r *rig, sec int) {
		r.step(ctx, dayAt(12, 10, 0, sec), pts(5000.25))
		r.send(ctx, enterAt("L1", dayAt(12, 10, 0, sec), market.Buy, 1, 5000, 4998, 5005), limits.OK)
		r.step(ctx, dayAt(12, 10, 0, sec+1), pts(5000))
		r.step(ctx, dayAt(12, 10, 0, sec+2), pts(4998))
		r.step(ctx, dayAt(12, 10, 0, sec+3), pts(4998))
		if p := r.venuePos("L1"); p != 0 {
			t.Fatalf("venue position %d after the stop", p)
		}
	}
	lose(r, 1)
	lose(r, 10)
	r.step(ctx, dayAt(12, 10, 0, 20), pts(5000.25))
	r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 20), market.Buy, 1, 5000, 4998, 5005), limits.LossStreakCooldown)
	if u := r.risk("L1"); u.CooldownUntil != time.Unix(0, dayAt(12, 10, 30, 12)).UTC().Format(time.RFC3339) || u.TradesToday != 2 {
		t.Fatalf("usage %+v", u)
	}
	r2, _ := r.restartOn(ctx, o, dayAt(12, 10, 10, 0))
	r2.step(ctx, dayAt(12, 10, 10, 1), pts(5000.25))
	r2.send(ctx, enterAt("L1", dayAt(12, 10, 10, 1), market.Buy, 1, 5000, 4998, 5005), limits.LossStreakCooldown)
	r2.step(ctx, dayAt(12, 10, 30, 12), pts(5000.25))
	r2.send(ctx, enterAt("L1", dayAt(12, 10, 30, 12), market.Buy, 1, 5000, 4998, 5005), limits.OK)
	r2.step(ctx, dayAt(12, 10, 30, 13), pts(5000))
	r2.send(ctx, exitAt("L1", dayAt(12, 10, 30, 13)), limits.OK)
	r2.step(ctx, dayAt(12, 10, 30, 14), pts(5001)) // a winner: the streak ends, the third trade closes
	r2.step(ctx, dayAt(12, 10, 30, 15), pts(5000.25))
	r2.send(ctx, enterAt("L1", dayAt(12, 10, 30, 15), market.Buy, 1, 5000, 4998, 5005), limits.DailyTradeLimit)
}

// TestTickPathAllocFree: with every rule on (ladder, trailing, weekly,
// tier, a calendar, the desk ladder), a batch of trades that trips nothing
// allocates nothing on the tick path.
func TestTickPathAllocFree(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	cal := limits.NewCalendar([]limits.Release{{TimeNs: dayAt(12, 14, 0, 0), Name: "FOMC"}})
	lim := limits.Config{TrailingMode: limits.TrailingIntraday, TrailingDrawdown: decimal.NewFromInt(500),
		WeeklyLossPct: decimal.NewFromInt(2), ScalingTiers: []decimal.Decimal{decimal.NewFromInt(1000)}, BlackoutFlatten: time.Minute}
	r := newRig(t, rigOpt{Accounts: []AccountSpec{ruleSpec("L1", 50000, lim), ruleSpec("L2", 50000, lim), ruleSpec("L3", 50000, lim)},
		Calendar: cal, DeskWarnPct: 50, DeskReduceOnlyPct: 60})
	r.start(ctx, dayAt(12, 10, 0, 0))
	r.step(ctx, dayAt(12, 10, 0, 1), pts(5000.25))
	r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 1), market.Buy, 1, 5000, 4995, 5010), limits.OK)
	r.step(ctx, dayAt(12, 10, 0, 2), pts(5000)) // L1 holds a position: its marks move its equity
	ts := make([]market.Trade, 8)
	tm := dayAt(12, 10, 0, 3)
	n := testing.AllocsPerRun(200, func() {
		for i := range ts {
			tm += int64(time.Millisecond)
			ts[i] = market.Trade{Time: tm, Price: pts(5000) + market.Price(i%3), Size: 1, Aggressor: market.Buy}
		}
		r.d.OnTrades(ctx, ts)
	})
	if n != 0 {
		t.Fatalf("OnTrades allocates %.1f times per batch with every rule on, want 0", n)
	}
}

// dropRisk is a journal that loses the risk records of one event: the
// desk crashed after the act and before its rules' record was durable.
type dropRisk struct {
	Journal
	event string
}

func (j dropRisk) Append(ctx context.Context, r journal.Record) (uint64, error) {
	if r.Kind == journal.KindRisk {
		if rk, err := r.Risk(); err == nil && rk.Event == j.event {
			return 0, nil
		}
	}
	return j.Journal.Append(ctx, r)
}

// TestRulesCrashBeforeTheRulesRecord: a trailing breach whose lockout
// record landed but not the rules' record comes back breached (the
// lockout record says which line); a blackout flatten whose record never
// landed is sent again after a restart inside its window.
func TestRulesCrashBeforeTheRulesRecord(t *testing.T) {
	t.Run("trailing", func(t *testing.T) {
		ctx := ctxT(t, 30*time.Second)
		o := rigOpt{Accounts: []AccountSpec{ruleSpec("L1", 10000, limits.Config{TrailingMode: limits.TrailingIntraday,
			TrailingDrawdown: decimal.NewFromInt(20)}), bigSpec()},
			Journal: func(j Journal) Journal { return dropRisk{j, riskTrailing} }}
		r := newRig(t, o)
		r.start(ctx, dayAt(12, 10, 0, 0))
		r.step(ctx, dayAt(12, 10, 0, 1), pts(5000.25))
		r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 1), market.Buy, 1, 5000, 4997, 5010), limits.OK)
		r.step(ctx, dayAt(12, 10, 0, 2), pts(5000))
		r.step(ctx, dayAt(12, 10, 0, 3), pts(5005))
		r.step(ctx, dayAt(12, 10, 0, 4), pts(5001)) // at the line
		r.step(ctx, dayAt(12, 10, 0, 5), pts(5001))
		if st := r.state("L1"); st != AcctLockedOut || countRisk(r.riskEvents("L1"), riskTrailing) != 0 {
			t.Fatalf("state %s, %d trailing records", st, countRisk(r.riskEvents("L1"), riskTrailing))
		}
		r2, _ := r.restartOn(ctx, o, dayAt(12, 10, 1, 0))
		r2.step(ctx, dayAt(12, 10, 1, 1), pts(5001))
		if st, u := r2.state("L1"), r2.risk("L1"); st != AcctLockedOut || !u.TrailingBroken {
			t.Fatalf("after the restart: %s %+v, want locked_out, the trailing line breached", st, u)
		}
		if err := r2.d.Unlock(ctx, "L1", "risk", "try"); !errors.Is(err, deskapi.ErrNotAllowed) {
			t.Fatalf("unlock: %v, want ErrNotAllowed", err)
		}
	})
	t.Run("blackout", func(t *testing.T) {
		ctx := ctxT(t, 30*time.Second)
		cal := limits.NewCalendar([]limits.Release{{TimeNs: dayAt(12, 10, 30, 0), Name: "CPI"}})
		o := rigOpt{Accounts: []AccountSpec{ruleSpec("L1", 10000, limits.Config{BlackoutFlatten: 2 * time.Minute}), bigSpec()},
			Calendar: cal, Journal: func(j Journal) Journal { return dropRisk{j, riskBlackout} }}
		r := newRig(t, o)
		r.start(ctx, dayAt(12, 10, 20, 0))
		r.step(ctx, dayAt(12, 10, 20, 1), pts(5000.25))
		r.send(ctx, enterAt("L1", dayAt(12, 10, 20, 1), market.Buy, 1, 5000, 4995, 5010), limits.OK)
		r.step(ctx, dayAt(12, 10, 20, 2), pts(5000))
		r.step(ctx, dayAt(12, 10, 28, 0), pts(5000))
		r.step(ctx, dayAt(12, 10, 28, 1), pts(5000))
		if r.liquidations("L1") != 1 || r.venuePos("L1") != 0 {
			t.Fatalf("%d liquidations, venue %d", r.liquidations("L1"), r.venuePos("L1"))
		}
		r2, _ := r.restartOn(ctx, o, dayAt(12, 10, 29, 0))
		r2.step(ctx, dayAt(12, 10, 29, 1), pts(5000))
		if n := r2.liquidations("L1"); n != 2 {
			t.Fatalf("%d liquidations: the flatten whose record was lost is not sent again", n)
		}
	})
}

// TestRulesFirmReduceOnly: the firm link's reduce-only hook makes the desk
// refuse entries (reduce_only) while every exit is allowed, journaled and
// shown in Status; lifted when the firm lifts it; a restart brings it back
// as it was (from the record, and from a snapshot taken while it was on),
// never as the desk ladder's rung.
func TestRulesFirmReduceOnly(t *testing.T) {
	for _, snap := range []bool{false, true} {
		t.Run(map[bool]string{false: "from the record", true: "from a snapshot"}[snap], func(t *testing.T) {
			ctx := ctxT(t, 30*time.Second)
			o := rigOpt{Accounts: []AccountSpec{ruleSpec("F1", 10000, limits.Config{}), ruleSpec("F2", 10000, limits.Config{})}}
			r := newRig(t, o)
			r.start(ctx, dayAt(12, 10, 0, 0))
			r.step(ctx, dayAt(12, 10, 0, 1), pts(5000.25))
			r.send(ctx, enterAt("F1", dayAt(12, 10, 0, 1), market.Buy, 1, 5000, 4995, 5010), limits.OK)
			r.step(ctx, dayAt(12, 10, 0, 2), pts(5000))

			r.d.SetFirmReduceOnly(ctx, true)
			r.d.SetFirmReduceOnly(ctx, true) // said twice: journaled once
			if st := r.d.Status(ctx); !st.FirmReduceOnly || st.DeskLevel != "normal" || !r.d.FirmReduceOnly() {
				t.Fatalf("status firm_reduce_only %v desk level %q, want true and the ladder's own normal", st.FirmReduceOnly, st.DeskLevel)
			}
			r.send(ctx, enterAt("F2", dayAt(12, 10, 0, 3), market.Buy, 1, 5000, 4995, 5010), limits.ReduceOnly)
			r.send(ctx, addAt("F1", dayAt(12, 10, 0, 3), 1, 5000, 4995, 5010), limits.ReduceOnly)
			r.send(ctx, exitAt("F1", dayAt(12, 10, 0, 4)), limits.OK) // risk-reducing: allowed
			r.step(ctx, dayAt(12, 10, 0, 5), pts(5000))

			r.d.SetFirmReduceOnly(ctx, false)
			if st := r.d.Status(ctx); st.FirmReduceOnly {
				t.Fatal("status still firm_reduce_only after the firm lifted it")
			}
			r.send(ctx, enterAt("F2", dayAt(12, 10, 0, 6), market.Buy, 1, 5000, 4995, 5010), limits.OK)
			if n := countRisk(r.riskEvents(""), riskFirm); n != 2 {
				t.Fatalf("%d firm reduce-only records, want 2 (on, off)", n)
			}

			// On again, then a restart: the desk comes back reduce-only by
			// the firm, its own ladder at normal (the record is no rung).
			r.d.SetFirmReduceOnly(ctx, true)
			if snap {
				if err := r.d.Snapshot(ctx); err != nil {
					t.Fatal(err)
				}
			}
			r2, _ := r.restartOn(ctx, o, dayAt(12, 10, 5, 0))
			r2.step(ctx, dayAt(12, 10, 5, 1), pts(5000))
			if st := r2.d.Status(ctx); !st.FirmReduceOnly || st.DeskLevel != "normal" {
				t.Fatalf("after the restart firm_reduce_only %v desk level %q, want true and normal", st.FirmReduceOnly, st.DeskLevel)
			}
			r2.send(ctx, enterAt("F1", dayAt(12, 10, 5, 1), market.Buy, 1, 5000, 4995, 5010), limits.ReduceOnly)
			r2.d.SetFirmReduceOnly(ctx, false) // the restarted link hears the firm
			r2.send(ctx, enterAt("F1", dayAt(12, 10, 5, 2), market.Buy, 1, 5000, 4995, 5010), limits.OK)

			// Lifted, then restarted again: it stays off.
			r3, _ := r2.restartOn(ctx, o, dayAt(12, 10, 6, 0))
			r3.step(ctx, dayAt(12, 10, 6, 1), pts(5000))
			if st := r3.d.Status(ctx); st.FirmReduceOnly {
				t.Fatal("a lifted firm reduce-only came back after a restart")
			}
		})
	}
}
