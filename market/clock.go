package market

import (
	"sync/atomic"
	"time"
)

// Clock is where deskguard reads the time. A live desk uses WallClock; a
// replay uses a ReplayClock advanced by the data, so both run the same code.
type Clock interface {
	Now() time.Time
}

// WallClock reads the system clock.
type WallClock struct{}

// Now returns time.Now().
func (WallClock) Now() time.Time { return time.Now() }

// ReplayClock is driven by data timestamps. It never goes backwards: an
// older timestamp is ignored. Safe for concurrent use.
type ReplayClock struct{ ns atomic.Int64 }

// NewReplayClock starts the clock at t.
func NewReplayClock(t time.Time) *ReplayClock {
	c := &ReplayClock{}
	c.ns.Store(t.UnixNano())
	return c
}

// Now returns the latest time the data reached.
func (c *ReplayClock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// Advance moves the clock to ns (Unix nanoseconds) if that is later.
func (c *ReplayClock) Advance(ns int64) {
	for {
		cur := c.ns.Load()
		if ns <= cur || c.ns.CompareAndSwap(cur, ns) {
			return
		}
	}
}
