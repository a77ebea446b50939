// bench_test.go: go test -bench figures (HdrHistogram p50/p99 reported as
// metrics) and a test that Bench runs end to end.

package journal

import (
	"context"
	"fmt"
	"testing"

	"github.com/deskguard/deskguard/market"
)

func TestBenchRuns(t *testing.T) {
	res, err := Bench(t.TempDir(), 64)
	if err != nil {
		t.Fatal(err)
	}
	if res.Fsync.N != 64 || res.Append.N != 64 || len(res.Runs) != 7 || res.OpenRecord != 64*4 {
		t.Fatalf("%+v", res)
	}
	for _, r := range res.Runs {
		t.Logf("%-36s writers %2d: %8.0f/s, %5.1f records/commit, %v", r.Name, r.Writers, r.PerSec, r.PerCommit, r.AppendWait)
	}
}

func BenchmarkAppend(b *testing.B) {
	for _, w := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("writers=%d", w), func(b *testing.B) {
			j, _ := openTemp(b, Options{Clock: market.WallClock{}})
			rec := NewIntent(enter("A1", "A1-1", market.Buy, 5, 20601, 1), &Decision{Allowed: true})
			b.ResetTimer()
			tp, err := runWriters(w, max(b.N, w), func() error {
				_, err := j.Append(context.Background(), rec)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(tp.PerSec, "appends/s")
			b.ReportMetric(float64(tp.AppendWait.P50.Microseconds()), "p50-µs")
			b.ReportMetric(float64(tp.AppendWait.P99.Microseconds()), "p99-µs")
		})
	}
}

func BenchmarkFsync256(b *testing.B) {
	l, err := benchFsync(b.TempDir()+"/f", max(b.N, 1))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(l.P50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(l.P99.Microseconds()), "p99-µs")
}

// BenchmarkJournal runs Bench (the figures in BENCHMARKS.md, "Journal")
// with b.N records per run and logs the whole table.
func BenchmarkJournal(b *testing.B) {
	res, err := Bench(b.TempDir(), b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(res.Fsync.P50.Microseconds()), "fsync-p50-µs")
	b.ReportMetric(float64(res.Append.P50.Microseconds()), "append-p50-µs")
	b.ReportMetric(float64(res.Append.P99.Microseconds()), "append-p99-µs")
	b.ReportMetric(res.Ratio, "append/fsync")
	b.Logf("fsync 256 B: %v", res.Fsync)
	b.Logf("append, 1 writer: %v (%.2f × fsync p50)", res.Append, res.Ratio)
	for _, r := range res.Runs {
		b.Logf("%-36s writers %2d: %8.0f/s, %5.1f records/commit, latency %v", r.Name, r.Writers, r.PerSec, r.PerCommit, r.AppendWait)
	}
	b.Logf("open %d records: full check %v, quick %v", res.OpenRecord, res.OpenFull, res.OpenQuick)
}
