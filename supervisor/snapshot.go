package supervisor

// snapshot.go: the desk's checkpoint record — everything recovery needs so
// that the latest snapshot plus the journal's tail folds to the same desk
// as the whole log — and the order form it and reconciliation records use.

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/deskguard/deskguard/accounts"
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
	// Kills in force that the states alone do not say (recovery's fold).
	DeskKill bool              `json:"desk_kill,omitempty"`
	Owed     map[string]string `json:"owed,omitempty"` // account → trigger
	// The desk-wide lockout in force, and the equities the desk's
	// allowance restarted from at an unlock of the desk this session.
	DeskLocked bool             `json:"desk_locked,omitempty"`
	DeskStarts map[string]int64 `json:"desk_starts,omitempty"`
	// DeskLevel is the desk ladder's rung (absent in older snapshots: normal).
	DeskLevel limits.Level `json:"desk_level,omitempty"`
	// FirmReduceOnly is the firm link's reduce-only hook (SetFirmReduceOnly).
	FirmReduceOnly bool `json:"firm_reduce_only,omitempty"`
}

type acctSnap struct {
	State    string              `json:"state"`
	Breached bool                `json:"breached"`
	LastStop int64               `json:"last_stop"`
	Orders   []journal.DeskOrder `json:"orders"`
	// Rules is every risk rule's state (absent in older snapshots: the
	// drawdown monitor comes back from Breached alone).
	Rules *limits.RulesState `json:"rules,omitempty"`
}

// Snapshot journals a checkpoint of the whole desk.
func (d *Desk) Snapshot(ctx context.Context) error {
	s := deskSnapshot{Accounts: map[string]acctSnap{}, Desk: d.m.State(), IDSeq: d.idSeq.Load(), DeskLocked: d.deskLocked.Load(),
		DeskLevel: limits.Level(d.deskLevel.Load()), FirmReduceOnly: d.firmReduce.Load()}
	d.tick.mu.Lock()
	s.DeskStarts = d.tick.deskStarts
	d.tick.mu.Unlock()
	for _, a := range d.accts {
		a.mu.Lock()
		s.Ledgers = append(s.Ledgers, a.ledger.State())
		rules := a.rules.State()
		as := acctSnap{State: a.m.State(), Breached: a.rules.Drawdown.Breached(), LastStop: int64(a.lastStop), Rules: &rules}
		for _, o := range a.orders {
			if o.done() {
				continue
			}
			as.Orders = append(as.Orders, snapOf(o))
		}
		a.mu.Unlock()
		s.Accounts[a.id] = as
		if a.liquidating.Load() {
			// A liquidation not yet confirmed: owed again after a crash, with
			// a trigger of the effect the account's state shows.
			if s.Owed == nil {
				s.Owed = map[string]string{}
			}
			s.Owed[a.id] = string(triggerOfState(as.State))
		}
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("supervisor: snapshot: %w", err)
	}
	rec, err := journal.NewSnapshot(d.nowNs(), raw)
	if err != nil {
		return fmt.Errorf("supervisor: snapshot: %w", err)
	}
	_, err = d.j.Append(context.WithoutCancel(ctx), rec)
	return err
}

// triggerOfState is a trigger whose effect leaves an account in state st
// (a snapshot's owed liquidation).
func triggerOfState(st string) Trigger {
	switch st {
	case AcctLockedOut:
		return TriggerLockout
	case AcctFaulted:
		return TriggerFault
	case AcctHalting, AcctHalted:
		return "snapshot"
	}
	return TriggerSchedule
}

func snapOf(o *order) journal.DeskOrder {
	return journal.DeskOrder{ID: o.id, Strategy: o.strategy, Role: uint8(o.role), Group: o.group, Side: int8(o.side), Type: uint8(o.typ),
		Qty: o.qty, Filled: o.filled, Price: int64(o.price), Stop: int64(o.stop), Target: int64(o.target), Status: uint8(o.status),
		ExpireAt: o.expireAt}
}

func orderOf(o journal.DeskOrder) *order {
	return &order{id: o.ID, strategy: o.Strategy, role: limits.Role(o.Role), group: o.Group, side: market.Side(o.Side),
		typ: market.OrderType(o.Type), qty: o.Qty, filled: o.Filled, price: market.Price(o.Price), stop: market.Price(o.Stop),
		target: market.Price(o.Target), status: broker.Status(o.Status), expireAt: o.ExpireAt}
}
