package supervisor

// snapshot_race_test.go: a snapshot taken while a broker event is between
// its journal append and its booking. The event path journals first and
// books after; a snapshot that read the books in that window was appended
// after the fill's record without the fill in it, so recovery (the latest
// snapshot + the records after it) lost the fill and `journal verify`'s
// ledger check found "position recomputed from fills 1, snapshot says 0"
// (CI: TestCrashDrillRithmic). Now the snapshot waits for the event to be
// booked (Desk.books).

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/journal/ledgercheck"
	"github.com/deskguard/deskguard/market"
)

// bookHoldJournal holds the append of the record hold picks after it is
// durable (it has its seq), until release is closed; it tells appended.
type bookHoldJournal struct {
	Journal
	hold     func(journal.Record) bool
	once     sync.Once
	appended chan struct{}
	release  chan struct{}
	mu       sync.Mutex
	snaps    int // snapshot records appended
}

func (h *bookHoldJournal) Append(ctx context.Context, r journal.Record) (uint64, error) {
	seq, err := h.Journal.Append(ctx, r)
	if r.Kind == journal.KindSnapshot {
		h.mu.Lock()
		h.snaps++
		h.mu.Unlock()
	}
	if h.hold(r) {
		h.once.Do(func() { close(h.appended) })
		<-h.release
	}
	return seq, err
}

// AppendBatch holds like Append when a record of the batch is the one.
func (h *bookHoldJournal) AppendBatch(ctx context.Context, rs []journal.Record) error {
	err := h.Journal.(BatchJournal).AppendBatch(ctx, rs)
	for _, r := range rs {
		if h.hold(r) {
			h.once.Do(func() { close(h.appended) })
			<-h.release
		}
	}
	return err
}

// booksWriterWaiting reports whether a snapshot waits for the books (a
// writer of Desk.books is pending: no reader can enter).
func (d *Desk) booksWriterWaiting() bool {
	if d.books.TryRLock() {
		d.books.RUnlock()
		return false
	}
	return true
}

func (h *bookHoldJournal) snapshots() int { h.mu.Lock(); defer h.mu.Unlock(); return h.snaps }

func TestSnapshotWaitsForAnEventBeingBooked(t *testing.T) {
	const acct = "ORB1"
	t0 := int64(1_710_250_200_000_000_000)
	hj := &bookHoldJournal{appended: make(chan struct{}), release: make(chan struct{}),
		hold: func(r journal.Record) bool { return r.Kind == journal.KindBrokerEvent && r.ClientID == "x1" }}
	for _, batch := range []bool{false, true} {
		name := "one event"
		if batch {
			name = "a batch"
		}
		t.Run(name, func(t *testing.T) {
			hj.appended, hj.release, hj.once, hj.snaps = make(chan struct{}), make(chan struct{}), sync.Once{}, 0
			r := newRig(t, rigOpt{Journal: func(j Journal) Journal { hj.Journal = j; return hj }})
			ctx := context.Background()
			if err := r.d.Start(ctx); err != nil {
				t.Fatal(err)
			}
			fill := broker.Event{Kind: broker.FilledEv, Account: acct, ClientID: "x1", Side: market.Buy, FillQty: 1,
				FillPrice: market.MustPrice("5100.00"), Time: t0, VenueID: "v1", External: true}
			evDone := make(chan struct{})
			go func() {
				defer close(evDone)
				if batch {
					// One commit for both (AppendBatch), held after it.
					r.d.OnBrokerEvents(ctx, []broker.Event{
						{Kind: broker.Accepted, Account: acct, ClientID: "x0", Side: market.Buy, LeavesQty: 1, Time: t0, VenueID: "v0", External: true}, fill})
				} else {
					r.d.OnBrokerEvent(ctx, fill)
				}
			}()
			<-hj.appended // the fill is durable, not booked yet
			snapDone := make(chan error, 1)
			go func() { snapDone <- r.d.Snapshot(ctx) }()
			// Until the snapshot is appended (the defect: it did not wait)
			// or is waiting for the event's booking to finish.
			for hj.snapshots() == 0 && !r.d.booksWriterWaiting() {
				runtime.Gosched()
			}
			close(hj.release)
			<-evDone
			if err := <-snapDone; err != nil {
				t.Fatal(err)
			}
			path := r.path
			r.close()

			rep, err := journal.Verify(path, journal.VerifyOptions{Checkers: []journal.Checker{ledgercheck.New()}})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK {
				t.Errorf("journal verify: %v", rep.Problems)
			}
			r2 := newRig(t, rigOpt{Path: path})
			if _, err := r2.d.Recover(r2.j); err != nil {
				t.Fatal(err)
			}
			for _, a := range r2.d.Status(ctx).Accounts {
				if a.ID == acct && a.Position != 1 {
					t.Errorf("recovered position %d, want 1 (the fill journaled before the snapshot)", a.Position)
				}
			}
		})
	}
}
