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

// RollDate returns the session date on which desks move from s to the next
// quarterly month: the CME equity-index roll date, eight calendar days before
// the third-Friday expiry — the Thursday of the week before, which is the
// second Thursday of the month (the first when the month starts on a Friday).
// Source: CME Group, "Equity Index Roll Dates"
// (https://www.cmegroup.com/trading/equity-index/rolldates.html): "the trading
// floor convention is to roll the expiring quarterly futures contract month
// eight calendar days before the contract expires ... After the roll date, it
// is customary to identify the second nearest expiration month as the 'lead
// month'", with the example roll Thursday, December 11, 2014 for the
// December 19, 2014 expiry. Exchange holidays are not modelled: the roll date
// is the calendar rule even when that Thursday is a holiday.
func (s Symbol) RollDate() Session {
	d := s.Expiry().AddDate(0, 0, -8)
	return Session{Year: d.Year(), Month: d.Month(), Day: d.Day()}
}

// FrontMonth returns the quarterly (H, M, U, Z) contract a desk trades in
// session sess: the nearest one whose roll date (RollDate) is after the
// session's trade date. From the roll date's session on, the next quarterly
// month is the front, though the expiring one still trades until its expiry.
// Pass SessionOf(t) for an instant: the session, not the wall-clock date,
// decides (an evening after 18:00 ET belongs to the next day's session).
func FrontMonth(root string, sess Session) Symbol {
	day := sess.Date()
	for y := sess.Year; ; y++ {
		for _, m := range []time.Month{3, 6, 9, 12} {
			s := Symbol{Root: root, Year: y, Month: m}
			if s.RollDate().Date().After(day) {
				return s
			}
		}
	}
}
