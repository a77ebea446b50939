// Package ledgercheck is the journal.Checker that `deskguard journal
// verify` hands to journal.Verify: every account's ledger recomputed from
// the journaled fills with accounts.Ledger and compared with each snapshot
// record that carries ledgers (LedgerSnapshot). It lives apart from the
// journal so that the journal knows nothing of accounts.
//
// It may touch journal, accounts, execution and shopspring/decimal.
package ledgercheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/execution"
	"github.com/deskguard/deskguard/journal"
)

// LedgerSnapshot is the part of a snapshot record's JSON that Verify
// checks: {"ledgers": [accounts.LedgerState, ...], ...anything else}.
type LedgerSnapshot struct {
	Ledgers []accounts.LedgerState `json:"ledgers"`
}

// SnapshotLedgers returns the ledgers of a snapshot record (none when the
// snapshot has no "ledgers" key).
func SnapshotLedgers(r journal.Record) ([]accounts.LedgerState, error) {
	raw, err := r.Snapshot()
	if err != nil {
		return nil, err
	}
	var s LedgerSnapshot
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("journal: seq %d: snapshot ledgers: %w", r.Seq, err)
	}
	return s.Ledgers, nil
}

type ledgerAcct struct {
	l       *accounts.Ledger // nil before the account's first snapshot
	exact   bool             // realized and fees are known (started from a snapshot)
	pending []accounts.Fill  // fills before the first snapshot
	// Before the first snapshot too: the busts and corrections among them
	// (adj, at the indexes adjusts of pending) and a carried position.
	adjusts []int
	adj     []accounts.Adjustment
	carried []journal.Correction
}

// Checker recomputes ledgers from fills, trade busts and corrections
// (booked as the desk books them: the session rebooked), and the fills and
// carried positions reconciliations booked; a session_reset starts a new
// session, except a restart's ("desk start"), which starts none. From an account's first
// snapshot on, the recomputation starts from that snapshot and every later
// snapshot must agree exactly (position, cost, lots, realized ticks, fees).
// Fills before the first snapshot are checked for position, cost and lots
// only (the start equity and fee rate are not journaled before it).
type Checker struct {
	accts    map[string]*ledgerAcct
	strategy map[string]string // client id → strategy
	checked  int
}

// New returns a ledger checker.
func New() *Checker {
	return &Checker{accts: map[string]*ledgerAcct{}, strategy: map[string]string{}}
}

func (c *Checker) acct(id string) *ledgerAcct {
	a := c.accts[id]
	if a == nil {
		a = &ledgerAcct{}
		c.accts[id] = a
	}
	return a
}

// Check implements journal.Checker.
func (c *Checker) Check(r journal.Record) []string {
	switch r.Kind {
	case journal.KindIntent:
		if b, err := r.IntentBody(); err == nil && b.Intent.ID != "" {
			c.strategy[b.Intent.ID] = b.Intent.Strategy
		}
	case journal.KindBrokerEvent:
		ev, err := r.BrokerEvent()
		if err != nil {
			return nil
		}
		if ev.Kind == execution.BustedEv || ev.Kind == execution.CorrectedEv {
			return c.adjust(ev)
		}
		if !isFill(ev) {
			return nil
		}
		id := ev.GroupID
		if id == "" {
			id = ev.ClientID
		}
		f := accounts.Fill{Time: ev.Time, Side: ev.Side, Qty: ev.FillQty, Price: ev.FillPrice, ClientID: ev.ClientID, Strategy: c.strategy[id],
			Ref: ev.VenueID}
		return c.book(ev.Account, f)
	case journal.KindReconcile:
		// The fill a reconciliation booked to make the position the venue's
		// (or a carried position), as the desk books it.
		rc, err := r.Reconcile()
		if err != nil || rc.Correction == nil {
			return nil
		}
		k := rc.Correction
		if k.Carried {
			a := c.acct(r.Account)
			if a.l == nil {
				a.carried = append(a.carried, *k)
				return nil
			}
			if err := a.l.Carry(k.Time, k.Side, k.Qty, k.Price); err != nil {
				return []string{fmt.Sprintf("ledger %s: %v", r.Account, err)}
			}
			return nil
		}
		return c.book(r.Account, accounts.Fill{Time: k.Time, Side: k.Side, Qty: k.Qty, Price: k.Price, Strategy: "reconcile", ClientID: "reconcile"})
	case journal.KindSessionReset:
		s, err := r.SessionReset()
		if err != nil {
			return nil
		}
		if s.Why == "desk start" {
			// A (re)start says what the books are; it starts no session:
			// the recovered desk keeps its session's realized PnL and fees
			// (supervisor.Recover and firm's fold skip it too).
			return nil
		}
		var out []string
		for id, a := range c.accts {
			if a.l == nil {
				continue
			}
			start := accounts.Money(a.l.StartCents())
			if v, ok := s.Accounts[id]; ok {
				if d, err := decimal.NewFromString(v); err == nil {
					start = d
				}
			}
			if err := a.l.ResetSession(start); err != nil {
				out = append(out, fmt.Sprintf("ledger %s: session reset: %v", id, err))
			}
		}
		return out
	case journal.KindSnapshot:
		states, err := SnapshotLedgers(r)
		if err != nil {
			return []string{err.Error()}
		}
		var out []string
		for _, st := range states {
			out = append(out, c.compare(st)...)
		}
		return out
	}
	return nil
}

// book books a fill on an account's recomputed ledger (or keeps it until
// the account's first snapshot).
func (c *Checker) book(account string, f accounts.Fill) []string {
	a := c.acct(account)
	if a.l == nil {
		a.pending = append(a.pending, f)
		return nil
	}
	if err := a.l.ApplyFill(f); err != nil {
		return []string{fmt.Sprintf("ledger %s: %v", account, err)}
	}
	return nil
}

// adjust books a trade bust or correction as the desk does
// (accounts.Ledger.Adjust).
func (c *Checker) adjust(ev execution.Event) []string {
	adj := accounts.Adjustment{Ref: ev.Ref, Correct: ev.Kind == execution.CorrectedEv, Time: ev.Time, Side: ev.Side, Qty: ev.FillQty,
		Price: ev.FillPrice, Strategy: c.strategy[ev.GroupID], ClientID: ev.ClientID, VenueID: ev.VenueID}
	a := c.acct(ev.Account)
	if a.l == nil {
		a.adjusts = append(a.adjusts, len(a.pending))
		a.pending = append(a.pending, accounts.Fill{Ref: "\x00adjust", ClientID: ev.ClientID})
		a.adj = append(a.adj, adj)
		return nil
	}
	if _, _, err := a.l.Adjust(adj); err != nil && !errors.Is(err, accounts.ErrUnknownFill) {
		return []string{fmt.Sprintf("ledger %s: %v", ev.Account, err)}
	}
	return nil
}

func (c *Checker) compare(st accounts.LedgerState) []string {
	a := c.acct(st.ID)
	var out []string
	got, exact := a.l, a.exact
	if got == nil && len(a.pending) > 0 {
		base, err := accounts.Restore(accounts.LedgerState{ID: st.ID, FeesRTCents: st.FeesRTCents, StartCents: max(st.StartCents, 1)})
		if err != nil {
			return []string{fmt.Sprintf("ledger %s: %v", st.ID, err)}
		}
		for _, k := range a.carried {
			if err := base.Carry(k.Time, k.Side, k.Qty, k.Price); err != nil {
				out = append(out, fmt.Sprintf("ledger %s: %v", st.ID, err))
			}
		}
		k := 0
		for i, f := range a.pending {
			if k < len(a.adjusts) && a.adjusts[k] == i {
				if _, _, err := base.Adjust(a.adj[k]); err != nil && !errors.Is(err, accounts.ErrUnknownFill) {
					out = append(out, fmt.Sprintf("ledger %s: %v", st.ID, err))
				}
				k++
				continue
			}
			if err := base.ApplyFill(f); err != nil {
				out = append(out, fmt.Sprintf("ledger %s: %v", st.ID, err))
			}
		}
		got = base
	}
	if got != nil {
		c.checked++
		g := got.State()
		diff := func(what string, x, y int64) {
			if x != y {
				out = append(out, fmt.Sprintf("ledger %s: %s recomputed from fills %d, snapshot says %d", st.ID, what, x, y))
			}
		}
		diff("position", g.Position, st.Position)
		diff("cost ticks", g.CostTicks, st.CostTicks)
		diff("lots", int64(len(g.Lots)), int64(len(st.Lots)))
		if len(g.Lots) == len(st.Lots) {
			for i := range g.Lots {
				if g.Lots[i].Qty != st.Lots[i].Qty || g.Lots[i].Price != st.Lots[i].Price {
					out = append(out, fmt.Sprintf("ledger %s: lot %d recomputed %d@%d, snapshot %d@%d", st.ID, i,
						g.Lots[i].Qty, g.Lots[i].Price, st.Lots[i].Qty, st.Lots[i].Price))
				}
			}
		}
		if exact {
			diff("realized ticks", g.RealizedTicks, st.RealizedTicks)
			diff("fees cents", g.FeesCents, st.FeesCents)
		}
	}
	l, err := accounts.Restore(st)
	if err != nil {
		return append(out, fmt.Sprintf("ledger %s: snapshot does not restore: %v", st.ID, err))
	}
	a.l, a.exact, a.pending, a.adjusts, a.adj, a.carried = l, true, nil, nil, nil, nil
	return out
}

// Finish implements journal.Checker: accounts with fills but no snapshot are
// listed nowhere (nothing to compare with), which is not a problem.
func (c *Checker) Finish() []string { return nil }

// Checked is how many ledger comparisons were made.
func (c *Checker) Checked() int { return c.checked }

// Ledgers returns the recomputed ledger states (accounts seen in a
// snapshot), sorted by id.
func (c *Checker) Ledgers() []accounts.LedgerState {
	var out []accounts.LedgerState
	for _, a := range c.accts {
		if a.l != nil {
			out = append(out, a.l.State())
		}
	}
	sort.Slice(out, func(i, k int) bool { return out[i].ID < out[k].ID })
	return out
}

// isFill reports whether ev books quantity (a fill or partial fill).
func isFill(ev execution.Event) bool {
	return (ev.Kind == execution.FilledEv || ev.Kind == execution.PartiallyFilled) && ev.FillQty > 0
}

var _ journal.Checker = (*Checker)(nil)
