package supervisor

// recover.go: snapshots and recovery from the journal (invariant 7),
// the risk rules' state with it (the snapshot's, then each risk record's).
// Recovery folds the journal from its latest snapshot with the same code
// the live path uses (applyEvent, reserve), and folds the kills: a kill
// that was journaled is in force when the desk starts again — halting or
// halted, locked out or faulted as its trigger says, never trading — and
// Start sends the liquidations it may not have sent (resumeKills).
// Reconciliation with the venue, which runs next, is reconcile.go.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// Recovered says what recovery found.
type Recovered struct {
	From      uint64   // first record folded (0: empty journal)
	Records   int      // records folded
	DeskState string   // the desk's state as recovery leaves it (a kill in force: halting or halted)
	LockedOut []string // accounts still locked out
	// DeskLockedOut: the desk-wide drawdown lockout is still in force
	// (a desk_drawdown kill this session, no unlock of the desk since).
	DeskLockedOut bool
	// Kills lists the accounts with a kill in force whose liquidation
	// Start sends again (it may not have reached the venue before the
	// crash), with the kill's trigger.
	Kills map[string]string
	// OpenIntents counts the entries (Enter and Add intents the gate
	// allowed) with no outcome in the journal: no venue event, no refusal.
	// Start's reconciliation matches each by client order id against the
	// venue's working orders: found, it is booked as the venue has it; not
	// found, it never reached the venue and is closed (journaled).
	OpenIntents int
}

// killFold is recovery's view of the kills: which are still in force.
type killFold struct {
	desk bool               // a desk kill not re-armed
	owed map[string]Trigger // account → trigger of a kill in force
	// deskLocked: the desk-wide drawdown lockout is in force; deskStarts
	// the equities its allowance restarted from at an unlock of the desk
	// this session (nil: the session's start equities).
	deskLocked bool
	deskStarts map[string]int64
}

// kill folds a kill record.
func (f *killFold) kill(k journal.Kill) {
	t := Trigger(k.Trigger)
	if k.Scope == "desk" && t.effect() == effHalt {
		f.desk = true
	}
	if t.locksDesk() {
		f.deskLocked = true
	}
	if !t.owes() {
		return
	}
	for _, id := range k.Accounts {
		if old, ok := f.owed[id]; ok && t.effect() == effFlat && old.effect() != effFlat {
			// A flatten only (a flat-by, an external order on a locked-out
			// account) does not replace the lockout, fault or halt in
			// force: that one's lifting decides.
			continue
		}
		f.owed[id] = t
	}
}

// lift drops the kills on id that ev (a journaled transition's event) ends.
func (f *killFold) lift(id, ev, to string) {
	t, ok := f.owed[id]
	if !ok {
		return
	}
	switch t.effect() {
	case effHalt:
		// Flat at the venue, or re-armed (or any act that returned it to
		// trading, which a kill in force refuses).
		if to == AcctHalted || ev == EvRearm || ev == EvUnlock || ev == EvClear {
			delete(f.owed, id)
		}
	case effLockout:
		if ev == EvUnlock {
			delete(f.owed, id)
		}
	case effFault:
		if ev == EvClear {
			delete(f.owed, id)
		}
	case effFlat:
		if to == AcctIdle || to == AcctTrading || to == AcctHalted {
			delete(f.owed, id)
		}
	}
}

// Recover rebuilds the desk from the journal: ledgers, orders, account and
// desk states, lockouts (the desk's too), the risk rules' states and the
// desk ladder, kills in force. Call before Start; j is the journal the desk
// appends to.
func (d *Desk) Recover(j *journal.Journal) (Recovered, error) {
	kills := &killFold{owed: map[string]Trigger{}}
	rec, err := d.recoverBooks(j, kills)
	if err != nil {
		return rec, err
	}
	rec.DeskLockedOut = kills.deskLocked
	d.recovered = &rec
	return rec, d.applyDeskLadder(kills)
}

// recoverBooks is Recover's fold, with every account's books held.
func (d *Desk) recoverBooks(j *journal.Journal, kills *killFold) (Recovered, error) {
	var rec Recovered
	deskState := ""
	deskLevel := limits.LevelNormal
	states := map[string]string{}
	// Every account's books (before Start nothing else runs), in desk order.
	for _, a := range d.accts {
		a.mu.Lock()
		defer a.mu.Unlock()
	}
	d.ev.mu.Lock()
	defer d.ev.mu.Unlock()
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
			deskLevel = s.DeskLevel
			d.firmReduce.Store(s.FirmReduceOnly)
			return d.restoreSnapshot(s, states, &deskState, kills)
		case journal.KindSessionReset:
			// A new session: the books start again from the journaled start equity.
			sr, err := r.SessionReset()
			if err != nil {
				return err
			}
			if sr.Why == "desk start" {
				return nil
			}
			for id, eq := range sr.Accounts {
				if x := d.byID[id]; x != nil {
					// As sessionReset: the rules see the closing balance (the
					// new session's start), then start the session.
					cash := mustDec(eq)
					x.rules.SessionEnd(accounts.Cents(cash))
					_ = x.ledger.ResetSession(cash)
					x.rules.SessionReset(x.ledger.StartCents())
				}
			}
			deskLevel = limits.LevelNormal
			for id, t := range kills.owed {
				if t.effect() == effFlat {
					delete(kills.owed, id) // a flat-by kill belongs to its session
				}
			}
			kills.deskStarts = nil // the new session's line is from its start equities
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
				a.reserve(&in)
				a.nOrders++
				// As the intent path counted it when the gate allowed it
				// (daily_order_limit, duplicate_order).
				a.rules.Activity.RecordSent(in.Time, &in)
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
				d.ev.seen[ev.VenueID] = true
			}
			d.bumpID(ev.ClientID)
			a.applyEvent(ev, d.log)
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
				kills.lift(t.ID, t.Event, t.To)
			}
		case journal.KindKill:
			k, err := r.Kill()
			if err != nil {
				return err
			}
			kills.kill(k)
			// The kill's own effect, in case its transitions never landed.
			for _, id := range k.Accounts {
				switch Trigger(k.Trigger).effect() {
				case effHalt:
					if st := states[id]; st == "" || st == AcctIdle || st == AcctTrading {
						states[id] = AcctHalting
					}
				case effFault:
					states[id] = AcctFaulted
				}
			}
		case journal.KindLockout:
			if a != nil {
				lo, err := r.Lockout()
				if err != nil {
					return err
				}
				// Which line: the day's drawdown (older records say nothing),
				// the trailing or the weekly (the rules' own record, journaled
				// after the lockout's, may not have landed).
				trig := Trigger(lo.Why)
				switch trig {
				case TriggerTrailing, TriggerWeekly:
					a.breachRule(trig, r.Market)
				default:
					trig = TriggerLockout
					a.rules.Drawdown.Restore(true)
				}
				states[a.id] = AcctLockedOut
				kills.owed[a.id] = trig
			}
		case journal.KindRearm:
			kills.desk = false
		case journal.KindUnlock:
			if a != nil {
				// As Unlock did (a locked-out account is flat); the rules'
				// record that follows it says the same.
				eq := a.ledger.EquityCents()
				a.rules.Drawdown.Reset(eq)
				if w := a.rules.Weekly; w != nil && w.Breached() {
					w.Unlock(eq)
				}
				return nil
			}
			if r.Account != "" {
				return nil
			}
			// The unlock of the desk: its allowance from the equities
			// journaled, the ladder back on its first rung.
			u, err := r.Authorization()
			if err != nil {
				return err
			}
			kills.deskLocked, kills.deskStarts = false, nil
			deskLevel = limits.LevelNormal
			if len(u.Equity) > 0 {
				kills.deskStarts = map[string]int64{}
				for id, eq := range u.Equity {
					kills.deskStarts[id] = accounts.Cents(mustDec(eq))
				}
			}
		case journal.KindRisk:
			rk, err := r.Risk()
			if err != nil {
				return err
			}
			if r.Account == "" {
				if rk.Event == riskFirm {
					// The firm link's hook, not a ladder rung: restored as it
					// was (the restarted link starts from it, FirmReduceOnly).
					on := rk.Level != limits.LevelNormal.String()
					d.firmReduce.Store(on)
					d.firmReduceAt.Store(0)
					if on {
						d.firmReduceAt.Store(r.Market)
					}
					return nil
				}
				var l limits.Level
				if err := l.UnmarshalText([]byte(rk.Level)); err == nil {
					deskLevel = l
				}
				return nil
			}
			if a != nil {
				if err := a.restoreRisk(rk); err != nil {
					return fmt.Errorf("recover: seq %d: %w", r.Seq, err)
				}
			}
		case journal.KindStopRepair:
			// A repair stop is journaled before it is sent, with its client
			// id: rebuilt here as the stop it is (its venue events alone would
			// make it an untyped order of the desk's).
			if a == nil || r.ClientID == "" {
				return nil
			}
			sr, err := r.StopRepair()
			if err != nil {
				return err
			}
			d.bumpID(r.ClientID)
			if sr.Repair == limits.RepairPlaceStop.String() && a.orders[r.ClientID] == nil {
				a.orders[r.ClientID] = &order{id: r.ClientID, strategy: "desk", role: limits.RoleStop, side: sr.Side,
					typ: market.StopOrder, qty: sr.Qty, price: sr.Stop}
			}
		case journal.KindReconcile:
			if a == nil {
				return nil
			}
			rr, err := r.Reconcile()
			if err != nil {
				return err
			}
			a.replayReconcile(rr, d.log)
		case journal.KindClear:
			if a != nil && states[a.id] == AcctFaulted {
				states[a.id] = AcctIdle // as the clear transition that follows it says
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
				d.ev.seen[ev.VenueID] = true
			}
		}
		return nil
	}); err != nil {
		return rec, fmt.Errorf("supervisor: recover: venue ids: %w", err)
	}
	// A desk kill in force whose transitions never landed.
	if kills.desk && deskState != DeskHalting && deskState != DeskHalted {
		deskState = DeskHalting
	}
	rec.From = from
	rec.DeskState = deskState
	for _, a := range d.accts {
		for _, o := range a.orders {
			if o.role == limits.RoleEntry && o.status == 0 && o.qty > 0 {
				rec.OpenIntents++
			}
		}
	}
	for _, a := range d.accts {
		if t, ok := kills.owed[a.id]; ok {
			a.owed = t
			if rec.Kills == nil {
				rec.Kills = map[string]string{}
			}
			rec.Kills[a.id] = string(t)
			a.liquidating.Store(true)
			if t.effect() != effFlat {
				a.halted.Store(true)
			}
		}
		st, ok := states[a.id]
		if !ok {
			continue
		}
		// Machines restart in their recovered state. A kill or lockout in
		// progress stays in force: halting accounts are liquidated again on Start.
		a.m = NewAccountMachine(a.id, st, d.onTransition, d.onIllegal)
		switch st {
		case AcctLockedOut:
			a.halted.Store(true)
			if a.lockedByRule(d.nowNs()) == "" {
				a.rules.Drawdown.Restore(true)
			}
			rec.LockedOut = append(rec.LockedOut, a.id)
		case AcctHalting, AcctHalted, AcctFaulted:
			a.halted.Store(true)
		}
	}
	// The desk ladder over the recovered sessions' start equities, on the
	// rung it had reached; every account's working orders published for
	// the others' self-match checks.
	starts := make([]int64, len(d.accts))
	for i, a := range d.accts {
		starts[i] = a.ledger.StartCents()
		a.publish()
		if t := a.rules.Trailing; t != nil {
			a.trailLine = t.LineCents()
		}
	}
	d.pendingLadder = &deskLadderRestore{starts: starts, level: deskLevel}
	d.recovered = &rec
	return rec, nil
}

// resumeKills (Start, after reconciliation) puts the kills recovery found
// in force back in force: the desk halts again, and every account whose
// kill may not have reached the venue — or that is still halting — is
// liquidated again through the kill's own liquidation step (a flat
// account's liquidation does nothing at the venue).
func (d *Desk) resumeKills(ctx context.Context) {
	switch d.recovered.DeskState {
	case DeskHalting, DeskHalted:
		_ = d.m.Fire(EvHalt, "recovered: kill in force")
	}
	var scope []*account
	for _, a := range d.accts {
		if a.owed != "" || a.m.State() == AcctHalting {
			a.liquidating.Store(true)
			scope = append(scope, a)
		}
	}
	if len(scope) > 0 {
		errs, _ := d.liquidateAll(context.WithoutCancel(ctx), scope, "recovered_kill")
		for i, a := range scope {
			if errs[i] != nil {
				d.log.Error("recovered kill: liquidate failed", "account", a.id, "trigger", a.owed, "err", errs[i])
			} else {
				d.log.Warn("recovered kill: liquidated again", "account", a.id, "trigger", a.owed)
			}
			a.owed = ""
		}
	}
	for _, a := range d.accts {
		d.checkHalted(a)
	}
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

func mustDec(s string) decimal.Decimal {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero
	}
	return d
}
