// Package execution is what a venue reports about an order: the execution
// event, its kind, the order's status and its role in a bracket. It is the
// leaf both the broker (which produces events) and the journal (which
// records them) import, so neither knows the other. broker re-exports
// every name.
//
// It may touch only market.
package execution

import (
	"fmt"

	"github.com/deskguard/deskguard/market"
)

// Status is an order's life-cycle state at the venue.
type Status uint8

const (
	Pending   Status = iota + 1 // armed exit waiting for its entry to fill
	Working                     // resting at the venue
	Triggered                   // a stop-limit that triggered and now rests as a limit
	Filled
	Cancelled
	Rejected
	Expired
)

var statusNames = [...]string{Pending: "pending", Working: "working", Triggered: "triggered", Filled: "filled",
	Cancelled: "cancelled", Rejected: "rejected", Expired: "expired"}

func (s Status) String() string {
	if int(s) < len(statusNames) && statusNames[s] != "" {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Done reports whether the order can no longer trade.
func (s Status) Done() bool { return s == Filled || s == Cancelled || s == Rejected || s == Expired }

// Role is an order's place in a bracket.
type Role uint8

const (
	Single Role = iota
	EntryLeg
	StopLeg
	TargetLeg
)

func (r Role) String() string {
	return [...]string{"single", "entry", "stop", "target"}[r]
}

// EventKind is what happened to an order.
type EventKind uint8

const (
	Accepted EventKind = iota + 1
	RejectedEv
	PartiallyFilled
	FilledEv
	CancelledEv
	TriggeredEv
	ExpiredEv
	Modified
	// StatusEv: the order's venue status changed without a fill, a cancel
	// or an expiry (pending new/cancel/replace, suspended, a status report);
	// Event.Status has the new status.
	StatusEv
	// BustedEv: the venue cancelled a trade it had reported (a bust).
	// FillQty/FillPrice are the busted fill's; Ref is the VenueID of the
	// fill event it undoes. The position changes back by that fill.
	BustedEv
	// CorrectedEv: the venue corrected a trade it had reported. FillQty and
	// FillPrice are the corrected values; Ref is the VenueID of the fill
	// event it replaces.
	CorrectedEv
	// RiskStatusEv: the broker changed the account's own risk status
	// (liquidate-only, trading locked, back to normal). ClientID is empty;
	// Reason is the broker's status; Status is Rejected while the broker
	// refuses orders that add risk, Working when it is normal again.
	RiskStatusEv
)

var eventNames = [...]string{Accepted: "accepted", RejectedEv: "rejected", PartiallyFilled: "partially_filled",
	FilledEv: "filled", CancelledEv: "cancelled", TriggeredEv: "triggered", ExpiredEv: "expired", Modified: "modified",
	StatusEv: "status", BustedEv: "busted", CorrectedEv: "corrected", RiskStatusEv: "risk_status"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return fmt.Sprintf("event(%d)", uint8(k))
}

// Event is an execution event from the venue. Seq increases by one per
// event per venue; Time is venue (market) time in ns UTC.
type Event struct {
	Seq       uint64
	Time      int64
	Account   string
	ClientID  string
	Kind      EventKind
	Side      market.Side
	FillQty   int64        // this fill's quantity (fills only)
	FillPrice market.Price // this fill's price (fills only)
	LeavesQty int64        // quantity still working after the event
	Slippage  int64        // stop fills: ticks past the stop price, adverse positive
	Reason    string       // rejections and cancels: why
	Role      Role
	GroupID   string
	// VenueID is the venue's own stable id of this event (an execution
	// report id), the same across reconnects and restarts, so a desk that
	// recovers from its journal can tell an event it already booked from a
	// new one. Empty where the venue has none (the in-process sim).
	VenueID string
	// Status is the order's status after the event, where the venue says
	// (zero where it does not).
	Status Status
	// External marks an order the desk did not place through this
	// connection: one placed on the broker's own platform, or the broker's
	// own auto-liquidation. Its ClientID is the venue's name for it.
	External bool
	// ByBroker marks an order the desk did not place (External) that the
	// venue says, or the connector infers, is the broker's own
	// liquidation (its risk system flattening the account), not a
	// trader's. Where the protocol cannot tell, it is false and the desk
	// infers it (supervisor: an order that only reduces the position,
	// arriving while or just before the broker reports the account
	// locked).
	ByBroker bool `json:",omitempty"`
	// Ref is, for BustedEv and CorrectedEv, the VenueID of the fill event
	// the bust or correction applies to.
	Ref string
	// VenueOrder is the venue's own id of the order (stable across
	// reconnects), where it has one.
	VenueOrder string
	// OrderType, Price and StopPrice are the order's type, limit price and
	// trigger price as the venue holds them, where it says (zero where it
	// does not): all the desk knows of an order it did not place.
	OrderType market.OrderType `json:",omitempty"`
	Price     market.Price     `json:",omitempty"`
	StopPrice market.Price     `json:",omitempty"`
}
