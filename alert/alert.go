// Package alert is the desk's alert vocabulary: what an alert is (the
// Alert value, its kinds and severities, the facts each kind carries) and
// one constructor per kind, so callers fill exactly the facts each message
// shows. It says nothing of how an alert is delivered: the Slack transport
// (queue, retries, Block Kit) is package alerts, which renders alert.Alert.
// The desk core (the supervisor) builds alerts with this package and hands
// them to whatever notifier it was given, so it does not link slack-go.
//
// It may touch shopspring/decimal and the standard library's time only: no
// file, network or clock (an alert's time is given by its caller).
package alert

// alert.go: Alert, Kind, Severity, the facts and the constructors.

import (
	"time"

	"github.com/shopspring/decimal"
)

// Kind names what happened. The values match the supervisor's alert kinds.
type Kind string

// Alert kinds.
const (
	KindKill              Kind = "kill"
	KindLockout           Kind = "lockout"
	KindWorkerCrash       Kind = "worker_crash"
	KindWorkerRestart     Kind = "worker_restart"
	KindWorkerFault       Kind = "worker_fault"
	KindStopRepaired      Kind = "stop_repaired"
	KindLinkLost          Kind = "link_lost"
	KindLinkBack          Kind = "link_back"
	KindReconcileMismatch Kind = "reconcile_mismatch"
	KindRearmed           Kind = "rearmed"
	KindUnlocked          Kind = "unlocked"
	KindFaultCleared      Kind = "fault_cleared"
	KindDailySummary      Kind = "daily_summary"
	KindJournalFailed     Kind = "journal_failed"
	// The risk rules of docs/risk.md (issue 20).
	KindRiskWarning     Kind = "risk_warning"     // the ladder's warning rung (an account, or the desk)
	KindReduceOnly      Kind = "reduce_only"      // the ladder's reduce-only rung
	KindTrailingBreach  Kind = "trailing_breach"  // the trailing drawdown line breached: locked
	KindWeeklyBreach    Kind = "weekly_breach"    // the weekly loss line breached: locked
	KindBlackoutFlatten Kind = "blackout_flatten" // flattened ahead of a scheduled release
	KindTrailingReset   Kind = "trailing_reset"   // the risk manager reset a trailing line
	// KindBroker: the broker did something beside the desk, or refused
	// something the desk asked of it — a trade busted or corrected, an
	// order the desk did not place, the account locked at the broker, the
	// broker's own risk limits not set, a cash balance that disagrees.
	KindBroker Kind = "broker"
)

// Kinds lists every kind, in a stable order (tests and docs iterate it).
var Kinds = []Kind{KindKill, KindLockout, KindWorkerCrash, KindWorkerRestart, KindWorkerFault,
	KindStopRepaired, KindLinkLost, KindLinkBack, KindReconcileMismatch, KindRearmed, KindUnlocked,
	KindFaultCleared, KindDailySummary, KindJournalFailed, KindRiskWarning, KindReduceOnly, KindTrailingBreach,
	KindWeeklyBreach, KindBlackoutFlatten, KindTrailingReset, KindBroker}

// Severity orders alerts for the queue. Critical alerts are never dropped.
type Severity int

// Severities, lowest first.
const (
	Info Severity = iota
	Warning
	Critical
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Critical:
		return "critical"
	}
	return "unknown"
}

// Alert is one thing the desk tells its people. Build it with a constructor
// (Kill, Lockout, ...); the zero At is stamped from the notifier's clock.
type Alert struct {
	Kind     Kind
	Severity Severity
	Account  string    // "" for desk-wide alerts
	At       time.Time // when it happened; zero = the notifier's clock at Notify
	Detail   string    // free text shown under the facts

	Kill      *KillFacts
	Lockout   *LockoutFacts
	Worker    *WorkerFacts
	Stop      *StopFacts
	Link      *LinkFacts
	Reconcile *ReconcileFacts
	Rearm     *RearmFacts
	Summary   *SummaryFacts
	Risk      *RiskFacts
	Broker    *BrokerFacts

	// Set by the notifier when it coalesced a flood: Repeats more alerts of
	// this account and kind arrived since Since; this is the latest of them.
	Repeats int
	Since   time.Time
}

// Position is an account's signed position in contracts (+long, -short).
type Position struct {
	Account string
	Qty     int64
}

// KillFacts: what a kill did.
type KillFacts struct {
	Scope     string     // "" = the whole desk, else the account id
	Trigger   string     // button, slack, console, cli, signal, drawdown, watchdog, ...
	Who       string     // operator or Slack user id, "deskguard" for automatic kills
	Accounts  []string   // accounts in scope
	Flattened []Position // positions being flattened at the kill
	NetPnL    decimal.Decimal
}

// LockoutFacts: an account (or the desk) crossed its drawdown line.
type LockoutFacts struct {
	Equity      decimal.Decimal
	StartEquity decimal.Decimal
	Limit       decimal.Decimal // allowed drawdown as a fraction of start equity (0.015)
}

// WorkerFacts: a worker process crashed, restarts or is faulted.
type WorkerFacts struct {
	Attempt int           // restart attempt number (restart)
	Backoff time.Duration // wait before the restart (restart)
}

// StopFacts: a stop-coverage gap and its repair.
type StopFacts struct {
	Position int64  // signed position that was uncovered
	Covered  int64  // contracts covered before the repair
	Action   string // e.g. "placed stop 5148.00 for 5", "flattened"
}

// LinkFacts: the broker or data link went down or came back.
type LinkFacts struct {
	Link    string        // "broker" or "data"
	DownFor time.Duration // for link_back
}

// ReconcileFacts: the journal and the venue disagree.
type ReconcileFacts struct {
	JournalPosition int64
	VenuePosition   int64
	Action          string // what deskguard did (faulted and flattened, ...)
}

// RearmFacts: who re-armed the desk or unlocked an account, and why.
type RearmFacts struct {
	Who string
	Why string
}

// RiskFacts: a risk rule's rung reached or line breached (the ladder's
// warning and reduce-only, the trailing and weekly lines), or a news
// blackout's flatten.
type RiskFacts struct {
	Equity decimal.Decimal // the account's (or the desk's) equity then
	Line   decimal.Decimal // the line the rule measures to: the lockout, trailing or weekly line
	From   decimal.Decimal // what the line is measured from: the session's start, the trailing peak, the week's start
	Used   decimal.Decimal // the ladder: fraction of the day's allowance used (0.9 = 90%)
	Next   string          // what follows: "reduce-only at 90%", "locked until the risk manager resets the line", ...
	// Release is the scheduled release a blackout flattens ahead of, and
	// its time.
	Release   string
	ReleaseAt time.Time
}

// SummaryFacts: the end-of-day summary.
type SummaryFacts struct {
	Session          string // e.g. "2026-03-16"
	Accounts         []SummaryRow
	DeskDrawdownUsed decimal.Decimal // fraction of the desk's allowance used
}

// SummaryRow is one account's day.
type SummaryRow struct {
	Account      string
	Trades       int
	Wins         int
	Net          decimal.Decimal
	DrawdownUsed decimal.Decimal // fraction of the account's allowance used (0.25 = a quarter)
}

// BrokerFacts: what the broker did or refused.
type BrokerFacts struct {
	What string // "locked at broker", "trade busted", "external order", "broker risk not set", "cash differs", ...
}

// Kill reports a kill of the desk (scope "") or of one account.
func Kill(at time.Time, f KillFacts) Alert {
	return Alert{Kind: KindKill, Severity: Critical, Account: f.Scope, At: at, Kill: &f}
}

// Lockout reports a drawdown lockout of account.
func Lockout(at time.Time, account string, f LockoutFacts) Alert {
	return Alert{Kind: KindLockout, Severity: Critical, Account: account, At: at, Lockout: &f}
}

// WorkerCrash reports that account's worker process died.
func WorkerCrash(at time.Time, account, detail string) Alert {
	return Alert{Kind: KindWorkerCrash, Severity: Warning, Account: account, At: at, Detail: detail, Worker: &WorkerFacts{}}
}

// WorkerRestart reports that account's worker is being restarted.
func WorkerRestart(at time.Time, account string, attempt int, backoff time.Duration) Alert {
	return Alert{Kind: KindWorkerRestart, Severity: Warning, Account: account, At: at,
		Worker: &WorkerFacts{Attempt: attempt, Backoff: backoff}}
}

// WorkerFault reports that account is faulted (crash loop); detail says why.
func WorkerFault(at time.Time, account, detail string) Alert {
	return Alert{Kind: KindWorkerFault, Severity: Critical, Account: account, At: at, Detail: detail, Worker: &WorkerFacts{}}
}

// StopRepaired reports a stop-coverage gap on account and its repair.
func StopRepaired(at time.Time, account string, f StopFacts) Alert {
	return Alert{Kind: KindStopRepaired, Severity: Warning, Account: account, At: at, Stop: &f}
}

// LinkLost reports that the broker or data link is down.
func LinkLost(at time.Time, link, detail string) Alert {
	return Alert{Kind: KindLinkLost, Severity: Warning, At: at, Detail: detail, Link: &LinkFacts{Link: link}}
}

// LinkBack reports that the link is back after downFor.
func LinkBack(at time.Time, link string, downFor time.Duration) Alert {
	return Alert{Kind: KindLinkBack, Severity: Info, At: at, Link: &LinkFacts{Link: link, DownFor: downFor}}
}

// ReconcileMismatch reports that journal and venue disagree about account.
func ReconcileMismatch(at time.Time, account string, f ReconcileFacts) Alert {
	return Alert{Kind: KindReconcileMismatch, Severity: Critical, Account: account, At: at, Reconcile: &f}
}

// Rearmed reports that the desk was re-armed.
func Rearmed(at time.Time, who, why string) Alert {
	return Alert{Kind: KindRearmed, Severity: Info, At: at, Rearm: &RearmFacts{Who: who, Why: why}}
}

// Unlocked reports an early unlock of a locked-out account (account "": of
// the desk-wide drawdown lockout).
func Unlocked(at time.Time, account, who, why string) Alert {
	return Alert{Kind: KindUnlocked, Severity: Warning, Account: account, At: at, Rearm: &RearmFacts{Who: who, Why: why}}
}

// FaultCleared reports that the risk manager cleared a faulted account
// (after a reconcile mismatch or a worker crash loop): it may trade again.
func FaultCleared(at time.Time, account, who, why string) Alert {
	return Alert{Kind: KindFaultCleared, Severity: Warning, Account: account, At: at, Rearm: &RearmFacts{Who: who, Why: why}}
}

// DailySummary is the end-of-day summary (16:05 ET).
func DailySummary(at time.Time, f SummaryFacts) Alert {
	return Alert{Kind: KindDailySummary, Severity: Info, At: at, Summary: &f}
}

// RiskWarning reports the ladder's warning rung: account ("" = the desk)
// has used f.Used of the day's allowance.
func RiskWarning(at time.Time, account string, f RiskFacts) Alert {
	return Alert{Kind: KindRiskWarning, Severity: Warning, Account: account, At: at, Risk: &f}
}

// ReduceOnly reports the ladder's reduce-only rung: account ("" = the
// desk) takes no new entries or adds until the session reset or an unlock.
func ReduceOnly(at time.Time, account string, f RiskFacts) Alert {
	return Alert{Kind: KindReduceOnly, Severity: Critical, Account: account, At: at, Risk: &f}
}

// TrailingBreach reports that account's equity reached its trailing
// drawdown line: locked out and flattened until the risk manager resets it.
func TrailingBreach(at time.Time, account string, f RiskFacts) Alert {
	return Alert{Kind: KindTrailingBreach, Severity: Critical, Account: account, At: at, Risk: &f}
}

// WeeklyBreach reports that account's equity reached the week's loss line:
// locked out and flattened until the next week or an unlock.
func WeeklyBreach(at time.Time, account string, f RiskFacts) Alert {
	return Alert{Kind: KindWeeklyBreach, Severity: Critical, Account: account, At: at, Risk: &f}
}

// BlackoutFlatten reports that account was flattened ahead of a scheduled
// release (f.Release at f.ReleaseAt).
func BlackoutFlatten(at time.Time, account string, f RiskFacts) Alert {
	return Alert{Kind: KindBlackoutFlatten, Severity: Warning, Account: account, At: at, Risk: &f}
}

// TrailingReset reports that the risk manager reset account's breached
// trailing line.
func TrailingReset(at time.Time, account, who, why string) Alert {
	return Alert{Kind: KindTrailingReset, Severity: Warning, Account: account, At: at, Rearm: &RearmFacts{Who: who, Why: why}}
}

// JournalFailed reports that the journal refused an append: the desk is
// running without its write-ahead log.
func JournalFailed(at time.Time, detail string) Alert {
	return Alert{Kind: KindJournalFailed, Severity: Critical, At: at, Detail: detail}
}

// Broker reports what the broker did beside the desk, or refused it, on
// account ("" for the desk): what in a few words, detail the facts.
func Broker(at time.Time, account string, sev Severity, what, detail string) Alert {
	return Alert{Kind: KindBroker, Severity: sev, Account: account, At: at, Detail: detail, Broker: &BrokerFacts{What: what}}
}
