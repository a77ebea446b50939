// delta.go: the cumulative delta divergence engine.

package strategies

import (
	"fmt"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

// DeltaConfig is cumulative delta divergence. DefaultDeltaConfig gives
// DESIGN.md's defaults; CancelAfterMin is not in DESIGN.md (see docs/strategies.md).
type DeltaConfig struct {
	Scale
	NoEntryAfter   HM    `toml:"no_entry_after"`   // no entries at or after this, ET (15:45)
	SwingBars      int   `toml:"swing_bars"`       // bars each side of a swing (2)
	LookbackMin    int   `toml:"lookback_min"`     // the swing must be this recent, minutes (30)
	StopTicks      int64 `toml:"stop_ticks"`       // stop beyond the new extreme (2)
	MaxRiskTicks   int64 `toml:"max_risk_ticks"`   // skip when entry to stop is more (8)
	TargetTicks    int64 `toml:"target_ticks"`     // target distance from the entry (8)
	CancelAfterMin int   `toml:"cancel_after_min"` // unfilled entry cancelled after (2)
}

// DefaultDeltaConfig returns DESIGN.md's delta divergence defaults.
func DefaultDeltaConfig() DeltaConfig {
	return DeltaConfig{
		Scale: DefaultScale(), NoEntryAfter: 15*60 + 45, SwingBars: 2, LookbackMin: 30,
		StopTicks: 2, MaxRiskTicks: 8, TargetTicks: 8, CancelAfterMin: 2,
	}
}

// Validate refuses a config no engine could run with.
func (c DeltaConfig) Validate() error {
	if err := c.Scale.validate("delta"); err != nil {
		return err
	}
	if c.SwingBars < 1 || c.LookbackMin < 1 || c.StopTicks < 1 || c.MaxRiskTicks < 1 || c.TargetTicks < 1 || c.CancelAfterMin < 1 {
		return fmt.Errorf("strategies: delta: swing_bars, lookback_min, stop_ticks, max_risk_ticks, target_ticks, cancel_after_min must be > 0")
	}
	return nil
}

// Delta is the cumulative delta divergence engine ("delta").
type Delta struct {
	cfg     DeltaConfig
	ind     *Indicators
	emit    func(intent.Intent)
	noEntry int64
	swings  Swings
	book    book
}

// NewDelta returns a delta divergence engine.
func NewDelta(cfg DeltaConfig) *Delta { return &Delta{cfg: cfg} }

// Name is "delta".
func (d *Delta) Name() string { return "delta" }

// Attach implements Engine.
func (d *Delta) Attach(ind *Indicators, emit func(intent.Intent)) { d.ind, d.emit = ind, emit }

// OnSessionStart implements Engine.
func (d *Delta) OnSessionStart(market.Session) {
	d.noEntry = d.ind.At(d.cfg.NoEntryAfter)
	d.swings.Reset(d.cfg.SwingBars)
	d.book = book{}
}

// OnTrade implements Engine.
func (d *Delta) OnTrade(t market.Trade) {
	d.book.tick(t.Time)
	if d.book.pos != 0 {
		d.book.addOn(d.cfg.Scale, d.Name(), t, d.emit)
	}
}

// OnFill implements Engine.
func (d *Delta) OnFill(f Fill) { d.book.fill(f) }

// OnOrderDone implements Engine.
func (d *Delta) OnOrderDone(_ string, filled bool) { d.book.done(filled) }

// OnBar implements Engine: on each 1-minute bar, the divergence test
// against the latest swing, then the swing update. A bar "makes a new high
// above the swing high" when its high is above the swing high and above
// every bar since the swing (the first break, or a further new high).
func (d *Delta) OnBar(b market.Bar) {
	if b.Period != time.Minute {
		return
	}
	now, cd := d.ind.Now, d.ind.CD
	d.book.tick(now)
	look := b.Start - int64(d.cfg.LookbackMin)*int64(time.Minute)
	if now < d.noEntry && d.book.canEnter() {
		sh, sl := &d.swings.LastHigh, &d.swings.LastLow
		switch {
		case d.swings.HasHigh && !sh.Used && sh.Start >= look && b.High > max(sh.Price, d.swings.HighAfter) && cd <= sh.CD:
			stop := b.High + market.Price(d.cfg.StopTicks)
			if int64(stop-b.Close) <= d.cfg.MaxRiskTicks {
				sh.Used = true
				d.enter(market.Sell, b.Close, stop, b.Close-market.Price(d.cfg.TargetTicks),
					fmt.Sprintf("delta.bear: high %s > swing high %s at %s, cd %d <= %d",
						b.High, sh.Price, hhmm(sh.Start), cd, sh.CD))
			}
		case d.swings.HasLo && !sl.Used && sl.Start >= look && b.Low < min(sl.Price, d.swings.LowAfter) && cd >= sl.CD:
			stop := b.Low - market.Price(d.cfg.StopTicks)
			if int64(b.Close-stop) <= d.cfg.MaxRiskTicks {
				sl.Used = true
				d.enter(market.Buy, b.Close, stop, b.Close+market.Price(d.cfg.TargetTicks),
					fmt.Sprintf("delta.bull: low %s < swing low %s at %s, cd %d >= %d",
						b.Low, sl.Price, hhmm(sl.Start), cd, sl.CD))
			}
		}
	}
	d.swings.AddBar(b, cd)
}

func (d *Delta) enter(side market.Side, entry, stop, target market.Price, reason string) {
	in := intent.Intent{
		Kind: intent.Enter, Strategy: d.Name(), Time: d.ind.Now, Side: side, Qty: d.cfg.Qty,
		EntryType: market.LimitOrder, Entry: entry, Stop: stop, Target: target,
		ExpireNs: int64(d.cfg.CancelAfterMin) * int64(time.Minute), Reason: reason,
	}
	d.book.entered(&in)
	d.emit(in)
}

// hhmm formats a time as New York HH:MM.
func hhmm(ns int64) string { return time.Unix(0, ns).In(market.NewYork).Format("15:04") }
