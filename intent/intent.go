// Package intent defines what a strategy engine proposes: enter with a
// bracket, add, move a stop, cancel, exit. Engines build intents, the risk
// gate (limits) judges them, the journal records them and the supervisor
// turns accepted ones into broker orders. It depends only on market.
package intent

import (
	"fmt"

	"github.com/deskguard/deskguard/market"
)

// Kind is what an intent asks for.
type Kind uint8

const (
	Enter    Kind = iota + 1 // open a position with a bracket (entry + stop + target)
	Add                      // add to a position in profit, with its own bracket
	MoveStop                 // move the protective stop of a position (tighten only)
	Cancel                   // cancel a working order (e.g. an unfilled entry)
	Exit                     // close the position at market (always reduces risk)
)

var kindNames = [...]string{Enter: "enter", Add: "add", MoveStop: "move_stop", Cancel: "cancel", Exit: "exit"}

func (k Kind) String() string {
	if k == 0 {
		return ""
	}
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// MarshalText encodes the kind by name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes a kind name.
func (k *Kind) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*k = 0
		return nil
	}
	for i, n := range kindNames {
		if n != "" && n == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("intent: kind %q: want enter, add, move_stop, cancel or exit", b)
}

// Intent is one proposal from an engine. Prices are ticks.
//
// For Enter and Add: Side, Qty, EntryType and Entry (the limit price, or the
// trigger of a stop/stop-limit; zero for market), Limit (the limit of a
// stop-limit), Stop (protective stop, stop-market) and Target (limit) are
// required. ExpireNs > 0 cancels the entry if it has not filled that many
// nanoseconds after Time.
//
// For MoveStop: Ref names the stop order's client id and Stop the new price.
// For Cancel: Ref names the order. For Exit: Qty 0 means the whole position.
type Intent struct {
	ID        string // client order id; assigned by the router when empty
	Kind      Kind
	Account   string
	Strategy  string
	Time      int64 // market time, ns UTC
	Side      market.Side
	Qty       int64
	EntryType market.OrderType
	Entry     market.Price
	Limit     market.Price
	Stop      market.Price
	Target    market.Price
	ExpireNs  int64
	Ref       string
	Reason    string // short machine-readable explanation, e.g. "orb.long: 5m close 5151.25 > ORH 5150.50, vol 1.8x"
}

// RiskTicks is the distance from entry to stop in ticks (for an entry at
// market it is measured from ref, usually the last trade).
func (in *Intent) RiskTicks(ref market.Price) int64 {
	e := in.Entry
	if in.EntryType == market.StopLimitOrder && in.Limit != 0 {
		e = in.Limit // worst fill of a stop-limit is its limit
	}
	if in.EntryType == market.MarketOrder || e == 0 {
		e = ref
	}
	d := int64(e - in.Stop)
	if d < 0 {
		d = -d
	}
	return d
}

func (in *Intent) String() string {
	return fmt.Sprintf("%s %s %s %s x%d %s@%s stop %s target %s (%s)", in.Account, in.Strategy, in.Kind, in.Side,
		in.Qty, in.EntryType, in.Entry, in.Stop, in.Target, in.Reason)
}
