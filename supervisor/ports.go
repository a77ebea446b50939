package supervisor

// ports.go: what the desk needs of the journal and of the alert channel,
// as small interfaces, so the desk is tested with the real journal and
// notifier and the adapters stay in one place.

import (
	"context"

	"github.com/deskguard/deskguard/alerts"
	"github.com/deskguard/deskguard/journal"
)

// Journal is the desk's write-ahead log. Append returns once the record is
// durable (fsynced); kinds and bodies are the journal package's record kinds.
type Journal interface {
	Append(ctx context.Context, e Entry) (uint64, error)
}

// Entry is one record the desk writes.
type Entry struct {
	Kind     string // intent, decision, broker_event, transition, kill, lockout, unlock, rearm, session_reset, snapshot, command, alert_failed, config_change
	Account  string
	ClientID string
	Market   int64 // market time, ns UTC
	Body     any   // JSON-encodable
}

// Alerter receives the desk's alerts; it must never block
// (*alerts.Notifier).
type Alerter interface {
	Notify(a alerts.Alert)
}

type nopAlerter struct{}

func (nopAlerter) Notify(alerts.Alert) {}

// JournalOf adapts a *journal.Journal to the desk's Journal.
func JournalOf(j *journal.Journal) Journal { return journalAdapter{j} }

// BatchJournal is a Journal that can make several records durable with one
// commit, in order. The desk uses it, when its journal has it, for the
// broker events that arrive together; otherwise it appends them one by one.
type BatchJournal interface {
	Journal
	// AppendBatch returns once every record is durable, in the order
	// given, or with the first error.
	AppendBatch(ctx context.Context, es []Entry) error
}

func (a journalAdapter) AppendBatch(ctx context.Context, es []Entry) error {
	for _, e := range es {
		rec, err := journal.New(journal.Kind(e.Kind), e.Account, e.ClientID, e.Market, e.Body)
		if err != nil {
			return err
		}
		if err := a.j.AppendNoWait(rec); err != nil {
			return err
		}
	}
	return a.j.Flush(ctx)
}

type journalAdapter struct{ j *journal.Journal }

func (a journalAdapter) Append(ctx context.Context, e Entry) (uint64, error) {
	rec, err := journal.New(journal.Kind(e.Kind), e.Account, e.ClientID, e.Market, e.Body)
	if err != nil {
		return 0, err
	}
	return a.j.Append(ctx, rec)
}

// UrgentJournal is a Journal with a lane that does not queue behind the
// others (journal.AppendUrgent): the kill's record uses it when the
// journal has it.
type UrgentJournal interface {
	Journal
	// AppendUrgent is Append for a record that must be in the next commit
	// to start, however many records are queued.
	AppendUrgent(ctx context.Context, e Entry) (uint64, error)
}

func (a journalAdapter) AppendUrgent(ctx context.Context, e Entry) (uint64, error) {
	rec, err := journal.New(journal.Kind(e.Kind), e.Account, e.ClientID, e.Market, e.Body)
	if err != nil {
		return 0, err
	}
	return a.j.AppendUrgent(ctx, rec)
}
