// lights.go: the desk lights. Green = running; red = halted or any account
// locked out; red blinking = halting; an optional buzzer pulse on a kill
// (entering halting). Set writes the pins at once; Run drives the blink and
// the end of the buzzer pulse from the injected clock.
package hw

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
)

// LightState is what the lights show (logically: Red stays true while the
// red light blinks). Field names and JSON match deskapi.Lights.
type LightState struct {
	Green    bool `json:"green"`
	Red      bool `json:"red"`
	Blinking bool `json:"blinking"`
	Buzzer   bool `json:"buzzer"`
}

// LightsOptions are the lights' collaborators.
type LightsOptions struct {
	Clock clockwork.Clock // nil = real clock
	Log   *slog.Logger    // nil = discard
}

// Lights drives up to three outputs; a nil pin is simply absent.
type Lights struct {
	green, red, buzzer gpio.PinOut
	half, pulse        time.Duration
	clock              clockwork.Clock
	log                *slog.Logger
	wake               chan struct{}

	mu        sync.Mutex
	state     DeskState
	locked    bool
	ls        LightState
	redOn     bool // the red pin's level while blinking
	nextBlink time.Time
	buzzOff   time.Time
	failed    map[string]bool // pins whose write failed (logged once)
}

// NewLights builds the lights. cfg supplies BlinkPeriod and BuzzerPulse
// (defaults filled in).
func NewLights(green, red, buzzer gpio.PinOut, cfg Config, opt LightsOptions) *Lights {
	cfg = cfg.WithDefaults()
	l := &Lights{
		green: green, red: red, buzzer: buzzer,
		half: cfg.BlinkPeriod / 2, pulse: cfg.BuzzerPulse,
		clock: opt.Clock, log: opt.Log,
		wake:   make(chan struct{}, 1),
		failed: map[string]bool{},
	}
	if l.clock == nil {
		l.clock = clockwork.NewRealClock()
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.half <= 0 {
		l.half = DefaultBlinkPeriod / 2
	}
	return l
}

// Set shows a desk state; the supervisor calls it on every transition and
// whenever an account's lockout changes.
func (l *Lights) Set(state DeskState, anyLockedOut bool) {
	l.mu.Lock()
	now := l.clock.Now()
	prev := l.state
	l.state, l.locked = state, anyLockedOut
	blinking := state == StateHalting
	if blinking && !l.ls.Blinking {
		l.redOn = true
		l.nextBlink = now.Add(l.half)
	}
	buzz := l.ls.Buzzer
	if state == StateHalting && prev != StateHalting && l.buzzer != nil {
		buzz = true
		l.buzzOff = now.Add(l.pulse)
	}
	l.ls = LightState{
		Green:    state == StateRunning,
		Red:      blinking || state == StateHalted || anyLockedOut,
		Blinking: blinking,
		Buzzer:   buzz,
	}
	l.writeLocked()
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// State is what the lights show now.
func (l *Lights) State() LightState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ls
}

// DeskState is the last state Set was given.
func (l *Lights) DeskState() DeskState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// Run blinks the red light while halting and ends buzzer pulses, until ctx
// ends. Without Run the red light is steady while halting.
func (l *Lights) Run(ctx context.Context) error {
	t := &lazyTimer{clock: l.clock}
	defer t.stop()
	var armedAt time.Time // the deadline the timer is armed for; zero = not armed
	for {
		l.mu.Lock()
		var next time.Time
		if l.ls.Blinking {
			next = l.nextBlink
		}
		if l.ls.Buzzer && (next.IsZero() || l.buzzOff.Before(next)) {
			next = l.buzzOff
		}
		now := l.clock.Now()
		l.mu.Unlock()
		switch {
		case next.IsZero():
			t.stop()
			armedAt = time.Time{}
		case !next.Equal(armedAt):
			// Re-arm only for a new deadline: an unchanged one keeps its timer.
			t.reset(max(time.Nanosecond, next.Sub(now)))
			armedAt = next
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.wake:
		case <-t.C():
			armedAt = time.Time{}
			l.tick()
		}
	}
}

// tick applies whatever is due: the end of a buzzer pulse, a blink.
func (l *Lights) tick() {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if l.ls.Buzzer && !now.Before(l.buzzOff) {
		l.ls.Buzzer = false
	}
	if l.ls.Blinking && !now.Before(l.nextBlink) {
		l.redOn = !l.redOn
		l.nextBlink = l.nextBlink.Add(l.half)
		if !l.nextBlink.After(now) {
			l.nextBlink = now.Add(l.half)
		}
	}
	l.writeLocked()
}

// writeLocked puts the logical state on the pins. Caller holds l.mu.
func (l *Lights) writeLocked() {
	red := l.ls.Red
	if l.ls.Blinking {
		red = l.redOn
	}
	l.out("green", l.green, l.ls.Green)
	l.out("red", l.red, red)
	l.out("buzzer", l.buzzer, l.ls.Buzzer)
}

func (l *Lights) out(which string, p gpio.PinOut, on bool) {
	if p == nil {
		return
	}
	if err := p.Out(gpio.Level(on)); err != nil {
		if !l.failed[which] {
			l.log.Error("desk light: write failed", "light", which, "pin", p.Name(), "err", err)
		}
		l.failed[which] = true
		return
	}
	if l.failed[which] {
		l.log.Info("desk light: writes work again", "light", which, "pin", p.Name())
		l.failed[which] = false
	}
}
