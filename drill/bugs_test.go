// bugs_test.go: defects the drill found in other packages, pinned as
// failing tests until their owners fix them.
package drill

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor"
)

// A venue that refuses a stop-coverage repair must lead to a flatten, not
// a deadlock: supervisor.repairStops (RepairPlaceStop) holds the account's
// sendMu read lock while it calls liquidateAccount, which write-locks the
// same mutex. Found by `deskguard drill --rounds 50` (button, round 12).
func TestRefusedRepairStopFlattensWithoutDeadlock(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 3, 12, 14, 0, 0, 0, time.UTC)
	r, err := newRig(ctx, rigOpt{Dir: t.TempDir(), Start: t0, NoEngines: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	r.p.before = func() error { return nil }
	refuse := func(o broker.Order) bool { return strings.Contains(o.ClientID, ".repair.") }
	r.p.refuse = refuse
	// A bracketed long whose stop the venue then loses: the desk must
	// repair (place a stop at the bracket's stop price).
	px := market.Price(20600)
	r.step(market.Trade{Time: t0.UnixNano(), Price: px, Size: 10, Aggressor: market.Buy})
	res := r.d.HandleIntent(ctx, intent.Intent{Kind: intent.Enter, Account: "D1", Strategy: "drill", Side: market.Buy, Qty: 2,
		EntryType: market.LimitOrder, Entry: px, Stop: px - 8, Target: px + 40})
	if !res.Sent {
		t.Fatalf("entry not sent: %+v", res)
	}
	r.step(market.Trade{Time: t0.UnixNano() + 1, Price: px, Size: 10, Aggressor: market.Sell})
	if p, _ := r.v.Sim.Position("D1"); p.Qty != 2 {
		t.Fatalf("entry not filled: %+v", p)
	}
	stop, _ := supervisor.LegIDs(res.ID)
	if err := r.v.Sim.Cancel(ctx, "D1", stop); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i < 5; i++ {
			r.step(market.Trade{Time: t0.Add(time.Duration(i) * time.Second).UnixNano(), Price: 20600, Size: 10, Aggressor: market.Sell})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("desk deadlocked: a refused repair stop never led to the flatten")
	}
	if p, _ := r.v.Sim.Position("D1"); p.Qty != 0 {
		t.Fatalf("D1 still holds %d after its repair stop was refused", p.Qty)
	}
}

// An exit's liquidation that fills in parts must not get a repair stop
// beside it: the desk placed one for the unfilled rest, the liquidation
// then flattened the account, and the orphaned stop later filled and
// opened a naked position (an exit order opening a position). Found by
// the stricter checker in `deskguard drill --rounds 2` (journal-faults,
// seed 1; button, seed 1); fixed in supervisor (Exit marks the account
// liquidating until it is flat, as a kill does).
func TestExitLiquidatedInPartsGetsNoRepairStop(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 3, 12, 14, 0, 0, 0, time.UTC)
	r, err := newRig(ctx, rigOpt{Dir: t.TempDir(), Start: t0, NoEngines: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	c := newChecker(r)
	px := market.Price(20600)
	n := 0
	trade := func(p market.Price, size int64) {
		n++
		r.step(market.Trade{Time: t0.Add(time.Duration(n) * time.Second).UnixNano(), Price: p, Size: size, Aggressor: market.Sell})
		c.observe(r)
	}
	trade(px, 10)
	res := r.d.HandleIntent(ctx, intent.Intent{Kind: intent.Enter, Account: "D1", Strategy: "drill", Side: market.Buy, Qty: 3,
		EntryType: market.LimitOrder, Entry: px, Stop: px - 8, Target: px + 40})
	if !res.Sent {
		t.Fatalf("entry not sent: %+v", res)
	}
	trade(px, 10)
	if p, _ := r.v.Sim.Position("D1"); p.Qty != 3 {
		t.Fatalf("entry not filled: %+v", p)
	}
	if res := r.d.HandleIntent(ctx, intent.Intent{Kind: intent.Exit, Account: "D1", Strategy: "drill"}); !res.Sent {
		t.Fatalf("exit not sent: %+v", res)
	}
	for i := 0; i < 3; i++ {
		trade(px, 1) // the liquidation's market order fills one contract a trade
	}
	if p, _ := r.v.Sim.Position("D1"); p.Qty != 0 {
		t.Fatalf("not flat after the exit: %+v", p)
	}
	r.v.mu.Lock()
	for id := range r.v.submits {
		if strings.Contains(id, ".repair.") {
			t.Errorf("a repair stop %s was placed beside the exit's liquidation", id)
		}
	}
	r.v.mu.Unlock()
	if open := r.v.openOrders("D1"); len(open) != 0 {
		t.Errorf("orders left working on the flat account: %+v", open)
	}
	// The market then runs through where a repair stop would have been.
	for _, p := range []market.Price{px - 10, px - 20, px + 20} {
		trade(p, 10)
	}
	if p, _ := r.v.Sim.Position("D1"); p.Qty != 0 {
		t.Errorf("the flat account holds %d", p.Qty)
	}
	if len(c.viol) > 0 {
		t.Errorf("violations: %v", c.viol)
	}
}
