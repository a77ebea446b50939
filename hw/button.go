// button.go: the panic-button watcher. A reader goroutine waits for edges
// (WaitForEdge with a finite timeout, in a loop); a logic goroutine
// debounces them on the injected clock, calls Desk.Flatten on a press,
// watches a normally-closed line for a cut wire, and reports health. Both
// are restarted with backoff after a driver error or a panic.
package hw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
)

// Desk is what the button needs from the supervisor.
type Desk interface {
	// Flatten halts and liquidates the desk (account "") or one account.
	Flatten(ctx context.Context, account, trigger, who string) error
}

// DeskState is the desk state machine's state, as the lights show it.
type DeskState string

// Desk states.
const (
	StateStarting   DeskState = "starting"
	StateRecovering DeskState = "recovering"
	StateRunning    DeskState = "running"
	StateDegraded   DeskState = "degraded"
	StateHalting    DeskState = "halting"
	StateHalted     DeskState = "halted"
)

// Flatten triggers the button sends.
const (
	TriggerPanicButton = "panic_button"
	TriggerWireCut     = "panic_button_wire_cut"
)

// Errors the watcher reports (wrapped, with the detail).
var (
	ErrDriver  = errors.New("hw: GPIO driver error")
	ErrWatcher = errors.New("hw: panic button watcher failed")
	ErrRunning = errors.New("hw: already running")
)

// earlyLimit is how many WaitForEdge calls in a row may return false
// without having waited (the real driver's sign of a read error) before
// the watcher calls it a driver error.
const earlyLimit = 3

// ButtonOptions are the button's collaborators.
type ButtonOptions struct {
	Clock clockwork.Clock // nil = real clock
	Log   *slog.Logger    // nil = discard
	// OnHealth is told when the button goes offline (ok=false, why says
	// what) and back online. Called on changes only; it must not block.
	OnHealth func(ok bool, why string)
	// DeskState, when set, lets the log say a press came while halting.
	DeskState func() DeskState
	// Backoff between watcher restarts (defaults 100ms, doubling to 5s).
	MinBackoff, MaxBackoff time.Duration
}

// Button watches one panic-button input.
type Button struct {
	pin          gpio.PinIn
	name         string
	desk         Desk
	cfg          Config
	pressedLevel gpio.Level
	clock        clockwork.Clock
	log          *slog.Logger
	onHealth     func(bool, string)
	deskState    func() DeskState
	minBackoff   time.Duration
	maxBackoff   time.Duration

	// Owned by the logic goroutine; kept across restarts (which are
	// sequential), so a held button does not flatten again after one.
	stable  bool // debounced level is "pressed"
	latched bool // the press was counted; re-armed only by a settled release
	wireCut bool // the wire-cut fail-safe fired and the line is still open

	running  atomic.Bool
	lastBeat atomic.Int64 // clock unix nanos of the last normal WaitForEdge return
	beats    atomic.Int64
	presses  atomic.Int64 // Flatten calls made
	settles  atomic.Int64 // debounce windows passed (a level judged, glitches included)
	flights  sync.WaitGroup

	rmu      sync.Mutex // serializes OnHealth reports
	hmu      sync.Mutex
	hKnown   bool
	hOK      bool
	hWhy     string
	driverEr string // "" = fine
	stallEr  string
	cutEr    string

	trace func(traceEvent) // tests only
}

type traceEvent struct {
	kind    string // "edge", "settle", "wirecut", "idle"
	pressed bool
}

// NewButton builds a watcher for pin named name (the "who" of its
// Flatten calls). cfg is completed with defaults and validated.
func NewButton(pin gpio.PinIn, name string, desk Desk, cfg Config, opt ButtonOptions) (*Button, error) {
	if pin == nil {
		return nil, errors.New("hw: button: nil pin")
	}
	if desk == nil {
		return nil, errors.New("hw: button: nil desk")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b := &Button{
		pin: pin, name: name, desk: desk, cfg: cfg, pressedLevel: cfg.pressed(),
		clock: opt.Clock, log: opt.Log, onHealth: opt.OnHealth, deskState: opt.DeskState,
		minBackoff: opt.MinBackoff, maxBackoff: opt.MaxBackoff,
	}
	if b.clock == nil {
		b.clock = clockwork.NewRealClock()
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.minBackoff <= 0 {
		b.minBackoff = 100 * time.Millisecond
	}
	if b.maxBackoff < b.minBackoff {
		b.maxBackoff = max(5*time.Second, b.minBackoff)
	}
	return b, nil
}

// Name is the pin name the button reports as "who".
func (b *Button) Name() string { return b.name }

// Presses is how many Flatten calls the button has made.
func (b *Button) Presses() int64 { return b.presses.Load() }

// Settles is how many times a debounce window has passed and the level on
// the line was judged, glitches and bounces that came back included: a
// test waits on it to know a short pulse was seen and ignored, rather than
// merged into a later press.
func (b *Button) Settles() int64 { return b.settles.Load() }

// Healthy reports whether the button is online, and why not.
func (b *Button) Healthy() (bool, string) {
	b.hmu.Lock()
	defer b.hmu.Unlock()
	return b.hKnown && b.hOK, b.hWhy
}

// Run watches the button until ctx ends, restarting the watcher with
// backoff after a driver error, a stop or a panic. It returns nil when ctx
// ends, after every Flatten call it started has returned.
func (b *Button) Run(ctx context.Context) error {
	if !b.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer b.running.Store(false)
	defer b.flights.Wait()
	backoff := b.minBackoff
	for {
		beats := b.beats.Load()
		err := b.runOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("%w: watcher stopped", ErrWatcher)
		}
		if b.beats.Load() > beats {
			backoff = b.minBackoff // it had been working: start the backoff over
		}
		b.setHealth(func() { b.driverEr = "panic button offline: " + err.Error() })
		b.log.Error("panic button offline; restarting the watcher", "pin", b.name, "err", err, "retry_in", backoff)
		t := b.clock.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.Chan():
		}
		backoff = min(2*backoff, b.maxBackoff)
	}
}

// runOnce configures the pin and runs the reader and the debounce logic
// until ctx ends or either fails.
func (b *Button) runOnce(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: panic: %v", ErrWatcher, b.name, r)
		}
	}()
	if err := b.pin.In(b.cfg.pull(), gpio.BothEdges); err != nil {
		return fmt.Errorf("%w: %s: configure input: %v", ErrDriver, b.name, err)
	}
	rctx, cancel := context.WithCancel(ctx)
	edges := make(chan struct{})
	idle := make(chan struct{}, 1)
	rerr := make(chan error, 1)
	rdone := make(chan struct{})
	go b.read(rctx, edges, idle, rerr, rdone)
	defer func() {
		cancel()
		_ = b.pin.Halt() // interrupts a pending WaitForEdge on the real driver
		<-rdone
	}()

	settle := &lazyTimer{clock: b.clock}
	defer settle.stop()
	wire := &lazyTimer{clock: b.clock}
	defer wire.stop()
	stall := &lazyTimer{clock: b.clock}
	defer stall.stop()
	if b.cfg.StallAfter > 0 {
		b.lastBeat.Store(b.clock.Now().UnixNano())
		stall.reset(b.cfg.StallAfter)
	}

	// The debounce: every edge restarts the window; when the window passes
	// with no edge, the level read right after the last edge has held for
	// the whole window and becomes the debounced level.
	var lastEdge, settleAt time.Time
	var edgeLevel gpio.Level
	pending := false
	settleNow := func() {
		pending = false
		b.settles.Add(1)
		pressed := edgeLevel == b.pressedLevel
		b.settled(ctx, pressed, lastEdge, wire)
		b.tr(traceEvent{kind: "settle", pressed: pressed})
	}
	edge := func() {
		now := b.clock.Now()
		if pending && !now.Before(settleAt) {
			settleNow() // the window had passed before this edge came in
		}
		lastEdge, settleAt = now, now.Add(b.cfg.Debounce)
		edgeLevel = b.pin.Read()
		pending = true
		settle.reset(b.cfg.Debounce)
	}
	// The line may have changed while nobody watched (start, restart).
	if (b.pin.Read() == b.pressedLevel) != b.stable {
		edge()
	}
	if b.stable && !b.wireCut && b.wireCheck() {
		wire.reset(b.cfg.WireCutHold)
	}
	b.tr(traceEvent{kind: "ready"})
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-rerr:
			return err
		case <-edges:
			edge()
			b.tr(traceEvent{kind: "edge"})
		case <-idle:
			// A quiet poll: catch an edge the driver may have dropped.
			if !pending && (b.pin.Read() == b.pressedLevel) != b.stable {
				edge()
			}
			b.tr(traceEvent{kind: "idle"})
		case <-settle.C():
			if pending {
				settleNow()
			}
		case <-wire.C():
			cut := false
			if b.stable && !b.wireCut && !pending && b.pin.Read() == b.pressedLevel {
				cut = true
				b.wireCut = true
				why := fmt.Sprintf("%s: %s line open for %s (wire cut, or the button held)", TriggerWireCut, b.name, b.cfg.WireCutHold)
				b.log.Error("panic button line open: flattening", "pin", b.name, "why", why)
				b.fire(ctx, TriggerWireCut)
				b.setHealth(func() { b.cutEr = "panic button offline: " + why })
			}
			b.tr(traceEvent{kind: "wirecut", pressed: cut})
		case <-stall.C():
			since := b.clock.Since(time.Unix(0, b.lastBeat.Load()))
			if since >= b.cfg.StallAfter {
				why := fmt.Sprintf("panic button offline: panic_button_watcher_stalled: %s: no return from WaitForEdge for %s", b.name, since.Round(time.Millisecond))
				b.setHealth(func() { b.stallEr = why })
			}
			stall.reset(b.cfg.StallAfter)
		}
	}
}

// wireCheck reports whether the wire-cut fail-safe applies.
func (b *Button) wireCheck() bool {
	return b.cfg.Wiring == NormallyClosed && b.cfg.WireCutHold > 0
}

// settled applies a debounced level.
func (b *Button) settled(ctx context.Context, pressed bool, since time.Time, wire *lazyTimer) {
	if pressed == b.stable {
		return // a glitch or a bounce that came back
	}
	b.stable = pressed
	if pressed {
		if !b.latched {
			b.latched = true
			b.fire(ctx, TriggerPanicButton)
		}
		if b.wireCheck() && !b.wireCut {
			wire.reset(max(time.Nanosecond, b.cfg.WireCutHold-b.clock.Since(since)))
		}
		return
	}
	// Released: the next press counts again. Releasing re-arms nothing on the desk.
	b.latched = false
	wire.stop()
	b.log.Info("panic button released", "pin", b.name)
	if b.wireCut {
		b.wireCut = false
		b.log.Warn("panic button line closed again", "pin", b.name)
		b.setHealth(func() { b.cutEr = "" })
	}
}

// fire calls Desk.Flatten for the whole desk. The call runs on its own
// goroutine with a context that is never cancelled: a kill is never lost
// to a shutdown, and a slow Flatten never blinds the watcher.
func (b *Button) fire(ctx context.Context, trigger string) {
	b.presses.Add(1)
	state := DeskState("")
	if b.deskState != nil {
		state = b.deskState()
	}
	if state == StateHalting || state == StateHalted {
		b.log.Info("panic button pressed while the desk is "+string(state)+": flatten requested again (harmless)", "pin", b.name, "trigger", trigger)
	} else {
		b.log.Warn("PANIC BUTTON: flattening the desk", "pin", b.name, "trigger", trigger, "desk_state", string(state))
	}
	kctx := context.WithoutCancel(ctx)
	b.flights.Add(1)
	go func() {
		defer b.flights.Done()
		defer func() {
			if r := recover(); r != nil {
				b.log.Error("panic button: Flatten panicked", "pin", b.name, "panic", fmt.Sprint(r))
			}
		}()
		if err := b.desk.Flatten(kctx, "", trigger, b.name); err != nil {
			b.log.Error("panic button: Flatten failed", "pin", b.name, "trigger", trigger, "err", err)
		}
	}()
}

// read waits for edges and hands each to the logic goroutine. It reports a
// driver error when WaitForEdge keeps returning false without waiting.
func (b *Button) read(ctx context.Context, edges chan<- struct{}, idle chan<- struct{}, rerr chan<- error, done chan<- struct{}) {
	defer close(done)
	defer func() {
		if r := recover(); r != nil {
			rerr <- fmt.Errorf("%w: %s: edge reader panic: %v", ErrWatcher, b.name, r)
		}
	}()
	early := 0
	for ctx.Err() == nil {
		start := b.clock.Now()
		got := b.pin.WaitForEdge(b.cfg.Poll)
		if ctx.Err() != nil {
			return
		}
		if !got && b.clock.Since(start) < b.cfg.Poll/2 {
			early++
			if early >= earlyLimit {
				rerr <- fmt.Errorf("%w: %s: WaitForEdge failed %d times in a row without waiting", ErrDriver, b.name, early)
				return
			}
			continue
		}
		early = 0
		b.beat()
		if got {
			select {
			case edges <- struct{}{}:
			case <-ctx.Done():
				return
			}
			continue
		}
		select {
		case idle <- struct{}{}:
		default:
		}
	}
}

// beat records a normal WaitForEdge return: the driver answers.
func (b *Button) beat() {
	b.lastBeat.Store(b.clock.Now().UnixNano())
	b.beats.Add(1)
	b.hmu.Lock()
	fine := b.hKnown && b.driverEr == "" && b.stallEr == ""
	b.hmu.Unlock()
	if !fine {
		b.setHealth(func() { b.driverEr, b.stallEr = "", "" })
	}
}

// setHealth changes the health causes under the lock and reports a change.
func (b *Button) setHealth(change func()) {
	b.rmu.Lock()
	defer b.rmu.Unlock()
	b.hmu.Lock()
	change()
	why := b.driverEr
	if why == "" {
		why = b.stallEr
	}
	if why == "" {
		why = b.cutEr
	}
	ok := why == ""
	changed := !b.hKnown || ok != b.hOK || why != b.hWhy
	b.hKnown, b.hOK, b.hWhy = true, ok, why
	b.hmu.Unlock()
	if !changed {
		return
	}
	if ok {
		b.log.Info("panic button online", "pin", b.name)
	} else {
		b.log.Error("panic button offline", "pin", b.name, "why", why)
	}
	if b.onHealth != nil {
		b.onHealth(ok, why)
	}
}

func (b *Button) tr(ev traceEvent) {
	if b.trace != nil {
		b.trace(ev)
	}
}

// stopTimer stops t and drains a value it may already have delivered.
func stopTimer(t clockwork.Timer) {
	if !t.Stop() {
		select {
		case <-t.Chan():
		default:
		}
	}
}

// rearm restarts t to fire after d, with no stale value left behind.
func rearm(t clockwork.Timer, d time.Duration) {
	stopTimer(t)
	t.Reset(d)
}

// lazyTimer is a clock timer created on first use, so an idle watcher or
// lights loop holds no timer at all (and a fake clock counts only the
// timers that are really armed).
type lazyTimer struct {
	clock clockwork.Clock
	t     clockwork.Timer
}

// C is the timer's channel, or nil (never ready) before first use.
func (l *lazyTimer) C() <-chan time.Time {
	if l.t == nil {
		return nil
	}
	return l.t.Chan()
}

func (l *lazyTimer) reset(d time.Duration) {
	if l.t == nil {
		l.t = l.clock.NewTimer(d)
		return
	}
	rearm(l.t, d)
}

func (l *lazyTimer) stop() {
	if l.t != nil {
		stopTimer(l.t)
	}
}
