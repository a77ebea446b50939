package supervisor

// bracket_test.go: invariants 1 and 3 through the desk — an add to a
// winning position goes to the venue as a bracket of its own (entry,
// stop-market GTC and target, each for the add's whole quantity), and once
// it fills, working stop-market orders at the venue cover the whole
// position.

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

// bracketCap keeps every bracket the desk sends.
type bracketCap struct {
	*recBroker
	mu  sync.Mutex
	got []broker.Bracket
}

func (b *bracketCap) SubmitBracket(ctx context.Context, br broker.Bracket) error {
	b.mu.Lock()
	b.got = append(b.got, br)
	b.mu.Unlock()
	return b.recBroker.SubmitBracket(ctx, br)
}

func TestAddCarriesItsBracketAndStopsCoverAll(t *testing.T) {
	ctx := ctxT(t, 20*time.Second)
	bc := &bracketCap{}
	r := newRig(t, rigOpt{Accounts: killSpecs(1), Broker: func(rb *recBroker) broker.Broker { bc.recBroker = rb; return bc }})
	tm := r.inPosition(ctx) // long 1 at 5000.00, the mark a tick up
	add := intent.Intent{Kind: intent.Add, Account: "K1", Strategy: "test", Time: tm, Side: market.Buy, Qty: 2,
		EntryType: market.MarketOrder, Stop: pts(4999.25), Target: pts(5004), Reason: "test add"}
	res := r.d.HandleIntent(ctx, add)
	if !res.Sent {
		t.Fatalf("add not sent: %+v", res)
	}
	bc.mu.Lock()
	last := bc.got[len(bc.got)-1]
	bc.mu.Unlock()
	if last.Entry.ClientID != res.ID || last.Entry.Qty != 2 {
		t.Fatalf("the add's bracket entry %+v", last.Entry)
	}
	if s := last.Stop; s.Qty != 2 || s.Type != market.StopOrder || s.TIF != broker.GTC || s.Side != market.Sell || s.StopPrice != pts(4999.25) {
		t.Fatalf("the add's stop %+v: want a sell stop-market GTC for 2 at 4999.25", s)
	}
	if g := last.Target; g.Qty != 2 || g.Side != market.Sell || g.Price != pts(5004) {
		t.Fatalf("the add's target %+v", g)
	}
	r.step(ctx, tm+int64(time.Second), pts(5000.25)) // the add fills; its legs arm
	p, _ := r.sim.Position("K1")
	if p.Qty != 3 {
		t.Fatalf("venue position %d after the add, want 3", p.Qty)
	}
	open, _ := r.sim.OpenOrders(ctx, "K1")
	covered := int64(0)
	for _, o := range open {
		if o.Type == market.StopOrder && o.Side == market.Sell && o.Status == broker.Working {
			covered += o.Qty - o.FilledQty
		}
	}
	if covered != p.Qty {
		t.Fatalf("working stop-market cover %d for a position of %d: %+v", covered, p.Qty, open)
	}
	if st := r.d.Status(ctx).Accounts[0]; !st.StopCovered || st.Position != 3 {
		t.Fatalf("the desk's books: position %d, stop covered %v", st.Position, st.StopCovered)
	}
}
