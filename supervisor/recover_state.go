package supervisor

// recover_state.go: what recovery puts back beside the books — the desk
// ladder and the desk lockout (applyDeskLadder, once the accounts' books are
// let go) and a snapshot's accounts, orders, rules and kills
// (restoreSnapshot). The fold itself is recover.go.

import (
	"fmt"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// deskLadderRestore is the desk ladder as recovery found it: the
// sessions' start equities and the rung.
type deskLadderRestore struct {
	starts []int64
	level  limits.Level
}

// applyDeskLadder sets the desk ladder — the desk-wide limit — to what
// recovery found, once the accounts' books are let go (lock order:
// d.tick.mu before any a.mu): the line from the sessions' start equities
// (or those an unlock of the desk restarted it from, f.deskStarts), the
// rung it had reached, and the desk lockout in force or not (locked out:
// the ladder stays on its last rung, so no second kill for the same
// breach).
func (d *Desk) applyDeskLadder(f *killFold) error {
	p := d.pendingLadder
	if p == nil {
		return nil
	}
	d.pendingLadder = nil
	starts := make(map[string]int64, len(d.accts))
	for i, a := range d.accts {
		starts[a.id] = p.starts[i]
		if s, ok := f.deskStarts[a.id]; ok {
			starts[a.id] = s
		}
	}
	level := p.level
	if f.deskLocked {
		level = limits.LevelLockedOut
	}
	d.tick.mu.Lock()
	defer d.tick.mu.Unlock()
	d.tick.deskMon.Reset(starts)
	d.tick.deskStarts = f.deskStarts
	if err := d.tick.deskMon.RestoreLevel(level); err != nil {
		return fmt.Errorf("supervisor: recover: %w", err)
	}
	d.deskLevel.Store(uint32(level))
	d.deskLocked.Store(f.deskLocked)
	return nil
}

func (d *Desk) restoreSnapshot(s deskSnapshot, states map[string]string, deskState *string, kills *killFold) error {
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
		a.rules.Drawdown.Reset(l.StartCents())
	}
	for id, as := range s.Accounts {
		a := d.byID[id]
		if a == nil {
			continue
		}
		states[id] = as.State
		if as.Rules != nil {
			if err := a.rules.RestoreState(*as.Rules); err != nil {
				return fmt.Errorf("recover: snapshot: account %s: %w", id, err)
			}
		} else {
			a.rules.Drawdown.Restore(as.Breached)
		}
		a.lastStop = market.Price(as.LastStop)
		a.orders = map[string]*order{}
		a.expiring = nil
		for _, o := range as.Orders {
			a.orders[o.ID] = orderOf(o)
			if o.Venue != "" {
				a.byVenue[o.Venue] = o.ID
			}
			if o.ExpireAt > 0 {
				a.expiring = append(a.expiring, a.orders[o.ID])
			}
		}
	}
	*deskState = s.Desk
	kills.desk = s.DeskKill
	kills.deskLocked, kills.deskStarts = s.DeskLocked, s.DeskStarts
	kills.owed = map[string]Trigger{}
	for id, t := range s.Owed {
		kills.owed[id] = Trigger(t)
	}
	if s.IDSeq > d.idSeq.Load() {
		d.idSeq.Store(s.IDSeq)
	}
	return nil
}
