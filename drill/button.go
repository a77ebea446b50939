package drill

// button.go: the simulated panic button (the same watcher and debounce as
// the GPIO one) wired to a trading desk, driven with edges at real widths
// around its debounce window on the real clock: presses of 0.5× and 0.9×
// the window flatten nothing, 1.1× and 2× flatten once each, a bouncing
// press (bounces of 0.2× with gaps of 0.2×, then a hold) once, and on a
// normally-closed line a cut wire (the line open past wire_cut_hold)
// flattens and reports the button offline. The order of the pulses is
// drawn from the seed; the wiring cycles with it (normally open on odd
// seeds, normally closed on even ones).
//
// No sleep stands in for synchronisation: after each pulse the drill waits
// for the watcher's Settles count (a debounce window passed and the level
// was judged) and then for a fence — a 0.25× glitch whose settle proves
// every earlier settle has been acted on — before it counts the flattens.
// The window is 200 ms so that 0.9× and 1.1× stay 20 ms from it when the
// shared machine delays a goroutine. What must happen is decided by the
// width the press really had (measured around the drill's own sleep,
// which a loaded machine stretches): held past the window, one flatten;
// shorter, none; within 10% of the window, counted but not judged.

import (
	"context"
	"sync"
	"time"

	"github.com/deskguard/deskguard/hw"
	"github.com/deskguard/deskguard/market"
)

// buttonDebounce is the drill button's debounce window.
const buttonDebounce = 200 * time.Millisecond

type countingDesk struct {
	r   *rig
	mu  sync.Mutex
	by  map[string]int
	sig chan struct{}
}

func (d *countingDesk) Flatten(ctx context.Context, account, trigger, who string) error {
	_, err := d.r.kill(account, trigger)
	d.mu.Lock()
	d.by[trigger]++
	d.mu.Unlock()
	select {
	case d.sig <- struct{}{}:
	default:
	}
	return err
}

func (d *countingDesk) count(trigger string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.by[trigger]
}

// waitCount waits until trigger's kills have returned want times (or the
// deadline).
func (d *countingDesk) waitCount(trigger string, want int, within time.Duration) int {
	deadline := time.After(within)
	for d.count(trigger) < want {
		select {
		case <-d.sig:
		case <-deadline:
			return d.count(trigger)
		}
	}
	return d.count(trigger)
}

// pulse is one way of pressing the button.
type pulse struct {
	name    string
	widths  []float64 // press widths in windows; several = bounces 0.2× apart, the last one held
	flatten bool      // what the desk must see
}

var buttonPulses = []pulse{
	{"0.5x", []float64{0.5}, false},
	{"0.9x", []float64{0.9}, false},
	{"1.1x", []float64{1.1}, true},
	{"2x", []float64{2}, true},
	{"bounce", []float64{0.2, 0.2, 0.2, 0.2, 0.2, 2}, true},
}

// waitSettles waits until the button has judged n levels (or 5 s).
func waitSettles(b *hw.Button, n int64) bool {
	deadline := time.Now().Add(5 * time.Second)
	for b.Settles() < n {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond) // polling an exported counter, bounded by the deadline
	}
	return true
}

func runButton(ctx context.Context, o *Options, seed int64, dir string) (round, error) {
	var rd round
	ts, err := sessionTrades(seed, o.Scale/4)
	if err != nil {
		return rd, err
	}
	body, tail := split(ts)
	r, err := newRig(ctx, rigOpt{Dir: dir, Log: o.Log, Start: time.Unix(0, ts[0].Time)})
	if err != nil {
		return rd, err
	}
	c := newChecker(r)
	r.allIn = &allIn{at: len(body) / 12}
	nc := seed%2 == 0
	rd.mode = "normally_open"
	cfg := hw.Config{ButtonPin: hw.SimPin, Wiring: hw.NormallyOpen, StallAfter: -1, Debounce: buttonDebounce,
		WireCutHold: 5 * buttonDebounce}
	if nc {
		cfg.Wiring, rd.mode = hw.NormallyClosed, "normally_closed"
	}
	desk := &countingDesk{r: r, by: map[string]int{}, sig: make(chan struct{}, 1)}
	dev, err := hw.Open(cfg, desk, hw.Options{Log: o.Log})
	if err != nil {
		r.close()
		return rd, err
	}
	bctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = dev.Run(bctx) }()
	defer func() { cancel(); <-done }()

	ch := &chaos{rng: newRand(seed + 1), every: 1 + len(body)/100}
	third := len(body) / 3
	if _, err := play(ctx, r, c, ch, body[:third], nil); err != nil {
		r.close()
		return rd, err
	}
	// After a flatten: the liquidations fill, every account must be flat,
	// the desk is re-armed and trades on a while.
	settle := func(what string) error {
		if _, err := play(ctx, r, c, ch, body[third:third+tailTrades], nil); err != nil {
			return err
		}
		third += tailTrades
		c.killReached(r, what)
		_ = r.d.Rearm(ctx, "drill", "after a drill press")
		_, err := play(ctx, r, c, ch, body[third:third+len(body)/12], nil)
		third += len(body) / 12
		return err
	}
	sim, btn := dev.Sim, dev.Button
	hold := func(f float64) time.Duration { return time.Duration(f * float64(buttonDebounce)) }
	// press holds the button down for w and reports the width it really had.
	press := func(w time.Duration) time.Duration {
		sim.Press()
		start := time.Now()
		time.Sleep(w) // the pulse's width: the fault itself, not synchronisation
		got := time.Since(start)
		sim.Release()
		return got
	}
	// fence: a 0.25× glitch; once its level is judged, every earlier
	// settle has been acted on (one goroutine judges them in order).
	fence := func() bool {
		n := btn.Settles()
		press(hold(0.25))
		return waitSettles(btn, n+1)
	}
	want := 0 // panic-button flattens so far
	rng := newRand(seed + 2)
	for _, k := range rng.Perm(len(buttonPulses)) {
		p := buttonPulses[k]
		before, flattened := btn.Settles(), int(btn.Presses())
		var last, bounce time.Duration
		for i, w := range p.widths {
			if i > 0 {
				time.Sleep(hold(0.2)) // the bounce's gap: part of the fault
				bounce = max(bounce, last)
			}
			last = press(hold(w))
		}
		rd.faults++
		// What the line really did decides: a loaded machine can stretch
		// the drill's own sleep past the window. Within 10% of the window
		// either way the pulse is counted but not judged.
		flatten := last > buttonDebounce
		judged := (last < hold(0.9) || last > hold(1.1)) && bounce < hold(0.9)
		// Held past the window: the press and the release are judged (two
		// settles); a glitch only the level it came back to (one).
		if flatten && judged && !waitSettles(btn, before+2) {
			c.violate(nil, "", "button %s (held %s of a %s window, %s wiring): never judged as a press", p.name,
				last.Round(time.Millisecond), buttonDebounce, rd.mode)
		}
		if (!flatten || !judged) && !waitSettles(btn, before+1) {
			c.violate(nil, "", "button %s: its level was never judged (%d settles)", p.name, btn.Settles()-before)
		}
		if !fence() {
			c.violate(nil, "", "button: the fence glitch after %s was never judged", p.name)
		}
		got := int(btn.Presses())
		switch {
		case !judged:
			want = got // too near the window to call either way
		case flatten:
			want++
		}
		if got != want {
			c.violate(nil, "", "button %s (held %s of a %s window, %s wiring): %d flattens in all, want %d",
				p.name, last.Round(time.Millisecond), buttonDebounce, rd.mode, got, want)
			want = got
		}
		if got > 0 && desk.waitCount(hw.TriggerPanicButton, got, 5*time.Second) != got {
			c.violate(nil, "", "button %s: %d flattens made, %d returned from the desk", p.name, got, desk.count(hw.TriggerPanicButton))
		}
		if got > flattened {
			if err := settle("button " + p.name); err != nil {
				r.close()
				return rd, err
			}
		}
	}
	// Normally closed: the line opens and stays open (a cut wire).
	if nc {
		n := btn.Presses()
		sim.Press()
		rd.faults++
		if k := desk.waitCount(hw.TriggerWireCut, 1, 5*time.Second+cfg.WireCutHold); k != 1 {
			c.violate(nil, "", "a cut wire gave %d wire-cut flattens, want 1", k)
		}
		if ok, _ := btn.Healthy(); ok {
			c.violate(nil, "", "a cut wire left the button reported healthy")
		}
		sim.Release()
		if !fence() {
			c.violate(nil, "", "button: the fence glitch after the cut wire was never judged")
		}
		// The open line also counts once as a press when it is debounced.
		if got := btn.Presses() - n; got != 2 {
			c.violate(nil, "", "a cut wire: %d flatten calls (press and wire cut), want 2", got)
		}
		if err := settle("button wire cut"); err != nil {
			r.close()
			return rd, err
		}
	}
	if k := desk.count(hw.TriggerPanicButton) + desk.count(hw.TriggerWireCut); k != int(btn.Presses()) {
		c.violate(nil, "", "%d flatten calls made by the button, %d reached the desk", btn.Presses(), k)
	}
	rest := body[third:]
	if _, err := play(ctx, r, c, ch, rest, func(int, market.Trade) error { return nil }); err != nil {
		r.close()
		return rd, err
	}
	return rd, endRound(ctx, r, c, tail, &rd)
}
