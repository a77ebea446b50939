package main

// run_summary.go: the end-of-run summary `deskguard run` prints (and
// writes with --summary), truthful about what stopped: the desk has
// stopped whatever state it was in; a position left open stays at a venue
// that outlives the desk (a real one, or a `deskguard venue` of its own)
// with the orders the desk left there, but goes with a built-in venue (the
// child the desk started, or the in-process sim), which stops with it. The
// round trips are counted as `report` counts them: an entry and all its
// exits, from the journal, for the run's session.

import (
	"fmt"
	"time"

	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/report"
	"github.com/deskguard/deskguard/supervisor"
)

// summaryFacts is what the summary needs beyond the desk's own Summary.
type summaryFacts struct {
	journal   *journal.Journal
	zone      *time.Location
	venue     string // broker kind: venue, sim, tradovate
	venueGoes bool   // the venue stops with the desk (built-in child or in-process sim)
	orders    func(account string) int
	ended     bool   // the session's data ended (else the run was stopped)
	session   string // the session date, YYYY-MM-DD
	trips     map[string][]report.Trip
	contracts map[string]int64
	err       error
}

// perEntry replaces sum's round-trip counts (the desk's fill pieces) with
// the report's (an entry and its exits), read from the journal for the
// run's session, and keeps the trips in f. If the journal cannot be read,
// sum keeps the desk's counts and f says why.
func perEntry(sum *supervisor.Summary, f *summaryFacts) {
	entryTrips(f)
	if f.err != nil {
		return
	}
	for i := range sum.Accounts {
		a := &sum.Accounts[i]
		a.RoundTrips, a.Wins, a.Losses = 0, 0, 0
		for _, t := range f.trips[a.ID] {
			a.RoundTrips++
			if t.Gross().IsPositive() {
				a.Wins++
			} else {
				a.Losses++
			}
		}
	}
}

// entryTrips reads the session's round trips per account from the journal.
func entryTrips(f *summaryFacts) {
	f.trips, f.contracts = map[string][]report.Trip{}, map[string]int64{}
	if f.journal == nil {
		return
	}
	rng := sessionRange{From: f.session, To: f.session}
	jt, err := readJournalTrips(f.journal, rng)
	if err != nil {
		f.err = err
		return
	}
	for _, t := range jt.Trips {
		f.trips[t.Account] = append(f.trips[t.Account], t)
		f.contracts[t.Account] += t.Qty
	}
}

func printSummary(e *env, sum supervisor.Summary, f summaryFacts) {
	state := sum.Desk.State
	how := "stopped"
	if f.ended {
		how = "the session's data ended"
	}
	fmt.Fprintf(e.stdout, "\nsummary: %s; the desk has stopped (it was %s). %d trades seen; desk net %s; times in %s\n",
		how, state, sum.Trades, sum.Desk.Net, f.zone)
	for _, a := range sum.Accounts {
		fmt.Fprintf(e.stdout, "  %-8s trips %3d (W%d/L%d, %d contracts) net %9s fees %7s position %d%s\n", a.ID, a.RoundTrips, a.Wins, a.Losses,
			f.contracts[a.ID], a.Net, a.Fees, a.Position, map[bool]string{true: " LOCKED OUT", false: ""}[a.LockedOut])
		if a.Position == 0 {
			continue
		}
		if f.venueGoes {
			fmt.Fprintf(e.stdout, "           open position %d is NOT protected: the %s stopped with the desk and the position "+
				"and its bracket went with it (no fill closed it); the next run on this journal journals it as a correction\n", a.Position, venueName(f.venue))
		} else {
			n := 0
			if f.orders != nil {
				n = f.orders(a.ID)
			}
			fmt.Fprintf(e.stdout, "           open position %d stays at the venue with the %d working orders the desk left there; "+
				"nothing on this machine watches it until the desk runs again\n", a.Position, n)
		}
	}
	if f.err != nil {
		fmt.Fprintf(e.stdout, "  (round trips as the desk booked them: the journal could not be read for them: %v)\n", f.err)
	} else {
		fmt.Fprintf(e.stdout, "  trips: an entry and all its exits, whatever the fill fragments, as `deskguard report` counts them\n")
	}
}

// venueName names a venue that stops with the desk, for a person.
func venueName(kind string) string {
	if kind == "sim" {
		return "in-process sim venue"
	}
	return "built-in venue (the desk's own venue process)"
}
