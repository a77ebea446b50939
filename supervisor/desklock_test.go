package supervisor

// desklock_test.go: the desk-wide drawdown lockout (issue 25.3) works like
// an account's: the desk_drawdown kill halts and liquidates the desk, and
// from then on entries are refused (desk_locked_out) — also after a plain
// re-arm, and after a restart on the same journal — until the session
// reset (unless unlocks are manual) or the risk manager's unlock of the
// desk with a reason, after which the desk's allowance starts again from
// its equity, so a further loss past the new line is a second kill.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// deskLockSpecs: two $10,000 accounts. With the desk line at 0.2% of the
// sum ($19,960) a $50 loss in one account locks the desk out while the
// account stays well above its own 1.5% line ($9,850).
func deskLockSpecs() []AccountSpec {
	return []AccountSpec{{Config: accounts.Config{ID: "D1", StartEquity: decimal.NewFromInt(10000), Strategies: []string{"orb"}}},
		{Config: accounts.Config{ID: "D2", StartEquity: decimal.NewFromInt(10000), Strategies: []string{"orb"}}}}
}

func deskLockRig(t *testing.T, path string, manual bool) *rig {
	return newRig(t, rigOpt{Accounts: deskLockSpecs(), Path: path, ManualUnlock: manual, DeskDrawdownPct: decimal.RequireFromString("0.2")})
}

func longAt(account string, at int64, px float64) intent.Intent {
	return intent.Intent{Kind: intent.Enter, Account: account, Strategy: "test", Time: at, Side: market.Buy, Qty: 1,
		EntryType: market.LimitOrder, Entry: pts(px), Stop: pts(px - 1), Target: pts(px + 4), Reason: "test entry"}
}

// deskKills counts the journaled desk_drawdown kills.
func deskKills(recs []journal.Record) int {
	n := 0
	for _, r := range recs {
		if r.Kind == journal.KindKill {
			if k, err := r.Kill(); err == nil && k.Trigger == string(TriggerDeskDrawdown) {
				n++
			}
		}
	}
	return n
}

// breachDesk opens a long in D1 and crashes the market through its stop:
// $50 lost, the desk past its line; the desk ends halted and flat.
func breachDesk(ctx context.Context, t *testing.T, r *rig, at func(int) int64, px float64) {
	t.Helper()
	r.step(ctx, at(0), pts(px+0.25))
	if res := r.d.HandleIntent(ctx, longAt("D1", at(0), px)); !res.Sent {
		t.Fatalf("entry not sent: %+v", res)
	}
	r.step(ctx, at(1), pts(px)) // fills, arms the bracket
	r.step(ctx, at(2), pts(px-10))
	r.step(ctx, at(3), pts(px-10))
	if st := r.d.m.State(); st != DeskHalted {
		t.Fatalf("desk %s after the desk line was crossed, want halted", st)
	}
	if p, _ := r.sim.Position("D1"); p.Qty != 0 {
		t.Fatalf("D1 venue position %d after the desk kill", p.Qty)
	}
	if st := r.d.byID["D1"].m.State(); st == AcctLockedOut {
		t.Fatal("D1 locked out on its own line: the test needs only the desk's line crossed")
	}
}

func TestDeskLockoutRefusesEntriesAfterRearm(t *testing.T) {
	ctx := ctxT(t, 20*time.Second)
	r := deskLockRig(t, "", false)
	r.start(ctx, etAt(10, 0, 0))
	breachDesk(ctx, t, r, func(i int) int64 { return etAt(10, 0, 1+i) }, 5000)
	if !r.d.Status(ctx).DeskLockedOut {
		t.Fatal("status does not say the desk is locked out")
	}
	if err := r.d.Rearm(ctx, "risk", "flat, re-arming"); err != nil {
		t.Fatal(err)
	}
	if st := r.d.m.State(); st != DeskRunning {
		t.Fatalf("desk %s after re-arm", st)
	}
	// The re-arm lifts the halt, not the lockout.
	r.step(ctx, etAt(10, 1, 0), pts(4990.25))
	for _, id := range []string{"D1", "D2"} {
		if res := r.d.HandleIntent(ctx, longAt(id, etAt(10, 1, 0), 4990)); res.Sent || res.Decision.Reason != limits.DeskLockedOut {
			t.Fatalf("%s entry after a plain re-arm of a locked-out desk: %+v", id, res)
		}
	}
	if n := rejections(r.records(), "D2", limits.DeskLockedOut); n != 1 {
		t.Fatalf("%d desk_locked_out refusals journaled for D2, want 1", n)
	}
	// The unlock of the desk needs the manager's reason, checked as everywhere.
	if err := r.d.Unlock(ctx, "", "risk", " "); !errors.Is(err, deskapi.ErrReasonRequired) {
		t.Fatalf("desk unlock with a blank reason: %v", err)
	}
	if err := r.d.Unlock(ctx, "", "risk", "reviewed: one bad trade"); err != nil {
		t.Fatal(err)
	}
	if r.d.Status(ctx).DeskLockedOut {
		t.Fatal("status still says locked out after the unlock")
	}
	if err := r.d.Unlock(ctx, "", "risk", "again"); !errors.Is(err, deskapi.ErrNotAllowed) {
		t.Fatalf("a second desk unlock: %v, want not allowed (the desk is not locked out)", err)
	}
	var unlocks int
	for _, rec := range r.records() {
		if rec.Kind == journal.KindUnlock && rec.Account == "" {
			a, _ := rec.Authorization()
			if a.Who != "risk" || a.Why != "reviewed: one bad trade" {
				t.Fatalf("desk unlock journaled as %+v", a)
			}
			unlocks++
		}
	}
	if unlocks != 1 {
		t.Fatalf("%d desk unlock records, want 1", unlocks)
	}
	// Trading again, from the equity at the unlock: the next $50 is a second kill.
	breachDesk(ctx, t, r, func(i int) int64 { return etAt(10, 2, i) }, 4990)
	if n := deskKills(r.records()); n != 2 {
		t.Fatalf("%d desk_drawdown kills, want 2 (one before the unlock, one after)", n)
	}
	if !r.d.Status(ctx).DeskLockedOut {
		t.Fatal("the second breach did not lock the desk out")
	}
}

func TestDeskLockoutSurvivesRestart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		manual bool
		lift   string // "unlock", "reset" or "" (stays)
	}{
		{"stays after re-arm", false, ""},
		{"unlock after restart", false, "unlock"},
		{"session reset lifts", false, "reset"},
		{"manual unlock survives reset", true, "reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t, 20*time.Second)
			r := deskLockRig(t, "", tc.manual)
			r.start(ctx, etAt(10, 0, 0))
			breachDesk(ctx, t, r, func(i int) int64 { return etAt(10, 0, 1+i) }, 5000)
			path := r.path
			r.close()

			r2 := deskLockRig(t, path, tc.manual)
			rec, err := r2.d.Recover(r2.j)
			if err != nil {
				t.Fatal(err)
			}
			if !rec.DeskLockedOut {
				t.Fatalf("recovery does not find the desk locked out: %+v", rec)
			}
			r2.start(ctx, etAt(10, 5, 0))
			r2.step(ctx, etAt(10, 5, 1), pts(4990.25))
			if st := r2.d.m.State(); st != DeskHalted {
				t.Fatalf("desk %s after restart, want halted", st)
			}
			if !r2.d.Status(ctx).DeskLockedOut {
				t.Fatal("status after restart does not say the desk is locked out")
			}
			if err := r2.d.Rearm(ctx, "risk", "restarted"); err != nil {
				t.Fatal(err)
			}
			if res := r2.d.HandleIntent(ctx, longAt("D2", etAt(10, 5, 2), 4990)); res.Sent || res.Decision.Reason != limits.DeskLockedOut {
				t.Fatalf("entry after restart and re-arm: %+v", res)
			}
			// The desk's line is where it was: no second kill on recovery.
			r2.step(ctx, etAt(10, 5, 3), pts(4990))
			if n := deskKills(r2.records()); n != 1 {
				t.Fatalf("%d desk_drawdown kills after the restart, want 1", n)
			}
			switch tc.lift {
			case "unlock":
				if err := r2.d.Unlock(ctx, "", "risk", "reviewed after restart"); err != nil {
					t.Fatal(err)
				}
				if res := r2.d.HandleIntent(ctx, longAt("D2", etAt(10, 5, 4), 4990)); !res.Sent {
					t.Fatalf("entry after the unlock: %+v", res)
				}
			case "reset":
				r2.step(ctx, etAt(18, 0, 30), pts(4990.25)) // the 18:00 ET session reset
				if got := r2.d.Status(ctx).DeskLockedOut; got != tc.manual {
					t.Fatalf("desk locked out %v after the session reset (manual unlock %v)", got, tc.manual)
				}
				// And so it stays across another restart.
				path := r2.path
				r2.close()
				r3 := deskLockRig(t, path, tc.manual)
				rec, err := r3.d.Recover(r3.j)
				if err != nil {
					t.Fatal(err)
				}
				if rec.DeskLockedOut != tc.manual {
					t.Fatalf("recovered desk locked out %v after the reset (manual unlock %v)", rec.DeskLockedOut, tc.manual)
				}
			}
		})
	}
}
