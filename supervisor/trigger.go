package supervisor

// trigger.go: what a kill is — its Trigger (the journaled name of what set
// it off, and so what it does to the machines), its Scope (the desk or
// some accounts), and its journal record.

// Trigger names what set a kill off. The name is journaled as it is (the
// kill record's trigger); an unknown name halts, like an operator's kill.
type Trigger string

// The triggers.
const (
	TriggerConsole      Trigger = "console"           // the web console's kill button
	TriggerCLI          Trigger = "cli"               // deskguard flatten, over the control socket
	TriggerSignal       Trigger = "sigusr1"           // SIGUSR1 to the desk process
	TriggerButton       Trigger = "panic_button"      // the physical (or simulated) panic button
	TriggerSlack        Trigger = "slack"             // /deskguard flatten in Slack
	TriggerDeskDrawdown Trigger = "desk_drawdown"     // the desk-wide drawdown limit
	TriggerStaleData    Trigger = "stale_data"        // the feed silent past [desk] stale_data_kill
	TriggerLockout      Trigger = "drawdown_lockout"  // an account past its drawdown line (invariant 5)
	TriggerFault        Trigger = "fault"             // an account fault that must end flat
	TriggerCrashLoop    Trigger = "worker_crash_loop" // an account's worker crash-looped
	TriggerSchedule     Trigger = "schedule_flat_by"  // the flat-by job (15:55 ET by default), day accounts
	TriggerStopRepair   Trigger = "stop_repair"       // a coverage gap with no sensible stop price
	// TriggerStopRepairFailed: the venue refused a repair stop.
	TriggerStopRepairFailed Trigger = "stop_repair_failed"
	TriggerTrailing         Trigger = "trailing_drawdown" // an account at or below its trailing line (rules.go)
	TriggerWeekly           Trigger = "weekly_loss"       // an account at or below its weekly loss line
	TriggerNewsBlackout     Trigger = "news_blackout"     // blackout_flatten before a release of the news calendar
	// TriggerUnconfirmedStop: a protective stop (a bracket's, or a repair)
	// was answered without an order id or a failure and the venue's own
	// orders do not show it (broker.ErrUnconfirmed): the position may be
	// unprotected, so the account is flattened.
	TriggerUnconfirmedStop Trigger = "unconfirmed_stop"
	// TriggerExternalOrder: an order the desk did not place, on an account
	// whose desk faults on them ([desk] external_orders = "fault").
	TriggerExternalOrder Trigger = "external_order"
	// TriggerExternalNoRisk: an order the desk did not place, on an
	// account that may not add risk now — its own kill, lockout or fault
	// in force, or the desk halted or locked out. Under ExternalAdopt too
	// it is not adopted: the account is flattened at once (its working
	// orders, the trader's among them, cancelled), its state unchanged.
	// Before, a trader's bracket on a locked-out account was adopted and
	// filled past the drawdown line (deskguard drill --scenario
	// venue-faults --seed 11).
	TriggerExternalNoRisk Trigger = "external_order_no_risk"
)

// effect is what a kill does to the accounts' machines.
type effect uint8

const (
	effHalt    effect = iota // account → halting → halted (a desk kill: the desk too); re-arm lifts it
	effLockout               // account → locked_out; unlock or the session reset lifts it
	effFault                 // account → faulted; the risk manager clears it
	effFlat                  // no state change: only the liquidation (and no new risk until flat)
)

func (t Trigger) effect() effect {
	switch t {
	case TriggerLockout, TriggerTrailing, TriggerWeekly:
		return effLockout
	case TriggerFault, TriggerCrashLoop, TriggerExternalOrder:
		return effFault
	case TriggerSchedule, TriggerStopRepair, TriggerStopRepairFailed, TriggerNewsBlackout, TriggerUnconfirmedStop,
		TriggerExternalNoRisk:
		return effFlat
	}
	return effHalt
}

// locksDesk reports whether a kill by t also locks the desk out: the
// desk-wide drawdown lockout refuses entries (desk_locked_out) after a
// re-arm too, until the session reset or the manager's unlock of the desk.
func (t Trigger) locksDesk() bool { return t == TriggerDeskDrawdown }

// owes reports whether a journaled kill by t must still be liquidated
// after a restart that finds it in force (recover.go). A stop repair's
// flatten is not: reconciliation repairs coverage afresh. Nor is a news
// blackout's: the blackout monitor's state (journaled once the flatten was
// sent) decides after a restart whether it is still due, so a restart
// hours later does not flatten the positions taken since.
func (t Trigger) owes() bool {
	return t != TriggerStopRepair && t != TriggerStopRepairFailed && t != TriggerNewsBlackout &&
		t != TriggerUnconfirmedStop
}

// Scope is what a kill reaches: the whole desk (DeskScope) or some of its
// accounts.
type Scope struct{ ids []string }

// DeskScope is every account, and the desk's own machine.
var DeskScope = Scope{}

// AccountScope is one account.
func AccountScope(id string) Scope { return Scope{ids: []string{id}} }

// AccountsScope is several accounts (the flat-by job's day accounts).
func AccountsScope(ids ...string) Scope {
	if len(ids) == 0 {
		return Scope{ids: []string{}}
	}
	return Scope{ids: ids}
}

// scopeOf turns the API's account ("" = the desk) into a scope.
func scopeOf(account string) Scope {
	if account == "" {
		return DeskScope
	}
	return AccountScope(account)
}

// IsDesk reports whether the scope is the whole desk.
func (s Scope) IsDesk() bool { return s.ids == nil }

// String is the scope as journaled: "desk", the account id, or "accounts".
func (s Scope) String() string {
	switch {
	case s.IsDesk():
		return "desk"
	case len(s.ids) == 1:
		return s.ids[0]
	}
	return "accounts"
}
