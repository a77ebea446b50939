package synth

// aggressor_test.go: a bar's delta follows its price change, as on real
// tape (calib.go): on one-minute bars of seeds 1–6 the correlation of
// close−open with delta and the share of moving bars whose delta has the
// move's sign sit in a band around what the real ES trades in
// ../shared/data/es-ticks show — measured here too, so the band's source is
// checked, not copied. A generator that draws each print's side on its own
// (corr ≈ 0, agreement ≈ 0.5) fails.

import (
	"io"
	"math"
	"testing"
	"time"

	"github.com/deskguard/deskguard/internal/shareddata"
	"github.com/deskguard/deskguard/market"
)

// deltaVsMove is the correlation of each bar's close−open with its delta,
// and the share of bars that moved whose delta has the move's sign.
func deltaVsMove(bars []market.Bar) (corr, agree float64) {
	var sx, sy, sxx, syy, sxy, n, moved, same float64
	for _, b := range bars {
		x, y := float64(b.Close-b.Open), float64(b.Delta)
		sx, sy, sxx, syy, sxy, n = sx+x, sy+y, sxx+x*x, syy+y*y, sxy+x*y, n+1
		if x != 0 {
			moved++
			if (x > 0) == (y > 0) {
				same++
			}
		}
	}
	return (sxy - sx*sy/n) / math.Sqrt((sxx-sx*sx/n)*(syy-sy*sy/n)), same / moved
}

func barsOf(r market.TradeReader, d time.Duration) ([]market.Bar, error) {
	b := market.NewBarBuilder(d)
	var out []market.Bar
	for {
		t, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if bar, ok := b.Add(t); ok {
			out = append(out, bar)
		}
	}
	if bar, ok := b.Flush(); ok {
		out = append(out, bar)
	}
	return out, nil
}

func TestDeltaFollowsPrice(t *testing.T) {
	for seed := int64(1); seed <= 6; seed++ {
		r, err := NewReader(Options{Seed: seed, Scale: 0.3})
		if err != nil {
			t.Fatal(err)
		}
		bars, err := barsOf(r, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		c, a := deltaVsMove(bars)
		t.Logf("seed %d: one-minute bars: corr(close−open, delta) %.2f, same sign %.2f", seed, c, a)
		if c < 0.3 || c > 0.8 || a < 0.6 || a > 0.9 {
			t.Errorf("seed %d: corr %.2f (want 0.3–0.8), same sign %.2f (want 0.6–0.9): the delta does not follow the price as real tape's does (≈0.5, ≈0.78)", seed, c, a)
		}
	}
}

// TestRealTapeDeltaFollowsPrice measures the source of the band above.
func TestRealTapeDeltaFollowsPrice(t *testing.T) {
	path := shareddata.File(t, "es-ticks/esh4-glbx-mdp3-20231225.mbo.dbn.zst")
	for _, d := range []time.Duration{10 * time.Second, time.Minute} {
		f, err := market.Open(path, market.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		bars, err := barsOf(f, d)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		c, a := deltaVsMove(bars)
		t.Logf("ES %s bars (%d): corr %.2f, same sign %.2f", d, len(bars), c, a)
		if c < 0.4 || a < 0.7 {
			t.Errorf("real ES %s bars: corr %.2f, same sign %.2f: the calibration note in calib.go no longer holds", d, c, a)
		}
	}
}
