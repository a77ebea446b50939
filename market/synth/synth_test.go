// Tests of the synthetic session generator: determinism, the golden hash,
// session invariants, regimes, the volume curve, sizes and the scripted
// events (opening-range breaks, VWAP excursions, divergences, gaps).

package synth

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/market"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func gen(t testing.TB, o Options) []market.Trade {
	t.Helper()
	tr, err := Generate(o)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", o, err)
	}
	return tr
}

func TestDeterminism(t *testing.T) {
	o := Options{Seed: 7, Regime: Range, Scale: 0.05}
	a, b := gen(t, o), gen(t, o)
	if !slices.Equal(a, b) {
		t.Fatal("same options gave different sessions")
	}
	r, err := NewReader(o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		tr, err := r.Next()
		if err != nil || tr != a[i] {
			t.Fatalf("reader trade %d = %+v, %v; Generate gave %+v", i, tr, err, a[i])
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last trade: %v, want io.EOF", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("EOF must stick: %v", err)
	}
	o.Seed = 8
	if slices.Equal(a, gen(t, o)) {
		t.Fatal("seeds 7 and 8 gave the same session")
	}
	var x, y bytes.Buffer
	o.Seed = 7
	if err := WriteCSV(&x, o); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV(&y, o); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x.Bytes(), y.Bytes()) {
		t.Fatal("WriteCSV is not deterministic")
	}
}

// TestGolden pins seed 1 at the default options (a whole, million-trade
// session). Regenerate with: go test ./market/synth -run Golden -update
func TestGolden(t *testing.T) {
	h := sha256.New()
	var lines countingWriter
	if err := WriteCSV(io.MultiWriter(h, &lines), Options{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	path := filepath.Join("testdata", "seed1.sha256")
	if *update {
		if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != strings.TrimSpace(string(want)) {
		t.Errorf("seed 1 CSV sha256 = %s, want %s (if the change is intended: -update)", got, want)
	}
	if n := lines.n - 1; n < 800_000 || n > 1_300_000 {
		t.Errorf("default scale gave %d trades, want about a million", n)
	}
}

type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

func TestOptionsRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"regime", Options{Regime: "sideways"}},
		{"negative scale", Options{Scale: -1}},
		{"NaN scale", Options{Scale: math.NaN()}},
		{"huge scale", Options{Scale: MaxScale + 1}},
		{"saturday", Options{Date: market.Session{Year: 2024, Month: 3, Day: 9}}},
		{"no such day", Options{Date: market.Session{Year: 2024, Month: 2, Day: 30}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewReader(tc.o); !errors.Is(err, ErrOptions) {
				t.Fatalf("NewReader(%+v) = %v, want ErrOptions", tc.o, err)
			}
			if err := WriteCSV(io.Discard, tc.o); !errors.Is(err, ErrOptions) {
				t.Fatalf("WriteCSV: %v, want ErrOptions", err)
			}
		})
	}
}

func TestInvariants(t *testing.T) {
	for _, reg := range []Regime{Trend, Range, Mixed, ""} {
		for _, date := range []market.Session{{}, {Year: 2024, Month: 11, Day: 4}, {Year: 2024, Month: 3, Day: 11}} {
			o := Options{Seed: 3, Regime: reg, Date: date, Scale: 0.1}
			t.Run(string(reg)+"/"+date.String(), func(t *testing.T) {
				if date == (market.Session{}) {
					date = DefaultDate
				}
				tr := gen(t, o)
				if len(tr) < 70_000 || len(tr) > 140_000 {
					t.Errorf("scale 0.1: %d trades, want about 100k", len(tr))
				}
				open, close := date.RTHOpen().UnixNano(), date.RTHClose().UnixNano()
				for i, x := range tr {
					if x.Time < open || x.Time >= close || !market.InRTH(x.T()) || market.SessionOf(x.T()) != date {
						t.Fatalf("trade %d at %s outside RTH of %s", i, x.T(), date)
					}
					if i > 0 && (x.Time < tr[i-1].Time || x.Seq != tr[i-1].Seq+1) {
						t.Fatalf("trade %d goes back in time or sequence: %+v after %+v", i, x, tr[i-1])
					}
					if x.Size < 1 || x.Size > tailCap || (x.Aggressor != market.Buy && x.Aggressor != market.Sell) {
						t.Fatalf("trade %d: %+v", i, x)
					}
					if x.Price < market.MustPrice("4900") || x.Price > market.MustPrice("5400") {
						t.Fatalf("trade %d price %s not a 2024 level", i, x.Price)
					}
				}
			})
		}
	}
}

// TestCSVGrid reads the CSV back: header, every time parses as RFC 3339
// and matches the trade, every price is on the 0.25 grid.
func TestCSVGrid(t *testing.T) {
	o := Options{Seed: 11, Regime: Trend, Scale: 0.05}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, o); err != nil {
		t.Fatal(err)
	}
	tr := gen(t, o)
	sc := bufio.NewScanner(&buf)
	sc.Scan()
	if sc.Text() != CSVHeader {
		t.Fatalf("header %q", sc.Text())
	}
	i := 0
	for sc.Scan() {
		f := strings.Split(sc.Text(), ",")
		if len(f) != 4 {
			t.Fatalf("line %d: %q", i+2, sc.Text())
		}
		ts, err := time.Parse(time.RFC3339Nano, f[0])
		if err != nil || ts.UnixNano() != tr[i].Time || ts.Location() != time.UTC {
			t.Fatalf("line %d time %q: %v", i+2, f[0], err)
		}
		p, err := market.ParsePrice(f[1])
		if err != nil || p != tr[i].Price || !strings.Contains(f[1], ".") || len(f[1])-strings.IndexByte(f[1], '.') != 3 {
			t.Fatalf("line %d price %q: %v", i+2, f[1], err)
		}
		want := map[market.Side]string{market.Buy: "B", market.Sell: "S"}[tr[i].Aggressor]
		if f[3] != want {
			t.Fatalf("line %d side %q, want %q", i+2, f[3], want)
		}
		i++
	}
	if i != len(tr) {
		t.Fatalf("%d lines, %d trades", i, len(tr))
	}
}

func TestFormatters(t *testing.T) {
	var tf timeFormatter
	for _, ns := range []int64{0, 1, 1e9, 1710250200_000000000, 1710250200_100000000, 1710250200_123456789,
		1710250200_120000000, 1710250201_000000001, 1710250200_999999999, -1, -1e9 - 5} {
		want := time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
		if got := string(tf.append(nil, ns)); got != want {
			t.Errorf("format %d = %s, want %s", ns, got, want)
		}
	}
	for _, p := range []market.Price{0, 1, 2, 3, 4, 20601, -1, -5, -20601} {
		if got := string(appendPrice(nil, p)); got != p.String() {
			t.Errorf("appendPrice(%d) = %s, want %s", p, got, p.String())
		}
	}
}

type daySummary struct {
	open, close, high, low market.Price
	half                   [13]int64 // volume per half hour
	plan                   plan
}

func summarize(t *testing.T, o Options) (daySummary, []market.Trade) {
	t.Helper()
	r, err := NewReader(o)
	if err != nil {
		t.Fatal(err)
	}
	tr := gen(t, o)
	s := daySummary{open: tr[0].Price, close: tr[len(tr)-1].Price, high: tr[0].Price, low: tr[0].Price, plan: r.plan}
	for _, x := range tr {
		s.high, s.low = max(s.high, x.Price), min(s.low, x.Price)
		s.half[(x.Time-r.open)/int64(30*time.Minute)] += x.Size
	}
	return s, tr
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestRegimesDiffer(t *testing.T) {
	var netTrend, netRange, rngTrend, rngRange int64
	const seeds = 6
	for seed := int64(1); seed <= seeds; seed++ {
		tr, _ := summarize(t, Options{Seed: seed, Regime: Trend, Scale: 0.2})
		rg, _ := summarize(t, Options{Seed: seed, Regime: Range, Scale: 0.2})
		net := int64(tr.close - tr.open)
		if net*tr.plan.dir <= 0 {
			t.Errorf("seed %d trend day moved %d ticks against its direction %d", seed, net, tr.plan.dir)
		}
		netTrend += abs64(net)
		netRange += abs64(int64(rg.close - rg.open))
		rngTrend += int64(tr.high - tr.low)
		rngRange += int64(rg.high - rg.low)
		t.Logf("seed %d: trend net %.2f range %.2f; range day net %.2f range %.2f", seed,
			float64(net)/4, float64(tr.high-tr.low)/4, float64(rg.close-rg.open)/4, float64(rg.high-rg.low)/4)
	}
	if netTrend < 2*netRange {
		t.Errorf("mean |open→close|: trend %.1f vs range %.1f points; want trend ≥ 2× range",
			float64(netTrend)/4/seeds, float64(netRange)/4/seeds)
	}
	if rngTrend < rngRange*3/2 {
		t.Errorf("mean high−low: trend %.1f vs range %.1f points", float64(rngTrend)/4/seeds, float64(rngRange)/4/seeds)
	}
	// Calibration: the day's range stays within reach of the measured
	// 0.50–1.38 % of price (wider on trend days: the drift adds to it).
	if m := float64(rngRange) / 4 / seeds / 5150; m < 0.003 || m > 0.014 {
		t.Errorf("range-day mean high−low %.2f %% of price", 100*m)
	}
	if m := float64(rngTrend) / 4 / seeds / 5150; m < 0.006 || m > 0.025 {
		t.Errorf("trend-day mean high−low %.2f %% of price", 100*m)
	}
}

func TestVolumeUShape(t *testing.T) {
	for _, reg := range []Regime{Trend, Range, Mixed} {
		for seed := int64(1); seed <= 3; seed++ {
			s, _ := summarize(t, Options{Seed: seed, Regime: reg, Scale: 0.2})
			midday := float64(s.half[5]+s.half[6]) / 2 // 12:00–13:00
			if f, l := float64(s.half[0]), float64(s.half[12]); f < 1.8*midday || l < 1.5*midday {
				t.Errorf("%s seed %d: first half hour %v, last %v, midday %v per half hour: not U-shaped", reg, seed, f, l, midday)
			}
		}
	}
}

func TestSizes(t *testing.T) {
	tr := gen(t, Options{Seed: 5, Scale: 0.3})
	counts := map[int64]int{}
	sizes := make([]int64, len(tr))
	for i, x := range tr {
		counts[min(x.Size, 6)]++
		sizes[i] = x.Size
	}
	slices.Sort(sizes)
	n := float64(len(tr))
	small := float64(counts[1]+counts[2]+counts[3]+counts[4]+counts[5]) / n
	if small < 0.8 || small > 0.92 {
		t.Errorf("1–5 lots: %.3f of trades, want ≈ 0.87", small)
	}
	for k := int64(1); k < 5; k++ {
		if counts[k] <= counts[k+1] {
			t.Errorf("%d lots (%d) not more common than %d lots (%d)", k, counts[k], k+1, counts[k+1])
		}
	}
	p99, top := sizes[len(sizes)*99/100], sizes[len(sizes)-1]
	if p99 < 15 || p99 > 80 || top < 200 {
		t.Errorf("tail: p99 %d (want ≈ 37), max %d (want a heavy tail)", p99, top)
	}
}

// minuteBars builds one-minute bars with the lead's BarBuilder.
func minuteBars(tr []market.Trade) []market.Bar {
	b := market.NewBarBuilder(time.Minute)
	var out []market.Bar
	for _, x := range tr {
		if bar, ok := b.Add(x); ok {
			out = append(out, bar)
		}
	}
	if bar, ok := b.Flush(); ok {
		out = append(out, bar)
	}
	return out
}

func TestOpeningRange(t *testing.T) {
	held, broke := 0, 0
	for _, reg := range []Regime{Trend, Range} {
		for seed := int64(1); seed <= 6; seed++ {
			s, tr := summarize(t, Options{Seed: seed, Regime: reg, Scale: 0.2})
			bars := minuteBars(tr)
			var hi, lo market.Price = 0, math.MaxInt64
			for _, b := range bars[:30] {
				hi, lo = max(hi, b.High), min(lo, b.Low)
			}
			brk := -1
			for i := 30; i < len(bars); i++ {
				if bars[i].High > hi || bars[i].Low < lo {
					brk = i
					break
				}
			}
			if brk < 0 {
				held++
				if reg == Trend {
					t.Errorf("trend seed %d never left its opening range", seed)
				}
				if !s.plan.orHolds {
					t.Errorf("%s seed %d: opening range held without being planned to", reg, seed)
				}
				continue
			}
			broke++
			if s.plan.orHolds {
				t.Errorf("range seed %d broke an opening range planned to hold", seed)
			}
			var before, after int64
			for i := brk - 5; i < brk; i++ {
				before += bars[i].Volume
			}
			for i := brk; i < brk+5 && i < len(bars); i++ {
				after += bars[i].Volume
			}
			if float64(after) < 1.3*float64(before) {
				t.Errorf("%s seed %d: break at bar %d without a volume surge: %d after vs %d before", reg, seed, brk, after, before)
			}
		}
	}
	if held == 0 || broke == 0 {
		t.Errorf("opening range held on %d and broke on %d of 12 days: want some of each", held, broke)
	}
}

// TestRangeExcursions checks that range days reach VWAP ± 2σ and turn back
// with a reversal candle: a bar that trades beyond the band is followed
// within three bars by a bar against the move closing back inside.
func TestRangeExcursions(t *testing.T) {
	for seed := int64(1); seed <= 6; seed++ {
		s, tr := summarize(t, Options{Seed: seed, Regime: Range, Scale: 0.2})
		if s.plan.orHolds {
			continue
		}
		var v, pv, p2v float64
		k := 0
		type pt struct{ vwap, sd float64 }
		bands := []pt{}
		bars := minuteBars(tr)
		for _, b := range bars {
			for ; k < len(tr) && tr[k].Time < b.End(); k++ {
				p, q := float64(tr[k].Price), float64(tr[k].Size)
				v, pv, p2v = v+q, pv+p*q, p2v+p*p*q
			}
			m := pv / v
			bands = append(bands, pt{m, math.Sqrt(max(p2v/v-m*m, 0))})
		}
		found := 0
		for i := 45; i < len(bars)-3; i++ {
			up := float64(bars[i].High) >= bands[i].vwap+2*bands[i].sd
			dn := float64(bars[i].Low) <= bands[i].vwap-2*bands[i].sd
			if !up && !dn {
				continue
			}
			for j := i + 1; j <= i+3; j++ {
				c := float64(bars[j].Close)
				if up && bars[j].Close < bars[j].Open && c < bands[j].vwap+2*bands[j].sd ||
					dn && bars[j].Close > bars[j].Open && c > bands[j].vwap-2*bands[j].sd {
					found++
					i = j + 10
					break
				}
			}
		}
		if found == 0 {
			t.Errorf("range seed %d: no VWAP ±2σ excursion with a reversal candle", seed)
		}
		t.Logf("range seed %d: %d excursions with reversals", seed, found)
	}
}

// TestDeltaDivergence looks for 15-minute windows where price and
// cumulative delta move clearly apart.
func TestDeltaDivergence(t *testing.T) {
	total := 0
	for _, reg := range []Regime{Trend, Range} {
		for seed := int64(1); seed <= 4; seed++ {
			_, tr := summarize(t, Options{Seed: seed, Regime: reg, Scale: 0.2})
			bars := minuteBars(tr)
			cum := make([]int64, len(bars)+1)
			for i, b := range bars {
				cum[i+1] = cum[i] + b.Delta
			}
			n := 0
			for i := 0; i+15 < len(bars); i++ {
				dp := int64(bars[i+14].Close - bars[i].Open)
				var vol int64
				for _, b := range bars[i : i+15] {
					vol += b.Volume
				}
				dd := cum[i+15] - cum[i]
				if abs64(dp) >= 8 && dp*dd < 0 && abs64(dd)*20 >= vol {
					n++
					i += 15
				}
			}
			if n == 0 {
				t.Errorf("%s seed %d: no delta divergence", reg, seed)
			}
			total += n
		}
	}
	t.Logf("%d divergence windows on 8 days", total)
}

func TestGap(t *testing.T) {
	gaps, none := 0, 0
	for seed := int64(1); seed <= 10; seed++ {
		s, tr := summarize(t, Options{Seed: seed, Regime: Mixed, Scale: 0.2})
		jumps := 0
		var big market.Price
		for i := 1; i < len(tr); i++ {
			d := tr[i].Price - tr[i-1].Price
			if d < 0 {
				d = -d
			}
			if d >= 12 {
				jumps++
				big = d
			} else if d > 3 {
				t.Fatalf("seed %d: jump of %d ticks at trade %d outside a gap", seed, d, i)
			}
		}
		want := 0
		if s.plan.gapMinute >= 0 {
			want = 1
			gaps++
		} else {
			none++
		}
		if jumps != want {
			t.Errorf("seed %d: %d gaps (last %s points), plan says %d", seed, jumps, big, want)
		}
	}
	if gaps == 0 || none == 0 {
		t.Errorf("gaps on %d of 10 seeds: want some", gaps)
	}
}

func BenchmarkGenerate(b *testing.B) {
	var n int64
	for i := 0; b.Loop(); i++ {
		r, err := NewReader(Options{Seed: int64(i)})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Next(); err != nil {
				break
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "trades/s")
}

func BenchmarkWriteCSV(b *testing.B) {
	var c countingWriter
	for i := 0; b.Loop(); i++ {
		if err := WriteCSV(&c, Options{Seed: int64(i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.n)/b.Elapsed().Seconds(), "trades/s")
}

// TestReaderConstantMemory: streaming allocates nothing per trade.
func TestReaderConstantMemory(t *testing.T) {
	r, err := NewReader(Options{Seed: 2, Scale: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(20000, func() {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("Next allocates %v times per trade", a)
	}
}
