// button_test.go: the panic button's debounce, wiring, fail-safe, health
// and restart behaviour, driven through gpiotest pins and a fake clock.
package hw

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
)

const ms = time.Millisecond

// step is one move in a button script.
type step struct {
	edge    *gpio.Level   // fake an edge to this level
	adv     time.Duration // advance the clock
	settle  *bool         // then wait for the watcher to settle on pressed/released
	wirecut bool          // then wait for the wire-cut check
}

var (
	lo = gpio.Low
	hi = gpio.High
	tr = true
	fa = false
)

func e(l gpio.Level) step                          { return step{edge: &l} }
func adv(d time.Duration) step                     { return step{adv: d} }
func advSettle(d time.Duration, pressed bool) step { return step{adv: d, settle: &pressed} }
func advWire(d time.Duration) step                 { return step{adv: d, wirecut: true} }

func TestButtonScripts(t *testing.T) {
	no := Config{ButtonPin: "GPIO17"}                         // pressed = low (pull-up)
	nc := Config{ButtonPin: "GPIO17", Wiring: NormallyClosed} // closed = low; open (pressed, cut) = high
	tests := []struct {
		name     string
		cfg      Config
		idle     gpio.Level
		steps    []step
		triggers []string
	}{
		{"clean press", no, hi, []step{e(lo), advSettle(20*ms, true), adv(50 * ms), e(hi), advSettle(20*ms, false)},
			[]string{TriggerPanicButton}},
		{"5 ms glitch", no, hi, []step{e(lo), adv(5 * ms), e(hi), advSettle(20*ms, false), adv(time.Second)},
			nil},
		{"19 ms glitch", no, hi, []step{e(lo), adv(19 * ms), e(hi), advSettle(20*ms, false)},
			nil},
		{"train of glitches never settles pressed", no, hi, []step{
			e(lo), adv(3 * ms), e(hi), adv(3 * ms), e(lo), adv(3 * ms), e(hi), adv(3 * ms), e(lo), adv(3 * ms), e(hi), advSettle(20*ms, false)},
			nil},
		{"bouncing press flattens once", no, hi, []step{
			e(lo), adv(1 * ms), e(hi), adv(2 * ms), e(lo), adv(1 * ms), e(hi), adv(1 * ms), e(lo), advSettle(20*ms, true),
			adv(500 * ms),
			e(hi), adv(1 * ms), e(lo), adv(2 * ms), e(hi), advSettle(20*ms, false)},
			[]string{TriggerPanicButton}},
		{"held button flattens once", no, hi, []step{e(lo), advSettle(20*ms, true), adv(time.Second), adv(time.Minute), adv(time.Hour)},
			[]string{TriggerPanicButton}},
		{"a held button's bounce does not count again", no, hi, []step{
			e(lo), advSettle(20*ms, true), adv(time.Second), e(hi), adv(2 * ms), e(lo), advSettle(20*ms, true), adv(time.Second)},
			[]string{TriggerPanicButton}},
		{"press, release, press: two kills", no, hi, []step{
			e(lo), advSettle(20*ms, true), e(hi), advSettle(20*ms, false), e(lo), advSettle(20*ms, true)},
			[]string{TriggerPanicButton, TriggerPanicButton}},
		{"normally open, pull down", Config{ButtonPin: "GPIO17", Pull: "down"}, lo, []step{e(hi), advSettle(20*ms, true)},
			[]string{TriggerPanicButton}},
		{"custom debounce 50 ms", Config{ButtonPin: "GPIO17", Debounce: 50 * ms}, hi, []step{
			e(lo), adv(40 * ms), e(hi), advSettle(50*ms, false), e(lo), advSettle(50*ms, true)},
			[]string{TriggerPanicButton}},
		{"NC press shorter than the wire-cut hold flattens once", nc, lo, []step{
			e(hi), advSettle(20*ms, true), adv(300 * ms), e(lo), advSettle(20*ms, false), adv(time.Second)},
			[]string{TriggerPanicButton}},
		{"NC glitch (contact chatter) does not flatten", nc, lo, []step{e(hi), adv(5 * ms), e(lo), advSettle(20*ms, false)},
			nil},
		{"NC cut wire flattens with the wire-cut reason", nc, lo, []step{
			e(hi), advSettle(20*ms, true), advWire(480 * ms), adv(time.Minute)},
			[]string{TriggerPanicButton, TriggerWireCut}},
		{"NC cut wire with the fail-safe off", Config{ButtonPin: "GPIO17", Wiring: NormallyClosed, WireCutHold: -1}, lo, []step{
			e(hi), advSettle(20*ms, true), adv(time.Minute)},
			[]string{TriggerPanicButton}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tp := newTestPin()
			tp.L = tc.idle
			h := startButton(t, tc.cfg, circuit{tp}, tp)
			t0 := h.clk.Now()
			for i, s := range tc.steps {
				if s.edge != nil {
					h.edge(*s.edge)
				}
				if s.adv > 0 {
					h.clk.Advance(s.adv)
				}
				if s.settle != nil {
					if ev := h.wait("settle"); ev.pressed != *s.settle {
						t.Fatalf("step %d: settled pressed=%v, want %v", i, ev.pressed, *s.settle)
					}
				}
				if s.wirecut {
					if ev := h.wait("wirecut"); !ev.pressed {
						t.Fatalf("step %d: wire-cut check did not fire", i)
					}
				}
			}
			var got []string
			for range tc.triggers {
				c := h.flatten()
				if c.account != "" || c.who != "GPIO17" {
					t.Errorf("Flatten(%q, %q, %q): want the whole desk by GPIO17", c.account, c.trigger, c.who)
				}
				if c.at.Before(t0) {
					t.Errorf("flatten before the first edge")
				}
				got = append(got, c.trigger)
			}
			if n := h.b.Presses(); n != int64(len(tc.triggers)) {
				t.Fatalf("Presses() = %d, want %d (triggers %v)", n, len(tc.triggers), got)
			}
			// Flatten calls run on their own goroutines: compare as sets.
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.triggers))
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("triggers %v, want %v", got, tc.triggers)
			}
		})
	}
}

func TestCleanPressFlattensWithinTheDebounceWindow(t *testing.T) {
	tp := newTestPin()
	h := startButton(t, Config{ButtonPin: "GPIO17"}, tp, tp)
	t0 := h.clk.Now()
	h.edge(gpio.Low)
	h.clk.Advance(19 * ms) // nothing due yet
	if n := h.b.Presses(); n != 0 {
		t.Fatalf("flattened after 19 ms: %d", n)
	}
	h.clk.Advance(1 * ms)
	c := h.flatten()
	if d := c.at.Sub(t0); d != DefaultDebounce {
		t.Fatalf("edge → Flatten took %s on the clock, want exactly the debounce window %s", d, DefaultDebounce)
	}
	if c.trigger != TriggerPanicButton || c.account != "" || c.who != "GPIO17" {
		t.Fatalf("got %+v", c)
	}
	if c.ctxErr != nil {
		t.Fatalf("Flatten got a dead context: %v", c.ctxErr)
	}
}

func TestWireCutReportsHealthAndRecovers(t *testing.T) {
	tp := newTestPin()
	tp.L = gpio.Low // NC contact closed
	h := startButton(t, Config{ButtonPin: "GPIO17", Wiring: NormallyClosed}, circuit{tp}, tp)
	h.edge(gpio.High)
	if r := h.nextHealth(); !r.ok { // the first edge shows the driver answers
		t.Fatalf("first report %+v", r)
	}
	h.clk.Advance(20 * ms)
	h.wait("settle")
	h.clk.Advance(480 * ms)
	h.wait("wirecut")
	r := h.nextHealth()
	if r.ok || !strings.Contains(r.why, TriggerWireCut) || !strings.Contains(r.why, "panic button offline") {
		t.Fatalf("health %+v, want offline with %q", r, TriggerWireCut)
	}
	if ok, why := h.b.Healthy(); ok || why != r.why {
		t.Fatalf("Healthy() = %v, %q", ok, why)
	}
	// The wire is mended (or the button let go): back online, and the next
	// open counts again.
	h.edge(gpio.Low)
	h.clk.Advance(20 * ms)
	h.wait("settle")
	if r := h.nextHealth(); !r.ok {
		t.Fatalf("health %+v, want back online", r)
	}
	if h.b.Presses() != 2 {
		t.Fatalf("Presses() = %d, want 2", h.b.Presses())
	}
}

func TestOpenLineAtStartFlattens(t *testing.T) {
	// The NC line is open when the desk starts (a cut wire, a held button):
	// fail-safe, it counts as a press once it holds for the debounce window.
	tp := newTestPin()
	tp.L = gpio.High
	h := startButton(t, Config{ButtonPin: "GPIO17", Wiring: NormallyClosed}, circuit{tp}, tp)
	h.clk.Advance(20 * ms)
	if ev := h.wait("settle"); !ev.pressed {
		t.Fatal("open line at start did not settle pressed")
	}
	if c := h.flatten(); c.trigger != TriggerPanicButton {
		t.Fatalf("got %+v", c)
	}
}

func TestPressWhileHaltingIsJustAnotherCall(t *testing.T) {
	tp := newTestPin()
	h := startButton(t, Config{ButtonPin: "GPIO17"}, tp, tp)
	h.b.deskState = func() DeskState { return StateHalting }
	h.desk.err = nil
	for i := 0; i < 3; i++ {
		h.edge(gpio.Low)
		h.clk.Advance(20 * ms)
		h.wait("settle")
		h.flatten()
		h.edge(gpio.High)
		h.clk.Advance(20 * ms)
		h.wait("settle")
	}
	if h.b.Presses() != 3 {
		t.Fatalf("Presses() = %d", h.b.Presses())
	}
}

func TestWatcherSurvivesDriverError(t *testing.T) {
	tp := newTestPin()
	fp := newFlakyPin(tp)
	h := startButton(t, Config{ButtonPin: "GPIO17"}, fp, tp)

	// A first normal WaitForEdge return: the driver answers → online.
	h.edge(gpio.High)
	if r := h.nextHealth(); !r.ok {
		t.Fatalf("first report %+v, want online", r)
	}
	// The driver breaks: WaitForEdge returns false at once, In fails.
	fp.breakNow()
	r := h.nextHealth()
	if r.ok || !strings.Contains(r.why, "panic button offline") || !strings.Contains(r.why, "WaitForEdge failed") {
		t.Fatalf("report %+v, want offline with the driver error", r)
	}
	// Two restarts fail (In errors) with backoff 100 ms, 200 ms.
	for _, d := range []time.Duration{100 * ms, 200 * ms} {
		h.blockUntil(1)
		h.clk.Advance(d)
	}
	// The driver comes back: the next restart works.
	h.blockUntil(1)
	fp.failing.Store(false)
	h.clk.Advance(400 * ms)
	h.wait("ready")
	h.edge(gpio.High)
	for r := h.nextHealth(); !r.ok; r = h.nextHealth() {
		if !strings.Contains(r.why, "configure input") {
			t.Fatalf("report %+v, want offline while In fails, then online", r)
		}
	}
	// And the button works again.
	h.edge(gpio.Low)
	h.clk.Advance(20 * ms)
	if c := h.flatten(); c.trigger != TriggerPanicButton {
		t.Fatalf("got %+v", c)
	}
}

func TestWatcherSurvivesPanic(t *testing.T) {
	tp := newTestPin()
	fp := newFlakyPin(tp)
	h := startButton(t, Config{ButtonPin: "GPIO17"}, fp, tp)
	h.edge(gpio.High)
	if r := h.nextHealth(); !r.ok {
		t.Fatalf("%+v", r)
	}
	fp.panicky.Store(true)
	// The next edge makes the logic goroutine Read: it panics.
	tp.EdgesChan <- gpio.Low
	r := h.nextHealth()
	if r.ok || !strings.Contains(r.why, "panic: driver bug") {
		t.Fatalf("%+v, want offline after the panic", r)
	}
	h.blockUntil(1)
	h.clk.Advance(100 * ms)
	h.wait("ready") // restarted; the line reads pressed (Low) → pending
	h.clk.Advance(20 * ms)
	if c := h.flatten(); c.trigger != TriggerPanicButton {
		t.Fatalf("got %+v", c)
	}
	h.edge(gpio.High)
	if r := h.nextHealth(); !r.ok {
		t.Fatalf("%+v, want back online", r)
	}
}

// stallPin's WaitForEdge blocks until released (a hung driver).
type stallPin struct {
	*flakyPin
	hang chan chan struct{}
	hung chan struct{}
}

func (s *stallPin) WaitForEdge(d time.Duration) bool {
	select {
	case release := <-s.hang:
		s.hung <- struct{}{}
		<-release
		return false
	default:
	}
	return s.flakyPin.WaitForEdge(d)
}

func TestStalledWatcherReported(t *testing.T) {
	tp := newTestPin()
	sp := &stallPin{flakyPin: newFlakyPin(tp), hang: make(chan chan struct{}, 1), hung: make(chan struct{}, 1)}
	h := startButton(t, Config{ButtonPin: "GPIO17", StallAfter: time.Second}, sp, tp)
	h.edge(gpio.High)
	if r := h.nextHealth(); !r.ok {
		t.Fatalf("%+v", r)
	}
	release := make(chan struct{})
	var once sync.Once
	unhang := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unhang) // runs before the harness stops the watcher
	sp.hang <- release
	_ = sp.Halt() // the reader's next WaitForEdge hangs
	<-sp.hung
	h.blockUntil(1) // the stall timer
	h.clk.Advance(time.Second)
	r := h.nextHealth()
	if r.ok || !strings.Contains(r.why, "stalled") {
		t.Fatalf("%+v, want stalled", r)
	}
	unhang() // the driver answers again (a false that waited the whole poll)
	if r := h.nextHealth(); !r.ok {
		t.Fatalf("%+v, want back online", r)
	}
}

func TestFlattenOutlivesShutdown(t *testing.T) {
	tp := newTestPin()
	clk := clockwork.NewFakeClock()
	gate := make(chan struct{})
	desk := &blockingDesk{gate: gate, entered: make(chan struct{}), got: make(chan error, 1)}
	b, err := NewButton(tp, "GPIO17", desk, Config{ButtonPin: "GPIO17", StallAfter: -1}, ButtonOptions{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	trace := make(chan traceEvent, 100)
	b.trace = func(ev traceEvent) { trace <- ev }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	waitKind(t, trace, "ready")
	tp.EdgesChan <- gpio.Low
	waitKind(t, trace, "edge")
	clk.Advance(20 * ms)
	<-desk.entered
	cancel() // shutting down while Flatten is in flight
	close(gate)
	select {
	case tp.EdgesChan <- gpio.Low: // unblock a reader parked in WaitForEdge
		err = <-done
	case err = <-done:
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := <-desk.got; err != nil {
		t.Fatalf("Flatten's context was cancelled by the shutdown: %v", err)
	}
}

type blockingDesk struct {
	gate    chan struct{}
	entered chan struct{}
	got     chan error
}

func (d *blockingDesk) Flatten(ctx context.Context, _, _, _ string) error {
	if d.entered != nil {
		close(d.entered)
	}
	<-d.gate
	d.got <- ctx.Err()
	return nil
}

func waitKind(t testing.TB, ch chan traceEvent, kind string) {
	t.Helper()
	timeout := time.After(failsafe)
	for {
		select {
		case ev := <-ch:
			if ev.kind == kind {
				return
			}
		case <-timeout:
			t.Fatalf("no %q", kind)
		}
	}
}

func TestRunTwice(t *testing.T) {
	tp := newTestPin()
	h := startButton(t, Config{ButtonPin: "GPIO17"}, tp, tp)
	if err := h.b.Run(context.Background()); err != ErrRunning {
		t.Fatalf("second Run: %v", err)
	}
}
