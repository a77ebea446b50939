// bench_test.go: gate speed and allocations on the accept and reject
// paths. Run: go test -run '^$' -bench Gate -benchmem ./limits/

package limits

import (
	"fmt"
	"testing"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
	"github.com/shopspring/decimal"
)

func benchGate(b *testing.B, mut func(s *Snapshot, in *intent.Intent), want Reason) {
	g, err := NewGate(Config{Windows: map[string]Window{"orb": {600, 690}, "vwapmr": {585, 945}}})
	if err != nil {
		b.Fatal(err)
	}
	s, in := baseSnapshot(), baseEnter()
	s.Rate = g.NewRateLimiter()
	for i := range 4 {
		s.Rate.Record(s.NowNs - int64(i+2)*1e9)
	}
	mut(&s, &in)
	if d := g.Check(&s, &in); d.Reason != want {
		b.Fatalf("setup: got %v, want %q", d, want)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d := g.Check(&s, &in)
		if d.Reason != want {
			b.Fatal(d)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}

func BenchmarkGateAcceptEnter(b *testing.B) {
	benchGate(b, func(s *Snapshot, in *intent.Intent) {}, OK)
}

// An add to a long in profit, with two working stops and a target:
// every loop of the rule set runs.
func BenchmarkGateAcceptAdd(b *testing.B) {
	benchGate(b, func(s *Snapshot, in *intent.Intent) {
		longPos(s, 4, last-6, last-10)
		s.Orders = append(s.Orders, WorkingOrder{ClientID: "s2", Role: RoleStop, Side: market.Sell, Qty: 0, Price: last - 9},
			WorkingOrder{ClientID: "t1", Role: RoleTarget, Side: market.Sell, Qty: 4, Type: market.LimitOrder, Price: last + 8})
		in.Kind = intent.Add
	}, OK)
}

func BenchmarkGateAcceptMoveStop(b *testing.B) {
	benchGate(b, func(s *Snapshot, in *intent.Intent) {
		longPos(s, 4, last-6, last-10)
		*in = intent.Intent{Kind: intent.MoveStop, Ref: "s1", Stop: last - 5}
	}, OK)
}

func BenchmarkGateRejectLossBound(b *testing.B) {
	benchGate(b, func(s *Snapshot, in *intent.Intent) { s.AllowanceCents = 100 }, LossBound)
}

func BenchmarkGateRejectNoBracket(b *testing.B) {
	benchGate(b, func(s *Snapshot, in *intent.Intent) { in.Stop = 0 }, NoBracket)
}

func BenchmarkGateRejectAveragingDown(b *testing.B) {
	benchGate(b, func(s *Snapshot, in *intent.Intent) {
		longPos(s, 2, last+2, last-10)
		in.Kind = intent.Add
	}, AveragingDown)
}

// allRules is a config with every rule of the gate switched on.
func allRules() Config {
	return Config{Windows: map[string]Window{"orb": {600, 690}, "vwapmr": {585, 945}}, MaxDataAge: 5 * time.Second,
		TrailingMode: TrailingIntraday, TrailingDrawdown: dollars("2000"), WeeklyLossPct: dollars("3"),
		ScalingTiers: []decimal.Decimal{dollars("1000"), dollars("2000"), dollars("3000")}}
}

// yearCalendar is a year of releases: three a week (more than any desk
// blacks out), none near the benchmark's 10:30.
func yearCalendar() *Calendar {
	var rs []Release
	for d := range 365 {
		day := time.Date(2026, 1, 1, 8, 30, 0, 0, market.NewYork).AddDate(0, 0, d)
		if d%7 < 3 {
			rs = append(rs, Release{TimeNs: day.UnixNano(), Name: "08:30"}, Release{TimeNs: day.Add(5*time.Hour + 30*time.Minute).UnixNano(), Name: "14:00"})
		}
	}
	return NewCalendar(rs)
}

// allRulesSnapshot makes s the state the desk fills with every rule on: a
// tier, the trailing and weekly allowances, the session's sends (every 30
// s, as engines send at most) and the working brackets of two other
// accounts (stops and targets, none in the way). busy sends every 100 ms
// (the duplicate rule scans all 16 remembered) and doubles the others.
func allRulesSnapshot(s *Snapshot, busy bool) {
	s.AllowanceTotalCents, s.TrailingAllowanceCents, s.WeeklyAllowanceCents = 750_00, 2000_00, 1500_00
	s.TierUnits, s.TradesToday, s.LossStreak, s.LastLossNs = 4, 5, 2, s.NowNs-int64(time.Minute)
	s.Activity, s.Others = NewActivity(), s.Others[:0]
	gap, brackets := 30*time.Second, 2
	if busy {
		gap, brackets = 100*time.Millisecond, 4
	}
	for i := range 20 {
		in := baseEnter()
		in.Entry -= market.Price(i + 1)
		s.Activity.RecordSent(s.NowNs-int64(20-i)*int64(gap), &in)
	}
	for i := range brackets {
		off := market.Price(i)
		s.Others = append(s.Others,
			WorkingOrder{ClientID: "os", Role: RoleStop, Side: market.Sell, Qty: 2, Type: market.StopOrder, Price: last - 30 - off},
			WorkingOrder{ClientID: "ot", Role: RoleTarget, Side: market.Sell, Qty: 2, Type: market.LimitOrder, Price: last + 30 + off})
	}
}

// An add with every rule on, as a desk of three accounts runs it.
func BenchmarkGateAcceptAddAllRules(b *testing.B) { benchAllRules(b, false) }

// The same with the duplicate rule scanning its whole memory and four
// other accounts' brackets to check.
func BenchmarkGateAcceptAddAllRulesBusy(b *testing.B) { benchAllRules(b, true) }

func benchAllRules(b *testing.B, busy bool) {
	g, err := NewGate(allRules())
	if err != nil {
		b.Fatal(err)
	}
	g = g.WithCalendar(yearCalendar())
	s, in := baseSnapshot(), baseEnter()
	longPos(&s, 4, last-6, last-10)
	s.Orders = append(s.Orders, WorkingOrder{ClientID: "t1", Role: RoleTarget, Side: market.Sell, Qty: 4, Type: market.LimitOrder, Price: last + 8})
	in.Kind = intent.Add
	allRulesSnapshot(&s, busy)
	s.Rate = g.NewRateLimiter()
	if d := g.Check(&s, &in); !d.Allowed {
		b.Fatal(d)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if d := g.Check(&s, &in); !d.Allowed {
			b.Fatal(d)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}

// BenchmarkCalendarWindow: the blackout lookup grows with log n. "forward"
// asks as the desk does (its clock only moves on, a minute a step);
// "scattered" jumps ~5.5 days a step across the whole calendar, so at
// n=100,000 (11 years of hourly releases) it also pays for cache misses.
func BenchmarkCalendarWindow(b *testing.B) {
	for _, n := range []int{10, 1_000, 100_000} {
		rs := make([]Release, n)
		for i := range rs {
			rs[i] = Release{TimeNs: int64(i) * int64(time.Hour), Name: "r"}
		}
		c := NewCalendar(rs)
		span := int64(n) * int64(time.Hour)
		for _, mode := range []struct {
			name string
			step int64
		}{{"forward", int64(time.Minute)}, {"scattered", 7919 * int64(time.Minute)}} {
			b.Run(fmt.Sprintf("%s/n=%d", mode.name, n), func(b *testing.B) {
				now, hit := int64(0), 0
				for b.Loop() {
					if now += mode.step; now >= span {
						now -= span
					}
					if _, in := c.Window(now, int64(5*time.Minute), int64(5*time.Minute)); in {
						hit++
					}
				}
				if hit == 0 {
					b.Fatal("no lookup hit a window")
				}
			})
		}
	}
}

// TestGateAcceptPathZeroAlloc makes the benchmark's claim a test.
func TestGateAcceptPathZeroAlloc(t *testing.T) {
	g, _ := NewGate(Config{Windows: map[string]Window{"orb": {600, 690}}})
	s, in := baseSnapshot(), baseEnter()
	longPos(&s, 4, last-6, last-10)
	s.Rate = g.NewRateLimiter()
	in.Kind = intent.Add
	if n := testing.AllocsPerRun(200, func() {
		if d := g.Check(&s, &in); !d.Allowed {
			t.Fatal(d)
		}
	}); n != 0 {
		t.Fatalf("accept path allocates %v per check", n)
	}
	// And with every rule on, on the accept path and on each refusal.
	ga, err := NewGate(allRules())
	if err != nil {
		t.Fatal(err)
	}
	ga = ga.WithCalendar(yearCalendar())
	for _, busy := range []bool{false, true} {
		allRulesSnapshot(&s, busy)
		if n := testing.AllocsPerRun(200, func() {
			if d := ga.Check(&s, &in); !d.Allowed {
				t.Fatal(d)
			}
		}); n != 0 {
			t.Fatalf("accept path with every rule on allocates %v per check", n)
		}
	}
	for _, tc := range ruleCases() {
		g, err := NewGate(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		g = g.WithCalendar(testCalendar())
		s, in := baseSnapshot(), baseEnter()
		tc.mut(&s, &in)
		if n := testing.AllocsPerRun(20, func() { g.Check(&s, &in) }); n != 0 {
			t.Errorf("%s: %v allocations per check", tc.name, n)
		}
	}
}
