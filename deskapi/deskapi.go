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
	// ResetTrailing resets an account's breached trailing drawdown line
	// (the risk manager, with a reason): the line starts again below the
	// equity now, and an account locked out by it alone trades again.
	ResetTrailing(ctx context.Context, account, who, why string) error
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
	// Held are the accounts the broker is liquidating itself: the desk's
	// liquidation waits for the broker's and goes once it is done (or its
	// window has passed); not a venue answer.
	Held []string `json:"held,omitempty"`
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
	Time        string          `json:"time"` // RFC 3339 UTC, desk clock
	State       string          `json:"state"`
	Session     string          `json:"session"`
	LastPrice   float64         `json:"last_price"`
	Trades      int64           `json:"trades"`
	Net         string          `json:"net"`
	DeskLockout string          `json:"desk_lockout_line"`
	DeskLevel   string          `json:"desk_level,omitempty"` // the desk ladder's rung: normal, warning, reduce_only, locked_out
	Equity      string          `json:"equity"`
	Accounts    []AccountStatus `json:"accounts"`
	Links       Links           `json:"links"`
	// FirmReduceOnly: the firm link has made the desk reduce-only (it lost
	// the firm for longer than [firm] reduce_only_after); entries and adds
	// are refused with reduce_only until the firm is heard again.
	FirmReduceOnly bool `json:"firm_reduce_only,omitempty"`
	// Firm is the desk's firm link (nil without one): whether it hears the
	// firm, and its outbox's progress and lag.
	Firm    *FirmLink     `json:"firm,omitempty"`
	Lights  Lights        `json:"lights"`
	Journal []JournalLine `json:"journal_tail,omitempty"`
	// DeskLockedOut: the desk crossed its desk-wide drawdown line this
	// session; entries are refused (desk_locked_out) until the session
	// reset or the manager's unlock of the desk (Unlock with account "").
	DeskLockedOut bool `json:"desk_locked_out"`
	// LastKill is the latest kill and its progress (nil: none this run).
	LastKill *KillProgress `json:"last_kill,omitempty"`

	// Zone is the IANA time zone every time a person reads is shown in
	// (the console, status, report, alerts, the run summary): the desk's
	// [desk] time_zone, default America/New_York. Times in this API stay
	// RFC 3339 UTC (the journal keeps UTC); the reader converts and labels.
	Zone string `json:"zone,omitempty"`
	// DrawdownUsed is the desk's share of its own drawdown allowance used,
	// 0..1 (the desk lockout line against the sum of the accounts).
	DrawdownUsed float64 `json:"desk_drawdown_used"`
	// Kills are the session's kills, oldest first.
	Kills []KillLine `json:"kills,omitempty"`
	// Fills is the blotter: the latest fills across the desk, oldest first
	// (bounded; a trader sees its own).
	Fills []Fill `json:"fills,omitempty"`
}

// KillLine is one kill of the session.
type KillLine struct {
	Time    string `json:"time"`  // RFC 3339 UTC
	Scope   string `json:"scope"` // "desk" or an account id
	Trigger string `json:"trigger"`
	Who     string `json:"who"`
}

// Fill is one execution as the blotter shows it.
type Fill struct {
	Seq      uint64  `json:"seq"`  // its journal record
	Time     string  `json:"time"` // RFC 3339 UTC (nanoseconds), the venue's
	Account  string  `json:"account"`
	Strategy string  `json:"strategy"`
	ClientID string  `json:"client_id"`
	Role     string  `json:"role"` // entry, stop, target, single, liquidation, repair
	Side     string  `json:"side"`
	Qty      int64   `json:"qty"`
	Price    float64 `json:"price"`
	Leaves   int64   `json:"leaves"`
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

	// LossAtStop is the loss booked if every working protective stop
	// filled now at its price less the configured slippage ticks, fees
	// included (a negative amount; "" when flat), and EquityAtStop the
	// equity that would leave. StopQty is the quantity those stops cover.
	LossAtStop   string `json:"loss_at_stop,omitempty"`
	EquityAtStop string `json:"equity_at_stop,omitempty"`
	StopQty      int64  `json:"stop_qty"`
	// Risk is how much of each limit is used, and the one rule nearest
	// to tripping (the desk's only answer to that question).
	Risk *RiskUsage `json:"risk,omitempty"`

	// The broker's side of the account, where the venue has one. AtBroker
	// is its own risk status: "" when normal, else "locked at broker: ..."
	// (the broker refuses orders that add risk). BrokerRisk is the second
	// line the desk set there at start ("daily loss 750.00, flatten at
	// ...") or why it could not ("broker risk not set: ...").
	AtBroker   string `json:"at_broker,omitempty"`
	BrokerRisk string `json:"broker_risk,omitempty"`
	// BrokerCash is the last check of the ledger against the broker's own
	// cash balance that found them apart ("" = they agreed, or the venue
	// reports none).
	BrokerCash string `json:"broker_cash,omitempty"`
	// External counts the orders the desk did not place that the venue
	// reported on the account this run; Busts the trade busts and
	// corrections booked.
	External int `json:"external_orders,omitempty"`
	Busts    int `json:"busts,omitempty"`
}

// RiskUsage is how much of each risk limit an account has used and which
// rule is nearest to tripping (docs/risk.md). Money as decimal strings,
// times RFC 3339 UTC; a rule that is off leaves its fields empty.
type RiskUsage struct {
	Level          string `json:"level"`          // the ladder's rung: normal, warning, reduce_only, locked_out
	AllowanceUsed  string `json:"allowance_used"` // start − equity (negative: up on the day)
	Allowance      string `json:"allowance"`      // the day's allowance: start − lockout line
	TrailingLine   string `json:"trailing_line,omitempty"`
	TrailingLeft   string `json:"trailing_left,omitempty"` // equity − trailing line
	TrailingBroken bool   `json:"trailing_breached,omitempty"`
	WeeklyLine     string `json:"weekly_line,omitempty"`
	WeeklyBroken   bool   `json:"weekly_breached,omitempty"`
	TradesToday    int64  `json:"trades_today"`
	TradeLimit     int64  `json:"trade_limit"`
	OrdersToday    int64  `json:"orders_today"`
	OrderLimit     int64  `json:"order_limit"`
	TierUnits      int64  `json:"tier_units,omitempty"` // scaling plan on: units held and the position they allow
	TierMaxPos     int64  `json:"tier_max_position,omitempty"`
	MaxPosition    int64  `json:"max_position"` // the position limit now (max_position, or the tier's when lower)
	CooldownUntil  string `json:"cooldown_until,omitempty"`
	NearestRule    string `json:"nearest_rule"` // the rule nearest to tripping (a reason code)
	NearestBP      int64  `json:"nearest_bp"`   // basis points of its threshold used; 10000 = at it
	// NearestLeft is what is left before the nearest rule trips, in its
	// own units ("$412.50", "3 trades", "1 loss", "2 contracts"), or
	// "reached" at or past it.
	NearestLeft   string `json:"nearest_left,omitempty"`
	NextRelease   string `json:"next_release,omitempty"`
	NextReleaseAt string `json:"next_release_at,omitempty"`
	BlackoutFrom  string `json:"blackout_from,omitempty"` // when the next release's blackout starts
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
	// Notes are what the venue connection cannot get past on its own (a
	// captcha demanded, market data that had a gap and was backfilled).
	Notes []string `json:"notes,omitempty"`
}

// FirmLink is the desk's link to the firm (docs/firm.md).
type FirmLink struct {
	Desk       string `json:"desk"`
	Up         bool   `json:"up"`                   // the firm's heartbeat is heard
	DownSince  string `json:"down_since,omitempty"` // RFC 3339 UTC, when not heard
	ReduceOnly bool   `json:"reduce_only"`          // the link's reduce-only hook is on
	// The outbox: the last durable journal seq, the last one the stream
	// acknowledged, and the lag between them (records the firm has not got).
	Committed   uint64 `json:"outbox_committed"`
	Published   uint64 `json:"outbox_published"`
	Lag         uint64 `json:"outbox_lag"`
	OutboxUp    bool   `json:"outbox_up"`
	OutboxError string `json:"outbox_error,omitempty"`
	OutboxSince string `json:"outbox_down_since,omitempty"`
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
