package market

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Contract is a futures contract's economics.
type Contract struct {
	Root       string          // "MES"
	TickValue  decimal.Decimal // dollars per tick
	PointValue decimal.Decimal // dollars per index point
	FeesRT     decimal.Decimal // default fees per contract per round turn
}

// MES returns the Micro E-mini S&P 500 spec: tick 0.25 = $1.25, point $5,
// fees $1.20 per contract per round turn by default.
func MES() Contract {
	return Contract{
		Root:       "MES",
		TickValue:  decimal.RequireFromString("1.25"),
		PointValue: decimal.RequireFromString("5"),
		FeesRT:     decimal.RequireFromString("1.20"),
	}
}

// TickCents is the value of one MES tick in cents, for integer arithmetic
// on hot paths (the risk gate).
const TickCents = 125

// TicksValue returns the dollar value of n ticks on qty contracts.
func (c Contract) TicksValue(ticks, qty int64) decimal.Decimal {
	return c.TickValue.Mul(decimal.NewFromInt(ticks * qty))
}

var monthCodes = [...]byte{'F', 'G', 'H', 'J', 'K', 'M', 'N', 'Q', 'U', 'V', 'X', 'Z'}

// Symbol names a contract month, e.g. MESZ5: root, month code, last digit(s)
// of the year.
type Symbol struct {
	Root  string
	Year  int
	Month time.Month
}

// String returns the exchange symbol with a one-digit year, e.g. "MESZ5".
// A Symbol with no valid month (such as the zero Symbol) prints its month as
// '?' rather than panicking.
func (s Symbol) String() string {
	if s.Month < time.January || s.Month > time.December {
		return fmt.Sprintf("%s?%d", s.Root, s.Year%10)
	}
	return fmt.Sprintf("%s%c%d", s.Root, monthCodes[s.Month-1], s.Year%10)
}

// Expiry returns the contract's last trading day: the third Friday of its
// month, at 09:30 New York time (the special opening quotation).
func (s Symbol) Expiry() time.Time {
	d := time.Date(s.Year, s.Month, 1, 9, 30, 0, 0, NewYork)
	for d.Weekday() != time.Friday {
		d = d.AddDate(0, 0, 1)
	}
	return d.AddDate(0, 0, 14)
}

// ParseSymbol parses "MESZ5" or "MESZ25" (or "ESH4"). A one-digit year is
// resolved to the decade nearest to ref.
func ParseSymbol(sym string, ref time.Time) (Symbol, error) {
	n := len(sym)
	if n < 3 {
		return Symbol{}, fmt.Errorf("market: symbol %q: too short", sym)
	}
	digits := 0
	for digits < 2 && n-digits-1 >= 0 && sym[n-digits-1] >= '0' && sym[n-digits-1] <= '9' {
		digits++
	}
	if digits == 0 || n-digits-1 < 1 {
		return Symbol{}, fmt.Errorf("market: symbol %q: want ROOT+MONTH+YEAR such as MESZ5", sym)
	}
	code := sym[n-digits-1]
	month := 0
	for i, c := range monthCodes {
		if c == code {
			month = i + 1
		}
	}
	if month == 0 {
		return Symbol{}, fmt.Errorf("market: symbol %q: unknown month code %q", sym, code)
	}
	y := 0
	for _, c := range sym[n-digits:] {
		y = y*10 + int(c-'0')
	}
	base := ref.Year()
	if digits == 1 {
		year := base - base%10 + y
		if year < base-5 {
			year += 10
		} else if year > base+5 {
			year -= 10
		}
		y = year
	} else {
		y += base - base%100
	}
	return Symbol{Root: sym[:n-digits-1], Year: y, Month: time.Month(month)}, nil
}

// FrontMonth returns the quarterly (H, M, U, Z) MES contract that is front
// at t: the nearest one whose expiry is after t. (Desks roll about a week
// earlier; this is the listed front, not the roll.)
func FrontMonth(root string, t time.Time) Symbol {
	t = t.In(NewYork)
	y := t.Year()
	for _, m := range []time.Month{3, 6, 9, 12, 15} {
		s := Symbol{Root: root, Year: y, Month: m}
		if m == 15 {
			s = Symbol{Root: root, Year: y + 1, Month: 3}
		}
		if s.Expiry().After(t) {
			return s
		}
	}
	return Symbol{Root: root, Year: y + 1, Month: 3}
}
