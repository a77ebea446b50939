// config.go: the gate's limits, each a config value with DESIGN.md's
// defaults; a zero field means "use the default".

package limits

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Defaults (DESIGN.md "Risk invariants" 4 and 5). Times are minutes after
// midnight, New York.
const (
	DefaultSlippageTicks   = 2
	DefaultMaxOrderQty     = 10
	DefaultMaxPosition     = 20
	DefaultPriceBandTicks  = 40 // 10 index points around the last trade
	DefaultOrdersPerSecond = 5
	DefaultOrdersPerMinute = 60
	DefaultEntriesFromMin  = 9*60 + 30  // 09:30 ET: no entries before the RTH open
	DefaultEntriesUntilMin = 15*60 + 45 // 15:45 ET: no entries from here on
	DefaultFlatByMin       = 15*60 + 55 // 15:55 ET: the supervisor flattens every account
	// DefaultLiveMaxDataAge is what a live desk should set MaxDataAge to;
	// the zero default switches the stale-data rule off (replay).
	DefaultLiveMaxDataAge = 5 * time.Second

	// The rules added with the ladder (docs/risk.md); each has a key of the
	// same name in snake case.
	DefaultWarnPct         = 80               // one warning at 80% of the day's allowance used
	DefaultReduceOnlyPct   = 90               // reduce-only from 90% used (100% is the lockout)
	DefaultDailyTradeLimit = 20               // flat-to-flat trades per session
	DefaultDailyOrderLimit = 200              // intents sent to the venue per session
	DefaultLossStreak      = 3                // losing trades in a row before a cooldown
	DefaultLossCooldown    = 30 * time.Minute // no entries this long after the streak's last loss
	DefaultDuplicateWindow = 2 * time.Second  // an identical entry within this is refused
	DefaultReferenceMaxAge = time.Minute      // the price band's reference trade may be this old
	DefaultBlackoutBefore  = 5 * time.Minute  // no entries from this long before a scheduled release
	DefaultBlackoutAfter   = 5 * time.Minute  // until this long after it
	DefaultScalingUnit     = 5                // contracts per unit of the scaling plan (the seed's starter unit)
	MaxScalingUnits        = 10               // the seed's vertical scaling: at most 10 units
)

// Trailing drawdown modes (Config.TrailingMode).
const (
	TrailingOff      = "off"      // no trailing line (default)
	TrailingIntraday = "intraday" // the line trails the peak equity, unrealized included, on every mark
	TrailingEOD      = "eod"      // the line trails the highest session-end balance
)

// Self-match modes (Config.SelfMatch).
const (
	SelfMatchOn  = "on"  // refuse an order that could trade against another sub-account's (default)
	SelfMatchOff = "off" // no check (a desk whose accounts are not commonly owned)
)

// DefaultDrawdownPct is the daily drawdown lockout, in percent of the
// session's start equity.
func DefaultDrawdownPct() decimal.Decimal { return decimal.New(15, -1) }

// Window is a span of the New York day in minutes after midnight: entries
// are allowed from From (inclusive) until Until (exclusive).
type Window struct {
	From  int `toml:"from" json:"from"`
	Until int `toml:"until" json:"until"`
}

// Config is one account's limits. Zero fields take the defaults above, so a
// per-account override need only name what it changes.
type Config struct {
	DrawdownPct     decimal.Decimal   `toml:"drawdown_pct" json:"drawdown_pct"`           // lockout line: start × (1 − pct/100)
	SlippageTicks   int64             `toml:"slippage_ticks" json:"slippage_ticks"`       // added to every stop distance in the loss bound
	MaxOrderQty     int64             `toml:"max_order_qty" json:"max_order_qty"`         // contracts per order
	MaxPosition     int64             `toml:"max_position" json:"max_position"`           // |position| after the order
	PriceBandTicks  int64             `toml:"price_band_ticks" json:"price_band_ticks"`   // entry price within this many ticks of the last trade
	OrdersPerSecond int               `toml:"orders_per_second" json:"orders_per_second"` // risk-adding orders per rolling second
	OrdersPerMinute int               `toml:"orders_per_minute" json:"orders_per_minute"` // risk-adding orders per rolling minute
	EntriesFromMin  int               `toml:"entries_from" json:"entries_from"`           // minutes after midnight ET
	EntriesUntilMin int               `toml:"entries_until" json:"entries_until"`         // minutes after midnight ET; "no entries after 15:45"
	FlatByMin       int               `toml:"flat_by" json:"flat_by"`                     // the supervisor's scheduled flatten (not a gate rule)
	MaxDataAge      time.Duration     `toml:"max_data_age" json:"max_data_age"`           // 0: stale-data rule off (replay)
	Windows         map[string]Window `toml:"windows" json:"windows,omitempty"`           // per strategy; intersected with the day's window

	// The ladder over the day's allowance (start − lockout line): a
	// warning at WarnPct used, reduce-only at ReduceOnlyPct, the lockout at
	// 100%. Whole percent.
	WarnPct       int `toml:"warn_pct" json:"warn_pct"`
	ReduceOnlyPct int `toml:"reduce_only_pct" json:"reduce_only_pct"`
	// Trailing drawdown (prop-firm style): off, intraday or eod; the line
	// sits TrailingDrawdown dollars below the peak and never moves down.
	// TrailingFreezeAt, when set, stops the line rising at the account's
	// initial balance + that amount (Topstep's line stops at the initial
	// balance: "0.00").
	TrailingMode     string           `toml:"trailing_mode" json:"trailing_mode"`
	TrailingDrawdown decimal.Decimal  `toml:"trailing_drawdown" json:"trailing_drawdown"`
	TrailingFreezeAt *decimal.Decimal `toml:"trailing_freeze_at" json:"trailing_freeze_at,omitempty"`
	// WeeklyLossPct locks the account when equity falls this many percent
	// below the trading week's start (Sunday 18:00 ET); zero = off.
	WeeklyLossPct decimal.Decimal `toml:"weekly_loss_pct" json:"weekly_loss_pct"`
	// Per-session caps: flat-to-flat trades, and intents sent to the venue.
	DailyTradeLimit int `toml:"daily_trade_limit" json:"daily_trade_limit"`
	DailyOrderLimit int `toml:"daily_order_limit" json:"daily_order_limit"`
	// LossStreak losing trades in a row → no entries for LossCooldown after
	// the last of them.
	LossStreak   int           `toml:"loss_streak" json:"loss_streak"`
	LossCooldown time.Duration `toml:"loss_cooldown" json:"loss_cooldown"`
	// DuplicateWindow: an entry with the side, quantity, type and prices of
	// one sent this recently is refused.
	DuplicateWindow time.Duration `toml:"duplicate_window" json:"duplicate_window"`
	// ReferenceMaxAge: the price band's reference (the last trade) may be
	// at most this old, else entries are refused (no_reference_price).
	ReferenceMaxAge time.Duration `toml:"reference_max_age" json:"reference_max_age"`
	// SelfMatch: "on" refuses an order that could trade against a working
	// order of another sub-account of the desk (a wash trade); "off".
	SelfMatch string `toml:"self_match" json:"self_match"`
	// News blackout around each release of the desk's calendar: no entries
	// from BlackoutBefore before it until BlackoutAfter after it; with
	// BlackoutFlatten > 0 the account is flattened that long before it.
	BlackoutBefore  time.Duration `toml:"blackout_before" json:"blackout_before"`
	BlackoutAfter   time.Duration `toml:"blackout_after" json:"blackout_after"`
	BlackoutFlatten time.Duration `toml:"blackout_flatten" json:"blackout_flatten"`
	// Scaling plan: the account trades ScalingUnit contracts per unit; it
	// starts at one unit and holds one more for each of ScalingTiers (net
	// profit over its initial balance, dollars, ascending) it has reached,
	// at most 10 units. Empty = no plan.
	ScalingUnit  int64             `toml:"scaling_unit" json:"scaling_unit"`
	ScalingTiers []decimal.Decimal `toml:"scaling_tiers" json:"scaling_tiers,omitempty"`
}

// WithDefaults returns c with every zero field set to its default. An
// override is merged by calling Merge first.
func (c Config) WithDefaults() Config {
	if c.DrawdownPct.IsZero() {
		c.DrawdownPct = DefaultDrawdownPct()
	}
	if c.SlippageTicks == 0 {
		c.SlippageTicks = DefaultSlippageTicks
	}
	if c.MaxOrderQty == 0 {
		c.MaxOrderQty = DefaultMaxOrderQty
	}
	if c.MaxPosition == 0 {
		c.MaxPosition = DefaultMaxPosition
	}
	if c.PriceBandTicks == 0 {
		c.PriceBandTicks = DefaultPriceBandTicks
	}
	if c.OrdersPerSecond == 0 {
		c.OrdersPerSecond = DefaultOrdersPerSecond
	}
	if c.OrdersPerMinute == 0 {
		c.OrdersPerMinute = DefaultOrdersPerMinute
	}
	if c.EntriesFromMin == 0 {
		c.EntriesFromMin = DefaultEntriesFromMin
	}
	if c.EntriesUntilMin == 0 {
		c.EntriesUntilMin = DefaultEntriesUntilMin
	}
	if c.FlatByMin == 0 {
		c.FlatByMin = DefaultFlatByMin
	}
	defInt := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	defDur := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	defInt(&c.WarnPct, DefaultWarnPct)
	defInt(&c.ReduceOnlyPct, DefaultReduceOnlyPct)
	defInt(&c.DailyTradeLimit, DefaultDailyTradeLimit)
	defInt(&c.DailyOrderLimit, DefaultDailyOrderLimit)
	defInt(&c.LossStreak, DefaultLossStreak)
	defDur(&c.LossCooldown, DefaultLossCooldown)
	defDur(&c.DuplicateWindow, DefaultDuplicateWindow)
	defDur(&c.ReferenceMaxAge, DefaultReferenceMaxAge)
	defDur(&c.BlackoutBefore, DefaultBlackoutBefore)
	defDur(&c.BlackoutAfter, DefaultBlackoutAfter)
	if c.TrailingMode == "" {
		c.TrailingMode = TrailingOff
	}
	if c.SelfMatch == "" {
		c.SelfMatch = SelfMatchOn
	}
	if c.ScalingUnit == 0 {
		c.ScalingUnit = DefaultScalingUnit
	}
	return c
}

// Merge returns base with every non-zero field of override applied (an
// account's override over the desk's limits). Windows merge per strategy.
func (base Config) Merge(override Config) Config {
	if !override.DrawdownPct.IsZero() {
		base.DrawdownPct = override.DrawdownPct
	}
	set := func(dst *int64, v int64) {
		if v != 0 {
			*dst = v
		}
	}
	seti := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	set(&base.SlippageTicks, override.SlippageTicks)
	set(&base.MaxOrderQty, override.MaxOrderQty)
	set(&base.MaxPosition, override.MaxPosition)
	set(&base.PriceBandTicks, override.PriceBandTicks)
	seti(&base.OrdersPerSecond, override.OrdersPerSecond)
	seti(&base.OrdersPerMinute, override.OrdersPerMinute)
	seti(&base.EntriesFromMin, override.EntriesFromMin)
	seti(&base.EntriesUntilMin, override.EntriesUntilMin)
	seti(&base.FlatByMin, override.FlatByMin)
	if override.MaxDataAge != 0 {
		base.MaxDataAge = override.MaxDataAge
	}
	seti(&base.WarnPct, override.WarnPct)
	seti(&base.ReduceOnlyPct, override.ReduceOnlyPct)
	seti(&base.DailyTradeLimit, override.DailyTradeLimit)
	seti(&base.DailyOrderLimit, override.DailyOrderLimit)
	seti(&base.LossStreak, override.LossStreak)
	setd := func(dst *time.Duration, v time.Duration) {
		if v != 0 {
			*dst = v
		}
	}
	setd(&base.LossCooldown, override.LossCooldown)
	setd(&base.DuplicateWindow, override.DuplicateWindow)
	setd(&base.ReferenceMaxAge, override.ReferenceMaxAge)
	setd(&base.BlackoutBefore, override.BlackoutBefore)
	setd(&base.BlackoutAfter, override.BlackoutAfter)
	setd(&base.BlackoutFlatten, override.BlackoutFlatten)
	if override.TrailingMode != "" {
		base.TrailingMode = override.TrailingMode
	}
	if !override.TrailingDrawdown.IsZero() {
		base.TrailingDrawdown = override.TrailingDrawdown
	}
	if f := base.TrailingFreezeAt; override.TrailingFreezeAt != nil || f != nil {
		// A fresh pointer, so the result shares nothing with its inputs.
		if override.TrailingFreezeAt != nil {
			f = override.TrailingFreezeAt
		}
		v := *f
		base.TrailingFreezeAt = &v
	}
	if !override.WeeklyLossPct.IsZero() {
		base.WeeklyLossPct = override.WeeklyLossPct
	}
	if override.SelfMatch != "" {
		base.SelfMatch = override.SelfMatch
	}
	set(&base.ScalingUnit, override.ScalingUnit)
	if len(override.ScalingTiers) > 0 {
		base.ScalingTiers = override.ScalingTiers
	}
	base.ScalingTiers = append([]decimal.Decimal(nil), base.ScalingTiers...)
	if len(override.Windows) > 0 {
		w := make(map[string]Window, len(base.Windows)+len(override.Windows))
		for k, v := range base.Windows {
			w[k] = v
		}
		for k, v := range override.Windows {
			w[k] = v
		}
		base.Windows = w
	}
	return base
}

// Validate reports the first limit that makes no sense (after defaults).
func (c Config) Validate() error {
	hund := decimal.NewFromInt(100)
	switch {
	case c.DrawdownPct.Sign() <= 0 || c.DrawdownPct.GreaterThanOrEqual(hund):
		return fmt.Errorf("limits: drawdown_pct %s: want 0 < pct < 100", c.DrawdownPct)
	case c.SlippageTicks < 0:
		return fmt.Errorf("limits: slippage_ticks %d: want ≥ 0", c.SlippageTicks)
	case c.MaxOrderQty < 0 || c.MaxPosition < 0:
		return fmt.Errorf("limits: max_order_qty %d / max_position %d: want > 0", c.MaxOrderQty, c.MaxPosition)
	case c.MaxPosition > 1_000_000 || c.SlippageTicks > 1_000_000:
		return fmt.Errorf("limits: max_position %d / slippage_ticks %d: implausibly large", c.MaxPosition, c.SlippageTicks)
	case c.MaxOrderQty > c.MaxPosition:
		return fmt.Errorf("limits: max_order_qty %d exceeds max_position %d", c.MaxOrderQty, c.MaxPosition)
	case c.PriceBandTicks < 0:
		return fmt.Errorf("limits: price_band_ticks %d: want > 0", c.PriceBandTicks)
	case c.OrdersPerSecond < 0 || c.OrdersPerMinute < 0 || c.OrdersPerSecond > c.OrdersPerMinute:
		return fmt.Errorf("limits: orders_per_second %d / orders_per_minute %d: want 0 < per second ≤ per minute",
			c.OrdersPerSecond, c.OrdersPerMinute)
	case c.MaxDataAge < 0:
		return fmt.Errorf("limits: max_data_age %s: want ≥ 0 (0 = off)", c.MaxDataAge)
	}
	if err := checkWindow("entries", Window{c.EntriesFromMin, c.EntriesUntilMin}); err != nil {
		return err
	}
	if c.FlatByMin < 0 || c.FlatByMin > 24*60 {
		return fmt.Errorf("limits: flat_by %d: want minutes after midnight", c.FlatByMin)
	}
	for name, w := range c.Windows {
		if err := checkWindow("window "+name, w); err != nil {
			return err
		}
	}
	return c.validateRules()
}

// validateRules checks the keys of the rules added with the ladder (after
// defaults).
func (c Config) validateRules() error {
	hund := decimal.NewFromInt(100)
	wholeCents := func(d decimal.Decimal) bool { return d.Shift(2).IsInteger() }
	switch {
	case c.WarnPct <= 0 || c.ReduceOnlyPct <= 0 || c.WarnPct > 100 || c.ReduceOnlyPct > 100 || c.WarnPct > c.ReduceOnlyPct:
		return fmt.Errorf("limits: warn_pct %d / reduce_only_pct %d: want 0 < warn ≤ reduce-only ≤ 100 (percent of the day's allowance)",
			c.WarnPct, c.ReduceOnlyPct)
	case c.TrailingMode != TrailingOff && c.TrailingMode != TrailingIntraday && c.TrailingMode != TrailingEOD:
		return fmt.Errorf("limits: trailing_mode %q: want off, intraday or eod", c.TrailingMode)
	case c.TrailingMode != TrailingOff && (c.TrailingDrawdown.Sign() <= 0 || !wholeCents(c.TrailingDrawdown)):
		return fmt.Errorf("limits: trailing_drawdown %s: want > 0 in whole cents with trailing_mode %s", c.TrailingDrawdown, c.TrailingMode)
	case c.TrailingDrawdown.IsNegative() || c.TrailingDrawdown.GreaterThan(decimal.NewFromInt(1e12)):
		return fmt.Errorf("limits: trailing_drawdown %s: out of range", c.TrailingDrawdown)
	case c.TrailingFreezeAt != nil && (c.TrailingFreezeAt.IsNegative() || !wholeCents(*c.TrailingFreezeAt) ||
		c.TrailingFreezeAt.GreaterThan(decimal.NewFromInt(1e12))):
		return fmt.Errorf("limits: trailing_freeze_at %s: want ≥ 0 in whole cents", c.TrailingFreezeAt)
	case c.WeeklyLossPct.IsNegative() || c.WeeklyLossPct.GreaterThanOrEqual(hund):
		return fmt.Errorf("limits: weekly_loss_pct %s: want 0 (off) or 0 < pct < 100", c.WeeklyLossPct)
	case c.DailyTradeLimit < 0 || c.DailyOrderLimit < 0:
		return fmt.Errorf("limits: daily_trade_limit %d / daily_order_limit %d: want > 0", c.DailyTradeLimit, c.DailyOrderLimit)
	case c.LossStreak < 0 || c.LossCooldown < 0:
		return fmt.Errorf("limits: loss_streak %d / loss_cooldown %s: want > 0", c.LossStreak, c.LossCooldown)
	case c.DuplicateWindow < 0 || c.ReferenceMaxAge < 0:
		return fmt.Errorf("limits: duplicate_window %s / reference_max_age %s: want > 0", c.DuplicateWindow, c.ReferenceMaxAge)
	case c.SelfMatch != SelfMatchOn && c.SelfMatch != SelfMatchOff:
		return fmt.Errorf("limits: self_match %q: want on or off", c.SelfMatch)
	case c.BlackoutBefore < 0 || c.BlackoutAfter < 0 || c.BlackoutFlatten < 0 ||
		c.BlackoutBefore > 24*time.Hour || c.BlackoutAfter > 24*time.Hour:
		return fmt.Errorf("limits: blackout_before %s / blackout_after %s / blackout_flatten %s: want ≥ 0 and at most a day",
			c.BlackoutBefore, c.BlackoutAfter, c.BlackoutFlatten)
	case c.BlackoutFlatten > c.BlackoutBefore:
		// Flattened before entries are blocked, an engine could open again
		// in between.
		return fmt.Errorf("limits: blackout_flatten %s exceeds blackout_before %s: the flatten must fall inside the blackout",
			c.BlackoutFlatten, c.BlackoutBefore)
	case c.ScalingUnit < 0 || c.ScalingUnit > c.MaxPosition:
		return fmt.Errorf("limits: scaling_unit %d: want 0 < unit ≤ max_position %d", c.ScalingUnit, c.MaxPosition)
	case len(c.ScalingTiers) > MaxScalingUnits-1:
		return fmt.Errorf("limits: scaling_tiers: %d tiers: at most %d (one unit to start, up to %d)", len(c.ScalingTiers),
			MaxScalingUnits-1, MaxScalingUnits)
	}
	for i, t := range c.ScalingTiers {
		if t.Sign() <= 0 || !wholeCents(t) || t.GreaterThan(decimal.NewFromInt(1e12)) || i > 0 && !t.GreaterThan(c.ScalingTiers[i-1]) {
			return fmt.Errorf("limits: scaling_tiers[%d] %s: want positive whole cents, each above the one before", i, t)
		}
	}
	return nil
}

func checkWindow(what string, w Window) error {
	if w.From < 0 || w.Until > 24*60 || w.From >= w.Until {
		return fmt.Errorf("limits: %s %d–%d: want 0 ≤ from < until ≤ 1440 minutes after midnight ET", what, w.From, w.Until)
	}
	return nil
}
