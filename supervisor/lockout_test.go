package supervisor

// lockout_test.go: a drawdown breach locks the account out, liquidates it
// and refuses its entries; the lockout survives a supervisor restart on the
// same journal file; an early unlock needs a reason; the session reset
// lifts it unless unlocks are manual (DESIGN.md invariant 5).

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

// etAt returns 2024-03-12 (a Tuesday) hh:mm:ss ET in ns.
func etAt(hh, mm, ss int) int64 {
	return time.Date(2024, 3, 12, hh, mm, ss, 0, market.NewYork).UnixNano()
}

func pts(p float64) market.Price { return market.Price(p * 4) }

// step feeds one trade the way Replay does.
func (r *rig) step(ctx context.Context, tm int64, px market.Price) {
	r.t.Helper()
	tr := market.Trade{Time: tm, Price: px, Size: 10, Aggressor: market.Sell}
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

func (r *rig) start(ctx context.Context, tm int64) {
	r.t.Helper()
	r.clock.Advance(tm)
	if err := r.d.Start(ctx); err != nil {
		r.t.Fatal(err)
	}
}

func lockoutSpec() []AccountSpec {
	// A big second account keeps the desk-wide limit (the sum) clear of
	// L1's breach, so the account's own lockout is what is tested.
	return []AccountSpec{{Config: accounts.Config{ID: "L1", StartEquity: decimal.NewFromInt(1000), Strategies: []string{"orb"}}},
		{Config: accounts.Config{ID: "BIG", StartEquity: decimal.NewFromInt(100000), Strategies: []string{"orb"}}}}
}

func buyBracket(at int64) intent.Intent {
	return intent.Intent{Kind: intent.Enter, Account: "L1", Strategy: "test", Time: at, Side: market.Buy, Qty: 1,
		EntryType: market.LimitOrder, Entry: pts(5000), Stop: pts(4999), Target: pts(5004), Reason: "test entry"}
}

// rejections counts journaled intents refused with reason.
func rejections(recs []journal.Record, account string, reason limits.Reason) int {
	n := 0
	for _, r := range recs {
		if r.Kind != journal.KindIntent || r.Account != account {
			continue
		}
		if b, err := r.IntentBody(); err == nil && b.Decision != nil && !b.Decision.Allowed && b.Decision.Reason == string(reason) {
			n++
		}
	}
	return n
}

func TestDrawdownLockoutSurvivesRestart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		manual bool
		lift   string // "unlock" or "reset"
	}{
		{"early unlock", false, "unlock"},
		{"session reset lifts", false, "reset"},
		{"manual unlock survives reset", true, "reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t, 20*time.Second)
			r := newRig(t, rigOpt{Accounts: lockoutSpec(), ManualUnlock: tc.manual})
			r.start(ctx, etAt(10, 0, 0))
			r.step(ctx, etAt(10, 0, 1), pts(5000.25))
			if res := r.d.HandleIntent(ctx, buyBracket(etAt(10, 0, 1))); !res.Sent {
				t.Fatalf("entry not sent: %+v", res)
			}
			r.step(ctx, etAt(10, 0, 2), pts(5000)) // fills the entry, arms the bracket
			if p, _ := r.sim.Position("L1"); p.Qty != 1 {
				t.Fatalf("venue position %d, want 1", p.Qty)
			}
			// A crash through the stop: the stop fills 40 ticks down, $50 on $1,000.
			r.step(ctx, etAt(10, 0, 3), pts(4990))
			r.step(ctx, etAt(10, 0, 4), pts(4990))
			a := r.d.byID["L1"]
			if st := a.m.State(); st != AcctLockedOut {
				t.Fatalf("state %s after the breach, want locked_out", st)
			}
			if p, _ := r.sim.Position("L1"); p.Qty != 0 {
				t.Fatalf("venue position %d after lockout", p.Qty)
			}
			if open, _ := r.sim.OpenOrders(ctx, "L1"); len(open) != 0 {
				t.Fatalf("%d orders still open at the venue after lockout", len(open))
			}
			if res := r.d.HandleIntent(ctx, buyBracket(etAt(10, 0, 5))); res.Sent || res.Decision.Reason != limits.LockedOut {
				t.Fatalf("entry while locked out: %+v", res)
			}
			if n := rejections(r.records(), "L1", limits.LockedOut); n != 1 {
				t.Fatalf("%d locked_out rejections journaled, want 1", n)
			}
			before := r.d.Status(ctx).Accounts[0]

			// Restart: a new desk on the same journal file, recovered.
			path := r.path
			r.close()
			r2 := newRig(t, rigOpt{Accounts: lockoutSpec(), ManualUnlock: tc.manual, Path: path})
			rec, err := r2.d.Recover(r2.j)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.LockedOut) != 1 || rec.LockedOut[0] != "L1" {
				t.Fatalf("recovered lockouts %v", rec.LockedOut)
			}
			r2.start(ctx, etAt(10, 5, 0))
			r2.step(ctx, etAt(10, 5, 1), pts(4991))
			a2 := r2.d.byID["L1"]
			if st := a2.m.State(); st != AcctLockedOut {
				t.Fatalf("state %s after restart, want locked_out", st)
			}
			after := r2.d.Status(ctx).Accounts[0]
			if after.Realized != before.Realized || after.Fees != before.Fees || after.Position != 0 {
				t.Fatalf("ledger after restart: realized %s fees %s pos %d; before: %s %s", after.Realized, after.Fees, after.Position, before.Realized, before.Fees)
			}
			if res := r2.d.HandleIntent(ctx, buyBracket(etAt(10, 5, 2))); res.Sent || res.Decision.Reason != limits.LockedOut {
				t.Fatalf("entry while locked out after restart: %+v", res)
			}
			switch tc.lift {
			case "unlock":
				if err := r2.d.Unlock(ctx, "L1", "risk", ""); !errors.Is(err, deskapi.ErrReasonRequired) {
					t.Fatalf("unlock without a reason: %v", err)
				}
				if err := r2.d.Unlock(ctx, "L1", "risk", "reviewed: data error"); err != nil {
					t.Fatal(err)
				}
				if st := a2.m.State(); st != AcctTrading {
					t.Fatalf("state %s after unlock, want trading", st)
				}
				r2.step(ctx, etAt(10, 5, 3), pts(5000.25))
				if res := r2.d.HandleIntent(ctx, buyBracket(etAt(10, 5, 3))); !res.Sent {
					t.Fatalf("entry after unlock: %+v", res)
				}
			case "reset":
				r2.step(ctx, etAt(18, 0, 30), pts(5000.25)) // the 18:00 ET session reset
				want := AcctTrading
				if tc.manual {
					want = AcctLockedOut
				}
				if st := a2.m.State(); st != want {
					t.Fatalf("state %s after the session reset, want %s", st, want)
				}
			}
		})
	}
}

// TestRearmOnlyFromHalted: while a liquidation has not filled the desk is
// halting and re-arm is refused; once flat it is halted and re-arm works.
func TestRearmOnlyFromHalted(t *testing.T) {
	ctx := ctxT(t, 20*time.Second)
	r := newRig(t, rigOpt{Accounts: lockoutSpec()})
	r.start(ctx, etAt(10, 0, 0))
	r.step(ctx, etAt(10, 0, 1), pts(5000.25))
	r.d.HandleIntent(ctx, buyBracket(etAt(10, 0, 1)))
	r.step(ctx, etAt(10, 0, 2), pts(5000))
	if err := r.d.Rearm(ctx, "risk", "nothing to re-arm"); !errors.Is(err, deskapi.ErrNotAllowed) {
		t.Fatalf("rearm while running: %v", err)
	}
	if err := r.d.Flatten(ctx, "", "test", "tester"); err != nil {
		t.Fatal(err)
	}
	if err := r.d.drainSync(ctx, r.rec); err != nil {
		t.Fatal(err)
	}
	if st := r.d.m.State(); st != DeskHalting {
		t.Fatalf("desk %s before the liquidation filled, want halting", st)
	}
	if err := r.d.Rearm(ctx, "risk", "too soon"); !errors.Is(err, deskapi.ErrNotAllowed) {
		t.Fatalf("rearm while halting: %v", err)
	}
	if err := r.d.Flatten(ctx, "", "again", "tester"); err != nil {
		t.Fatalf("second flatten while halting: %v", err)
	}
	r.step(ctx, etAt(10, 0, 3), pts(5000.25)) // the liquidation fills
	if st := r.d.m.State(); st != DeskHalted {
		t.Fatalf("desk %s once flat, want halted", st)
	}
	if res := r.d.HandleIntent(ctx, buyBracket(etAt(10, 0, 3))); res.Sent {
		t.Fatal("entry sent while halted")
	}
	if err := r.d.Rearm(ctx, "risk", "flat"); err != nil {
		t.Fatal(err)
	}
	if st := r.d.m.State(); st != DeskRunning {
		t.Fatalf("desk %s after re-arm", st)
	}
}

// TestLockoutLiquidatesAnOpenPosition: the line is crossed while the
// position is still open at the venue — the desk's feed saw the crash
// before the venue's stop traded (feeds differ in latency) — so only the
// lockout's own liquidation can flatten it: it must be sent at once, and
// the account must end flat and locked out.
func TestLockoutLiquidatesAnOpenPosition(t *testing.T) {
	ctx := ctxT(t, 20*time.Second)
	r := newRig(t, rigOpt{Accounts: lockoutSpec()})
	r.start(ctx, etAt(10, 0, 0))
	r.step(ctx, etAt(10, 0, 1), pts(5000.25))
	if res := r.d.HandleIntent(ctx, buyBracket(etAt(10, 0, 1))); !res.Sent {
		t.Fatalf("entry not sent: %+v", res)
	}
	r.step(ctx, etAt(10, 0, 2), pts(5000)) // fills the entry, arms the bracket (stop 4999)
	from := len(r.rec.Calls())
	// The desk sees 4990 (−$50 on $1,000: past the 1.5% line); the venue has
	// not traded it yet, so the stop has not fired.
	crash := market.Trade{Time: etAt(10, 0, 3), Price: pts(4990), Size: 10, Aggressor: market.Sell}
	r.clock.Advance(crash.Time)
	r.d.OnTrades(ctx, []market.Trade{crash})
	a := r.d.byID["L1"]
	if st := a.m.State(); st != AcctLockedOut {
		t.Fatalf("L1 %s after the line was crossed, want locked_out", st)
	}
	if p, _ := r.sim.Position("L1"); p.Qty != 1 {
		t.Fatalf("venue position %d: the test needs the position still open at the lockout", p.Qty)
	}
	if got := r.liquidated(from); got["L1"] != 1 {
		t.Fatalf("the lockout sent no liquidation for L1 (%v)", got)
	}
	var lockouts int
	for _, rec := range r.records() {
		if rec.Kind == journal.KindLockout && rec.Account == "L1" {
			lockouts++
		}
	}
	if lockouts != 1 {
		t.Fatalf("%d lockout records journaled, want 1", lockouts)
	}
	r.step(ctx, etAt(10, 0, 4), pts(4990)) // the venue trades: the liquidation fills
	if p, _ := r.sim.Position("L1"); p.Qty != 0 {
		t.Fatalf("venue position %d after the lockout's liquidation", p.Qty)
	}
	if open, _ := r.sim.OpenOrders(ctx, "L1"); len(open) != 0 {
		t.Fatalf("%d orders still open at the venue after the lockout", len(open))
	}
	if st := a.m.State(); st != AcctLockedOut {
		t.Fatalf("L1 %s once flat, want still locked_out", st)
	}
}
