package supervisor

// options.go: what a Desk is built from — its Options, the accounts'
// specs, where the engines run, and the policy for orders the desk did not
// place. Plain data; New (setup.go) checks and defaults it.

import (
	"log/slog"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/strategies"
	"github.com/deskguard/deskguard/supervisor/workerhost"
)

// WorkerMode says where the engines run.
type WorkerMode int

const (
	// InProcess runs every account's engines in the supervisor, called
	// synchronously on the tick path: replays and backtests.
	InProcess WorkerMode = iota
	// Processes runs each account's engines in a `deskguard worker` child.
	Processes
)

// ProcConfig configures the worker processes (package workerhost).
type ProcConfig = workerhost.ProcConfig

// AccountSpec is one sub-account as the desk runs it.
type AccountSpec struct {
	Config     accounts.Config
	DayTrading bool // flattened by the 15:55 schedule
	EnginesOff bool // start with engines stopped
}

// Options configures a Desk.
type Options struct {
	// Clock is the market's time: the data's in a replay (a ReplayClock
	// the trades advance), the wall's live. Sessions, the schedule, the
	// gate's windows and every journaled market time run on it.
	Clock market.Clock
	// Wall is real time, for what is measured in real time whatever the
	// data does: the stop-coverage grace, a link's downtime, the waits on
	// the venue's replayed reports, the kill's journal bound, the worker
	// processes' heartbeats and backoff, and the kill's own timings.
	// Default market.WallClock{}; tests inject one they move.
	Wall            market.Clock
	Log             *slog.Logger
	Journal         Journal
	Broker          broker.Broker
	Limits          limits.Config   // desk-wide defaults; accounts may override
	DeskDrawdownPct decimal.Decimal // desk aggregate lockout; zero = the account default
	// DeskWarnPct and DeskReduceOnlyPct are the desk ladder's rungs over
	// the sum of the accounts' allowances, in whole percent used; zero =
	// Limits' warn_pct / reduce_only_pct (config.(*Config).DeskLadder).
	DeskWarnPct       int
	DeskReduceOnlyPct int
	// Calendar is the news calendar (config.(*Config).NewsCalendar): the
	// gates refuse entries in each release's blackout and the blackout
	// monitors flatten ahead of it. nil = no releases.
	Calendar     *limits.Calendar
	Accounts     []AccountSpec
	Engines      strategies.Config
	Schedule     ScheduleConfig
	Workers      WorkerMode
	Proc         ProcConfig
	Alerts       Alerter
	ManualUnlock bool // lockouts survive the session reset until the risk manager unlocks
	// CoverageGrace is how long a stop-coverage gap may last before it is
	// repaired (live venues arm a bracket just after its entry fills);
	// 0 = repair at once (synchronous replay).
	CoverageGrace time.Duration
	// KillJournalWait bounds how long a kill waits for its own record to
	// be durable before it liquidates anyway (a disk that stalls must not
	// hold a kill back; the record still lands when the disk answers).
	// Default 250ms; the kill's record waits at most one commit already
	// running (journal.AppendUrgent), so this is a backstop.
	KillJournalWait time.Duration
	// FreshVenue: the venue starts empty with the desk (the in-process sim,
	// the built-in venue child): a position or order the journal holds
	// open that it does not have went with the previous run's venue. Start's
	// reconciliation still corrects the books to the venue, journals the
	// correction and alerts it, but does not fault the account for it (the
	// cause is known); a lockout or kill in force stays in force.
	FreshVenue bool
	// KillAnswerWait bounds how long a flatten from a surface waits for the
	// venue to answer its liquidations before it answers the caller (the
	// kill goes on; Status.LastKill shows which are unconfirmed). Default 1s.
	KillAnswerWait time.Duration
	// VenueAnswerBound: a liquidation unanswered this long marks the venue
	// link down (degraded, journaled, alerted) until it is answered.
	// Default 2s.
	VenueAnswerBound time.Duration
	// PressButton, when set, presses the simulated panic button (Press).
	PressButton func() error
	// LinkStatus reports the health of outside links for Status (optional).
	LinkStatus func() (venue, data, slack, button string)
	// LinkNotes reports what the links cannot get past on their own, for
	// Status (optional; a broker that is a broker.Noter is asked too): a
	// captcha demanded, market data that had a gap.
	LinkNotes func() []string
	// FirmStatus reports the firm link for Status (optional; nil, or a
	// func returning nil, without a firm link).
	FirmStatus func() *deskapi.FirmLink
	// OnStateChange is told the desk state and whether any account is
	// locked out after every transition (the desk lights). Must not block.
	OnStateChange func(deskState string, anyLockedOut bool)
	// LightsStatus reports the desk lights for Status (optional).
	LightsStatus func() (green, red, blinking, buzzer bool)
	// ExternalOrders says what the desk does with an order it did not
	// place that the venue reports on one of its accounts (a trader's
	// bracket on the broker's own platform, the broker's auto-liquidation):
	// ExternalAdopt (the default) books it and brings it under the desk's
	// rules — its position covered by a working stop, counted against the
	// allowance; ExternalFault faults the account and flattens it.
	ExternalOrders string
	// BrokerLiqWindow is how long the desk gives the broker's own
	// liquidation of an account (brokerliq.go): an order the desk did not
	// place that only reduces the position waits this long for the
	// broker to report the account locked before it is taken for a
	// trader's (ExternalOrders then applies), and while the broker's
	// liquidation works — at most this long — the desk neither repairs
	// the account's stop coverage nor sends a liquidation of its own
	// beside it. Default 5 s ([desk] broker_liq_window). The window is
	// checked when the desk settles (live: every CoverageGrace/2, and
	// after each burst of events).
	BrokerLiqWindow time.Duration
	// Observer receives the gate's and the kill's latencies (metrics);
	// nil = none.
	Observer Observer
}

// Options.ExternalOrders.
const (
	ExternalAdopt = "adopt"
	ExternalFault = "fault"
)
