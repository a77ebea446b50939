package supervisor

// recover.go: snapshots, recovery from the journal and reconciliation with
// the venue (invariant 7). Recovery folds the journal from its latest
// snapshot with the same code the live path uses (applyEvent, reserve);
// reconciliation then compares the rebuilt books with the venue's own and
// faults any account that disagrees, repairing its stop coverage first.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/alerts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// deskSnapshot is the body of a snapshot record: everything recovery
// needs, so that snapshot + tail folds to the same desk as the whole log.
type deskSnapshot struct {
	Ledgers  []accounts.LedgerState `json:"ledgers"`
	Accounts map[string]acctSnap    `json:"accounts"`
	Desk     string                 `json:"desk"`
	IDSeq    uint64                 `json:"id_seq"`
}

type acctSnap struct {
	State    string      `json:"state"`
	Breached bool        `json:"breached"`
	LastStop int64       `json:"last_stop"`
	Orders   []orderSnap `json:"orders"`
}

type orderSnap struct {
	ID       string `json:"id"`
	Strategy string `json:"strategy"`
	Role     uint8  `json:"role"`
	Group    string `json:"group"`
	Side     int8   `json:"side"`
	Type     uint8  `json:"type"`
	Qty      int64  `json:"qty"`
	Filled   int64  `json:"filled"`
	Price    int64  `json:"price"`
	Stop     int64  `json:"stop"`
	Target   int64  `json:"target"`
	Status   uint8  `json:"status"`
	ExpireAt int64  `json:"expire_at"`
}

// Snapshot journals a checkpoint of the whole desk.
func (d *Desk) Snapshot(ctx context.Context) error {
	d.mu.Lock()
	s := deskSnapshot{Accounts: map[string]acctSnap{}, Desk: d.m.State(), IDSeq: d.idSeq.Load()}
	for _, a := range d.accts {
		s.Ledgers = append(s.Ledgers, a.ledger.State())
		as := acctSnap{State: a.m.State(), Breached: a.mon.Breached(), LastStop: int64(a.lastStop)}
		for _, o := range a.orders {
			if o.done() {
				continue
			}
			as.Orders = append(as.Orders, orderSnap{ID: o.id, Strategy: o.strategy, Role: uint8(o.role), Group: o.group,
				Side: int8(o.side), Type: uint8(o.typ), Qty: o.qty, Filled: o.filled, Price: int64(o.price), Stop: int64(o.stop),
				Target: int64(o.target), Status: uint8(o.status), ExpireAt: o.expireAt})
		}
		s.Accounts[a.id] = as
	}
	d.mu.Unlock()
	_, err := d.j.Append(context.WithoutCancel(ctx), Entry{Kind: "snapshot", Market: d.nowNs(), Body: s})
	return err
}

// Recovered says what recovery found.
type Recovered struct {
	From        uint64   // first record folded (0: empty journal)
	Records     int      // records folded
	DeskState   string   // the desk's last journaled state
	LockedOut   []string // accounts still locked out
	OpenIntents int      // intents with no venue outcome, reconciled against the venue
}

// Recover rebuilds the desk from the journal: ledgers, orders, account and
// desk states, lockouts. Call before Start; j is the journal the desk
// appends to.
func (d *Desk) Recover(j *journal.Journal) (Recovered, error) {
	var rec Recovered
	deskState := ""
	states := map[string]string{}
	d.mu.Lock()
	defer d.mu.Unlock()
	from, err := j.Recover(func(r journal.Record) error {
		rec.Records++
		a := d.byID[r.Account]
		switch r.Kind {
		case journal.KindSnapshot:
			raw, err := r.Snapshot()
			if err != nil {
				return err
			}
			var s deskSnapshot
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("recover: snapshot %d: %w", r.Seq, err)
			}
			return d.restoreSnapshot(s, states, &deskState)
		case journal.KindSessionReset:
			// A new session: the books start again from the journaled start equity.
			sr, err := r.SessionReset()
			if err != nil {
				return err
			}
			for id, eq := range sr.Accounts {
				if x := d.byID[id]; x != nil && sr.Why != "desk start" {
					_ = x.ledger.ResetSession(mustDec(eq))
					x.mon.Reset(x.ledger.StartCents())
				}
			}
		case journal.KindIntent:
			if a == nil {
				return nil
			}
			b, err := r.IntentBody()
			if err != nil {
				return err
			}
			d.bumpID(b.Intent.ID)
			if b.Decision != nil && b.Decision.Allowed {
				in := b.Intent
				d.reserve(a, &in)
				a.nOrders++
			}
		case journal.KindBrokerEvent:
			if a == nil {
				return nil
			}
			ev, err := r.BrokerEvent()
			if err != nil {
				return err
			}
			if ev.VenueID != "" {
				d.seenVenue[ev.VenueID] = true
			}
			d.bumpID(ev.ClientID)
			d.applyEvent(a, ev)
		case journal.KindBrokerError:
			// An intent the venue refused at once, or withdrawn by a kill
			// before it was sent: it never reached the venue.
			if a == nil || r.ClientID == "" {
				return nil
			}
			be, err := r.BrokerError()
			if err != nil {
				return err
			}
			if o := a.orders[r.ClientID]; o != nil && o.status == 0 {
				if be.Op == "withdrawn" {
					o.status = broker.Cancelled
				} else {
					o.status = broker.Rejected
				}
				o.qty = 0
			}
		case journal.KindTransition:
			t, err := r.Transition()
			if err != nil || t.To == "" {
				return nil // refused transitions are journaled without a target
			}
			if t.Machine == "desk" {
				deskState = t.To
			} else {
				states[t.ID] = t.To
			}
		case journal.KindLockout:
			if a != nil {
				a.mon.Restore(true)
				states[a.id] = AcctLockedOut
			}
		case journal.KindUnlock:
			if a != nil {
				a.mon.Reset(a.ledger.EquityCents()) // as Unlock did (a locked-out account is flat)
			}
		}
		return nil
	})
	if err != nil {
		return rec, fmt.Errorf("supervisor: recover: %w", err)
	}
	// Venue event ids of the whole journal, not just the tail: a venue
	// replays every report to a new connection.
	if err := j.Iterate(1, func(r journal.Record) error {
		if r.Kind == journal.KindBrokerEvent {
			if ev, err := r.BrokerEvent(); err == nil && ev.VenueID != "" {
				d.seenVenue[ev.VenueID] = true
			}
		}
		return nil
	}); err != nil {
		return rec, fmt.Errorf("supervisor: recover: venue ids: %w", err)
	}
	rec.From = from
	rec.DeskState = deskState
	for _, a := range d.accts {
		st, ok := states[a.id]
		if !ok {
			continue
		}
		// Machines restart in their recovered state. A kill or lockout in
		// progress stays in force: halting accounts are halted again on Start.
		a.m = NewAccountMachine(a.id, st, d.onTransition, d.onIllegal)
		switch st {
		case AcctLockedOut:
			a.halted.Store(true)
			a.mon.Restore(true)
			rec.LockedOut = append(rec.LockedOut, a.id)
		case AcctHalting, AcctHalted, AcctFaulted:
			a.halted.Store(true)
		}
	}
	d.recovered = &rec
	return rec, nil
}

func (d *Desk) restoreSnapshot(s deskSnapshot, states map[string]string, deskState *string) error {
	for _, st := range s.Ledgers {
		a := d.byID[st.ID]
		if a == nil {
			continue
		}
		l, err := accounts.Restore(st)
		if err != nil {
			return err
		}
		a.ledger = l
		a.mon.Reset(l.StartCents())
	}
	for id, as := range s.Accounts {
		a := d.byID[id]
		if a == nil {
			continue
		}
		states[id] = as.State
		a.mon.Restore(as.Breached)
		a.lastStop = market.Price(as.LastStop)
		a.orders = map[string]*order{}
		a.expiring = nil
		for _, o := range as.Orders {
			a.orders[o.ID] = &order{id: o.ID, strategy: o.Strategy, role: limits.Role(o.Role), group: o.Group, side: market.Side(o.Side),
				typ: market.OrderType(o.Type), qty: o.Qty, filled: o.Filled, price: market.Price(o.Price), stop: market.Price(o.Stop),
				target: market.Price(o.Target), status: broker.Status(o.Status), expireAt: o.ExpireAt}
			if o.ExpireAt > 0 {
				a.expiring = append(a.expiring, a.orders[o.ID])
			}
		}
	}
	*deskState = s.Desk
	if s.IDSeq > d.idSeq.Load() {
		d.idSeq.Store(s.IDSeq)
	}
	return nil
}

// bumpID keeps new client ids above every id the journal holds.
func (d *Desk) bumpID(id string) {
	parts := strings.Split(id, ".")
	for i := len(parts) - 1; i >= 1; i-- {
		if n, err := strconv.ParseUint(parts[i], 10, 64); err == nil {
			if n > d.idSeq.Load() {
				d.idSeq.Store(n)
			}
			return
		}
	}
}

// Mismatch is a difference between the desk's books and the venue's.
type Mismatch struct {
	Account string
	What    string
}

// Reconcile compares the recovered books with the venue: positions, and
// the working orders the desk believes in. The venue is the truth: the
// ledger position is corrected to it, orders the venue no longer has are
// closed, and every account that disagreed is faulted, its stop coverage
// repaired, and the risk manager alerted.
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
		open, err := d.br.OpenOrders(ctx, a.id)
		if err != nil {
			return out, fmt.Errorf("supervisor: reconcile %s: open orders: %w", a.id, err)
		}
		live := map[string]broker.OrderState{}
		for _, o := range open {
			live[o.ClientID] = o
		}
		var bad []string
		d.mu.Lock()
		vp := venue[a.id]
		if vp.Qty != a.ledger.Position() {
			bad = append(bad, fmt.Sprintf("position: journal %d, venue %d", a.ledger.Position(), vp.Qty))
		}
		for id, o := range a.orders {
			if o.done() || (o.qty == 0 && o.status == broker.Pending) {
				continue
			}
			if _, ok := live[id]; !ok {
				// The venue finished it while the desk was away (a fired stop,
				// a cancel-on-disconnect): close it here; the position check
				// above catches any fill we did not see.
				o.status, o.qty = broker.Cancelled, 0
			}
		}
		for id, vo := range live {
			o := a.orders[id]
			if o == nil {
				bad = append(bad, "unknown order at the venue: "+id)
				role := limits.RoleOther
				if vo.Role == broker.StopLeg || vo.Type == market.StopOrder {
					role = limits.RoleStop
				}
				a.orders[id] = &order{id: id, strategy: "desk", role: role, side: vo.Side, typ: vo.Type, qty: vo.Qty - vo.FilledQty,
					price: venuePrice(vo), status: vo.Status}
				continue
			}
			o.qty = vo.Qty - vo.FilledQty
			o.status = vo.Status
			if vo.Type == market.StopOrder {
				o.price = vo.StopPrice
			}
		}
		a.dirty = true
		d.mu.Unlock()
		if len(bad) == 0 {
			continue
		}
		for _, b := range bad {
			out = append(out, Mismatch{Account: a.id, What: b})
		}
		d.journal(ctx, Entry{Kind: "worker", Account: a.id, Market: d.nowNs(), Body: map[string]any{"reconcile_mismatch": bad}})
		d.alerts.Notify(alerts.ReconcileMismatch(d.clock.Now(), a.id, alerts.ReconcileFacts{JournalPosition: a.ledger.Position(),
			VenuePosition: vp.Qty, Action: "account faulted, stop coverage repaired; waiting for the risk manager: " + strings.Join(bad, "; ")}))
		d.correctPosition(a, vp)
		a.halted.Store(true)
		if a.m.Can(EvFault) {
			_ = a.m.Fire(EvFault, "reconcile mismatch: "+strings.Join(bad, "; "))
		}
	}
	d.checkCoverage(ctx)
	return out, nil
}

func venuePrice(o broker.OrderState) market.Price {
	if o.Type == market.StopOrder || o.Type == market.StopLimitOrder && o.Price == 0 {
		return o.StopPrice
	}
	return o.Price
}

// correctPosition makes the ledger agree with the venue's position (the
// venue is the truth), booking the difference at the venue's average.
func (d *Desk) correctPosition(a *account, vp broker.Position) {
	d.mu.Lock()
	defer d.mu.Unlock()
	diff := vp.Qty - a.ledger.Position()
	if diff == 0 {
		return
	}
	side := market.Buy
	if diff < 0 {
		side, diff = market.Sell, -diff
	}
	px := vp.AvgPrice
	if px <= 0 {
		px = d.last
	}
	if px <= 0 {
		px = a.ledger.MarkPrice()
	}
	if px <= 0 {
		return
	}
	_ = a.ledger.ApplyFill(accounts.Fill{Time: d.nowNs(), Side: side, Qty: diff, Price: px, Strategy: "reconcile", ClientID: "reconcile"})
}

func mustDec(s string) decimal.Decimal {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero
	}
	return d
}
