// helpers_test.go: shared test helpers — a fixed clock, a temp journal, and
// a scripted desk session (intents, fills, kills, snapshots with ledgers).

package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
	"github.com/shopspring/decimal"
)

var t0 = time.Date(2026, 3, 10, 14, 30, 0, 0, time.UTC)

func openTemp(t testing.TB, opt Options) (*Journal, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "desk.journal")
	if opt.Clock == nil {
		opt.Clock = market.NewReplayClock(t0)
	}
	j, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	return j, path
}

func mustAppend(t testing.TB, j *Journal, r Record) uint64 {
	t.Helper()
	seq, err := j.Append(context.Background(), r)
	if err != nil {
		t.Fatalf("append %s: %v", r.Kind, err)
	}
	return seq
}

func enter(acct, id string, side market.Side, qty int64, entry market.Price, tm int64) intent.Intent {
	return intent.Intent{ID: id, Kind: intent.Enter, Account: acct, Strategy: "orb", Time: tm, Side: side, Qty: qty,
		EntryType: market.LimitOrder, Entry: entry, Stop: entry - market.Price(side.Sign())*8, Target: entry + market.Price(side.Sign())*16}
}

func fill(acct, id, group string, role broker.Role, side market.Side, qty int64, px market.Price, tm int64) broker.Event {
	return broker.Event{Time: tm, Account: acct, ClientID: id, Kind: broker.FilledEv, Side: side, FillQty: qty, FillPrice: px, Role: role, GroupID: group}
}

// session writes a scripted session to j: for each of n rounds and each
// account, an intent, its acceptance, its entry fill and its stop or target
// fill; a snapshot (with ledgers recomputed by accounts.Ledger) every
// snapEvery rounds. It returns the ledgers it kept.
func session(t testing.TB, j *Journal, accts []string, n, snapEvery int) map[string]*accounts.Ledger {
	t.Helper()
	led := map[string]*accounts.Ledger{}
	start := map[string]string{}
	for _, a := range accts {
		l, err := accounts.NewLedger(accounts.Config{ID: a, StartEquity: decimal.NewFromInt(50000)})
		if err != nil {
			t.Fatal(err)
		}
		led[a] = l
		start[a] = "50000.00"
	}
	ns := t0.UnixNano()
	mustAppend(t, j, NewSessionReset(ns, SessionReset{Session: "2026-03-10", Why: "test", Accounts: start}))
	apply := func(ev broker.Event) {
		mustAppend(t, j, NewBrokerEvent(ev))
		if err := led[ev.Account].ApplyFill(accounts.Fill{Time: ev.Time, Side: ev.Side, Qty: ev.FillQty, Price: ev.FillPrice, ClientID: ev.ClientID}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		for k, a := range accts {
			ns += int64(time.Second)
			side := market.Buy
			if (i+k)%2 == 1 {
				side = market.Sell
			}
			id := fmt.Sprintf("%s-%d", a, i)
			px := market.Price(20600 + i%7)
			in := enter(a, id, side, 2, px, ns)
			mustAppend(t, j, NewIntent(in, &Decision{Allowed: true}))
			mustAppend(t, j, NewBrokerEvent(broker.Event{Time: ns, Account: a, ClientID: id, Kind: broker.Accepted, Side: side, LeavesQty: 2, Role: broker.EntryLeg, GroupID: id}))
			apply(fill(a, id, id, broker.EntryLeg, side, 2, px, ns+1))
			stop, target := LegIDs(id)
			if i%3 == 0 {
				apply(fill(a, stop, id, broker.StopLeg, side.Opposite(), 2, in.Stop, ns+2))
			} else {
				apply(fill(a, target, id, broker.TargetLeg, side.Opposite(), 1, in.Target, ns+2))
				apply(fill(a, target, id, broker.TargetLeg, side.Opposite(), 1, in.Target, ns+3))
			}
		}
		if i == n/2 {
			mustAppend(t, j, NewKill(ns, Kill{Scope: accts[0], Trigger: "drawdown", Who: "deskguard", Accounts: accts[:1]}))
			mustAppend(t, j, NewLockout(accts[0], ns, Lockout{Equity: "49200.00", Line: "49250.00", Start: "50000.00"}))
			mustAppend(t, j, NewUnlock(accts[0], ns, "risk", "test"))
		}
		if snapEvery > 0 && (i+1)%snapEvery == 0 {
			var ls struct {
				Ledgers []accounts.LedgerState `json:"ledgers"`
			}
			for _, a := range accts {
				ls.Ledgers = append(ls.Ledgers, led[a].State())
			}
			raw, err := json.Marshal(ls)
			if err != nil {
				t.Fatal(err)
			}
			r, err := NewSnapshot(ns, raw)
			if err != nil {
				t.Fatal(err)
			}
			mustAppend(t, j, r)
		}
	}
	return led
}

func jsonMarshal(v any) ([]byte, error)   { return json.Marshal(v) }
func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
