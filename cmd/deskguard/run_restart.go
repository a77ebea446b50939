package main

// run_restart.go: what `run` says about the positions a journal leaves when
// it starts a new venue that knows nothing of them. The built-in venue
// (broker kind "venue", a child process) and the in-process sim stop with
// the desk: a position open when the desk stopped went with them, no fill
// closing it. The desk recovers from its journal as with any venue (issue
// 25.2: a lockout in force stays in force) and its reconciliation at start
// (supervisor Options.FreshVenue) corrects the books to the new venue's
// zero, journals it as a reconcile record with both sides and alerts it;
// `report` shows it as a correction row. This file only reads the journal
// to say so on run's output. It touches the journal read-side only.

import (
	"fmt"
	"sort"

	"github.com/deskguard/deskguard/journal"
)

// vanished is one position a new venue does not have.
type vanished struct {
	Account string
	Books   int64
}

// journalOpen returns every position j's fills leave open (a new, empty
// venue does not have them), by account.
func journalOpen(j *journal.Journal) ([]vanished, error) {
	jt, err := readJournalTrips(j, sessionRange{})
	if err != nil {
		return nil, fmt.Errorf("the journal's positions: %w", err)
	}
	var out []vanished
	for acct, pos := range jt.Positions {
		if pos != 0 {
			out = append(out, vanished{Account: acct, Books: pos})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Account < out[b].Account })
	return out, nil
}
