// check_test.go: the checker itself catches what it is there to catch —
// a position without a stop at the venue, a client id sent twice, an
// account that keeps its position past its lockout line, requests that
// break invariants 1–3 and 9, a loss past the line beyond the exits'
// slippage — and holds each account to its own configured line.
package drill

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor"
)

func TestCheckerCatchesViolations(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 3, 12, 14, 0, 0, 0, time.UTC)
	r, err := newRig(ctx, rigOpt{Dir: t.TempDir(), Start: t0})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	c := newChecker(r)
	// Behind the desk's back: a naked long of 10 on the tightest account,
	// and the same client id twice.
	o := broker.Order{ClientID: "naked", Account: "D5", Side: market.Buy, Qty: 10, Type: market.MarketOrder, TIF: broker.Day}
	if err := r.v.Sim.SubmitOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	r.v.submitted("naked", "naked")
	px := market.Price(20600)
	for i := 0; i < 12; i++ {
		tr := market.Trade{Time: t0.Add(time.Duration(i) * time.Second).UnixNano(), Price: px, Size: 20, Aggressor: market.Sell}
		if i >= 2 {
			tr.Price = px - 40 // 10 × 40 ticks = $500, far past D5's $45 allowance
		}
		r.v.onTrade(tr)
		r.v.drain() // the desk never hears of it
		c.observe(r)
	}
	c.finish(r)
	all := strings.Join(c.viol, "\n")
	for _, want := range []string{"stop cover", "lockout line", "more than once"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q violation in:\n%s", want, all)
		}
	}
}

// The audit of every request the desk sends (invariants 1–3, 9): requests
// that break them, sent straight through the desk's port as a broken desk
// would send them, are each reported.
func TestAuditCatchesBadRequests(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 3, 12, 14, 0, 0, 0, time.UTC)
	r, err := newRig(ctx, rigOpt{Dir: t.TempDir(), Start: t0, NoEngines: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	c := newChecker(r)
	px := market.Price(20600)
	n := 0
	trade := func(p market.Price) {
		n++
		r.step(market.Trade{Time: t0.Add(time.Duration(n) * time.Second).UnixNano(), Price: p, Size: 20, Aggressor: market.Sell})
		c.observe(r)
	}
	trade(px)
	res := r.d.HandleIntent(ctx, intent.Intent{Kind: intent.Enter, Account: "D1", Strategy: "drill", Side: market.Buy, Qty: 2,
		EntryType: market.LimitOrder, Entry: px, Stop: px - 8, Target: px + 40})
	if !res.Sent {
		t.Fatalf("entry not sent: %+v", res)
	}
	trade(px)
	if p, _ := r.v.Sim.Position("D1"); p.Qty != 2 {
		t.Fatalf("entry not filled: %+v", p)
	}
	if len(c.viol) != 0 {
		t.Fatalf("a good desk's requests reported: %v", c.viol)
	}
	trade(px - 2) // the long is 2 ticks under water
	stop, _ := supervisor.LegIDs(res.ID)
	bracket := func(id, acct string, side market.Side, stopType market.OrderType, tif broker.TIF) broker.Bracket {
		return broker.Bracket{
			Entry: broker.Order{ClientID: id, Account: acct, Side: side, Qty: 1, Type: market.LimitOrder, Price: px - 2, TIF: broker.Day},
			Stop: broker.Order{ClientID: id + ".stop", Account: acct, Side: side.Opposite(), Qty: 1, Type: stopType,
				StopPrice: px - 12, Price: px - 12, TIF: tif},
			Target: broker.Order{ClientID: id + ".target", Account: acct, Side: side.Opposite(), Qty: 1, Type: market.LimitOrder,
				Price: px + 20, TIF: broker.GTC}}
	}
	_ = r.p.Modify(ctx, "D1", stop, 0, px-9)                                                         // widened by a tick
	_ = r.p.SubmitBracket(ctx, bracket("add1", "D1", market.Buy, market.StopOrder, broker.GTC))      // averaging down
	_ = r.p.SubmitOrder(ctx, broker.Order{ClientID: "bare", Account: "D2", Side: market.Buy, Qty: 1, // no bracket
		Type: market.MarketOrder, TIF: broker.Day})
	_ = r.p.SubmitBracket(ctx, bracket("day1", "D3", market.Sell, market.StopOrder, broker.Day))     // a day stop
	_ = r.p.SubmitBracket(ctx, bracket("sl1", "D4", market.Sell, market.StopLimitOrder, broker.GTC)) // a stop-limit stop
	_ = r.p.Cancel(ctx, "D1", stop)                                                                  // the long's only stop
	c.observe(r)
	all := strings.Join(c.viol, "\n")
	for _, want := range []string{"away from the market", "not in profit by a tick", "without a bracket", "not GTC",
		"not stop-market", "cancelled while the position"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q finding in:\n%s", want, all)
		}
	}
}

// Promise 5 is asserted: a position with no stop that gaps through the
// line loses more than its exit's slippage (a violation); one whose stop is
// gapped through loses only that slippage (none).
func TestOvershootAsserted(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 3, 12, 14, 0, 0, 0, time.UTC)
	r, err := newRig(ctx, rigOpt{Dir: t.TempDir(), Start: t0, NoEngines: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	c := newChecker(r)
	px := market.Price(20600)
	n := 0
	trade := func(p market.Price) {
		n++
		r.v.onTrade(market.Trade{Time: t0.Add(time.Duration(n) * time.Second).UnixNano(), Price: p, Size: 20, Aggressor: market.Sell})
		r.v.drain() // behind the desk's back
		c.observe(r)
	}
	trade(px)
	// D5 ($3,000 at a 1.2% line: $36 to lose): long 2 with no stop. D4
	// ($5,000 at 1%: $50): long 2 with an 8-tick stop, as the gate allows.
	if err := r.v.Sim.SubmitOrder(ctx, broker.Order{ClientID: "naked", Account: "D5", Side: market.Buy, Qty: 2,
		Type: market.MarketOrder, TIF: broker.Day}); err != nil {
		t.Fatal(err)
	}
	if err := r.v.Sim.SubmitBracket(ctx, broker.Bracket{
		Entry:  broker.Order{ClientID: "b", Account: "D4", Side: market.Buy, Qty: 2, Type: market.MarketOrder, TIF: broker.Day},
		Stop:   broker.Order{ClientID: "b.stop", Side: market.Sell, Type: market.StopOrder, StopPrice: px - 8, TIF: broker.GTC},
		Target: broker.Order{ClientID: "b.target", Side: market.Sell, Type: market.LimitOrder, Price: px + 40, TIF: broker.GTC}}); err != nil {
		t.Fatal(err)
	}
	trade(px)      // both filled
	trade(px - 40) // the gap: D4's stop fills 32 ticks past its price; D5 has nothing
	if err := r.v.Sim.Liquidate(ctx, "D5"); err != nil {
		t.Fatal(err)
	}
	trade(px - 40) // D5's liquidation fills at the gapped price: no slippage of its own
	for _, id := range []string{"D4", "D5"} {
		if p, _ := r.v.Sim.Position(id); p.Qty != 0 {
			t.Fatalf("%s not flat: %+v", id, p)
		}
	}
	all := strings.Join(c.viol, "\n")
	if !strings.Contains(all, "D5: ") || !strings.Contains(all, "past its 1.2% lockout line once flat") {
		t.Errorf("the naked gap is not reported:\n%s", all)
	}
	if strings.Contains(all, "D4: ") {
		t.Errorf("a stop gapped through is reported as an overshoot:\n%s", all)
	}
	if c.accts["D4"].breachAt == 0 || c.accts["D5"].breachAt == 0 {
		t.Fatalf("the breaches were not seen: D4 %+v D5 %+v", c.accts["D4"], c.accts["D5"])
	}
}

// Each account is held to its own line: the account's drawdown_pct, else
// the desk's, else DESIGN's 1.5%.
func TestCheckerLinesAreConfigured(t *testing.T) {
	specs := drillSpecs()
	c := newCheckerLimits(specs, limits.Config{})
	want := map[string]int64{"D1": 49250_00, "D2": 19600_00, "D3": 7880_00, "D4": 4950_00, "D5": 2964_00}
	for id, line := range want {
		if got := c.accts[id].lineCents; got != line {
			t.Errorf("%s: line %d cents, want %d", id, got, line)
		}
	}
	d := newCheckerLimits(specs, limits.Config{DrawdownPct: decimal.RequireFromString("3")})
	if got := d.accts["D1"].lineCents; got != 48500_00 {
		t.Errorf("D1 under a 3%% desk: line %d, want 4850000", got)
	}
	if got := d.accts["D4"].lineCents; got != 4950_00 {
		t.Errorf("D4 keeps its own 1%%: line %d, want 495000", got)
	}
}

// A protective order that outlives its position — a stop left working on a
// flat account — opens a position when it fills: reported.
func TestCheckerCatchesAnExitOpeningAPosition(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 3, 12, 14, 0, 0, 0, time.UTC)
	r, err := newRig(ctx, rigOpt{Dir: t.TempDir(), Start: t0, NoEngines: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	c := newChecker(r)
	px := market.Price(20600)
	trade := func(i int, p market.Price) {
		r.v.onTrade(market.Trade{Time: t0.Add(time.Duration(i) * time.Second).UnixNano(), Price: p, Size: 20, Aggressor: market.Buy})
		r.v.drain()
		c.observe(r)
	}
	trade(0, px)
	// A buy stop left from a short that is gone, as a repair stop would be.
	if err := r.v.Sim.SubmitOrder(ctx, broker.Order{ClientID: "D1.repair.1", Account: "D1", Side: market.Buy, Qty: 1,
		Type: market.StopOrder, StopPrice: px + 4, TIF: broker.GTC}); err != nil {
		t.Fatal(err)
	}
	trade(1, px+4)
	if p, _ := r.v.Sim.Position("D1"); p.Qty != 1 {
		t.Fatalf("the stale stop did not fill: %+v", p)
	}
	if all := strings.Join(c.viol, "\n"); !strings.Contains(all, "an exit order opened a position") {
		t.Fatalf("not reported:\n%s", all)
	}
}

// fakeView is a venue's records as the test writes them.
type fakeView struct {
	evs    []broker.Event
	last   market.Trade
	trades int
	pos    map[string]broker.Position
	open   map[string][]broker.OrderState
}

func (f *fakeView) eventsSince(n int) []broker.Event {
	return append([]broker.Event(nil), f.evs[n:]...)
}
func (f *fakeView) lastTrade() (market.Trade, int) { return f.last, f.trades }
func (f *fakeView) position(id string) (broker.Position, error) {
	p := f.pos[id]
	p.Account = id
	return p, nil
}
func (f *fakeView) openOrders(id string) []broker.OrderState { return f.open[id] }

func (f *fakeView) trade(ns int64, px market.Price) {
	f.last = market.Trade{Time: ns, Price: px, Size: 1}
	f.trades++
}

// A trade bust (venue.Bust: execType TradeCancel) of the stop fill that
// closed a short opens the short again at the venue, and the broker's (or
// the desk's) liquidation then closes it far from the stop: the checker
// books the bust — the liquidation closes a position, it does not open
// one — and measures the loss past the line from the busted stop fill's
// price, not the exits' slippage. Before, the checker ignored busts: it
// reported an exit order opening a position and a loss past the line its
// exits did not make (the venue-faults drill's violations with
// venue.DeskSideFaults drawn).
func TestCheckerBooksABust(t *testing.T) {
	c, _, _ := bustBreach()
	if a := c.accts["D2"]; a.breachAt == 0 {
		t.Fatal("no breach seen: the test does not reach the lockout check")
	}
	if len(c.viol) != 0 {
		t.Fatalf("violations:\n%s", strings.Join(c.viol, "\n"))
	}
}

// A bust of an entry's fill leaves its bracket's exits larger than the
// position: one that then fills past flat opened a position, and the
// checker still says so.
func TestCheckerBustedEntryExitOpens(t *testing.T) {
	specs := []supervisor.AccountSpec{{Config: accountsConfig("D1", 50000)}}
	c := newCheckerFor(specs)
	f := &fakeView{pos: map[string]broker.Position{}, open: map[string][]broker.OrderState{}}
	t0 := time.Date(2024, 3, 12, 14, 0, 0, 0, time.UTC).UnixNano()
	px := market.MustPrice("5100.00")
	f.trade(t0, px)
	f.evs = append(f.evs,
		broker.Event{Time: t0 + 1, Account: "D1", ClientID: "D1.1", Role: broker.EntryLeg, Kind: broker.FilledEv, Side: market.Buy, FillQty: 1, FillPrice: px},
		broker.Event{Time: t0 + 2, Account: "D1", ClientID: "D1.1", Role: broker.EntryLeg, Kind: broker.BustedEv, Side: market.Buy, FillQty: 1, FillPrice: px},
		broker.Event{Time: t0 + 3, Account: "D1", ClientID: "D1.1.stop", Role: broker.StopLeg, Kind: broker.FilledEv, Side: market.Sell, FillQty: 1, FillPrice: px - 8})
	f.pos["D1"] = broker.Position{Qty: -1, CostTick: -int64(px - 8)}
	f.open["D1"] = []broker.OrderState{{Order: broker.Order{ClientID: "D1.r", Side: market.Buy, Qty: 1, Type: market.StopOrder, StopPrice: px},
		Status: broker.Working}}
	c.observeView(f)
	if all := strings.Join(c.viol, "\n"); !strings.Contains(all, "an exit order opened a position") {
		t.Fatalf("the stop filling past the busted entry's flat not reported:\n%s", all)
	}
}

func accountsConfig(id string, start int64) accounts.Config {
	return accounts.Config{ID: id, StartEquity: decimal.NewFromInt(start), FeesRT: decimal.RequireFromString("1.20"), Strategies: []string{"orb"}}
}

// linkedView is a fakeView whose user link the test sets.
type linkedView struct {
	*fakeView
	linked bool
}

func (l *linkedView) userLinked() bool { return l.linked }

// A bust that reopens a position while the venue can tell the desk
// nothing (its user socket down, silent or not yet resynchronised) opens
// a gap the desk cannot see: it is timed from when the venue could tell it
// again, and still reported if it stays open past the window then. Before,
// the venue-faults drill reported such gaps (a bust and the broker's
// auto-liquidation while the venue restarted and the desk reconnected).
func TestCheckerTimesABustGapFromTheLink(t *testing.T) {
	specs := []supervisor.AccountSpec{{Config: accountsConfig("D1", 50000)}}
	c := newCheckerFor(specs)
	c.live = &liveBounds{gap: 0, flat: time.Hour, entry: time.Hour}
	v := &linkedView{fakeView: &fakeView{pos: map[string]broker.Position{}, open: map[string][]broker.OrderState{}}}
	t0 := time.Date(2024, 3, 12, 14, 0, 0, 0, time.UTC).UnixNano()
	px := market.MustPrice("5100.00")
	later := func() { // the wall clock has moved on (the windows are wall time)
		for t := time.Now(); !time.Now().After(t); {
		}
	}
	v.trade(t0, px)
	v.evs = append(v.evs,
		broker.Event{Time: t0 + 1, Account: "D1", ClientID: "D1.1", Role: broker.EntryLeg, Kind: broker.FilledEv, Side: market.Buy, FillQty: 1, FillPrice: px},
		broker.Event{Time: t0 + 2, Account: "D1", ClientID: "D1.1.stop", Role: broker.StopLeg, Kind: broker.FilledEv, Side: market.Sell, FillQty: 1, FillPrice: px - 8})
	c.observeView(v)
	v.evs = append(v.evs, broker.Event{Time: t0 + 3, Account: "D1", ClientID: "D1.1.stop", Role: broker.StopLeg, Kind: broker.BustedEv,
		Side: market.Sell, FillQty: 1, FillPrice: px - 8})
	v.pos["D1"] = broker.Position{Qty: 1, CostTick: int64(px)}
	c.observeView(v)
	later()
	c.observeView(v)
	if len(c.viol) != 0 {
		t.Fatalf("a gap the desk could not hear of reported:\n%s", strings.Join(c.viol, "\n"))
	}
	v.linked = true
	later()
	c.observeView(v)
	if all := strings.Join(c.viol, "\n"); !strings.Contains(all, "stop cover 0") {
		t.Fatalf("the gap still open past its window once the desk could hear of it not reported:\n%s", all)
	}
}

// bustRig is what bustBreach leaves: the round's start, the mark the
// liquidation filled at, and the event writer.
type bustRig struct {
	t0   int64
	mark market.Price
	ev   func(i int, kind broker.EventKind, id string, role broker.Role, side market.Side, qty int64, px market.Price)
}

// bustBreach plays D2 ($20,000, line $300 down) past its line by a bust:
// short 3 at 5089.00 closed by its stop at 5091.50, the stop fill busted
// with the market at 5120.00 (short 3 again), a liquidation working and
// then filled there — each step observed. D2 ends flat, $465 down.
func bustBreach() (*checker, *fakeView, bustRig) {
	c := newCheckerFor([]supervisor.AccountSpec{{Config: accountsConfig("D2", 20000)}})
	f := &fakeView{pos: map[string]broker.Position{}, open: map[string][]broker.OrderState{}}
	t0 := time.Date(2024, 3, 12, 14, 0, 0, 0, time.UTC).UnixNano()
	entry, stop, mark := market.MustPrice("5089.00"), market.MustPrice("5091.50"), market.MustPrice("5120.00")
	ev := func(i int, kind broker.EventKind, id string, role broker.Role, side market.Side, qty int64, px market.Price) {
		f.evs = append(f.evs, broker.Event{Time: t0 + int64(i), Account: "D2", ClientID: id, Role: role, Kind: kind, Side: side,
			FillQty: qty, FillPrice: px})
	}
	f.trade(t0, entry)
	ev(1, broker.FilledEv, "D2.1", broker.EntryLeg, market.Sell, 3, entry)
	ev(2, broker.FilledEv, "D2.1.stop", broker.StopLeg, market.Buy, 3, stop)
	f.pos["D2"] = broker.Position{Realized: -3 * int64(stop-entry)}
	c.observeView(f)
	// The bust: short 3 again, marked far above; a liquidation working.
	f.trade(t0+10, mark)
	ev(11, broker.BustedEv, "D2.1.stop", broker.StopLeg, market.Buy, 3, stop)
	ev(12, broker.Accepted, "liquidate.D2.1", broker.Single, market.Buy, 0, 0)
	f.pos["D2"] = broker.Position{Qty: -3, CostTick: -3 * int64(entry)}
	f.open["D2"] = []broker.OrderState{{Order: broker.Order{ClientID: "liquidate.D2.1", Side: market.Buy, Qty: 3, Type: market.MarketOrder},
		Status: broker.Working}}
	c.observeView(f)
	ev(13, broker.FilledEv, "liquidate.D2.1", broker.Single, market.Buy, 3, mark)
	f.pos["D2"] = broker.Position{Realized: -3 * int64(mark-entry)}
	f.open["D2"] = nil
	c.observeView(f)
	return c, f, bustRig{t0: t0, mark: mark, ev: ev}
}

// extView is a fakeView that names the orders placed beside the desk (on
// the broker's platform), as the venue's IsExternal does.
type extView struct {
	*fakeView
	ext map[string]bool
}

func (e *extView) isExternal(_, clientID string) bool { return e.ext[clientID] }

// A trader's bracket placed on the broker's platform after the account
// crossed its line (the venue-faults drill's external-bracket fault, seed
// 11): the venue accepts and fills it before the desk can see it, so it is
// no "entry after the line" of the desk's; the desk must flatten it at
// once (timed from its fill) and the loss that counts against the desk is
// the flatten's slippage from the trader's own fill, not the whole
// overshoot the breaching position's exits had earned. Before, the checker
// reported the entry, and reset the exits' allowance at the new position:
// "$73.45 past its line once flat, more than the $4.95 ..." for a flatten
// two ticks from the trader's fill. A desk that leaves the trader's
// position open is still reported.
func TestCheckerExternalEntryAfterTheLine(t *testing.T) {
	for _, flatten := range []bool{true, false} {
		// The breach: a busted stop fill reopens a short of 3 far under the
		// market, closed by a liquidation there ($465 past a $300 line).
		c, fv, b := bustBreach()
		f := &extView{fakeView: fv, ext: map[string]bool{"tv-9": true}}
		t0, mark, ev := b.t0, b.mark, b.ev
		realized := f.pos["D2"].Realized
		if c.accts["D2"].breachAt == 0 || len(c.viol) != 0 {
			t.Fatalf("setup: breach %d, violations %v", c.accts["D2"].breachAt, c.viol)
		}
		// The trader's bracket, far above: accepted and filled at once.
		ext := mark + 80
		f.trade(t0+20, ext)
		ev(21, broker.Accepted, "tv-9", broker.EntryLeg, market.Buy, 0, 0)
		ev(22, broker.FilledEv, "tv-9", broker.EntryLeg, market.Buy, 1, ext)
		f.pos["D2"] = broker.Position{Qty: 1, CostTick: int64(ext), Realized: realized}
		f.open["D2"] = []broker.OrderState{{Order: broker.Order{ClientID: "liquidate.D2.2", Side: market.Sell, Qty: 1, Type: market.MarketOrder},
			Status: broker.Working}}
		c.observeView(f)
		if flatten {
			ev(23, broker.Accepted, "liquidate.D2.2", broker.Single, market.Sell, 0, 0)
			f.trade(t0+21, ext-2)
			ev(24, broker.FilledEv, "liquidate.D2.2", broker.Single, market.Sell, 1, ext-2)
			f.pos["D2"] = broker.Position{Realized: realized - 2}
			f.open["D2"] = nil
			c.observeView(f)
			if len(c.viol) != 0 {
				t.Fatalf("the desk flattened the trader's entry two ticks from its fill; violations:\n%s", strings.Join(c.viol, "\n"))
			}
			continue
		}
		for i := 0; i <= flatWithin; i++ {
			f.trade(t0+int64(30+i), ext)
			c.observeView(f)
		}
		if all := strings.Join(c.viol, "\n"); !strings.Contains(all, "still 1 contracts") {
			t.Fatalf("the trader's position left open past the line not reported:\n%s", all)
		}
	}
}

// A bust that leaves a bracket's legs larger than the position (the venue
// does not resize them), and the stop then filling past flat before the
// desk could cancel the surplus: within the desk's window (the gap window
// of a desk in another process) it is the venue's doing, counted, not a
// violation; past it the desk was too slow, and it is one (venue-faults
// round 38: a stop of 5 filled on a short a bust had cut to 4).
func TestCheckerBustSurplusFillWithinTheWindow(t *testing.T) {
	for _, within := range []bool{true, false} {
		c := newCheckerFor([]supervisor.AccountSpec{{Config: accountsConfig("D3", 50000)}})
		c.live = &liveBounds{gap: 1500 * time.Millisecond, flat: time.Hour, entry: time.Hour}
		f := &fakeView{pos: map[string]broker.Position{}, open: map[string][]broker.OrderState{}}
		t0 := time.Date(2024, 3, 12, 14, 0, 0, 0, time.UTC).UnixNano()
		px := market.MustPrice("5117.00")
		ev := func(i int, kind broker.EventKind, id string, role broker.Role, side market.Side, qty int64, at market.Price) {
			f.evs = append(f.evs, broker.Event{Time: t0 + int64(i), Account: "D3", ClientID: id, Role: role, Kind: kind, Side: side,
				FillQty: qty, FillPrice: at})
		}
		f.trade(t0, px)
		// An earlier long of 1 closed by its stop; then a short of 5 with its stop of 5.
		ev(1, broker.FilledEv, "D3.1", broker.EntryLeg, market.Buy, 1, px)
		ev(2, broker.FilledEv, "D3.1.stop", broker.StopLeg, market.Sell, 1, px-2)
		ev(3, broker.FilledEv, "D3.7", broker.EntryLeg, market.Sell, 5, px)
		f.pos["D3"] = broker.Position{Qty: -5, CostTick: -5 * int64(px), Realized: -2}
		f.open["D3"] = []broker.OrderState{{Order: broker.Order{ClientID: "D3.7.stop", Side: market.Buy, Qty: 5, Type: market.StopOrder,
			StopPrice: px + 3}, Status: broker.Working}}
		c.observeView(f)
		// The venue busts the old stop's sell: short 4 now, the stop still 5; the
		// stop fills 5 before the desk's cancel lands.
		ev(4, broker.BustedEv, "D3.1.stop", broker.StopLeg, market.Sell, 1, px-2)
		f.pos["D3"] = broker.Position{Qty: -4, CostTick: -4 * int64(px), Realized: 0}
		c.observeView(f)
		if a := c.accts["D3"]; a.bustWall.IsZero() {
			t.Fatal("the bust was not seen cutting the position")
		} else if !within {
			a.bustWall = a.bustWall.Add(-2 * time.Second) // the desk had its window and let it pass
		}
		f.trade(t0+10, px+3)
		ev(5, broker.FilledEv, "D3.7.stop", broker.StopLeg, market.Buy, 5, px+3)
		f.pos["D3"] = broker.Position{Qty: 1, CostTick: int64(px + 3), Realized: -12}
		f.open["D3"] = []broker.OrderState{{Order: broker.Order{ClientID: "D3.r", Side: market.Sell, Qty: 1, Type: market.StopOrder,
			StopPrice: px - 5}, Status: broker.Working}}
		c.observeView(f)
		opened := strings.Contains(strings.Join(c.viol, "\n"), "an exit order opened a position")
		if within && (opened || c.bustOpened != 1) {
			t.Errorf("within the window: violations %v, bustOpened %d; want none and 1", c.viol, c.bustOpened)
		}
		if !within && !opened {
			t.Errorf("past the window: no exit-opened violation in %v", c.viol)
		}
	}
}
