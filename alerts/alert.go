// Package alerts is deskguard's Slack surface: a notifier that posts the
// desk's alerts (alert.Alert, the vocabulary in package alert) to a channel
// without ever blocking its caller (bounded queue, a never-dropped lane for
// critical alerts, flood coalescing, 429 and 5xx retries), Block Kit
// renderings of every alert kind, and the /deskguard command handler
// (Socket Mode or a signed HTTP endpoint) through which allowed Slack users
// ask for status or flatten.
//
// alerts never imports the supervisor: it defines the small Desk and Recorder
// interfaces it needs, and the supervisor implements them.
//
// It may touch alert, auth, authz, market, shopspring/decimal and slack-go (the Web API, Socket Mode): the network only
// to reach Slack (or the incoming webhook), and the HTTP endpoint only as a handler its caller mounts.
package alerts

// alert.go: the alert vocabulary under its old names. It lives in package
// alert (no slack-go), so the desk core can build alerts without linking
// the Slack transport; these aliases keep alerts.X working for callers
// that have not switched to alert.X yet (the supervisor).

import "github.com/deskguard/deskguard/alert"

// The vocabulary's types.
type (
	Kind           = alert.Kind
	Severity       = alert.Severity
	Alert          = alert.Alert
	Position       = alert.Position
	KillFacts      = alert.KillFacts
	LockoutFacts   = alert.LockoutFacts
	WorkerFacts    = alert.WorkerFacts
	StopFacts      = alert.StopFacts
	LinkFacts      = alert.LinkFacts
	ReconcileFacts = alert.ReconcileFacts
	RearmFacts     = alert.RearmFacts
	SummaryFacts   = alert.SummaryFacts
	SummaryRow     = alert.SummaryRow
	RiskFacts      = alert.RiskFacts
	BrokerFacts    = alert.BrokerFacts
)

// Kinds and severities.
const (
	KindKill              = alert.KindKill
	KindLockout           = alert.KindLockout
	KindWorkerCrash       = alert.KindWorkerCrash
	KindWorkerRestart     = alert.KindWorkerRestart
	KindWorkerFault       = alert.KindWorkerFault
	KindStopRepaired      = alert.KindStopRepaired
	KindLinkLost          = alert.KindLinkLost
	KindLinkBack          = alert.KindLinkBack
	KindReconcileMismatch = alert.KindReconcileMismatch
	KindRearmed           = alert.KindRearmed
	KindUnlocked          = alert.KindUnlocked
	KindFaultCleared      = alert.KindFaultCleared
	KindDailySummary      = alert.KindDailySummary
	KindJournalFailed     = alert.KindJournalFailed
	KindRiskWarning       = alert.KindRiskWarning
	KindReduceOnly        = alert.KindReduceOnly
	KindTrailingBreach    = alert.KindTrailingBreach
	KindWeeklyBreach      = alert.KindWeeklyBreach
	KindBlackoutFlatten   = alert.KindBlackoutFlatten
	KindTrailingReset     = alert.KindTrailingReset
	KindBroker            = alert.KindBroker

	Info     = alert.Info
	Warning  = alert.Warning
	Critical = alert.Critical
)

// Kinds lists every kind (alert.Kinds).
var Kinds = alert.Kinds

// The constructors.
var (
	Kill              = alert.Kill
	Lockout           = alert.Lockout
	WorkerCrash       = alert.WorkerCrash
	WorkerRestart     = alert.WorkerRestart
	WorkerFault       = alert.WorkerFault
	StopRepaired      = alert.StopRepaired
	LinkLost          = alert.LinkLost
	LinkBack          = alert.LinkBack
	ReconcileMismatch = alert.ReconcileMismatch
	Rearmed           = alert.Rearmed
	Unlocked          = alert.Unlocked
	FaultCleared      = alert.FaultCleared
	DailySummary      = alert.DailySummary
	JournalFailed     = alert.JournalFailed
	RiskWarning       = alert.RiskWarning
	ReduceOnly        = alert.ReduceOnly
	TrailingBreach    = alert.TrailingBreach
	WeeklyBreach      = alert.WeeklyBreach
	BlackoutFlatten   = alert.BlackoutFlatten
	TrailingReset     = alert.TrailingReset
	Broker            = alert.Broker
)
