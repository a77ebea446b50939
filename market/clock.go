package market

// clock.go: the one clock deskguard's logic reads — the time, and timers
// and tickers on that time. WallClock is the system's; ReplayClock is
// driven by data timestamps (Advance), so its timers fire when the data
// reaches them: the same code runs live and replayed.

import (
	"container/heap"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Clock is where deskguard reads the time and waits on it. A live desk
// uses WallClock; a replay uses a ReplayClock advanced by the data.
type Clock interface {
	Now() time.Time
	// After is NewTimer(d).C().
	After(d time.Duration) <-chan time.Time
	// NewTimer fires once, d from now.
	NewTimer(d time.Duration) Timer
	// AfterFunc calls f in its own goroutine d from now.
	AfterFunc(d time.Duration, f func()) Timer
	// NewTicker fires every d (at least every millisecond's worth: a d
	// below 1 ms is 1 ms); a slow reader misses ticks, as with time.Ticker.
	NewTicker(d time.Duration) Ticker
}

// Timer is a Clock's one-shot timer.
type Timer interface {
	C() <-chan time.Time // nil for AfterFunc timers
	// Stop prevents the timer from firing; false if it already fired or
	// was stopped.
	Stop() bool
}

// Ticker is a Clock's ticker.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// WallClock reads the system clock.
type WallClock struct{}

// Now returns time.Now().
func (WallClock) Now() time.Time { return time.Now() }

// After is time.After.
func (WallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// NewTimer is time.NewTimer.
func (WallClock) NewTimer(d time.Duration) Timer { return wallTimer{time.NewTimer(d)} }

// AfterFunc is time.AfterFunc.
func (WallClock) AfterFunc(d time.Duration, f func()) Timer { return wallTimer{time.AfterFunc(d, f)} }

// NewTicker is time.NewTicker (d at least 1 ms).
func (WallClock) NewTicker(d time.Duration) Ticker {
	return wallTicker{time.NewTicker(max(d, time.Millisecond))}
}

type wallTimer struct{ t *time.Timer }

func (w wallTimer) C() <-chan time.Time { return w.t.C }
func (w wallTimer) Stop() bool          { return w.t.Stop() }

type wallTicker struct{ t *time.Ticker }

func (w wallTicker) C() <-chan time.Time { return w.t.C }
func (w wallTicker) Stop()               { w.t.Stop() }

// ReplayClock is driven by data timestamps. It never goes backwards: an
// older timestamp is ignored. Its timers and tickers fire when Advance
// reaches their time (a ticker once per Advance at most: ticks the clock
// jumped over are missed). Safe for concurrent use.
type ReplayClock struct {
	ns   atomic.Int64
	next atomic.Int64 // earliest pending deadline (MaxInt64: none)

	mu      sync.Mutex
	pending waits
	seq     uint64
}

// NewReplayClock starts the clock at t.
func NewReplayClock(t time.Time) *ReplayClock {
	c := &ReplayClock{}
	c.ns.Store(t.UnixNano())
	c.next.Store(math.MaxInt64)
	return c
}

// Now returns the latest time the data reached.
func (c *ReplayClock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// Advance moves the clock to ns (Unix nanoseconds) if that is later, and
// fires what fell due. Without pending timers it costs two atomic loads.
func (c *ReplayClock) Advance(ns int64) {
	for {
		cur := c.ns.Load()
		if ns <= cur {
			return
		}
		if c.ns.CompareAndSwap(cur, ns) {
			break
		}
	}
	if ns >= c.next.Load() {
		c.fire(ns)
	}
}

// A wait is one pending timer or ticker.
type wait struct {
	at     int64
	seq    uint64 // FIFO among equal deadlines
	period int64  // tickers
	ch     chan time.Time
	f      func()
	done   bool
	index  int
}

type waits []*wait

func (w waits) Len() int { return len(w) }
func (w waits) Less(i, j int) bool {
	if w[i].at != w[j].at {
		return w[i].at < w[j].at
	}
	return w[i].seq < w[j].seq
}
func (w waits) Swap(i, j int) { w[i], w[j] = w[j], w[i]; w[i].index = i; w[j].index = j }
func (w *waits) Push(x any)   { x.(*wait).index = len(*w); *w = append(*w, x.(*wait)) }
func (w *waits) Pop() any {
	old := *w
	x := old[len(old)-1]
	*w = old[:len(old)-1]
	x.index = -1
	return x
}

func (c *ReplayClock) fire(now int64) {
	var funcs []func()
	c.mu.Lock()
	for len(c.pending) > 0 && c.pending[0].at <= now {
		w := c.pending[0]
		t := time.Unix(0, now).UTC()
		if w.f != nil {
			funcs = append(funcs, w.f)
		} else {
			select {
			case w.ch <- t:
			default: // a slow reader misses the tick
			}
		}
		if w.period > 0 {
			for w.at <= now {
				w.at += w.period
			}
			heap.Fix(&c.pending, 0)
		} else {
			w.done = true
			heap.Pop(&c.pending)
		}
	}
	c.updateNext()
	c.mu.Unlock()
	for _, f := range funcs {
		go f()
	}
}

// updateNext publishes the earliest deadline (c.mu held).
func (c *ReplayClock) updateNext() {
	if len(c.pending) == 0 {
		c.next.Store(math.MaxInt64)
		return
	}
	c.next.Store(c.pending[0].at)
}

func (c *ReplayClock) add(d time.Duration, period int64, f func()) *wait {
	w := &wait{period: period, f: f}
	if f == nil {
		w.ch = make(chan time.Time, 1)
	}
	c.mu.Lock()
	c.seq++
	w.seq = c.seq
	w.at = c.ns.Load() + int64(max(d, 0))
	heap.Push(&c.pending, w)
	c.updateNext()
	c.mu.Unlock()
	// Due already (d ≤ 0): fire now, not at the next Advance.
	if now := c.ns.Load(); now >= c.next.Load() {
		c.fire(now)
	}
	return w
}

func (c *ReplayClock) remove(w *wait) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w.done || w.index < 0 {
		return false
	}
	heap.Remove(&c.pending, w.index)
	w.done = true
	c.updateNext()
	return true
}

// After fires once the data has moved d on.
func (c *ReplayClock) After(d time.Duration) <-chan time.Time { return c.NewTimer(d).C() }

// NewTimer fires once the data has moved d on.
func (c *ReplayClock) NewTimer(d time.Duration) Timer { return replayTimer{c, c.add(d, 0, nil)} }

// AfterFunc calls f (in its own goroutine) once the data has moved d on.
func (c *ReplayClock) AfterFunc(d time.Duration, f func()) Timer {
	return replayTimer{c, c.add(d, 0, f)}
}

// NewTicker fires every d of data time (d at least 1 ms).
func (c *ReplayClock) NewTicker(d time.Duration) Ticker {
	d = max(d, time.Millisecond)
	return replayTicker{c, c.add(d, int64(d), nil)}
}

type replayTimer struct {
	c *ReplayClock
	w *wait
}

func (t replayTimer) C() <-chan time.Time { return t.w.ch }
func (t replayTimer) Stop() bool          { return t.c.remove(t.w) }

type replayTicker struct {
	c *ReplayClock
	w *wait
}

func (t replayTicker) C() <-chan time.Time { return t.w.ch }
func (t replayTicker) Stop()               { t.c.remove(t.w) }
