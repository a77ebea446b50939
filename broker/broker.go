// Package broker is the one way deskguard's orders reach a venue: the
// Broker interface, orders and brackets, and execution events. broker/sim is
// a deterministic MES matching engine; broker/tradovate a real connector;
// broker/rithmic a second one, over Rithmic's R|Protocol.
// broker knows nothing of limits or accounts.
//
// It may touch only market.
package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/deskguard/deskguard/market"
)

// TIF is an order's time in force.
type TIF uint8

const (
	Day TIF = iota + 1
	GTC
)

func (t TIF) String() string {
	switch t {
	case Day:
		return "day"
	case GTC:
		return "gtc"
	}
	return fmt.Sprintf("tif(%d)", uint8(t))
}

// Order is one order as the desk asks for it. ClientID is the desk's
// idempotency key: submitting the same ClientID twice makes one order.
type Order struct {
	ClientID  string
	Account   string
	Side      market.Side
	Qty       int64
	Type      market.OrderType
	Price     market.Price // limit price (limit, stop-limit)
	StopPrice market.Price // trigger (stop, stop-limit)
	TIF       TIF
}

// Bracket is an entry with its protective stop and target, submitted as one
// group: the entry's fills arm the two exits (OSO) for the filled quantity,
// and the exits cancel each other (OCO). Stop and Target have the side
// opposite to Entry and are sized by the venue from the entry's fills.
type Bracket struct {
	Entry  Order
	Stop   Order // stop-market, GTC
	Target Order // limit
}

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

// OrderState is the venue's view of an order.
type OrderState struct {
	Order
	Status    Status
	FilledQty int64
	AvgPrice  market.Price // average fill price (rounded to a tick for display)
	GroupID   string       // the bracket's entry ClientID for bracket legs
	Role      Role
}

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
	// Ref is, for BustedEv and CorrectedEv, the VenueID of the fill event
	// the bust or correction applies to.
	Ref string
	// VenueOrder is the venue's own id of the order (stable across
	// reconnects), where it has one.
	VenueOrder string
}

// Position is the venue's view of one account's position.
type Position struct {
	Account  string
	Qty      int64        // signed: long > 0
	AvgPrice market.Price // rounded to a tick
	CostTick int64        // Σ signed qty × price of the open lots, in ticks (exact average = CostTick/Qty)
	Realized int64        // realized PnL in ticks×contracts, fees excluded
	// PrevQty and PrevPrice are the part of the position carried from an
	// earlier trade date and the price it is carried at (the venue's
	// previous settlement or average); Realized counts only today's
	// trades against it. Zero where the venue has no such notion.
	PrevQty   int64
	PrevPrice market.Price
}

// Broker is a venue connection. Implementations are safe for concurrent
// use. Every invalid request produces an error and, where the venue saw it,
// a RejectedEv event with a reason; nothing is ever silently dropped.
type Broker interface {
	SubmitOrder(ctx context.Context, o Order) error
	SubmitBracket(ctx context.Context, b Bracket) error
	// Modify changes the price (limit) or stop price of a working order.
	Modify(ctx context.Context, account, clientID string, price, stopPrice market.Price) error
	Cancel(ctx context.Context, account, clientID string) error
	CancelAll(ctx context.Context, account string) error
	// Liquidate cancels every working order of the account and flattens its
	// position at market, as one venue operation.
	Liquidate(ctx context.Context, account string) error
	OpenOrders(ctx context.Context, account string) ([]OrderState, error)
	Positions(ctx context.Context) ([]Position, error)
	// Events is the stream of execution events, in Seq order, never dropped.
	Events() <-chan Event
	Close() error
}

// Sentinel errors; implementations wrap them.
var (
	ErrUnknownOrder   = errors.New("broker: unknown order")
	ErrUnknownAccount = errors.New("broker: unknown account")
	ErrOrderDone      = errors.New("broker: order already done")
	ErrInvalid        = errors.New("broker: invalid order")
	ErrDisconnected   = errors.New("broker: disconnected")
	// ErrUnconfirmed: the venue answered a placement without saying that
	// the order exists or that it was refused, and the venue's own orders
	// do not show it. For a protective stop or a repair the caller must
	// treat the position as unprotected (flatten).
	ErrUnconfirmed = errors.New("broker: placement not confirmed")
)
