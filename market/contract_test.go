// Tests of the MES contract spec and contract-month symbols.

package market

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func TestMESContract(t *testing.T) {
	c := MES()
	if c.Root != "MES" || !c.TickValue.Equal(decimal.RequireFromString("1.25")) ||
		!c.PointValue.Equal(decimal.NewFromInt(5)) || !c.FeesRT.Equal(decimal.RequireFromString("1.2")) {
		t.Fatalf("MES() = %+v", c)
	}
	if !c.TickValue.Mul(decimal.NewFromInt(TicksPerPoint)).Equal(c.PointValue) {
		t.Error("four ticks are not a point")
	}
	if !c.TickValue.Mul(decimal.NewFromInt(100)).Equal(decimal.NewFromInt(TickCents)) {
		t.Error("TickCents disagrees with TickValue")
	}
	for _, tc := range []struct {
		ticks, qty int64
		want       string
	}{{1, 1, "1.25"}, {4, 1, "5"}, {3, 2, "7.5"}, {-8, 3, "-30"}, {0, 5, "0"}} {
		if got := c.TicksValue(tc.ticks, tc.qty); !got.Equal(decimal.RequireFromString(tc.want)) {
			t.Errorf("TicksValue(%d, %d) = %s, want %s", tc.ticks, tc.qty, got, tc.want)
		}
	}
}

func TestSymbolExpiry(t *testing.T) {
	for _, tc := range []struct {
		sym  Symbol
		text string
		day  string // the third Friday
	}{
		{Symbol{"MES", 2025, time.December}, "MESZ5", "2025-12-19"},
		{Symbol{"MES", 2024, time.March}, "MESH4", "2024-03-15"}, // month starts on a Friday
		{Symbol{"MES", 2024, time.June}, "MESM4", "2024-06-21"},  // starts on a Saturday
		{Symbol{"MES", 2024, time.September}, "MESU4", "2024-09-20"},
		{Symbol{"MES", 2024, time.December}, "MESZ4", "2024-12-20"},
		{Symbol{"ES", 2021, time.March}, "ESH1", "2021-03-19"},
		{Symbol{"MES", 2025, time.January}, "MESF5", "2025-01-17"},
		{Symbol{"MES", 2026, time.May}, "MESK6", "2026-05-15"}, // starts on a Friday
	} {
		if got := tc.sym.String(); got != tc.text {
			t.Errorf("%+v.String() = %q, want %q", tc.sym, got, tc.text)
		}
		e := tc.sym.Expiry()
		if e.Location() != NewYork || e.Format("2006-01-02 15:04") != tc.day+" 09:30" || e.Weekday() != time.Friday {
			t.Errorf("%s expiry %v, want %s 09:30 New York", tc.text, e, tc.day)
		}
		if d := e.Day(); d < 15 || d > 21 {
			t.Errorf("%s expiry day %d is not a third Friday", tc.text, d)
		}
	}
}

// TestSymbolStringInvalidMonth: a zero or corrupt Symbol must print, not
// panic (it ends up in logs and error messages).
func TestSymbolStringInvalidMonth(t *testing.T) {
	for _, s := range []Symbol{{}, {"MES", 2025, 0}, {"MES", 2025, 13}} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%#v.String() panicked: %v", s, r)
				}
			}()
			if got := s.String(); got == "" {
				t.Errorf("%#v.String() is empty", s)
			}
		}()
	}
}

func TestParseSymbol(t *testing.T) {
	ref := func(y int) time.Time { return time.Date(y, 6, 1, 12, 0, 0, 0, NewYork) }
	for _, tc := range []struct {
		in   string
		ref  time.Time
		want Symbol
		ok   bool
	}{
		{"MESZ5", ref(2024), Symbol{"MES", 2025, time.December}, true},
		{"MESZ25", ref(2024), Symbol{"MES", 2025, time.December}, true},
		{"MESZ5", ref(2025), Symbol{"MES", 2025, time.December}, true},
		{"ESH4", time.Date(2023, 12, 25, 23, 0, 0, 0, time.UTC), Symbol{"ES", 2024, time.March}, true},
		{"ESH1", time.Date(2020, 12, 28, 13, 0, 0, 0, time.UTC), Symbol{"ES", 2021, time.March}, true},
		{"ESZ3", ref(2013), Symbol{"ES", 2013, time.December}, true},
		{"MESH0", ref(2027), Symbol{"MES", 2030, time.March}, true}, // nearest decade
		{"MESU9", ref(2021), Symbol{"MES", 2019, time.September}, true},
		{"MESM29", ref(2026), Symbol{"MES", 2029, time.June}, true},
		{"", ref(2024), Symbol{}, false},
		{"MES", ref(2024), Symbol{}, false},
		{"MESZ", ref(2024), Symbol{}, false},
		{"Z5", ref(2024), Symbol{}, false},
		{"Z25", ref(2024), Symbol{}, false},
		{"MESI5", ref(2024), Symbol{}, false},
		{"mesz5", ref(2024), Symbol{}, false},
		{"MES125", ref(2024), Symbol{}, false},
		{"MESZ2025", ref(2024), Symbol{}, false},
	} {
		got, err := ParseSymbol(tc.in, tc.ref)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseSymbol(%q, %d) = %+v, %v; want %+v ok=%v", tc.in, tc.ref.Year(), got, err, tc.want, tc.ok)
		}
	}
	// Round trip over a decade of quarterlies.
	now := ref(2025)
	for y := 2021; y <= 2029; y++ {
		for _, m := range []time.Month{3, 6, 9, 12} {
			s := Symbol{"MES", y, m}
			back, err := ParseSymbol(s.String(), now)
			if err != nil || back != s {
				t.Errorf("ParseSymbol(%q) = %+v, %v; want %+v", s, back, err, s)
			}
		}
	}
}

func TestFrontMonth(t *testing.T) {
	at := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, NewYork) }
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{at(2024, 1, 2, 10, 0), "MESH4"},
		{at(2024, 3, 15, 9, 29), "MESH4"}, // expiry morning, before the SOQ
		{at(2024, 3, 15, 9, 30), "MESM4"},
		{at(2024, 6, 21, 12, 0), "MESU4"},
		{at(2024, 12, 20, 9, 29), "MESZ4"},
		{at(2024, 12, 25, 12, 0), "MESH5"}, // after December expiry: next year's March
		{at(2025, 12, 19, 10, 0), "MESH6"},
		{time.Date(2025, 12, 19, 14, 29, 0, 0, time.UTC), "MESZ5"}, // 09:29 EST
	} {
		got := FrontMonth("MES", tc.t)
		if got.String() != tc.want || !got.Expiry().After(tc.t) {
			t.Errorf("FrontMonth(%v) = %s (expiry %v), want %s", tc.t, got, got.Expiry(), tc.want)
		}
	}
}
