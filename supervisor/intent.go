package supervisor

// intent.go: the intent path (DESIGN.md "The three paths", 2) — gate →
// journal (durable) → broker. An intent that is refused is journaled with
// its reason and returned to the engine; nothing refused reaches the
// broker, and nothing reaches it before its record is durable
// (invariant 7). A risk-adding intent looks at the kill's flags again
// after its record is durable and right before the broker call, counted in
// the account's sending counter (account.go), so a kill that lands while
// it is in flight either stops it or liquidates again after it. A bracket
// whose stop the venue did not confirm (broker.ErrUnconfirmed: it may hold
// the entry without it) flattens the account (coverage.go).

import (
	"context"
	"errors"
	"fmt"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor/wire"
)

// IntentResult is what became of an intent.
type IntentResult struct {
	ID       string
	Decision limits.Decision
	Sent     bool
	Err      error
}

// decisionOf is the gate's decision as journaled.
func decisionOf(d limits.Decision) *journal.Decision {
	return &journal.Decision{Allowed: d.Allowed, Reason: string(d.Reason), Detail: d.Detail, Got: d.Got, Limit: d.Limit}
}

// newID returns a fresh client order id.
func (d *Desk) newID(a *account) string {
	return fmt.Sprintf("%s.%d", a.id, d.idSeq.Add(1))
}

// HandleIntent is the intent path: gate → journal (durable) → broker.
// Rejected intents are journaled with their reason and returned to the
// engine; nothing rejected reaches the broker.
func (d *Desk) HandleIntent(ctx context.Context, in intent.Intent) IntentResult {
	ctx = context.WithoutCancel(ctx)
	a := d.byID[in.Account]
	if a == nil {
		res := IntentResult{Decision: limits.Decision{Reason: limits.Invalid, Detail: "unknown account"}}
		d.journal(ctx, journal.NewIntent(in, decisionOf(res.Decision)))
		return res
	}
	addsRisk := in.Kind == intent.Enter || in.Kind == intent.Add

	a.mu.Lock()
	if in.ID == "" {
		in.ID = d.newID(a)
	}
	now := d.nowNs()
	if in.Time == 0 {
		in.Time = now
	}
	if in.Kind == intent.Exit && in.Qty == 0 {
		in.Qty = abs64(a.ledger.Position())
	}
	// The ledger's part of the snapshot, then the rules' (the ladder, the
	// trailing and weekly lines, the tier, the session's sends), the desk
	// ladder (an atomic: no tick lock here) and the other accounts'
	// working orders as they published them (self-match: no other
	// account's lock either).
	a.snap.NowNs = now
	a.ledger.FillSnapshot(&a.snap, a.rules.Drawdown)
	a.rules.Fill(&a.snap, a.ledger.EquityCents())
	a.snap.DeskReduceOnly = d.deskReduceOnly()
	a.snap.Orders = a.workingOrders()
	a.snap.Others = d.othersOf(a)
	st := a.m.State()
	a.snap.LockedOut = st == AcctLockedOut || a.rules.Drawdown.Breached()
	a.snap.Halted = a.stopsRisk() || st != AcctTrading
	a.snap.DeskHalted = d.m.State() != DeskRunning
	a.snap.DeskLockedOut = d.deskLocked.Load()
	a.snap.Rate = a.rate
	g0 := d.wall.Now()
	dec := a.gate.Check(&a.snap, &in)
	d.opt.Observer.GateChecked(d.wall.Now().Sub(g0))
	a.nIntents++
	if dec.Allowed {
		if addsRisk {
			a.rate.Record(now)
		}
		// Counted toward daily_order_limit and remembered for
		// duplicate_order when accepted, under the same lock as the check:
		// two intents gated back to back cannot both pass as firsts. One
		// that is then not sent (journal failure, a kill, the broker's
		// refusal) still counts: the caps err on the side of fewer orders.
		a.rules.Activity.RecordSent(now, &in)
		a.reserve(&in)
		a.publish()
		a.nOrders++
		if in.Reason != "" {
			a.signal = in.Reason
		}
	} else {
		a.rejects[string(dec.Reason)]++
	}
	a.mu.Unlock()

	res := IntentResult{ID: in.ID, Decision: dec}
	if _, err := d.j.Append(ctx, journal.NewIntent(in, decisionOf(dec))); err != nil {
		// Not durable: not sent (invariant 7).
		a.mu.Lock()
		a.unreserve(&in)
		a.publish()
		a.mu.Unlock()
		d.journalFailed(err)
		res.Err = fmt.Errorf("%w: %v", ErrJournal, err)
		d.tellRejected(ctx, a, in, "journal_failed")
		return res
	}
	if !dec.Allowed {
		d.tellRejected(ctx, a, in, string(dec.Reason))
		return res
	}
	if addsRisk {
		if !a.beginSend() {
			// A kill or lockout landed while this intent was being made
			// durable: it adds risk, so it is withdrawn, not sent (the
			// liquidation would only have to cancel it).
			a.mu.Lock()
			a.unreserve(&in)
			a.publish()
			a.rejects[string(limits.Halted)]++
			a.mu.Unlock()
			d.journal(ctx, journal.NewBrokerError(a.id, in.ID, d.nowNs(), journal.BrokerError{Op: "withdrawn", Err: "halted before it was sent"}))
			d.tellRejected(ctx, a, in, string(limits.Halted))
			res.Decision = limits.Decision{Reason: limits.Halted, Detail: "halted before it was sent"}
			return res
		}
	}
	err := d.send(ctx, a, &in)
	if addsRisk {
		a.endSend()
	}
	if err != nil {
		d.log.Warn("broker refused intent", "account", a.id, "id", in.ID, "err", err)
		d.journal(ctx, journal.NewBrokerError(a.id, in.ID, d.nowNs(), journal.BrokerError{Err: err.Error()}))
		a.mu.Lock()
		if o := a.orders[in.ID]; o != nil && o.status == 0 {
			o.status = broker.Rejected
		}
		a.publish()
		a.mu.Unlock()
		if addsRisk {
			d.tellRejected(ctx, a, in, "broker: "+err.Error())
			if errors.Is(err, broker.ErrUnconfirmed) {
				// The venue may hold the entry without its stop.
				d.unconfirmedStop(ctx, a, in.ID, err)
			}
		}
		res.Err = err
		return res
	}
	res.Sent = true
	return res
}

// reserve records the orders an accepted intent will create, so the next
// gate check sees them working (a.mu held).
func (a *account) reserve(in *intent.Intent) {
	switch in.Kind {
	case intent.Enter, intent.Add:
		e := &order{id: in.ID, strategy: in.Strategy, role: limits.RoleEntry, group: in.ID, side: in.Side, typ: in.EntryType,
			qty: in.Qty, price: entryPrice(in), stop: in.Stop, target: in.Target}
		if in.ExpireNs > 0 {
			e.expireAt = in.Time + in.ExpireNs
			a.expiring = append(a.expiring, e)
		}
		a.orders[e.id] = e
		stopID, targetID := LegIDs(in.ID)
		// Legs are armed by the entry's fills: zero working quantity until then.
		a.orders[stopID] = &order{id: stopID, strategy: in.Strategy, role: limits.RoleStop, group: in.ID, side: in.Side.Opposite(),
			typ: market.StopOrder, price: in.Stop, status: broker.Pending}
		a.orders[targetID] = &order{id: targetID, strategy: in.Strategy, role: limits.RoleTarget, group: in.ID, side: in.Side.Opposite(),
			typ: market.LimitOrder, price: in.Target, status: broker.Pending}
	}
}

// unreserve takes back what reserve recorded (a.mu held).
func (a *account) unreserve(in *intent.Intent) {
	if in.Kind == intent.Enter || in.Kind == intent.Add {
		s, t := LegIDs(in.ID)
		delete(a.orders, in.ID)
		delete(a.orders, s)
		delete(a.orders, t)
	}
}

func entryPrice(in *intent.Intent) market.Price {
	if in.EntryType == market.StopLimitOrder && in.Limit != 0 {
		return in.Limit
	}
	return in.Entry
}

// LegIDs returns the client ids of a bracket's stop and target legs.
func LegIDs(entryID string) (stop, target string) { return entryID + ".stop", entryID + ".target" }

// bracketOf is the exchange-held order group an entry intent becomes: the
// entry with its protective stop (stop-market, GTC: invariants 1, 2 and 9)
// and its target, each for the entry's whole quantity.
func bracketOf(account string, in *intent.Intent) broker.Bracket {
	stopID, targetID := LegIDs(in.ID)
	e := broker.Order{ClientID: in.ID, Account: account, Side: in.Side, Qty: in.Qty, Type: in.EntryType, TIF: broker.Day}
	switch in.EntryType {
	case market.LimitOrder:
		e.Price = in.Entry
	case market.StopOrder:
		e.StopPrice = in.Entry
	case market.StopLimitOrder:
		e.StopPrice, e.Price = in.Entry, in.Limit
	}
	return broker.Bracket{
		Entry:  e,
		Stop:   broker.Order{ClientID: stopID, Account: account, Side: in.Side.Opposite(), Qty: in.Qty, Type: market.StopOrder, StopPrice: in.Stop, TIF: broker.GTC},
		Target: broker.Order{ClientID: targetID, Account: account, Side: in.Side.Opposite(), Qty: in.Qty, Type: market.LimitOrder, Price: in.Target, TIF: broker.GTC},
	}
}

// send turns an accepted intent into a broker call.
func (d *Desk) send(ctx context.Context, a *account, in *intent.Intent) error {
	switch in.Kind {
	case intent.Enter, intent.Add:
		return d.br.SubmitBracket(ctx, bracketOf(a.id, in))
	case intent.MoveStop:
		if err := d.br.Modify(ctx, a.id, in.Ref, 0, in.Stop); err != nil {
			return err
		}
		a.mu.Lock()
		if o := a.orders[in.Ref]; o != nil {
			o.price = in.Stop
			if g := a.orders[o.group]; g != nil {
				g.stop = in.Stop
			}
		}
		a.publish()
		a.mu.Unlock()
		return nil
	case intent.Cancel:
		return d.br.Cancel(ctx, a.id, in.Ref)
	case intent.Exit:
		// Exit closes the account's position at the venue as one operation
		// (cancel working orders, flatten): it always reduces risk. Until
		// the account is flat the liquidation is its stop cover, as a kill's
		// is: a repair stop placed beside a partly filled liquidation would
		// outlive the position and open a new one when it fills.
		a.mu.Lock()
		open := a.ledger.Position() != 0
		a.mu.Unlock()
		if open {
			a.liquidating.Store(true) // cleared once flat (checkHalted)
		}
		if err := d.br.Liquidate(ctx, a.id); err != nil {
			a.liquidating.Store(false) // coverage repair takes over
			return err
		}
		return nil
	}
	return fmt.Errorf("supervisor: intent kind %s cannot be sent", in.Kind)
}

// tellRejected returns a refusal to the engine that proposed it.
func (d *Desk) tellRejected(ctx context.Context, a *account, in intent.Intent, reason string) {
	if in.Kind != intent.Enter && in.Kind != intent.Add {
		return
	}
	d.notifyDone(ctx, a, wire.OrderDoneMsg{ClientID: in.ID, Strategy: in.Strategy, Filled: false, Reason: reason})
}

func (d *Desk) notifyDone(ctx context.Context, a *account, m wire.OrderDoneMsg) {
	host, proc := a.hosts()
	switch {
	case host != nil:
		for _, in := range host.OnOrderDone(m) {
			d.HandleIntent(ctx, in)
		}
	case proc != nil:
		p, _ := jsonMarshal(m)
		proc.Send(wire.OrderDone, p)
	}
}

func (d *Desk) notifyFill(ctx context.Context, a *account, m wire.FillMsg) {
	host, proc := a.hosts()
	switch {
	case host != nil:
		for _, in := range host.OnFill(m) {
			d.HandleIntent(ctx, in)
		}
	case proc != nil:
		p, _ := jsonMarshal(m)
		proc.Send(wire.Fill, p)
	}
}
