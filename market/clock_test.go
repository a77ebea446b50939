// Tests of the clocks: the replay clock follows data timestamps and never
// goes backwards, also under concurrent advances.

package market

import (
	"math"
	"sync"
	"testing"
	"time"
)

func TestReplayClockMonotonic(t *testing.T) {
	start := time.Date(2024, 3, 12, 13, 30, 0, 0, time.UTC)
	c := NewReplayClock(start)
	var _ Clock = c
	if !c.Now().Equal(start) || c.Now().Location() != time.UTC {
		t.Fatalf("Now() = %v, want %v", c.Now(), start)
	}
	steps := []struct {
		advance int64
		want    int64
	}{
		{start.UnixNano() + 5, start.UnixNano() + 5},
		{start.UnixNano() + 3, start.UnixNano() + 5}, // older: ignored
		{start.UnixNano() + 5, start.UnixNano() + 5}, // equal: no change
		{start.UnixNano() - int64(time.Hour), start.UnixNano() + 5},
		{start.UnixNano() + int64(time.Minute), start.UnixNano() + int64(time.Minute)},
	}
	for i, s := range steps {
		c.Advance(s.advance)
		if got := c.Now().UnixNano(); got != s.want {
			t.Errorf("step %d: Advance(%d) → %d, want %d", i, s.advance, got, s.want)
		}
	}
}

func TestReplayClockConcurrent(t *testing.T) {
	base := time.Date(2024, 3, 12, 13, 30, 0, 0, time.UTC)
	c := NewReplayClock(base)
	const workers, per = 4, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := c.Now()
			for i := range per {
				// Each worker advances by its own interleaved, partly backwards, sequence.
				c.Advance(base.UnixNano() + int64((i*workers+w)%(per*workers)) - int64(i%7))
				now := c.Now()
				if now.Before(last) {
					t.Errorf("clock went back from %v to %v", last, now)
					return
				}
				last = now
			}
		}()
	}
	wg.Wait()
	want := base.UnixNano() + int64((per-1)*workers+workers-1) - int64((per-1)%7)
	if got := c.Now().UnixNano(); got != want {
		t.Errorf("final %d, want the maximum advanced %d", got, want)
	}
}

func TestWallClock(t *testing.T) {
	var c Clock = WallClock{}
	if c.Now().Year() < 2024 {
		t.Errorf("WallClock.Now() = %v", c.Now())
	}
}

// fired reports whether ch has a value now.
func fired(ch <-chan time.Time) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestReplayTimers: timers and tickers fire when the data reaches them —
// not a nanosecond earlier — and not again once stopped.
func TestReplayTimers(t *testing.T) {
	t0 := time.Date(2024, 3, 12, 14, 0, 0, 0, time.UTC)
	c := NewReplayClock(t0)
	at := func(d time.Duration) { c.Advance(t0.Add(d).UnixNano()) }
	tm := c.NewTimer(10 * time.Second)
	after := c.After(5 * time.Second)
	tk := c.NewTicker(3 * time.Second)
	stopped := c.NewTimer(4 * time.Second)
	ran := make(chan struct{})
	c.AfterFunc(7*time.Second, func() { close(ran) })

	at(3*time.Second - 1)
	if fired(tm.C()) || fired(after) || fired(tk.C()) {
		t.Fatal("fired before its time")
	}
	at(3 * time.Second)
	if !fired(tk.C()) || fired(after) {
		t.Fatal("the ticker did not fire at exactly 3 s (or the 5 s timer did)")
	}
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop of a pending timer: want true once, then false")
	}
	at(5 * time.Second)
	if !fired(after) || fired(tk.C()) {
		t.Fatal("After(5 s) did not fire at 5 s (or the ticker fired again early)")
	}
	at(9 * time.Second) // the ticker's 6 s and 9 s: one tick (a jump misses ticks), the AfterFunc runs
	if !fired(tk.C()) || fired(tk.C()) {
		t.Fatal("the ticker after a jump over two periods: want exactly one tick waiting")
	}
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("AfterFunc did not run")
	}
	if fired(stopped.C()) {
		t.Fatal("a stopped timer fired")
	}
	at(10 * time.Second)
	if !fired(tm.C()) || tm.Stop() {
		t.Fatal("the 10 s timer: want fired, then Stop false")
	}
	tk.Stop()
	at(time.Minute)
	if fired(tk.C()) {
		t.Fatal("a stopped ticker fired")
	}
	if now := c.NewTimer(0); !fired(now.C()) {
		t.Fatal("a zero timer did not fire at once")
	}
	if c.next.Load() != math.MaxInt64 {
		t.Fatalf("nothing pending, next deadline %d", c.next.Load())
	}
}

func TestWallClockTimers(t *testing.T) {
	var c Clock = WallClock{}
	tm := c.NewTimer(time.Millisecond)
	select {
	case <-tm.C():
	case <-time.After(10 * time.Second):
		t.Fatal("wall timer did not fire")
	}
	tk := c.NewTicker(0) // clamped to 1 ms, no panic
	defer tk.Stop()
	select {
	case <-tk.C():
	case <-time.After(10 * time.Second):
		t.Fatal("wall ticker did not tick")
	}
}
