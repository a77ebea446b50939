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
	return nil
}

func checkWindow(what string, w Window) error {
	if w.From < 0 || w.Until > 24*60 || w.From >= w.Until {
		return fmt.Errorf("limits: %s %d–%d: want 0 ≤ from < until ≤ 1440 minutes after midnight ET", what, w.From, w.Until)
	}
	return nil
}
