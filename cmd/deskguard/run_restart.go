package main

// run_restart.go: what `run` says about the positions a journal leaves when
// it starts a new venue that knows nothing of them. The built-in venue
// (broker kind "venue", a child process) and the in-process sim stop with
// the desk: a position open when the desk stopped went with them, no fill
// closing it. Such a desk does not recover its books from the journal (the
// venue it trades with is new), so without a word the position would
// simply vanish from the books and `report` would pair it with the next
// run's fills. Instead each one is logged, journaled as a reconcile record
// with both sides (the journal's position, the new venue's zero) and
// alerted; `report` shows it as a correction row.

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/deskguard/deskguard/alerts"
	"github.com/deskguard/deskguard/journal"
)

// vanished is one position a new venue does not have.
type vanished struct {
	Account string
	Books   int64
}

// journalVanished journals (and logs and alerts) every position j's fills
// leave open, for a desk that starts a new, empty venue. It returns them.
// Market time of the records: the journal's latest, the moment the
// previous run stopped and its venue with it.
func journalVanished(ctx context.Context, j *journal.Journal, log *slog.Logger, notify func(alerts.Alert)) ([]vanished, error) {
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
	for _, v := range out {
		why := fmt.Sprintf("position: journal %d, venue 0 (a new built-in venue: the one that held it stopped with the desk, no fill closed it)", v.Books)
		rec, err := journal.New(kindReconcile, v.Account, "", jt.LastMarket, reconcileBody{Mismatches: []string{why},
			JournalPosition: v.Books, VenuePosition: 0})
		if err != nil {
			return out, err
		}
		if _, err := j.Append(ctx, rec); err != nil {
			return out, fmt.Errorf("journal the vanished position of %s: %w", v.Account, err)
		}
		log.Error("reconcile mismatch: a position the new venue does not have", "account", v.Account, "journal_position", v.Books,
			"venue_position", 0)
		notify(alerts.ReconcileMismatch(time.Now(), v.Account, alerts.ReconcileFacts{JournalPosition: v.Books, VenuePosition: 0,
			Action: "journaled as a correction; the new built-in venue holds no position, the desk starts flat"}))
	}
	return out, nil
}
