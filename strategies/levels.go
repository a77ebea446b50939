// levels.go: price levels and bar patterns: the opening range, swing highs
// and lows, reversal candles and round numbers.

package strategies

import (
	"github.com/deskguard/deskguard/market"
)

// OpeningRange is the high and low of the trades in [From, To) (ns UTC).
type OpeningRange struct {
	From, To  int64
	High, Low market.Price
	n         int64
}

// Reset sets a new window and forgets the range.
func (o *OpeningRange) Reset(from, to int64) { *o = OpeningRange{From: from, To: to} }

// Add folds in a trade if it falls in the window.
func (o *OpeningRange) Add(t market.Trade) {
	if t.Time < o.From || t.Time >= o.To {
		return
	}
	if o.n == 0 || t.Price > o.High {
		o.High = t.Price
	}
	if o.n == 0 || t.Price < o.Low {
		o.Low = t.Price
	}
	o.n++
}

// Done reports whether the window is over (at time now) and had trades.
func (o *OpeningRange) Done(now int64) bool { return now >= o.To && o.n > 0 }

// Mid is the middle of the range rounded down to a tick.
func (o *OpeningRange) Mid() market.Price { return floorDiv2(o.High + o.Low) }

func floorDiv2(x market.Price) market.Price {
	if x < 0 && x%2 != 0 {
		return x/2 - 1
	}
	return x / 2
}

// Swing is a confirmed swing high or low of 1-minute bars: its bar's start,
// its price, and the cumulative delta at that bar's close.
type Swing struct {
	Start int64
	Price market.Price
	CD    int64
	Used  bool // an engine has traded against it
}

// Swings finds swing highs and lows: a bar whose high is strictly above the
// highs of the N bars on each side (a low, strictly below), confirmed when
// the N-th bar after it closes. O(N) per bar; it keeps the latest of each.
type Swings struct {
	N              int
	ring           []swingBar
	n              int // bars seen
	LastHigh       Swing
	LastLow        Swing
	HasHigh, HasLo bool
	// HighAfter is the highest high of the bars after LastHigh (all below it
	// until a bar breaks it); LowAfter the lowest low after LastLow.
	HighAfter, LowAfter market.Price
}

type swingBar struct {
	start     int64
	high, low market.Price
	cd        int64
}

// Reset forgets every bar; n is the number of bars on each side.
func (s *Swings) Reset(n int) {
	if n < 1 {
		n = 1
	}
	if cap(s.ring) < 2*n+1 {
		s.ring = make([]swingBar, 2*n+1)
	}
	*s = Swings{N: n, ring: s.ring[:2*n+1]}
}

// AddBar folds in a closed bar with the cumulative delta at its close and
// reports which swings this bar confirmed.
func (s *Swings) AddBar(b market.Bar, cd int64) (newHigh, newLow bool) {
	w := len(s.ring)
	s.ring[s.n%w] = swingBar{b.Start, b.High, b.Low, cd}
	s.n++
	s.HighAfter = max(s.HighAfter, b.High)
	s.LowAfter = min(s.LowAfter, b.Low)
	if s.n < w {
		return false, false
	}
	mid := s.ring[(s.n-1-s.N)%w]
	isH, isL := true, true
	for k := 0; k < w; k++ {
		if k == (s.n-1-s.N)%w {
			continue
		}
		o := s.ring[k]
		if o.high >= mid.high {
			isH = false
		}
		if o.low <= mid.low {
			isL = false
		}
	}
	if isH {
		s.LastHigh, s.HasHigh = Swing{Start: mid.start, Price: mid.high, CD: mid.cd}, true
		s.HighAfter = s.after(func(a, b market.Price) bool { return a > b }, func(x swingBar) market.Price { return x.high })
	}
	if isL {
		s.LastLow, s.HasLo = Swing{Start: mid.start, Price: mid.low, CD: mid.cd}, true
		s.LowAfter = s.after(func(a, b market.Price) bool { return a < b }, func(x swingBar) market.Price { return x.low })
	}
	return isH, isL
}

// after returns the extreme (by better) of the N bars after the middle one.
func (s *Swings) after(better func(a, b market.Price) bool, get func(swingBar) market.Price) market.Price {
	w := len(s.ring)
	x := get(s.ring[(s.n-1)%w])
	for k := 1; k < s.N; k++ {
		if v := get(s.ring[(s.n-1-k)%w]); better(v, x) {
			x = v
		}
	}
	return x
}

// Candle names a reversal candle shape.
type Candle uint8

const (
	NoCandle Candle = iota
	// Upper-wick shapes (bearish reversal): upper wick ≥ mult × body, close
	// in the lower third of the range.
	ShootingStar   // with a down body (close < open)
	InvertedHammer // with an up or flat body
	// Lower-wick shapes (bullish reversal): lower wick ≥ mult × body, close
	// in the upper third of the range.
	Hammer // with an up or flat body
	PinBar // with a down body
)

var candleNames = [...]string{"", "shooting_star", "inverted_hammer", "hammer", "pin_bar"}

func (c Candle) String() string {
	if int(c) < len(candleNames) {
		return candleNames[c]
	}
	return "candle?"
}

// BearishReversal classifies b as an upper-wick reversal candle: the upper
// wick is at least mult × the body and the close is in the lower third of
// the range. It returns ShootingStar or InvertedHammer, or NoCandle.
func BearishReversal(b market.Bar, mult float64) Candle {
	rng := int64(b.High - b.Low)
	if rng <= 0 {
		return NoCandle
	}
	body := absP(b.Close - b.Open)
	upper := int64(b.High - max(b.Open, b.Close))
	if float64(upper) < mult*float64(body) || upper == 0 {
		return NoCandle
	}
	if 3*int64(b.Close-b.Low) > rng {
		return NoCandle
	}
	if b.Close < b.Open {
		return ShootingStar
	}
	return InvertedHammer
}

// BullishReversal classifies b as a lower-wick reversal candle: the lower
// wick is at least mult × the body and the close is in the upper third of
// the range. It returns Hammer or PinBar, or NoCandle.
func BullishReversal(b market.Bar, mult float64) Candle {
	rng := int64(b.High - b.Low)
	if rng <= 0 {
		return NoCandle
	}
	body := absP(b.Close - b.Open)
	lower := int64(min(b.Open, b.Close) - b.Low)
	if float64(lower) < mult*float64(body) || lower == 0 {
		return NoCandle
	}
	if 3*int64(b.High-b.Close) > rng {
		return NoCandle
	}
	if b.Close < b.Open {
		return PinBar
	}
	return Hammer
}

func absP(p market.Price) int64 {
	if p < 0 {
		return int64(-p)
	}
	return int64(p)
}

// RoundAbove returns the lowest multiple of step ticks strictly above p
// (step 100 ticks = 25 index points).
func RoundAbove(p market.Price, step int64) market.Price {
	s := market.Price(step)
	q := p - p%s
	if p < 0 && p%s != 0 {
		q -= s
	}
	return q + s
}

// RoundBelow returns the highest multiple of step ticks strictly below p.
func RoundBelow(p market.Price, step int64) market.Price {
	s := market.Price(step)
	q := p - p%s
	if p < 0 && p%s != 0 {
		q -= s
	}
	if q == p {
		return p - s
	}
	return q
}

// RoundAtLeastAbove returns the lowest multiple of step at least minDist
// ticks above p.
func RoundAtLeastAbove(p market.Price, step, minDist int64) market.Price {
	return RoundAbove(p+market.Price(minDist)-1, step)
}

// RoundAtLeastBelow returns the highest multiple of step at least minDist
// ticks below p.
func RoundAtLeastBelow(p market.Price, step, minDist int64) market.Price {
	return RoundBelow(p-market.Price(minDist)+1, step)
}
