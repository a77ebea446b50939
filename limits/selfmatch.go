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

// selfMatch checks the entry of a bracket and its two exits (protective
// stop, target) against the other accounts' working orders. It returns the
// conflicting order's price and our leg's. No allocation; a few
// comparisons per working order.
//
// The conditions are meet's (selfmatch_test.go) solved for the other
// order's price p. They are worked out for a buy; a sell is the same with
// every price negated (a sell at p is a buy at −p: crossing, sweeping and
// the side of a trigger all mirror).
func selfMatch(others []WorkingOrder, side market.Side, et market.OrderType, entry, limit, stop, target, last market.Price,
	slip int64) (theirs, ours market.Price, hit bool) {
	n := market.Price(side.Sign()) // +1 buy, −1 sell: every price below is n·p
	s, L := market.Price(slip), n*last
	// Their orders on our exit side meet our entry: resting ones in
	// [eLo, eHi], stop-markets in [sLo, sHi], market orders when eMkt.
	var eLo, eHi, sLo, sHi, eAt market.Price
	eMkt := false
	sLo, sHi = priceMax, priceMin
	switch et {
	case market.MarketOrder: // sweeps up from the last trade, no bound below
		eLo, eHi, eAt = priceMin, L+s, last
	case market.StopOrder: // sweeps [T, T + s] once triggered
		eLo, eHi, eAt = n*entry, n*entry+s, entry
	default: // rests at B: a limit, or a stop-limit at its limit
		eAt = entry
		if et == market.StopLimitOrder {
			eAt = limit
		}
		B := n * eAt
		eLo, eHi, sLo, sHi, eMkt = priceMin, B, B, B+s, B >= L-s
	}
	// Their orders on our side meet our target (resting at A: theirs
	// resting at or above it, a stop sweeping up onto it, a market order
	// reaching it) or our stop (sweeping [St − s, St]: theirs resting in it).
	A, St := n*target, n*stop
	tMkt := A <= L+s
	for i := range others {
		o := &others[i]
		if o.Qty <= 0 || o.Side == market.Unknown {
			continue
		}
		p := n * o.Price
		if o.Side != side {
			switch o.Type {
			case market.StopOrder:
				if sLo <= p && p <= sHi {
					return o.Price, eAt, true
				}
			case market.MarketOrder:
				if eMkt {
					return o.Price, eAt, true
				}
			default:
				if eLo <= p && p <= eHi {
					return o.Price, eAt, true
				}
			}
			continue
		}
		switch o.Type {
		case market.StopOrder:
			if A-s <= p && p <= A {
				return o.Price, target, true
			}
		case market.MarketOrder:
			if tMkt {
				return o.Price, target, true
			}
		default:
			if p >= A {
				return o.Price, target, true
			}
			if St-s <= p && p <= St {
				return o.Price, stop, true
			}
		}
	}
	return 0, 0, false
}
