package supervisor

// coverage.go: stop coverage (invariant 6) — every open position has
// working exchange-held stops for its full quantity; a gap is repaired at
// once (place the missing stop, or flatten through the kill path) and
// alerted. A repair stop is journaled with its client id before it is
// sent, like an intent, and, like a risk-adding intent, it is counted in
// the account's sending counter and refused once a liquidation is on its
// way: a stop that outlived the position would open a new one.

import (
	"context"
	"fmt"
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
func (d *Desk) Settle(ctx context.Context) { d.checkCoverage(ctx) }

// checkCoverage verifies invariant 6 for every account with a fill since
// the last check, and repairs a gap at once: place the missing stop, or
// flatten when no sensible stop price exists. With a CoverageGrace (live
// venues deliver a bracket's arming events just after the entry's fill) a
// gap must outlast the grace before it is repaired; the window is measured.
func (d *Desk) checkCoverage(ctx context.Context) {
	type repair struct {
		a   *account
		act limits.RepairAction
	}
	var repairs []repair
	now := d.wall.Now()
	mkt := d.lastTime.Load()
	last := d.last()
	for _, a := range d.accts {
		a.mu.Lock()
		if !a.dirty || a.liquidating.Load() {
			// Not dirty: nothing changed. Liquidating: stays dirty, looked at
			// again once flat or if the liquidation failed.
			a.mu.Unlock()
			continue
		}
		a.dirty = false
		covered, act := limits.StopCoverage(a.ledger.Position(), a.workingOrders(), a.lastStop, last)
		if covered {
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
		if d.opt.CoverageGrace > 0 && now.Sub(a.gapWall) < d.opt.CoverageGrace {
			a.dirty = true // look again on the next settle
			a.mu.Unlock()
			continue
		}
		if act.Kind == limits.RepairTrimStops {
			a.dirty = true
		}
		a.mu.Unlock()
		repairs = append(repairs, repair{a, act})
	}
	for _, r := range repairs {
		d.repairStops(ctx, r.a, r.act)
	}
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

func (d *Desk) repairStops(ctx context.Context, a *account, act limits.RepairAction) {
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
	case limits.RepairTrimStops:
		// More stop than position: cancel the desk's own repair stops first
		// (a bracket's legs are trimmed by the venue's OCO).
		a.mu.Lock()
		var ids []string
		left := act.Qty
		for id, o := range a.orders {
			if o.strategy == "desk" && o.role == limits.RoleStop && !o.done() && o.qty > 0 && left > 0 {
				ids = append(ids, id)
				left -= o.qty
			}
		}
		a.mu.Unlock()
		for _, id := range ids {
			if err := d.br.Cancel(ctx, a.id, id); err != nil {
				d.log.Warn("cancel surplus repair stop", "account", a.id, "id", id, "err", err)
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
		a.orders[id] = &order{id: id, strategy: "desk", role: limits.RoleStop, side: act.Side, typ: market.StopOrder, qty: act.Qty, price: act.StopPrice}
		a.publish()
		a.mu.Unlock()
		err := d.br.SubmitOrder(ctx, broker.Order{ClientID: id, Account: a.id, Side: act.Side, Qty: act.Qty, Type: market.StopOrder,
			StopPrice: act.StopPrice, TIF: broker.GTC})
		a.endSend()
		if err != nil {
			d.log.Error("stop repair refused; flattening", "account", a.id, "err", err)
			_, _ = d.Kill(ctx, AccountScope(a.id), TriggerStopRepairFailed, "deskguard")
		}
	case limits.RepairFlatten:
		_, _ = d.Kill(ctx, AccountScope(a.id), TriggerStopRepair, "deskguard")
	}
	d.alerts.Notify(alert.StopRepaired(d.clock.Now(), a.id, alert.StopFacts{Position: pos, Covered: covered, Action: text}))
}
