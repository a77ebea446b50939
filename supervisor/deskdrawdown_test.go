package supervisor

// deskdrawdown_test.go: invariant 5 at desk level — the desk-wide
// drawdown limit on the sum of the accounts' equity flattens every account
// (one desk kill, trigger desk_drawdown) even when no account is past its
// own line, and entries are refused after it. The mutation suite's
// desk-drawdown-kill-skipped and desk-drawdown-one-account-short fail here.

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

func TestDeskDrawdownFlattensTheDesk(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	o := rigOpt{Accounts: []AccountSpec{ruleSpec("A1", 10000, limits.Config{}), ruleSpec("A2", 10000, limits.Config{}),
		ruleSpec("A3", 10000, limits.Config{})}, DeskDrawdownPct: decimal.RequireFromString("0.5")}
	r := newRig(t, o)
	// The desk's line: 0.5% of $30,000 = $150 below the sum; each
	// account's own: 1.5% of $10,000 = $150 below its own.
	r.start(ctx, dayAt(12, 10, 0, 0))
	r.step(ctx, dayAt(12, 10, 0, 1), pts(5000.25))
	for _, id := range []string{"A1", "A2", "A3"} {
		r.send(ctx, enterAt(id, dayAt(12, 10, 0, 1), market.Buy, 1, 5000, 4985, 5010), limits.OK)
	}
	r.step(ctx, dayAt(12, 10, 0, 2), pts(5000)) // every entry fills
	r.step(ctx, dayAt(12, 10, 0, 3), pts(4992)) // each −$40: the desk −$120, above its line
	for _, id := range []string{"A1", "A2", "A3"} {
		if p := r.venuePos(id); p != 1 {
			t.Fatalf("%s: venue position %d above the desk's line, want 1", id, p)
		}
	}
	r.step(ctx, dayAt(12, 10, 0, 4), pts(4990)) // each −$50 (a third of its own allowance): the desk −$150, at its line
	r.step(ctx, dayAt(12, 10, 0, 5), pts(4990)) // the liquidations fill
	for _, id := range []string{"A1", "A2", "A3"} {
		if p := r.venuePos(id); p != 0 {
			t.Errorf("%s: venue position %d after the desk's drawdown, want flat", id, p)
		}
	}
	var kills []journal.Kill
	for _, rec := range r.records() {
		if rec.Kind == journal.KindKill {
			k, err := rec.Kill()
			if err != nil {
				t.Fatal(err)
			}
			kills = append(kills, k)
		}
	}
	if len(kills) != 1 || kills[0].Trigger != string(TriggerDeskDrawdown) || kills[0].Scope != "desk" || len(kills[0].Accounts) != 3 {
		t.Fatalf("kill records %+v, want one desk_drawdown kill of the desk's 3 accounts", kills)
	}
	res := r.d.HandleIntent(ctx, enterAt("A3", dayAt(12, 10, 0, 6), market.Buy, 1, 4990, 4985, 5000))
	if res.Sent || res.Decision.Allowed {
		t.Fatalf("an entry after the desk's drawdown: %+v, want refused", res)
	}
}
