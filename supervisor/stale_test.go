package supervisor

// stale_test.go: the stale-data kill trigger of RunLive
// (LiveOptions.StaleAfter, `[desk] stale_data_kill`), on an injected wall
// clock whose stale-check ticker the test drives: no sleeps, every step is
// a tick the test sends.

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

// gatedReader feeds ts once open is closed, then holds (no EOF) until ctx
// ends: a live feed that has not started, then one that stops.
type gatedReader struct {
	holdReader
	open <-chan struct{}
}

func (g *gatedReader) Next() (market.Trade, error) {
	select {
	case <-g.open:
	case <-g.ctx.Done():
		return market.Trade{}, g.ctx.Err()
	}
	return g.holdReader.Next()
}

// drivenWall is a wall clock (a ReplayClock the test moves) whose
// stale-check ticker (the period given) is a channel the test sends on;
// its other tickers are the replay clock's.
type drivenWall struct {
	*market.ReplayClock
	period  time.Duration
	ticks   chan time.Time
	tickers *atomic.Int32
}

func (w drivenWall) NewTicker(d time.Duration) market.Ticker {
	if d != w.period {
		return w.ReplayClock.NewTicker(d)
	}
	w.tickers.Add(1)
	return drivenTicker{w.ticks}
}

type drivenTicker struct{ ch chan time.Time }

func (t drivenTicker) C() <-chan time.Time { return t.ch }
func (t drivenTicker) Stop()               {}

// staleRig is a live desk with a wall clock and a stale-check ticker the
// test drives.
type staleRig struct {
	*rig
	wall     *market.ReplayClock
	t0       time.Time
	ticks    chan time.Time
	tickers  atomic.Int32 // stale tickers RunLive asked for
	lastFed  atomic.Int64 // market time of the last batch
	open     chan struct{}
	cancel   context.CancelFunc
	done     chan error
	lastSent market.Trade
}

func startStale(t *testing.T, staleAfter time.Duration) *staleRig {
	t.Helper()
	r := newRig(t, rigOpt{Async: true})
	ts := session(t, 4, 0.05, 3000)
	t0 := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	sr := &staleRig{rig: r, wall: market.NewReplayClock(t0), t0: t0, ticks: make(chan time.Time), open: make(chan struct{}),
		done: make(chan error, 1), lastSent: ts[len(ts)-1]}
	ctx, cancel := context.WithCancel(context.Background())
	sr.cancel = cancel
	feed := &gatedReader{holdReader: holdReader{sliceReader: sliceReader{ts: ts}, ctx: ctx}, open: sr.open}
	wall := drivenWall{ReplayClock: sr.wall, period: max(staleAfter/4, time.Millisecond), ticks: sr.ticks, tickers: &sr.tickers}
	opt := LiveOptions{Feed: feed, Matcher: r.rec, Clock: r.clock, StaleAfter: staleAfter, Wall: wall, MaxBatch: 64,
		OnBatch: func(tr market.Trade) { sr.lastFed.Store(tr.Time) }}
	go func() { sr.done <- RunLive(ctx, r.d, opt) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-sr.done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("RunLive: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("RunLive did not stop")
		}
	})
	return sr
}

// at moves the wall clock to t0 + d and lets the stale check look at it:
// the second send returns only once the check has handled the first tick
// (the ticker is unbuffered and the check handles one tick at a time).
func (sr *staleRig) at(d time.Duration) {
	sr.wall.Advance(sr.t0.Add(d).UnixNano())
	for range 2 {
		sr.ticks <- sr.wall.Now()
	}
}

// feedAll opens the feed and waits until every trade reached the desk.
func (sr *staleRig) feedAll(t *testing.T) {
	t.Helper()
	close(sr.open)
	within(t, 30*time.Second, "every trade fed", func() bool { return sr.lastFed.Load() == sr.lastSent.Time })
}

// kills returns the journaled kills.
func (sr *staleRig) kills(t *testing.T) []journal.Kill {
	t.Helper()
	var out []journal.Kill
	for _, rec := range sr.records() {
		if rec.Kind == journal.KindKill {
			k, err := rec.Kill()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, k)
		}
	}
	return out
}

func TestStaleDataKillsTheDesk(t *testing.T) {
	sr := startStale(t, 5*time.Second)
	// Before the first trade the desk has not started: however long the
	// feed is silent, nothing is killed.
	sr.at(time.Hour)
	if k := sr.kills(t); len(k) != 0 {
		t.Fatalf("killed before the desk started: %+v", k)
	}
	if st := sr.d.m.State(); st != DeskStarting {
		t.Fatalf("desk %s before the first trade", st)
	}
	// The feed runs (every trade at wall t0+1h), then stops without ending.
	sr.feedAll(t)
	if st := sr.d.m.State(); st != DeskRunning {
		t.Fatalf("desk %s after the trades", st)
	}
	sr.at(time.Hour + 5*time.Second) // exactly StaleAfter: not yet stale
	if k := sr.kills(t); len(k) != 0 {
		t.Fatalf("killed at exactly stale_after: %+v", k)
	}
	sr.at(time.Hour + 5*time.Second + time.Millisecond)
	k := sr.kills(t)
	if len(k) != 1 || k[0].Trigger != "stale_data" || k[0].Scope != "desk" || k[0].Who != "deskguard" || len(k[0].Accounts) != 3 {
		t.Fatalf("kills %+v, want one desk kill by stale_data", k)
	}
	if st := sr.d.m.State(); st != DeskHalting && st != DeskHalted {
		t.Fatalf("desk %s after the stale data kill", st)
	}
	for _, a := range sr.d.accts {
		if !a.halted.Load() {
			t.Errorf("account %s not halted", a.id)
		}
	}
	// Still stale: the spell fires once.
	sr.at(2 * time.Hour)
	if k := sr.kills(t); len(k) != 1 {
		t.Fatalf("%d kills in one stale spell", len(k))
	}
	if n := sr.tickers.Load(); n != 1 {
		t.Fatalf("%d stale tickers", n)
	}
}

func TestStaleDataOffByDefault(t *testing.T) {
	sr := startStale(t, 0)
	sr.feedAll(t)
	sr.wall.Advance(sr.t0.Add(24 * time.Hour).UnixNano())
	if n := sr.tickers.Load(); n != 0 {
		t.Fatalf("stale_after 0 started %d stale checks", n)
	}
	// The desk keeps running on: every part of it is still answering.
	if err := sr.d.Snapshot(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if k := sr.kills(t); len(k) != 0 {
		t.Fatalf("killed with stale_after 0: %+v", k)
	}
	if st := sr.d.m.State(); st != DeskRunning {
		t.Fatalf("desk %s", st)
	}
}
