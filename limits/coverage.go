// coverage.go: invariant 6, every open position has working stop coverage
// for its full quantity; what to do when it has not.

package limits

import "github.com/deskguard/deskguard/market"

// RepairKind is what StopCoverage asks the supervisor to do.
type RepairKind uint8

const (
	RepairNone         RepairKind = iota // covered exactly
	RepairPlaceStop                      // place a stop-market for Qty at StopPrice, Side
	RepairFlatten                        // no sensible stop price: flatten the position
	RepairTrimStops                      // stops exceed the position by Qty: a fill would reverse it
	RepairTightenStops                   // stops lie past StopPrice (the loss line): move them to it
)

func (k RepairKind) String() string {
	names := [...]string{"none", "place_stop", "flatten", "trim_stops", "tighten_stops"}
	if int(k) < len(names) {
		return names[k]
	}
	return "repair(?)"
}

// RepairAction is the repair for a coverage gap.
type RepairAction struct {
	Kind      RepairKind
	Side      market.Side // side of the stop to place (opposite the position)
	Qty       int64
	StopPrice market.Price
}

// StopCoverage reports whether the working protective stops (RoleStop,
// stop-market, side opposite the position) cover the whole of positionQty, and how to
// repair a gap: a stop for the missing quantity at stopAt (usually the
// position's bracket stop, or the tightest working one), or a flatten when
// stopAt is missing or already on the wrong side of the last trade (a stop
// there would fire at once, or never protect).
func StopCoverage(positionQty int64, orders []WorkingOrder, stopAt, last market.Price) (bool, RepairAction) {
	if positionQty == 0 {
		return true, RepairAction{}
	}
	q := abs(positionQty)
	exit := market.Buy
	if positionQty > 0 {
		exit = market.Sell
	}
	covered := int64(0)
	for i := range orders {
		o := &orders[i]
		// Only stop-market orders protect: a stop-limit can be gapped past
		// and never fill (invariant 2).
		if o.Role == RoleStop && o.Side == exit && o.Qty > 0 && o.Type == market.StopOrder {
			covered += o.Qty
		}
	}
	switch {
	case covered == q:
		return true, RepairAction{}
	case covered > q:
		return true, RepairAction{Kind: RepairTrimStops, Side: exit, Qty: covered - q}
	}
	missing := q - covered
	sensible := stopAt > 0 && (last <= 0 || (exit == market.Sell && stopAt < last) || (exit == market.Buy && stopAt > last))
	if !sensible {
		return false, RepairAction{Kind: RepairFlatten, Side: exit, Qty: q}
	}
	return false, RepairAction{Kind: RepairPlaceStop, Side: exit, Qty: missing, StopPrice: stopAt}
}

// LooseStops lists the protective stops of a position (RoleStop, on the
// exit side) that lie farther from the market than stopAt — a long's
// below it, a short's above it: a fill there loses more than stopAt
// allows. Moving them to stopAt only tightens them (invariant 3's stop
// rule). None when the position is flat or stopAt is unset.
func LooseStops(positionQty int64, orders []WorkingOrder, stopAt market.Price) []string {
	if positionQty == 0 || stopAt <= 0 {
		return nil
	}
	exit := market.Buy
	if positionQty > 0 {
		exit = market.Sell
	}
	var out []string
	for i := range orders {
		o := &orders[i]
		if o.Role != RoleStop || o.Side != exit || o.Qty <= 0 || o.Price <= 0 {
			continue
		}
		if (exit == market.Sell && o.Price < stopAt) || (exit == market.Buy && o.Price > stopAt) {
			out = append(out, o.ClientID)
		}
	}
	return out
}
