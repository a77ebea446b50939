// activity.go: what an account sent this session, for the daily order cap
// and the duplicate-order rule: a count of every intent sent to the venue
// and a small ring of the latest risk-adding ones. Owned by the caller (one
// per account) like the RateLimiter: the gate only reads it, the router
// records what it sends.

package limits

import (
	"fmt"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

// recentEntries is how many sent entries the duplicate rule remembers: far
// more than can be sent within any sane duplicate_window under the order
// rate limits.
const recentEntries = 16

// SentEntry is one risk-adding order the desk sent: what the duplicate rule
// compares.
type SentEntry struct {
	TimeNs int64            `json:"time_ns"`
	Side   market.Side      `json:"side"`
	Qty    int64            `json:"qty"`
	Type   market.OrderType `json:"type"`
	Entry  market.Price     `json:"entry"`
	Limit  market.Price     `json:"limit,omitempty"`
}

func (e *SentEntry) same(in *intent.Intent) bool {
	return e.Side == in.Side && e.Qty == in.Qty && e.Type == in.EntryType && e.Entry == in.Entry && e.Limit == in.Limit
}

// ActivityState is an Activity's state for the desk's snapshots.
type ActivityState struct {
	OrdersToday int64       `json:"orders_today"`
	Recent      []SentEntry `json:"recent,omitempty"` // oldest first
}

// Activity counts the session's sent intents and remembers its latest
// sent entries. Not safe for concurrent use: one per account, used by the
// goroutine that routes that account's intents.
type Activity struct {
	orders int64
	ring   [recentEntries]SentEntry
	next   int
	n      int
	newest int64 // the latest time in the ring
}

// NewActivity returns an empty activity record.
func NewActivity() *Activity { return &Activity{} }

// RecordSent notes an intent sent to the venue at nowNs (any kind: each
// counts one toward daily_order_limit; a bracket is one order group).
// Enter and Add are remembered for the duplicate rule.
func (a *Activity) RecordSent(nowNs int64, in *intent.Intent) {
	a.orders++
	if in.Kind != intent.Enter && in.Kind != intent.Add {
		return
	}
	a.remember(SentEntry{TimeNs: nowNs, Side: in.Side, Qty: in.Qty, Type: in.EntryType, Entry: in.Entry, Limit: in.Limit})
}

func (a *Activity) remember(e SentEntry) {
	a.ring[a.next] = e
	a.next = (a.next + 1) % len(a.ring)
	if a.n < len(a.ring) {
		a.n++
	}
	if a.n == 1 || e.TimeNs > a.newest {
		a.newest = e.TimeNs
	}
}

// OrdersToday is the number of intents sent this session.
func (a *Activity) OrdersToday() int64 { return a.orders }

// Duplicate reports the age of the latest sent entry with in's side,
// quantity, type and prices, if it is younger than windowNs (an entry
// exactly windowNs old is no longer a duplicate).
func (a *Activity) Duplicate(nowNs, windowNs int64, in *intent.Intent) (ageNs int64, dup bool) {
	// Every remembered entry is looked at (at most 16, in slot order: the
	// ring's first n slots are the filled ones): a clock that stepped back
	// must not hide one. The price, the likeliest to differ, goes first.
	// When even the newest is older than the window, none can be inside it.
	if a.n == 0 || nowNs-a.newest >= windowNs {
		return 0, false
	}
	for i := range a.n {
		e := &a.ring[i]
		if e.Entry != in.Entry || !e.same(in) {
			continue
		}
		if age := nowNs - e.TimeNs; age >= 0 && age < windowNs && (!dup || age < ageNs) {
			ageNs, dup = age, true
		}
	}
	return ageNs, dup
}

// Reset starts a new session: no orders sent, nothing remembered.
func (a *Activity) Reset() { a.orders, a.next, a.n, a.newest = 0, 0, 0, 0 }

// State returns the record for a snapshot.
func (a *Activity) State() ActivityState {
	st := ActivityState{OrdersToday: a.orders}
	for k := a.n; k >= 1; k-- {
		st.Recent = append(st.Recent, a.ring[(a.next-k+len(a.ring))%len(a.ring)])
	}
	return st
}

// RestoreActivity rebuilds a record from a snapshot.
func RestoreActivity(st ActivityState) (*Activity, error) {
	if st.OrdersToday < 0 {
		return nil, fmt.Errorf("limits: restore activity: %d orders: want ≥ 0", st.OrdersToday)
	}
	a := &Activity{orders: st.OrdersToday}
	rec := st.Recent
	if len(rec) > recentEntries {
		rec = rec[len(rec)-recentEntries:]
	}
	for i, e := range rec {
		if i > 0 && e.TimeNs < rec[i-1].TimeNs {
			return nil, fmt.Errorf("limits: restore activity: recent entries out of time order")
		}
		a.remember(e)
	}
	return a, nil
}
