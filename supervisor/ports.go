package supervisor

// ports.go: what the desk needs of the journal and of the alert channel,
// as small interfaces, so the desk is tested with the real journal and
// notifier (and with wrappers that hold or cut them). The records are the
// journal's typed records (journal's payloads): the only schema.

import (
	"context"
	"time"

	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/journal"
)

// Journal is the desk's write-ahead log. Append returns once the record is
// durable (fsynced).
type Journal interface {
	Append(ctx context.Context, r journal.Record) (uint64, error)
}

// BatchJournal is a Journal that can make several records durable with one
// commit, in order. The desk uses it, when its journal has it, for the
// broker events that arrive together; otherwise it appends them one by one.
type BatchJournal interface {
	Journal
	// AppendBatch returns once every record is durable, in the order
	// given, or with the first error.
	AppendBatch(ctx context.Context, rs []journal.Record) error
}

// UrgentJournal is a Journal with a lane that does not queue behind the
// others (journal.AppendUrgent): the kill's record uses it when the
// journal has it.
type UrgentJournal interface {
	Journal
	// AppendUrgent is Append for a record that must be in the next commit
	// to start, however many records are queued.
	AppendUrgent(ctx context.Context, r journal.Record) (uint64, error)
}

// JournalOf is the desk's Journal over a *journal.Journal (which is one:
// Append, AppendBatch and AppendUrgent).
func JournalOf(j *journal.Journal) Journal { return j }

var (
	_ BatchJournal  = (*journal.Journal)(nil)
	_ UrgentJournal = (*journal.Journal)(nil)
)

// Alerter receives the desk's alerts; it must never block
// (*alerts.Notifier).
type Alerter interface {
	Notify(a alert.Alert)
}

type nopAlerter struct{}

func (nopAlerter) Notify(alert.Alert) {}

// Observer receives the desk's latency samples for its metrics (package
// metrics); nil = none. Its methods are called on the intent and kill
// paths: they must not block or allocate (a prometheus histogram's
// Observe is an atomic add). The counts (intents, orders, fills,
// rejections, worker restarts) are not pushed: Counts reads them.
type Observer interface {
	// GateChecked is one gate check's duration (wall clock, around
	// limits.Gate.Check, outside it).
	GateChecked(took time.Duration)
	// KillSent is a kill's trigger → every liquidate request answered.
	KillSent(trigger string, took time.Duration)
	// KillFlat is a kill's trigger → one account in its scope seen flat
	// with nothing working (the venue's reports booked).
	KillFlat(took time.Duration)
}

type nopObserver struct{}

func (nopObserver) GateChecked(time.Duration)      {}
func (nopObserver) KillSent(string, time.Duration) {}
func (nopObserver) KillFlat(time.Duration)         {}
