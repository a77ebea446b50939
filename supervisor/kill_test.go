package supervisor

// kill_test.go: the kill path under load — 20 accounts, each with a real
// worker process, a session fed as fast as the desk takes it, and a kill
// in the middle of it (DESIGN.md invariant 8).

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/market"
)

// liveRig runs the rig's desk with RunLive over ts against the async sim.
type liveRig struct {
	*rig
	cancel context.CancelFunc
	done   chan error
	last   atomic.Int64 // market time of the last batch
	n      atomic.Int64 // batches fed
}

// holdReader feeds ts, then holds (no EOF) until ctx ends, so the desk
// keeps handling venue and worker events after the data is exhausted.
type holdReader struct {
	sliceReader
	ctx context.Context
}

func (h *holdReader) Next() (market.Trade, error) {
	if h.i < len(h.ts) {
		return h.sliceReader.Next()
	}
	<-h.ctx.Done()
	return market.Trade{}, h.ctx.Err()
}

// startLive runs the desk live over ts at pace × real time (0: as fast as
// the desk takes it).
func startLive(t *testing.T, r *rig, ts []market.Trade, maxBatch int, pace float64) *liveRig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	lr := &liveRig{rig: r, cancel: cancel, done: make(chan error, 1)}
	go func() {
		feed := &holdReader{sliceReader: sliceReader{ts: ts}, ctx: ctx}
		lr.done <- RunLive(ctx, r.d, LiveOptions{Feed: feed, Matcher: r.rec, Clock: r.clock, MaxBatch: maxBatch, Pace: pace,
			OnBatch: func(tr market.Trade) { lr.last.Store(tr.Time); lr.n.Add(1) }})
	}()
	t.Cleanup(func() {
		lr.stop(t)
	})
	return lr
}

func (lr *liveRig) stop(t *testing.T) {
	lr.cancel()
	select {
	case err := <-lr.done:
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, ErrFeedEnded) {
			t.Errorf("RunLive: %v", err)
		}
		lr.done <- err // for a second stop
	case <-time.After(20 * time.Second):
		t.Error("RunLive did not stop")
	}
}

func etTime(day market.Trade, hh, mm int) int64 {
	d := time.Unix(0, day.Time).In(market.NewYork)
	return time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, market.NewYork).UnixNano()
}

func TestKillDuringHeavyFlow20Accounts(t *testing.T) {
	r := newRig(t, rigOpt{Accounts: manySpecs(20, 50000), Workers: Processes, Proc: enginesProc(""), Async: true})
	ts := session(t, 5, 0.2, 0)
	killAt := etTime(ts[0], 10, 40)
	// 2000 × real time: the session's 10:00–16:00 in about 11 s, some
	// 15,000 trades a second (MES peaks at a few thousand) — heavy flow
	// that is still running when the kill lands.
	lr := startLive(t, r, ts, 64, 2000)
	ctx := ctxT(t, 40*time.Second)

	// Re-arm is refused while running with nothing halted.
	within(t, 20*time.Second, "desk running", func() bool { return r.d.m.State() == DeskRunning })
	if err := r.d.Rearm(ctx, "tester", "too early"); !errors.Is(err, deskapi.ErrNotAllowed) {
		t.Fatalf("rearm while running: %v, want ErrNotAllowed", err)
	}
	// The kill lands after 10:40 ET at a moment some account holds a
	// position, while the feed keeps running.
	within(t, 30*time.Second, "a position open after 10:40 ET", func() bool {
		if lr.last.Load() < killAt {
			return false
		}
		for _, a := range r.d.accts {
			a.mu.Lock()
			p := a.ledger.Position()
			a.mu.Unlock()
			if p != 0 {
				return true
			}
		}
		return false
	})
	busy := 0
	for _, a := range r.d.Status(ctx).Accounts {
		if a.Position != 0 || len(a.Orders) > 0 {
			busy++
		}
	}
	callsBefore := len(r.rec.Calls())
	rep, err := r.d.FlattenReport(ctx, "", "test", "tester")
	if err != nil {
		t.Fatal(err)
	}
	killCalls := len(r.rec.Calls())
	killTrade, _ := r.sim.LastTrade() // the venue's clock when every liquidation had been sent
	// Pressing again while halting is harmless.
	if err := r.d.Flatten(ctx, "", "test-again", "tester"); err != nil {
		t.Fatalf("second flatten: %v", err)
	}
	if st := r.d.m.State(); st != DeskHalting && st != DeskHalted {
		t.Fatalf("desk %s after the kill", st)
	}
	if r.d.m.State() == DeskHalting {
		err := r.d.Rearm(ctx, "tester", "not flat yet")
		switch {
		case errors.Is(err, deskapi.ErrNotAllowed):
		case err == nil && r.d.m.State() == DeskRunning:
			// It went flat (halted) between the look and the re-arm: kill again.
			if err := r.d.Flatten(ctx, "", "test-3", "tester"); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("rearm while halting: %v (desk %s)", err, r.d.m.State())
		}
	}
	withinOr(t, 30*time.Second, "desk halted", func() bool { return r.d.m.State() == DeskHalted }, r.dumpDesk)
	t.Logf("kill: %d accounts (%d busy), journal %s, sent %s, total %s; %d batches fed; %d venue calls at kill",
		rep.Accounts, busy, rep.JournalNs, rep.SentNs, rep.TotalNs, lr.n.Load(), killCalls)
	if busy == 0 {
		t.Fatal("nothing open at the kill: the test proves nothing")
	}
	lockedOut := map[string]bool{}
	for _, a := range r.d.accts {
		// A drawdown lockout (before the kill, or by the liquidation's own
		// fill price) is the other protected end state.
		switch st := a.m.State(); st {
		case AcctHalted:
		case AcctLockedOut:
			lockedOut[a.id] = true
		default:
			t.Errorf("%s is %s, want halted", a.id, st)
		}
		p, _ := r.sim.Position(a.id)
		open, _ := r.sim.OpenOrders(ctx, a.id)
		if p.Qty != 0 || len(open) != 0 {
			t.Errorf("%s at the venue: position %d, %d open orders", a.id, p.Qty, len(open))
		}
	}
	// No risk-adding request reached the venue after the kill's liquidation
	// of its account (earlier liquidations — a lockout, a coverage repair —
	// do not end trading).
	liquidated := map[string]bool{}
	for _, c := range r.rec.Calls() {
		switch {
		case c.Op == "liquidate" && c.Seq >= callsBefore:
			liquidated[c.Account] = true
		case c.Op == "bracket" && liquidated[c.Account]:
			t.Errorf("bracket %s for %s reached the venue after its liquidation", c.ClientID, c.Account)
		}
	}
	// And the venue's own record: no entry accepted at a market time after
	// every liquidation had been sent. (The kill's own market stamp is no
	// marker: a free-running feed moves on during its journal fsync, while
	// intents gated before the halt are still in flight; the call log above
	// is the exact order.)
	for _, ev := range r.rec.Log() {
		if ev.Kind == broker.Accepted && ev.Role == broker.EntryLeg && ev.Time > killTrade.Time {
			t.Errorf("venue accepted entry %s of %s at %d, after the kill (venue at %d)", ev.ClientID, ev.Account, ev.Time, killTrade.Time)
		}
	}
	// Re-arm from halted works and trading resumes.
	if err := r.d.Rearm(ctx, "tester", "all flat"); err != nil {
		t.Fatal(err)
	}
	if st := r.d.m.State(); st != DeskRunning {
		t.Fatalf("desk %s after re-arm", st)
	}
	for _, a := range r.d.accts {
		if lockedOut[a.id] {
			if st := a.m.State(); st != AcctLockedOut {
				t.Errorf("%s was locked out; %s after re-arm", a.id, st)
			}
			continue
		}
		if st := a.m.State(); st != AcctTrading || a.halted.Load() {
			t.Errorf("%s is %s (halted flag %v) after re-arm", a.id, st, a.halted.Load())
		}
	}
}
