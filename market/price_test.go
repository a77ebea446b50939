// Tests of Price: parsing and formatting index points exactly, the tick
// grid, conversions from float points and DBN nanos, and a fuzzed round trip.

package market

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParsePrice(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Price
		err  string // substring of the error; "" = ok
	}{
		{"5150.25", 20601, ""},
		{"5150", 20600, ""},
		{"5150.0", 20600, ""},
		{"5150.50", 20602, ""},
		{"5150.5", 20602, ""},
		{"5150.75", 20603, ""},
		{"5150.2500", 20601, ""},
		{" 5150.25 ", 20601, ""},
		{"+5150.25", 20601, ""},
		{"0", 0, ""},
		{"0.25", 1, ""},
		{".25", 1, ""},
		{"-0.25", -1, ""},
		{"-5150.75", -20603, ""},
		{"-0", 0, ""},
		{"3720.25", 14881, ""},
		{"5150.10", 0, "tick grid"},
		{"5150.125", 0, "tick grid"},
		{"5150.3", 0, "tick grid"},
		{"5150.01", 0, "tick grid"},
		{"-0.1", 0, "tick grid"},
		{"", 0, "empty"},
		{"   ", 0, "empty"},
		{"-", 0, "no digits"},
		{".", 0, "no digits"},
		{"abc", 0, "not a decimal"},
		{"5150,25", 0, "not a decimal"},
		{"5150.2x", 0, "not a decimal"},
		{"5150.-25", 0, "not a decimal"},
		{"1e3", 0, "not a decimal"},
		{"--5", 0, "not a decimal"},
		{"0x10", 0, "not a decimal"},
		{"5 150", 0, "not a decimal"},
		{"NaN", 0, "not a decimal"},
		{"99999999999999999999", 0, "out of range"},
		{"288230376151711745", 0, "out of range"}, // 2^58+1 points
	} {
		got, err := ParsePrice(tc.in)
		if tc.err == "" {
			if err != nil || got != tc.want {
				t.Errorf("ParsePrice(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
			continue
		}
		var pe *PriceError
		if err == nil || !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.err) || pe.Input != tc.in {
			t.Errorf("ParsePrice(%q) = %d, %v; want a *PriceError with %q", tc.in, got, err, tc.err)
		}
	}
}

func TestPriceString(t *testing.T) {
	for _, tc := range []struct {
		p    Price
		want string
	}{
		{20601, "5150.25"}, {20600, "5150.00"}, {20602, "5150.50"}, {20603, "5150.75"},
		{0, "0.00"}, {1, "0.25"}, {-1, "-0.25"}, {-20603, "-5150.75"}, {NoPrice, "0.00"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("Price(%d).String() = %q, want %q", tc.p, got, tc.want)
		}
		b, err := tc.p.MarshalText()
		if err != nil || string(b) != tc.want {
			t.Errorf("MarshalText(%d) = %q, %v", tc.p, b, err)
		}
		var back Price
		if err := back.UnmarshalText(b); err != nil || back != tc.p {
			t.Errorf("UnmarshalText(%q) = %d, %v", b, back, err)
		}
	}
	var p Price = 7
	if err := p.UnmarshalText([]byte("5150.10")); err == nil || p != 7 {
		t.Errorf("UnmarshalText of an off-tick price: %v, price now %d", err, p)
	}
	if got := MustPrice("5150.25").Points(); got != 5150.25 {
		t.Errorf("Points = %v", got)
	}
}

func TestMustPricePanicsOnBadLiteral(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustPrice(\"5150.10\") did not panic")
		}
	}()
	MustPrice("5150.10")
}

func TestPriceFromPoints(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want Price
		ok   bool
	}{
		{5150.25, 20601, true},
		{5150, 20600, true},
		{1667.5, 6670, true},
		{-0.75, -3, true},
		{0, 0, true},
		{5150.25 + 1e-9, 20601, true}, // float noise from a CSV is tolerated
		{5150.1, 0, false},
		{5150.2, 0, false},
		{-5150.1, 0, false},
		{math.NaN(), 0, false},
		{math.Inf(1), 0, false},
		{math.Inf(-1), 0, false},
		{1e300, 0, false},
		{-1e300, 0, false},
		{1e17, 0, false}, // beyond where float64 can tell ticks apart
	} {
		got, err := PriceFromPoints(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("PriceFromPoints(%v) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		var pe *PriceError
		if err != nil && !errors.As(err, &pe) {
			t.Errorf("PriceFromPoints(%v): %T, want *PriceError", tc.in, err)
		}
	}
}

func TestPriceFromNanos(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want Price
		ok   bool
	}{
		{5150_250_000_000, 20601, true},
		{3720_250_000_000, 14881, true},
		{0, 0, true},
		{-250_000_000, -1, true},
		{5150_100_000_000, 0, false},
		{1, 0, false},
		{-1, 0, false},
		{math.MaxInt64, 0, false}, // DBN's undefined price
		{math.MinInt64, 0, false},
	} {
		got, err := PriceFromNanos(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("PriceFromNanos(%d) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParsePrice: whatever parses formats to text that parses to the same
// price, and the formatted text is canonical (formats to itself).
func FuzzParsePrice(f *testing.F) {
	for _, s := range []string{"5150.25", "5150.10", "-0.75", ".5", "+1", "", "-", "1e3", "0005150.2500",
		"288230376151711744.75", "99999999999999999999", " 12.5 ", "5150.", "٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrice(s)
		if err != nil {
			var pe *PriceError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePrice(%q): %T, want *PriceError", s, err)
			}
			return
		}
		text := p.String()
		q, err := ParsePrice(text)
		if err != nil || q != p {
			t.Fatalf("ParsePrice(%q) = %d; String %q reparses to %d, %v", s, p, text, q, err)
		}
		if q.String() != text {
			t.Fatalf("String not canonical: %q → %q", text, q.String())
		}
		if pts, err := PriceFromPoints(p.Points()); math.Abs(float64(p)) < 1<<50 && (err != nil || pts != p) {
			t.Fatalf("PriceFromPoints(%v) = %d, %v; want %d", p.Points(), pts, err, p)
		}
	})
}
