// Package execution is what a venue reports about an order: the execution
// event, its kind, and the order's role in a bracket. It is the leaf both
// the broker (which produces events) and the journal (which records them)
// import, so neither knows the other. broker re-exports every name.
//
// It may touch only market.
package execution

import (
	"fmt"

	"github.com/deskguard/deskguard/market"
)

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
)

var eventNames = [...]string{Accepted: "accepted", RejectedEv: "rejected", PartiallyFilled: "partially_filled",
	FilledEv: "filled", CancelledEv: "cancelled", TriggeredEv: "triggered", ExpiredEv: "expired", Modified: "modified"}

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
}
