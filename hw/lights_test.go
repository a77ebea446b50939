// lights_test.go: the lights follow the desk state machine; the red light
// blinks on the injected clock while halting; the buzzer pulses on a kill.
package hw

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

type lightRig struct {
	t                  *testing.T
	clk                *clockwork.FakeClock
	l                  *Lights
	green, red, buzzer *gpiotest.Pin
}

func newLightRig(t *testing.T) *lightRig {
	t.Helper()
	r := &lightRig{t: t, clk: clockwork.NewFakeClock(),
		green: &gpiotest.Pin{N: "GPIO22"}, red: &gpiotest.Pin{N: "GPIO27"}, buzzer: &gpiotest.Pin{N: "GPIO23"}}
	r.l = NewLights(r.green, r.red, r.buzzer, Config{BlinkPeriod: 500 * ms, BuzzerPulse: 300 * ms}, LightsOptions{Clock: r.clk})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return r
}

// pins reads the physical levels (under the pins' locks: -race).
func (r *lightRig) pins() [3]bool {
	return [3]bool{bool(r.green.Read()), bool(r.red.Read()), bool(r.buzzer.Read())}
}

func (r *lightRig) expect(what string, green, red, buzzer bool) {
	r.t.Helper()
	if got, want := r.pins(), [3]bool{green, red, buzzer}; got != want {
		r.t.Fatalf("%s: pins green/red/buzzer = %v, want %v", what, got, want)
	}
}

func (r *lightRig) armed() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failsafe)
	defer cancel()
	if err := r.clk.BlockUntilContext(ctx, 1); err != nil {
		r.t.Fatal("the lights never armed their timer")
	}
}

func TestLightsFollowTheDeskStateMachine(t *testing.T) {
	tests := []struct {
		state  DeskState
		locked bool
		want   LightState
	}{
		{StateStarting, false, LightState{}},
		{StateRecovering, false, LightState{}},
		{StateRunning, false, LightState{Green: true}},
		{StateRunning, true, LightState{Green: true, Red: true}},
		{StateDegraded, false, LightState{}},
		{StateDegraded, true, LightState{Red: true}},
		{StateHalted, false, LightState{Red: true}},
		{StateHalted, true, LightState{Red: true}},
	}
	for _, tc := range tests {
		t.Run(string(tc.state), func(t *testing.T) {
			r := newLightRig(t)
			r.l.Set(tc.state, tc.locked)
			if got := r.l.State(); got != tc.want {
				t.Fatalf("State() = %+v, want %+v", got, tc.want)
			}
			r.expect(string(tc.state), tc.want.Green, tc.want.Red, false)
			if r.l.DeskState() != tc.state {
				t.Fatalf("DeskState() = %q", r.l.DeskState())
			}
		})
	}
}

func TestLightsSequenceRunningHaltingHaltedRunning(t *testing.T) {
	r := newLightRig(t)
	r.l.Set(StateRunning, false)
	r.expect("running", true, false, false)

	// A kill: red on at once, buzzer on, blinking starts.
	r.l.Set(StateHalting, false)
	if s := r.l.State(); s != (LightState{Red: true, Blinking: true, Buzzer: true}) {
		t.Fatalf("halting: %+v", s)
	}
	r.expect("halting t=0", false, true, true)
	r.armed()
	r.clk.Advance(250 * ms) // half a blink period: red off
	r.armed()
	r.expect("halting t=250ms", false, false, true)
	r.clk.Advance(50 * ms) // buzzer pulse over
	r.armed()
	r.expect("halting t=300ms", false, false, false)
	r.clk.Advance(200 * ms) // red on again
	r.armed()
	r.expect("halting t=500ms", false, true, false)
	r.clk.Advance(250 * ms)
	r.armed()
	r.expect("halting t=750ms", false, false, false)
	if s := r.l.State(); !s.Red || !s.Blinking || s.Buzzer {
		t.Fatalf("logical state while blinking: %+v", s)
	}

	// A second kill while halting does not pulse the buzzer again.
	r.l.Set(StateHalting, false)
	r.expect("halting again", false, false, false)

	r.l.Set(StateHalted, false)
	r.expect("halted", false, true, false)
	if s := r.l.State(); s != (LightState{Red: true}) {
		t.Fatalf("halted: %+v", s)
	}
	r.clk.Advance(10 * time.Second) // no blinking any more
	r.expect("halted later", false, true, false)

	r.l.Set(StateRunning, false) // re-armed
	r.expect("re-armed", true, false, false)

	r.l.Set(StateRunning, true) // an account locked out
	r.expect("locked out", true, true, false)
	r.l.Set(StateRunning, false) // unlocked
	r.expect("unlocked", true, false, false)
}

func TestLightsWithoutPinsOrRun(t *testing.T) {
	l := NewLights(nil, nil, nil, Config{}, LightsOptions{})
	l.Set(StateHalting, true)
	if s := l.State(); s != (LightState{Red: true, Blinking: true}) {
		t.Fatalf("%+v (no buzzer pin: no buzzer)", s)
	}
}

type brokenOut struct{ *gpiotest.Pin }

func (brokenOut) Out(gpio.Level) error { return context.DeadlineExceeded }

func TestLightsSurviveWriteErrors(t *testing.T) {
	l := NewLights(brokenOut{&gpiotest.Pin{N: "X"}}, nil, nil, Config{}, LightsOptions{Clock: clockwork.NewFakeClock()})
	l.Set(StateRunning, false)
	l.Set(StateHalted, false)
	if s := l.State(); s != (LightState{Red: true}) {
		t.Fatalf("%+v", s)
	}
}
