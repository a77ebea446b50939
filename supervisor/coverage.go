package supervisor

// coverage.go: stop coverage (invariant 6) — every open position has
// working exchange-held stops for its full quantity; a gap is repaired at
// once (place the missing stop, or flatten through the kill path) and
// alerted. A repair stop is journaled with its client id before it is
// sent, like an intent, and, like a risk-adding intent, it is counted in
// the account's sending counter and refused once a liquidation is on its
// way: a stop that outlived the position would open a new one. For the
// same reason exits left with nothing to exit — a repair stop once the
// position is flat, a bracket's legs after a bust took their entry's fill
// away (the venue does not resize them), an order the desk did not place
// whose own exit closed the position first — are cancelled, after the same
// grace as a gap. A position opened by an order the desk did not place is
// covered by a stop as far from the market as what is left of the day's
// allowance allows (the pre-trade loss bound), or flattened when nothing is
// left; a stop of its own (a trader's bracket) farther than that is moved
// to that price (RepairTightenStops: tightened only). A repair stop the venue answers without confirming it
// (broker.ErrUnconfirmed) flattens the account (trigger unconfirmed_stop).

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// Settle runs the checks that must wait until a burst of broker events has
// been applied (the venue arms a bracket's exits right after its entry
// fills): stop coverage. Drivers call it when their event queue is empty.
func (d *Desk) Settle(ctx context.Context) {
	d.settleBrokerLiqs(ctx)
	d.checkCoverage(ctx)
}

// checkCoverage verifies invariant 6 for every account with a fill since
// the last check, and repairs a gap at once: place the missing stop, or
// flatten when no sensible stop price exists. With a CoverageGrace (live
// venues deliver a bracket's arming events just after the entry's fill) a
// gap must outlast the grace before it is repaired; the window is measured.
func (d *Desk) checkCoverage(ctx context.Context) {
	type repair struct {
		a    *account
		act  limits.RepairAction
		trim []string // exits to cancel (RepairTrimStops)
	}
	var repairs []repair
	now := d.wall.Now()
	mkt := d.lastTime.Load()
	last := d.last()
	for _, a := range d.accts {
		a.mu.Lock()
		if !a.dirty || a.liquidating.Load() || a.brokerHold.Load() > 0 {
			// Not dirty: nothing changed. Liquidating, by the desk or by the
			// broker itself (brokerliq.go): stays dirty, looked at again once
			// flat, if the liquidation failed, or past the broker's window.
			a.mu.Unlock()
			continue
		}
		a.dirty = false
		pos := a.ledger.Position()
		stopAt := a.lastStop
		if a.extOpen {
			// Contracts opened by an order the desk did not place: no stop of
			// the desk's has a price for them.
			stopAt = a.allowanceStop(pos, last)
		}
		covered, act := limits.StopCoverage(pos, a.workingOrders(), stopAt, last)
		if covered && a.extOpen && act.Kind == limits.RepairNone {
			// Covered by a stop the desk did not place (a trader's bracket):
			// the desk's loss line holds for it too. A stop past what the
			// allowance leaves is tightened to it, at once; with nothing
			// left the position is flattened.
			if loose := limits.LooseStops(pos, a.workingOrders(), stopAt); len(loose) > 0 || stopAt == 0 {
				a.dirty = true // looked at again once the venue answers
				side := market.Buy
				if pos > 0 {
					side = market.Sell
				}
				act = limits.RepairAction{Kind: limits.RepairTightenStops, Side: side, StopPrice: stopAt}
				if stopAt == 0 {
					act = limits.RepairAction{Kind: limits.RepairFlatten, Side: side, Qty: abs64(pos)}
				}
				a.mu.Unlock()
				repairs = append(repairs, repair{a, act, loose})
				continue
			}
		}
		trim := a.surplusExits(pos)
		if covered && len(trim) > 0 {
			act = limits.RepairAction{Kind: limits.RepairTrimStops, Qty: int64(len(trim))}
			covered = false
		}
		if covered {
			a.bustRepair = false
			if !a.gapWall.IsZero() {
				if w := now.Sub(a.gapWall); w > a.repairMax {
					a.repairMax = w
				}
				a.gapWall = time.Time{}
				a.gapSince = 0
			}
			a.mu.Unlock()
			continue
		}
		if a.gapWall.IsZero() {
			a.gapWall, a.gapSince = now, mkt
		}
		if d.opt.CoverageGrace > 0 && now.Sub(a.gapWall) < d.opt.CoverageGrace && !a.bustRepair {
			// Within the grace the venue may still be arming or cancelling
			// a bracket's legs. Not after a bust: its surplus exits (legs
			// larger than the position, which would open one if they
			// filled — drill venue-faults round 43: a stop of 4 filled on
			// a position of 3) and the gap their cancel leaves are certain.
			a.dirty = true // look again on the next settle
			a.mu.Unlock()
			continue
		}
		if act.Kind == limits.RepairTrimStops {
			a.dirty = true
		} else {
			trim = nil
		}
		a.mu.Unlock()
		repairs = append(repairs, repair{a, act, trim})
	}
	for _, r := range repairs {
		d.repairStops(ctx, r.a, r.act, r.trim)
	}
}

// surplusExits lists the working exits that have nothing (or no longer
// enough) to exit (a.mu held): every stop or target leg when the position
// is flat or they are on its own side; on the exit side, whole groups
// beyond the position's size — the desk's repair stops first, then the
// newest brackets' legs — until neither the stops nor the targets exceed
// it. The venue's OCO cancels a bracket's other leg when one fills, so a
// surplus within one bracket is not one.
func (a *account) surplusExits(pos int64) []string {
	exit := market.Sell
	if pos < 0 {
		exit = market.Buy
	}
	need := abs64(pos)
	var out []string
	var stops, targets int64
	var live []*order
	for _, o := range a.orders {
		if o.done() || o.qty <= 0 || (o.role != limits.RoleStop && o.role != limits.RoleTarget) ||
			o.status != broker.Working && o.status != broker.Triggered {
			continue
		}
		if o.side != exit {
			// An exit on the position's own side (or, flat, a buy exit): it
			// can only open one. Flat sell exits go as groups below (need 0).
			out = append(out, o.id)
			continue
		}
		live = append(live, o)
		if o.role == limits.RoleStop {
			stops += o.qty
		} else {
			targets += o.qty
		}
	}
	sort.Strings(out)
	if stops <= need && targets <= need {
		return out
	}
	// Whole groups: a group is a bracket (its legs share GroupID) or a
	// lone order (a repair stop, an order without a group).
	type group struct {
		key          string
		repair       bool
		ids          []string
		stops, tgets int64
	}
	byKey := map[string]*group{}
	var groups []*group
	for _, o := range live {
		k := o.group
		if k == "" {
			k = "\x00" + o.id
		}
		g := byKey[k]
		if g == nil {
			g = &group{key: k, repair: o.strategy == stratDesk && o.role == limits.RoleStop && o.group == ""}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.ids = append(g.ids, o.id)
		if o.role == limits.RoleStop {
			g.stops += o.qty
		} else {
			g.tgets += o.qty
		}
	}
	// Repair stops first, then the newest groups (client ids grow).
	sort.Slice(groups, func(i, j int) bool {
		if groups[i].repair != groups[j].repair {
			return groups[i].repair
		}
		return groups[i].key > groups[j].key
	})
	for _, g := range groups {
		if stops <= need && targets <= need {
			break
		}
		sort.Strings(g.ids)
		out = append(out, g.ids...)
		stops -= g.stops
		targets -= g.tgets
	}
	return out
}

// allowanceStop is a stop price for a position the desk did not open
// (a.mu held): as far from the last trade as the day's allowance left
// allows — (distance + slippage) × qty × $1.25 + the closing fees within
// what is left before the lockout line, the pre-trade loss bound of
// invariant 4 — and no farther than the price band. Zero when nothing
// fits: the position is flattened.
func (a *account) allowanceStop(pos int64, last market.Price) market.Price {
	if pos == 0 {
		return 0
	}
	ref := last
	if ref <= 0 {
		ref = a.ledger.MarkPrice()
	}
	if ref <= 0 {
		return 0
	}
	q := abs64(pos)
	cfg := a.gate.Config()
	// What is left before the nearest loss line: the day's lockout, and the
	// trailing and weekly lines where they are on.
	eq := a.ledger.EquityCents()
	allow := a.rules.Drawdown.AllowanceCents(eq)
	if a.rules.Trailing != nil {
		allow = min(allow, a.rules.Trailing.AllowanceCents(eq))
	}
	if a.rules.Weekly != nil {
		allow = min(allow, a.rules.Weekly.AllowanceCents(eq))
	}
	left := allow - (a.ledger.FeesRTCents()-a.ledger.FeesRTCents()/2)*q
	dist := left/(q*market.TickCents) - cfg.SlippageTicks
	if dist > cfg.PriceBandTicks {
		dist = cfg.PriceBandTicks
	}
	if dist < 1 {
		return 0
	}
	if pos > 0 {
		return ref - market.Price(dist)
	}
	return ref + market.Price(dist)
}

// RepairWindowMax returns the longest stop-coverage gap seen per account.
func (d *Desk) RepairWindowMax() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, a := range d.accts {
		a.mu.Lock()
		out[a.id] = a.repairMax
		a.mu.Unlock()
	}
	return out
}

func (d *Desk) repairStops(ctx context.Context, a *account, act limits.RepairAction, trim []string) {
	a.mu.Lock()
	a.repairs++
	pos := a.ledger.Position()
	a.mu.Unlock()
	covered := abs64(pos) - act.Qty
	text := fmt.Sprintf("%s %d at %s", act.Kind, act.Qty, act.StopPrice)
	d.log.Warn("stop coverage gap", "account", a.id, "repair", act.Kind.String(), "qty", act.Qty, "stop", act.StopPrice.String())
	// A repair stop is journaled with its client id before it is sent
	// (write-ahead, like an intent): recovery rebuilds it as a stop.
	var id string
	if act.Kind == limits.RepairPlaceStop {
		id = fmt.Sprintf("%s.repair.%d", a.id, d.idSeq.Add(1))
	}
	d.journal(ctx, journal.NewStopRepair(a.id, id, d.nowNs(), journal.StopRepair{
		Repair: act.Kind.String(), Qty: act.Qty, Stop: act.StopPrice, Side: act.Side}))
	switch act.Kind {
	case limits.RepairTightenStops:
		// A trader's stops past the loss line, moved to it (tightened
		// only: LooseStops). A refusal flattens, as a refused repair stop.
		for _, id := range trim {
			if err := d.br.Modify(ctx, a.id, id, 0, act.StopPrice); err != nil {
				if errors.Is(err, broker.ErrOrderDone) {
					continue
				}
				d.log.Error("tightening a stop past the loss line refused; flattening", "account", a.id, "id", id, "err", err)
				_, _ = d.Kill(ctx, AccountScope(a.id), TriggerStopRepairFailed, "deskguard")
				break
			}
			a.mu.Lock()
			if o := a.orders[id]; o != nil {
				o.price = act.StopPrice
			}
			a.publish()
			a.mu.Unlock()
		}
		text = fmt.Sprintf("%s %s to %s (past what the allowance leaves)", act.Kind, strings.Join(trim, ","), act.StopPrice)
	case limits.RepairTrimStops:
		// More exits than position: cancel what surplusExits chose, or the
		// desk's own repair stops first (a bracket's legs are trimmed by the
		// venue's OCO).
		ids := trim
		if ids == nil {
			a.mu.Lock()
			left := act.Qty
			for id, o := range a.orders {
				if o.strategy == stratDesk && o.role == limits.RoleStop && !o.done() && o.qty > 0 && left > 0 {
					ids = append(ids, id)
					left -= o.qty
				}
			}
			a.mu.Unlock()
		}
		for _, id := range ids {
			if err := d.br.Cancel(ctx, a.id, id); err != nil && !errors.Is(err, broker.ErrOrderDone) {
				d.log.Warn("cancel surplus exit", "account", a.id, "id", id, "err", err)
			}
		}
		return
	case limits.RepairPlaceStop:
		// Counted like a risk-adding send: a liquidation either sees it in
		// flight (and liquidates again after it) or it sees the liquidation.
		if !a.beginRepair() {
			return
		}
		a.mu.Lock()
		a.orders[id] = &order{id: id, strategy: stratDesk, role: limits.RoleStop, side: act.Side, typ: market.StopOrder, qty: act.Qty, price: act.StopPrice}
		a.publish()
		a.mu.Unlock()
		err := d.br.SubmitOrder(ctx, broker.Order{ClientID: id, Account: a.id, Side: act.Side, Qty: act.Qty, Type: market.StopOrder,
			StopPrice: act.StopPrice, TIF: broker.GTC})
		a.endSend()
		if err != nil {
			trig := TriggerStopRepairFailed
			if errors.Is(err, broker.ErrUnconfirmed) {
				// The venue may or may not hold it: flatten (the liquidation
				// cancels it if it does).
				trig = TriggerUnconfirmedStop
				text = fmt.Sprintf("flattened: the repair stop %s (%d at %s) was not confirmed by the venue", id, act.Qty, act.StopPrice)
			}
			d.log.Error("stop repair refused; flattening", "account", a.id, "trigger", trig, "err", err)
			_, _ = d.Kill(ctx, AccountScope(a.id), trig, "deskguard")
		}
	case limits.RepairFlatten:
		_, _ = d.Kill(ctx, AccountScope(a.id), TriggerStopRepair, "deskguard")
	}
	d.alerts.Notify(alert.StopRepaired(d.clock.Now(), a.id, alert.StopFacts{Position: pos, Covered: covered, Action: text}))
}

// unconfirmedStop flattens an account whose bracket (entry id) was placed
// without the venue confirming its stop (broker.ErrUnconfirmed: the venue
// may hold the entry without it), through the kill path, and alerts.
func (d *Desk) unconfirmedStop(ctx context.Context, a *account, id string, err error) {
	a.mu.Lock()
	pos := a.ledger.Position()
	a.mu.Unlock()
	d.log.Error("a bracket's stop was not confirmed by the venue: flattening", "account", a.id, "id", id, "err", err)
	_, _ = d.Kill(ctx, AccountScope(a.id), TriggerUnconfirmedStop, "deskguard")
	d.alerts.Notify(alert.StopRepaired(d.clock.Now(), a.id, alert.StopFacts{Position: pos, Covered: 0,
		Action: "flattened: the venue did not confirm the protective stop of " + id + " (" + err.Error() + ")"}))
}
