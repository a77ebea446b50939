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

// Position is the venue's view of one account's position.
type Position struct {
	Account  string
	Qty      int64        // signed: long > 0
	AvgPrice market.Price // rounded to a tick
	CostTick int64        // Σ signed qty × price of the open lots, in ticks (exact average = CostTick/Qty)
	Realized int64        // realized PnL in ticks×contracts, fees excluded
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
)
