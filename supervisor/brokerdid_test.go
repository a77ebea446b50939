package supervisor

// brokerdid_test.go: issue 24's desk side that had no desk-level test —
// a trade bust and a trade correction rebook the desk's ledger as the
// venue rebooks its own (over the real protocol), and a protective stop the
// venue did not confirm (broker.ErrUnconfirmed: the venue may hold the
// entry, or the position, without it) flattens the account through the
// kill path, for a bracket's stop and for a repair stop alike. The mutation
// suite's bust-not-rebooked, correction-booked-as-bust,
// unconfirmed-bracket-stop-not-flattened and
// unconfirmed-repair-stop-not-flattened fail here.

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

// TestTradeBustRebooksTheDesk: the venue busts the fill of the desk's
// entry (the exchange cancels the trade): the desk's position goes back to
// flat with the venue's, the bracket's legs — with nothing left to exit —
// are cancelled after the coverage grace, and a run through where the stop
// was fills nothing. Then a corrected fill: the desk books the corrected
// price (not a bust), so the realized PnL after the exit is the venue's.
// The journal verifies with its ledger check and counts both.
func TestTradeBustRebooksTheDesk(t *testing.T) {
	r := newTVRig(t, tvOpt{Venue: venue.Config{Faults: venue.Realistic()}})
	_ = r.d.byID["A"].m.Fire(EvStart, "test") // engines off: the test trades for them
	r.trade(r.px)
	res := r.enter("A", market.Buy, 1)
	if !res.Sent {
		t.Fatalf("entry not sent: %+v", res)
	}
	r.trade(r.px) // the limit a tick above fills
	r.within("long 1 at the desk and the venue", func() bool { return r.position("A") == 1 && r.venuePos("A").Qty == 1 })
	if err := r.v.Bust("A", res.ID); err != nil {
		t.Fatal(err)
	}
	if p := r.venuePos("A"); p.Qty != 0 {
		t.Fatalf("venue position %d after the bust, want 0", p.Qty)
	}
	r.within("the bust booked: the desk flat", func() bool { return r.position("A") == 0 })
	if n := r.alerts.count(alert.KindBroker, "A"); n != 1 {
		t.Errorf("%d broker alerts after the bust, want 1 (trade busted)", n)
	}
	r.within("the bracket's legs cancelled", func() bool { return r.openAtVenue("A") == 0 })
	r.trade(r.px - 20) // through where the stop was
	r.within("still flat", func() bool { return r.venuePos("A").Qty == 0 && r.position("A") == 0 })
	if k := r.kills(); len(k) != 0 {
		t.Fatalf("kills %+v after a bust, want none", k)
	}
	r.sameBooks()

	// A correction: the fill stands at another price.
	r.trade(r.px)
	res2 := r.enter("A", market.Buy, 1)
	if !res2.Sent {
		t.Fatalf("second entry not sent: %+v", res2)
	}
	r.trade(r.px)
	r.within("long 1 again", func() bool { return r.position("A") == 1 && r.venuePos("A").Qty == 1 })
	if err := r.v.Correct("A", res2.ID, r.px-3); err != nil {
		t.Fatal(err)
	}
	r.within("the correction booked", func() bool { return r.alerts.count(alert.KindBroker, "A") == 2 })
	if p := r.position("A"); p != 1 {
		t.Fatalf("desk position %d after a correction, want 1 (a correction is not a bust)", p)
	}
	r.sameBooks()
	// The stop (8 ticks under the entry's limit) gaps: the position closes
	// 3 ticks over the corrected price's loss.
	r.trade(r.px - 10)
	r.within("stopped out", func() bool { return r.position("A") == 0 && r.venuePos("A").Qty == 0 })
	r.sameBooks()
	rep := r.finish()
	if rep.Busts != 2 {
		t.Errorf("journal verify counts %d busts and corrections, want 2", rep.Busts)
	}
}

// unconfirmBroker answers the chosen placements with broker.ErrUnconfirmed
// after the sim has taken them: the worst case of an answer without an
// order id — the venue holds the orders while the desk cannot tell.
type unconfirmBroker struct {
	*recBroker
	bracket atomic.Bool // brackets
	repair  atomic.Bool // the desk's repair stops
}

func (b *unconfirmBroker) SubmitBracket(ctx context.Context, br broker.Bracket) error {
	if err := b.recBroker.SubmitBracket(ctx, br); err != nil {
		return err
	}
	if b.bracket.Load() {
		return fmt.Errorf("test venue: bracket %s answered without order ids: %w", br.Entry.ClientID, broker.ErrUnconfirmed)
	}
	return nil
}

func (b *unconfirmBroker) SubmitOrder(ctx context.Context, o broker.Order) error {
	if err := b.recBroker.SubmitOrder(ctx, o); err != nil {
		return err
	}
	if b.repair.Load() && strings.Contains(o.ClientID, ".repair.") {
		return fmt.Errorf("test venue: order %s answered without an order id: %w", o.ClientID, broker.ErrUnconfirmed)
	}
	return nil
}

// TestUnconfirmedStopFlattens: a bracket whose placement the venue did not
// confirm, and a repair stop likewise, each flatten the account (one kill,
// trigger unconfirmed_stop) whatever the venue holds: afterwards the venue
// has the account flat with nothing working, and a run through the stop
// fills nothing.
func TestUnconfirmedStopFlattens(t *testing.T) {
	for _, tc := range []string{"bracket", "repair stop"} {
		t.Run(tc, func(t *testing.T) {
			ctx := ctxT(t, 20*time.Second)
			ub := &unconfirmBroker{}
			r := newRig(t, rigOpt{Accounts: killSpecs(2), Broker: func(rb *recBroker) broker.Broker { ub.recBroker = rb; return ub }})
			var tm int64
			switch tc {
			case "bracket":
				r.start(ctx, etAt(10, 0, 0))
				r.step(ctx, etAt(10, 0, 1), pts(5000.25))
				for _, a := range r.d.accts {
					_ = a.m.Fire(EvStart, "test")
				}
				ub.bracket.Store(true)
				res := r.d.HandleIntent(ctx, entryFor("K1", etAt(10, 0, 1)))
				if res.Sent || res.Err == nil {
					t.Fatalf("an unconfirmed bracket reported sent: %+v", res)
				}
				ub.bracket.Store(false)
				tm = etAt(10, 0, 1)
			case "repair stop":
				tm = r.inPosition(ctx) // K1 and K2 long 1, brackets working
				ub.repair.Store(true)
				// The venue drops K1's protective stop: a gap the desk repairs.
				stopID := ""
				for _, c := range r.rec.Calls() {
					if c.Op == "bracket" && c.Account == "K1" {
						stopID, _ = LegIDs(c.ClientID)
					}
				}
				if err := r.sim.Cancel(ctx, "K1", stopID); err != nil {
					t.Fatal(err)
				}
			}
			for i := 1; i <= 3; i++ {
				r.step(ctx, tm+int64(i)*int64(time.Second), pts(5000))
			}
			if tc == "repair stop" {
				repaired := false
				for _, c := range r.rec.Calls() {
					repaired = repaired || c.Op == "order" && strings.Contains(c.ClientID, ".repair.")
				}
				if !repaired {
					t.Fatal("no repair stop was placed for the gap")
				}
			}
			var kills []journal.Kill
			for _, rec := range r.records() {
				if rec.Kind == journal.KindKill {
					k, err := rec.Kill()
					if err != nil {
						t.Fatal(err)
					}
					kills = append(kills, k)
				}
			}
			if len(kills) != 1 || kills[0].Trigger != string(TriggerUnconfirmedStop) || kills[0].Scope != "K1" {
				t.Fatalf("kill records %+v, want one unconfirmed_stop kill of K1", kills)
			}
			r.step(ctx, tm+5*int64(time.Second), pts(4990)) // through any stop
			if p, _ := r.sim.Position("K1"); p.Qty != 0 {
				t.Errorf("K1 holds %d at the venue, want flat", p.Qty)
			}
			if open, _ := r.sim.OpenOrders(ctx, "K1"); len(open) != 0 {
				t.Errorf("orders left working on K1: %+v", open)
			}
			if r.liquidations("K2") != 0 {
				t.Errorf("K2 liquidated: the flatten is the unconfirmed account's only")
			}
		})
	}
}
