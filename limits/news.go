// news.go: the news blackout. A Calendar is the desk's scheduled releases
// (FOMC statements, CPI, payrolls…) as sorted times; the gate asks whether
// now falls in [release − before, release + after) of any of them in
// O(log n) without allocating. BlackoutMonitor tells the desk, once per
// release, when to flatten an account blackout_flatten before it. Parsing
// calendar files is limits/calendar's job; this file does no I/O.

package limits

import (
	"fmt"
	"slices"
	"strings"
)

// Release is one scheduled release.
type Release struct {
	TimeNs int64  `json:"time_ns"` // ns UTC
	Name   string `json:"name"`
}

// Calendar is an immutable, sorted set of releases; safe for concurrent
// use.
type Calendar struct {
	at    []int64
	names []string
}

// NewCalendar sorts a copy of rs. Releases at the same time are kept (their
// names joined), so each time appears once.
func NewCalendar(rs []Release) *Calendar {
	s := slices.Clone(rs)
	slices.SortStableFunc(s, func(a, b Release) int {
		switch {
		case a.TimeNs < b.TimeNs:
			return -1
		case a.TimeNs > b.TimeNs:
			return 1
		}
		return 0
	})
	c := &Calendar{}
	for _, r := range s {
		if n := len(c.at); n > 0 && c.at[n-1] == r.TimeNs {
			if !slices.Contains(strings.Split(c.names[n-1], " + "), r.Name) {
				c.names[n-1] += " + " + r.Name
			}
			continue
		}
		c.at = append(c.at, r.TimeNs)
		c.names = append(c.names, r.Name)
	}
	return c
}

// Len is the number of distinct release times.
func (c *Calendar) Len() int {
	if c == nil {
		return 0
	}
	return len(c.at)
}

// Release returns the i-th release in time order.
func (c *Calendar) Release(i int) Release { return Release{TimeNs: c.at[i], Name: c.names[i]} }

// Releases returns every release in time order (a copy).
func (c *Calendar) Releases() []Release {
	out := make([]Release, c.Len())
	for i := range out {
		out[i] = c.Release(i)
	}
	return out
}

// firstAfter returns the index of the first release later than ns (len
// when none): a binary search, no allocation.
func (c *Calendar) firstAfter(ns int64) int {
	lo, hi := 0, len(c.at)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.at[m] <= ns {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// Window reports whether nowNs falls in the blackout [t − beforeNs,
// t + afterNs) of some release t, and which (the earliest whose window
// holds now). O(log n), no allocation; a nil calendar has no releases.
func (c *Calendar) Window(nowNs, beforeNs, afterNs int64) (int, bool) {
	if c.Len() == 0 {
		return -1, false
	}
	// The first release whose window has not ended: t + after > now.
	i := c.firstAfter(nowNs - afterNs)
	if i < len(c.at) && c.at[i]-beforeNs <= nowNs {
		return i, true
	}
	// Releases later than it open their windows later still (the same
	// before for all), so none holds now.
	return -1, false
}

// Next returns the first release at or after nowNs.
func (c *Calendar) Next(nowNs int64) (Release, bool) {
	if c.Len() == 0 {
		return Release{}, false
	}
	i := c.firstAfter(nowNs - 1)
	if i == len(c.at) {
		return Release{}, false
	}
	return c.Release(i), true
}

// BlackoutState is a BlackoutMonitor's state for the desk's snapshots: the
// release the account was last flattened for.
type BlackoutState struct {
	FlattenedForNs int64 `json:"flattened_for_ns,omitempty"`
}

// BlackoutMonitor says when to flatten an account ahead of a release. Not
// safe for concurrent use; the tick path owns it.
type BlackoutMonitor struct {
	cal       *Calendar
	flattenNs int64
	afterNs   int64
	done      int64
}

// NewBlackoutMonitor watches cal with cfg's blackout_flatten and
// blackout_after (defaults applied). A zero blackout_flatten never
// flattens.
func NewBlackoutMonitor(cfg Config, cal *Calendar) *BlackoutMonitor {
	cfg = cfg.WithDefaults()
	return &BlackoutMonitor{cal: cal, flattenNs: int64(cfg.BlackoutFlatten), afterNs: int64(cfg.BlackoutAfter)}
}

// FlattenDue returns the release to flatten for, once per release: now in
// [t − blackout_flatten, t + blackout_after). A desk that restarts inside
// that span flattens then (unless the state says it already did).
func (m *BlackoutMonitor) FlattenDue(nowNs int64) (Release, bool) {
	if m.flattenNs <= 0 || m.cal.Len() == 0 {
		return Release{}, false
	}
	i, in := m.cal.Window(nowNs, m.flattenNs, m.afterNs)
	if !in || m.cal.at[i] == m.done {
		return Release{}, false
	}
	m.done = m.cal.at[i]
	return m.cal.Release(i), true
}

// State returns the monitor's state for a snapshot.
func (m *BlackoutMonitor) State() BlackoutState { return BlackoutState{FlattenedForNs: m.done} }

// RestoreState puts the monitor back in st.
func (m *BlackoutMonitor) RestoreState(st BlackoutState) error {
	if st.FlattenedForNs < 0 {
		return fmt.Errorf("limits: restore blackout: %d: want ≥ 0", st.FlattenedForNs)
	}
	m.done = st.FlattenedForNs
	return nil
}
