// sim.go: simulated pins for development without hardware. The simulated
// button is a gpio.PinIn that the SAME watcher and debounce code reads; the
// simulated lights are gpio.PinOut values whose levels can be read back.
package hw

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// simPin is a gpio.PinIn modelling a button wired to a line: its level is
// set by SimButton, never by the pull (the circuit decides, as on a real
// board). Edges coalesce: the watcher re-reads the level anyway.
type simPin struct {
	name  string
	clock clockwork.Clock
	edge  chan struct{}
	halt  chan struct{}

	mu    sync.Mutex
	level gpio.Level
	pull  gpio.Pull
}

var _ gpio.PinIn = (*simPin)(nil)

func newSimPin(name string, level gpio.Level, clock clockwork.Clock) *simPin {
	return &simPin{name: name, clock: clock, level: level, edge: make(chan struct{}, 1), halt: make(chan struct{}, 1)}
}

func (p *simPin) String() string   { return p.name }
func (p *simPin) Name() string     { return p.name }
func (p *simPin) Number() int      { return -1 }
func (p *simPin) Function() string { return "In/" + p.Read().String() }

// Halt interrupts a pending WaitForEdge, as the real driver's Halt does.
func (p *simPin) Halt() error {
	select {
	case p.halt <- struct{}{}:
	default:
	}
	return nil
}

func (p *simPin) In(pull gpio.Pull, _ gpio.Edge) error {
	p.mu.Lock()
	p.pull = pull
	p.mu.Unlock()
	// Like the real driver, edges from before the request are not reported.
	select {
	case <-p.halt:
	default:
	}
	return nil
}

func (p *simPin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level
}

func (p *simPin) Pull() gpio.Pull {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pull
}

func (p *simPin) DefaultPull() gpio.Pull { return gpio.PullNoChange }

// WaitForEdge waits for an edge, a Halt or the timeout (<= 0: no timeout).
func (p *simPin) WaitForEdge(timeout time.Duration) bool {
	var tc <-chan time.Time
	if timeout > 0 {
		t := p.clock.NewTimer(timeout)
		defer stopTimer(t)
		tc = t.Chan()
	}
	select {
	case <-p.edge:
		return true
	case <-p.halt:
		return false
	case <-tc:
		return false
	}
}

func (p *simPin) set(l gpio.Level) {
	p.mu.Lock()
	changed := p.level != l
	p.level = l
	p.mu.Unlock()
	if changed {
		select {
		case p.edge <- struct{}{}:
		default:
		}
	}
}

// SimButton is the simulated panic button: `deskguard press` (through the
// control socket) and the console press it.
type SimButton struct {
	pin       *simPin
	pressed   gpio.Level
	clock     clockwork.Clock
	debounce  time.Duration
	mu        sync.Mutex
	isPressed bool
}

// NewSimButton builds a simulated button wired as cfg says; Pin is what a
// Button watches.
func NewSimButton(cfg Config, clock clockwork.Clock) *SimButton {
	cfg = cfg.WithDefaults()
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	pressed := cfg.pressed()
	return &SimButton{pin: newSimPin(SimPin, !pressed, clock), pressed: pressed, clock: clock, debounce: cfg.Debounce}
}

// Pin is the simulated input line.
func (s *SimButton) Pin() gpio.PinIn { return s.pin }

// Press pushes the button down (for normally-closed wiring: opens the line).
func (s *SimButton) Press() {
	s.mu.Lock()
	s.isPressed = true
	s.mu.Unlock()
	s.pin.set(s.pressed)
}

// Release lets the button go. It re-arms nothing on the desk.
func (s *SimButton) Release() {
	s.mu.Lock()
	s.isPressed = false
	s.mu.Unlock()
	s.pin.set(!s.pressed)
}

// Pressed reports whether the simulated button is down.
func (s *SimButton) Pressed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isPressed
}

// DefaultClickHold returns how long Click(0) holds the button: five
// debounce windows (100 ms with the default debounce).
func (s *SimButton) DefaultClickHold() time.Duration { return 5 * s.debounce }

// Click presses, holds for hold (<= 0: DefaultClickHold) on the clock and
// releases. A hold shorter than the debounce window is a glitch and does
// not flatten, exactly as on hardware.
func (s *SimButton) Click(hold time.Duration) {
	if hold <= 0 {
		hold = s.DefaultClickHold()
	}
	s.Press()
	s.clock.Sleep(hold)
	s.Release()
}

// SimOut is a simulated output pin (a desk light or the buzzer).
type SimOut struct {
	name  string
	mu    sync.Mutex
	level gpio.Level
	edges int
}

var _ gpio.PinOut = (*SimOut)(nil)

// NewSimOut builds a simulated output.
func NewSimOut(name string) *SimOut { return &SimOut{name: name} }

func (o *SimOut) String() string   { return o.name }
func (o *SimOut) Name() string     { return o.name }
func (o *SimOut) Number() int      { return -1 }
func (o *SimOut) Function() string { return "Out/" + o.Level().String() }
func (o *SimOut) Halt() error      { return nil }

// Out sets the level.
func (o *SimOut) Out(l gpio.Level) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.level != l {
		o.edges++
	}
	o.level = l
	return nil
}

// PWM is not supported on a simulated output.
func (o *SimOut) PWM(gpio.Duty, physic.Frequency) error {
	return errors.New("hw: " + o.name + ": PWM not supported")
}

// Level is the current output level.
func (o *SimOut) Level() gpio.Level {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.level
}

// Changes counts level changes (a blinking light changes often).
func (o *SimOut) Changes() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.edges
}

func (o *SimOut) GoString() string { return fmt.Sprintf("SimOut(%s=%s)", o.name, o.Level()) }
