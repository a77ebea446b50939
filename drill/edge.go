package drill

// edge.go: drawdown breaches at the session's edges — a gap through every
// stop at exactly 15:55:00 ET, the moment the schedule flattens the day
// accounts; the same gap while a desk kill is in flight; the same gap
// with the supervisor crashing on it and restarting — and, before the
// gap, the rules of issue 20 at the same edge: every account past its
// intraday trailing line (locked out, flattened, still so after a crash
// and restart), and a news release's blackout (every account flattened
// ahead of it once, not again after a crash and restart inside the
// window, its entries refused).

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor"
)

var edgeModes = []string{"schedule", "kill", "restart", "trailing", "blackout"}

// The trailing mode: a line $25 below the intraday peak; the market rises
// 36 ticks (the peak: +$45 on one contract, short of the 40-tick target)
// at 15:42 and gives 20 of them back at 15:45 — at the line, far above
// the day's drawdown line. The blackout mode: a release at 15:46 with
// entries refused from 15:41 and every account flattened from 15:42.
const (
	edgeTrailing = 25 // dollars
	edgeRise     = 36 // ticks
	edgeGiveBack = 20 // ticks
)

// edgeAt is 2024-03-12 hh:mm:ss ET.
func edgeAt(hh, mm, ss int) int64 {
	return time.Date(2024, 3, 12, hh, mm, ss, 0, market.NewYork).UnixNano()
}

// shapeTrailing puts the trailing mode's rise and give-back into ts.
func shapeTrailing(ts []market.Trade, p market.Price) {
	for i := range ts {
		switch t := ts[i].Time; {
		case t >= edgeAt(15, 55, 0):
		case t >= edgeAt(15, 45, 0):
			ts[i].Price = p + edgeRise - edgeGiveBack
		case t >= edgeAt(15, 42, 0):
			ts[i].Price = p + edgeRise
		}
	}
}

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
	ro := rigOpt{Dir: dir, Log: o.Log, Start: time.Unix(0, ts[0].Time), NoEngines: true, Schedule: supervisor.DefaultSchedule()}
	switch mode {
	case "trailing":
		shapeTrailing(ts, p)
		ro.Limits = limits.Config{TrailingMode: limits.TrailingIntraday, TrailingDrawdown: decimal.NewFromInt(edgeTrailing)}
	case "blackout":
		ro.Calendar = limits.NewCalendar([]limits.Release{{TimeNs: edgeAt(15, 46, 0), Name: "drill release"}})
		ro.Limits = limits.Config{BlackoutBefore: 5 * time.Minute, BlackoutAfter: 5 * time.Minute, BlackoutFlatten: 4 * time.Minute}
	}
	r, err := newRig(ctx, ro)
	if err != nil {
		return rd, err
	}
	var liqs map[string]int // the blackout's flattens, before the restart inside its window
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
				if res := r.d.HandleIntent(r.ctx, in); !res.Sent && in.Qty > 1 &&
					(res.Decision.Reason == limits.LossBound || res.Decision.Reason == limits.TrailingDrawdown) {
					in.Qty = 1
					r.d.HandleIntent(r.ctx, in)
				}
			}
		case mode == "trailing" && t.Time == edgeAt(15, 45, 10):
			rd.faults++
			trailingLocked(r, c, "the trailing line's breach")
			r.crash() // and restarted by play, before the next trade
		case mode == "trailing" && t.Time == edgeAt(15, 46, 0):
			trailingLocked(r, c, "the trailing line's breach after a restart")
		case mode == "blackout" && t.Time == edgeAt(15, 42, 10):
			rd.faults++
			liqs = blackoutFlat(r, c)
			r.crash()
		case mode == "blackout" && t.Time == edgeAt(15, 43, 0):
			r.v.mu.Lock()
			for id, n := range liqs {
				if r.v.liqs[id] != n {
					c.violate(nil, "", "blackout: %s liquidated %d times, %d before a restart inside the window: flattened again", id, r.v.liqs[id], n)
				}
			}
			r.v.mu.Unlock()
			blackoutRefuses(r, c)
		case i+1 < len(ts) && ts[i+1].Time == edge && mode == "kill":
			rd.faults++
			holding(r, c, "the kill just before 15:55")
			_, err := r.kill("", "drill_edge_kill")
			return err
		case t.Time == edge:
			rd.faults++
			if mode != "kill" && mode != "trailing" && mode != "blackout" {
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

// trailingLocked checks that every account, past its trailing line, is
// locked out by it and flat at the venue with nothing working.
func trailingLocked(r *rig, c *checker, what string) {
	st := r.d.Status(r.ctx)
	for _, a := range st.Accounts {
		pos, _ := r.v.position(a.ID)
		if a.State != "locked_out" || a.Risk == nil || !a.Risk.TrailingBroken || pos.Qty != 0 || len(r.v.openOrders(a.ID)) > 0 {
			tb := a.Risk != nil && a.Risk.TrailingBroken
			c.violate(nil, "", "%s: %s is %s (trailing breached %v), venue position %d, %d orders working", what, a.ID, a.State, tb,
				pos.Qty, len(r.v.openOrders(a.ID)))
		}
	}
}

// blackoutFlat checks that the blackout flattened every account (flat
// with nothing working, its state unchanged) and returns each one's
// liquidations so far.
func blackoutFlat(r *rig, c *checker) map[string]int {
	out := map[string]int{}
	for _, a := range r.d.Status(r.ctx).Accounts {
		pos, _ := r.v.position(a.ID)
		if pos.Qty != 0 || len(r.v.openOrders(a.ID)) > 0 || a.State != "trading" {
			c.violate(nil, "", "blackout: %s is %s, venue position %d, %d orders working after blackout_flatten", a.ID, a.State, pos.Qty,
				len(r.v.openOrders(a.ID)))
		}
	}
	r.v.mu.Lock()
	for _, id := range r.ids {
		out[id] = r.v.liqs[id]
		if out[id] == 0 {
			c.violate(nil, "", "blackout: %s was never liquidated", id)
		}
	}
	r.v.mu.Unlock()
	return out
}

// blackoutRefuses checks that an entry inside the blackout is refused
// with news_blackout.
func blackoutRefuses(r *rig, c *checker) {
	p := r.v.lastPrice()
	for _, id := range r.ids {
		in := intent.Intent{Kind: intent.Enter, Account: id, Strategy: "drill", Side: market.Buy, Qty: 1, EntryType: market.LimitOrder,
			Entry: p, Stop: p - 8, Target: p + 40, Reason: "drill blackout"}
		if res := r.d.HandleIntent(r.ctx, in); res.Sent || res.Decision.Reason != limits.NewsBlackout {
			c.violate(nil, "", "blackout: %s's entry inside the window: %+v, want refused news_blackout", id, res.Decision)
		}
	}
}
