package supervisor

// statusrisk.go: the grid's risk figures of one account for Status — the
// loss if every working protective stop fills (at its price less the
// configured slippage, fees included) and the equity that would leave,
// and what is left before the rule nearest to tripping (limits'
// AccountRules.Usage names it) trips. Read from the account's books with
// a.mu held; nothing here changes them.

import (
	"fmt"
	"sort"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// lossAtStop fills as's LossAtStop, EquityAtStop and StopQty (a.mu held).
//
// Each working stop on the exit side of the position is taken to fill at
// its trigger less slippage_ticks (a sell stop below it, a buy stop above
// it: a stop-market order fills at the market once triggered, and the
// gate's loss bound assumes the same slippage), the worst fills first,
// for at most the position's size. LossAtStop is what those contracts
// would book: their P&L from the average entry less the round-turn fees
// (the trade's net, as the report counts it); EquityAtStop is the equity
// the account would be left with: today's, with the covered contracts
// closed at those prices instead of marked at the last trade, less their
// exit fee (the entry fee is already in the equity). Contracts no stop
// covers stay marked (StopCovered is false then). Flat, or no stop: "".
func (a *account) lossAtStop(as *deskapi.AccountStatus) {
	l := a.ledger
	pos := l.Position()
	if pos == 0 {
		return
	}
	sgn := int64(1)
	if pos < 0 {
		sgn = -1
	}
	abs := pos * sgn
	slip := a.gate.Config().SlippageTicks
	type fill struct{ qty, px int64 }
	var stops []fill
	for _, o := range a.orders {
		if o.role != limits.RoleStop || o.done() || o.qty <= 0 || o.price <= 0 || o.side.Sign() != -sgn {
			continue
		}
		stops = append(stops, fill{o.qty, int64(o.price) - sgn*slip})
	}
	if len(stops) == 0 {
		return
	}
	// The worst exits first: a long's lowest, a short's highest.
	sort.Slice(stops, func(i, j int) bool { return stops[i].px*sgn < stops[j].px*sgn })
	var q, sumPx int64 // contracts covered, Σ qty × exit price (ticks)
	for _, s := range stops {
		take := min(s.qty, abs-q)
		if take <= 0 {
			break
		}
		q += take
		sumPx += take * s.px
	}
	cost := l.CostTicks() * sgn // Σ qty × entry price of the open lots, positive
	// The covered contracts' share of the cost; exact when every contract
	// is covered (q == abs), else to the cent below.
	costCents := cost * market.TickCents * q / abs
	gross := sgn * (sumPx*market.TickCents - costCents)
	rt := l.FeesRTCents()
	closeFee := rt - rt/2 // the ledger charges the exit side the rest of the round turn
	eq := l.EquityCents()
	if mark := l.MarkPrice(); mark > 0 {
		// Marked at the last trade now; closed at the stops instead.
		eq -= sgn * market.TickCents * (int64(mark)*q - sumPx)
	} else {
		eq += gross
	}
	eq -= closeFee * q
	as.LossAtStop = accounts.Money(gross - rt*q).StringFixed(2)
	as.EquityAtStop = accounts.Money(eq).StringFixed(2)
	as.StopQty = q
}

// nearestLeft is what is left before u's nearest rule trips, in its own
// units: dollars for the money lines (the ladder's reduce-only rung, the
// trailing and weekly lines), trades, orders, losses in a row or
// contracts for the counts; "reached" once the rule is at or past its
// threshold (NearestBP >= 10000), "" when no rule is on. It reads only u,
// s (the snapshot u was computed from), the equity and the gate's limits,
// so it cannot name another rule than u does: the console and `deskguard
// status` read one nearest rule, limits.AccountRules.Usage's.
func nearestLeft(u limits.Usage, s *limits.Snapshot, equityCents int64, c limits.Config) string {
	if u.NearestRule == limits.OK {
		return ""
	}
	if u.NearestBP >= 10000 {
		return "reached"
	}
	m := func(cents int64) string { return "$" + accounts.Money(max(cents, 0)).StringFixed(2) }
	switch u.NearestRule {
	case limits.ReduceOnly:
		return m(u.AllowanceCents*int64(c.ReduceOnlyPct)/100 - u.AllowanceUsedCents)
	case limits.TrailingDrawdown:
		return m(u.TrailingLeftCents)
	case limits.WeeklyLoss:
		return m(equityCents - u.WeeklyLineCents)
	case limits.DailyTradeLimit:
		return plural(u.TradeLimit-u.TradesToday, "trade")
	case limits.DailyOrderLimit:
		return plural(u.OrderLimit-u.OrdersToday, "order")
	case limits.LossStreakCooldown:
		return plural(int64(c.LossStreak)-s.LossStreak, "loss")
	case limits.MaxPosition:
		return plural(u.MaxPositionNow-abs64(u.PositionQty), "contract")
	}
	return ""
}

func plural(n int64, unit string) string {
	if n < 0 {
		n = 0
	}
	if n == 1 {
		return "1 " + unit
	}
	if unit == "loss" {
		return fmt.Sprintf("%d losses", n)
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
