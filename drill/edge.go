package drill

// edge.go: drawdown breaches at the session's edges — a gap through every
// stop at exactly 15:55:00 ET, the moment the schedule flattens the day
// accounts; the same gap while a desk kill is in flight; and the same gap
// with the supervisor crashing on it and restarting.

import (
	"context"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor"
)

var edgeModes = []string{"schedule", "kill", "restart"}

// edgeTrades is 15:40–15:57 ET: flat at p, then at 15:55:00.000 exactly a
// gap of gap ticks down, and trading on there.
func edgeTrades(p, gap market.Price) []market.Trade {
	day := time.Date(2024, 3, 12, 0, 0, 0, 0, market.NewYork)
	var out []market.Trade
	for t := day.Add(15*time.Hour + 40*time.Minute); t.Before(day.Add(15*time.Hour + 57*time.Minute)); t = t.Add(2 * time.Second) {
		px := p
		if !t.Before(day.Add(15*time.Hour + 55*time.Minute)) {
			px = p - gap
		}
		out = append(out, market.Trade{Time: t.UnixNano(), Price: px, Size: 5, Aggressor: market.Sell})
	}
	return out
}

// holding checks that every account holds a position at the venue at the
// moment of a kill (a kill proves something only for accounts it must
// flatten).
func holding(r *rig, c *checker, what string) {
	for _, id := range r.ids {
		if p, _ := r.v.Sim.Position(id); p.Qty == 0 {
			c.violate(nil, "", "%s: %s holds no position at the venue at the moment of the kill", what, id)
		}
	}
}

func runEdge(ctx context.Context, o *Options, seed int64, dir string) (round, error) {
	var rd round
	rng := newRand(seed)
	mode := modeOf(seed, edgeModes)
	rd.mode = mode
	p := market.Price(20600)
	gap := market.Price(40 + rng.IntN(80))
	ts := edgeTrades(p, gap)
	r, err := newRig(ctx, rigOpt{Dir: dir, Log: o.Log, Start: time.Unix(0, ts[0].Time), NoEngines: true,
		Schedule: supervisor.DefaultSchedule()})
	if err != nil {
		return rd, err
	}
	c := newChecker(r)
	edge := time.Date(2024, 3, 12, 15, 55, 0, 0, market.NewYork).UnixNano()
	ch := &chaos{}
	_, err = play(ctx, r, c, ch, ts, func(i int, t market.Trade) error {
		switch {
		case i == 3:
			// Every account long 1–3 with an 8-tick stop (1 where its
			// allowance takes no more).
			for _, id := range r.ids {
				in := intent.Intent{Kind: intent.Enter, Account: id, Strategy: "drill", Side: market.Buy,
					Qty: int64(1 + rng.IntN(3)), EntryType: market.LimitOrder, Entry: p, Stop: p - 8, Target: p + 40, Reason: "drill edge"}
				if res := r.d.HandleIntent(r.ctx, in); !res.Sent && res.Decision.Reason == limits.LossBound && in.Qty > 1 {
					in.Qty = 1
					r.d.HandleIntent(r.ctx, in)
				}
			}
		case i+1 < len(ts) && ts[i+1].Time == edge && mode == "kill":
			rd.faults++
			holding(r, c, "the kill just before 15:55")
			_, err := r.kill("", "drill_edge_kill")
			return err
		case t.Time == edge:
			rd.faults++
			if mode != "kill" {
				holding(r, c, "the 15:55 flat-by")
			}
			if mode == "restart" {
				base := r.jp.n.Load()
				r.jp.after = func(n int64) {
					if n > base {
						r.crash()
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		r.close()
		return rd, err
	}
	r.jp.after = nil
	if r.crashed() {
		if err := r.restart(ctx); err != nil {
			return rd, err
		}
	}
	// No account may be holding anything past 15:55 (flat-by schedule).
	c.killReached(r, "15:55 flat-by ("+mode+")")
	tail := edgeTrades(p-gap, 0)[:tailTrades]
	for i := range tail {
		tail[i].Time = ts[len(ts)-1].Time + int64(i+1)*int64(time.Second)
	}
	return rd, endRound(ctx, r, c, tail, &rd)
}
