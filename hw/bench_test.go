// bench_test.go: edge → Desk.Flatten latency, p50/p99 with HdrHistogram.
// BenchmarkEdgeToFlatten measures the watcher's own path once the debounce
// window closes (fake clock: Advance → Flatten called, wall time).
// BenchmarkSimEdgeToFlattenRealClock measures a sim press end to end on the
// real clock (debounce window included).
package hw

import (
	"context"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
)

// wallDesk records the wall time of each Flatten call.
type wallDesk struct{ at chan time.Time }

func (d wallDesk) Flatten(context.Context, string, string, string) error {
	d.at <- time.Now()
	return nil
}

func report(b *testing.B, h *hdrhistogram.Histogram, unit string) {
	b.ReportMetric(float64(h.ValueAtQuantile(50)), "p50-"+unit)
	b.ReportMetric(float64(h.ValueAtQuantile(99)), "p99-"+unit)
	b.ReportMetric(float64(h.Max()), "max-"+unit)
}

func BenchmarkEdgeToFlatten(b *testing.B) {
	tp := newTestPin()
	tp.L = gpio.High
	h := startButton(b, Config{ButtonPin: "GPIO17"}, tp, tp)
	desk := wallDesk{at: make(chan time.Time, 1)}
	h.b.desk = desk
	hist := hdrhistogram.New(1, 10_000_000, 3) // ns
	b.ResetTimer()
	for range b.N {
		h.edge(gpio.Low)
		t0 := time.Now()
		h.clk.Advance(DefaultDebounce) // the window closes now
		t1 := <-desk.at
		_ = hist.RecordValue(t1.Sub(t0).Nanoseconds())
		h.wait("settle")
		h.edge(gpio.High)
		h.clk.Advance(DefaultDebounce)
		h.wait("settle")
	}
	b.StopTimer()
	report(b, hist, "ns")
}

func BenchmarkSimEdgeToFlattenRealClock(b *testing.B) {
	desk := wallDesk{at: make(chan time.Time, 1)}
	d, err := Open(Config{ButtonPin: SimPin}, desk, Options{Clock: clockwork.NewRealClock()})
	if err != nil {
		b.Fatal(err)
	}
	trace := make(chan traceEvent, 1000)
	d.Button.trace = func(ev traceEvent) { trace <- ev }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitKind(b, trace, "ready")
	total := hdrhistogram.New(1, 10_000_000, 3)    // µs
	overhead := hdrhistogram.New(1, 10_000_000, 3) // µs beyond the debounce window
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		d.Sim.Press()
		t1 := <-desk.at
		us := t1.Sub(t0).Microseconds()
		_ = total.RecordValue(us)
		_ = overhead.RecordValue(max(1, us-DefaultDebounce.Microseconds()))
		waitKind(b, trace, "settle")
		d.Sim.Release()
		waitKind(b, trace, "settle")
	}
	b.StopTimer()
	b.ReportMetric(float64(total.ValueAtQuantile(50)), "p50-total-µs")
	b.ReportMetric(float64(total.ValueAtQuantile(99)), "p99-total-µs")
	b.ReportMetric(float64(overhead.ValueAtQuantile(50)), "p50-over-debounce-µs")
	b.ReportMetric(float64(overhead.ValueAtQuantile(99)), "p99-over-debounce-µs")
}
