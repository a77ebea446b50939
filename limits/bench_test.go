// bench_test.go: gate speed and allocations on the accept and reject
// paths. Run: go test -run '^$' -bench Gate -benchmem ./limits/

package limits

import (
	"testing"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
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
}
