// payloads.go: the typed payload of each known record kind, constructors
// that build a Record from it, and accessors that decode it back, so no
// caller hand-rolls JSON. Field names match what the supervisor writes.

package journal

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/deskguard/deskguard/execution"
	"github.com/deskguard/deskguard/intent"
)

// PayloadVersion is the version every constructor writes. An accessor
// refuses a record whose Version is newer than it understands.
const PayloadVersion uint16 = 1

// Decision is a gate decision: allowed, or a reason code and detail. It
// decodes limits.Decision's JSON too (field names match case-insensitively).
type Decision struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason,omitempty"`
	Detail  string `json:"detail,omitempty"`
	Got     int64  `json:"got,omitempty"`
	Limit   int64  `json:"limit,omitempty"`
}

// IntentBody is the payload of an intent record: the intent and, when the
// gate judged it before the append, its decision.
type IntentBody struct {
	Intent   intent.Intent `json:"intent"`
	Decision *Decision     `json:"decision,omitempty"`
}

// BrokerError is a request the broker refused synchronously.
type BrokerError struct {
	Op  string `json:"op,omitempty"`
	Err string `json:"err"`
}

// Transition is a state-machine change; one the machine refused has only
// Refused (and no To).
type Transition struct {
	Machine string `json:"machine"` // "desk" or "account"
	ID      string `json:"id,omitempty"`
	From    string `json:"from"`
	To      string `json:"to"`
	Event   string `json:"event"`
	Why     string `json:"why,omitempty"`
	Refused string `json:"refused,omitempty"`
}

// Kill is a kill: its scope ("desk", an account id, or "accounts" for
// several), its trigger (which says what it does to the machines: see the
// supervisor), who set it off, the accounts it reached, and why (a fault's
// reason).
type Kill struct {
	Scope    string   `json:"scope"`
	Trigger  string   `json:"trigger"`
	Who      string   `json:"who"`
	Accounts []string `json:"accounts"`
	Why      string   `json:"why,omitempty"`
}

// Lockout is a drawdown lockout; money as fixed-point decimal strings.
type Lockout struct {
	Equity string `json:"equity"`
	Line   string `json:"line"`
	Start  string `json:"start"`
	Why    string `json:"why,omitempty"`
}

// Authorization is who did an authorized act (unlock, re-arm) and why.
type Authorization struct {
	Who string `json:"who"`
	Why string `json:"why"`
	// Equity, on the unlock of the desk (account ""), is each account's
	// equity the desk's allowance starts again from (empty when the
	// session reset lifted it: the session's start equities).
	Equity map[string]string `json:"equity,omitempty"`
}

// ConfigChange is one changed configuration value, or (Key "config") the
// whole effective configuration the desk starts with: To is then
// "sha256:" and the hex SHA-256 of the canonical config, and Effective a
// summary of it (config.AuditSummary; never a secret).
type ConfigChange struct {
	Who       string          `json:"who"`
	Key       string          `json:"key"`
	From      string          `json:"from,omitempty"`
	To        string          `json:"to"`
	Why       string          `json:"why,omitempty"`
	Effective json.RawMessage `json:"effective,omitempty"`
}

// SessionReset starts a session; Accounts maps account id to its start
// equity as a decimal string.
type SessionReset struct {
	Session  string            `json:"session"`
	Why      string            `json:"why,omitempty"`
	Accounts map[string]string `json:"accounts,omitempty"`
}

// AlertFailed is an alert that could not be delivered.
type AlertFailed struct {
	Alert string `json:"alert"`
	Err   string `json:"err"`
}

// Command is an operator command (Slack, console, CLI) and whether it was
// allowed.
type Command struct {
	Who     string `json:"who"`
	Source  string `json:"source,omitempty"` // slack, console, cli, button
	Command string `json:"command"`
	Allowed bool   `json:"allowed"`
	Detail  string `json:"detail,omitempty"`
}

// New builds a record of any kind with body marshalled to JSON (nil for
// none; a json.RawMessage or []byte is taken as JSON as it is). It is the
// adapter for callers that hold a kind name and a value (the supervisor's
// Entry); the typed constructors below are the usual way.
func New(kind Kind, account, clientID string, marketNs int64, body any) (Record, error) {
	r := Record{Kind: kind, Version: PayloadVersion, Market: marketNs, Account: account, ClientID: clientID}
	switch b := body.(type) {
	case nil:
	case json.RawMessage:
		r.Body = b
	case []byte:
		r.Body = b
	default:
		raw, err := json.Marshal(body)
		if err != nil {
			return Record{}, fmt.Errorf("%w: %s body: %v", ErrInvalidRecord, kind, err)
		}
		r.Body = raw
	}
	if err := r.validate(); err != nil {
		return Record{}, err
	}
	return r, nil
}

// must is New for the typed constructors, whose bodies always marshal.
func must(kind Kind, account, clientID string, marketNs int64, body any) Record {
	raw, err := json.Marshal(body)
	if err != nil { // unreachable: the payload types hold only strings, numbers and slices
		raw, _ = json.Marshal(map[string]string{"marshal_error": err.Error()})
	}
	return Record{Kind: kind, Version: PayloadVersion, Market: marketNs, Account: account, ClientID: clientID, Body: raw}
}

// NewIntent journals an intent before it reaches the broker; dec is the
// gate's decision when it was made first (nil otherwise). Account,
// ClientID and market time come from the intent.
func NewIntent(in intent.Intent, dec *Decision) Record {
	return must(KindIntent, in.Account, in.ID, in.Time, IntentBody{Intent: in, Decision: dec})
}

// NewDecision journals a gate decision on its own.
func NewDecision(account, clientID string, marketNs int64, d Decision) Record {
	return must(KindDecision, account, clientID, marketNs, d)
}

// NewBrokerEvent journals an execution event; market time is the event's.
func NewBrokerEvent(ev execution.Event) Record {
	return must(KindBrokerEvent, ev.Account, ev.ClientID, ev.Time, ev)
}

// NewBrokerError journals a request the broker refused.
func NewBrokerError(account, clientID string, marketNs int64, e BrokerError) Record {
	return must(KindBrokerError, account, clientID, marketNs, e)
}

// NewTransition journals a state change; Account is t.ID for an account
// machine.
func NewTransition(marketNs int64, t Transition) Record {
	acct := ""
	if t.Machine == "account" {
		acct = t.ID
	}
	return must(KindTransition, acct, "", marketNs, t)
}

// NewKill journals a kill; Account is the scope when it is one account.
func NewKill(marketNs int64, k Kill) Record {
	acct := ""
	if k.Scope != "desk" && len(k.Accounts) == 1 && k.Accounts[0] == k.Scope {
		acct = k.Scope
	}
	return must(KindKill, acct, "", marketNs, k)
}

// NewLockout journals a drawdown lockout of account.
func NewLockout(account string, marketNs int64, l Lockout) Record {
	return must(KindLockout, account, "", marketNs, l)
}

// NewUnlock journals an early unlock of account.
func NewUnlock(account string, marketNs int64, who, why string) Record {
	return must(KindUnlock, account, "", marketNs, Authorization{Who: who, Why: why})
}

// NewDeskUnlock journals the unlock of the desk-wide drawdown lockout
// (account ""), with the equities its allowance starts again from.
func NewDeskUnlock(marketNs int64, who, why string, equity map[string]string) Record {
	return must(KindUnlock, "", "", marketNs, Authorization{Who: who, Why: why, Equity: equity})
}

// NewRearm journals a re-arm of the desk.
func NewRearm(marketNs int64, who, why string) Record {
	return must(KindRearm, "", "", marketNs, Authorization{Who: who, Why: why})
}

// NewConfigChange journals a changed configuration value (account "" for
// the desk).
func NewConfigChange(account string, marketNs int64, c ConfigChange) Record {
	return must(KindConfigChange, account, "", marketNs, c)
}

// NewSessionReset journals the start of a session.
func NewSessionReset(marketNs int64, s SessionReset) Record {
	return must(KindSessionReset, "", "", marketNs, s)
}

// NewSnapshot journals state the caller serialised (the ledgers, account
// states, lockouts: the whole desk, see Recover). state must be JSON; see
// LedgerSnapshot for the part Verify checks.
func NewSnapshot(marketNs int64, state []byte) (Record, error) {
	return New(KindSnapshot, "", "", marketNs, json.RawMessage(state))
}

// NewAlertFailed journals an alert that could not be delivered.
func NewAlertFailed(account string, marketNs int64, a AlertFailed) Record {
	return must(KindAlertFailed, account, "", marketNs, a)
}

// NewCommand journals an operator command.
func NewCommand(account string, marketNs int64, c Command) Record {
	return must(KindCommand, account, "", marketNs, c)
}

// decodeAs decodes r's body into v after checking kind and version.
func decodeAs(r *Record, v any, kinds ...Kind) error {
	if !slices.Contains(kinds, r.Kind) {
		return fmt.Errorf("journal: seq %d is a %s record, not %s", r.Seq, r.Kind, kinds[0])
	}
	if r.Version > PayloadVersion {
		return fmt.Errorf("journal: seq %d: %s payload version %d is newer than this build reads (%d)", r.Seq, r.Kind, r.Version, PayloadVersion)
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("journal: seq %d: %s body: %w", r.Seq, r.Kind, err)
	}
	return nil
}

// IntentBody decodes an intent record.
func (r Record) IntentBody() (IntentBody, error) {
	var b IntentBody
	return b, decodeAs(&r, &b, KindIntent)
}

// Decision decodes a decision record.
func (r Record) Decision() (Decision, error) {
	var d Decision
	return d, decodeAs(&r, &d, KindDecision)
}

// BrokerEvent decodes a broker_event record.
func (r Record) BrokerEvent() (execution.Event, error) {
	var ev execution.Event
	return ev, decodeAs(&r, &ev, KindBrokerEvent)
}

// BrokerError decodes a broker_error record.
func (r Record) BrokerError() (BrokerError, error) {
	var e BrokerError
	return e, decodeAs(&r, &e, KindBrokerError)
}

// Transition decodes a transition record.
func (r Record) Transition() (Transition, error) {
	var t Transition
	return t, decodeAs(&r, &t, KindTransition)
}

// Kill decodes a kill record.
func (r Record) Kill() (Kill, error) {
	var k Kill
	return k, decodeAs(&r, &k, KindKill)
}

// Lockout decodes a lockout record.
func (r Record) Lockout() (Lockout, error) {
	var l Lockout
	return l, decodeAs(&r, &l, KindLockout)
}

// Authorization decodes an unlock, rearm or clear record.
func (r Record) Authorization() (Authorization, error) {
	var a Authorization
	return a, decodeAs(&r, &a, KindUnlock, KindRearm, KindClear)
}

// ConfigChange decodes a config_change record.
func (r Record) ConfigChange() (ConfigChange, error) {
	var c ConfigChange
	return c, decodeAs(&r, &c, KindConfigChange)
}

// SessionReset decodes a session_reset record.
func (r Record) SessionReset() (SessionReset, error) {
	var s SessionReset
	return s, decodeAs(&r, &s, KindSessionReset)
}

// AlertFailed decodes an alert_failed record.
func (r Record) AlertFailed() (AlertFailed, error) {
	var a AlertFailed
	return a, decodeAs(&r, &a, KindAlertFailed)
}

// Command decodes a command record.
func (r Record) Command() (Command, error) {
	var c Command
	return c, decodeAs(&r, &c, KindCommand)
}

// Snapshot returns a snapshot record's state, as the caller wrote it.
func (r Record) Snapshot() (json.RawMessage, error) {
	var raw json.RawMessage
	return raw, decodeAs(&r, &raw, KindSnapshot)
}

// checkPayload decodes a known kind's body into its type (Verify: "every
// record decodes"). Kinds without a typed payload only need valid JSON,
// which Decode already checked.
func checkPayload(r Record) error {
	var err error
	switch r.Kind {
	case KindIntent:
		_, err = r.IntentBody()
	case KindDecision:
		_, err = r.Decision()
	case KindBrokerEvent:
		_, err = r.BrokerEvent()
	case KindBrokerError:
		_, err = r.BrokerError()
	case KindTransition:
		_, err = r.Transition()
	case KindKill:
		_, err = r.Kill()
	case KindLockout:
		_, err = r.Lockout()
	case KindUnlock, KindRearm, KindClear:
		_, err = r.Authorization()
	case KindWorker:
		_, err = r.Worker()
	case KindStopRepair:
		_, err = r.StopRepair()
	case KindReconcile:
		_, err = r.Reconcile()
	case KindLink:
		_, err = r.Link()
	case KindRisk:
		_, err = r.Risk()
	case KindConfigChange:
		_, err = r.ConfigChange()
	case KindSessionReset:
		_, err = r.SessionReset()
	case KindAlertFailed:
		_, err = r.AlertFailed()
	case KindCommand:
		_, err = r.Command()
	case KindSnapshot:
		_, err = r.Snapshot()
	}
	return err
}
