// payloads_desk.go: the typed payloads of the desk's own record kinds —
// worker events, stop repairs, reconciliations, a fault cleared, a link's
// health, a risk rule's event — with their constructors and accessors, so the supervisor (and
// whoever folds its journal: recovery, the firm) writes and reads one
// schema. The JSON keys are the ones the supervisor wrote before the types
// existed: old journals read back the same.

package journal

import (
	"encoding/json"

	"github.com/deskguard/deskguard/market"
)

// Worker is a worker process event: "crashed" (with the restart number)
// or "faulted" (a crash loop), and the error.
type Worker struct {
	Event   string `json:"event"`
	Err     string `json:"err,omitempty"`
	Restart int    `json:"restart,omitempty"`
}

// StopRepair is a stop-coverage repair, journaled before it is sent; a
// placed stop's record carries its client id (the record's ClientID).
type StopRepair struct {
	Repair string       `json:"repair"` // place_stop, trim_stops, flatten
	Qty    int64        `json:"qty"`
	Stop   market.Price `json:"stop"`
	Side   market.Side  `json:"side"`
}

// Link is an outside link (venue, data, Slack, the button) going down or
// coming back.
type Link struct {
	Link string `json:"link"`
	OK   bool   `json:"ok"`
	Why  string `json:"why,omitempty"`
}

// Risk is a risk rule's event on an account (Account "" for the desk's
// own ladder): a rung reached, a line breached, a tier changed, a news
// blackout's flatten, the intraday trailing line's rise, a manager's reset
// of the trailing line, an unlock. State is the account's whole rule state
// after it (the supervisor writes limits.RulesState; recovery restores the
// latest); Level is the rung, for the ladder's events and the desk's.
type Risk struct {
	Event  string          `json:"event"`
	Level  string          `json:"level,omitempty"`
	Detail string          `json:"detail,omitempty"`
	Who    string          `json:"who,omitempty"`
	Why    string          `json:"why,omitempty"`
	State  json.RawMessage `json:"state,omitempty"`
}

// DeskOrder is an order as the desk books it (snapshots, reconciliations).
// Role, Side, Type and Status are the numbers of limits.Role, market.Side,
// market.OrderType and broker.Status.
type DeskOrder struct {
	ID       string `json:"id"`
	Strategy string `json:"strategy"`
	Role     uint8  `json:"role"`
	Group    string `json:"group"`
	Side     int8   `json:"side"`
	Type     uint8  `json:"type"`
	Qty      int64  `json:"qty"`
	Filled   int64  `json:"filled"`
	Price    int64  `json:"price"`
	Stop     int64  `json:"stop"`
	Target   int64  `json:"target"`
	Status   uint8  `json:"status"`
	ExpireAt int64  `json:"expire_at"`
	// Venue is the venue's own id of the order, once known (a restarted
	// desk rebinds the order by it: broker.Adopter).
	Venue string `json:"venue,omitempty"`
}

// Reconcile is a reconciliation with the venue that changed an account's
// books: what disagreed, the orders closed because the venue no longer has
// them, the venue's orders the desk adopted, and the fill that made the
// ledger's position the venue's. Recovery replays it.
type Reconcile struct {
	Mismatches      []string      `json:"mismatches,omitempty"`
	Faulted         bool          `json:"faulted,omitempty"`
	JournalPosition int64         `json:"journal_position"`
	VenuePosition   int64         `json:"venue_position"`
	Closed          []ClosedOrder `json:"closed,omitempty"`
	Adopted         []DeskOrder   `json:"adopted,omitempty"`
	Correction      *Correction   `json:"correction,omitempty"`
	// Entries with no outcome in the journal, matched by client order id.
	IntentsAtVenue    int `json:"intents_at_venue,omitempty"`
	IntentsNotAtVenue int `json:"intents_not_at_venue,omitempty"`
	// Cash is a check of the ledger against the broker's own cash balance
	// that found them apart (both sides; nothing is changed by it).
	Cash *CashCheck `json:"cash,omitempty"`
}

// CashCheck is the desk's ledger beside the broker's cash balance
// snapshot of an account, in dollars: realized PnL (fees excluded) and
// open PnL on each side, and the tolerance they were compared with.
type CashCheck struct {
	BrokerRealized string `json:"broker_realized"`
	DeskRealized   string `json:"desk_realized"`
	BrokerOpen     string `json:"broker_open"`
	DeskOpen       string `json:"desk_open"`
	Tolerance      string `json:"tolerance"`
}

// ClosedOrder is an order the desk believed live that the venue does not have.
type ClosedOrder struct {
	ID   string `json:"id"`
	Role string `json:"role"`
	Why  string `json:"why"`
}

// Correction is the fill booked to make the ledger's position the venue's.
// Carried marks a position carried from an earlier trade date, booked at
// the venue's price for it with no fee (accounts.Ledger.Carry).
type Correction struct {
	Time    int64        `json:"time"` // market time, ns
	Side    market.Side  `json:"side"`
	Qty     int64        `json:"qty"`
	Price   market.Price `json:"price"`
	Carried bool         `json:"carried,omitempty"`
}

// NewWorker journals a worker process event of account.
func NewWorker(account string, marketNs int64, w Worker) Record {
	return must(KindWorker, account, "", marketNs, w)
}

// NewStopRepair journals a stop repair before it is sent (clientID: the
// stop it places, or "").
func NewStopRepair(account, clientID string, marketNs int64, s StopRepair) Record {
	return must(KindStopRepair, account, clientID, marketNs, s)
}

// NewReconcile journals a reconciliation of account.
func NewReconcile(account string, marketNs int64, rc Reconcile) Record {
	return must(KindReconcile, account, "", marketNs, rc)
}

// NewClear journals the risk manager clearing a faulted account.
func NewClear(account string, marketNs int64, who, why string) Record {
	return must(KindClear, account, "", marketNs, Authorization{Who: who, Why: why})
}

// NewLink journals a link going down or coming back.
func NewLink(marketNs int64, l Link) Record {
	return must(KindLink, "", "", marketNs, l)
}

// NewRisk journals a risk rule's event of account ("" = the desk).
func NewRisk(account string, marketNs int64, r Risk) Record {
	return must(KindRisk, account, "", marketNs, r)
}

// Worker decodes a worker record.
func (r Record) Worker() (Worker, error) {
	var w Worker
	return w, decodeAs(&r, &w, KindWorker)
}

// StopRepair decodes a stop_repair record.
func (r Record) StopRepair() (StopRepair, error) {
	var s StopRepair
	return s, decodeAs(&r, &s, KindStopRepair)
}

// Reconcile decodes a reconcile record.
func (r Record) Reconcile() (Reconcile, error) {
	var rc Reconcile
	return rc, decodeAs(&r, &rc, KindReconcile)
}

// Link decodes a link record.
func (r Record) Link() (Link, error) {
	var l Link
	return l, decodeAs(&r, &l, KindLink)
}

// Risk decodes a risk record.
func (r Record) Risk() (Risk, error) {
	var rk Risk
	return rk, decodeAs(&r, &rk, KindRisk)
}
