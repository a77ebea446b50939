// vwapmr.go: the VWAP mean reversion engine.

package strategies

import (
	"fmt"
	"math"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

// VWAPMRConfig is VWAP mean reversion. DefaultVWAPMRConfig gives DESIGN.md's
// defaults.
type VWAPMRConfig struct {
	Scale
	WarmUntil      HM      `toml:"warm_until"`       // no touches or candles count before this, ET (09:45)
	NoEntryAfter   HM      `toml:"no_entry_after"`   // no entries at or after this, ET (15:45)
	BandSigma      float64 `toml:"band_sigma"`       // the touched band, in σ (2)
	WickMult       float64 `toml:"wick_mult"`        // reversal candle's wick ≥ this × body (2)
	CancelAfterMin int     `toml:"cancel_after_min"` // unfilled entry cancelled after (2)
	StopTicks      int64   `toml:"stop_ticks"`       // stop beyond the candle's extreme (2)
	MinRewardTicks int64   `toml:"min_reward_ticks"` // skip when entry to VWAP is less (6)
	SlopeWindowMin int     `toml:"slope_window_min"` // VWAP slope window (30)
	MaxSlopeTicks  float64 `toml:"max_slope_ticks"`  // skip when |slope| > this, ticks per minute (1)
}

// DefaultVWAPMRConfig returns DESIGN.md's VWAP mean reversion defaults.
func DefaultVWAPMRConfig() VWAPMRConfig {
	return VWAPMRConfig{
		Scale: DefaultScale(), WarmUntil: 9*60 + 45, NoEntryAfter: 15*60 + 45, BandSigma: 2, WickMult: 2,
		CancelAfterMin: 2, StopTicks: 2, MinRewardTicks: 6, SlopeWindowMin: 30, MaxSlopeTicks: 1,
	}
}

// Validate refuses a config no engine could run with.
func (c VWAPMRConfig) Validate() error {
	if err := c.Scale.validate("vwapmr"); err != nil {
		return err
	}
	if c.BandSigma <= 0 || c.WickMult <= 0 || c.CancelAfterMin < 1 || c.StopTicks < 1 || c.MinRewardTicks < 1 ||
		c.SlopeWindowMin < 1 || c.MaxSlopeTicks < 0 {
		return fmt.Errorf("strategies: vwapmr: band_sigma, wick_mult, cancel_after_min, stop_ticks, min_reward_ticks, slope_window_min must be > 0 and max_slope_ticks ≥ 0")
	}
	return nil
}

// VWAPMR is the VWAP mean reversion engine ("vwapmr"). A touch of the
// +band (a trade at or above VWAP + BandSigma·σ) arms the short side until
// price trades back to VWAP or the short fires; the long side mirrors it.
type VWAPMR struct {
	cfg              VWAPMRConfig
	ind              *Indicators
	emit             func(intent.Intent)
	warm, noEntry    int64
	upTouch, dnTouch bool
	upPx, dnPx       market.Price
	prev             market.Bar
	hasPrev          bool
	book             book
}

// NewVWAPMR returns a VWAP mean reversion engine.
func NewVWAPMR(cfg VWAPMRConfig) *VWAPMR { return &VWAPMR{cfg: cfg} }

// Name is "vwapmr".
func (v *VWAPMR) Name() string { return "vwapmr" }

// Attach implements Engine.
func (v *VWAPMR) Attach(ind *Indicators, emit func(intent.Intent)) { v.ind, v.emit = ind, emit }

// OnSessionStart implements Engine.
func (v *VWAPMR) OnSessionStart(market.Session) {
	v.warm, v.noEntry = v.ind.At(v.cfg.WarmUntil), v.ind.At(v.cfg.NoEntryAfter)
	v.upTouch, v.dnTouch, v.hasPrev = false, false, false
	v.book = book{}
}

// OnTrade implements Engine: band touches, and the reset at VWAP.
func (v *VWAPMR) OnTrade(t market.Trade) {
	v.book.tick(t.Time)
	if v.book.pos != 0 {
		v.book.addOn(v.cfg.Scale, v.Name(), t, v.emit)
	}
	if t.Time < v.warm {
		return
	}
	vw, ok := v.ind.VWAP.Value()
	if !ok {
		return
	}
	p := float64(t.Price)
	d := v.cfg.BandSigma * v.ind.VWAP.Sigma()
	if d > 0 && p >= vw+d {
		if !v.upTouch || t.Price > v.upPx {
			v.upPx = t.Price
		}
		v.upTouch = true
	}
	if d > 0 && p <= vw-d {
		if !v.dnTouch || t.Price < v.dnPx {
			v.dnPx = t.Price
		}
		v.dnTouch = true
	}
	if v.upTouch && p <= vw {
		v.upTouch = false
	}
	if v.dnTouch && p >= vw {
		v.dnTouch = false
	}
}

// OnFill implements Engine.
func (v *VWAPMR) OnFill(f Fill) { v.book.fill(f) }

// OnOrderDone implements Engine.
func (v *VWAPMR) OnOrderDone(_ string, filled bool) { v.book.done(filled) }

// OnBar implements Engine: the reversal candle test on each 1-minute bar.
func (v *VWAPMR) OnBar(b market.Bar) {
	if b.Period != time.Minute {
		return
	}
	prev, hadPrev := v.prev, v.hasPrev
	v.prev, v.hasPrev = b, true
	now := v.ind.Now
	v.book.tick(now)
	if !hadPrev || b.Start < v.warm || now >= v.noEntry || !v.book.canEnter() || !(v.upTouch || v.dnTouch) {
		return
	}
	var side market.Side
	var c Candle
	switch {
	case v.upTouch && b.Delta < prev.Delta:
		if c = BearishReversal(b, v.cfg.WickMult); c != NoCandle {
			side = market.Sell
		}
	}
	if side == market.Unknown && v.dnTouch && b.Delta > prev.Delta {
		if c = BullishReversal(b, v.cfg.WickMult); c != NoCandle {
			side = market.Buy
		}
	}
	if side == market.Unknown {
		return
	}
	vw, _ := v.ind.VWAP.Value()
	slope, ok := v.ind.VWAPSlope(v.cfg.SlopeWindowMin)
	if !ok || math.Abs(slope) > v.cfg.MaxSlopeTicks {
		return
	}
	entry := b.Close
	var stop, target market.Price
	var reason string
	if side == market.Sell {
		stop = b.High + market.Price(v.cfg.StopTicks)
		target = market.Price(math.Ceil(vw)) // VWAP, rounded toward the entry
		if int64(entry-target) < v.cfg.MinRewardTicks {
			return
		}
		reason = fmt.Sprintf("vwapmr.short: %s close %s after +%gσ touch %s, delta %d < prev %d, vwap %s, slope %.2f t/m",
			c, entry, v.cfg.BandSigma, v.upPx, b.Delta, prev.Delta, target, slope)
		v.upTouch = false
	} else {
		stop = b.Low - market.Price(v.cfg.StopTicks)
		target = market.Price(math.Floor(vw))
		if int64(target-entry) < v.cfg.MinRewardTicks {
			return
		}
		reason = fmt.Sprintf("vwapmr.long: %s close %s after -%gσ touch %s, delta %d > prev %d, vwap %s, slope %.2f t/m",
			c, entry, v.cfg.BandSigma, v.dnPx, b.Delta, prev.Delta, target, slope)
		v.dnTouch = false
	}
	in := intent.Intent{
		Kind: intent.Enter, Strategy: v.Name(), Time: now, Side: side, Qty: v.cfg.Qty,
		EntryType: market.LimitOrder, Entry: entry, Stop: stop, Target: target,
		ExpireNs: int64(v.cfg.CancelAfterMin) * int64(time.Minute), Reason: reason,
	}
	v.book.entered(&in)
	v.emit(in)
}
