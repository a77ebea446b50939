package supervisor

// riskreduce_test.go: invariant 8 at desk level — a halted, halting or
// locked-out account refuses every order that adds risk and never one that
// reduces it: its exit, a stop moved tighter, a cancel of its target and a
// liquidation all reach the venue. The accounts hold a position with its
// bracket working while the halt is in force (its liquidation not yet
// sent: a venue that refused it, or one not yet answered).

import (
	"testing"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

func TestHaltedAccountsStillReduceRisk(t *testing.T) {
	for _, tc := range []struct {
		name  string
		state func(r *rig, a *account)
	}{
		{"halting", func(r *rig, a *account) {
			a.halted.Store(true)
			if err := a.m.Fire(EvHalt, "test: a kill whose liquidation the venue refused"); err != nil {
				r.t.Fatal(err)
			}
		}},
		{"halted", func(r *rig, a *account) {
			a.halted.Store(true)
			for _, ev := range []string{EvHalt, EvHalted} {
				if err := a.m.Fire(ev, "test"); err != nil {
					r.t.Fatal(err)
				}
			}
		}},
		{"locked_out", func(r *rig, a *account) {
			a.halted.Store(true)
			a.mu.Lock()
			a.rules.Drawdown.Restore(true)
			a.mu.Unlock()
			if err := a.m.Fire(EvLockout, "test: past the line, liquidation refused"); err != nil {
				r.t.Fatal(err)
			}
		}},
		{"desk halted", func(r *rig, a *account) {
			for _, x := range r.d.accts {
				x.halted.Store(true)
				_ = x.m.Fire(EvHalt, "test")
			}
			_ = r.d.m.Fire(EvHalt, "test: a desk kill in force")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t, 20*time.Second)
			r := newRig(t, rigOpt{Accounts: killSpecs(2)})
			tm := r.inPosition(ctx)
			a := r.d.byID["K1"]
			stopID, targetID := "", ""
			a.mu.Lock()
			for id, o := range a.orders {
				switch {
				case o.role == limits.RoleStop && !o.done():
					stopID = id
				case o.role == limits.RoleTarget && !o.done():
					targetID = id
				}
			}
			a.mu.Unlock()
			if stopID == "" || targetID == "" {
				t.Fatal("K1 has no working bracket")
			}
			tc.state(r, a)

			// Adds risk: refused, and nothing reaches the venue.
			from := len(r.rec.Calls())
			if res := r.d.HandleIntent(ctx, entryFor("K1", tm)); res.Sent {
				t.Fatalf("an entry was sent in state %s: %+v", a.m.State(), res)
			}
			if n := len(r.rec.Calls()) - from; n != 0 {
				t.Fatalf("%d requests reached the venue for a refused entry", n)
			}
			// Reduces risk: every one reaches the venue.
			acts := []struct {
				what string
				in   intent.Intent
				op   string
			}{
				{"stop moved tighter", intent.Intent{Kind: intent.MoveStop, Account: "K1", Strategy: "test", Ref: stopID, Stop: pts(4999.75)}, "modify"},
				{"target cancelled", intent.Intent{Kind: intent.Cancel, Account: "K1", Strategy: "test", Ref: targetID}, "cancel"},
				{"exit", intent.Intent{Kind: intent.Exit, Account: "K1", Strategy: "test", Side: market.Sell}, "liquidate"},
			}
			for _, act := range acts {
				from := len(r.rec.Calls())
				res := r.d.HandleIntent(ctx, act.in)
				if !res.Sent || !res.Decision.Allowed {
					t.Errorf("%s refused in state %s: %+v", act.what, a.m.State(), res)
					continue
				}
				calls := r.rec.Calls()[from:]
				if len(calls) != 1 || calls[0].Op != act.op || calls[0].Account != "K1" {
					t.Errorf("%s: venue requests %+v, want one %s", act.what, calls, act.op)
				}
			}
			// And the kill's own liquidation, pressed again.
			from = len(r.rec.Calls())
			if _, err := r.d.Kill(ctx, AccountScope("K1"), TriggerConsole, "tester"); err != nil {
				t.Fatal(err)
			}
			if got := r.liquidated(from); got["K1"] != 1 {
				t.Errorf("the kill's liquidation in state %s: %v", a.m.State(), got)
			}
			r.step(ctx, tm+int64(time.Second), pts(5000.25))
			if p, _ := r.sim.Position("K1"); p.Qty != 0 {
				t.Errorf("K1 still holds %d at the venue", p.Qty)
			}
		})
	}
}
