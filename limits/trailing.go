// trailing.go: the prop-firm trailing drawdown. The line sits a fixed
// amount below the account's peak and only ever rises: intraday it trails
// the peak equity including unrealized PnL on every mark (as Apex and
// Tradeify describe theirs), end-of-day it trails the highest session-end
// balance (Topstep's Maximum Loss Limit, "calculated from your account
// balance high at the end of the trading day" and fixed once it reaches the
// initial balance: help.topstep.com/en/articles/8284204). Equity at or
// below the line is a breach that locks the account until the risk manager
// resets it with a reason. The line persists across sessions.

package limits

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// cents converts whole-cent dollars to cents.
func cents(d decimal.Decimal) int64 { return d.Shift(2).Round(0).IntPart() }

// TrailingState is a TrailingMonitor's state for the desk's snapshots
// (the line survives restarts and session resets).
type TrailingState struct {
	Mode         string `json:"mode"`
	InitialCents int64  `json:"initial_cents"` // the account's initial balance (the freeze is relative to it)
	PeakCents    int64  `json:"peak_cents"`
	LineCents    int64  `json:"line_cents"`
	Breached     bool   `json:"breached"`
	BreachNs     int64  `json:"breach_ns,omitempty"`
}

// TrailingMonitor is one account's trailing line. Not safe for concurrent
// use; the tick path owns it.
type TrailingMonitor struct {
	mode      string
	amount    int64 // cents below the peak
	freeze    int64 // the line never rises above this (with hasFreeze)
	freezeOff int64 // freeze − initial
	initial   int64
	peak      int64
	line      int64
	breached  bool
	breachNs  int64
	hasFreeze bool
}

// NewTrailingMonitor starts a trailing line for an account whose initial
// balance is initialCents, from cfg (defaults applied). It returns nil,
// nil when cfg's trailing_mode is off.
func NewTrailingMonitor(cfg Config, initialCents int64) (*TrailingMonitor, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validateRules(); err != nil {
		return nil, err
	}
	if cfg.TrailingMode == TrailingOff {
		return nil, nil
	}
	if initialCents <= 0 {
		return nil, fmt.Errorf("limits: trailing: initial balance %d cents: want > 0", initialCents)
	}
	m := &TrailingMonitor{mode: cfg.TrailingMode, amount: cents(cfg.TrailingDrawdown), initial: initialCents, peak: initialCents}
	if cfg.TrailingFreezeAt != nil {
		m.hasFreeze, m.freezeOff = true, cents(*cfg.TrailingFreezeAt)
		m.freeze = initialCents + m.freezeOff
	}
	m.line = m.candidate()
	return m, nil
}

func (m *TrailingMonitor) candidate() int64 {
	c := m.peak - m.amount
	if m.hasFreeze && c > m.freeze {
		c = m.freeze
	}
	return c
}

// raise moves the line up to what the peak allows; never down.
func (m *TrailingMonitor) raise() {
	if c := m.candidate(); c > m.line {
		m.line = c
	}
}

// Mode is intraday or eod.
func (m *TrailingMonitor) Mode() string { return m.mode }

// LineCents is the trailing line.
func (m *TrailingMonitor) LineCents() int64 { return m.line }

// PeakCents is the peak the line trails.
func (m *TrailingMonitor) PeakCents() int64 { return m.peak }

// Breached reports whether the line was breached (until a manager reset).
func (m *TrailingMonitor) Breached() bool { return m.breached }

// AllowanceCents is what equity may still lose before the line (the
// gate's Snapshot.TrailingAllowanceCents); zero or less once breached.
func (m *TrailingMonitor) AllowanceCents(equityCents int64) int64 {
	if m.breached {
		return min(0, equityCents-m.line)
	}
	return equityCents - m.line
}

// Mark checks equity (every mark and fill). Intraday mode first raises the
// peak; either mode then reports a breach, once, when equity is at or
// below the line.
func (m *TrailingMonitor) Mark(nowNs, equityCents int64) (Breach, bool) {
	if m.mode == TrailingIntraday && equityCents > m.peak {
		m.peak = equityCents
		m.raise()
	}
	if m.breached || equityCents > m.line {
		return Breach{}, false
	}
	m.breached, m.breachNs = true, nowNs
	return Breach{TimeNs: nowNs, EquityCents: equityCents, LineCents: m.line, StartCents: m.peak}, true
}

// SessionEnd records the balance at the session's end (the desk calls it
// before the session reset): end-of-day mode raises the peak to it;
// intraday mode's peak already saw it.
func (m *TrailingMonitor) SessionEnd(balanceCents int64) {
	if balanceCents > m.peak {
		m.peak = balanceCents
		m.raise()
	}
}

// Reset is the risk manager's reset after a breach (journaled with a
// reason by the caller): the line starts again below equityCents. It is the
// one act that can lower the line.
func (m *TrailingMonitor) Reset(equityCents int64) {
	m.peak, m.breached, m.breachNs = equityCents, false, 0
	m.line = m.candidate()
}

// State returns the monitor's state for a snapshot.
func (m *TrailingMonitor) State() TrailingState {
	return TrailingState{Mode: m.mode, InitialCents: m.initial, PeakCents: m.peak, LineCents: m.line, Breached: m.breached, BreachNs: m.breachNs}
}

// RestoreState puts the monitor back in st. The line never comes back
// lower than st's (a config change can raise it, never lower it).
func (m *TrailingMonitor) RestoreState(st TrailingState) error {
	if st.InitialCents <= 0 || st.PeakCents <= 0 {
		return fmt.Errorf("limits: restore trailing: initial %d / peak %d cents: want > 0", st.InitialCents, st.PeakCents)
	}
	m.initial, m.peak, m.breached, m.breachNs = st.InitialCents, st.PeakCents, st.Breached, st.BreachNs
	m.freeze = m.initial + m.freezeOff
	m.line = max(st.LineCents, m.candidate())
	return nil
}
