// weekly.go: the weekly loss limit. The trading week starts Sunday 18:00
// New York (the Globex open); equity weekly_loss_pct below the week's start
// locks the account until the next week or a manager unlock.

package limits

import (
	"fmt"
	"time"

	"github.com/deskguard/deskguard/market"
	"github.com/shopspring/decimal"
)

// WeekStart returns the start of the trading week holding ns: the latest
// Sunday 18:00 New York at or before it (DST-correct).
func WeekStart(ns int64) int64 {
	t := time.Unix(0, ns).In(market.NewYork)
	d := t.AddDate(0, 0, -int(t.Weekday()))
	s := time.Date(d.Year(), d.Month(), d.Day(), market.GlobexOpenHM/60, 0, 0, 0, market.NewYork)
	if s.After(t) {
		d = d.AddDate(0, 0, -7)
		s = time.Date(d.Year(), d.Month(), d.Day(), market.GlobexOpenHM/60, 0, 0, 0, market.NewYork)
	}
	return s.UnixNano()
}

// nextWeek is the start of the week after the one starting at start.
func nextWeek(start int64) int64 {
	t := time.Unix(0, start).In(market.NewYork).AddDate(0, 0, 7)
	return time.Date(t.Year(), t.Month(), t.Day(), market.GlobexOpenHM/60, 0, 0, 0, market.NewYork).UnixNano()
}

// WeeklyState is a WeeklyMonitor's state for the desk's snapshots.
type WeeklyState struct {
	WeekStartNs int64 `json:"week_start_ns"`
	StartCents  int64 `json:"start_cents"`
	LineCents   int64 `json:"line_cents"`
	Breached    bool  `json:"breached"`
}

// WeeklyMonitor is one account's weekly loss line. Not safe for concurrent
// use; the tick path owns it.
type WeeklyMonitor struct {
	pct      decimal.Decimal
	week     int64 // start of the current week, ns
	next     int64 // start of the next week, ns
	start    int64
	line     int64
	breached bool
}

// NewWeeklyMonitor starts the week holding nowNs at equityCents; nil, nil
// when cfg's weekly_loss_pct is zero (off).
func NewWeeklyMonitor(cfg Config, nowNs, equityCents int64) (*WeeklyMonitor, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validateRules(); err != nil {
		return nil, err
	}
	if cfg.WeeklyLossPct.IsZero() {
		return nil, nil
	}
	if equityCents <= 0 {
		return nil, fmt.Errorf("limits: weekly: start equity %d cents: want > 0", equityCents)
	}
	m := &WeeklyMonitor{pct: cfg.WeeklyLossPct}
	m.roll(nowNs, equityCents)
	return m, nil
}

func (m *WeeklyMonitor) roll(nowNs, equityCents int64) {
	m.week = WeekStart(nowNs)
	m.next = nextWeek(m.week)
	m.start, m.line, m.breached = equityCents, LineCents(equityCents, m.pct), false
}

// Mark checks equity: a mark in a later week starts that week at this
// equity (and lifts a breach); a breach is reported once per week.
func (m *WeeklyMonitor) Mark(nowNs, equityCents int64) (Breach, bool) {
	if nowNs >= m.next {
		m.roll(nowNs, equityCents)
	}
	if m.breached || equityCents > m.line {
		return Breach{}, false
	}
	m.breached = true
	return Breach{TimeNs: nowNs, EquityCents: equityCents, LineCents: m.line, StartCents: m.start}, true
}

// Breached reports whether this week's line was breached.
func (m *WeeklyMonitor) Breached() bool { return m.breached }

// BreachedAt reports whether the account is locked at nowNs: breached in
// this week (a breach lifts at the next week's start even before a mark).
func (m *WeeklyMonitor) BreachedAt(nowNs int64) bool { return m.breached && nowNs < m.next }

// LineCents is this week's line.
func (m *WeeklyMonitor) LineCents() int64 { return m.line }

// StartCents is this week's start equity.
func (m *WeeklyMonitor) StartCents() int64 { return m.start }

// WeekStartNs is the start of the current week.
func (m *WeeklyMonitor) WeekStartNs() int64 { return m.week }

// AllowanceCents is what equity may still lose this week (the gate's
// Snapshot.WeeklyAllowanceCents); zero or less once breached.
func (m *WeeklyMonitor) AllowanceCents(equityCents int64) int64 {
	if m.breached {
		return min(0, equityCents-m.line)
	}
	return equityCents - m.line
}

// Unlock is the risk manager's early unlock (journaled with a reason by the
// caller): the week's allowance starts again from equityCents.
func (m *WeeklyMonitor) Unlock(equityCents int64) {
	m.start, m.line, m.breached = equityCents, LineCents(equityCents, m.pct), false
}

// State returns the monitor's state for a snapshot.
func (m *WeeklyMonitor) State() WeeklyState {
	return WeeklyState{WeekStartNs: m.week, StartCents: m.start, LineCents: m.line, Breached: m.breached}
}

// RestoreState puts the monitor back in st; a state from an earlier week
// rolls at the next mark as a live one would.
func (m *WeeklyMonitor) RestoreState(st WeeklyState) error {
	if st.StartCents <= 0 || WeekStart(st.WeekStartNs) != st.WeekStartNs {
		return fmt.Errorf("limits: restore weekly: start %d cents, week %d: not a week start", st.StartCents, st.WeekStartNs)
	}
	m.week, m.next = st.WeekStartNs, nextWeek(st.WeekStartNs)
	m.start, m.line, m.breached = st.StartCents, LineCents(st.StartCents, m.pct), st.Breached
	return nil
}
