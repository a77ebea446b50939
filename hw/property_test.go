// property_test.go: rapid property test of the debounce against a model:
// for any train of level changes, the button flattens exactly once per
// pressed level that held for the debounce window after a settled
// release, and never for anything shorter.
package hw

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestDebounceMatchesModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		wiring := rapid.SampledFrom([]string{NormallyOpen, NormallyClosed}).Draw(rt, "wiring")
		debounce := time.Duration(rapid.IntRange(5, 40).Draw(rt, "debounce_ms")) * ms
		cfg := Config{ButtonPin: "GPIO17", Wiring: wiring, Debounce: debounce, WireCutHold: -1}
		pressed := cfg.WithDefaults().pressed()
		// Segments of alternating level, starting with a press; each lasts
		// 1..3×debounce ms (half of them are glitches).
		n := rapid.IntRange(1, 30).Draw(rt, "segments")
		durs := make([]time.Duration, n)
		for i := range durs {
			durs[i] = time.Duration(rapid.IntRange(1, int(3*debounce/ms)).Draw(rt, "dur_ms")) * ms
		}

		tp := newTestPin()
		tp.L = !pressed
		h := startButton(t, cfg, circuit{tp}, tp)
		defer h.stop()

		want, stable := 0, false
		for i, d := range durs {
			level := pressed
			if i%2 == 1 {
				level = !pressed
			}
			if i == n-1 && d < debounce {
				d = debounce // let the last level settle too
			}
			h.edge(level)
			h.clk.Advance(d)
			if d >= debounce {
				isPressed := level == pressed
				if ev := h.wait("settle"); ev.pressed != isPressed {
					rt.Fatalf("segment %d: settled pressed=%v, want %v", i, ev.pressed, isPressed)
				}
				if isPressed && !stable {
					want++
				}
				stable = isPressed
			}
		}
		for range want {
			h.flatten()
		}
		if got := h.b.Presses(); got != int64(want) {
			rt.Fatalf("flattened %d times, model says %d", got, want)
		}
	})
}
