// This file is the named fault hook the fault drill draws from: each kind
// is one of the injected behaviours of the real protocol, done once.

package venue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

// lastFill picks an account that has an active fill and returns its last
// filled order's ClientID and the fill's price.
func (v *Venue) lastFill(rng *rand.Rand) (account, clientID string, price market.Price, ok bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	last := map[string]int{} // account → index of its last active fill
	for i, f := range v.st.fills {
		if o := v.st.orders[f.OrderID]; o != nil && f.Active {
			last[o.account] = i
		}
	}
	accts := sortedKeys(last)
	if len(accts) == 0 {
		return "", "", 0, false
	}
	a := accts[rng.IntN(len(accts))]
	f := v.st.fills[last[a]]
	o := v.st.orders[f.OrderID]
	px, err := market.PriceFromPoints(f.Price)
	return a, o.clOrd, px, err == nil
}

// InjectedFaults are the kinds Inject knows, for a drill to draw from.
// They are the ones a desk must ride out without a desk-side change: each
// leaves the venue's books alone (no bust, no external order).
var InjectedFaults = []string{"socket-penalty", "rest-429", "silence", "close-frames", "no-order-id"}

// DeskSideFaults change the venue's books behind the desk's back: a trade
// busted or corrected, a bracket placed on the broker's own platform, the
// broker's auto-liquidation, a cash adjustment. A desk rides them out only
// by booking them (issue 13, stage 2); Inject does them, and the drill's
// venue-faults scenario draws them with the others.
var DeskSideFaults = []string{"bust", "correct", "external-bracket", "auto-liquidate", "skew-cash"}

// Inject does one fault of a kind of InjectedFaults or DeskSideFaults (or
// of the older drill kinds: drop-sockets, rest-5xx, rest-5xx-after-acting,
// penalty, expire-tokens), with its size and account drawn from rng.
func (v *Venue) Inject(ctx context.Context, kind string, rng *rand.Rand) error {
	switch kind {
	case "socket-penalty": // the next sync or chart reply is a ticket
		v.PenalizeSocketNext(1+rng.IntN(2), 1, false)
	case "rest-429":
		v.Fail429Next(1 + rng.IntN(3))
	case "silence": // the open sockets go silent (half-open)
		v.SilenceSockets()
	case "close-frames":
		v.CloseWebSockets(1000, "session closed by the server")
	case "no-order-id": // the next placement is made but answered with no id
		v.NoOrderIDNext(1, true)
	case "drop-sockets":
		v.DropWebSockets()
	case "rest-5xx":
		v.FailNextREST(1+rng.IntN(3), []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[rng.IntN(3)])
	case "rest-5xx-after-acting":
		v.FailNextRESTAfter(1+rng.IntN(2), http.StatusInternalServerError)
	case "penalty":
		v.PenalizeNext(1+rng.IntN(2), 1)
	case "expire-tokens":
		v.ExpireTokens()
	case "bust", "correct":
		a, id, px, ok := v.lastFill(rng)
		if !ok {
			return nil // nothing filled yet: nothing to bust
		}
		if kind == "bust" {
			return v.Bust(a, id)
		}
		return v.Correct(a, id, px+market.Price(1-2*rng.IntN(2)))
	case "external-bracket":
		a := v.cfg.Accounts[rng.IntN(len(v.cfg.Accounts))]
		last, ok := v.sim.LastTrade()
		if !ok {
			return nil
		}
		v.mu.Lock()
		v.extN++
		n := v.extN
		v.mu.Unlock()
		id := fmt.Sprintf("ext.%d", n)
		side := []market.Side{market.Buy, market.Sell}[rng.IntN(2)]
		off := market.Price(20 * side.Sign())
		err := v.PlaceExternal(broker.Bracket{
			Entry:  broker.Order{ClientID: id, Account: a, Side: side, Qty: 1, Type: market.MarketOrder, TIF: broker.Day},
			Stop:   broker.Order{ClientID: id + ".s", Side: side.Opposite(), Type: market.StopOrder, StopPrice: last.Price - off, TIF: broker.GTC},
			Target: broker.Order{ClientID: id + ".t", Side: side.Opposite(), Type: market.LimitOrder, Price: last.Price + off, TIF: broker.GTC},
		})
		if errors.Is(err, ErrRefusedByRisk) {
			return nil // the trader's order bounced at the broker: the fault happened, nothing to book (Stats.ExternalRefused)
		}
		return err
	case "auto-liquidate":
		return v.AutoLiquidate(v.cfg.Accounts[rng.IntN(len(v.cfg.Accounts))])
	case "skew-cash":
		v.SkewCash(v.cfg.Accounts[rng.IntN(len(v.cfg.Accounts))], -1.20)
	default:
		return fmt.Errorf("venue: no fault %q", kind)
	}
	return ctx.Err()
}
