package market

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// TicksPerPoint is the number of 0.25 ticks in one index point.
const TicksPerPoint = 4

// Price is an MES price counted in ticks of 0.25 index points:
// 5150.25 is 20601 ticks. Prices are never floats.
type Price int64

// NoPrice marks an absent price (for example the stop of a market order).
const NoPrice Price = 0

// PriceError reports a price that cannot be an MES price.
type PriceError struct {
	Input  string
	Reason string
}

func (e *PriceError) Error() string {
	return fmt.Sprintf("market: price %q: %s", clip(e.Input), e.Reason)
}

// ParsePrice parses index points such as "5150.25" exactly. A price that is
// not a multiple of 0.25 is refused with a *PriceError.
func ParsePrice(s string) (Price, error) {
	in := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, &PriceError{in, "empty"}
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && (!hasDot || frac == "") {
		return 0, &PriceError{in, "no digits"}
	}
	if whole == "" {
		whole = "0"
	}
	for _, c := range whole {
		if c < '0' || c > '9' {
			return 0, &PriceError{in, "not a decimal number"}
		}
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (1<<60)/TicksPerPoint {
		return 0, &PriceError{in, "out of range"}
	}
	frac = strings.TrimRight(frac, "0")
	var q int64
	switch frac {
	case "":
		q = 0
	case "25":
		q = 1
	case "5":
		q = 2
	case "75":
		q = 3
	default:
		for _, c := range frac {
			if c < '0' || c > '9' {
				return 0, &PriceError{in, "not a decimal number"}
			}
		}
		return 0, &PriceError{in, "not on the 0.25 tick grid"}
	}
	p := Price(w*TicksPerPoint + q)
	if neg {
		p = -p
	}
	return p, nil
}

// MustPrice is ParsePrice for constants in tests and tables; it panics on a
// bad literal and must never see user input.
func MustPrice(s string) Price {
	p, err := ParsePrice(s)
	if err != nil {
		panic(err)
	}
	return p
}

// PriceFromPoints converts index points to ticks, refusing off-grid values.
// It is meant for data formats that carry points as floats (Lean bars).
// NaN, infinities and magnitudes beyond 2^50 ticks (where a float64 can no
// longer tell a tick from a fraction of one) are refused too.
func PriceFromPoints(points float64) (Price, error) {
	t := points * TicksPerPoint
	if math.IsNaN(t) || math.Abs(t) > 1<<50 {
		return 0, &PriceError{strconv.FormatFloat(points, 'g', -1, 64), "not a finite price in range"}
	}
	r := int64(t + 0.5)
	if t < 0 {
		r = int64(t - 0.5)
	}
	d := t - float64(r)
	if d > 1e-6 || d < -1e-6 {
		return 0, &PriceError{strconv.FormatFloat(points, 'f', -1, 64), "not on the 0.25 tick grid"}
	}
	return Price(r), nil
}

// PriceFromNanos converts a price in units of 1e-9 points (DBN) to ticks.
func PriceFromNanos(n int64) (Price, error) {
	const perTick = 250_000_000
	if n%perTick != 0 {
		return 0, &PriceError{strconv.FormatInt(n, 10) + "e-9", "not on the 0.25 tick grid"}
	}
	return Price(n / perTick), nil
}

// String formats the price in index points with two decimals: "5150.25".
func (p Price) String() string {
	t := int64(p)
	sign := ""
	if t < 0 {
		sign = "-"
		t = -t
	}
	return fmt.Sprintf("%s%d.%02d", sign, t/TicksPerPoint, (t%TicksPerPoint)*25)
}

// Points returns the price in index points (for display and JSON only).
func (p Price) Points() float64 { return float64(p) / TicksPerPoint }

// MarshalText encodes the price as index points.
func (p Price) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText decodes index points, refusing off-tick values.
func (p *Price) UnmarshalText(b []byte) error {
	v, err := ParsePrice(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
