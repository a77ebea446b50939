// Tests of Side (aggressor and direction codes) and OrderType's text form.

package market

import (
	"strings"
	"testing"
)

func TestParseSide(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Side
		ok   bool
	}{
		{"B", Buy, true}, {"b", Buy, true}, {"buy", Buy, true}, {"Buy", Buy, true}, {"BUY", Buy, true}, {"long", Buy, true},
		{"S", Sell, true}, {"s", Sell, true}, {"A", Sell, true}, {"a", Sell, true}, {"sell", Sell, true},
		{"SELL", Sell, true}, {"short", Sell, true},
		{"N", Unknown, true}, {"n", Unknown, true}, {"", Unknown, true}, {"unknown", Unknown, true},
		{"X", Unknown, false}, {"bid", Unknown, false}, {" B", Unknown, false}, {"1", Unknown, false},
	} {
		got, err := ParseSide(tc.in)
		if got != tc.want || tc.ok != (err == nil) {
			t.Errorf("ParseSide(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), tc.in) {
			t.Errorf("ParseSide(%q) error %q does not name the input", tc.in, err)
		}
	}
}

func TestSideMethods(t *testing.T) {
	for _, tc := range []struct {
		s        Side
		sign     int64
		opposite Side
		text     string
	}{
		{Buy, 1, Sell, "buy"}, {Sell, -1, Buy, "sell"}, {Unknown, 0, Unknown, "unknown"},
	} {
		if tc.s.Sign() != tc.sign || tc.s.Opposite() != tc.opposite || tc.s.String() != tc.text {
			t.Errorf("%v: Sign %d Opposite %v String %q", tc.s, tc.s.Sign(), tc.s.Opposite(), tc.s.String())
		}
		b, err := tc.s.MarshalText()
		if err != nil || string(b) != tc.text {
			t.Errorf("MarshalText(%v) = %q, %v", tc.s, b, err)
		}
		var back Side = 99
		if err := back.UnmarshalText(b); err != nil || back != tc.s {
			t.Errorf("UnmarshalText(%q) = %v, %v", b, back, err)
		}
	}
	s := Buy
	if err := s.UnmarshalText([]byte("up")); err == nil || s != Buy {
		t.Errorf("UnmarshalText(up): %v, side now %v", err, s)
	}
}

func TestOrderTypeText(t *testing.T) {
	for _, tc := range []struct {
		t    OrderType
		text string
	}{
		{0, ""}, {MarketOrder, "market"}, {LimitOrder, "limit"}, {StopOrder, "stop"}, {StopLimitOrder, "stop_limit"},
	} {
		b, err := tc.t.MarshalText()
		if err != nil || string(b) != tc.text || tc.t.String() != tc.text {
			t.Errorf("%d: MarshalText %q, %v; String %q; want %q", tc.t, b, err, tc.t.String(), tc.text)
		}
		back := OrderType(99)
		if err := back.UnmarshalText(b); err != nil || back != tc.t {
			t.Errorf("UnmarshalText(%q) = %d, %v", b, back, err)
		}
	}
	if got := OrderType(9).String(); got != "order_type(9)" {
		t.Errorf("OrderType(9).String() = %q", got)
	}
	for _, bad := range []string{"Market", "stop-limit", "mkt", "order_type(9)"} {
		ot := LimitOrder
		if err := ot.UnmarshalText([]byte(bad)); err == nil || ot != LimitOrder {
			t.Errorf("UnmarshalText(%q): %v, now %v", bad, err, ot)
		}
	}
}
