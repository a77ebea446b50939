package supervisor

// batch_test.go: broker events that arrive together (OnBrokerEvents, one
// journal commit) leave the desk and its journal exactly as the same
// events one by one (OnBrokerEvent), replays recognised by venue id included.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

func TestBrokerEventBatchEqualsOneByOne(t *testing.T) {
	const acct = "ORB1"
	t0 := int64(1_710_250_200_000_000_000)
	evs := []broker.Event{
		{Kind: broker.Accepted, Account: acct, ClientID: "x1", Side: market.Buy, LeavesQty: 2, Time: t0, VenueID: "v1"},
		{Kind: broker.PartiallyFilled, Account: acct, ClientID: "x1", Side: market.Buy, FillQty: 1, LeavesQty: 1,
			FillPrice: market.MustPrice("5100.00"), Time: t0 + 1, VenueID: "v2"},
		{Kind: broker.PartiallyFilled, Account: acct, ClientID: "x1", Side: market.Buy, FillQty: 1, LeavesQty: 1,
			FillPrice: market.MustPrice("5100.00"), Time: t0 + 1, VenueID: "v2"}, // a replay: booked once
		{Kind: broker.FilledEv, Account: acct, ClientID: "x1", Side: market.Buy, FillQty: 1,
			FillPrice: market.MustPrice("5100.50"), Time: t0 + 2, VenueID: "v3"},
		{Kind: broker.Accepted, Account: acct, ClientID: "x2", Side: market.Sell, LeavesQty: 1, Time: t0 + 3, VenueID: "v4"},
		{Kind: broker.FilledEv, Account: acct, ClientID: "x2", Side: market.Sell, FillQty: 1,
			FillPrice: market.MustPrice("5102.00"), Time: t0 + 4, VenueID: "v5"},
	}
	run := func(batch bool) ([]string, string, int64) {
		r := newRig(t, rigOpt{})
		ctx := context.Background()
		if err := r.d.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if batch {
			r.d.OnBrokerEvents(ctx, evs)
		} else {
			for _, ev := range evs {
				r.d.OnBrokerEvent(ctx, ev)
			}
		}
		var kinds []string
		if err := r.j.Iterate(1, func(rec journal.Record) error {
			if rec.Kind == journal.KindBrokerEvent {
				ev, err := rec.BrokerEvent()
				if err != nil {
					return err
				}
				kinds = append(kinds, ev.VenueID)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, a := range r.d.Status(ctx).Accounts {
			if a.ID == acct {
				return kinds, a.Realized, a.Position
			}
		}
		t.Fatal("no account")
		return nil, "", 0
	}
	k1, real1, pos1 := run(false)
	k2, real2, pos2 := run(true)
	if len(k1) != 5 || len(k2) != 5 {
		t.Fatalf("journaled events: one by one %v, batched %v (want 5 each: the replay skipped)", k1, k2)
	}
	for i := range k1 {
		if k1[i] != k2[i] {
			t.Fatalf("journal order differs: %v vs %v", k1, k2)
		}
	}
	if real1 != real2 || pos1 != pos2 || pos1 != 1 {
		t.Fatalf("books differ: one by one %s/%d, batched %s/%d", real1, pos1, real2, pos2)
	}
}

// TestBatchedFlatFillsHaltEveryAccountFirst: a desk kill's liquidation
// fills that arrive together are booked before any is acted on, so the
// desk sees every account flat while handling the batch's first event. It
// must not announce halted (and so accept a re-arm) while an account it
// holds flat is still halting: a re-arm skips an account not yet halted,
// and that account's own halt, arriving after, leaves it halted on a
// re-armed desk (TestDeskKillFlat20 in broker/tradovate found it).
func TestBatchedFlatFillsHaltEveryAccountFirst(t *testing.T) {
	r := newRig(t, rigOpt{Accounts: killSpecs(3)})
	ctx := ctxT(t, 30*time.Second)
	tm := r.inPosition(ctx)
	var atHalt []string
	r.d.opt.OnStateChange = func(st string, _ bool) {
		if st == DeskHalted && atHalt == nil {
			for _, a := range r.d.accts {
				atHalt = append(atHalt, a.id+"="+a.m.State())
			}
		}
	}
	if _, err := r.d.Kill(ctx, DeskScope, TriggerConsole, "tester"); err != nil {
		t.Fatal(err)
	}
	if err := r.d.drainSync(ctx, r.rec); err != nil {
		t.Fatal(err)
	}
	if st := r.d.m.State(); st != DeskHalting {
		t.Fatalf("desk %s before the liquidations fill, want halting", st)
	}
	// The liquidations fill at the next trade; their fills (and the
	// brackets' cancels) reach the desk as one batch.
	tr := market.Trade{Time: tm + int64(time.Second), Price: pts(5000.25), Size: 10, Aggressor: market.Sell}
	r.clock.Advance(tr.Time)
	r.rec.OnTrade(tr)
	evs := r.rec.Drain()
	accts := map[string]bool{}
	for _, ev := range evs {
		if ev.Kind == broker.FilledEv {
			accts[ev.Account] = true
		}
	}
	if len(accts) != 3 {
		t.Fatalf("the batch fills %d accounts, want 3: %+v", len(accts), evs)
	}
	r.d.OnBrokerEvents(ctx, evs)
	if st := r.d.m.State(); st != DeskHalted {
		t.Fatalf("desk %s after the batch, want halted", st)
	}
	for _, s := range atHalt {
		if !strings.HasSuffix(s, "="+AcctHalted) {
			t.Fatalf("the desk announced halted with accounts %v: every account must be halted first", atHalt)
		}
	}
	if len(atHalt) != 3 {
		t.Fatalf("desk halt seen with %v", atHalt)
	}
	if err := r.d.Rearm(ctx, "tester", "after the test kill"); err != nil {
		t.Fatal(err)
	}
	for _, a := range r.d.accts {
		if st := a.m.State(); st == AcctHalted || st == AcctHalting {
			t.Errorf("%s %s after the re-arm", a.id, st)
		}
	}
}
