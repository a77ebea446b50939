// selfmatch.go: could an order of this account trade against a working
// order of another sub-account of the desk? Both sides belong to one
// beneficial owner, so such a trade is a wash trade (CME Rule 534; CME
// Globex offers Self-Match Prevention for exactly this case:
// cmegroup.com/solutions/market-access/globex/trade-on-globex/faq-self-match.html).
// The gate refuses the order rather than relying on the venue.
//
// Each order is either resting (a limit, or a stop-limit once triggered,
// taken at its limit) or sweeping (a market order, or a stop-market once
// triggered, assumed to fill within slippage_ticks of where it starts). A
// buy and a sell can meet when
//   - both rest and they cross (buy ≥ sell),
//   - one rests inside the price span the other sweeps: a buy sweep from p
//     spans [p, p + slip], a sell sweep [p − slip, p]; a market order sweeps
//     from the last trade and has no bound on its far side (it takes
//     whatever rests there),
//   - never when both sweep: two takers do not trade with each other.
// A resting limit beyond a stop's trigger on the stop's own side is not a
// conflict: the market cannot trade through the stop's trigger without
// first filling the better-priced limit.

package limits

import "github.com/deskguard/deskguard/market"

const (
	priceMin = market.Price(-1 << 62)
	priceMax = market.Price(1 << 62)
)

// leg is one order as the self-match rule sees it.
type leg struct {
	side    market.Side
	resting bool
	price   market.Price // resting: its limit
	lo, hi  market.Price // sweeping: the prices it can fill at
}

func restingLeg(side market.Side, p market.Price) leg { return leg{side: side, resting: true, price: p} }

// sweepLeg is a stop-market triggered at p, or a market order from the
// last trade (market: the span is open on its far side).
func sweepLeg(side market.Side, p market.Price, slip int64, isMarket bool) leg {
	l := leg{side: side}
	s := market.Price(slip)
	if side == market.Buy {
		l.lo, l.hi = p, p+s
		if isMarket {
			l.lo = priceMin
		}
	} else {
		l.lo, l.hi = p-s, p
		if isMarket {
			l.hi = priceMax
		}
	}
	return l
}

// workingLeg turns another account's working order into a leg.
func workingLeg(o *WorkingOrder, last market.Price, slip int64) leg {
	switch o.Type {
	case market.StopOrder:
		return sweepLeg(o.Side, o.Price, slip, false)
	case market.MarketOrder:
		return sweepLeg(o.Side, last, slip, true)
	}
	// Limits, and stop-limits (WorkingOrder.Price is a stop-limit's limit).
	return restingLeg(o.Side, o.Price)
}

// meet reports whether a and b (opposite sides) could trade with each
// other.
func meet(a, b leg) bool {
	buy, sell := a, b
	if a.side == market.Sell {
		buy, sell = b, a
	}
	switch {
	case buy.resting && sell.resting:
		return buy.price >= sell.price
	case buy.resting:
		return sell.lo <= buy.price && buy.price <= sell.hi
	case sell.resting:
		return buy.lo <= sell.price && sell.price <= buy.hi
	}
	return false
}

// selfMatch checks the entry of a bracket and its two exits (entry at e
// of type et, protective stop, target) against the other accounts'
// working orders. It returns the conflicting order's price and the leg's.
func selfMatch(others []WorkingOrder, side market.Side, et market.OrderType, entry, limit, stop, target, last market.Price,
	slip int64) (theirs, ours market.Price, hit bool) {
	var legs [3]leg
	var prices [3]market.Price
	switch et {
	case market.MarketOrder:
		legs[0], prices[0] = sweepLeg(side, last, slip, true), last
	case market.StopOrder:
		legs[0], prices[0] = sweepLeg(side, entry, slip, false), entry
	case market.StopLimitOrder:
		legs[0], prices[0] = restingLeg(side, limit), limit
	default:
		legs[0], prices[0] = restingLeg(side, entry), entry
	}
	exit := side.Opposite()
	legs[1], prices[1] = sweepLeg(exit, stop, slip, false), stop
	legs[2], prices[2] = restingLeg(exit, target), target
	for i := range others {
		o := &others[i]
		if o.Qty <= 0 || o.Side == market.Unknown {
			continue
		}
		w := workingLeg(o, last, slip)
		for k := range legs {
			if legs[k].side != o.Side && meet(legs[k], w) {
				return o.Price, prices[k], true
			}
		}
	}
	return 0, 0, false
}
