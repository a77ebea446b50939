// Tests of the clocks: the replay clock follows data timestamps and never
// goes backwards, also under concurrent advances.

package market

import (
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
