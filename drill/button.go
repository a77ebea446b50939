package drill

// button.go: the simulated panic button (the same watcher and debounce as
// the GPIO one) wired to a trading desk: a glitch shorter than the
// debounce flattens nothing, a bouncing press flattens once, a clean click
// once, and on a normally-closed line a cut wire (the line open past
// wire_cut_hold) flattens and reports the button offline. Real clock: the
// waits are bounded by deadlines, and the "nothing more" check waits a
// quiet period of ten debounce windows.

import (
	"context"
	"sync"
	"time"

	"github.com/deskguard/deskguard/hw"
	"github.com/deskguard/deskguard/market"
)

type countingDesk struct {
	r   *rig
	mu  sync.Mutex
	by  map[string]int
	sig chan struct{}
}

func (d *countingDesk) Flatten(ctx context.Context, account, trigger, who string) error {
	d.mu.Lock()
	d.by[trigger]++
	d.mu.Unlock()
	_, err := d.r.kill(account, trigger)
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

// waitCount waits until trigger has fired want times (or the deadline).
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
	nc := seed%2 == 0
	cfg := hw.Config{ButtonPin: hw.SimPin, Wiring: hw.NormallyOpen, StallAfter: -1, Debounce: 20 * time.Millisecond,
		WireCutHold: 300 * time.Millisecond}
	if nc {
		cfg.Wiring = hw.NormallyClosed
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
	settle := func(what string) error {
		if _, err := play(ctx, r, c, ch, body[third:third+tailTrades], nil); err != nil {
			return err
		}
		third += tailTrades
		c.killReached(r, what)
		_ = r.d.Rearm(ctx, "drill", "after a drill press")
		_, err := play(ctx, r, c, ch, body[third:third+len(body)/6], nil)
		third += len(body) / 6
		return err
	}
	sim := dev.Sim
	// 1. Glitches: presses far shorter than the debounce window.
	for i := 0; i < 5; i++ {
		sim.Press()
		sim.Release()
	}
	rd.faults += 5
	// 2. A bouncing press that then holds: one flatten.
	for i := 0; i < 5; i++ {
		sim.Press()
		sim.Release()
	}
	sim.Click(5 * cfg.Debounce)
	rd.faults += 6
	if n := desk.waitCount(hw.TriggerPanicButton, 1, 5*time.Second); n != 1 {
		c.violate(nil, "", "glitches + a bouncing press gave %d flattens, want 1", n)
	}
	if err := settle("button bounce"); err != nil {
		r.close()
		return rd, err
	}
	// 3. A clean click: one more.
	sim.Click(0)
	rd.faults++
	if n := desk.waitCount(hw.TriggerPanicButton, 2, 5*time.Second); n != 2 {
		c.violate(nil, "", "a clean click: %d flattens in all, want 2", n)
	}
	if err := settle("button click"); err != nil {
		r.close()
		return rd, err
	}
	// 4. Normally closed: the line opens and stays open (a cut wire).
	if nc {
		sim.Press()
		rd.faults++
		if n := desk.waitCount(hw.TriggerWireCut, 1, 5*time.Second); n != 1 {
			c.violate(nil, "", "a cut wire gave %d wire-cut flattens, want 1", n)
		}
		if ok, _ := dev.Button.Healthy(); ok {
			c.violate(nil, "", "a cut wire left the button reported healthy")
		}
		sim.Release()
		if err := settle("button wire cut"); err != nil {
			r.close()
			return rd, err
		}
	}
	// Nothing more fires in a quiet period.
	want := 2
	if nc {
		want = 3 // the open line counts as a press once debounced
	}
	time.Sleep(10 * cfg.Debounce)
	if n := desk.count(hw.TriggerPanicButton); n != want {
		c.violate(nil, "", "%d panic-button flattens in all, want %d", n, want)
	}
	rest := body[third:]
	if _, err := play(ctx, r, c, ch, rest, func(int, market.Trade) error { return nil }); err != nil {
		r.close()
		return rd, err
	}
	return rd, endRound(ctx, r, c, tail, &rd)
}
