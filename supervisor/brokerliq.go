package supervisor

// brokerliq.go: the broker's own liquidation of an account — its risk
// system flattening it (Rithmic's RMS at its loss limit, Tradovate's
// auto-liquidation) — told apart from a trader's order on the broker's
// platform. Both reach the desk as orders it did not place
// (broker.Event.External); the broker's is booked as what it is: its
// events journaled and its fills in the ledger as for any external order,
// a risk record (broker_liquidation) and an alert that the broker
// liquidated the account, with the broker's risk status when known — never
// faulted as a trader's order (Options.ExternalOrders does not apply),
// never answered by a stop repair or a liquidation of the desk's racing
// it.
//
// Whose an order is: the venue says (Event.ByBroker) where its protocol
// lets the connector tell; otherwise the desk infers it. An order the desk
// did not place that only reduces the position (a single market order, on
// the exit side, for at most the position) is the broker's when the broker
// already reports the account locked, or when it reports it locked within
// Options.BrokerLiqWindow of the order (a late risk update: Rithmic's 356
// may come after the liquidation's fills); past the window without a lock
// it is a trader's, and ExternalOrders applies then. The worst case the
// inference accepts: a trader's reduce-only market order placed while (or
// just before) the account is locked is booked as the broker's — it only
// reduces risk.
//
// While the broker's liquidation (or such an undecided order) is working,
// for at most the window, the account's stop coverage is not repaired and
// a kill's liquidation of the account is held back (a second flatten
// racing the broker's could reverse the position); once it is done, or the
// window has passed, a held-back liquidation is sent.
//
// It may touch the account's books (a.mu), the journal and the alerts.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

// riskBrokerLiq is the risk record of the broker's own liquidation.
const riskBrokerLiq = "broker_liquidation"

// liqClass is whose the desk takes a new external order for.
type liqClass uint8

const (
	liqTrader  liqClass = iota // a trader's: Options.ExternalOrders applies
	liqBroker                  // the broker's own liquidation
	liqSuspect                 // reduces only: waits for the broker's risk status
)

// suspect is an order the desk did not place that only reduces the
// position, waiting (Options.BrokerLiqWindow) for the broker to say the
// account is locked.
type suspect struct {
	seen time.Time    // wall time of its first event
	ev   broker.Event // its first event
}

// reducesOnly reports whether an order the desk did not place can only
// bring the position toward flat: a lone market order (or one whose type
// the venue does not say) on the exit side, for at most the position.
func reducesOnly(ev broker.Event, pos int64) bool {
	if pos == 0 || ev.Role != broker.Single || ev.Side.Sign()*pos >= 0 {
		return false
	}
	if ev.OrderType != 0 && ev.OrderType != market.MarketOrder {
		return false
	}
	qty := ev.LeavesQty + ev.FillQty
	return qty > 0 && qty <= abs64(pos)
}

// classifyLocked says whose a new external order is (a.mu held, before
// the event is booked: pos is the position it finds).
func (a *account) classifyLocked(ev broker.Event, pos int64, now time.Time) liqClass {
	switch {
	case ev.ByBroker:
		return liqBroker
	case !reducesOnly(ev, pos):
		return liqTrader
	case a.brokerLocked:
		return liqBroker
	}
	a.suspects[ev.ClientID] = suspect{seen: now, ev: ev}
	return liqSuspect
}

// markBrokerLocked books o as the broker's liquidation (a.mu held).
func (a *account) markBrokerLocked(o *order, now time.Time) {
	if o == nil || o.byBroker {
		return
	}
	o.byBroker = true
	a.liqByBroker[o.id] = now
	delete(a.suspects, o.id)
}

// reclassifyLocked takes the undecided orders seen within the window
// before the broker reported the account locked for the broker's (a.mu
// held) and returns their first events.
func (a *account) reclassifyLocked(now time.Time, window time.Duration) []broker.Event {
	var out []broker.Event
	for id, s := range a.suspects {
		if now.Sub(s.seen) > window {
			continue // too long before the lock: Settle takes it for a trader's
		}
		a.markBrokerLocked(a.orders[id], now)
		delete(a.suspects, id)
		out = append(out, s.ev)
	}
	return out
}

// holdLocked counts the broker's liquidations and undecided orders still
// working within the window into a.brokerHold (a.mu held), forgets the
// broker's that are done, and reports whether a hold ended.
func (a *account) holdLocked(now time.Time, window time.Duration) (ended bool) {
	var n int32
	for id, at := range a.liqByBroker {
		o := a.orders[id]
		if o == nil || o.done() {
			delete(a.liqByBroker, id)
			continue
		}
		if now.Sub(at) < window {
			n++
		}
	}
	for id, s := range a.suspects {
		if o := a.orders[id]; o != nil && !o.done() && now.Sub(s.seen) < window {
			n++
		}
	}
	return a.brokerHold.Swap(n) > 0 && n == 0
}

// expiredSuspectsLocked removes and returns the undecided orders older
// than the window (a.mu held): no lock came, they are a trader's.
func (a *account) expiredSuspectsLocked(now time.Time, window time.Duration) []broker.Event {
	var out []broker.Event
	for id, s := range a.suspects {
		if now.Sub(s.seen) > window {
			delete(a.suspects, id)
			out = append(out, s.ev)
		}
	}
	return out
}

// settleBrokerLiqs is Settle's part: undecided orders past the window are
// a trader's (Options.ExternalOrders applies), and a hold that ran out
// sends the kill's liquidation it held back.
func (d *Desk) settleBrokerLiqs(ctx context.Context) {
	now := d.wall.Now()
	w := d.opt.BrokerLiqWindow
	for _, a := range d.accts {
		a.mu.Lock()
		if len(a.suspects) == 0 && a.brokerHold.Load() == 0 && !a.liqDeferred.Load() {
			a.mu.Unlock()
			continue
		}
		old := a.expiredSuspectsLocked(now, w)
		ended := a.holdLocked(now, w)
		a.mu.Unlock()
		for _, ev := range old {
			d.log.Warn("an order the desk did not place reduced the position, and the broker reported no lock within the window: a trader's",
				"account", a.id, "order", ev.ClientID, "window", w)
			d.externalOrder(ctx, a, ev)
		}
		if ended || a.brokerHold.Load() == 0 {
			d.sendDeferred(ctx, a)
		}
	}
}

// holdLiquidation is the kill path's check (atomics only): while the
// broker's own liquidation of a works, a kill's liquidation is held back
// and sent once it is done (sendDeferred). It reports whether it held.
func (d *Desk) holdLiquidation(a *account) bool {
	if a.brokerHold.Load() == 0 {
		return false
	}
	a.liqDeferred.Store(true)
	if a.brokerHold.Load() == 0 {
		// The hold ended between the reads: whoever ended it may have
		// missed the flag; send now.
		a.liqDeferred.Store(false)
		return false
	}
	d.log.Warn("the broker is liquidating the account itself: the desk's liquidation waits for it", "account", a.id)
	return true
}

// sendDeferred sends the liquidation a kill held back while the broker's
// own worked: whatever the broker's left (a part, an order of the desk's)
// is cancelled or flattened now.
func (d *Desk) sendDeferred(ctx context.Context, a *account) {
	if !a.liqDeferred.Swap(false) {
		return
	}
	d.log.Warn("the broker's liquidation is over: the desk's own liquidation goes now", "account", a.id)
	w := d.watchAnswer(a.id)
	err := d.br.Liquidate(ctx, a.id)
	w.answered()
	if err != nil {
		d.log.Error("liquidate after the broker's failed", "account", a.id, "err", err)
		d.journal(ctx, journal.NewBrokerError(a.id, "", d.nowNs(), journal.BrokerError{Op: "liquidate", Err: err.Error()}))
		a.liquidating.Store(false) // coverage repair takes over
	}
	d.checkHalted(a)
}

// brokerLiquidated journals and alerts the broker's own liquidation of a:
// the orders (their first events), the broker's risk status as the desk
// has it, and whether the venue said so or the desk inferred it.
func (d *Desk) brokerLiquidated(ctx context.Context, a *account, evs []broker.Event, status string, said bool) {
	if len(evs) == 0 {
		return
	}
	var ords []string
	for _, ev := range evs {
		o := fmt.Sprintf("%s (%s %d %s)", ev.ClientID, ev.Side, ev.LeavesQty+ev.FillQty, orderTypeName(ev.OrderType))
		ords = append(ords, o)
	}
	how := "the venue marks it the broker's"
	if !said {
		how = "the desk's inference: an order it did not place that only reduces the position, while or just before the broker reports the account locked"
	}
	if status == "" {
		status = "not reported yet"
	}
	detail := fmt.Sprintf("the broker liquidated the account: %s; broker risk status: %s", strings.Join(ords, ", "), status)
	d.log.Error("the broker liquidated the account", "account", a.id, "orders", strings.Join(ords, ","), "status", status, "how", how)
	d.journal(ctx, journal.NewRisk(a.id, d.nowNs(), journal.Risk{Event: riskBrokerLiq, Level: "critical", Who: "broker", Detail: detail, Why: how}))
	d.alerts.Notify(alert.Broker(d.clock.Now(), a.id, alert.Critical, "liquidated by broker", detail+
		" ("+how+"); its fills are booked; the desk neither faults the account nor liquidates it beside the broker"))
}

func orderTypeName(t market.OrderType) string {
	if t == 0 {
		return "order"
	}
	return t.String()
}

// externalOrder carries out Options.ExternalOrders on an order the desk
// did not place that is a trader's. On an account that may not add risk
// now (refusesRisk) no policy adopts it: the account is flattened.
func (d *Desk) externalOrder(ctx context.Context, a *account, ev broker.Event) {
	if why, no := d.refusesRisk(a); no {
		detail := fmt.Sprintf("an order the desk did not place (%s: %s %s %s) on an account that may not add risk (%s): cancelled and the account flattened",
			ev.ClientID, ev.Kind, ev.Side, ev.OrderType, why)
		d.log.Error("external order on an account that may not add risk: flattening it", "account", a.id, "order", ev.ClientID, "why", why)
		d.alerts.Notify(alert.Broker(d.clock.Now(), a.id, alert.Critical, "external order flattened", detail))
		if _, err := d.kill(ctx, killOrder{scope: AccountScope(a.id), trigger: TriggerExternalNoRisk, who: "deskguard", why: detail}); err != nil {
			d.log.Error("external order: flatten", "account", a.id, "err", err)
		}
		return
	}
	if d.opt.ExternalOrders == ExternalFault {
		why := fmt.Sprintf("an order the desk did not place: %s (%s %s)", ev.ClientID, ev.Side, ev.OrderType)
		d.log.Error("external order: faulting the account", "account", a.id, "order", ev.ClientID)
		d.faultAccount(ctx, a, TriggerExternalOrder, why)
		return
	}
	d.log.Warn("external order booked under the desk's rules", "account", a.id, "order", ev.ClientID, "kind", ev.Kind.String())
	d.alerts.Notify(alert.Broker(d.clock.Now(), a.id, alert.Warning, "external order", fmt.Sprintf(
		"an order the desk did not place (%s: %s %s %s): booked, its position covered by a working stop and counted against the allowance",
		ev.ClientID, ev.Kind, ev.Side, ev.OrderType)))
}

// refusesRisk says whether a may not add risk now, and why: its own kill,
// lockout or fault in force (halted), a liquidation on its way, or the
// desk locked out (desk_drawdown, which outlives a re-arm).
func (d *Desk) refusesRisk(a *account) (string, bool) {
	switch {
	case a.halted.Load():
		return "account " + a.m.State(), true
	case a.liquidating.Load():
		return "a liquidation on its way", true
	case d.deskLocked.Load():
		return "desk locked out", true
	}
	return "", false
}
