package drill

// crash.go: the shared round driver (play, endRound) and the
// crash-restart scenario.

import (
	"context"
	"fmt"
	"time"

	"github.com/deskguard/deskguard/market"
)

// tailTrades are kept back from every round for the closing kill: its
// market orders fill on them.
const tailTrades = 10

// play runs trades through the rig with the chaos trader, restarting the
// desk whenever a crash point fired; hook runs before each trade.
func play(ctx context.Context, r *rig, c *checker, ch *chaos, trades []market.Trade, hook func(i int, t market.Trade) error) (restarts int, err error) {
	recover := func() error {
		if !r.crashed() {
			return nil
		}
		restarts++
		return r.restart(ctx)
	}
	for i, t := range trades {
		if err := ctx.Err(); err != nil {
			return restarts, err
		}
		if hook != nil {
			if err := hook(i, t); err != nil {
				return restarts, err
			}
		}
		if err := recover(); err != nil {
			return restarts, err
		}
		ch.maybe(r, t)
		for _, f := range ch.take() {
			c.violate(nil, "", "%s", f)
		}
		if err := recover(); err != nil {
			return restarts, err
		}
		r.step(t)
		if err := recover(); err != nil {
			return restarts, err
		}
		c.observe(r)
		if err := r.allIn.step(r, c, i, t); err != nil {
			return restarts, err
		}
	}
	return restarts, nil
}

// endRound kills the desk, lets the liquidations fill on the tail trades,
// checks that the kill reached every account, and runs the end-of-round
// checks. It closes the rig.
func endRound(ctx context.Context, r *rig, c *checker, tail []market.Trade, rd *round) error {
	defer r.close()
	if _, err := r.kill("", "drill_end"); err != nil {
		return fmt.Errorf("closing kill: %w", err)
	}
	for _, t := range tail {
		r.step(t)
		c.observe(r)
	}
	c.killReached(r, "closing kill")
	checkAllIn(r, c)
	for _, w := range r.d.RepairWindowMax() {
		if w > rd.repair {
			rd.repair = w
		}
	}
	if c.worstGap > rd.repair {
		rd.repair = c.worstGap
	}
	c.finish(r)
	rd.viol = append(rd.viol, c.viol...)
	r.kmu.Lock()
	rd.kills = append(rd.kills, r.kills...)
	r.kmu.Unlock()
	for _, a := range c.accts {
		if a.breachAt > 0 {
			rd.breach++
		}
	}
	r.v.mu.Lock()
	for _, ev := range r.v.events {
		if ev.FillQty > 0 {
			rd.fills++
		}
	}
	r.v.mu.Unlock()
	return nil
}

// split cuts a session into the traded part and the tail.
func split(ts []market.Trade) ([]market.Trade, []market.Trade) {
	if len(ts) <= tailTrades*2 {
		return ts, nil
	}
	return ts[:len(ts)-tailTrades], ts[len(ts)-tailTrades:]
}

// crashModes are where the round's first crash lands (the rest are
// drawn): right after a durable journal append, or right after a request
// reached the venue.
var crashModes = []string{"after-append", "after-request"}

// runCrash: the supervisor dies at random points — right after a durable
// journal append, or right after a request reached the venue — and a new
// desk recovers from the journal file and reconciles with the venue that
// kept running. 1–3 crashes a round.
func runCrash(ctx context.Context, o *Options, seed int64, dir string) (round, error) {
	var rd round
	ts, err := sessionTrades(seed, o.Scale)
	if err != nil {
		return rd, err
	}
	body, tail := split(ts)
	rng := newRand(seed)
	r, err := newRig(ctx, rigOpt{Dir: dir, Log: o.Log, Start: time.Unix(0, ts[0].Time)})
	if err != nil {
		return rd, err
	}
	c := newChecker(r)
	r.allIn = &allIn{at: len(body) / 12}
	ch := &chaos{rng: newRand(seed + 1), every: 1 + len(body)/150}
	n := 1 + rng.IntN(3)
	rd.mode = modeOf(seed, crashModes)
	first := true
	at := map[int]bool{}
	for len(at) < n {
		// After the opening range, when positions and brackets are live.
		at[len(body)/6+rng.IntN(len(body)*5/6)] = true
	}
	restarts, err := play(ctx, r, c, ch, body, func(i int, t market.Trade) error {
		if !at[i] {
			return nil
		}
		k := int64(1 + rng.IntN(6))
		kind := rng.IntN(2)
		if first {
			kind, first = int(uint64(seed)%uint64(len(crashModes))), false
		}
		if kind == 0 {
			base := r.jp.n.Load()
			r.jp.after = func(n int64) {
				if n >= base+k {
					r.crash()
				}
			}
		} else {
			base := r.p.sent.Load()
			r.p.after = func() {
				if r.p.sent.Load() >= base+k {
					r.crash()
				}
			}
		}
		return nil
	})
	if err != nil {
		r.close()
		return rd, err
	}
	if r.crashed() {
		restarts++
		if err := r.restart(ctx); err != nil {
			return rd, err
		}
	}
	r.jp.after, r.p.after = nil, nil // a crash point that never fired
	rd.faults = restarts
	return rd, endRound(ctx, r, c, tail, &rd)
}
