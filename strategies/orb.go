// orb.go: the opening range breakout engine.

package strategies

import (
	"fmt"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

// ORBConfig is the opening range breakout. Every number of DESIGN.md is a
// field; DefaultORBConfig gives DESIGN's defaults.
type ORBConfig struct {
	Scale
	RangeFrom    HM      `toml:"range_from"`     // opening range window start, ET (09:30)
	RangeTo      HM      `toml:"range_to"`       // window end, exclusive, ET (10:00)
	ArmFrom      HM      `toml:"arm_from"`       // first 5-min bar that may trigger starts at or after this (10:00)
	ArmUntil     HM      `toml:"arm_until"`      // last 5-min bar that may trigger ends at or before this (11:30)
	NoEntryAfter HM      `toml:"no_entry_after"` // no entries at or after this time, ET (15:45)
	VolumeMult   float64 `toml:"volume_mult"`    // breakout bar volume > this × the volume baseline (1.5)
	// VolumeBaseline is what the breakout bar's volume is compared with:
	// "time_of_day" (default; relative volume as traders read it) the mean
	// volume of the same 5-min slot over the last VolumeSessions prior
	// sessions, falling back to last_bars while there are none (a desk's
	// first session, a worker restarted mid-day); "last_bars" the mean of the
	// last VolumeBars completed 5-min bars; "session_mean" the mean of the
	// session's completed 5-min bars (DESIGN's first rule: it includes the
	// heavy open, so a breakout at 10:00–11:30 almost never clears 1.5×).
	VolumeBaseline   string  `toml:"volume_baseline"`
	VolumeBars       int     `toml:"volume_bars"`        // last_bars: how many 5-min bars (3 = the last 15 minutes)
	VolumeSessions   int     `toml:"volume_sessions"`    // time_of_day: how many prior sessions (10)
	EntryOffsetTicks int64   `toml:"entry_offset_ticks"` // stop trigger beyond the bar's high/low (1)
	LimitOffsetTicks int64   `toml:"limit_offset_ticks"` // stop-limit's limit beyond the trigger (2)
	CancelAfterMin   int     `toml:"cancel_after_min"`   // unfilled entry cancelled after (10)
	MaxStopTicks     int64   `toml:"max_stop_ticks"`     // skip if the stop (range mid) is farther from the entry (40)
	MinTargetTicks   int64   `toml:"min_target_ticks"`   // target at least this far from the entry (8)
	RoundTicks       int64   `toml:"round_ticks"`        // round numbers are multiples of this (100 = 25 points)
	ValueAreaPct     float64 `toml:"value_area_pct"`     // value area share of volume (0.70)
	HVNMinFrac       float64 `toml:"hvn_min_frac"`       // a high-volume node has ≥ this × POC volume (0.5)
	HVNRadiusTicks   int     `toml:"hvn_radius_ticks"`   // and is the peak of ± this many ticks (4)
}

// DefaultORBConfig returns DESIGN.md's ORB defaults.
func DefaultORBConfig() ORBConfig {
	return ORBConfig{
		Scale:     DefaultScale(),
		RangeFrom: 9*60 + 30, RangeTo: 10 * 60, ArmFrom: 10 * 60, ArmUntil: 11*60 + 30, NoEntryAfter: 15*60 + 45,
		VolumeMult: 1.5, VolumeBaseline: VolumeTimeOfDay, VolumeBars: 3, VolumeSessions: 10, EntryOffsetTicks: 1, LimitOffsetTicks: 2, CancelAfterMin: 10,
		MaxStopTicks: 40, MinTargetTicks: 8, RoundTicks: 100, ValueAreaPct: 0.70, HVNMinFrac: 0.5, HVNRadiusTicks: 4,
	}
}

// The ORB's volume baselines (ORBConfig.VolumeBaseline).
const (
	VolumeLastBars    = "last_bars"
	VolumeTimeOfDay   = "time_of_day"
	VolumeSessionMean = "session_mean"
)

// Validate refuses a config no engine could run with.
func (c ORBConfig) Validate() error {
	if err := c.Scale.validate("orb"); err != nil {
		return err
	}
	switch {
	case c.RangeTo <= c.RangeFrom || c.ArmUntil <= c.ArmFrom:
		return fmt.Errorf("strategies: orb: range_from < range_to and arm_from < arm_until required")
	case c.VolumeMult <= 0, c.CancelAfterMin < 1, c.MaxStopTicks < 1, c.MinTargetTicks < 1, c.RoundTicks < 1:
		return fmt.Errorf("strategies: orb: volume_mult, cancel_after_min, max_stop_ticks, min_target_ticks and round_ticks must be > 0")
	case c.VolumeBaseline != VolumeLastBars && c.VolumeBaseline != VolumeTimeOfDay && c.VolumeBaseline != VolumeSessionMean:
		return fmt.Errorf("strategies: orb: volume_baseline %q: want %q, %q or %q", c.VolumeBaseline, VolumeLastBars, VolumeTimeOfDay, VolumeSessionMean)
	case c.VolumeBars < 1 || c.VolumeSessions < 1:
		return fmt.Errorf("strategies: orb: volume_bars and volume_sessions must be ≥ 1")
	case c.EntryOffsetTicks < 0 || c.LimitOffsetTicks < 0:
		return fmt.Errorf("strategies: orb: entry and limit offsets must be ≥ 0")
	case c.ValueAreaPct <= 0 || c.ValueAreaPct > 1 || c.HVNMinFrac < 0 || c.HVNRadiusTicks < 1:
		return fmt.Errorf("strategies: orb: value_area_pct in (0,1], hvn_min_frac ≥ 0, hvn_radius_ticks ≥ 1 required")
	}
	return nil
}

// ORB is the opening range breakout engine ("orb").
type ORB struct {
	cfg                        ORBConfig
	ind                        *Indicators
	emit                       func(intent.Intent)
	rng                        OpeningRange
	armFrom, armUntil, noEntry int64
	triedLong, triedShort      bool
	book                       book
}

// NewORB returns an ORB engine; the config should have passed Validate.
func NewORB(cfg ORBConfig) *ORB { return &ORB{cfg: cfg} }

// Name is "orb".
func (o *ORB) Name() string { return "orb" }

// Attach implements Engine.
func (o *ORB) Attach(ind *Indicators, emit func(intent.Intent)) { o.ind, o.emit = ind, emit }

// OnSessionStart implements Engine.
func (o *ORB) OnSessionStart(s market.Session) {
	o.rng.Reset(o.ind.At(o.cfg.RangeFrom), o.ind.At(o.cfg.RangeTo))
	o.armFrom, o.armUntil, o.noEntry = o.ind.At(o.cfg.ArmFrom), o.ind.At(o.cfg.ArmUntil), o.ind.At(o.cfg.NoEntryAfter)
	o.triedLong, o.triedShort = false, false
	o.book = book{}
}

// OnTrade implements Engine.
func (o *ORB) OnTrade(t market.Trade) {
	o.rng.Add(t)
	o.book.tick(t.Time)
	if o.book.pos != 0 {
		o.book.addOn(o.cfg.Scale, o.Name(), t, o.emit)
	}
}

// OnFill implements Engine.
func (o *ORB) OnFill(f Fill) { o.book.fill(f) }

// OnOrderDone implements Engine.
func (o *ORB) OnOrderDone(_ string, filled bool) { o.book.done(filled) }

// baseline is the volume the breakout bar b is compared with, and how many
// bars or sessions it was averaged over (0: none yet, no breakout).
func (o *ORB) baseline(b market.Bar) (float64, int64) {
	switch o.cfg.VolumeBaseline {
	case VolumeSessionMean:
		return o.ind.Avg5mVolume()
	case VolumeTimeOfDay:
		if avg, n := o.ind.Slot5mVolume(b.Start, o.cfg.VolumeSessions); n > 0 {
			return avg, n
		}
	}
	return o.ind.AvgLast5mVolume(o.cfg.VolumeBars)
}

// OnBar implements Engine: the breakout test on each closed 5-minute bar.
func (o *ORB) OnBar(b market.Bar) {
	if b.Period != 5*time.Minute {
		return
	}
	now := o.ind.Now
	o.book.tick(now)
	if b.Start < o.armFrom || b.End() > o.armUntil || now >= o.noEntry || !o.rng.Done(now) || !o.book.canEnter() {
		return
	}
	avg, n := o.baseline(b)
	if n == 0 || avg <= 0 || float64(b.Volume) <= o.cfg.VolumeMult*avg {
		return
	}
	ratio := float64(b.Volume) / avg
	mid := o.rng.Mid()
	switch {
	case b.Close > o.rng.High && !o.triedLong:
		entry := b.High + market.Price(o.cfg.EntryOffsetTicks)
		if int64(entry-mid) > o.cfg.MaxStopTicks {
			return
		}
		target := RoundAtLeastAbove(entry, o.cfg.RoundTicks, o.cfg.MinTargetTicks)
		kind := "rn"
		if h, ok := o.ind.Profile.NextHVNAbove(entry+market.Price(o.cfg.MinTargetTicks)-1, o.cfg.HVNMinFrac, o.cfg.HVNRadiusTicks); ok && h < target {
			target, kind = h, "hvn"
		}
		o.triedLong = true
		o.enter(market.Buy, entry, entry+market.Price(o.cfg.LimitOffsetTicks), mid, target,
			fmt.Sprintf("orb.long: 5m close %s > ORH %s, vol %.2fx, stop mid %s, target %s %s",
				b.Close, o.rng.High, ratio, mid, kind, target))
	case b.Close < o.rng.Low && !o.triedShort && b.Delta < 0:
		entry := b.Low - market.Price(o.cfg.EntryOffsetTicks)
		if int64(mid-entry) > o.cfg.MaxStopTicks {
			return
		}
		target := RoundAtLeastBelow(entry, o.cfg.RoundTicks, o.cfg.MinTargetTicks)
		kind := "rn"
		if val, _, ok := o.ind.Profile.ValueArea(o.cfg.ValueAreaPct); ok && int64(entry-val) >= o.cfg.MinTargetTicks {
			target, kind = val, "val"
		}
		o.triedShort = true
		o.enter(market.Sell, entry, entry-market.Price(o.cfg.LimitOffsetTicks), mid, target,
			fmt.Sprintf("orb.short: 5m close %s < ORL %s, vol %.2fx, delta %d, stop mid %s, target %s %s",
				b.Close, o.rng.Low, ratio, b.Delta, mid, kind, target))
	}
}

func (o *ORB) enter(side market.Side, entry, limit, stop, target market.Price, reason string) {
	in := intent.Intent{
		Kind: intent.Enter, Strategy: o.Name(), Time: o.ind.Now, Side: side, Qty: o.cfg.Qty,
		EntryType: market.StopLimitOrder, Entry: entry, Limit: limit, Stop: stop, Target: target,
		ExpireNs: int64(o.cfg.CancelAfterMin) * int64(time.Minute), Reason: reason,
	}
	o.book.entered(&in)
	o.emit(in)
}
