// drawdown.go: the lockout lines. DrawdownMonitor watches one account's
// equity on every mark against start × (1 − pct); DeskMonitor watches the
// sum of the desk's accounts the same way. Each reports a breach exactly
// once per session.

package limits

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// LineCents returns the lockout line start × (1 − pct/100) in cents,
// rounded up to a whole cent (a fraction locks out a cent early, never
// late).
func LineCents(startCents int64, pct decimal.Decimal) int64 {
	hund := decimal.NewFromInt(100)
	line := decimal.NewFromInt(startCents).Mul(hund.Sub(pct)).Div(hund)
	return line.Ceil().IntPart()
}

// Breach is a lockout event: equity at or below the line.
type Breach struct {
	TimeNs      int64
	EquityCents int64
	LineCents   int64
	StartCents  int64
}

func (b Breach) String() string {
	return fmt.Sprintf("equity %s at or below the lockout line %s (start %s)",
		decimal.New(b.EquityCents, -2).StringFixed(2), decimal.New(b.LineCents, -2).StringFixed(2),
		decimal.New(b.StartCents, -2).StringFixed(2))
}

// DrawdownMonitor is one account's lockout line. Not safe for concurrent
// use; the tick path owns it.
type DrawdownMonitor struct {
	pct        decimal.Decimal
	startCents int64
	lineCents  int64
	breached   bool
}

// NewDrawdownMonitor starts a session at startCents with the lockout pct
// (percent; zero = DefaultDrawdownPct).
func NewDrawdownMonitor(startCents int64, pct decimal.Decimal) (*DrawdownMonitor, error) {
	if pct.IsZero() {
		pct = DefaultDrawdownPct()
	}
	if pct.Sign() <= 0 || pct.GreaterThanOrEqual(decimal.NewFromInt(100)) {
		return nil, fmt.Errorf("limits: drawdown pct %s: want 0 < pct < 100", pct)
	}
	if startCents <= 0 {
		return nil, fmt.Errorf("limits: start equity %d cents: want > 0", startCents)
	}
	return &DrawdownMonitor{pct: pct, startCents: startCents, lineCents: LineCents(startCents, pct)}, nil
}

// LineCents is the session's lockout line.
func (m *DrawdownMonitor) LineCents() int64 { return m.lineCents }

// StartCents is the session's start equity.
func (m *DrawdownMonitor) StartCents() int64 { return m.startCents }

// Breached reports whether this session has breached (and so stays locked).
func (m *DrawdownMonitor) Breached() bool { return m.breached }

// AllowanceCents is what equity may still lose before the line (the gate's
// Snapshot.AllowanceCents); zero or less once breached.
func (m *DrawdownMonitor) AllowanceCents(equityCents int64) int64 {
	if m.breached {
		return min(0, equityCents-m.lineCents)
	}
	return equityCents - m.lineCents
}

// Mark checks equity (call on every mark and fill). It returns the breach
// the first time equity is at or below the line in this session, and
// false every other time.
func (m *DrawdownMonitor) Mark(nowNs, equityCents int64) (Breach, bool) {
	if m.breached || equityCents > m.lineCents {
		return Breach{}, false
	}
	m.breached = true
	return Breach{TimeNs: nowNs, EquityCents: equityCents, LineCents: m.lineCents, StartCents: m.startCents}, true
}

// Reset starts a new session at startCents and clears the breach.
func (m *DrawdownMonitor) Reset(startCents int64) {
	m.startCents, m.lineCents, m.breached = startCents, LineCents(startCents, m.pct), false
}

// Restore sets the breached flag from the journal (a lockout survives a
// restart until the session reset or an early unlock).
func (m *DrawdownMonitor) Restore(breached bool) { m.breached = breached }

// Unlock clears the breach early (the risk manager's act, with a reason
// the caller journals). A further breach is reported again.
func (m *DrawdownMonitor) Unlock() { m.breached = false }

// DeskMonitor is the desk-level limit on the sum of the accounts: the line
// is Σ start × (1 − pct/100). Not safe for concurrent use.
type DeskMonitor struct {
	pct      decimal.Decimal
	start    map[string]int64
	equity   map[string]int64
	startSum int64
	eqSum    int64
	line     int64
	breached bool
}

// NewDeskMonitor makes a desk monitor with the desk's lockout pct (zero =
// DefaultDrawdownPct).
func NewDeskMonitor(pct decimal.Decimal) (*DeskMonitor, error) {
	if pct.IsZero() {
		pct = DefaultDrawdownPct()
	}
	if pct.Sign() <= 0 || pct.GreaterThanOrEqual(decimal.NewFromInt(100)) {
		return nil, fmt.Errorf("limits: desk drawdown pct %s: want 0 < pct < 100", pct)
	}
	return &DeskMonitor{pct: pct, start: map[string]int64{}, equity: map[string]int64{}}, nil
}

// SetAccount adds an account (or restarts it) at its session start equity.
func (d *DeskMonitor) SetAccount(id string, startCents int64) {
	d.startSum += startCents - d.start[id]
	d.eqSum += startCents - d.equity[id]
	d.start[id], d.equity[id] = startCents, startCents
	d.line = LineCents(d.startSum, d.pct)
}

// Mark records one account's equity and checks the desk's sum; the breach
// is returned once per session.
func (d *DeskMonitor) Mark(nowNs int64, id string, equityCents int64) (Breach, bool) {
	if old, ok := d.equity[id]; ok {
		d.eqSum += equityCents - old
		d.equity[id] = equityCents
	}
	if d.breached || d.startSum == 0 || d.eqSum > d.line {
		return Breach{}, false
	}
	d.breached = true
	return Breach{TimeNs: nowNs, EquityCents: d.eqSum, LineCents: d.line, StartCents: d.startSum}, true
}

// EquityCents is the desk's summed equity; LineCents its lockout line.
func (d *DeskMonitor) EquityCents() int64 { return d.eqSum }

// LineCents is the desk's lockout line.
func (d *DeskMonitor) LineCents() int64 { return d.line }

// Breached reports whether the desk breached this session.
func (d *DeskMonitor) Breached() bool { return d.breached }

// Reset starts a new session for every account at the given start
// equities (accounts not named are dropped).
func (d *DeskMonitor) Reset(starts map[string]int64) {
	clear(d.start)
	clear(d.equity)
	d.startSum, d.eqSum, d.breached = 0, 0, false
	for id, s := range starts {
		d.SetAccount(id, s)
	}
	d.line = LineCents(d.startSum, d.pct)
}
