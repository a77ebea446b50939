// monitors_test.go: the monitors behind the new rules, each at its
// threshold: the ladder's rungs (account and desk), the trailing line in
// both modes and its freeze, the weekly line and its Sunday 18:00 roll,
// the scaling tiers, the sent-order record and the blackout flatten.

package limits

import (
	"testing"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
	"github.com/shopspring/decimal"
)

// TestLadderRungs: a $50,000 account at 1.5% has $750 of allowance; the
// warning is at $600 used, reduce-only at $675, the lockout at $750, each
// reported once, sticky, and cleared by the reset.
func TestLadderRungs(t *testing.T) {
	m, err := NewDrawdownMonitor(50000_00, decimal.Zero)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		equity int64
		want   Level // new rung, or LevelNormal for none
		level  Level
	}{
		{50000_00 - 599_99, LevelNormal, LevelNormal},
		{50000_00 - 600_00, LevelWarning, LevelWarning},
		{50000_00 - 600_00, LevelNormal, LevelWarning}, // once
		{50000_00 - 674_99, LevelNormal, LevelWarning},
		{50000_00 - 675_00, LevelReduceOnly, LevelReduceOnly},
		{50000_00, LevelNormal, LevelReduceOnly}, // sticky: back to flat on the day
		{50000_00 - 749_99, LevelNormal, LevelReduceOnly},
		{50000_00 - 750_00, LevelLockedOut, LevelLockedOut},
		{40000_00, LevelNormal, LevelLockedOut},
	}
	for i, st := range steps {
		ev, ok := m.Observe(int64(i), st.equity)
		if ok != (st.want != LevelNormal) || ok && ev.Level != st.want || m.Level() != st.level {
			t.Fatalf("step %d equity %d: event %v %v, level %v; want %v, level %v", i, st.equity, ev, ok, m.Level(), st.want, st.level)
		}
		if ok && (ev.UsedCents != 50000_00-st.equity || ev.AllowanceCents != 750_00) {
			t.Fatalf("step %d: event %+v", i, ev)
		}
	}
	if !m.Breached() || !m.ReduceOnly() {
		t.Fatal("lockout not reported by Breached/ReduceOnly")
	}
	m.Reset(50000_00)
	if m.Level() != LevelNormal {
		t.Fatal("reset kept the rung")
	}
	// Jumping straight past every rung reports the highest once, and Mark
	// still reports the breach.
	if b, ok := m.Mark(1, 49000_00); !ok || b.LineCents != 49250_00 {
		t.Fatalf("jump: %+v %v", b, ok)
	}
	m.Reset(50000_00)
	if _, ok := m.Mark(1, 50000_00-675_00); ok || !m.ReduceOnly() {
		t.Fatal("Mark reported a breach at reduce-only, or did not record the rung")
	}
	if err := m.SetLadder(90, 80); err == nil {
		t.Fatal("warn above reduce-only accepted")
	}
	if err := m.SetLadder(50, 60); err != nil {
		t.Fatal(err)
	}
	m.Reset(50000_00)
	if ev, ok := m.Observe(1, 50000_00-450_00); !ok || ev.Level != LevelReduceOnly {
		t.Fatalf("60%%: %+v %v", ev, ok)
	}
}

// TestDeskLadder: the desk's sum climbs the same rungs.
func TestDeskLadder(t *testing.T) {
	d, err := NewDeskMonitor(decimal.RequireFromString("1"))
	if err != nil {
		t.Fatal(err)
	}
	d.SetAccount("a", 10000_00)
	d.SetAccount("b", 20000_00) // allowance 300.00: warn 240, reduce-only 270
	if _, ok := d.Observe(1, "a", 10000_00-239_99); ok {
		t.Fatal("warning a cent early")
	}
	if ev, ok := d.Observe(2, "b", 20000_00-1); !ok || ev.Level != LevelWarning || ev.UsedCents != 240_00 {
		t.Fatalf("warning: %+v %v", ev, ok)
	}
	if ev, ok := d.Observe(3, "a", 10000_00-269_99); !ok || ev.Level != LevelReduceOnly || !d.ReduceOnly() {
		t.Fatalf("reduce-only: %+v %v", ev, ok)
	}
	if _, ok := d.Observe(4, "a", 10000_00); ok || !d.ReduceOnly() {
		t.Fatal("desk reduce-only not sticky")
	}
	if b, ok := d.Mark(5, "a", 10000_00-299_99); !ok || b.EquityCents != 29700_00 {
		t.Fatalf("desk breach: %+v %v", b, ok)
	}
	if err := d.RestoreLevel(LevelReduceOnly); err != nil || !d.ReduceOnly() || d.Breached() {
		t.Fatal("restore level")
	}
}

func TestTrailingIntraday(t *testing.T) {
	m, err := NewTrailingMonitor(Config{TrailingMode: TrailingIntraday, TrailingDrawdown: dollars("2000")}, 50000_00)
	if err != nil || m == nil {
		t.Fatal(m, err)
	}
	if m.LineCents() != 48000_00 {
		t.Fatalf("line %d", m.LineCents())
	}
	m.Mark(1, 50500_00) // unrealized peak counts
	if m.LineCents() != 48500_00 || m.PeakCents() != 50500_00 {
		t.Fatalf("line %d peak %d", m.LineCents(), m.PeakCents())
	}
	m.Mark(2, 49000_00)
	if m.LineCents() != 48500_00 {
		t.Fatal("the line moved down")
	}
	if _, ok := m.Mark(3, 48500_01); ok {
		t.Fatal("breach a cent above the line")
	}
	if a := m.AllowanceCents(48500_01); a != 1 {
		t.Fatalf("allowance %d", a)
	}
	b, ok := m.Mark(4, 48500_00)
	if !ok || b.LineCents != 48500_00 || !m.Breached() {
		t.Fatalf("no breach at the line: %+v %v", b, ok)
	}
	if _, ok := m.Mark(5, 40000_00); ok {
		t.Fatal("second breach")
	}
	if m.AllowanceCents(60000_00) > 0 {
		t.Fatal("allowance after a breach")
	}
	m.Reset(48000_00) // the manager's reset: the one act that lowers the line
	if m.Breached() || m.LineCents() != 46000_00 {
		t.Fatalf("reset: %v %d", m.Breached(), m.LineCents())
	}
}

func TestTrailingEODAndFreeze(t *testing.T) {
	zero := decimal.Zero
	m, err := NewTrailingMonitor(Config{TrailingMode: TrailingEOD, TrailingDrawdown: dollars("2000"), TrailingFreezeAt: &zero}, 50000_00)
	if err != nil {
		t.Fatal(err)
	}
	m.Mark(1, 53000_00) // intraday peaks do not move an end-of-day line
	if m.LineCents() != 48000_00 {
		t.Fatalf("eod line moved intraday: %d", m.LineCents())
	}
	m.SessionEnd(50500_00) // Topstep's example: $500 up → line 48,500
	if m.LineCents() != 48500_00 {
		t.Fatalf("line %d", m.LineCents())
	}
	m.SessionEnd(50000_00)
	if m.LineCents() != 48500_00 {
		t.Fatal("a lower close lowered the line")
	}
	m.SessionEnd(52500_00) // → 50,500, frozen at the initial 50,000
	if m.LineCents() != 50000_00 {
		t.Fatalf("freeze: line %d", m.LineCents())
	}
	m.SessionEnd(60000_00)
	if m.LineCents() != 50000_00 {
		t.Fatalf("frozen line moved: %d", m.LineCents())
	}
	if off, _ := NewTrailingMonitor(Config{}, 50000_00); off != nil {
		t.Fatal("off by default, yet a monitor")
	}
	if _, err := NewTrailingMonitor(Config{TrailingMode: TrailingEOD}, 50000_00); err == nil {
		t.Fatal("eod without an amount accepted")
	}
}

func TestWeeklyLine(t *testing.T) {
	// Tuesday 2026-03-10; the week started Sunday 2026-03-08 18:00 EDT (the
	// DST change was that morning).
	sun := time.Date(2026, 3, 8, 18, 0, 0, 0, market.NewYork).UnixNano()
	if w := WeekStart(et(10, 30, 0, 0)); w != sun {
		t.Fatalf("week start %v", time.Unix(0, w).In(market.NewYork))
	}
	if w := WeekStart(sun); w != sun {
		t.Fatal("Sunday 18:00 is not its own week's start")
	}
	if w := WeekStart(sun - 1); w != time.Date(2026, 3, 1, 18, 0, 0, 0, market.NewYork).UnixNano() {
		t.Fatalf("one ns before: %v", time.Unix(0, w).In(market.NewYork))
	}
	m, err := NewWeeklyMonitor(weeklyOn, et(10, 30, 0, 0), 50000_00) // 3%: line 48,500
	if err != nil || m == nil {
		t.Fatal(m, err)
	}
	if _, ok := m.Mark(et(11, 0, 0, 0), 48500_01); ok {
		t.Fatal("breach a cent above")
	}
	if _, ok := m.Mark(et(11, 0, 0, 1), 48500_00); !ok || !m.BreachedAt(et(12, 0, 0, 0)) {
		t.Fatal("no breach at the line")
	}
	next := time.Date(2026, 3, 15, 18, 0, 0, 0, market.NewYork).UnixNano()
	if !m.BreachedAt(next-1) || m.BreachedAt(next) {
		t.Fatal("the breach does not end exactly at the next week")
	}
	if _, ok := m.Mark(next, 48000_00); ok || m.Breached() || m.StartCents() != 48000_00 {
		t.Fatalf("roll: breached %v start %d", m.Breached(), m.StartCents())
	}
	m.Mark(next+1, 46560_00)
	m.Unlock(46560_00)
	if m.Breached() || m.LineCents() != LineCents(46560_00, dollars("3")) {
		t.Fatal("unlock")
	}
}

func TestScalingTiers(t *testing.T) {
	p, err := NewScalingMonitor(scalingOn, 50000_00) // +1000 → 2 units, +2500 → 3
	if err != nil || p == nil {
		t.Fatal(p, err)
	}
	if p.Units() != 1 || p.MaxPosition() != 5 {
		t.Fatalf("start %d", p.Units())
	}
	if _, ch := p.Mark(60000_00); ch || p.Units() != 1 {
		t.Fatal("earned a unit intraday")
	}
	if u, ch := p.SessionEnd(50999_99); ch || u != 1 {
		t.Fatal("a unit a cent early")
	}
	if u, ch := p.SessionEnd(51000_00); !ch || u != 2 || p.MaxPosition() != 10 {
		t.Fatalf("tier 2: %d %v", u, ch)
	}
	if u, ch := p.SessionEnd(52500_00); !ch || u != 3 {
		t.Fatalf("tier 3: %d", u)
	}
	if u, ch := p.Mark(52499_99); !ch || u != 2 {
		t.Fatalf("lost a unit: %d %v", u, ch)
	}
	if u, ch := p.Mark(49000_00); !ch || u != 1 {
		t.Fatalf("lost to one: %d", u)
	}
	if _, err := NewScalingMonitor(Config{ScalingTiers: []decimal.Decimal{dollars("2"), dollars("1")}}, 1); err == nil {
		t.Fatal("descending tiers accepted")
	}
}

func TestActivityRecord(t *testing.T) {
	a := NewActivity()
	in := intent.Intent{Kind: intent.Enter, Side: market.Buy, Qty: 2, EntryType: market.LimitOrder, Entry: 100}
	a.RecordSent(10, &in)
	a.RecordSent(11, &intent.Intent{Kind: intent.MoveStop})
	if a.OrdersToday() != 2 {
		t.Fatalf("orders %d", a.OrdersToday())
	}
	if age, dup := a.Duplicate(15, 10, &in); !dup || age != 5 {
		t.Fatalf("dup %d %v", age, dup)
	}
	if _, dup := a.Duplicate(20, 10, &in); dup {
		t.Fatal("a duplicate exactly the window old")
	}
	if _, dup := a.Duplicate(9, 10, &in); dup {
		t.Fatal("a duplicate from the future")
	}
	for i := range 40 { // the ring wraps
		x := in
		x.Entry = market.Price(200 + i)
		a.RecordSent(int64(20+i), &x)
	}
	if _, dup := a.Duplicate(60, 100, &in); dup {
		t.Fatal("an entry pushed out of the ring is still remembered")
	}
	st := a.State()
	if len(st.Recent) != recentEntries || st.Recent[0].TimeNs != 20+40-recentEntries {
		t.Fatalf("state %+v", st.Recent[0])
	}
	b, err := RestoreActivity(st)
	if err != nil || b.OrdersToday() != a.OrdersToday() {
		t.Fatal(err)
	}
	x := in
	x.Entry = 239
	if _, dup := b.Duplicate(60, 100, &x); !dup {
		t.Fatal("restored ring lost the latest entry")
	}
	// A clock that stepped back: the newest entry is in the future, an
	// older-recorded one is inside the window; both are still seen.
	c := NewActivity()
	c.RecordSent(1000, &x)
	c.RecordSent(50, &in)
	if _, dup := c.Duplicate(55, 10, &in); !dup {
		t.Fatal("an entry behind a future one was missed")
	}
	if _, dup := c.Duplicate(2000, 10, &in); dup {
		t.Fatal("stale entries found")
	}
	a.Reset()
	if a.OrdersToday() != 0 {
		t.Fatal("reset")
	}
	if _, err := RestoreActivity(ActivityState{Recent: []SentEntry{{TimeNs: 2}, {TimeNs: 1}}}); err == nil {
		t.Fatal("out-of-order state accepted")
	}
}

func TestBlackoutFlattenOnce(t *testing.T) {
	cal := testCalendar()
	m := NewBlackoutMonitor(Config{BlackoutFlatten: 2 * time.Minute}, cal)
	if _, ok := m.FlattenDue(et(13, 57, 59, 999_999_999)); ok {
		t.Fatal("flatten a ns early")
	}
	r, ok := m.FlattenDue(et(13, 58, 0, 0))
	if !ok || r.TimeNs != fomcNs || r.Name != "FOMC statement" {
		t.Fatalf("flatten: %+v %v", r, ok)
	}
	if _, ok := m.FlattenDue(et(13, 59, 0, 0)); ok {
		t.Fatal("flattened twice for one release")
	}
	// A desk restarted inside the window with the state: not again;
	// without it: once.
	m2 := NewBlackoutMonitor(Config{BlackoutFlatten: 2 * time.Minute}, cal)
	if err := m2.RestoreState(m.State()); err != nil {
		t.Fatal(err)
	}
	if _, ok := m2.FlattenDue(et(14, 1, 0, 0)); ok {
		t.Fatal("restored monitor flattened again")
	}
	m3 := NewBlackoutMonitor(Config{BlackoutFlatten: 2 * time.Minute}, cal)
	if _, ok := m3.FlattenDue(et(14, 4, 59, 999_999_999)); !ok {
		t.Fatal("a desk back inside the window did not flatten")
	}
	if _, ok := m3.FlattenDue(et(14, 5, 0, 0)); ok {
		t.Fatal("flatten after the window")
	}
	if _, ok := NewBlackoutMonitor(Config{}, cal).FlattenDue(fomcNs); ok {
		t.Fatal("flatten without blackout_flatten")
	}
}

func TestCalendarMergesAndFinds(t *testing.T) {
	c := NewCalendar([]Release{{TimeNs: 30, Name: "b"}, {TimeNs: 10, Name: "a"}, {TimeNs: 30, Name: "c"}, {TimeNs: 30, Name: "b"}})
	if c.Len() != 2 || c.Release(1).Name != "b + c" {
		t.Fatalf("%+v", c.Releases())
	}
	for _, tc := range []struct {
		now  int64
		want int
	}{{4, -1}, {5, 0}, {14, 0}, {15, -1}, {24, -1}, {25, 1}, {34, 1}, {35, -1}} {
		i, in := c.Window(tc.now, 5, 5)
		if (tc.want >= 0) != in || in && i != tc.want {
			t.Errorf("now %d: %d %v, want %d", tc.now, i, in, tc.want)
		}
	}
	if r, ok := c.Next(10); !ok || r.TimeNs != 10 {
		t.Fatal("next at a release")
	}
	if _, ok := c.Next(31); ok {
		t.Fatal("next past the end")
	}
	var nilCal *Calendar
	if _, in := nilCal.Window(1, 1, 1); in {
		t.Fatal("nil calendar")
	}
}

func TestConfigRulesValidateAndMerge(t *testing.T) {
	neg := dollars("-1")
	bad := []Config{
		{WarnPct: 95, ReduceOnlyPct: 90},
		{ReduceOnlyPct: 101},
		{TrailingMode: "weekly"},
		{TrailingMode: TrailingIntraday},
		{TrailingMode: TrailingIntraday, TrailingDrawdown: dollars("0.001")},
		{TrailingMode: TrailingEOD, TrailingDrawdown: dollars("100"), TrailingFreezeAt: &neg},
		{WeeklyLossPct: dollars("100")},
		{DailyTradeLimit: -1},
		{LossCooldown: -1},
		{SelfMatch: "maybe"},
		{BlackoutFlatten: 10 * time.Minute}, // beyond the 5 min before
		{ScalingUnit: 25},                   // over max position 20
		{ScalingTiers: []decimal.Decimal{dollars("1"), dollars("2"), dollars("3"), dollars("4"), dollars("5"),
			dollars("6"), dollars("7"), dollars("8"), dollars("9"), dollars("10")}}, // 11 units
		{ScalingTiers: []decimal.Decimal{dollars("0")}},
	}
	for _, c := range bad {
		if _, err := NewGate(c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
	fz := dollars("100")
	m := Config{DailyTradeLimit: 5, ScalingTiers: []decimal.Decimal{dollars("1000")}}.Merge(Config{
		LossStreak: 2, TrailingMode: TrailingEOD, TrailingDrawdown: dollars("1500"), TrailingFreezeAt: &fz,
		BlackoutBefore: time.Minute, SelfMatch: SelfMatchOff, ScalingTiers: []decimal.Decimal{dollars("500"), dollars("900")},
	}).WithDefaults()
	if m.DailyTradeLimit != 5 || m.LossStreak != 2 || m.TrailingMode != TrailingEOD || !m.TrailingDrawdown.Equal(dollars("1500")) ||
		m.TrailingFreezeAt == nil || !m.TrailingFreezeAt.Equal(fz) || m.BlackoutBefore != time.Minute || m.SelfMatch != SelfMatchOff ||
		len(m.ScalingTiers) != 2 || m.WarnPct != DefaultWarnPct || m.DailyOrderLimit != DefaultDailyOrderLimit {
		t.Errorf("merge %+v", m)
	}
	fz2 := dollars("1")
	m2 := Config{TrailingFreezeAt: &fz2}.Merge(Config{})
	*m2.TrailingFreezeAt = dollars("5")
	if !fz2.Equal(dollars("1")) {
		t.Error("merge shares the freeze pointer with its input")
	}
	if err := m.Validate(); err == nil { // blackout_flatten 0 ≤ before 1m: valid
	} else {
		t.Error(err)
	}
}
