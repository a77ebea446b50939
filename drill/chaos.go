package drill

// chaos.go: the chaos trader. Every few trades it proposes something on a
// random account through the desk's own intent path, as an engine would:
// bracketed entries, adds to an open position (in profit or not: the gate
// must refuse averaging down), stop moves that tighten and that widen (the
// gate must refuse widening), cancels of a working entry and of a
// protective stop (refused while the position is open), and exits. It picks
// what to move or cancel from the venue's own open orders. Whatever the
// desk lets through is judged against the venue's records by the port's
// audit (audit.go) and the checker (check.go).

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// chaos is the trader; every = 0 switches it off.
type chaos struct {
	rng   *rand.Rand
	every int
	n     int
	// tally counts what it proposed by act ("enter", "add", "tighten",
	// "widen", "cancel_stop", "cancel_entry", "exit") and outcome: "sent"
	// or the gate's reason.
	tally map[string]map[string]int
	// findings are risk-reducing acts the desk refused for a reason that
	// may only refuse new risk (invariant 8); play hands them to the checker.
	findings []string
}

// reducesRisk is whether act only reduces risk (an exit, a tighter stop,
// the cancel of an unfilled entry): a halt, a lockout, a trading window,
// stale data or the order rate must never refuse it.
func reducesRisk(act string) bool { return act == "exit" || act == "tighten" || act == "cancel_entry" }

// riskOnly are the reasons that refuse only new risk (limits.Gate.Check).
var riskOnly = map[limits.Reason]bool{limits.Halted: true, limits.LockedOut: true, limits.OutsideWindow: true,
	limits.StaleData: true, limits.RateLimited: true, limits.LossBound: true, limits.MaxPosition: true, limits.MaxOrderQty: true,
	limits.DeskLockedOut: true}

// take returns and clears the findings.
func (c *chaos) take() []string {
	f := c.findings
	c.findings = nil
	return f
}

// chaosActs are the acts and their weights (of 100).
var chaosActs = []struct {
	name   string
	weight int
}{
	{"enter", 40}, {"add", 15}, {"tighten", 14}, {"widen", 10}, {"cancel_stop", 6}, {"cancel_entry", 5}, {"exit", 10},
}

func (c *chaos) maybe(r *rig, t market.Trade) {
	c.n++
	if c.every <= 0 || c.n%c.every != 0 || r.d == nil {
		return
	}
	k := c.rng.IntN(100)
	act := chaosActs[len(chaosActs)-1].name
	for _, a := range chaosActs {
		if k < a.weight {
			act = a.name
			break
		}
		k -= a.weight
	}
	id := r.ids[c.rng.IntN(len(r.ids))]
	if act != "enter" && act != "exit" && act != "cancel_entry" {
		// The act works on an open position: take an account that has one.
		var held []string
		for _, x := range r.ids {
			if p, _ := r.v.Sim.Position(x); p.Qty != 0 {
				held = append(held, x)
			}
		}
		if len(held) > 0 {
			id = held[c.rng.IntN(len(held))]
		}
	}
	in, ok := c.propose(r, id, act, t)
	if !ok {
		// Nothing to add to, move or cancel: a fresh entry instead.
		act = "enter"
		in, _ = c.propose(r, id, act, t)
	}
	res := r.d.HandleIntent(r.ctx, in)
	out := "sent"
	switch {
	case res.Err != nil && res.Decision.Allowed:
		out = "failed"
	case !res.Sent:
		out = string(res.Decision.Reason)
		if reducesRisk(act) && riskOnly[res.Decision.Reason] {
			c.findings = append(c.findings, fmt.Sprintf("%s: the desk refused a risk-reducing %s (%s) with %s (invariant 8)",
				id, act, in.Kind, res.Decision))
		}
	}
	if c.tally == nil {
		c.tally = map[string]map[string]int{}
	}
	if c.tally[act] == nil {
		c.tally[act] = map[string]int{}
	}
	c.tally[act][out]++
}

// propose builds act's intent for account id at trade t from the venue's
// state; false when the act has nothing to work on.
func (c *chaos) propose(r *rig, id, act string, t market.Trade) (intent.Intent, bool) {
	base := intent.Intent{Account: id, Strategy: "drill", Reason: "drill chaos " + act}
	pos, _ := r.v.Sim.Position(id)
	open, _ := r.v.Sim.OpenOrders(context.Background(), id)
	risk := market.Price(4 + c.rng.IntN(8))
	switch act {
	case "enter":
		side := market.Buy
		if c.rng.IntN(2) == 0 {
			side = market.Sell
		}
		in := base
		in.Kind, in.Side, in.Qty, in.EntryType, in.Entry = intent.Enter, side, int64(1+c.rng.IntN(3)), market.LimitOrder, t.Price
		in.Stop, in.Target = t.Price-risk*market.Price(side.Sign()), t.Price+2*risk*market.Price(side.Sign())
		in.ExpireNs = int64(2 * time.Minute)
		return in, true
	case "add":
		if pos.Qty == 0 {
			return intent.Intent{}, false
		}
		side := sideOf(pos.Qty)
		in := base
		in.Kind, in.Side, in.Qty = intent.Add, side, int64(1+c.rng.IntN(2))
		// Marketable, as the gate wants an add: at market, or a limit at the
		// last trade. Whether the position is in profit is the gate's call.
		if c.rng.IntN(2) == 0 {
			in.EntryType = market.MarketOrder
		} else {
			in.EntryType, in.Entry = market.LimitOrder, t.Price
		}
		in.Stop, in.Target = t.Price-risk*market.Price(side.Sign()), t.Price+2*risk*market.Price(side.Sign())
		return in, true
	case "tighten", "widen":
		s := pickOrder(c.rng, open, func(o broker.OrderState) bool {
			return o.Type == market.StopOrder && o.Status == broker.Working && pos.Qty != 0 && o.Side.Sign() == -sign(pos.Qty)
		})
		if s == nil {
			return intent.Intent{}, false
		}
		// A sell stop (protecting a long) tightens upwards; a buy stop down.
		d := market.Price(1+c.rng.IntN(3)) * market.Price(-s.Side.Sign())
		if act == "widen" {
			d = -d
		}
		in := base
		in.Kind, in.Ref, in.Stop = intent.MoveStop, s.ClientID, s.StopPrice+d
		return in, true
	case "cancel_stop":
		s := pickOrder(c.rng, open, func(o broker.OrderState) bool {
			return o.Type == market.StopOrder && o.Status == broker.Working && pos.Qty != 0 && o.Side.Sign() == -sign(pos.Qty)
		})
		if s == nil {
			return intent.Intent{}, false
		}
		in := base
		in.Kind, in.Ref = intent.Cancel, s.ClientID
		return in, true
	case "cancel_entry":
		e := pickOrder(c.rng, open, func(o broker.OrderState) bool {
			return o.Role == broker.EntryLeg && o.Status == broker.Working
		})
		if e == nil {
			return intent.Intent{}, false
		}
		in := base
		in.Kind, in.Ref = intent.Cancel, e.ClientID
		return in, true
	}
	in := base
	in.Kind = intent.Exit
	return in, true
}

func pickOrder(rng *rand.Rand, open []broker.OrderState, ok func(broker.OrderState) bool) *broker.OrderState {
	var cands []int
	for i := range open {
		if ok(open[i]) {
			cands = append(cands, i)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return &open[cands[rng.IntN(len(cands))]]
}

func sideOf(qty int64) market.Side {
	if qty < 0 {
		return market.Sell
	}
	return market.Buy
}
