// check_test.go: the checker itself catches what it is there to catch —
// a position without a stop at the venue, a client id sent twice, and an
// account that keeps its position past its lockout line.
package drill

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

func TestCheckerCatchesViolations(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 3, 12, 14, 0, 0, 0, time.UTC)
	r, err := newRig(ctx, rigOpt{Dir: t.TempDir(), Start: t0})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	c := newChecker(r)
	// Behind the desk's back: a naked long of 10 on the tightest account,
	// and the same client id twice.
	o := broker.Order{ClientID: "naked", Account: "D5", Side: market.Buy, Qty: 10, Type: market.MarketOrder, TIF: broker.Day}
	if err := r.v.Sim.SubmitOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	r.v.submitted("naked", "naked")
	px := market.Price(20600)
	for i := 0; i < 12; i++ {
		tr := market.Trade{Time: t0.Add(time.Duration(i) * time.Second).UnixNano(), Price: px, Size: 20, Aggressor: market.Sell}
		if i >= 2 {
			tr.Price = px - 40 // 10 × 40 ticks = $500, far past D5's $45 allowance
		}
		r.v.onTrade(tr)
		r.v.drain() // the desk never hears of it
		c.observe(r)
	}
	c.finish(r)
	all := strings.Join(c.viol, "\n")
	for _, want := range []string{"stop cover", "lockout line", "more than once"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q violation in:\n%s", want, all)
		}
	}
}
