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

func TestRollDate(t *testing.T) {
	for _, tc := range []struct {
		sym        Symbol
		roll, expy string
	}{
		// CME's own example: roll Thursday 2014-12-11 for the 2014-12-19 expiry.
		{Symbol{"ES", 2014, 12}, "2014-12-11", "2014-12-19"},
		{Symbol{"ES", 2014, 9}, "2014-09-11", "2014-09-19"},
		{Symbol{"MES", 2025, 3}, "2025-03-13", "2025-03-21"},
		{Symbol{"MES", 2025, 9}, "2025-09-11", "2025-09-19"},
		// A month starting on a Friday: the roll is the first Thursday.
		{Symbol{"MES", 2025, 8}, "2025-08-07", "2025-08-15"},
		{Symbol{"MES", 2026, 5}, "2026-05-07", "2026-05-15"},
		{Symbol{"MES", 2023, 12}, "2023-12-07", "2023-12-15"},
		{Symbol{"MES", 2024, 3}, "2024-03-07", "2024-03-15"},
	} {
		r := tc.sym.RollDate()
		if r.String() != tc.roll || tc.sym.Expiry().Format("2006-01-02") != tc.expy {
			t.Errorf("%s: roll %s expiry %s, want roll %s expiry %s", tc.sym, r, tc.sym.Expiry().Format("2006-01-02"), tc.roll, tc.expy)
		}
		if r.Date().Weekday() != time.Thursday {
			t.Errorf("%s: roll %s is a %s", tc.sym, r, r.Date().Weekday())
		}
	}
}

func TestFrontMonth(t *testing.T) {
	day := func(y int, m time.Month, d int) Session { return Session{y, m, d} }
	for _, tc := range []struct {
		s    Session
		want string
	}{
		{day(2024, 1, 2), "MESH4"},
		// March 2024 starts on a Friday: roll Thursday 7th, expiry Friday 15th.
		{day(2024, 3, 6), "MESH4"},  // the day before the roll
		{day(2024, 3, 7), "MESM4"},  // the roll date
		{day(2024, 3, 12), "MESM4"}, // the synthetic session
		{day(2024, 3, 15), "MESM4"}, // expiry day: H4 still trades, M4 is the front
		{day(2024, 3, 18), "MESM4"},
		// June 2024: roll 13th, expiry 21st.
		{day(2024, 6, 12), "MESM4"},
		{day(2024, 6, 13), "MESU4"},
		{day(2024, 6, 21), "MESU4"},
		// September 2025: roll 11th, expiry 19th.
		{day(2025, 9, 10), "MESU5"},
		{day(2025, 9, 11), "MESZ5"},
		{day(2025, 9, 19), "MESZ5"},
		// December 2025 and the year end: roll 11th, expiry 19th.
		{day(2025, 12, 10), "MESZ5"},
		{day(2025, 12, 11), "MESH6"},
		{day(2025, 12, 19), "MESH6"},
		{day(2025, 12, 31), "MESH6"},
		{day(2026, 1, 2), "MESH6"},
		// December 2026: roll Thursday 10th, expiry Friday 18th.
		{day(2026, 12, 9), "MESZ6"},
		{day(2026, 12, 10), "MESH7"},
		{day(2026, 12, 31), "MESH7"},
		// March 2026: roll 12th, expiry 20th.
		{day(2026, 3, 11), "MESH6"},
		{day(2026, 3, 12), "MESM6"},
	} {
		got := FrontMonth("MES", tc.s)
		if got.String() != tc.want {
			t.Errorf("FrontMonth(%s) = %s (roll %s), want %s", tc.s, got, got.RollDate(), tc.want)
		}
		if !got.RollDate().Date().After(tc.s.Date()) {
			t.Errorf("FrontMonth(%s) = %s, rolled already on %s", tc.s, got, got.RollDate())
		}
	}
	// An instant picks its session: Wednesday 2025-12-10 after 18:00 ET is
	// the roll date's session (Thursday the 11th), so H6; at 16:59 still Z5.
	if got := FrontMonth("MES", SessionOf(time.Date(2025, 12, 10, 18, 0, 0, 0, NewYork))); got.String() != "MESH6" {
		t.Errorf("Wednesday evening before the roll: %s, want MESH6", got)
	}
	if got := FrontMonth("MES", SessionOf(time.Date(2025, 12, 10, 16, 59, 0, 0, NewYork))); got.String() != "MESZ5" {
		t.Errorf("Wednesday afternoon before the roll: %s, want MESZ5", got)
	}
}
