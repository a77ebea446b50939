package bench

// bench_test.go: the whole suite in short mode (what CI runs): every figure
// present, positive and beside a positive floor — no timing assertions.
// This test binary serves as the strategy worker child: with
// DESKGUARD_BENCH_WORKER set it runs workerhost.RunWorker with the real
// engines, exactly as `deskguard worker` does.

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/deskguard/deskguard/supervisor/workerhost"
)

func TestMain(m *testing.M) {
	if os.Getenv("DESKGUARD_BENCH_WORKER") != "" {
		log := slog.New(slog.NewTextHandler(os.Stderr, nil))
		if err := workerhost.RunWorker(os.Stdin, os.Stdout, workerhost.NewRunnerHost, nil, log); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func shortOptions(t *testing.T) Options {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Options{Dir: t.TempDir(), Short: true, WorkerExe: exe, WorkerArgs: []string{}, WorkerEnv: []string{"DESKGUARD_BENCH_WORKER=1"}}
}

func TestShortRunHasEveryFigure(t *testing.T) {
	res, err := Run(context.Background(), shortOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if miss := res.Missing(); len(miss) > 0 {
		t.Fatalf("figures missing or not positive:\n%s", strings.Join(miss, "\n"))
	}
	for _, n := range Names() {
		f := res[n]
		if f.What == "" || f.Floor == "" || f.N <= 0 {
			t.Errorf("%s: undescribed figure %+v", n, f)
		}
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, n := range Names() {
		for _, k := range []string{"p50", "p99", "unit", "floor_p50", "floor_p99", "ratio"} {
			if _, ok := doc[n][k]; !ok {
				t.Errorf("JSON %s lacks %q", n, k)
			}
		}
	}
	var text bytes.Buffer
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, n := range Names() {
		if !strings.Contains(text.String(), n) {
			t.Errorf("table lacks %s", n)
		}
	}
	t.Logf("\n%s", text.String())
}

func TestOnlyAndMissing(t *testing.T) {
	opt := shortOptions(t)
	opt.Only = []string{GateCheck}
	res, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[GateCheck].P50 <= 0 {
		t.Fatalf("only gate: %+v", res)
	}
	miss := res.Missing()
	if len(miss) != len(Names())-1 {
		t.Fatalf("missing %v", miss)
	}
}

func TestQuantiles(t *testing.T) {
	xs := make([]float64, 100)
	for i := range xs {
		xs[i] = float64(100 - i) // 100 … 1
	}
	cases := []struct {
		name     string
		in       []float64
		slow     bool
		p50, p99 float64
	}{
		{"latency", xs, false, 50, 99},
		{"rate: slow tail", xs, true, 50, 1},
		{"one", []float64{7}, false, 7, 7},
		{"none", nil, false, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p50, p99 := quantiles(c.in, c.slow)
			if p50 != c.p50 || p99 != c.p99 {
				t.Fatalf("got %v %v, want %v %v", p50, p99, c.p50, c.p99)
			}
		})
	}
}

func TestJournalBenchRuns(t *testing.T) {
	res, err := JournalBench(t.TempDir(), 64)
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

// BenchmarkJournal runs JournalBench with b.N records per run and logs the
// whole table.
func BenchmarkJournal(b *testing.B) {
	res, err := JournalBench(b.TempDir(), b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(res.Fsync.P50.Microseconds()), "fsync-p50-µs")
	b.ReportMetric(float64(res.Append.P50.Microseconds()), "append-p50-µs")
	b.ReportMetric(float64(res.Append.P99.Microseconds()), "append-p99-µs")
	b.ReportMetric(res.Ratio, "append/fsync")
	for _, r := range res.Runs {
		b.Logf("%-36s writers %2d: %8.0f/s, %5.1f records/commit, latency %v", r.Name, r.Writers, r.PerSec, r.PerCommit, r.AppendWait)
	}
	b.Logf("open %d records: full check %v, quick %v", res.OpenRecord, res.OpenFull, res.OpenQuick)
}
