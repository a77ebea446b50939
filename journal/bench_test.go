// bench_test.go: go test -bench figures for the journal's own hot path
// (HdrHistogram p50/p99 reported as metrics). The whole journal benchmark
// that `deskguard bench` quotes is bench.JournalBench.

package journal

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/deskguard/deskguard/market"
)

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

// Latency summarises a histogram.
type latency struct{ P50, P99 time.Duration }

func hist() *hdrhistogram.Histogram { return hdrhistogram.New(1_000, 10_000_000_000, 3) }

func summarise(h *hdrhistogram.Histogram) latency {
	return latency{P50: time.Duration(h.ValueAtQuantile(50)), P99: time.Duration(h.ValueAtQuantile(99))}
}

type throughput struct {
	PerSec     float64
	AppendWait latency
}

// runWriters runs n appends over w goroutines.
func runWriters(w, n int, appendOne func() error) (throughput, error) {
	per := max(n/w, 1)
	var (
		mu   sync.Mutex
		h    = hist()
		wg   sync.WaitGroup
		ferr error
	)
	start := time.Now()
	for g := 0; g < w; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := hist()
			for i := 0; i < per; i++ {
				t := time.Now()
				if err := appendOne(); err != nil {
					mu.Lock()
					ferr = err
					mu.Unlock()
					return
				}
				_ = local.RecordValue(int64(time.Since(t)))
			}
			mu.Lock()
			h.Merge(local)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return throughput{PerSec: float64(per*w) / time.Since(start).Seconds(), AppendWait: summarise(h)}, ferr
}

// benchFsync times n 256-byte writes + fdatasync into a preallocated file.
func benchFsync(path string, n int) (latency, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return latency{}, err
	}
	defer os.Remove(path)
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, 64<<10), 0); err != nil {
		return latency{}, err
	}
	buf := make([]byte, 256)
	h := hist()
	for i := 0; i < n; i++ {
		buf[0] = byte(i)
		t := time.Now()
		if _, err := f.WriteAt(buf, int64(i%16)*4096); err != nil {
			return latency{}, err
		}
		if err := fdatasync(f); err != nil {
			return latency{}, err
		}
		_ = h.RecordValue(int64(time.Since(t)))
	}
	return summarise(h), nil
}
