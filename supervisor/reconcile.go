package supervisor

// reconcile.go: reconciliation with the venue after recovery (invariant 7)
// — the venue is the truth: positions corrected to it, orders it no longer
// has closed, its orders the desk does not know adopted, and an account
// that disagreed faulted (halted until the risk manager clears it) with
// its stop coverage repaired. Every change is journaled (kind "reconcile")
// and replayed by recovery.

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// Mismatch is a difference between the desk's books and the venue's.
type Mismatch struct {
	Account string
	What    string
}

// Why an order is closed by reconciliation.
const (
	closedNeverSent = "never reached the venue" // no outcome in the journal, not at the venue
	closedGone      = "not at the venue"        // finished while the desk was away (cancel-on-disconnect, ...)
	closedLostStop  = "protective stop lost at the venue"
)

// Reconcile compares the recovered books with the venue: positions, and
// the working orders the desk believes in. The venue is the truth: the
// ledger position is corrected to it, orders the venue no longer has are
// closed, and every account that disagreed — a position that differs, an
// order the desk does not know, or a protective stop the desk believes
// working for an open position that the venue no longer has and no
// execution report explains — is faulted (halted until the risk manager
// clears it), its stop coverage repaired, and the risk manager alerted.
// Every change is journaled (kind "reconcile") and replayed by Recover.
// Orders the venue's reports finished (filled, cancelled, expired) were
// booked before this runs (Start drains the venue's replay first) and are
// not looked at; a missing stop is only called lost after the reports
// still on their way have had their chance to land.
func (d *Desk) Reconcile(ctx context.Context) ([]Mismatch, error) {
	pos, err := d.br.Positions(ctx)
	if err != nil {
		return nil, fmt.Errorf("supervisor: reconcile: positions: %w", err)
	}
	venue := map[string]broker.Position{}
	for _, p := range pos {
		venue[p.Account] = p
	}
	var out []Mismatch
	for _, a := range d.accts {
		ms, err := d.reconcileAccount(ctx, a, venue[a.id])
		out = append(out, ms...)
		if err != nil {
			return out, err
		}
	}
	d.checkCoverage(ctx)
	return out, nil
}

// venueView is one account at the venue.
type venueView struct {
	pos  broker.Position
	open []broker.OrderState
}

func (d *Desk) venueOf(ctx context.Context, a *account) (venueView, error) {
	var v venueView
	pos, err := d.br.Positions(ctx)
	if err != nil {
		return v, fmt.Errorf("supervisor: reconcile: positions: %w", err)
	}
	for _, p := range pos {
		if p.Account == a.id {
			v.pos = p
		}
	}
	v.open, err = d.br.OpenOrders(ctx, a.id)
	if err != nil {
		return v, fmt.Errorf("supervisor: reconcile %s: open orders: %w", a.id, err)
	}
	return v, nil
}

// lostStops lists the account's protective stops that the desk believes
// working (the venue acknowledged them) for its open position and that are
// not among the venue's open orders (a.mu held).
func lostStops(a *account, live map[string]broker.OrderState) []string {
	var out []string
	for id, o := range a.orders {
		if _, ok := live[id]; !ok && protective(o, a.ledger.Position()) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// protective reports whether o is a working stop protecting position pos.
func protective(o *order, pos int64) bool {
	exit := market.Sell
	if pos < 0 {
		exit = market.Buy
	}
	return pos != 0 && o.role == limits.RoleStop && o.side == exit && o.qty > 0 &&
		(o.status == broker.Working || o.status == broker.Triggered)
}

func (d *Desk) reconcileAccount(ctx context.Context, a *account, vpos broker.Position) ([]Mismatch, error) {
	open, err := d.br.OpenOrders(ctx, a.id)
	if err != nil {
		return nil, fmt.Errorf("supervisor: reconcile %s: open orders: %w", a.id, err)
	}
	v := venueView{pos: vpos, open: open}
	a.mu.Lock()
	lost := lostStops(a, liveByID(v.open))
	a.mu.Unlock()
	if len(lost) > 0 {
		// Reports that explain them (the stop filled, or was cancelled) may
		// still be on their way: let them land, then look again.
		d.awaitEvents(ctx)
		if v, err = d.venueOf(ctx, a); err != nil {
			return nil, err
		}
	}
	live := liveByID(v.open)
	vp := v.pos
	var bad []string
	a.mu.Lock()
	pos := a.ledger.Position()
	rec := journal.Reconcile{JournalPosition: pos, VenuePosition: vp.Qty}
	if vp.Qty != pos {
		bad = append(bad, fmt.Sprintf("position: journal %d, venue %d", pos, vp.Qty))
	}
	ids := make([]string, 0, len(a.orders))
	for id := range a.orders {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		o := a.orders[id]
		if o.done() || (o.qty == 0 && o.status == broker.Pending) {
			continue
		}
		_, atVenue := live[id]
		if o.status == 0 && o.role == limits.RoleEntry {
			// An intent with no outcome in the journal, matched by client id.
			if atVenue {
				rec.IntentsAtVenue++
			} else {
				rec.IntentsNotAtVenue++
			}
		}
		if atVenue {
			continue
		}
		why := closedGone
		switch {
		case o.status == 0:
			why = closedNeverSent
		case protective(o, pos):
			why = closedLostStop
			bad = append(bad, fmt.Sprintf("protective stop %s (%d at %s) is not working at the venue", id, o.qty, o.price))
		}
		rec.Closed = append(rec.Closed, journal.ClosedOrder{ID: id, Role: roleName(o.role), Why: why})
		o.status, o.qty = broker.Cancelled, 0
		if why == closedNeverSent && o.role == limits.RoleEntry {
			// Its bracket legs, armed by fills that never came, go with it.
			for _, leg := range legsOf(id) {
				if l := a.orders[leg]; l != nil && l.status == broker.Pending && l.qty == 0 {
					l.status = broker.Cancelled
					rec.Closed = append(rec.Closed, journal.ClosedOrder{ID: leg, Role: roleName(l.role), Why: why})
				}
			}
		}
	}
	for _, vo := range v.open {
		id := vo.ClientID
		o := a.orders[id]
		if o == nil {
			bad = append(bad, "unknown order at the venue: "+id)
			role := limits.RoleOther
			if vo.Role == broker.StopLeg || vo.Type == market.StopOrder {
				role = limits.RoleStop
			}
			o = &order{id: id, strategy: "desk", role: role, side: vo.Side, typ: vo.Type, qty: vo.Qty - vo.FilledQty,
				price: venuePrice(vo), status: vo.Status}
			a.orders[id] = o
			rec.Adopted = append(rec.Adopted, snapOf(o))
			continue
		}
		o.qty = vo.Qty - vo.FilledQty
		o.status = vo.Status
		if vo.Type == market.StopOrder {
			o.price = vo.StopPrice
		}
		if o.strategy == "desk" && (vo.Role == broker.StopLeg || vo.Type == market.StopOrder) {
			// The desk's own stop (a repair) known only from its venue events.
			o.role, o.typ = limits.RoleStop, vo.Type
		}
	}
	if fix := d.correctionFor(a, vp); fix != nil {
		rec.Correction = fix
		a.applyCorrection(*fix, d.log)
	}
	a.dirty = true
	a.publish()
	a.mu.Unlock()

	for _, c := range rec.Closed {
		switch c.Why {
		case closedLostStop:
			d.log.Error("reconcile: protective stop lost at the venue", "account", a.id, "id", c.ID)
		case closedGone:
			d.log.Warn("reconcile: order not at the venue; closed", "account", a.id, "id", c.ID, "role", c.Role)
		default:
			d.log.Info("reconcile: order never reached the venue; closed", "account", a.id, "id", c.ID, "role", c.Role)
		}
	}
	if rec.IntentsAtVenue+rec.IntentsNotAtVenue > 0 {
		d.log.Info("reconcile: intents with no outcome in the journal", "account", a.id,
			"at_venue", rec.IntentsAtVenue, "not_at_venue", rec.IntentsNotAtVenue)
	}
	if len(bad) == 0 && len(rec.Closed) == 0 && len(rec.Adopted) == 0 && rec.Correction == nil && rec.IntentsAtVenue == 0 {
		return nil, nil
	}
	// A fresh venue (Options.FreshVenue) holds nothing: what the journal
	// holds open went with the previous run's venue. Corrected, journaled
	// and alerted, not faulted.
	gone := d.opt.FreshVenue && vp.Qty == 0 && len(v.open) == 0
	rec.Mismatches, rec.Faulted = bad, len(bad) > 0 && !gone
	d.journal(ctx, journal.NewReconcile(a.id, d.nowNs(), rec))
	if len(bad) == 0 {
		return nil, nil
	}
	if gone {
		d.log.Error("reconcile: the new venue does not hold what the journal leaves open (it stopped with the previous run); books corrected",
			"account", a.id, "journal_position", rec.JournalPosition, "mismatches", strings.Join(bad, "; "))
		d.alerts.Notify(alert.ReconcileMismatch(d.clock.Now(), a.id, alert.ReconcileFacts{JournalPosition: rec.JournalPosition,
			VenuePosition: 0, Action: "journaled as a correction; the new built-in venue holds no position, the account starts flat"}))
		return nil, nil
	}
	out := make([]Mismatch, 0, len(bad))
	for _, b := range bad {
		out = append(out, Mismatch{Account: a.id, What: b})
	}
	d.log.Error("reconcile mismatch: account faulted", "account", a.id, "mismatches", strings.Join(bad, "; "))
	d.alerts.Notify(alert.ReconcileMismatch(d.clock.Now(), a.id, alert.ReconcileFacts{JournalPosition: rec.JournalPosition,
		VenuePosition: vp.Qty, Action: "account faulted, stop coverage repaired; waiting for the risk manager: " + strings.Join(bad, "; ")}))
	a.halted.Store(true)
	if p := a.proc(); p != nil {
		p.SetHalted(true)
	}
	if a.m.Can(EvFault) {
		_ = a.m.Fire(EvFault, "reconcile mismatch: "+strings.Join(bad, "; "))
	}
	return out, nil
}

func liveByID(open []broker.OrderState) map[string]broker.OrderState {
	live := make(map[string]broker.OrderState, len(open))
	for _, o := range open {
		live[o.ClientID] = o
	}
	return live
}

func legsOf(entryID string) []string {
	s, t := LegIDs(entryID)
	return []string{s, t}
}

// replayReconcile applies a journaled reconciliation during recovery (a.mu
// held), as reconcileAccount applied it.
func (a *account) replayReconcile(rr journal.Reconcile, log *slog.Logger) {
	for _, c := range rr.Closed {
		if o := a.orders[c.ID]; o != nil && !o.done() {
			o.status, o.qty = broker.Cancelled, 0
		}
	}
	for _, s := range rr.Adopted {
		if a.orders[s.ID] == nil {
			a.orders[s.ID] = orderOf(s)
		}
	}
	if rr.Correction != nil {
		a.applyCorrection(*rr.Correction, log)
	}
}

// awaitEvents gives the venue's reports already on their way the chance to
// be booked: those waiting on the event stream (a venue replays its reports
// to a new connection), then those a live event loop is booking now.
func (d *Desk) awaitEvents(ctx context.Context) {
	d.drainPending(ctx, 100*time.Millisecond)
	deadline := d.wall.NewTimer(time.Second)
	defer deadline.Stop()
	for {
		idle := d.evIdle.Load()
		if d.evInFlight.Load() == 0 {
			return
		}
		select {
		case <-*idle:
		case <-deadline.C():
			return
		case <-ctx.Done():
			return
		}
	}
}

func venuePrice(o broker.OrderState) market.Price {
	if o.Type == market.StopOrder || o.Type == market.StopLimitOrder && o.Price == 0 {
		return o.StopPrice
	}
	return o.Price
}

// correctionFor returns the fill that makes the ledger's position the
// venue's (the venue is the truth), at the venue's average price, or nil
// when they agree (a.mu held).
func (d *Desk) correctionFor(a *account, vp broker.Position) *journal.Correction {
	diff := vp.Qty - a.ledger.Position()
	if diff == 0 {
		return nil
	}
	side := market.Buy
	if diff < 0 {
		side, diff = market.Sell, -diff
	}
	px := vp.AvgPrice
	if px <= 0 {
		px = d.last()
	}
	if px <= 0 {
		px = a.ledger.MarkPrice()
	}
	if px <= 0 {
		return nil
	}
	return &journal.Correction{Time: d.nowNs(), Side: side, Qty: diff, Price: px}
}

// applyCorrection books a reconciliation's correcting fill, or a position
// carried from an earlier trade date (a.mu held).
func (a *account) applyCorrection(c journal.Correction, log *slog.Logger) {
	if c.Carried {
		if err := a.ledger.Carry(c.Time, c.Side, c.Qty, c.Price); err != nil {
			log.Error("reconcile: ledger refused the carried position", "account", a.id, "err", err)
		}
		return
	}
	if err := a.ledger.ApplyFill(accounts.Fill{Time: c.Time, Side: c.Side, Qty: c.Qty, Price: c.Price, Strategy: "reconcile",
		ClientID: "reconcile"}); err != nil {
		log.Error("reconcile: ledger refused the correction", "account", a.id, "err", err)
	}
}
