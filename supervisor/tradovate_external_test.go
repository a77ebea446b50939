package supervisor

// tradovate_external_test.go: what the broker does beside the desk, over
// the real protocol against the venue doing it (issue 24, the desk side):
// orders the desk did not place (a trader's bracket or order on the
// broker's own platform, the broker's auto-liquidation), trade busts and
// corrections, the broker's own risk status of the account.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/journal/ledgercheck"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// kills are the journal's kill records so far.
func (r *tvRig) kills() []journal.Kill {
	var out []journal.Kill
	for _, rec := range r.records() {
		if rec.Kind == journal.KindKill {
			k, err := rec.Kill()
			if err != nil {
				r.t.Fatal(err)
			}
			out = append(out, k)
		}
	}
	return out
}

// finish snapshots the desk (so the ledger check compares), closes
// everything and verifies the journal as `deskguard journal verify` does.
func (r *tvRig) finish() journal.Report {
	r.t.Helper()
	if err := r.d.Snapshot(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	r.close()
	rep, err := journal.Verify(r.path, journal.VerifyOptions{Timeout: 5 * time.Second, Checkers: []journal.Checker{ledgercheck.New()},
		FillOwner: func(ev broker.Event) bool {
			return strings.HasPrefix(ev.ClientID, "liquidate.") || strings.Contains(ev.ClientID, ".repair.")
		}})
	if err != nil {
		r.t.Fatal(err)
	}
	if !rep.OK {
		r.t.Errorf("journal verify: %s", strings.Join(rep.Problems, "; "))
	}
	return rep
}

// sameBooks checks the desk's position and realized PnL of each account
// against the venue's.
func (r *tvRig) sameBooks() {
	r.t.Helper()
	for _, id := range r.ids {
		vp := r.venuePos(id)
		a := r.d.byID[id]
		a.mu.Lock()
		pos, real := a.ledger.Position(), a.ledger.RealizedTicks()
		a.mu.Unlock()
		if pos != vp.Qty || real != vp.Realized {
			r.t.Errorf("%s: desk position %d realized %d ticks; venue %d, %d", id, pos, real, vp.Qty, vp.Realized)
		}
	}
}

// extBracket places a one-lot bracket on account as a trader on the
// broker's own platform does: a market entry, stop and target off ticks
// away.
func (r *tvRig) extBracket(account, id string, side market.Side, off market.Price) {
	r.t.Helper()
	s := market.Price(side.Sign())
	if err := r.v.PlaceExternal(broker.Bracket{
		Entry:  broker.Order{ClientID: id, Account: account, Side: side, Qty: 1, Type: market.MarketOrder, TIF: broker.Day},
		Stop:   broker.Order{ClientID: id + ".s", Side: side.Opposite(), Type: market.StopOrder, StopPrice: r.px - off*s, TIF: broker.GTC},
		Target: broker.Order{ClientID: id + ".t", Side: side.Opposite(), Type: market.LimitOrder, Price: r.px + off*s, TIF: broker.GTC},
	}); err != nil {
		r.t.Fatal(err)
	}
}

// openAtVenue is how many working orders the venue holds for account.
func (r *tvRig) openAtVenue(account string) int {
	open, err := r.v.Engine().OpenOrders(context.Background(), account)
	if err != nil {
		r.t.Fatal(err)
	}
	return len(open)
}

// TestExternalBracketsAdopted pins issue 24's case: two manual brackets
// placed on the broker's own platform, each held open for a while and
// closed by its own target. The desk books them as external orders (the
// journal verifies: not "belongs to no journaled intent"), counts the
// trader's stop as the position's stop coverage (no repair, no flatten) and
// ends where the venue is — flat, with the venue's realized PnL. Before,
// the desk did not know the trader's stop for a stop order and flattened
// the account behind the trader's back at the first coverage check.
func TestExternalBracketsAdopted(t *testing.T) {
	// The desk's wall clock is injected: the coverage grace runs out only
	// when the test moves it, so "still covered past the grace" is checked
	// by a coverage pass that certainly ran past it, not by sleeping.
	wall := market.NewReplayClock(time.Now())
	r := newTVRig(t, tvOpt{Venue: venue.Config{Faults: venue.Realistic()}, Desk: func(o *Options) { o.Wall = wall }})
	settle := func() {
		r.booked.Lock()
		defer r.booked.Unlock()
		r.d.Settle(r.ctx)
	}
	for _, id := range []string{"ext.1", "ext.2"} {
		r.trade(r.px)
		r.extBracket("A", id, market.Buy, 20)
		r.trade(r.px) // the market entry fills; the venue arms the exits
		r.within("the desk holds the trader's lot with its stop", func() bool {
			a := r.d.byID["A"]
			a.mu.Lock()
			defer a.mu.Unlock()
			covered, _ := limits.StopCoverage(a.ledger.Position(), a.workingOrders(), 0, r.d.last())
			return a.ledger.Position() == 1 && covered
		})
		// A coverage pass (a gap the desk saw would start at the latest
		// here), the grace run out, and a pass past it: still open.
		settle()
		wall.Advance(wall.Now().Add(3 * r.d.opt.CoverageGrace).UnixNano())
		settle()
		if k := r.kills(); len(k) != 0 {
			t.Fatalf("the desk killed the trader's bracket: %+v", k)
		}
		for _, rec := range r.records() {
			if rec.Kind == journal.KindStopRepair {
				t.Fatalf("the desk repaired a position the trader's stop covers: %s", rec.Body)
			}
		}
		if p := r.venuePos("A"); p.Qty != 1 {
			t.Fatalf("venue position %d after the entry, want 1", p.Qty)
		}
		r.trade(r.px + 25) // the target fills; OCO cancels the stop
		r.within("flat again", func() bool { return r.position("A") == 0 && r.venuePos("A").Qty == 0 })
	}
	r.within("no orders left", func() bool { return r.openAtVenue("A") == 0 })
	r.sameBooks()
	if st := r.d.Status(r.ctx); st.Accounts[0].External == 0 {
		t.Errorf("status counts no external orders: %+v", st.Accounts[0])
	}
	if r.alerts.count(alert.KindBroker, "A") == 0 {
		t.Error("no alert about the external orders")
	}
	rep := r.finish()
	if rep.External != 4 {
		t.Errorf("journal verify counts %d external fills, want 4", rep.External)
	}
}

// TestExternalOrderCoveredWithinAllowance: a trader's naked market order
// (no stop) opens a position; the desk covers it with a repair stop as far
// from the market as the day's allowance allows (here the price band, 40
// ticks); when the trader closes it by hand the repair stop, with nothing
// left to exit, is cancelled. Before: with no stop price of the desk's the
// repair flattened the trader's position, and a repair stop outliving a
// position was never cancelled (it would have opened a naked position).
func TestExternalOrderCoveredWithinAllowance(t *testing.T) {
	r := newTVRig(t, tvOpt{Venue: venue.Config{Faults: venue.Realistic()}})
	r.trade(r.px)
	if err := r.v.PlaceExternalOrder(broker.Order{ClientID: "man.1", Account: "A", Side: market.Buy, Qty: 2, Type: market.MarketOrder,
		TIF: broker.Day}); err != nil {
		t.Fatal(err)
	}
	r.trade(r.px)
	var stop *broker.OrderState
	r.within("a repair stop at the venue", func() bool {
		open, _ := r.v.Engine().OpenOrders(context.Background(), "A")
		for i := range open {
			if open[i].Type == market.StopOrder {
				stop = &open[i]
				return true
			}
		}
		return false
	})
	if want := r.px - 40; stop.Side != market.Sell || stop.Qty != 2 || stop.StopPrice != want {
		t.Fatalf("repair stop %+v, want sell 2 at %s", *stop, want)
	}
	if k := r.kills(); len(k) != 0 {
		t.Fatalf("the desk flattened the trader's position: %+v", k)
	}
	if err := r.v.PlaceExternalOrder(broker.Order{ClientID: "man.2", Account: "A", Side: market.Sell, Qty: 2, Type: market.MarketOrder,
		TIF: broker.Day}); err != nil {
		t.Fatal(err)
	}
	r.trade(r.px + 4)
	r.within("flat with the repair stop cancelled", func() bool { return r.position("A") == 0 && r.openAtVenue("A") == 0 })
	r.trade(r.px - 50) // through where the stop was: nothing fills
	r.within("still flat", func() bool { return r.venuePos("A").Qty == 0 && r.position("A") == 0 })
	r.sameBooks()
	r.finish()
}

// TestExternalOrdersFault: with Options.ExternalOrders = fault, a trader's
// bracket faults the account, which is flattened (the trader's orders
// cancelled) and alerted, and stays faulted.
func TestExternalOrdersFault(t *testing.T) {
	r := newTVRig(t, tvOpt{Venue: venue.Config{Faults: venue.Realistic()}, Desk: func(o *Options) { o.ExternalOrders = ExternalFault }})
	r.trade(r.px)
	r.extBracket("A", "ext.1", market.Sell, 20)
	r.trade(r.px)
	r.within("faulted", func() bool { return r.d.byID["A"].m.State() == AcctFaulted })
	r.trade(r.px) // the liquidation fills
	r.within("flat at the venue", func() bool { return r.venuePos("A").Qty == 0 && r.openAtVenue("A") == 0 && r.position("A") == 0 })
	k := r.kills()
	if len(k) != 1 || k[0].Trigger != string(TriggerExternalOrder) || k[0].Scope != "A" {
		t.Fatalf("kills %+v, want one external_order kill of A", k)
	}
	if r.alerts.count(alert.KindWorkerFault, "A") == 0 {
		t.Error("the fault was not alerted")
	}
	if st := r.d.byID["B"].m.State(); st == AcctFaulted {
		t.Error("B faulted too")
	}
	r.sameBooks()
	r.finish()
}

// TestExternalOrderOnAccountThatMayNotAddRisk: under the default policy
// (adopt) a trader's bracket placed on the broker's platform on an account
// that may not add risk — locked out, faulted, halted by a desk kill, or
// on a desk locked out by its drawdown and re-armed — is not adopted: the
// account is flattened at once (the trader's orders cancelled, its entry's
// lot closed), journaled as an external_order_no_risk kill, its state
// unchanged. Before, it was booked "under the desk's rules" and filled
// past the drawdown line (deskguard drill --scenario venue-faults --seed
// 11: $93 past it). Each case fails on the adopt-only desk; the control
// (a trading account) must still adopt.
func TestExternalOrderOnAccountThatMayNotAddRisk(t *testing.T) {
	cases := []struct {
		name  string
		stop  func(r *tvRig) // puts A where it may not add risk
		state string         // A's state after, unchanged by the flatten
		flat  bool           // the flatten is expected (false: the control)
	}{
		{"locked out", func(r *tvRig) { r.killA(AccountScope("A"), TriggerLockout) }, AcctLockedOut, true},
		{"faulted", func(r *tvRig) { r.killA(AccountScope("A"), TriggerFault) }, AcctFaulted, true},
		{"desk halted", func(r *tvRig) { r.killA(DeskScope, TriggerConsole) }, AcctHalted, true},
		{"desk locked out, re-armed", func(r *tvRig) {
			r.killA(DeskScope, TriggerDeskDrawdown)
			if err := r.d.Rearm(r.ctx, "test", "re-arm"); err != nil {
				r.t.Fatal(err)
			}
		}, AcctIdle, true},
		{"control: trading", func(r *tvRig) { _ = r.d.byID["A"].m.Fire(EvStart, "test") }, AcctTrading, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newTVRig(t, tvOpt{Venue: venue.Config{Faults: venue.Realistic()}})
			r.trade(r.px)
			c.stop(r)
			r.extBracket("A", "ext.1", market.Buy, 20)
			r.trade(r.px) // the trader's market entry fills
			if !c.flat {
				r.within("the trader's lot adopted with its stop", func() bool {
					return r.position("A") == 1 && r.venuePos("A").Qty == 1 && r.openAtVenue("A") == 2
				})
				if k := r.kills(); len(k) != 0 {
					t.Fatalf("a trading account's external bracket was flattened: %+v", k)
				}
				r.finish()
				return
			}
			r.within("the flatten at the venue", func() bool {
				open, _ := r.v.Engine().OpenOrders(context.Background(), "A")
				for _, o := range open {
					if strings.HasPrefix(o.ClientID, "liquidate.") {
						return true
					}
				}
				return false
			})
			r.trade(r.px) // the flatten fills
			r.within("flat with the trader's orders cancelled", func() bool {
				return r.venuePos("A").Qty == 0 && r.openAtVenue("A") == 0 && r.position("A") == 0
			})
			var got []journal.Kill
			for _, k := range r.kills() {
				if k.Trigger == string(TriggerExternalNoRisk) {
					got = append(got, k)
				}
			}
			if len(got) != 1 || got[0].Scope != "A" {
				t.Fatalf("kills %+v, want one external_order_no_risk kill of A", r.kills())
			}
			if st := r.d.byID["A"].m.State(); st != c.state {
				t.Errorf("A %s after the flatten, want %s (unchanged)", st, c.state)
			}
			if len(r.brokerAlerts("A", "external order flattened")) == 0 {
				t.Error("the flatten was not alerted")
			}
			r.sameBooks()
			r.finish()
		})
	}
}

// killA kills scope by trig and waits until A is flat and settled.
func (r *tvRig) killA(scope Scope, trig Trigger) {
	r.t.Helper()
	if _, err := r.d.Kill(r.ctx, scope, trig, "test"); err != nil {
		r.t.Fatal(err)
	}
	r.within("A settled after the kill", func() bool {
		st := r.d.byID["A"].m.State()
		return st != AcctHalting && !r.d.byID["A"].liquidating.Load()
	})
}

// TestExternalStopPastTheLineTightened: a trader's bracket whose stop lies
// farther than the desk lets any stop lie (here past the price band, 40
// ticks; on a thin day, past the lockout line — drill venue-faults seed 26:
// the trader's stop filled $0.75 past what the line allowed) is adopted
// with its stop moved to where the allowance puts it, over the protocol
// (modifyorder on the trader's order); the bracket's OCO stays whole (its
// target untouched), and nothing is flattened. Fails on the desk that took
// any working stop as coverage, whatever its price.
func TestExternalStopPastTheLineTightened(t *testing.T) {
	r := newTVRig(t, tvOpt{Venue: venue.Config{Faults: venue.Realistic()}})
	r.trade(r.px)
	r.extBracket("A", "ext.1", market.Buy, 60)
	r.trade(r.px) // the trader's entry fills; the venue arms its exits
	want := r.px - 40
	r.within("the trader's stop moved to the band", func() bool {
		open, _ := r.v.Engine().OpenOrders(context.Background(), "A")
		for _, o := range open {
			if o.Type == market.StopOrder {
				return o.StopPrice == want
			}
		}
		return false
	})
	open, _ := r.v.Engine().OpenOrders(context.Background(), "A")
	if len(open) != 2 {
		t.Fatalf("the trader's bracket at the venue: %+v, want its stop and target", open)
	}
	for _, o := range open {
		if o.Type == market.LimitOrder && o.Price != r.px+60 {
			t.Errorf("the trader's target moved: %+v", o)
		}
	}
	if k := r.kills(); len(k) != 0 {
		t.Fatalf("flattened: %+v", k)
	}
	if p := r.venuePos("A"); p.Qty != 1 {
		t.Fatalf("venue position %d, want the trader's 1", p.Qty)
	}
	r.trade(want) // through the tightened stop: it fills there, the OCO cancels the target
	r.within("flat, nothing working", func() bool { return r.venuePos("A").Qty == 0 && r.openAtVenue("A") == 0 && r.position("A") == 0 })
	r.sameBooks()
	r.finish()
}
