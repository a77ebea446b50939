// selfmatch_test.go: the fast self-match check against its reference:
// meet, the pairwise rule of selfmatch.go's comment, applied to every leg
// and working order.

package limits

import (
	"testing"

	"github.com/deskguard/deskguard/market"
	"pgregory.net/rapid"
)

// leg is one order as the self-match rule sees it.
type leg struct {
	side    market.Side
	resting bool
	price   market.Price // resting: its limit
	lo, hi  market.Price // sweeping: the prices it can fill at
	at      market.Price // the order's own price (a sweep's trigger, or the last trade for a market order)
}

func restingLeg(side market.Side, p market.Price) leg {
	return leg{side: side, resting: true, price: p, at: p}
}

// sweepLeg is a stop-market triggered at p, or a market order from the
// last trade (market: the span is open on its far side).
func sweepLeg(side market.Side, p market.Price, slip int64, isMarket bool) leg {
	l := leg{side: side, at: p}
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

// selfMatchSlow is selfMatch written directly from meet: the property
// test holds the fast one to it.
func selfMatchSlow(others []WorkingOrder, side market.Side, et market.OrderType, entry, limit, stop, target, last market.Price,
	slip int64) bool {
	var legs [3]leg
	switch et {
	case market.MarketOrder:
		legs[0] = sweepLeg(side, last, slip, true)
	case market.StopOrder:
		legs[0] = sweepLeg(side, entry, slip, false)
	case market.StopLimitOrder:
		legs[0] = restingLeg(side, limit)
	default:
		legs[0] = restingLeg(side, entry)
	}
	exit := side.Opposite()
	legs[1] = sweepLeg(exit, stop, slip, false)
	legs[2] = restingLeg(exit, target)
	for i := range others {
		o := &others[i]
		if o.Qty <= 0 || o.Side == market.Unknown {
			continue
		}
		w := workingLeg(o, last, slip)
		for k := range legs {
			if legs[k].side != o.Side && meet(legs[k], w) {
				return true
			}
		}
	}
	return false
}

// TestPropertySelfMatchIsTheReference: for any bracket and any working
// orders of the other accounts, the precomputed spans find a conflict
// exactly when the pairwise rule does, and name prices of the orders
// involved.
func TestPropertySelfMatchIsTheReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := func(name string) market.Price { return last + market.Price(rapid.IntRange(-12, 12).Draw(t, name)) }
		side := rapid.SampledFrom([]market.Side{market.Buy, market.Sell}).Draw(t, "side")
		et := rapid.SampledFrom([]market.OrderType{market.MarketOrder, market.LimitOrder, market.StopOrder, market.StopLimitOrder}).Draw(t, "type")
		entry, limit, stop, target := p("entry"), p("limit"), p("stop"), p("target")
		slip := rapid.Int64Range(0, 4).Draw(t, "slip")
		var others []WorkingOrder
		for range rapid.IntRange(0, 6).Draw(t, "n") {
			others = append(others, WorkingOrder{
				Side: rapid.SampledFrom([]market.Side{market.Buy, market.Sell, market.Unknown}).Draw(t, "oSide"),
				Qty:  rapid.Int64Range(0, 3).Draw(t, "oQty"),
				Type: rapid.SampledFrom([]market.OrderType{market.MarketOrder, market.LimitOrder, market.StopOrder, market.StopLimitOrder}).Draw(t, "oType"),
				// Near one of our prices, where the boundaries are.
				Price: rapid.SampledFrom([]market.Price{entry, limit, stop, target, last}).Draw(t, "near") +
					market.Price(rapid.IntRange(-6, 6).Draw(t, "off")),
			})
		}
		theirs, ours, hit := selfMatch(others, side, et, entry, limit, stop, target, last, slip)
		if want := selfMatchSlow(others, side, et, entry, limit, stop, target, last, slip); hit != want {
			t.Fatalf("fast %v, reference %v", hit, want)
		}
		if hit {
			found := false
			for _, o := range others {
				found = found || o.Price == theirs && o.Qty > 0
			}
			if !found || (ours != entry && ours != limit && ours != stop && ours != target && ours != last) {
				t.Fatalf("names %d / %d, not prices of the orders", theirs, ours)
			}
		}
	})
}

// TestSelfMatchGridIsTheReference: every combination of our side, entry
// type and entry offset (with stops 1 or 4 and targets 1, 3 or 5 ticks
// away), their side, type and price (±16 ticks around the market) and
// slippage 0–2 gives the reference's answer: the boundaries, exhaustively.
func TestSelfMatchGridIsTheReference(t *testing.T) {
	sides := []market.Side{market.Buy, market.Sell, market.Unknown}
	types := []market.OrderType{market.MarketOrder, market.LimitOrder, market.StopOrder, market.StopLimitOrder}
	n, hits := 0, 0
	for _, side := range sides[:2] {
		sg := market.Price(side.Sign())
		for _, et := range types {
			for off, k := market.Price(-3), 0; off <= 3; off, k = off+1, k+1 {
				entry, limit := last+off, last+off+2*sg
				stop, target := entry-market.Price(1+3*(k%2))*sg, entry+market.Price(1+k%3*2)*sg
				for slip := int64(0); slip <= 2; slip++ {
					for _, os := range sides {
						for _, ot := range types {
							for p := last - 16; p <= last+16; p++ {
								others := []WorkingOrder{{Side: os, Qty: 1, Type: ot, Price: p}}
								_, _, hit := selfMatch(others, side, et, entry, limit, stop, target, last, slip)
								if want := selfMatchSlow(others, side, et, entry, limit, stop, target, last, slip); hit != want {
									t.Fatalf("our %s %v entry %d (limit %d) stop %d target %d slip %d vs their %s %v at %d: fast %v, reference %v",
										side, et, entry, limit, stop, target, slip, os, ot, p, hit, want)
								}
								n++
								if hit {
									hits++
								}
							}
						}
					}
				}
			}
		}
	}
	if hits == 0 || hits == n {
		t.Fatalf("%d of %d combinations conflict: the grid proves nothing", hits, n)
	}
}
