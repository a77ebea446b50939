// inject_test.go: every named fault runs and does what it names.

package venue

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

func TestInject(t *testing.T) {
	v := start(t)
	ctx := context.Background()
	v.Trade(market.Trade{Time: 1_710_250_200_000_000_000, Price: 20000, Size: 1})
	v.mu.Lock()
	if err := v.sim.SubmitOrder(bg, broker.Order{ClientID: "m", Account: "A", Side: market.Buy, Qty: 1, Type: market.MarketOrder, TIF: broker.Day}); err != nil {
		t.Fatal(err)
	}
	v.applyLocked()
	v.mu.Unlock()
	v.Trade(market.Trade{Time: 1_710_250_201_000_000_000, Price: 20000, Size: 1})
	rng := rand.New(rand.NewPCG(1, 2))
	kinds := append(append([]string{"drop-sockets", "rest-5xx", "rest-5xx-after-acting", "penalty", "expire-tokens"}, InjectedFaults...), DeskSideFaults...)
	for _, k := range kinds {
		if err := v.Inject(ctx, k, rng); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	if err := v.Inject(ctx, "no-such-fault", rng); err == nil {
		t.Fatal("an unknown fault kind was accepted")
	}
	s := v.Stats()
	if s.Busts != 1 || s.AutoLiquidations != 1 {
		t.Fatalf("stats %+v", s)
	}
	v.faultMu.Lock()
	armed := v.failN > 0 && v.f429N > 0 && v.noIDN > 0 && v.spenN > 0 && v.penN > 0
	v.faultMu.Unlock()
	if !armed {
		t.Fatal("a REST or socket fault was not armed")
	}
	ext := 0
	v.mu.Lock()
	for _, o := range v.st.orders {
		if o.external {
			ext++
		}
	}
	v.mu.Unlock()
	if ext < 3 { // the external bracket's three orders (and the auto-liquidation's, if any)
		t.Fatalf("%d external orders", ext)
	}
}
