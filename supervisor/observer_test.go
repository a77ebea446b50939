package supervisor

// observer_test.go: the metrics hooks — the Observer is told each gate
// check, each kill's send (with its trigger) and each account of a kill
// once it is flat (not before its liquidation fills, and once only), and
// Counts holds the intents, orders, fills and refusals by reason.

import (
	"sync"
	"testing"
	"time"

	"github.com/deskguard/deskguard/limits"
)

type recObserver struct {
	mu    sync.Mutex
	gates int
	sent  []string
	flat  []time.Duration
}

func (o *recObserver) GateChecked(took time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if took < 0 {
		panic("negative gate time")
	}
	o.gates++
}

func (o *recObserver) KillSent(trigger string, took time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, trigger)
}

func (o *recObserver) KillFlat(took time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flat = append(o.flat, took)
}

func (o *recObserver) get() (int, []string, []time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.gates, append([]string(nil), o.sent...), append([]time.Duration(nil), o.flat...)
}

func countsOf(d *Desk, id string) AccountCounts {
	for _, c := range d.Counts() {
		if c.ID == id {
			return c
		}
	}
	return AccountCounts{}
}

func TestObserverAndCounts(t *testing.T) {
	ctx := ctxT(t, 20*time.Second)
	r := newRig(t, rigOpt{Accounts: killSpecs(2)})
	obs := &recObserver{}
	r.d.opt.Observer = obs // before anything runs
	tm := r.inPosition(ctx, "K2")
	gates, sent, flat := obs.get()
	if gates != 1 || len(sent) != 0 || len(flat) != 0 {
		t.Fatalf("after one entry: %d gate checks, kills sent %v, flat %v; want 1, none, none", gates, sent, flat)
	}
	c := countsOf(r.d, "K1")
	if c.Intents != 1 || c.Orders != 1 || c.Fills < 1 || len(c.Rejections) != 0 {
		t.Fatalf("K1 counts after one filled entry: %+v", c)
	}
	if c2 := countsOf(r.d, "K2"); c2.Intents != 0 || c2.Orders != 0 || c2.Fills != 0 {
		t.Fatalf("K2 traded nothing, counts %+v", c2)
	}

	if _, err := r.d.Kill(ctx, AccountScope("K1"), TriggerConsole, "tester"); err != nil {
		t.Fatal(err)
	}
	if err := r.d.drainSync(ctx, r.rec); err != nil {
		t.Fatal(err)
	}
	if p, _ := r.sim.Position("K1"); p.Qty != 1 {
		t.Fatalf("venue position %d: the test needs the liquidation not yet filled", p.Qty)
	}
	_, sent, flat = obs.get()
	if len(sent) != 1 || sent[0] != string(TriggerConsole) {
		t.Fatalf("kills sent %v, want [console]", sent)
	}
	if len(flat) != 0 {
		t.Fatalf("flat observed %v before the liquidation filled", flat)
	}
	// A refused entry while the account is halting: counted by reason.
	if res := r.d.HandleIntent(ctx, entryFor("K1", tm)); res.Sent || res.Decision.Reason != limits.Halted {
		t.Fatalf("entry on a halting account: %+v", res)
	}
	r.step(ctx, tm+int64(time.Second), pts(5000.25)) // the liquidation fills
	r.step(ctx, tm+2*int64(time.Second), pts(5000.5))
	if p, _ := r.sim.Position("K1"); p.Qty != 0 {
		t.Fatalf("venue position %d after the liquidation", p.Qty)
	}
	gates, sent, flat = obs.get()
	if gates != 2 || len(sent) != 1 || len(flat) != 1 || flat[0] < 0 {
		t.Fatalf("after the fill: %d gate checks, kills sent %v, flat %v; want 2, [console], one", gates, sent, flat)
	}
	c = countsOf(r.d, "K1")
	if c.Intents != 2 || c.Orders != 1 || c.Rejections[string(limits.Halted)] != 1 || c.Fills < 2 {
		t.Fatalf("K1 counts after the kill: %+v", c)
	}
	// A second kill of the flat account: sent again, flat at once, once.
	if _, err := r.d.Kill(ctx, AccountScope("K1"), TriggerCLI, "tester"); err != nil {
		t.Fatal(err)
	}
	within(t, 10*time.Second, "the second kill's flat sample", func() bool { _, _, f := obs.get(); return len(f) == 2 })
	_, sent, _ = obs.get()
	if len(sent) != 2 || sent[1] != string(TriggerCLI) {
		t.Fatalf("kills sent %v, want [console cli]", sent)
	}
}
