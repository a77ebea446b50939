package supervisor

// events.go: the broker-event path — journal → orders and ledger →
// engines → machines. Events that arrive together are made durable by one
// commit before any is applied; no snapshot is taken between an event's
// journal append and its booking (Desk.books); a venue's replay of
// reports already booked (by venue id) is skipped. applyEvent is shared with recovery. Besides
// the desk's own orders it books what the broker does beside the desk
// (issue 24): trade busts and corrections (the ledger rebooks the
// session), order status changes, the broker's own risk status of the
// account, and orders the desk did not place (External: booked, brought
// under the desk's rules or, by Options.ExternalOrders, the account
// faulted — unless they are the broker's own liquidation, said by the
// venue or inferred, brokerliq.go); an event that names one of the desk's orders by the venue's
// own id only (a venue that echoes no client order id, after a restart)
// is named by the desk's client id before it is journaled.

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor/wire"
)

// maxEventBatch caps the broker events made durable by one commit.
const maxEventBatch = 256

// evBegin and evEnd count the broker events being booked; reconciliation
// waits (awaitEvents) until none is.
func (d *Desk) evBegin() { d.evInFlight.Add(1) }

func (d *Desk) evEnd() {
	if d.evInFlight.Add(-1) == 0 {
		ch := make(chan struct{})
		close(*d.evIdle.Swap(&ch))
	}
}

// fresh reports whether a venue event is new to the desk, and marks it seen.
func (d *Desk) fresh(ev broker.Event) bool {
	if ev.VenueID == "" {
		return true
	}
	d.ev.mu.Lock()
	defer d.ev.mu.Unlock()
	if d.ev.seen[ev.VenueID] {
		return false
	}
	d.ev.seen[ev.VenueID] = true
	return true
}

// OnBrokerEvent is the broker-event path: journal → orders and ledger →
// engines → machines.
func (d *Desk) OnBrokerEvent(ctx context.Context, ev broker.Event) {
	d.evBegin()
	defer d.evEnd()
	ctx = context.WithoutCancel(ctx)
	// A venue replays its reports to a new connection: an event the
	// journal already holds is not booked twice.
	if !d.fresh(ev) {
		return
	}
	ev = d.named(ev)
	// Journaled and booked with no snapshot between (Desk.books).
	d.books.RLock()
	d.journal(ctx, journal.NewBrokerEvent(ev))
	a, b := d.bookBrokerEvent(ev)
	d.books.RUnlock()
	d.afterBooked(ctx, a, ev, b)
}

// named gives an event that names one of the desk's orders only by the
// venue's name for it (an order whose client id the venue did not echo,
// seen again after a restart) the desk's client id: the venue's order id
// (Event.VenueOrder) of every order the desk booked is in its journal.
func (d *Desk) named(ev broker.Event) broker.Event {
	a := d.byID[ev.Account]
	if a == nil || ev.VenueOrder == "" {
		return ev
	}
	a.mu.Lock()
	id, ok := a.byVenue[ev.VenueOrder]
	a.mu.Unlock()
	if ok && id != ev.ClientID {
		ev.ClientID, ev.External = id, false
		if ev.GroupID != "" && ev.Role != broker.Single {
			if g, ok := groupOf(id, ev.Role); ok {
				ev.GroupID = g
			}
		}
	}
	return ev
}

// groupOf is the entry client id of a bracket leg's client id.
func groupOf(id string, role broker.Role) (string, bool) {
	switch role {
	case broker.EntryLeg:
		return id, true
	case broker.StopLeg:
		return strings.CutSuffix(id, ".stop")
	case broker.TargetLeg:
		return strings.CutSuffix(id, ".target")
	}
	return "", false
}

// OnBrokerEvents is OnBrokerEvent for events that arrived together: with a
// BatchJournal they are made durable by one commit, in order, before any of
// them is applied; otherwise they go one by one.
func (d *Desk) OnBrokerEvents(ctx context.Context, evs []broker.Event) {
	bj, ok := d.j.(BatchJournal)
	if !ok || len(evs) == 1 {
		for _, ev := range evs {
			d.OnBrokerEvent(ctx, ev)
		}
		return
	}
	d.evBegin()
	defer d.evEnd()
	ctx = context.WithoutCancel(ctx)
	fresh := make([]broker.Event, 0, len(evs))
	for _, ev := range evs {
		if d.fresh(ev) {
			fresh = append(fresh, d.named(ev))
		}
	}
	if len(fresh) == 0 {
		return
	}
	es := make([]journal.Record, len(fresh))
	for i, ev := range fresh {
		es[i] = journal.NewBrokerEvent(ev)
	}
	// The batch journaled and booked with no snapshot between
	// (Desk.books); the engines and machines are told after.
	accts := make([]*account, len(fresh))
	bs := make([]booked, len(fresh))
	d.books.RLock()
	if err := bj.AppendBatch(ctx, es); err != nil {
		d.journalFailed(err)
	}
	for i, ev := range fresh {
		accts[i], bs[i] = d.bookBrokerEvent(ev)
	}
	d.books.RUnlock()
	for i, ev := range fresh {
		d.afterBooked(ctx, accts[i], ev, bs[i])
	}
}

// booked is what booking one event left for the engines and machines.
type booked struct {
	o           *order
	fill        *wire.FillMsg
	done        *wire.OrderDoneMsg
	newExternal bool
	liq         liqClass       // a new external order: whose (brokerliq.go)
	reclass     []broker.Event // orders taken for the broker's when it reported the account locked
	holdEnded   bool           // the broker's liquidation ended: a held-back liquidation goes
	pos         int64
}

// bookBrokerEvent folds a journaled event into its account's orders and
// ledger (nil for an unknown account). It takes only the account's books:
// the event path holds Desk.books (read) around it and the journal append.
func (d *Desk) bookBrokerEvent(ev broker.Event) (*account, booked) {
	a := d.byID[ev.Account]
	if a == nil {
		d.log.Warn("event for unknown account", "account", ev.Account, "id", ev.ClientID)
		return nil, booked{}
	}
	now := d.wall.Now()
	a.mu.Lock()
	var b booked
	b.newExternal = ev.External && !a.extGroups[extKey(ev)]
	if b.newExternal {
		b.liq = a.classifyLocked(ev, a.ledger.Position(), now)
	}
	b.o, b.fill, b.done = a.applyEvent(ev, d.log)
	if b.liq == liqBroker {
		a.markBrokerLocked(b.o, now)
	}
	if ev.Kind == broker.RiskStatusEv && ev.Status == broker.Rejected {
		b.reclass = a.reclassifyLocked(now, d.opt.BrokerLiqWindow)
	}
	b.holdEnded = a.holdLocked(now, d.opt.BrokerLiqWindow)
	a.publish()
	b.pos = a.ledger.Position()
	a.mu.Unlock()
	return a, b
}

// afterBooked tells the engines and the machines what a booked event did.
// It may send (a repair, a flatten) and so start the event path again:
// Desk.books is not held here.
func (d *Desk) afterBooked(ctx context.Context, a *account, ev broker.Event, b booked) {
	if a == nil {
		return
	}
	if b.fill != nil && b.o.engines() {
		d.notifyFill(ctx, a, *b.fill)
	}
	if b.done != nil && b.o.engines() {
		d.notifyDone(ctx, a, *b.done)
	}
	d.brokerDid(ctx, a, ev, b)
	if b.holdEnded {
		d.sendDeferred(ctx, a)
	}
	d.checkHalted(a)
}

// extKey is what makes an order the desk did not place one: a bracket
// placed elsewhere is one, its entry and its legs sharing a group.
func extKey(ev broker.Event) string {
	if ev.GroupID != "" {
		return ev.GroupID
	}
	return ev.ClientID
}

// brokerDid tells the risk manager what the broker did beside the desk
// (journaled already, booked by applyEvent), and carries out the desk's
// policy on orders it did not place.
func (d *Desk) brokerDid(ctx context.Context, a *account, ev broker.Event, b booked) {
	now := d.clock.Now()
	pos := b.pos
	switch ev.Kind {
	case broker.RiskStatusEv:
		if ev.Status == broker.Rejected {
			d.log.Error("account locked at the broker", "account", a.id, "status", ev.Reason)
			d.alerts.Notify(alert.Broker(now, a.id, alert.Critical, "locked at broker", ev.Reason+
				"; the broker refuses orders that add risk"))
			d.brokerLiquidated(ctx, a, b.reclass, ev.Reason, false)
		} else {
			d.log.Warn("account normal at the broker again", "account", a.id, "status", ev.Reason)
			d.alerts.Notify(alert.Broker(now, a.id, alert.Info, "normal at broker", ev.Reason))
		}
	case broker.BustedEv, broker.CorrectedEv:
		what := "trade busted"
		if ev.Kind == broker.CorrectedEv {
			what = "trade corrected"
		}
		d.log.Warn(what, "account", a.id, "order", ev.ClientID, "fill", ev.Ref, "qty", ev.FillQty, "price", ev.FillPrice.String())
		d.alerts.Notify(alert.Broker(now, a.id, alert.Warning, what, fmt.Sprintf("%s: fill %s of %s, %d at %s; the position is now %d",
			what, ev.Ref, ev.ClientID, ev.FillQty, ev.FillPrice, pos)))
	}
	if !b.newExternal {
		return
	}
	switch b.liq {
	case liqBroker:
		a.mu.Lock()
		status := a.brokerRisk
		a.mu.Unlock()
		d.brokerLiquidated(ctx, a, []broker.Event{ev}, status, ev.ByBroker)
		return
	case liqSuspect:
		d.log.Warn("an order the desk did not place only reduces the position: waiting for the broker's risk status before taking it for a trader's",
			"account", a.id, "order", ev.ClientID, "window", d.opt.BrokerLiqWindow)
		return
	}
	d.externalOrder(ctx, a, ev)
}

// applyEvent folds one venue event into the account's orders and ledger
// (a.mu held). It is shared by the live path and recovery. It returns the
// order and what the owning engine must be told.
func (a *account) applyEvent(ev broker.Event, log *slog.Logger) (o *order, fill *wire.FillMsg, done *wire.OrderDoneMsg) {
	if ev.Kind == broker.RiskStatusEv {
		// The broker's own risk status of the account: no order.
		a.brokerRisk, a.brokerLocked = "", false
		if ev.Status == broker.Rejected {
			a.brokerRisk, a.brokerLocked = ev.Reason, true
		}
		return nil, nil, nil
	}
	o = a.orders[ev.ClientID]
	if o == nil {
		// An order no engine placed: the desk's own (a liquidation's
		// market order, a repair) or not the desk's at all (External). It
		// is tracked so that its fills land in the ledger and a stop of
		// its counts as stop coverage.
		role := limits.RoleOther
		if ev.Role == broker.StopLeg {
			role = limits.RoleStop
		}
		strat := stratDesk
		if ev.External {
			strat = stratExternal
			a.external[ev.ClientID] = true
		}
		o = &order{id: ev.ClientID, strategy: strat, role: role, group: ev.GroupID, side: ev.Side, typ: market.MarketOrder}
		a.orders[ev.ClientID] = o
	}
	if ev.External {
		a.extGroups[extKey(ev)] = true
	}
	if !o.engines() && ev.OrderType != 0 {
		// What the venue says the order is: for an order the desk did not
		// place, the only source.
		o.typ = ev.OrderType
		switch {
		case ev.OrderType == market.StopOrder || ev.OrderType == market.StopLimitOrder && ev.Price == 0:
			o.price = ev.StopPrice
		case ev.Price != 0:
			o.price = ev.Price
		}
	}
	if ev.VenueOrder != "" && !ev.External {
		o.venue = ev.VenueOrder
		a.byVenue[ev.VenueOrder] = ev.ClientID
	}
	switch ev.Kind {
	case broker.Accepted, broker.Modified:
		if o.status == 0 || o.status == broker.Pending || o.status == broker.Working {
			o.status = broker.Working
		}
		if ev.LeavesQty > 0 || ev.Kind == broker.Accepted {
			o.qty = ev.LeavesQty
		}
	case broker.TriggeredEv:
		o.status = broker.Triggered
	case broker.PartiallyFilled, broker.FilledEv:
		o.filled += ev.FillQty
		o.qty = ev.LeavesQty
		if ev.Kind == broker.FilledEv {
			o.status = broker.Filled
			o.qty = 0
		} else if o.status == 0 || o.status == broker.Pending {
			o.status = broker.Working
		}
		before := a.ledger.Position()
		if err := a.ledger.ApplyFill(accounts.Fill{Time: ev.Time, Side: ev.Side, Qty: ev.FillQty, Price: ev.FillPrice,
			Strategy: o.strategy, ClientID: ev.ClientID, Ref: ev.VenueID}); err != nil {
			log.Error("ledger refused a fill", "account", a.id, "id", ev.ClientID, "err", err)
		}
		if o.strategy == stratExternal && abs64(a.ledger.Position()) > abs64(before) {
			// Contracts an order the desk did not place opened (not one
			// that only closed some: the broker's liquidation, a trader's
			// exit).
			a.extOpen = true
		}
		a.nFills++
		if o.role == limits.RoleEntry && o.stop != 0 {
			a.lastStop = o.stop
		}
		a.dirty = true
		fill = &wire.FillMsg{ClientID: ev.ClientID, Strategy: o.strategy, Side: ev.Side, Qty: ev.FillQty, Price: ev.FillPrice, Time: ev.Time}
		if ev.Kind == broker.FilledEv {
			done = &wire.OrderDoneMsg{ClientID: ev.ClientID, Strategy: o.strategy, Filled: true}
		}
	case broker.RejectedEv, broker.CancelledEv, broker.ExpiredEv:
		if ev.Kind == broker.RejectedEv && o.status != 0 {
			// The venue refused a later request about a live order (a cancel
			// of a filled order, a stop move): the order itself is unchanged.
			log.Warn("venue refused a request", "account", a.id, "id", ev.ClientID, "reason", ev.Reason)
			return o, nil, nil
		}
		switch ev.Kind {
		case broker.CancelledEv:
			o.status = broker.Cancelled
		case broker.RejectedEv:
			o.status = broker.Rejected
		default:
			o.status = broker.Expired
		}
		o.qty = 0
		a.dirty = true
		if o.role == limits.RoleEntry || o.role == limits.RoleOther {
			done = &wire.OrderDoneMsg{ClientID: ev.ClientID, Strategy: o.strategy, Filled: o.filled > 0, Reason: ev.Reason}
		}
	case broker.StatusEv:
		// A status change without a fill, a cancel or an expiry (pending,
		// suspended, a status report): an order the venue says is over is
		// over; one it says works again works.
		switch {
		case ev.Status.Done() && !o.done():
			o.status, o.qty = ev.Status, 0
			a.dirty = true
			if o.role == limits.RoleEntry || o.role == limits.RoleOther {
				done = &wire.OrderDoneMsg{ClientID: ev.ClientID, Strategy: o.strategy, Filled: o.filled > 0, Reason: ev.Reason}
			}
		case ev.Status == broker.Working && (o.status == 0 || o.status == broker.Pending):
			o.status = broker.Working
			if ev.LeavesQty > 0 {
				o.qty = ev.LeavesQty
			}
			a.dirty = true
		}
	case broker.BustedEv, broker.CorrectedEv:
		a.applyBust(o, ev, log)
	}
	if a.ledger.Position() == 0 {
		a.extOpen = false
	}
	return o, fill, done
}

// applyBust books a trade bust or correction (a.mu held): the ledger
// rebooks the session without the busted fill (or with the corrected one),
// as the venue does (accounts.Ledger.Adjust, which the journal's ledger
// check uses too); the order's filled quantity follows. A bust of a fill
// the ledger does not know by the venue's id is an opposite fill at its
// price instead, and a correction of one is left to the position check
// (reconcile.go). Coverage is checked again: the venue does not resize
// the exits a busted fill armed.
func (a *account) applyBust(o *order, ev broker.Event, log *slog.Logger) {
	a.dirty = true
	corr := ev.Kind == broker.CorrectedEv
	if corr {
		a.corrections++
	} else {
		a.busts++
		a.bustRepair = true
	}
	old, exact, err := a.ledger.Adjust(accounts.Adjustment{Ref: ev.Ref, Correct: corr, Time: ev.Time, Side: ev.Side, Qty: ev.FillQty,
		Price: ev.FillPrice, Strategy: o.strategy, ClientID: ev.ClientID, VenueID: ev.VenueID})
	switch {
	case err != nil:
		log.Error("ledger refused a bust or correction (the position check settles the position)", "account", a.id,
			"id", ev.ClientID, "ref", ev.Ref, "kind", ev.Kind.String(), "err", err)
	case !exact:
		log.Warn("bust of a fill the ledger cannot find by venue id: booked as an opposite fill", "account", a.id,
			"id", ev.ClientID, "ref", ev.Ref)
		o.filled = max(0, o.filled-ev.FillQty)
	case corr:
		o.filled = max(0, o.filled+ev.FillQty-old.Qty)
	default:
		o.filled = max(0, o.filled-old.Qty)
	}
}
