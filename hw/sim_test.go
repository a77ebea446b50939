// sim_test.go: the simulated button goes through the same watcher and
// debounce as hardware; simulated lights can be read back.
package hw

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
)

func openSim(t testing.TB, cfg Config) (*Device, *clockwork.FakeClock, *fakeDesk, chan traceEvent) {
	t.Helper()
	clk := clockwork.NewFakeClock()
	desk := newFakeDesk(clk)
	cfg.StallAfter = -1
	d, err := Open(cfg, desk, Options{Clock: clk, Resolve: func(string) (gpio.PinIO, error) {
		t.Fatal("a sim config must not touch the GPIO driver")
		return nil, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	trace := make(chan traceEvent, 1000)
	d.Button.trace = func(ev traceEvent) { trace <- ev }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	waitKind(t, trace, "ready")
	return d, clk, desk, trace
}

func TestSimButtonClickFlattens(t *testing.T) {
	for _, wiring := range []string{NormallyOpen, NormallyClosed} {
		t.Run(wiring, func(t *testing.T) {
			d, clk, desk, trace := openSim(t, Config{ButtonPin: SimPin, Wiring: wiring, GreenPin: SimPin, RedPin: SimPin, BuzzerPin: SimPin})
			if d.Sim == nil {
				t.Fatal("no sim button")
			}
			clicked := make(chan struct{})
			go func() { _ = d.Click(0); close(clicked) }()
			waitKind(t, trace, "edge") // pressed
			blockUntilN(t, clk, 3)     // the reader's poll, the settle timer and Click's hold
			clk.Advance(20 * ms)
			c := <-desk.ch
			if c.trigger != TriggerPanicButton || c.who != SimPin || c.account != "" {
				t.Fatalf("%+v", c)
			}
			clk.Advance(80 * ms) // Click's default hold is 5 × debounce
			<-clicked
			if d.Sim.Pressed() {
				t.Fatal("still pressed after Click")
			}
			waitKind(t, trace, "edge") // released
			clk.Advance(20 * ms)
			waitKind(t, trace, "settle")
			if d.Button.Presses() != 1 {
				t.Fatalf("Presses() = %d", d.Button.Presses())
			}
			// The supervisor shows the kill on the lights; the console reads them.
			d.Lights.Set(StateHalting, false)
			if s := d.Lights.State(); s != (LightState{Red: true, Blinking: true, Buzzer: true}) {
				t.Fatalf("%+v", s)
			}
			if !d.SimLights["red_pin"].Level() || !d.SimLights["buzzer_pin"].Level() || d.SimLights["green_pin"].Level() {
				t.Fatal("sim outputs do not match")
			}
		})
	}
}

func TestSimShortClickIsAGlitch(t *testing.T) {
	d, clk, desk, trace := openSim(t, Config{ButtonPin: SimPin})
	clicked := make(chan struct{})
	go func() { d.Sim.Click(5 * ms); close(clicked) }()
	waitKind(t, trace, "edge")
	blockUntilN(t, clk, 3) // poll, settle, Click's hold
	clk.Advance(5 * ms)
	<-clicked
	waitKind(t, trace, "edge")
	clk.Advance(20 * ms)
	waitKind(t, trace, "settle")
	if d.Button.Presses() != 0 || len(desk.Calls()) != 0 {
		t.Fatal("a 5 ms click flattened")
	}
}

func TestSimPressHeldThenRelease(t *testing.T) {
	d, clk, desk, trace := openSim(t, Config{ButtonPin: SimPin})
	d.Sim.Press()
	waitKind(t, trace, "edge")
	clk.Advance(20 * ms)
	<-desk.ch
	clk.Advance(time.Minute)
	d.Sim.Release()
	waitKind(t, trace, "edge")
	clk.Advance(20 * ms)
	if ev := waitKindEv(t, trace, "settle"); ev.pressed {
		t.Fatal("release settled pressed")
	}
	if d.Button.Presses() != 1 {
		t.Fatalf("Presses() = %d", d.Button.Presses())
	}
}

func TestDeviceWithoutButton(t *testing.T) {
	d, err := Open(Config{GreenPin: SimPin}, newFakeDesk(clockwork.NewFakeClock()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Button != nil || d.Sim != nil {
		t.Fatal("no button configured, but one was built")
	}
	if err := d.Click(0); err != ErrNotSimulated {
		t.Fatalf("Click: %v", err)
	}
}

func TestOpenRealPinMissing(t *testing.T) {
	_, err := Open(Config{ButtonPin: "GPIO17"}, newFakeDesk(clockwork.NewFakeClock()), Options{
		Resolve: func(name string) (gpio.PinIO, error) { return nil, context.Canceled },
	})
	var ce *ConfigError
	if !asConfigError(err, &ce) || ce.Key != "button_pin" {
		t.Fatalf("err = %v, want a ConfigError on button_pin", err)
	}
}

func TestHostPinOnThisMachine(t *testing.T) {
	// This VM has no /dev/gpiochip*: the lookup must fail with a useful
	// error, not panic. On a Pi it finds the pin.
	p, err := HostPin("GPIO17")
	if err == nil && p == nil {
		t.Fatal("nil pin without an error")
	}
	if err != nil {
		t.Logf("HostPin(GPIO17): %v", err)
	}
}

func blockUntilN(t testing.TB, clk *clockwork.FakeClock, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failsafe)
	defer cancel()
	if err := clk.BlockUntilContext(ctx, n); err != nil {
		t.Fatalf("clock never had %d waiters", n)
	}
}

func waitKindEv(t testing.TB, ch chan traceEvent, kind string) traceEvent {
	t.Helper()
	timeout := time.After(failsafe)
	for {
		select {
		case ev := <-ch:
			if ev.kind == kind {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %q", kind)
		}
	}
}
