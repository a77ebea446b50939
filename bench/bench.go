// Package bench measures the figures that matter to a desk — the risk
// gate, the durable journal, the worker round trip, the kill path and
// replay — each beside this machine's floor measured in the same run and
// on the same disk, so a figure is read as "k times the floor" rather than
// as an absolute that means nothing on another machine. `deskguard bench`
// prints them; BENCHMARKS.md quotes them.
//
// Every figure has a p50 and a p99 in its unit and the floor's p50 and p99
// in the same unit; Ratio is p50 / floor p50. For rates (per second) the
// "p99" is the slow tail: the 1st-percentile run, so p99 ≤ p50.
//
// It may touch every part it measures — limits, journal, supervisor (and its worker children, started
// from os.Executable), broker/sim, broker/tradovate, broker/venue on loopback, market, market/synth,
// strategies, config — plus the directory it is given for the disk figures and a `cat` child for the
// pipe floor. Nothing else imports it but cmd/deskguard.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Figure is one measurement beside its floor.
type Figure struct {
	P50      float64 `json:"p50"`
	P99      float64 `json:"p99"`
	Unit     string  `json:"unit"`
	FloorP50 float64 `json:"floor_p50"`
	FloorP99 float64 `json:"floor_p99"`
	Ratio    float64 `json:"ratio"` // P50 / FloorP50
	N        int     `json:"n"`     // samples behind P50/P99
	What     string  `json:"what"`  // what was timed
	Floor    string  `json:"floor"` // what the floor is
	Note     string  `json:"note,omitempty"`

	also map[string]Figure // more figures the same step measured
}

// Names of the figures, in the order they are measured and printed.
const (
	GateCheck         = "gate_check"
	JournalAppend     = "journal_append_fsync"
	GroupCommit       = "journal_group_commit_64"
	TickToIntent      = "tick_to_intent_worker"
	TickToFirstIntent = "tick_to_first_intent_worker" // measured by the TickToIntent step
	KillSent          = "kill_liquidate_sent_20"
	KillSentBusy      = "kill_liquidate_sent_20_busy" // measured by the KillSent step
	KillFlat          = "kill_flat_confirmed_20"
	ReplayThroughput  = "replay_session"
	KillFlatRithmic   = "kill_flat_confirmed_20_rithmic" // rithmic.go
	DecodeRithmic     = "rithmic_decode_last_trade"      // rithmic.go
)

// Names lists every figure Run produces, in order.
func Names() []string {
	return []string{GateCheck, JournalAppend, GroupCommit, TickToIntent, TickToFirstIntent, KillSent, KillSentBusy, KillFlat, ReplayThroughput,
		KillFlatRithmic, DecodeRithmic}
}

// Options configure Run.
type Options struct {
	// Dir is where the journal and fsync files go (the disk measured);
	// default os.TempDir(). Files are removed afterwards.
	Dir string
	// Short runs tiny iteration counts (CI): every figure present, none
	// meaningful.
	Short bool
	// WorkerExe and WorkerArgs start a real strategy worker (default
	// os.Executable() and ["worker"]: the deskguard binary). WorkerEnv is
	// added to its environment.
	WorkerExe  string
	WorkerArgs []string
	WorkerEnv  []string
	// Only, when set, runs only these figures.
	Only []string
	// Log receives progress (discarded when nil).
	Log *slog.Logger
}

// Results is every figure by name.
type Results map[string]Figure

// ErrBench wraps a measurement that could not be made.
var ErrBench = errors.New("bench")

// Run measures every figure (or opt.Only) in one process, one after the
// other.
func Run(ctx context.Context, opt Options) (Results, error) {
	if opt.Dir == "" {
		opt.Dir = os.TempDir()
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.WorkerExe == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("%w: the worker binary: %v", ErrBench, err)
		}
		opt.WorkerExe = exe
	}
	if opt.WorkerArgs == nil {
		opt.WorkerArgs = []string{"worker"}
	}
	tmp, err := os.MkdirTemp(opt.Dir, "deskguard-bench-")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBench, err)
	}
	defer os.RemoveAll(tmp)
	want := map[string]bool{}
	for _, n := range opt.Only {
		want[n] = true
		if n == TickToFirstIntent {
			want[TickToIntent] = true // one step measures both
		}
		if n == KillSentBusy {
			want[KillSent] = true
		}
	}
	steps := []struct {
		name string
		run  func(ctx context.Context, opt Options, dir string) (Figure, error)
	}{
		{GateCheck, benchGate},
		{JournalAppend, benchJournalAppend},
		{GroupCommit, benchGroupCommit},
		{TickToIntent, benchTickToIntent},
		{KillSent, benchKillSent},
		{KillFlat, benchKillFlat},
		{ReplayThroughput, benchReplay},
		{KillFlatRithmic, benchKillFlatRithmic},
		{DecodeRithmic, benchDecodeRithmic},
	}
	res := Results{}
	for _, s := range steps {
		if len(want) > 0 && !want[s.name] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		opt.Log.Info("measuring", "figure", s.name)
		t0 := time.Now()
		f, err := s.run(ctx, opt, tmp)
		if err != nil {
			return res, fmt.Errorf("%w: %s: %w", ErrBench, s.name, err)
		}
		all := map[string]Figure{s.name: f}
		for n, g := range f.also {
			all[n] = g
		}
		for n, g := range all {
			if len(want) > 0 && !want[n] {
				continue
			}
			g.also = nil
			if g.FloorP50 > 0 {
				g.Ratio = g.P50 / g.FloorP50
			}
			res[n] = g
			opt.Log.Info("measured", "figure", n, "p50", g.P50, "unit", g.Unit, "took", time.Since(t0))
		}
	}
	return res, nil
}

// Missing lists the figures of Names() that are absent or not positive
// (p50, p99, floor p50, floor p99).
func (r Results) Missing() []string {
	var out []string
	for _, n := range Names() {
		f, ok := r[n]
		switch {
		case !ok:
			out = append(out, n+": absent")
		case !(f.P50 > 0 && f.P99 > 0 && f.FloorP50 > 0 && f.FloorP99 > 0 && f.Ratio > 0) || f.Unit == "":
			out = append(out, fmt.Sprintf("%s: not positive (%+v)", n, f))
		}
	}
	return out
}

// WriteText prints the figures as a table, in Names() order.
func (r Results) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tP50\tP99\tUNIT\tFLOOR P50\tFLOOR P99\tRATIO\tN\tFLOOR IS")
	for _, n := range Names() {
		f, ok := r[n]
		if !ok {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%d\t%s\n", n, num(f.P50), num(f.P99), f.Unit, num(f.FloorP50), num(f.FloorP99),
			f.Ratio, f.N, f.Floor)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, n := range Names() {
		if f, ok := r[n]; ok {
			line := fmt.Sprintf("%s: %s", n, f.What)
			if f.Note != "" {
				line += " — " + f.Note
			}
			fmt.Fprintln(w, line)
		}
	}
	_, err := fmt.Fprintln(w, "\nRatio = p50 / floor p50. For rates (/s) p99 is the slowest run.")
	return err
}

// num prints a figure with 3 significant digits.
func num(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return strings.TrimRight(fmt.Sprintf("%.4f", v), "0")
}

// quantiles returns the p50 and p99 of xs (nearest rank); for rates
// (higher is better) pass slowTail to get the 1st percentile as "p99".
func quantiles(xs []float64, slowTail bool) (p50, p99 float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	rank := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	if slowTail {
		return rank(0.5), rank(0.01)
	}
	return rank(0.5), rank(0.99)
}

// durations converts samples to floats in unit.
func durations(ds []time.Duration, unit time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / float64(unit)
	}
	return out
}

// figure fills the quantiles of samples and floor (same unit).
func figure(unit string, samples, floor []float64, rate bool) Figure {
	f := Figure{Unit: unit, N: len(samples)}
	f.P50, f.P99 = quantiles(samples, rate)
	f.FloorP50, f.FloorP99 = quantiles(floor, rate)
	return f
}

// pick returns short or long by mode.
func pick(short bool, s, l int) int {
	if short {
		return s
	}
	return l
}
