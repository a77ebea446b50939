// Package broker is the one way deskguard's orders reach a venue: the
// Broker interface, orders and brackets, and execution events. broker/sim is
// a deterministic MES matching engine; broker/tradovate a real connector;
// broker/rithmic a second one, over Rithmic's R|Protocol.
// broker knows nothing of limits, accounts or the journal.
//
// It may touch only market and execution.
package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/deskguard/deskguard/execution"
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

// Status, Role, EventKind and Event are the execution vocabulary
// (package execution), shared with the journal, which records events
// without knowing the broker.
type (
	Status    = execution.Status
	Role      = execution.Role
	EventKind = execution.EventKind
	Event     = execution.Event
)

// The statuses, roles and event kinds.
const (
	Pending   = execution.Pending
	Working   = execution.Working
	Triggered = execution.Triggered
	Filled    = execution.Filled
	Cancelled = execution.Cancelled
	Rejected  = execution.Rejected
	Expired   = execution.Expired

	Single    = execution.Single
	EntryLeg  = execution.EntryLeg
	StopLeg   = execution.StopLeg
	TargetLeg = execution.TargetLeg

	Accepted        = execution.Accepted
	RejectedEv      = execution.RejectedEv
	PartiallyFilled = execution.PartiallyFilled
	FilledEv        = execution.FilledEv
	CancelledEv     = execution.CancelledEv
	TriggeredEv     = execution.TriggeredEv
	ExpiredEv       = execution.ExpiredEv
	Modified        = execution.Modified
	StatusEv        = execution.StatusEv
	BustedEv        = execution.BustedEv
	CorrectedEv     = execution.CorrectedEv
	RiskStatusEv    = execution.RiskStatusEv
)

// OrderState is the venue's view of an order.
type OrderState struct {
	Order
	Status    Status
	FilledQty int64
	AvgPrice  market.Price // average fill price (rounded to a tick for display)
	GroupID   string       // the bracket's entry ClientID for bracket legs
	Role      Role
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
