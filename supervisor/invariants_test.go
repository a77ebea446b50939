package supervisor

// invariants_test.go: invariant 1 checked over a whole replay from the
// venue's own records, every venue order owned by a journaled record,
// journal.Verify on the result, and recovery from the journal (snapshot +
// tail) rebuilding the ledgers the live desk had. Invariant 7 (durable
// before sent) is writeahead_test.go: a venue order's first journaled event
// is journaled after the send whatever the order, so it is no oracle for it.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/journal/ledgercheck"
	"github.com/deskguard/deskguard/market"
)

func TestReplayInvariantsAndVerify(t *testing.T) {
	r, sum := replayRig(t, rigOpt{Accounts: manySpecs(6, 20000)}, 11, 0.2, 0)
	ctx := ctxT(t, 30*time.Second)
	recs := r.records()
	// Journal seq of each intent / repair by client id, and of each venue event.
	intentSeq := map[string]uint64{}
	var repairs, kills []uint64
	for _, rec := range recs {
		switch rec.Kind {
		case journal.KindIntent:
			if b, err := rec.IntentBody(); err == nil && b.Decision != nil && b.Decision.Allowed {
				if _, ok := intentSeq[rec.ClientID]; !ok {
					intentSeq[rec.ClientID] = rec.Seq
				}
			}
		case "stop_repair":
			repairs = append(repairs, rec.Seq)
		case journal.KindKill, journal.KindLockout, journal.KindTransition:
			kills = append(kills, rec.Seq)
		}
	}
	eventSeq := map[string]uint64{} // first journaled event of each venue order
	for _, rec := range recs {
		if rec.Kind == journal.KindBrokerEvent {
			if _, ok := eventSeq[rec.ClientID]; !ok {
				eventSeq[rec.ClientID] = rec.Seq
			}
		}
	}
	entries, checked := 0, 0
	for _, ev := range r.rec.Log() {
		if ev.Kind != broker.Accepted {
			continue
		}
		checked++
		// Invariant 1: every entry has its stop leg at the venue, stop-market.
		if ev.Role == broker.EntryLeg {
			entries++
			stop, err := r.sim.Order(ev.Account, ev.ClientID+".stop")
			if err != nil || stop.Role != broker.StopLeg || stop.Type != market.StopOrder || stop.TIF != broker.GTC {
				t.Errorf("entry %s: stop leg %+v (%v)", ev.ClientID, stop, err)
			}
		}
		// Every venue order has the journaled record that asked for it.
		seen := eventSeq[ev.ClientID]
		owner := ev.ClientID
		if ev.Role == broker.StopLeg || ev.Role == broker.TargetLeg {
			owner = ev.GroupID
		}
		switch {
		case strings.HasPrefix(ev.ClientID, "liquidate."):
			if !anyBefore(kills, seen) {
				t.Errorf("liquidation %s at journal seq %d with no kill, lockout or transition before it", ev.ClientID, seen)
			}
		case strings.Contains(ev.ClientID, ".repair."):
			if !anyBefore(repairs, seen) {
				t.Errorf("repair %s with no stop_repair record before it", ev.ClientID)
			}
		default:
			if s, ok := intentSeq[owner]; !ok || s >= seen {
				t.Errorf("order %s (venue event journaled at %d): intent at %d (found %v)", ev.ClientID, seen, s, ok)
			}
		}
	}
	if entries == 0 {
		t.Fatal("no entries in the replay: nothing checked")
	}
	t.Logf("%d venue acceptances checked (%d entries); %d accounts, desk net %s", checked, entries, len(sum.Accounts), sum.Desk.Net)
	_ = ctx
	r.close()
	rep, err := journal.Verify(r.path, journal.VerifyOptions{Checkers: []journal.Checker{ledgercheck.New()}, FillOwner: func(ev broker.Event) bool {
		return strings.HasPrefix(ev.ClientID, "liquidate.") || strings.Contains(ev.ClientID, ".repair.")
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("journal verify: %v", rep.Problems)
	}
}

func anyBefore(seqs []uint64, s uint64) bool {
	for _, x := range seqs {
		if x < s {
			return true
		}
	}
	return false
}

// TestRecoveryRebuildsLedgers: half a session, a snapshot, more trades up
// to a moment with a position open; a new desk recovered from the journal
// has the same positions, realized PnL, fees, round trips and working orders.
func TestRecoveryRebuildsLedgers(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	specs := manySpecs(6, 20000)
	r := newRig(t, rigOpt{Accounts: specs})
	ts := session(t, 11, 0.2, 0)
	r.start(ctx, ts[0].Time)
	half := len(ts) / 2
	open := func() bool {
		for _, a := range r.d.accts {
			if a.ledger.Position() != 0 {
				return true
			}
		}
		return false
	}
	i := 0
	for ; i < len(ts); i++ {
		r.stepTrade(ctx, ts[i])
		if i == half {
			if err := r.d.Snapshot(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if i > half+1000 && open() {
			break
		}
	}
	if !open() {
		t.Fatal("no position open after the snapshot: pick another cut")
	}
	before := r.d.Status(ctx)
	path := r.path
	r.close()

	r2 := newRig(t, rigOpt{Accounts: specs, Path: path})
	rec, err := r2.d.Recover(r2.j)
	if err != nil {
		t.Fatal(err)
	}
	if rec.From <= 1 {
		t.Fatalf("recovery started at seq %d: the snapshot was not used", rec.From)
	}
	after := r2.d.Status(ctx)
	for k, a := range before.Accounts {
		b := after.Accounts[k]
		if a.Position != b.Position || a.Realized != b.Realized || a.Fees != b.Fees || a.RoundTrips != b.RoundTrips || a.State != b.State {
			t.Errorf("%s: live pos %d realized %s fees %s trips %d %s; recovered pos %d realized %s fees %s trips %d %s",
				a.ID, a.Position, a.Realized, a.Fees, a.RoundTrips, a.State, b.Position, b.Realized, b.Fees, b.RoundTrips, b.State)
		}
		if len(a.Orders) != len(b.Orders) {
			t.Errorf("%s: live working orders %+v; recovered %+v", a.ID, a.Orders, b.Orders)
			continue
		}
		for j := range a.Orders {
			if a.Orders[j] != b.Orders[j] {
				t.Errorf("%s: order %+v recovered as %+v", a.ID, a.Orders[j], b.Orders[j])
			}
		}
	}
	t.Logf("recovered %d records from seq %d; cut at trade %d of %d", rec.Records, rec.From, i, len(ts))
}

// stepTrade feeds one recorded trade the way Replay does.
func (r *rig) stepTrade(ctx context.Context, tr market.Trade) {
	r.t.Helper()
	r.clock.Advance(tr.Time)
	r.rec.OnTrade(tr)
	if err := r.d.drainSync(ctx, r.rec); err != nil {
		r.t.Fatal(err)
	}
	r.d.OnTrades(ctx, []market.Trade{tr})
	if err := r.d.drainSync(ctx, r.rec); err != nil {
		r.t.Fatal(err)
	}
}
