// button_test.go: the panic button and the desk lights against the real
// desk (issue 09). hw.Open builds the simulated button and simulated
// lights as `deskguard run` does (openHW in cmd/deskguard/wiring.go): the
// button calls the desk through a forwarding Desk (deskRef), and the desk's
// OnStateChange drives Lights.Set. Plus BenchmarkButtonToLiquidate.

package e2e

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/deskguard/deskguard/hw"
	"github.com/deskguard/deskguard/supervisor"
)

// logTap is a slog handler that hands every message to a channel (the
// button's "panic button released" tells a test the release has settled).
type logTap struct{ ch chan string }

func (l logTap) Enabled(context.Context, slog.Level) bool { return true }
func (l logTap) Handle(_ context.Context, r slog.Record) error {
	select {
	case l.ch <- r.Message:
	default:
	}
	return nil
}
func (l logTap) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logTap) WithGroup(string) slog.Handler      { return l }

// waitLog waits for a log message.
func waitLog(t testing.TB, ch chan string, msg string) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case m := <-ch:
			if m == msg {
				return
			}
		case <-deadline:
			t.Fatalf("no log %q", msg)
		}
	}
}

// lightsSeen is the lights as they were right after each desk transition.
type lightsSeen struct {
	State  string
	Lights hw.LightState
}

// buttonRig is a running desk with the simulated button and lights.
type buttonRig struct {
	*rig
	dev  *hw.Device
	ref  *deskRef
	logs chan string
	mu   sync.Mutex
	seen []lightsSeen
}

func newButtonRig(t testing.TB, cfg hw.Config, o rigOpt) *buttonRig {
	t.Helper()
	cfg.ButtonPin, cfg.GreenPin, cfg.RedPin, cfg.BuzzerPin = hw.SimPin, hw.SimPin, hw.SimPin, hw.SimPin
	b := &buttonRig{ref: newDeskRef(), logs: make(chan string, 4096)}
	dev, err := hw.Open(cfg, b.ref, hw.Options{Log: slog.New(logTap{b.logs})})
	if err != nil {
		t.Fatal(err)
	}
	b.dev = dev
	o.OnStateChange = func(st string, locked bool) {
		dev.Lights.Set(hw.DeskState(st), locked) // as cmd_run does
		b.mu.Lock()
		b.seen = append(b.seen, lightsSeen{st, dev.Lights.State()})
		b.mu.Unlock()
	}
	o.PressButton = func() error { return dev.Click(0) }
	o.LightsStatus = func() (bool, bool, bool, bool) {
		s := dev.Lights.State()
		return s.Green, s.Red, s.Blinking, s.Buzzer
	}
	b.rig = newDesk(t, o)
	b.ref.set(b.rig.d)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- dev.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("hw: %v", err)
			}
		case <-time.After(wait):
			t.Error("hw did not stop")
		}
	})
	b.run(o)
	return b
}

func (b *buttonRig) lights() hw.LightState { return b.dev.Lights.State() }

func (b *buttonRig) lightsLog() []lightsSeen {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]lightsSeen(nil), b.seen...)
}

// nextFlatten waits for the button's next Flatten call to return.
func (b *buttonRig) nextFlatten() flattenCall {
	b.t.Helper()
	select {
	case c := <-b.ref.ch:
		return c
	case <-time.After(wait):
		b.t.Fatal("the button did not call Flatten")
		return flattenCall{}
	}
}

func TestPanicButtonFlattensTheRealDesk(t *testing.T) {
	b := newButtonRig(t, hw.Config{}, rigOpt{Accounts: deskSpecs(2), Pace: 60})
	b.within("green while running", func() bool { return b.lights() == hw.LightState{Green: true} })
	b.open("MAN1")
	b.open("MAN2")

	// Hold the venue's trades so the liquidation orders wait: the desk stays
	// halting until the feed resumes.
	b.feed.Pause()
	if q, _ := b.venueOpen("MAN1"); q == 0 {
		t.Fatal("MAN1 flat at the venue before the press: the test proves nothing")
	}
	if err := b.dev.Click(0); err != nil { // a clean press (held 5 × debounce)
		t.Fatal(err)
	}
	c := b.nextFlatten()
	if c.Err != nil || c.Trigger != hw.TriggerPanicButton || c.Who != hw.SimPin || c.Account != "" {
		t.Fatalf("the press flattened with %+v", c)
	}
	if st := b.status().State; st != "halting" {
		q1, n1 := b.venueOpen("MAN1")
		q2, n2 := b.venueOpen("MAN2")
		t.Fatalf("desk %s after the press with the venue holding positions, want halting; venue MAN1 %d/%d MAN2 %d/%d; desk %+v; fed %d", st, q1, n1, q2, n2, b.status().Accounts, b.feed.n.Load())
	}
	b.within("blinking red while halting", func() bool {
		return b.lights() == hw.LightState{Red: true, Blinking: true, Buzzer: true} ||
			b.lights() == hw.LightState{Red: true, Blinking: true}
	})
	red := b.dev.SimLights["red_pin"]
	toggles := red.Changes()
	b.within("the red light blinks", func() bool { return red.Changes() >= toggles+2 })

	// A press while halting is harmless: one more kill journaled, no error.
	waitLog(t, b.logs, "panic button released")
	if err := b.dev.Click(0); err != nil {
		t.Fatal(err)
	}
	if c := b.nextFlatten(); c.Err != nil {
		t.Fatalf("a press while halting returned %v", c.Err)
	}
	if st := b.status().State; st != "halting" {
		t.Fatalf("desk %s after the second press, want still halting", st)
	}
	kills := b.kills()
	if len(kills) != 2 {
		t.Fatalf("%d kills journaled for two presses", len(kills))
	}
	for _, k := range kills {
		if k.Trigger != hw.TriggerPanicButton || k.Who != hw.SimPin || k.Scope != "desk" || len(k.Accounts) != len(b.ids) {
			t.Errorf("kill %+v", k)
		}
	}

	// Trades again: the liquidations fill, the desk halts, the light is steady red.
	b.feed.Resume()
	b.requireFlattened()
	b.within("steady red when halted", func() bool { return b.lights() == hw.LightState{Red: true} })
	if b.dev.Button.Presses() != 2 {
		t.Fatalf("Presses() = %d", b.dev.Button.Presses())
	}

	// Releasing re-armed nothing; the re-arm is its own act, and turns the light green.
	waitLog(t, b.logs, "panic button released")
	if st := b.status().State; st != "halted" {
		t.Fatalf("desk %s after the release", st)
	}
	b.rearm("risk")
	b.within("green after the re-arm", func() bool { return b.lights() == hw.LightState{Green: true} })

	// The lights followed the desk's state machine: OnStateChange comes on
	// every transition (accounts' too), and after each the lights showed
	// the desk's state.
	want := map[string]hw.LightState{"running": {Green: true}, "halting": {Red: true, Blinking: true}, "halted": {Red: true}}
	var states []string
	for _, s := range b.lightsLog() {
		if len(states) == 0 || states[len(states)-1] != s.State {
			states = append(states, s.State)
		}
		w, ok := want[s.State]
		if !ok {
			continue
		}
		l := s.Lights
		l.Buzzer = false // the kill's buzzer pulse may still sound
		if l != w {
			t.Errorf("lights %+v in %s, want %+v", s.Lights, s.State, w)
		}
	}
	if got := strings.Join(states, " → "); !strings.HasSuffix(got, "running → halting → halted → running") {
		t.Errorf("desk states seen by the lights: %s", got)
	}
}

func TestPanicButtonGlitchDoesNotFlatten(t *testing.T) {
	// The debounce window is 50 ms here, not the default 20 ms: the glitch is
	// real-clock time on a loaded CI machine, and a 5 ms press must not be
	// stretched past the window by the scheduler. hw's fake-clock tests pin
	// the 20 ms default exactly.
	b := newButtonRig(t, hw.Config{Debounce: 50 * time.Millisecond}, rigOpt{Accounts: deskSpecs(1), Pace: 60})
	b.within("green while running", func() bool { return b.lights() == hw.LightState{Green: true} })
	b.open("MAN1")
	settled := b.dev.Button.Settles()
	if err := b.dev.Click(5 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// Wait until the watcher has judged the glitch (its debounce window
	// passed), so the real press below cannot absorb it: a glitch that
	// fired would show here as a press and a kill.
	b.within("the glitch judged", func() bool { return b.dev.Button.Settles() > settled })
	if n := b.dev.Button.Presses(); n != 0 {
		t.Fatalf("a 5 ms glitch made %d presses, want 0", n)
	}
	if k := b.kills(); len(k) != 0 {
		t.Fatalf("a 5 ms glitch journaled %d kills, want 0", len(k))
	}
	// A real press after the glitch flattens.
	if err := b.dev.Click(0); err != nil {
		t.Fatal(err)
	}
	if c := b.nextFlatten(); c.Err != nil {
		t.Fatal(c.Err)
	}
	if n := b.dev.Button.Presses(); n != 1 {
		t.Fatalf("a 5 ms glitch and a press made %d presses, want 1", n)
	}
	b.requireFlattened()
	if k := b.kills(); len(k) != 1 {
		t.Fatalf("%d kills journaled, want 1 (the real press)", len(k))
	}
}

// BenchmarkButtonToLiquidate: the simulated button pressed (the edge) →
// every liquidate request for 20 accounts returned by the sim venue, on
// the real desk with trades flowing (in-process, no engines: the kill path
// alone). p50/p99 of the whole (debounce window included, 20 ms by
// default) and of what comes after the window. The desk is re-armed
// between presses.
func BenchmarkButtonToLiquidate(b *testing.B) {
	var specs []supervisor.AccountSpec
	for i := range 20 {
		specs = append(specs, manualSpec("K"+string(rune('A'+i))))
	}
	br := newButtonRig(b, hw.Config{}, rigOpt{Accounts: specs, Pace: 60})
	total := hdrhistogram.New(1, 10_000_000, 3) // µs
	over := hdrhistogram.New(1, 10_000_000, 3)  // µs beyond the debounce window
	desk := hdrhistogram.New(1, 10_000_000, 3)  // µs from the button's Flatten call
	debounce := hw.DefaultDebounce.Microseconds()
	for len(br.br.liqs) > 0 {
		<-br.br.liqs
	}
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		br.dev.Sim.Press()
		var last time.Time
		for range len(specs) {
			select {
			case l := <-br.br.liqs:
				if l.Err != nil {
					b.Fatalf("liquidate %s: %v", l.Account, l.Err)
				}
				if l.At.After(last) {
					last = l.At
				}
			case <-time.After(wait):
				b.Fatal("the press did not liquidate every account")
			}
		}
		us := last.Sub(t0).Microseconds()
		_ = total.RecordValue(us)
		_ = over.RecordValue(max(1, us-debounce))
		b.StopTimer()
		c := br.nextFlatten()
		if c.Err != nil {
			b.Fatal(c.Err)
		}
		_ = desk.RecordValue(max(1, last.Sub(c.Start).Microseconds()))
		br.dev.Sim.Release()
		waitLog(b, br.logs, "panic button released")
		br.within("the desk halted", func() bool { return br.status().State == "halted" })
		br.rearm("bench")
		b.StartTimer()
	}
	b.StopTimer()
	b.Logf("press → 20 liquidations sent: n %d, min %d p50 %d p90 %d p99 %d max %d µs", total.TotalCount(), total.Min(),
		total.ValueAtQuantile(50), total.ValueAtQuantile(90), total.ValueAtQuantile(99), total.Max())
	b.Logf("Flatten call → 20 liquidations sent: p50 %d p90 %d p99 %d max %d µs", desk.ValueAtQuantile(50),
		desk.ValueAtQuantile(90), desk.ValueAtQuantile(99), desk.Max())
	b.ReportMetric(float64(total.ValueAtQuantile(50)), "p50-µs")
	b.ReportMetric(float64(total.ValueAtQuantile(99)), "p99-µs")
	b.ReportMetric(float64(over.ValueAtQuantile(50)), "p50-after-debounce-µs")
	b.ReportMetric(float64(over.ValueAtQuantile(99)), "p99-after-debounce-µs")
	b.ReportMetric(float64(desk.ValueAtQuantile(50)), "p50-desk-µs")
	b.ReportMetric(float64(desk.ValueAtQuantile(99)), "p99-desk-µs")
}
