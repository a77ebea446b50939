// Package deskapi is the small surface through which the CLI, the console
// and the control socket see and act on a running desk. The supervisor
// implements Desk; callers never reach into supervisor internals. It holds
// plain data types only (money as decimal strings with two decimals,
// prices in index points) so they travel as JSON unchanged, and the control
// socket's wire types and client (Request, Response, Call; the server is
// package control).
//
// It may touch nothing else of deskguard; Call dials the Unix socket path it
// is given (the server, package control, listens there with mode 0600).
package deskapi

import (
	"context"
	"errors"
)

// Desk is what an authorized caller may do to the desk. Every method is
// journaled by the implementation with who asked.
type Desk interface {
	Status(ctx context.Context) Status
	// Flatten halts and liquidates the desk (account "") or one account.
	Flatten(ctx context.Context, account, trigger, who string) error
	// Rearm returns a halted desk (and its halted accounts) to running.
	Rearm(ctx context.Context, who, why string) error
	// Unlock lifts an account's drawdown lockout before the session reset;
	// account "" lifts the desk-wide drawdown lockout (the act
	// authz.UnlockDesk, which only a manager may ask for).
	Unlock(ctx context.Context, account, who, why string) error
	// ClearFault returns a faulted account (reconcile mismatch, worker
	// crash loop) to trading once the venue agrees with the desk.
	ClearFault(ctx context.Context, account, who, why string) error
	// SetEngines starts (run=true) or stops an account's engines.
	SetEngines(ctx context.Context, account string, run bool, who string) error
	// Press presses the simulated panic button (only when the button is "sim").
	Press(ctx context.Context, who string) error
}

// AnsweringDesk is a Desk whose flatten answers at once with what it has
// set in motion (the supervisor): a surface asks it when it can, so that a
// venue that does not answer never leaves the caller without an answer.
type AnsweringDesk interface {
	// FlattenAnswered is Flatten, answered once the liquidations are sent
	// and the venue has answered them or a short bound has passed; the kill
	// goes on either way (Status.LastKill shows its progress).
	FlattenAnswered(ctx context.Context, account, trigger, who string) (FlattenAnswer, error)
}

// FlattenAnswer is a flatten's answer: accepted, the liquidations sent,
// and which accounts the venue has not yet confirmed.
type FlattenAnswer struct {
	Scope    string `json:"scope"` // "desk", or the account
	Trigger  string `json:"trigger"`
	Accounts int    `json:"accounts"` // liquidations sent
	// Unconfirmed are the accounts whose liquidation the venue has not
	// answered yet; Refused those whose liquidation it refused.
	Unconfirmed []string `json:"unconfirmed,omitempty"`
	Refused     []string `json:"refused,omitempty"`
}

// KillProgress is the latest kill (under way or done), for Status.
type KillProgress struct {
	Scope    string        `json:"scope"`
	Trigger  string        `json:"trigger"`
	Who      string        `json:"who"`
	Started  string        `json:"started"`  // RFC 3339 UTC, desk clock
	Answered bool          `json:"answered"` // every liquidation answered by the venue
	Accounts []KillAccount `json:"accounts"`
}

// KillAccount is one account of a kill: its liquidation ("sent": the venue
// has not answered yet, "answered", "refused") and whether the desk's
// books show it flat with nothing working.
type KillAccount struct {
	ID          string `json:"id"`
	Liquidation string `json:"liquidation"`
	Flat        bool   `json:"flat"`
}

// Errors callers can act on.
var (
	ErrUnknownAccount = errors.New("desk: unknown account")
	ErrNotAllowed     = errors.New("desk: not allowed in this state")
	ErrNoSimButton    = errors.New("desk: the panic button is not simulated")
	ErrReasonRequired = errors.New("desk: a reason is required")
)

// Status is the desk at one instant.
type Status struct {
	Time        string  `json:"time"` // RFC 3339 UTC, desk clock
	State       string  `json:"state"`
	Session     string  `json:"session"`
	LastPrice   float64 `json:"last_price"`
	Trades      int64   `json:"trades"`
	Net         string  `json:"net"`
	DeskLockout string  `json:"desk_lockout_line"`
	// DeskLockedOut: the desk crossed its desk-wide drawdown line this
	// session; entries are refused (desk_locked_out) until the session
	// reset or the manager's unlock of the desk (Unlock with account "").
	DeskLockedOut bool            `json:"desk_locked_out"`
	Equity        string          `json:"equity"`
	Accounts      []AccountStatus `json:"accounts"`
	Links         Links           `json:"links"`
	Lights        Lights          `json:"lights"`
	Journal       []JournalLine   `json:"journal_tail,omitempty"`
	// LastKill is the latest kill and its progress (nil: none this run).
	LastKill *KillProgress `json:"last_kill,omitempty"`
}

// AccountStatus is one sub-account.
type AccountStatus struct {
	ID           string         `json:"id"`
	Owner        string         `json:"owner"`
	State        string         `json:"state"`
	Strategies   []string       `json:"strategies"`
	EnginesOn    bool           `json:"engines_on"`
	Position     int64          `json:"position"`
	AvgPrice     float64        `json:"avg_price"`
	Realized     string         `json:"realized"`
	Unrealized   string         `json:"unrealized"`
	Fees         string         `json:"fees"`
	Net          string         `json:"net"`
	StartEquity  string         `json:"start_equity"`
	Equity       string         `json:"equity"`
	LockoutLine  string         `json:"lockout_line"`
	DrawdownUsed float64        `json:"drawdown_used"` // 0..1 of the allowance
	MaxDrawdown  string         `json:"max_drawdown"`
	RoundTrips   int            `json:"round_trips"`
	Wins         int            `json:"wins"`
	Losses       int            `json:"losses"`
	StopCovered  bool           `json:"stop_covered"`
	Orders       []Order        `json:"orders"`
	LastSignal   string         `json:"last_signal"`
	Worker       string         `json:"worker"` // "running", "restarting", "faulted", "in-process"
	Rejections   map[string]int `json:"rejections,omitempty"`
	EquityCurve  []Point        `json:"equity_curve,omitempty"`
	Trades       []RoundTrip    `json:"trades,omitempty"`
}

// Order is a working order with its bracket role.
type Order struct {
	ClientID string  `json:"client_id"`
	Role     string  `json:"role"` // entry, stop, target, single
	Side     string  `json:"side"`
	Type     string  `json:"type"`
	Qty      int64   `json:"qty"`
	Filled   int64   `json:"filled"`
	Price    float64 `json:"price"`
	Status   string  `json:"status"`
	Strategy string  `json:"strategy"`
}

// Point is one sample of an equity curve.
type Point struct {
	Time   int64  `json:"t"` // ns UTC
	Equity string `json:"equity"`
}

// RoundTrip is one closed trade.
type RoundTrip struct {
	Strategy string  `json:"strategy"`
	Side     string  `json:"side"`
	Qty      int64   `json:"qty"`
	Entry    float64 `json:"entry"`
	Exit     float64 `json:"exit"`
	Ticks    int64   `json:"ticks"`
	PnL      string  `json:"pnl"`
	Fees     string  `json:"fees"`
	EntryAt  string  `json:"entry_time"`
	ExitAt   string  `json:"exit_time"`
}

// Links is the health of the desk's outside connections.
type Links struct {
	Venue       string `json:"venue"`        // "up", "down", "sim"
	Data        string `json:"data"`         // "up", "stale", "ended"
	Slack       string `json:"slack"`        // "up", "off", "failing"
	PanicButton string `json:"panic_button"` // "ok", "offline: why", "sim"
}

// Lights is the state of the desk lights.
type Lights struct {
	Green    bool `json:"green"`
	Red      bool `json:"red"`
	Blinking bool `json:"blinking"`
	Buzzer   bool `json:"buzzer"`
}

// JournalLine is one journal record, summarized.
type JournalLine struct {
	Seq     uint64 `json:"seq"`
	Time    string `json:"time"`
	Kind    string `json:"kind"`
	Account string `json:"account,omitempty"`
	Text    string `json:"text"`
}
