package supervisor

// kill_test.go: the kill path under load — 20 accounts, each with a real
// worker process, a session fed as fast as the desk takes it, and a kill
// in the middle of it (DESIGN.md invariant 8).
//
// Nothing here waits on the feed's speed: the feed never runs ahead of the
// workers (a barrier every batch, so a loaded machine slows the session
// down instead of letting it run past the engines), the moment of the kill
// is a condition on the desk's books bounded by the data (the session's
// last entry time), not by the wall, and the waits after it are failure
// detectors on conditions.

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
// With sync set, it calls it before every every-th trade: a barrier that
// keeps the feed from running ahead of the workers.
type holdReader struct {
	sliceReader
	ctx   context.Context
	sync  func(context.Context) error
	every int
}

func (h *holdReader) Next() (market.Trade, error) {
	if h.i < len(h.ts) {
		if h.sync != nil && h.i > 0 && h.i%h.every == 0 {
			// A worker that is gone (restarting) is not waited for.
			_ = h.sync(h.ctx)
		}
		return h.sliceReader.Next()
	}
	<-h.ctx.Done()
	return market.Trade{}, h.ctx.Err()
}

// startLive runs the desk live over ts at pace × real time (0: as fast as
// the desk takes it). The feed waits for the workers every maxBatch
// trades (Desk.SyncWorkers): at most about two batches ahead of the
// engines however loaded the machine is.
func startLive(t *testing.T, r *rig, ts []market.Trade, maxBatch int, pace float64) *liveRig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	lr := &liveRig{rig: r, cancel: cancel, done: make(chan error, 1)}
	go func() {
		feed := &holdReader{sliceReader: sliceReader{ts: ts}, ctx: ctx, sync: r.d.SyncWorkers, every: maxBatch}
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

// waitFlow waits for cond while the feed runs. It fails once the feed has
// passed until (market time) with cond still false, or has fed nothing for
// stall of real time (a hung desk) — never because the feed is slow.
func (lr *liveRig) waitFlow(t *testing.T, what string, until int64, stall time.Duration, cond func() bool) {
	t.Helper()
	tk := time.NewTicker(2 * time.Millisecond)
	defer tk.Stop()
	lastN, moved := lr.n.Load(), time.Now()
	for {
		past := lr.last.Load() >= until // read before cond: cond false after it means it never held in time
		if cond() {
			return
		}
		if past {
			lr.dumpDesk()
			t.Fatalf("the feed passed %s without %s", time.Unix(0, until).In(market.NewYork).Format("15:04 MST"), what)
		}
		if n := lr.n.Load(); n != lastN {
			lastN, moved = n, time.Now()
		} else if time.Since(moved) > stall {
			lr.dumpDesk()
			t.Fatalf("waiting for %s: the feed fed nothing for %s (at %s)", what, stall,
				time.Unix(0, lr.last.Load()).In(market.NewYork).Format("15:04:05"))
		}
		<-tk.C
	}
}

func etTime(day market.Trade, hh, mm int) int64 {
	d := time.Unix(0, day.Time).In(market.NewYork)
	return time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, market.NewYork).UnixNano()
}

func TestKillDuringHeavyFlow20Accounts(t *testing.T) {
	proc := enginesProc("")
	// A worker starved of CPU on a loaded machine is not a hung one here
	// (TestHungWorkerIsKilled is that test): a restart would only lose the
	// engines' state mid-session.
	proc.HeartbeatTimeout = time.Minute
	r := newRig(t, rigOpt{Accounts: manySpecs(20, 50000), Workers: Processes, Proc: proc, Async: true})
	ts := session(t, 5, 0.2, 0)
	killAt := etTime(ts[0], 10, 40)
	lastEntry := etTime(ts[0], 15, 45) // no_new_entries: no position opens after it
	// At most 2000 × real time: the session's 10:00–16:00 in about 11 s,
	// some 15,000 trades a second (MES peaks at a few thousand) — heavy
	// flow that is still running when the kill lands. A loaded machine
	// makes it slower, never lets it outrun the engines.
	lr := startLive(t, r, ts, 64, 2000)
	ctx := ctxT(t, 5*time.Minute)

	// Re-arm is refused while running with nothing halted.
	within(t, time.Minute, "desk running", func() bool { return r.d.m.State() == DeskRunning })
	if err := r.d.Rearm(ctx, "tester", "too early"); !errors.Is(err, deskapi.ErrNotAllowed) {
		t.Fatalf("rearm while running: %v, want ErrNotAllowed", err)
	}
	// The kill lands after 10:40 ET at a moment some account holds a
	// position, while the feed keeps running. The accounts busy at that
	// moment are counted in the same look.
	busy := 0
	lr.waitFlow(t, "a position open after 10:40 ET", lastEntry, time.Minute, func() bool {
		if lr.last.Load() < killAt {
			return false
		}
		open, n := false, 0
		for _, a := range r.d.accts {
			a.mu.Lock()
			p := a.ledger.Position()
			w := len(a.workingOrders())
			a.mu.Unlock()
			open = open || p != 0
			if p != 0 || w > 0 {
				n++
			}
		}
		busy = n
		return open
	})
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
	// The liquidations fill on the trades that follow (the feed runs to
	// 16:00 after the last entry time): a bound that only detects a hang.
	withinOr(t, 2*time.Minute, "desk halted", func() bool { return r.d.m.State() == DeskHalted }, r.dumpDesk)
	t.Logf("kill: %d accounts (%d busy), journal %s, sent %s, total %s; %d batches fed; %d venue calls at kill",
		rep.Accounts, busy, rep.JournalNs, rep.SentNs, rep.TotalNs, lr.n.Load(), killCalls)
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
