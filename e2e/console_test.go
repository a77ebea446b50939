// console_test.go: the console's browser flow (issues 10 and 19) in real
// headless Chromium against the real desk: 20 accounts (the built-in desk's
// three engine accounts and 17 manual ones holding positions of 1 to 3
// lots) updating live during a synthetic run, at 1920×1080. It checks that
// every row is on the one screen, sorted by allowance used; that the
// journal tail, the fills blotter and the rejection counts show the real
// journal's records; that a position one tick from its stop (the market
// held, the stop moved next to it through the intent path) shows the loss
// at stop the desk computes and that a hand calculation gives; then it
// flattens the desk from the page and sees the kill listed. Screenshots of
// each view go to $DESKGUARD_ARTIFACTS (else the test's temporary
// directory). Without Chromium the test is skipped with a message, or
// fails when $CI is set (consoletest.Chromium).

package e2e

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/console/consoletest"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

func TestConsoleBrowserFlowAgainstTheRealDesk(t *testing.T) {
	consoletest.Chromium(t) // skip (or fail under CI) before building the desk
	const manual = 17
	r := newDesk(t, rigOpt{Accounts: deskSpecs(manual)})
	if len(r.ids) != 20 {
		t.Fatalf("%d accounts, want 20", len(r.ids))
	}
	r.run(rigOpt{Pace: 60})
	// Positions of 1 to 3 lots on the manual accounts: different
	// allowances used, so the order means something.
	for i := 1; i <= manual; i++ {
		r.openQty(fmt.Sprintf("MAN%d", i), int64(1+(i+2)%3)) // MAN1: one lot
	}
	// Two refusals by the real gate: over max_order_qty, a stop above a
	// long's entry.
	r.refuse("MAN2", func(in *intent.Intent) { in.Qty = 11 }, limits.MaxOrderQty)
	r.refuse("MAN3", func(in *intent.Intent) { in.Stop = in.Target }, limits.StopWrongSide)

	const manager, trader = "e2e-manager-0123456789", "e2e-trader-vwap1-0123456789"
	ts := &auth.Tokens{}
	ts.AddPlain("risk", manager, auth.Role{Kind: "manager"})
	ts.AddPlain("vwap-trader", trader, auth.Role{Kind: "trader", Account: "VWAP1"})
	const near = "MAN1"
	var want struct{ loss, equity string }
	consoletest.RunBrowserFlow(t, consoletest.Flow{Desk: r.d, Tokens: ts, Manager: manager, Trader: trader,
		TraderAccount: "VWAP1", Accounts: 20, NearStop: near, Kills: true,
		Records: r.checkRecords,
		Hold: func(t *testing.T) func() {
			// Hold the market, then move near's stop to one tick under the
			// last trade: the row must show what a fill there would cost.
			r.feed.Pause()
			r.within("the desk has booked every trade the venue saw", func() bool {
				return r.status().Trades == r.feed.n.Load()
			})
			want.loss, want.equity = r.stopOneTickAway(near)
			return r.feed.Resume
		},
	})
	t.Logf("%s one tick from its stop: loss at stop %s, equity at stop %s (the desk's, equal to the hand calculation)", near, want.loss, want.equity)
	r.requireFlattened()
	kills := r.kills()
	if len(kills) != 1 || kills[0].Who != "risk" || kills[0].Scope != "desk" || len(kills[0].Accounts) != 20 {
		t.Fatalf("journaled kills %+v, want one desk kill of 20 accounts by the console's manager token", kills)
	}
	t.Logf("console kill: trigger %q by %q", kills[0].Trigger, kills[0].Who)
}

// openQty gives account a long of qty through the intent path (a market
// entry, its stop 10 points under the last trade, its target 20 over) and
// waits until the desk books it.
func (r *rig) openQty(account string, qty int64) {
	r.t.Helper()
	last, ok := r.sim.LastTrade()
	if !ok {
		r.t.Fatal("open: the venue has seen no trade")
	}
	res := r.d.HandleIntent(context.Background(), intent.Intent{Kind: intent.Enter, Account: account, Strategy: "e2e",
		Time: r.clock.Now().UnixNano(), Side: market.Buy, Qty: qty, EntryType: market.MarketOrder,
		Stop: last.Price - 40, Target: last.Price + 80, Reason: "e2e: a position for the grid"})
	if !res.Sent || res.Err != nil {
		r.t.Fatalf("open %s: sent %v, err %v, decision %+v", account, res.Sent, res.Err, res.Decision)
	}
	r.within(account+" long at the desk", func() bool { return r.position(account) == qty })
}

// refuse sends account an entry changed by edit and requires the gate to
// refuse it with reason.
func (r *rig) refuse(account string, edit func(*intent.Intent), reason limits.Reason) {
	r.t.Helper()
	last, _ := r.sim.LastTrade()
	in := intent.Intent{Kind: intent.Enter, Account: account, Strategy: "e2e", Time: r.clock.Now().UnixNano(),
		Side: market.Buy, Qty: 1, EntryType: market.MarketOrder, Stop: last.Price - 40, Target: last.Price + 80, Reason: "e2e: refused"}
	edit(&in)
	if res := r.d.HandleIntent(context.Background(), in); res.Sent || res.Decision.Reason != reason {
		r.t.Fatalf("%s: %+v, want refused %s", account, res, reason)
	}
}

// stopOneTickAway moves account's stop (a one-lot long's) to one tick
// under the last trade through the intent path, waits until the desk
// books the move, and returns the loss at stop and equity at stop worked
// out by hand: the stop fills slippage_ticks under its trigger, and the
// trade pays its round turn.
func (r *rig) stopOneTickAway(account string) (loss, equity string) {
	r.t.Helper()
	last, _ := r.sim.LastTrade()
	a := r.account(account)
	if a.Position != 1 {
		r.t.Fatalf("%s holds %d, want a one-lot long", account, a.Position)
	}
	var stop deskapi.Order
	for _, o := range a.Orders {
		if o.Role == "stop" {
			stop = o
		}
	}
	if stop.ClientID == "" {
		r.t.Fatalf("%s has no working stop: %+v", account, a.Orders)
	}
	to := last.Price - 1
	res := r.d.HandleIntent(context.Background(), intent.Intent{Kind: intent.MoveStop, Account: account, Strategy: "e2e",
		Time: r.clock.Now().UnixNano(), Ref: stop.ClientID, Stop: to, Reason: "e2e: a stop one tick away"})
	if !res.Sent || res.Err != nil {
		r.t.Fatalf("move %s's stop to %s: %+v", account, to, res)
	}
	r.within(account+"'s stop one tick under the last trade", func() bool {
		for _, o := range r.account(account).Orders {
			if o.ClientID == stop.ClientID && o.Price == to.Points() {
				return true
			}
		}
		return false
	})
	a = r.account(account)
	lim := limits.Config{}.WithDefaults()
	exit := decimal.NewFromFloat((to - market.Price(lim.SlippageTicks)).Points())
	avg := decimal.NewFromFloat(a.AvgPrice)
	gross := exit.Sub(avg).Mul(decimal.NewFromInt(5)) // $5 a point, one contract
	fees := decimal.RequireFromString("1.20")
	eq := decimal.RequireFromString(a.Equity).Sub(decimal.RequireFromString(a.Unrealized)).Add(gross).Sub(fees.Div(decimal.NewFromInt(2)))
	loss, equity = gross.Sub(fees).StringFixed(2), eq.StringFixed(2)
	if a.LossAtStop != loss || a.EquityAtStop != equity || a.StopQty != 1 {
		r.t.Fatalf("%s one tick from its stop at %s (last %s, average %.2f): the desk says loss at stop %s, equity at stop %s, %d covered; by hand %s, %s, 1",
			account, to, last.Price, a.AvgPrice, a.LossAtStop, a.EquityAtStop, a.StopQty, loss, equity)
	}
	return loss, equity
}

func (r *rig) account(id string) deskapi.AccountStatus {
	for _, a := range r.status().Accounts {
		if a.ID == id {
			return a
		}
	}
	r.t.Fatalf("no account %s", id)
	return deskapi.AccountStatus{}
}

// checkRecords checks what the page's journal tail, blotter and rejection
// counts show against the desk's journal file.
func (r *rig) checkRecords(t *testing.T, got consoletest.PageRecords) {
	t.Helper()
	bySeq := map[uint64]journal.Record{}
	refused := map[string]int{}
	if err := r.j.Iterate(0, func(rec journal.Record) error {
		bySeq[rec.Seq] = rec
		if rec.Kind == journal.KindIntent {
			if b, err := rec.IntentBody(); err == nil && b.Decision != nil && !b.Decision.Allowed {
				refused[b.Decision.Reason]++
			}
		}
		if rec.Kind == journal.KindBrokerError {
			if e, err := rec.BrokerError(); err == nil && e.Op == "withdrawn" {
				refused[string(limits.Halted)]++
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, l := range got.Journal {
		rec, ok := bySeq[l.Seq]
		if !ok || string(rec.Kind) != l.Kind {
			t.Errorf("journal panel line #%d %s %q: the journal has %+v", l.Seq, l.Kind, l.Text, rec)
		}
	}
	for _, f := range got.Fills {
		rec, ok := bySeq[f.Seq]
		if !ok || rec.Kind != journal.KindBrokerEvent {
			t.Errorf("blotter row #%d: no broker event of that seq in the journal (%+v)", f.Seq, rec)
			continue
		}
		ev, err := rec.BrokerEvent()
		if err != nil {
			t.Fatal(err)
		}
		if ev.Account != f.Account || ev.Side.String() != f.Side || ev.FillQty != f.Qty || ev.FillPrice.String() != f.Price {
			t.Errorf("blotter row #%d %+v: the journal has %s %s %d @ %s", f.Seq, f, ev.Account, ev.Side, ev.FillQty, ev.FillPrice)
		}
	}
	for reason, n := range got.Rejections {
		if n <= 0 || n > refused[reason] {
			t.Errorf("rejections: the page counts %s %d, the journal %d", reason, n, refused[reason])
		}
	}
	for _, reason := range []limits.Reason{limits.MaxOrderQty, limits.StopWrongSide} {
		if got.Rejections[string(reason)] < 1 {
			t.Errorf("rejections: the page does not count the journal's %s refusal (%v)", reason, got.Rejections)
		}
	}
	t.Logf("page records: %d journal lines (newest #%s), %d fills, rejections %v", len(got.Journal), lastSeq(got.Journal), len(got.Fills), got.Rejections)
}

func lastSeq(ls []consoletest.PageJournalLine) string {
	if len(ls) == 0 {
		return "-"
	}
	return strconv.FormatUint(ls[0].Seq, 10)
}
