package supervisor

// bench_test.go: `go test -bench` over the exported bench bodies
// (bench.go), reporting HdrHistogram percentiles as metrics.

import (
	"testing"
	"time"

	"github.com/deskguard/deskguard/limits"
)

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// BenchmarkKill20: trigger → liquidate requests sent for 20 accounts.
func BenchmarkKill20(b *testing.B) {
	res, err := BenchKill(b.TempDir(), 20, max(b.N, 20))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(us(res.Sent.P50), "sent-p50-µs")
	b.ReportMetric(us(res.Sent.P99), "sent-p99-µs")
	b.ReportMetric(us(res.Total.P50), "total-p50-µs")
	b.ReportMetric(us(res.Total.P99), "total-p99-µs")
}

// BenchmarkWorkerRoundTrip: tick → worker answer through a child process
// running the real engines, beside a raw pipe round trip.
func BenchmarkWorkerRoundTrip(b *testing.B) {
	res, err := BenchWorker(enginesProc(""), max(b.N, 200))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(us(res.Worker.P50), "worker-p50-µs")
	b.ReportMetric(us(res.Worker.P99), "worker-p99-µs")
	b.ReportMetric(us(res.Pipe.P50), "pipe-p50-µs")
	b.ReportMetric(us(res.Pipe.P99), "pipe-p99-µs")
}

// BenchmarkReplaySession: a whole synthetic session (about a million trades).
func BenchmarkReplaySession(b *testing.B) {
	for i := 0; i < b.N; i++ {
		res, err := BenchReplay(b.TempDir(), 1, 1)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.TradesPerSec, "trades/s")
		b.ReportMetric(float64(res.Trades), "trades")
	}
}

// TestBenchBodies runs each bench body once, small, so they stay working.
func TestBenchBodies(t *testing.T) {
	// More kills than the default losing streak allows: the bench keeps
	// working for any b.N (BenchmarkKill20 failed at its fourth).
	n := limits.DefaultLossStreak + 2
	k, err := BenchKill(t.TempDir(), 20, n)
	if err != nil || k.Sent.N != int64(n) || k.Total.P50 < k.Sent.P50 {
		t.Fatalf("BenchKill: %+v %v", k, err)
	}
	w, err := BenchWorker(enginesProc(""), 20)
	if err != nil || w.Worker.N != 20 || w.Pipe.N != 20 {
		t.Fatalf("BenchWorker: %+v %v", w, err)
	}
	r, err := BenchReplay(t.TempDir(), 1, 0.02)
	if err != nil || r.Trades == 0 {
		t.Fatalf("BenchReplay: %+v %v", r, err)
	}
}
