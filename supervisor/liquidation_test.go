package supervisor

// liquidation_test.go: what holds while a liquidation is on its way to
// flat (invariants 6 and 8). A liquidation that fills in parts is the
// account's stop cover until it is flat: no repair stop is placed beside
// it (one would outlive the position and open a new one when it fills),
// whether the liquidation is an engine's exit or a kill's, and no repair is
// even journaled (recovery would rebuild it as a working stop). And an account
// a kill halted is halting — not halted, so not re-armable — until the
// venue confirms it flat.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

// stepSized is step with a trade of size n (a market order fills at most
// n contracts on it).
func (r *rig) stepSized(ctx context.Context, tm int64, px market.Price, n int64) {
	r.t.Helper()
	tr := market.Trade{Time: tm, Price: px, Size: n, Aggressor: market.Sell}
	r.clock.Advance(tm)
	r.rec.OnTrade(tr)
	if err := r.d.drainSync(ctx, r.rec); err != nil {
		r.t.Fatal(err)
	}
	r.d.OnTrades(ctx, []market.Trade{tr})
	if err := r.d.drainSync(ctx, r.rec); err != nil {
		r.t.Fatal(err)
	}
}

func TestLiquidationInPartsGetsNoRepairStop(t *testing.T) {
	for _, tc := range []struct {
		name      string
		liquidate func(ctx context.Context, r *rig)
	}{
		{"exit", func(ctx context.Context, r *rig) {
			if res := r.d.HandleIntent(ctx, intent.Intent{Kind: intent.Exit, Account: "K1", Strategy: "test"}); !res.Sent {
				r.t.Fatalf("exit not sent: %+v", res)
			}
		}},
		{"account kill", func(ctx context.Context, r *rig) {
			if _, err := r.d.Kill(ctx, AccountScope("K1"), TriggerConsole, "tester"); err != nil {
				r.t.Fatal(err)
			}
		}},
		{"flat-by", func(ctx context.Context, r *rig) {
			// What the 15:55 job does: only flatten, nothing halted.
			if _, err := r.d.Kill(ctx, AccountsScope("K1"), TriggerSchedule, "deskguard"); err != nil {
				r.t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t, 20*time.Second)
			r := newRig(t, rigOpt{Accounts: killSpecs(1)})
			r.start(ctx, etAt(10, 0, 0))
			r.step(ctx, etAt(10, 0, 1), pts(5000.25))
			_ = r.d.byID["K1"].m.Fire(EvStart, "test")
			in := entryFor("K1", etAt(10, 0, 1))
			in.Qty = 3
			if res := r.d.HandleIntent(ctx, in); !res.Sent {
				t.Fatalf("entry not sent: %+v", res)
			}
			r.step(ctx, etAt(10, 0, 2), pts(5000)) // fills the 3 lots, arms the bracket (stop 4999)
			if p, _ := r.sim.Position("K1"); p.Qty != 3 {
				t.Fatalf("venue position %d, want 3", p.Qty)
			}
			tc.liquidate(ctx, r)
			// The liquidation's market order fills one contract a trade: for
			// two trades the account holds a position with its bracket
			// cancelled and only the liquidation working.
			for i := 1; i <= 3; i++ {
				r.stepSized(ctx, etAt(10, 0, 2+i), pts(5000), 1)
				if p, _ := r.sim.Position("K1"); p.Qty != int64(3-i) {
					t.Fatalf("venue position %d after %d one-lot trades, want %d", p.Qty, i, 3-i)
				}
			}
			for _, c := range r.rec.Calls() {
				if strings.Contains(c.ClientID, ".repair.") {
					t.Errorf("a repair stop %s was placed beside the liquidation", c.ClientID)
				}
			}
			// Nor journaled: a repair record is written before its stop is
			// sent, and recovery rebuilds it as a working stop.
			for _, rec := range r.records() {
				if rec.Kind == journal.KindStopRepair {
					t.Errorf("a stop repair was journaled beside the liquidation: %s", rec.Body)
				}
			}
			if open, _ := r.sim.OpenOrders(ctx, "K1"); len(open) != 0 {
				t.Errorf("orders left working on the flat account: %+v", open)
			}
			// The market then runs through where a repair stop would have been.
			for i, px := range []float64{4999, 4998, 5002} {
				r.step(ctx, etAt(10, 0, 10+i), pts(px))
			}
			if p, _ := r.sim.Position("K1"); p.Qty != 0 {
				t.Errorf("the flat account holds %d at the venue", p.Qty)
			}
		})
	}
}

// TestAccountHaltedOnlyOnceFlat: an account-scoped kill leaves the desk
// running and the account halting until its liquidation has filled; only
// then is it halted, and only a halted account is re-armed.
func TestAccountHaltedOnlyOnceFlat(t *testing.T) {
	ctx := ctxT(t, 20*time.Second)
	r := newRig(t, rigOpt{Accounts: killSpecs(2)})
	tm := r.inPosition(ctx)
	if _, err := r.d.Kill(ctx, AccountScope("K1"), TriggerConsole, "tester"); err != nil {
		t.Fatal(err)
	}
	if err := r.d.drainSync(ctx, r.rec); err != nil {
		t.Fatal(err)
	}
	a := r.d.byID["K1"]
	if p, _ := r.sim.Position("K1"); p.Qty != 1 {
		t.Fatalf("venue position %d: the test needs the liquidation not yet filled", p.Qty)
	}
	if st := a.m.State(); st != AcctHalting {
		t.Fatalf("K1 %s before its liquidation filled, want halting", st)
	}
	if err := r.d.Rearm(ctx, "risk", "too soon"); !errors.Is(err, deskapi.ErrNotAllowed) {
		t.Fatalf("re-arm while K1 still holds its position: %v, want ErrNotAllowed", err)
	}
	if st := a.m.State(); st != AcctHalting {
		t.Fatalf("K1 %s after a refused re-arm, want halting", st)
	}
	r.step(ctx, tm+int64(time.Second), pts(5000.25)) // the liquidation fills
	if p, _ := r.sim.Position("K1"); p.Qty != 0 {
		t.Fatalf("venue position %d after the liquidation", p.Qty)
	}
	if st := a.m.State(); st != AcctHalted {
		t.Fatalf("K1 %s once flat, want halted", st)
	}
	if st := r.d.m.State(); st != DeskRunning {
		t.Fatalf("desk %s after an account-scoped kill, want running", st)
	}
	if err := r.d.Rearm(ctx, "risk", "flat"); err != nil {
		t.Fatal(err)
	}
	if st := a.m.State(); st != AcctIdle && st != AcctTrading {
		t.Fatalf("K1 %s after the re-arm", st)
	}
}
