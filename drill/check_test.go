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
