package market

import (
	"fmt"
	"time"
)

// Bar is an OHLCV bar with aggressor volumes. Start is the bar's opening
// time (ns UTC, aligned to Period); Delta = BuyVolume − SellVolume.
type Bar struct {
	Start      int64
	Period     time.Duration
	Open       Price
	High       Price
	Low        Price
	Close      Price
	Volume     int64
	BuyVolume  int64
	SellVolume int64
	Delta      int64
	Trades     int64
}

// End returns the first nanosecond after the bar.
func (b Bar) End() int64 { return b.Start + int64(b.Period) }

func (b Bar) String() string {
	return fmt.Sprintf("%s %s O%s H%s L%s C%s V%d D%d", time.Unix(0, b.Start).UTC().Format(time.RFC3339),
		b.Period, b.Open, b.High, b.Low, b.Close, b.Volume, b.Delta)
}

// BarBuilder builds bars of one period from trades. Bars are aligned to the
// period in UTC (one- and five-minute bars align the same in New York).
type BarBuilder struct {
	Period time.Duration
	cur    Bar
	open   bool
}

// NewBarBuilder returns a builder of bars of the given period.
func NewBarBuilder(period time.Duration) *BarBuilder { return &BarBuilder{Period: period} }

// Add folds a trade into the current bar. When the trade starts a new bar it
// returns the completed previous bar and true.
func (b *BarBuilder) Add(t Trade) (Bar, bool) {
	start := t.Time - t.Time%int64(b.Period)
	var done Bar
	closed := false
	if b.open && start != b.cur.Start {
		done, closed = b.cur, true
		b.open = false
	}
	if !b.open {
		b.cur = Bar{Start: start, Period: b.Period, Open: t.Price, High: t.Price, Low: t.Price}
		b.open = true
	}
	c := &b.cur
	if t.Price > c.High {
		c.High = t.Price
	}
	if t.Price < c.Low {
		c.Low = t.Price
	}
	c.Close = t.Price
	c.Volume += t.Size
	c.Trades++
	switch t.Aggressor {
	case Buy:
		c.BuyVolume += t.Size
	case Sell:
		c.SellVolume += t.Size
	}
	c.Delta = c.BuyVolume - c.SellVolume
	return done, closed
}

// Flush returns the bar in progress, if any, and resets the builder.
func (b *BarBuilder) Flush() (Bar, bool) {
	if !b.open {
		return Bar{}, false
	}
	b.open = false
	return b.cur, true
}

// Current returns the bar in progress.
func (b *BarBuilder) Current() (Bar, bool) { return b.cur, b.open }
