// vwap.go: the session VWAP and its volume-weighted standard deviation,
// updated in O(1) per trade with exact integer sums.

package strategies

import (
	"math"

	"github.com/deskguard/deskguard/market"
)

// VWAP is the volume-weighted average price of the trades added since the
// last Reset, with the volume-weighted standard deviation of those prices.
// Sums are kept exactly in ticks relative to the first price (an anchor),
// so the result does not depend on float rounding order.
type VWAP struct {
	anchor market.Price
	vol    int64 // Σ v
	s1     int64 // Σ v·d, d = p − anchor
	s2     int64 // Σ v·d²
}

// Reset forgets every trade.
func (v *VWAP) Reset() { *v = VWAP{} }

// Add folds in size contracts at price p. Sizes ≤ 0 are ignored.
func (v *VWAP) Add(p market.Price, size int64) {
	if size <= 0 {
		return
	}
	if v.vol == 0 {
		v.anchor = p
	}
	d := int64(p - v.anchor)
	v.vol += size
	v.s1 += size * d
	v.s2 += size * d * d
}

// Volume is the total volume added.
func (v *VWAP) Volume() int64 { return v.vol }

// Value returns the VWAP in ticks (fractional) and whether any volume exists.
func (v *VWAP) Value() (float64, bool) {
	if v.vol == 0 {
		return 0, false
	}
	return float64(v.anchor) + float64(v.s1)/float64(v.vol), true
}

// Sigma returns the volume-weighted standard deviation in ticks:
// sqrt(Σv(p−vwap)²/Σv).
func (v *VWAP) Sigma() float64 {
	if v.vol == 0 {
		return 0
	}
	m := float64(v.s1) / float64(v.vol)
	va := float64(v.s2)/float64(v.vol) - m*m
	if va <= 0 {
		return 0
	}
	return math.Sqrt(va)
}

// Band returns VWAP + k·σ in ticks (k = ±1, ±2 for the usual bands).
func (v *VWAP) Band(k float64) (float64, bool) {
	x, ok := v.Value()
	if !ok {
		return 0, false
	}
	return x + k*v.Sigma(), true
}
