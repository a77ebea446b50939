package supervisor

// events.go: the broker-event path — journal → orders and ledger →
// engines → machines. Events that arrive together are made durable by one
// commit before any is applied; a venue's replay of reports already booked
// (by venue id) is skipped. applyEvent is shared with recovery.

import (
	"context"
	"log/slog"

	"github.com/deskguard/deskguard/accounts"
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
	d.journal(ctx, journal.NewBrokerEvent(ev))
	d.applyBrokerEvent(ctx, ev)
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
			fresh = append(fresh, ev)
		}
	}
	if len(fresh) == 0 {
		return
	}
	es := make([]journal.Record, len(fresh))
	for i, ev := range fresh {
		es[i] = journal.NewBrokerEvent(ev)
	}
	if err := bj.AppendBatch(ctx, es); err != nil {
		d.journalFailed(err)
	}
	for _, ev := range fresh {
		d.applyBrokerEvent(ctx, ev)
	}
}

// applyBrokerEvent is the part of the broker-event path after the journal:
// orders and ledger → engines → machines.
func (d *Desk) applyBrokerEvent(ctx context.Context, ev broker.Event) {
	a := d.byID[ev.Account]
	if a == nil {
		d.log.Warn("event for unknown account", "account", ev.Account, "id", ev.ClientID)
		return
	}
	a.mu.Lock()
	o, fill, done := a.applyEvent(ev, d.log)
	a.publish()
	a.mu.Unlock()
	if fill != nil && o.strategy != "desk" {
		d.notifyFill(ctx, a, *fill)
	}
	if done != nil && o.strategy != "desk" {
		d.notifyDone(ctx, a, *done)
	}
	d.checkHalted(a)
}

// applyEvent folds one venue event into the account's orders and ledger
// (a.mu held). It is shared by the live path and recovery. It returns the
// order and what the owning engine must be told.
func (a *account) applyEvent(ev broker.Event, log *slog.Logger) (o *order, fill *wire.FillMsg, done *wire.OrderDoneMsg) {
	o = a.orders[ev.ClientID]
	if o == nil {
		// An order the desk did not place itself (a liquidation's market
		// order, a repair): track it so fills land in the ledger.
		role := limits.RoleOther
		if ev.Role == broker.StopLeg {
			role = limits.RoleStop
		}
		o = &order{id: ev.ClientID, strategy: "desk", role: role, group: ev.GroupID, side: ev.Side, typ: market.MarketOrder}
		a.orders[ev.ClientID] = o
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
		if err := a.ledger.ApplyFill(accounts.Fill{Time: ev.Time, Side: ev.Side, Qty: ev.FillQty, Price: ev.FillPrice,
			Strategy: o.strategy, ClientID: ev.ClientID}); err != nil {
			log.Error("ledger refused a fill", "account", a.id, "id", ev.ClientID, "err", err)
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
	}
	return o, fill, done
}
