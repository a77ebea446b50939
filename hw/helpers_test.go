// helpers_test.go: the harness for the button tests: a gpiotest pin, a fake
// clock, a fake desk recording Flatten calls, and a trace of the watcher's
// steps so each test advances the clock only when the watcher is ready.
package hw

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// failsafe bounds every wait on the watcher; it is never reached when the
// code works and only turns a hang into a failure.
const failsafe = 10 * time.Second

type flattenCall struct {
	account, trigger, who string
	at                    time.Time
	ctxErr                error
}

type fakeDesk struct {
	clock clockwork.Clock
	mu    sync.Mutex
	calls []flattenCall
	ch    chan flattenCall
	err   error
}

func newFakeDesk(clock clockwork.Clock) *fakeDesk {
	return &fakeDesk{clock: clock, ch: make(chan flattenCall, 100)}
}

func (d *fakeDesk) Flatten(ctx context.Context, account, trigger, who string) error {
	c := flattenCall{account: account, trigger: trigger, who: who, at: d.clock.Now(), ctxErr: ctx.Err()}
	d.mu.Lock()
	d.calls = append(d.calls, c)
	d.mu.Unlock()
	d.ch <- c
	return d.err
}

func (d *fakeDesk) Calls() []flattenCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]flattenCall(nil), d.calls...)
}

type healthReport struct {
	ok  bool
	why string
}

// circuit is a gpiotest pin whose level In() leaves alone: on a real board
// a closed normally-closed contact decides the level, not the pull.
type circuit struct{ *gpiotest.Pin }

func (c circuit) In(pull gpio.Pull, edge gpio.Edge) error {
	l := c.Pin.Read()
	if err := c.Pin.In(pull, edge); err != nil {
		return err
	}
	return c.Pin.Out(l)
}

// flakyPin is a gpiotest pin whose driver fails while failing is set:
// In returns an error and WaitForEdge returns false at once (what the real
// gpioioctl driver does on a read error); Read gives Low.
//
// Its WaitForEdge, like the real driver's, can be interrupted by Halt.
type flakyPin struct {
	*gpiotest.Pin
	failing atomic.Bool
	panicky atomic.Bool
	halt    chan struct{}
	broke   chan struct{}
}

func newFlakyPin(tp *gpiotest.Pin) *flakyPin {
	tp.L = gpio.High // idle with the pull-up; In keeps the level, as a circuit would
	return &flakyPin{Pin: tp, halt: make(chan struct{}, 1), broke: make(chan struct{}, 1)}
}

// breakNow breaks the driver, failing a WaitForEdge in progress too.
func (f *flakyPin) breakNow() {
	f.failing.Store(true)
	select {
	case f.broke <- struct{}{}:
	default:
	}
}

func (f *flakyPin) In(pull gpio.Pull, edge gpio.Edge) error {
	if f.failing.Load() {
		return errors.New("gpioioctl: line request: device or resource busy")
	}
	for _, c := range []chan struct{}{f.halt, f.broke} {
		select {
		case <-c:
		default:
		}
	}
	return circuit{f.Pin}.In(pull, edge)
}

func (f *flakyPin) Halt() error {
	select {
	case f.halt <- struct{}{}:
	default:
	}
	return nil
}

func (f *flakyPin) WaitForEdge(time.Duration) bool {
	if f.failing.Load() {
		return false
	}
	select {
	case l := <-f.Pin.EdgesChan:
		_ = f.Pin.Out(l)
		return true
	case <-f.halt:
		return false
	case <-f.broke:
		return false
	}
}

func (f *flakyPin) Read() gpio.Level {
	if f.panicky.CompareAndSwap(true, false) {
		panic("driver bug")
	}
	if f.failing.Load() {
		return gpio.Low
	}
	return f.Pin.Read()
}

func newTestPin() *gpiotest.Pin {
	// The pin's own clock is never advanced: its WaitForEdge returns only on
	// an edge, so the test clock's waiters are exactly the watcher's timers.
	return &gpiotest.Pin{N: "GPIO17", Num: 17, Clock: clockwork.NewFakeClock(), EdgesChan: make(chan gpio.Level)}
}

type harness struct {
	t      testing.TB
	ctx    context.Context
	clk    *clockwork.FakeClock
	b      *Button
	desk   *fakeDesk
	pin    *gpiotest.Pin
	trace  chan traceEvent
	health chan healthReport
	done   chan error
	stop   func()
}

// startButton runs a watcher on in (which wraps tp) and waits until it is ready.
func startButton(t testing.TB, cfg Config, in gpio.PinIn, tp *gpiotest.Pin) *harness {
	t.Helper()
	if cfg.StallAfter == 0 {
		cfg.StallAfter = -1 // the test pin never times out; the stall test turns this on
	}
	clk := clockwork.NewFakeClock()
	h := &harness{
		t: t, clk: clk, desk: newFakeDesk(clk), pin: tp,
		trace: make(chan traceEvent, 1000), health: make(chan healthReport, 100), done: make(chan error, 1),
	}
	b, err := NewButton(in, "GPIO17", h.desk, cfg, ButtonOptions{
		Clock: clk, OnHealth: func(ok bool, why string) { h.health <- healthReport{ok, why} },
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	b.trace = func(ev traceEvent) { h.trace <- ev }
	h.b = b
	ctx, cancel := context.WithCancel(context.Background())
	h.ctx = ctx
	go func() { h.done <- b.Run(ctx) }()
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			// Unblock the reader, parked in the test pin's WaitForEdge.
			select {
			case tp.EdgesChan <- tp.Read():
			case err := <-h.done:
				h.done <- err
			}
			if err := <-h.done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(h.stop)
	h.wait("ready")
	return h
}

// wait reads trace events until one of kind arrives and returns it.
func (h *harness) wait(kind string) traceEvent {
	h.t.Helper()
	timeout := time.NewTimer(failsafe)
	defer timeout.Stop()
	for {
		select {
		case ev := <-h.trace:
			if ev.kind == kind {
				return ev
			}
		case <-timeout.C:
			h.t.Fatalf("watcher never reported %q", kind)
		}
	}
}

// edge fakes an edge to level l and waits until the watcher has taken it.
func (h *harness) edge(l gpio.Level) {
	h.t.Helper()
	select {
	case h.pin.EdgesChan <- l:
	case <-time.After(failsafe):
		h.t.Fatal("watcher never took the edge")
	}
	h.wait("edge")
}

func (h *harness) flatten() flattenCall {
	h.t.Helper()
	select {
	case c := <-h.desk.ch:
		return c
	case <-time.After(failsafe):
		h.t.Fatal("Flatten was never called")
	}
	return flattenCall{}
}

func (h *harness) nextHealth() healthReport {
	h.t.Helper()
	select {
	case r := <-h.health:
		return r
	case <-time.After(failsafe):
		h.t.Fatal("no health report")
	}
	return healthReport{}
}

// blockUntil waits until the fake clock has n timers armed.
func (h *harness) blockUntil(n int) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failsafe)
	defer cancel()
	if err := h.clk.BlockUntilContext(ctx, n); err != nil {
		h.t.Fatalf("clock never had %d waiters: %v", n, err)
	}
}
