package supervisor

// statusrisk.go: the grid's risk figures of one account for Status — the
// loss if every working protective stop fills (at its price less the
// configured slippage, fees included) and the equity that would leave,
// and the rule nearest to tripping. Read from the account's books with
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

// nearest is the rule the account is nearest to tripping, of those the
// desk enforces on it now (a.mu held): the drawdown lockout (allowance
// used; what is left in dollars), max_position (or the scaling tier's max:
// contracts held against it), daily_trade_limit (flat-to-flat trades this
// session) and the loss streak (losing trades in a row before the
// cooldown). Used is 0..1 (1 = at the limit); on a tie the lockout wins.
func (a *account) nearest() *deskapi.Rule {
	l := a.ledger
	c := a.gate.Config()
	var s limits.Snapshot
	l.FillSnapshot(&s, a.rules.Drawdown)
	eq := l.EquityCents()
	best := &deskapi.Rule{Name: "lockout", Left: accounts.Money(eq - a.rules.Drawdown.LineCents()).StringFixed(2),
		Used: usedOf(l.StartCents()-eq, l.StartCents()-a.rules.Drawdown.LineCents())}
	consider := func(name string, used, limit int64, unit string) {
		if limit <= 0 {
			return
		}
		if u := usedOf(used, limit); u > best.Used {
			best = &deskapi.Rule{Name: name, Left: plural(limit-used, unit), Used: u}
		}
	}
	held := l.Position()
	if held < 0 {
		held = -held
	}
	consider(string(limits.MaxPosition), held, a.gate.MaxPositionNow(&s), "contract")
	consider(string(limits.DailyTradeLimit), l.TradesToday(), int64(c.DailyTradeLimit), "trade")
	consider(string(limits.LossStreakCooldown), l.LossStreak(), int64(c.LossStreak), "loss")
	best.Left = withDollar(best)
	return best
}

func withDollar(r *deskapi.Rule) string {
	if r.Name == "lockout" {
		if len(r.Left) > 0 && r.Left[0] == '-' {
			return "-$" + r.Left[1:]
		}
		return "$" + r.Left
	}
	return r.Left
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
