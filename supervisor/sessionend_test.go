package supervisor

// sessionend_test.go: invariant 9 at desk level — the desk's protective
// stops are GTC, so a swing account's position stays covered across the
// session end, where the venue expires every Day order (broker/sim does,
// as CME Globex does at the daily close). Both kinds of stop the desk
// places: a bracket's stop leg and a repair stop for a stop the venue lost.

import (
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

func TestStopsOutliveTheSession(t *testing.T) {
	ctx := ctxT(t, 20*time.Second)
	r := newRig(t, rigOpt{Accounts: killSpecs(2)}) // swing accounts: the flat-by leaves them alone
	r.inPosition(ctx)
	// K2 loses its bracket's stop at the venue; the desk repairs it.
	a := r.d.byID["K2"]
	stopID := ""
	a.mu.Lock()
	for id, o := range a.orders {
		if o.role == limits.RoleStop && !o.done() && o.qty > 0 {
			stopID = id
		}
	}
	a.mu.Unlock()
	if stopID == "" {
		t.Fatal("K2 has no working stop")
	}
	if err := r.sim.Cancel(ctx, "K2", stopID); err != nil {
		t.Fatal(err)
	}
	if err := r.d.drainSync(ctx, r.rec); err != nil {
		t.Fatal(err)
	}
	repair := ""
	for _, c := range r.rec.Calls() {
		if c.Op == "order" && c.Account == "K2" {
			repair = c.ClientID
		}
	}
	if repair == "" {
		t.Fatal("no repair stop placed for K2")
	}
	// Past the daily close (17:00 CT) into the next session.
	from := len(r.rec.Log())
	r.step(ctx, etAt(16, 59, 0), pts(5000.25))
	r.step(ctx, etAt(18, 0, 30), pts(5000.25))
	for _, ev := range r.rec.Log()[from:] {
		if ev.Kind == broker.ExpiredEv {
			t.Errorf("%s's order %s expired at the session end (a Day order): %+v", ev.Account, ev.ClientID, ev)
		}
	}
	for _, c := range r.rec.Calls() {
		if c.Op == "order" && c.ClientID != repair {
			t.Errorf("another repair after the session end: %+v", c)
		}
	}
	for _, id := range []string{"K1", "K2"} {
		p, _ := r.sim.Position(id)
		open, _ := r.sim.OpenOrders(ctx, id)
		covered := int64(0)
		for _, o := range open {
			if o.Type == market.StopOrder && o.Side == market.Sell && o.Status == broker.Working && o.TIF == broker.GTC {
				covered += o.Qty - o.FilledQty
			}
		}
		if p.Qty != 1 || covered != 1 {
			t.Errorf("%s in the next session: position %d, GTC stop cover %d at the venue (%+v)", id, p.Qty, covered, open)
		}
	}
}
