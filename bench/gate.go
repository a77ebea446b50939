package bench

// gate.go: the risk gate's Check on its busiest accept path (an add to a
// long in profit with working stops and a target, with every rule of
// docs/risk.md switched on: the trailing and weekly lines, the scaling
// plan, a year's news calendar, the session's sends and two other
// accounts' brackets for the self-match check), timed in batches so the
// clock's own cost is spread; the floor is the same loop over an empty
// function call.

import (
	"context"
	"fmt"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/shopspring/decimal"
)

const gateBatch = 256

//go:noinline
func emptyCall(s *limits.Snapshot, in *intent.Intent) limits.Decision { return limits.Decision{} }

func benchGate(_ context.Context, opt Options, _ string) (Figure, error) {
	g, err := limits.NewGate(limits.Config{Windows: map[string]limits.Window{"orb": {From: 600, Until: 690}, "vwapmr": {From: 585, Until: 945}},
		MaxDataAge: 5 * time.Second, TrailingMode: limits.TrailingIntraday, TrailingDrawdown: decimal.NewFromInt(2000),
		WeeklyLossPct: decimal.NewFromInt(3), ScalingTiers: []decimal.Decimal{decimal.NewFromInt(1000), decimal.NewFromInt(2000), decimal.NewFromInt(3000)}})
	if err != nil {
		return Figure{}, err
	}
	// A year of releases, three days a week at 08:30 and 14:00 ET (more
	// than any desk blacks out), none near the check's 10:30.
	var rel []limits.Release
	for d := range 365 {
		day := time.Date(2026, 1, 1, 8, 30, 0, 0, market.NewYork).AddDate(0, 0, d)
		if d%7 < 3 {
			rel = append(rel, limits.Release{TimeNs: day.UnixNano(), Name: "08:30"},
				limits.Release{TimeNs: day.Add(5*time.Hour + 30*time.Minute).UnixNano(), Name: "14:00"})
		}
	}
	g = g.WithCalendar(limits.NewCalendar(rel))
	const last = market.Price(20600) // 5150.00
	now := time.Date(2026, 3, 10, 10, 30, 0, 0, market.NewYork).UnixNano()
	s := limits.Snapshot{NowNs: now, LastPrice: last, LastTimeNs: now, AllowanceCents: 15000_00, FeesRTCents: 120,
		PositionQty: 4, CostTicks: 4 * int64(last-6), Rate: g.NewRateLimiter(),
		Orders: []limits.WorkingOrder{
			{ClientID: "s1", Role: limits.RoleStop, Side: market.Sell, Qty: 4, Type: market.StopOrder, Price: last - 10},
			{ClientID: "s2", Role: limits.RoleStop, Side: market.Sell, Qty: 0, Type: market.StopOrder, Price: last - 9},
			{ClientID: "t1", Role: limits.RoleTarget, Side: market.Sell, Qty: 4, Type: market.LimitOrder, Price: last + 8},
		}}
	for i := range 4 {
		s.Rate.Record(now - int64(i+2)*1e9)
	}
	in := intent.Intent{Kind: intent.Add, Account: "a1", Strategy: "orb", Time: now, Side: market.Buy, Qty: 1,
		EntryType: market.LimitOrder, Entry: last, Stop: last - 8, Target: last + 8}
	// What the desk fills for the other rules: the ladder's whole
	// allowance, the trailing and weekly allowances, the tier, the
	// session's trades and losers, its sends (every 30 s) and the other
	// accounts' working brackets (none in the way).
	s.AllowanceTotalCents, s.TrailingAllowanceCents, s.WeeklyAllowanceCents = 750_00, 2000_00, 1500_00
	s.TierUnits, s.TradesToday, s.LossStreak, s.LastLossNs = 4, 5, 2, now-int64(time.Minute)
	s.Activity = limits.NewActivity()
	for i := range 20 {
		sent := in
		sent.Kind, sent.Entry = intent.Enter, last-market.Price(i+1)
		s.Activity.RecordSent(now-int64(20-i)*int64(30*time.Second), &sent)
	}
	for i := range 2 {
		off := market.Price(i)
		s.Others = append(s.Others,
			limits.WorkingOrder{ClientID: "o.s", Role: limits.RoleStop, Side: market.Sell, Qty: 2, Type: market.StopOrder, Price: last - 30 - off},
			limits.WorkingOrder{ClientID: "o.t", Role: limits.RoleTarget, Side: market.Sell, Qty: 2, Type: market.LimitOrder, Price: last + 30 + off})
	}
	if d := g.Check(&s, &in); !d.Allowed {
		return Figure{}, fmt.Errorf("setup: the gate refused the benchmark intent: %v", d)
	}
	n := pick(opt.Short, 50, 4000)
	timeBatches := func(fn func(*limits.Snapshot, *intent.Intent) limits.Decision) ([]float64, error) {
		out := make([]float64, 0, n)
		for range n {
			t := time.Now()
			ok := true
			for range gateBatch {
				ok = fn(&s, &in).Allowed == ok
			}
			el := time.Since(t)
			_ = ok
			out = append(out, float64(el.Nanoseconds())/gateBatch)
		}
		return out, nil
	}
	floor, _ := timeBatches(emptyCall)
	got, _ := timeBatches(g.Check)
	f := figure("ns", got, floor, false)
	f.What = fmt.Sprintf("limits.Gate.Check, accept path of an add with every rule on (every rule runs), mean of %d calls per sample", gateBatch)
	f.Floor = "an empty (non-inlined) function call, same loop"
	return f, nil
}
