// drawdown.go: the lockout lines and the ladder below them.
// DrawdownMonitor watches one account's equity on every mark against
// start × (1 − pct); DeskMonitor watches the sum of the desk's accounts the
// same way. Both climb the same ladder over the day's allowance (start −
// line): a warning at warn_pct used, reduce-only at reduce_only_pct, the
// lockout at 100%. Each level is reported exactly once per session and is
// sticky until the session reset or an early unlock.

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

// Level is a rung of the ladder over the day's allowance.
type Level uint8

const (
	LevelNormal     Level = iota // less than warn_pct of the allowance used
	LevelWarning                 // warn_pct used: one alert
	LevelReduceOnly              // reduce_only_pct used: no entries or adds; every risk-reducing act allowed
	LevelLockedOut               // the whole allowance used: the lockout (invariant 5)
)

var levelNames = [...]string{"normal", "warning", "reduce_only", "locked_out"}

func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("level(%d)", uint8(l))
}

// MarshalText encodes the level by name (journal, snapshots, console).
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText decodes a level name.
func (l *Level) UnmarshalText(b []byte) error {
	for i, n := range levelNames {
		if n == string(b) {
			*l = Level(i)
			return nil
		}
	}
	return fmt.Errorf("limits: level %q: want normal, warning, reduce_only or locked_out", b)
}

// ladderLevel is the rung for used of allowance cents, in whole percent
// thresholds: used·100 ≥ pct·allowance. Equity at or below the line
// (used ≥ allowance) is the lockout whatever the percentages.
func ladderLevel(usedCents, allowanceCents, warnPct, reducePct int64) Level {
	switch {
	case usedCents >= allowanceCents:
		return LevelLockedOut
	case usedCents*100 >= reducePct*allowanceCents:
		return LevelReduceOnly
	case usedCents*100 >= warnPct*allowanceCents:
		return LevelWarning
	}
	return LevelNormal
}

func checkLadder(warnPct, reducePct int) error {
	if warnPct <= 0 || reducePct <= 0 || warnPct > 100 || reducePct > 100 || warnPct > reducePct {
		return fmt.Errorf("limits: ladder %d%% / %d%%: want 0 < warn ≤ reduce-only ≤ 100", warnPct, reducePct)
	}
	return nil
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

// LadderEvent is a new rung reached: what the desk alerts and journals.
type LadderEvent struct {
	Level          Level `json:"level"`
	TimeNs         int64 `json:"time_ns"`
	EquityCents    int64 `json:"equity_cents"`
	UsedCents      int64 `json:"used_cents"`      // start − equity
	AllowanceCents int64 `json:"allowance_cents"` // start − line: the 100% mark
	StartCents     int64 `json:"start_cents"`
	LineCents      int64 `json:"line_cents"`
}

func (e LadderEvent) String() string {
	pct := int64(0)
	if e.AllowanceCents > 0 {
		pct = e.UsedCents * 100 / e.AllowanceCents
	}
	return fmt.Sprintf("%s: %d%% of the day's allowance used (equity %s, lockout line %s)", e.Level, pct,
		decimal.New(e.EquityCents, -2).StringFixed(2), decimal.New(e.LineCents, -2).StringFixed(2))
}

// DrawdownState is a DrawdownMonitor's state for the desk's snapshots: the
// session's start and the rung reached (sticky).
type DrawdownState struct {
	StartCents int64 `json:"start_cents"`
	LineCents  int64 `json:"line_cents"` // informational: recomputed from start and the configured pct
	Level      Level `json:"level"`
}

// DrawdownMonitor is one account's lockout line and ladder. Not safe for
// concurrent use; the tick path owns it.
type DrawdownMonitor struct {
	pct        decimal.Decimal
	startCents int64
	lineCents  int64
	level      Level
	warnPct    int64
	reducePct  int64
}

// NewDrawdownMonitor starts a session at startCents with the lockout pct
// (percent; zero = DefaultDrawdownPct) and the default ladder (warning at
// 80%, reduce-only at 90% of the allowance used).
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
	return &DrawdownMonitor{pct: pct, startCents: startCents, lineCents: LineCents(startCents, pct),
		warnPct: DefaultWarnPct, reducePct: DefaultReduceOnlyPct}, nil
}

// NewAccountDrawdown is NewDrawdownMonitor with cfg's pct and ladder.
func NewAccountDrawdown(startCents int64, cfg Config) (*DrawdownMonitor, error) {
	cfg = cfg.WithDefaults()
	m, err := NewDrawdownMonitor(startCents, cfg.DrawdownPct)
	if err != nil {
		return nil, err
	}
	return m, m.SetLadder(cfg.WarnPct, cfg.ReduceOnlyPct)
}

// SetLadder sets the warning and reduce-only rungs in whole percent of the
// allowance used.
func (m *DrawdownMonitor) SetLadder(warnPct, reduceOnlyPct int) error {
	if err := checkLadder(warnPct, reduceOnlyPct); err != nil {
		return err
	}
	m.warnPct, m.reducePct = int64(warnPct), int64(reduceOnlyPct)
	return nil
}

// LineCents is the session's lockout line.
func (m *DrawdownMonitor) LineCents() int64 { return m.lineCents }

// StartCents is the session's start equity.
func (m *DrawdownMonitor) StartCents() int64 { return m.startCents }

// AllowanceTotalCents is the whole day's allowance, start − line (the
// gate's Snapshot.AllowanceTotalCents).
func (m *DrawdownMonitor) AllowanceTotalCents() int64 { return m.startCents - m.lineCents }

// Breached reports whether this session has breached (and so stays locked).
func (m *DrawdownMonitor) Breached() bool { return m.level == LevelLockedOut }

// Level is the rung reached this session.
func (m *DrawdownMonitor) Level() Level { return m.level }

// ReduceOnly reports whether the account is reduce-only (or locked out).
func (m *DrawdownMonitor) ReduceOnly() bool { return m.level >= LevelReduceOnly }

// AllowanceCents is what equity may still lose before the line (the gate's
// Snapshot.AllowanceCents); zero or less once breached.
func (m *DrawdownMonitor) AllowanceCents(equityCents int64) int64 {
	if m.Breached() {
		return min(0, equityCents-m.lineCents)
	}
	return equityCents - m.lineCents
}

// Observe checks equity (call on every mark and fill) and returns the rung
// equity has newly reached, once per rung per session: the highest one
// when several are crossed at once. Rungs are sticky: equity that comes
// back leaves the account where it was until the session reset or an
// unlock.
func (m *DrawdownMonitor) Observe(nowNs, equityCents int64) (LadderEvent, bool) {
	allow := m.startCents - m.lineCents
	used := m.startCents - equityCents
	var lvl Level
	if equityCents <= m.lineCents {
		lvl = LevelLockedOut
	} else {
		lvl = ladderLevel(used, allow, m.warnPct, m.reducePct)
	}
	if lvl <= m.level {
		return LadderEvent{}, false
	}
	m.level = lvl
	return LadderEvent{Level: lvl, TimeNs: nowNs, EquityCents: equityCents, UsedCents: used, AllowanceCents: allow,
		StartCents: m.startCents, LineCents: m.lineCents}, true
}

// Mark is Observe for callers that act only on the lockout: it returns the
// breach the first time equity is at or below the line in this session,
// and false every other time (the lower rungs are still recorded).
func (m *DrawdownMonitor) Mark(nowNs, equityCents int64) (Breach, bool) {
	ev, ok := m.Observe(nowNs, equityCents)
	if !ok || ev.Level != LevelLockedOut {
		return Breach{}, false
	}
	return Breach{TimeNs: nowNs, EquityCents: equityCents, LineCents: m.lineCents, StartCents: m.startCents}, true
}

// Reset starts a new session at startCents and clears the ladder.
func (m *DrawdownMonitor) Reset(startCents int64) {
	m.startCents, m.lineCents, m.level = startCents, LineCents(startCents, m.pct), LevelNormal
}

// Restore sets the breached flag from the journal (a lockout survives a
// restart until the session reset or an early unlock). Restore(false)
// leaves a lower rung as it is.
func (m *DrawdownMonitor) Restore(breached bool) {
	if breached {
		m.level = LevelLockedOut
	} else if m.level == LevelLockedOut {
		m.level = LevelNormal
	}
}

// Unlock clears the ladder early (the risk manager's act, with a reason
// the caller journals). A further breach is reported again.
func (m *DrawdownMonitor) Unlock() { m.level = LevelNormal }

// State returns the monitor's state for a snapshot.
func (m *DrawdownMonitor) State() DrawdownState {
	return DrawdownState{StartCents: m.startCents, LineCents: m.lineCents, Level: m.level}
}

// RestoreState puts the monitor back in st (the line follows the
// configured pct, so a changed limit applies after a restart).
func (m *DrawdownMonitor) RestoreState(st DrawdownState) error {
	if st.StartCents <= 0 || st.Level > LevelLockedOut {
		return fmt.Errorf("limits: restore drawdown: start %d cents, level %d: out of range", st.StartCents, st.Level)
	}
	m.startCents, m.lineCents, m.level = st.StartCents, LineCents(st.StartCents, m.pct), st.Level
	return nil
}

// DeskMonitor is the desk-level limit on the sum of the accounts: the line
// is Σ start × (1 − pct/100), with the same ladder as an account. Not safe
// for concurrent use.
type DeskMonitor struct {
	pct       decimal.Decimal
	start     map[string]int64
	equity    map[string]int64
	startSum  int64
	eqSum     int64
	line      int64
	level     Level
	warnPct   int64
	reducePct int64
}

// NewDeskMonitor makes a desk monitor with the desk's lockout pct (zero =
// DefaultDrawdownPct) and the default ladder.
func NewDeskMonitor(pct decimal.Decimal) (*DeskMonitor, error) {
	if pct.IsZero() {
		pct = DefaultDrawdownPct()
	}
	if pct.Sign() <= 0 || pct.GreaterThanOrEqual(decimal.NewFromInt(100)) {
		return nil, fmt.Errorf("limits: desk drawdown pct %s: want 0 < pct < 100", pct)
	}
	return &DeskMonitor{pct: pct, start: map[string]int64{}, equity: map[string]int64{},
		warnPct: DefaultWarnPct, reducePct: DefaultReduceOnlyPct}, nil
}

// SetLadder sets the desk's warning and reduce-only rungs (whole percent
// of the desk's allowance used).
func (d *DeskMonitor) SetLadder(warnPct, reduceOnlyPct int) error {
	if err := checkLadder(warnPct, reduceOnlyPct); err != nil {
		return err
	}
	d.warnPct, d.reducePct = int64(warnPct), int64(reduceOnlyPct)
	return nil
}

// SetAccount adds an account (or restarts it) at its session start equity.
func (d *DeskMonitor) SetAccount(id string, startCents int64) {
	d.startSum += startCents - d.start[id]
	d.eqSum += startCents - d.equity[id]
	d.start[id], d.equity[id] = startCents, startCents
	d.line = LineCents(d.startSum, d.pct)
}

// Observe records one account's equity and returns the rung the desk's sum
// has newly reached (once per rung per session; sticky).
func (d *DeskMonitor) Observe(nowNs int64, id string, equityCents int64) (LadderEvent, bool) {
	if old, ok := d.equity[id]; ok {
		d.eqSum += equityCents - old
		d.equity[id] = equityCents
	}
	if d.startSum == 0 || d.level == LevelLockedOut {
		return LadderEvent{}, false
	}
	allow, used := d.startSum-d.line, d.startSum-d.eqSum
	var lvl Level
	if d.eqSum <= d.line {
		lvl = LevelLockedOut
	} else {
		lvl = ladderLevel(used, allow, d.warnPct, d.reducePct)
	}
	if lvl <= d.level {
		return LadderEvent{}, false
	}
	d.level = lvl
	return LadderEvent{Level: lvl, TimeNs: nowNs, EquityCents: d.eqSum, UsedCents: used, AllowanceCents: allow,
		StartCents: d.startSum, LineCents: d.line}, true
}

// Mark is Observe for callers that act only on the lockout: the breach is
// returned once per session.
func (d *DeskMonitor) Mark(nowNs int64, id string, equityCents int64) (Breach, bool) {
	ev, ok := d.Observe(nowNs, id, equityCents)
	if !ok || ev.Level != LevelLockedOut {
		return Breach{}, false
	}
	return Breach{TimeNs: nowNs, EquityCents: d.eqSum, LineCents: d.line, StartCents: d.startSum}, true
}

// EquityCents is the desk's summed equity; LineCents its lockout line.
func (d *DeskMonitor) EquityCents() int64 { return d.eqSum }

// LineCents is the desk's lockout line.
func (d *DeskMonitor) LineCents() int64 { return d.line }

// StartCents is the desk's summed start equity.
func (d *DeskMonitor) StartCents() int64 { return d.startSum }

// Breached reports whether the desk breached this session.
func (d *DeskMonitor) Breached() bool { return d.level == LevelLockedOut }

// Level is the desk's rung this session.
func (d *DeskMonitor) Level() Level { return d.level }

// ReduceOnly reports whether the desk is reduce-only (or locked out): the
// gate's Snapshot.DeskReduceOnly.
func (d *DeskMonitor) ReduceOnly() bool { return d.level >= LevelReduceOnly }

// RestoreLevel puts the desk back on a rung after a restart (the sums
// come back from the accounts' SetAccount and Observe).
func (d *DeskMonitor) RestoreLevel(l Level) error {
	if l > LevelLockedOut {
		return fmt.Errorf("limits: restore desk level %d: out of range", l)
	}
	d.level = l
	return nil
}

// Reset starts a new session for every account at the given start
// equities (accounts not named are dropped).
func (d *DeskMonitor) Reset(starts map[string]int64) {
	clear(d.start)
	clear(d.equity)
	d.startSum, d.eqSum, d.level = 0, 0, LevelNormal
	for id, s := range starts {
		d.SetAccount(id, s)
	}
	d.line = LineCents(d.startSum, d.pct)
}
