package main

// report_journal.go: `deskguard report --db JOURNAL` — round trips rebuilt
// from a journal's fills: every broker_event fill, per account, through
// report.Book (one round trip per entry whatever the fill fragments, FIFO
// lots, a crossing fill splits into a close and an open; a reconcile
// record that changed the position is a correction, not a trade), the
// strategy of the order the fill belongs to (the intent's ClientID, or its
// bracket legs "<id>.stop" / "<id>.target"; orders the desk placed itself,
// such as a liquidation, are "desk"), the account's fee rate from a snapshot's ledger
// state ($1.20 when no snapshot carries one) and the start equity of each
// account from the session_reset records, for the HTML page's lockout line.

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/journal/ledgercheck"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/report"
)

// reportLockTimeout is how long report waits for the journal's lock: a live
// desk holds it for as long as it runs, so waiting longer gains nothing.
const reportLockTimeout = 300 * time.Millisecond

// tripsFromJournal rebuilds round trips from a journal's fills; from and to
// (YYYY-MM-DD, inclusive, either may be empty) select trips by the New York
// session date of their exit.
func tripsFromJournal(db, from, to string) ([]report.Trip, report.HTMLOptions, error) {
	jt, opt, err := fromJournal(db, from, to)
	if err != nil {
		return nil, opt, err
	}
	return jt.Trips, opt, nil
}

// fromJournal reads what the report needs from the journal file db.
func fromJournal(db, from, to string) (*journalTrips, report.HTMLOptions, error) {
	var opt report.HTMLOptions
	rng, err := parseSessionRange(from, to)
	if err != nil {
		return nil, opt, err
	}
	j, err := journal.Open(db, journal.Options{ReadOnly: true, QuickOpen: true, Timeout: reportLockTimeout})
	if err != nil {
		if journal.IsLocked(err) {
			return nil, opt, fmt.Errorf("%s is held by a running desk, which keeps its journal locked while it runs: "+
				"stop the desk first, or report on a copy (%w)", db, err)
		}
		return nil, opt, err
	}
	defer j.Close()
	jt, err := readJournalTrips(j, rng)
	if err != nil {
		return nil, opt, fmt.Errorf("%s: %w", db, err)
	}
	opt = jt.options("deskguard report: " + filepath.Base(db) + rng.title())
	return jt, opt, nil
}

// sessionRange is an inclusive range of session dates ("" = open).
type sessionRange struct{ From, To string }

func parseSessionRange(from, to string) (sessionRange, error) {
	for _, s := range []struct{ flag, v string }{{"--from", from}, {"--to", to}} {
		if s.v == "" {
			continue
		}
		if _, err := time.Parse("2006-01-02", s.v); err != nil {
			return sessionRange{}, fmt.Errorf("%s %q: want a session date YYYY-MM-DD", s.flag, s.v)
		}
	}
	if from != "" && to != "" && from > to {
		return sessionRange{}, fmt.Errorf("--from %s is after --to %s", from, to)
	}
	return sessionRange{From: from, To: to}, nil
}

func (r sessionRange) has(session string) bool {
	return (r.From == "" || session >= r.From) && (r.To == "" || session <= r.To)
}

func (r sessionRange) title() string {
	switch {
	case r.From == "" && r.To == "":
		return ""
	case r.From == r.To:
		return ", session " + r.From
	}
	return fmt.Sprintf(", sessions %s to %s", orDots(r.From), orDots(r.To))
}

func orDots(s string) string {
	if s == "" {
		return "…"
	}
	return s
}

// sessionOfNs is the New York session date of a market time.
func sessionOfNs(ns int64) string { return market.SessionOf(time.Unix(0, ns)).String() }

// journalTrips is what a journal yields for a report.
type journalTrips struct {
	Trips       []report.Trip
	Corrections []report.Correction
	// StartEquity per account: its start equity in the first session_reset
	// inside the range (or the last one before it).
	StartEquity map[string]decimal.Decimal
	// FeesRT per account (per contract per round turn) as booked.
	FeesRT   map[string]decimal.Decimal
	Fills    int
	Markers  []report.Marker
	Sessions []string // the session dates inside the range the journal holds, in order
	// Positions are the accounts' positions the whole journal's fills and
	// reconciliations leave (whatever the range), LastMarket the latest
	// market time of a record.
	Positions  map[string]int64
	LastMarket int64
	// Zone is the desk's display zone ([desk] time_zone) as the last
	// effective-config record journaled it at a desk start; "" = none.
	Zone string
}

func (jt *journalTrips) options(title string) report.HTMLOptions {
	opt := report.HTMLOptions{Title: title, StartEquity: jt.StartEquity, Markers: jt.Markers}
	switch n := len(jt.Sessions); {
	case n == 1:
		opt.Session = jt.Sessions[0]
	case n > 1:
		opt.Session = jt.Sessions[0] + " to " + jt.Sessions[n-1]
	}
	return opt
}

// kindReconcile is the supervisor's reconciliation record: a difference
// between the desk's books and the venue's, with both sides (the
// supervisor's reconcileRecord; only the fields the report reads).
const kindReconcile journal.Kind = "reconcile"

type reconcileBody struct {
	Mismatches      []string `json:"mismatches,omitempty"`
	Faulted         bool     `json:"faulted,omitempty"`
	JournalPosition int64    `json:"journal_position"`
	VenuePosition   int64    `json:"venue_position"`
	Correction      *struct {
		Time  int64        `json:"time"`
		Price market.Price `json:"price"`
	} `json:"correction,omitempty"`
}

// readJournalTrips reads the whole journal once and books its fills into
// round trips per entry (report.Book); a reconciliation that found the
// venue's position different from the books is booked as a correction,
// never paired with later fills.
func readJournalTrips(j *journal.Journal, rng sessionRange) (*journalTrips, error) {
	strategy := map[string]string{} // client order id → strategy, as the desk's order table has it
	fees := map[string]int64{}      // account → fees_rt_cents from the first snapshot that has it
	type event struct {
		seq  uint64
		fill *report.Fill
		rec  *reconcileBody
		acct string
		at   int64
	}
	var events []event
	inside, before := map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
	var order []string // accounts in order of first appearance
	seen := map[string]bool{}
	note := func(acct string) {
		if acct != "" && !seen[acct] {
			seen[acct] = true
			order = append(order, acct)
		}
	}
	out := &journalTrips{StartEquity: map[string]decimal.Decimal{}, FeesRT: map[string]decimal.Decimal{}}
	sessions := map[string]bool{}
	err := j.Iterate(1, func(r journal.Record) error {
		out.LastMarket = max(out.LastMarket, r.Market)
		switch r.Kind {
		case journal.KindConfigChange:
			if z := journaledZone(r); z != "" {
				out.Zone = z
			}
		case journal.KindIntent:
			b, err := r.IntentBody()
			if err != nil {
				return fmt.Errorf("seq %d: %w", r.Seq, err)
			}
			if in := b.Intent; in.ID != "" && in.Strategy != "" {
				if _, dup := strategy[in.ID]; !dup {
					strategy[in.ID] = in.Strategy
					stop, target := journal.LegIDs(in.ID)
					strategy[stop], strategy[target] = in.Strategy, in.Strategy
				}
			}
		case journal.KindBrokerEvent:
			ev, err := r.BrokerEvent()
			if err != nil {
				return fmt.Errorf("seq %d: %w", r.Seq, err)
			}
			if (ev.Kind != broker.FilledEv && ev.Kind != broker.PartiallyFilled) || ev.FillQty <= 0 {
				return nil
			}
			s, ok := strategy[ev.ClientID]
			if !ok {
				s = "desk" // an order the desk placed itself (liquidation, repair)
			}
			note(ev.Account)
			events = append(events, event{seq: r.Seq, fill: &report.Fill{Seq: r.Seq, Account: ev.Account, Strategy: s, ClientID: ev.ClientID,
				Side: ev.Side, Qty: ev.FillQty, Price: ev.FillPrice, Time: ev.Time}})
		case kindReconcile:
			var rb reconcileBody
			if err := json.Unmarshal(r.Body, &rb); err != nil {
				return fmt.Errorf("seq %d: reconcile: %w", r.Seq, err)
			}
			note(r.Account)
			events = append(events, event{seq: r.Seq, rec: &rb, acct: r.Account, at: r.Market})
		case journal.KindKill:
			k, err := r.Kill()
			if err != nil {
				return fmt.Errorf("seq %d: %w", r.Seq, err)
			}
			if rng.has(sessionOfNs(r.Market)) {
				acct := ""
				if k.Scope != "desk" {
					acct = k.Scope
				}
				out.Markers = append(out.Markers, report.Marker{Time: r.Market, Kind: "kill", Account: acct, Label: k.Trigger})
			}
		case journal.KindLockout:
			if rng.has(sessionOfNs(r.Market)) {
				out.Markers = append(out.Markers, report.Marker{Time: r.Market, Kind: "lockout", Account: r.Account})
			}
		case journal.KindSessionReset:
			s, err := r.SessionReset()
			if err != nil {
				return fmt.Errorf("seq %d: %w", r.Seq, err)
			}
			session := s.Session
			if session == "" {
				session = sessionOfNs(r.Market)
			}
			if rng.To != "" && session > rng.To {
				return nil
			}
			if rng.has(session) && !sessions[session] {
				sessions[session] = true
				out.Sessions = append(out.Sessions, session)
			}
			for acct, v := range s.Accounts {
				d, err := decimal.NewFromString(v)
				if err != nil {
					return fmt.Errorf("seq %d: session_reset: account %s start equity %q: %w", r.Seq, acct, v, err)
				}
				note(acct)
				if rng.has(session) {
					if _, ok := inside[acct]; !ok {
						inside[acct] = d
					}
				} else {
					before[acct] = d
				}
			}
		case journal.KindSnapshot:
			states, err := ledgercheck.SnapshotLedgers(r)
			if err != nil {
				return err
			}
			for _, st := range states {
				if _, ok := fees[st.ID]; !ok && st.FeesRTCents > 0 {
					fees[st.ID] = st.FeesRTCents
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the journal: %w", err)
	}

	for _, acct := range order {
		if d, ok := inside[acct]; ok {
			out.StartEquity[acct] = d
		} else if d, ok := before[acct]; ok {
			out.StartEquity[acct] = d
		}
	}
	feeOf := func(acct string) decimal.Decimal {
		if c, ok := fees[acct]; ok {
			return accounts.Money(c)
		}
		return market.MES().FeesRT
	}
	book := report.NewBook(feeOf)
	for _, ev := range events {
		switch {
		case ev.fill != nil:
			out.Fills++
			if _, ok := out.FeesRT[ev.fill.Account]; !ok {
				out.FeesRT[ev.fill.Account] = feeOf(ev.fill.Account)
			}
			if err := book.Fill(*ev.fill); err != nil {
				return nil, fmt.Errorf("seq %d: %w", ev.seq, err)
			}
		case ev.rec != nil:
			var px market.Price
			at := ev.at
			if c := ev.rec.Correction; c != nil {
				px = c.Price
				if c.Time != 0 {
					at = c.Time
				}
			}
			// Booked whatever the range: the books must follow the venue.
			book.Reconcile(ev.seq, at, ev.acct, ev.rec.VenuePosition, px, strings.Join(ev.rec.Mismatches, "; "))
		}
	}
	out.Positions = book.Positions()
	for _, t := range book.Trips() {
		if rng.has(sessionOfNs(t.ExitTime)) {
			out.Trips = append(out.Trips, t)
		}
	}
	for _, c := range book.Corrections() {
		if rng.has(sessionOfNs(c.Time)) {
			out.Corrections = append(out.Corrections, c)
		}
	}
	return out, nil
}
