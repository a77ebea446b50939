// synth_test.go: every engine over synthetic sessions of each regime: no
// panics, well-formed intents, determinism.

package strategies

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
)

func synthSession(t testing.TB, seed int64, regime synth.Regime, scale float64) []market.Trade {
	t.Helper()
	r, err := synth.NewReader(synth.Options{Seed: seed, Regime: regime, Scale: scale})
	if err != nil {
		t.Fatal(err)
	}
	var out []market.Trade
	for {
		tr, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tr)
	}
}

func TestSynthRegimes(t *testing.T) {
	total := map[string]int{}
	for _, regime := range []synth.Regime{synth.Trend, synth.Range, synth.Mixed} {
		for _, seed := range []int64{1, 9, 12, 16} { // ORB is rare on synthetic days: 5 of 90 sessions; 9, 12 and 16 include some
			trades := synthSession(t, seed, regime, 0.1)
			a := runOne(t, NewORB(DefaultORBConfig()), trades)
			b := runOne(t, NewVWAPMR(DefaultVWAPMRConfig()), trades)
			c := runOne(t, NewDelta(DefaultDeltaConfig()), trades)
			all := run(NewRunner("acct", allEngines()...), trades)
			// engines are independent: together they emit exactly what each emits alone
			if want := mergeByTime(a, b, c); !sameIntents(all, want) {
				t.Fatalf("%s/%d: engines together differ from engines alone (%d vs %d)", regime, seed, len(all), len(want))
			}
			again := run(NewRunner("acct", allEngines()...), trades)
			if !reflect.DeepEqual(all, again) {
				t.Fatalf("%s/%d: not deterministic", regime, seed)
			}
			total["orb"] += len(a)
			total["vwapmr"] += len(b)
			total["delta"] += len(c)
			t.Logf("%s seed %d: %d trades, orb %d vwapmr %d delta %d", regime, seed, len(trades), len(a), len(b), len(c))
		}
	}
	for name, n := range total {
		if n == 0 {
			t.Errorf("%s never fired on twelve synthetic sessions", name)
		}
	}
}

func mergeByTime(lists ...[]intent.Intent) map[string]int {
	m := map[string]int{}
	for _, l := range lists {
		for _, in := range l {
			m[key(in)]++
		}
	}
	return m
}

func key(in intent.Intent) string { return fmt.Sprintf("%+v", in) }

func sameIntents(all []intent.Intent, want map[string]int) bool {
	got := map[string]int{}
	for _, in := range all {
		got[key(in)]++
	}
	return reflect.DeepEqual(got, want)
}

// BenchmarkRunnerSynthSession: trades per second through the indicators and
// all three engines together over a whole synthetic mixed RTH session
// (about a million trades), generated before the timer starts.
func BenchmarkRunnerSynthSession(b *testing.B) {
	trades, err := synth.Generate(synth.Options{Seed: 1, Regime: synth.Mixed})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		r := NewRunner("x", allEngines()...)
		for _, t := range trades {
			r.OnTrade(t)
		}
		r.Flush()
		n += len(trades)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "trades/s")
}
