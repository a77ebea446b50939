// read.go: reading the journal back — Iterate, Last, Tail, Export (JSON
// lines), Recover from the latest snapshot, OpenIntents for reconciliation.

package journal

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/deskguard/deskguard/execution"
	"github.com/deskguard/deskguard/intent"
	bolt "go.etcd.io/bbolt"
)

// ErrStop, returned by an Iterate callback, ends the iteration without error.
var ErrStop = errors.New("journal: stop iteration")

// Iterate calls fn for every record with Seq >= from, in order, in one read
// transaction (a consistent view; appends go on meanwhile). A record that
// does not decode ends the iteration with an error wrapping ErrCorrupt.
func (j *Journal) Iterate(from uint64, fn func(Record) error) error {
	err := j.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		for k, v := c.Seek(seqKey(from)); k != nil; k, v = c.Next() {
			r, err := Decode(k, v)
			if err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

// Last returns the last record; ok is false for an empty journal.
func (j *Journal) Last() (rec Record, ok bool, err error) {
	err = j.view(func(tx *bolt.Tx) error {
		k, v := tx.Bucket(bucketRecords).Cursor().Last()
		if k == nil {
			return nil
		}
		rec, err = Decode(k, v)
		ok = err == nil
		return err
	})
	return rec, ok, err
}

// Tail returns the last n records, oldest first.
func (j *Journal) Tail(n int) ([]Record, error) {
	var out []Record
	err := j.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			r, err := Decode(k, v)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	for i, k := 0, len(out)-1; i < k; i, k = i+1, k-1 {
		out[i], out[k] = out[k], out[i]
	}
	return out, err
}

// Export writes every record with Seq >= from as one JSON object per line.
func (j *Journal) Export(w io.Writer, from uint64) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if err := j.Iterate(from, func(r Record) error { return enc.Encode(r) }); err != nil {
		return fmt.Errorf("journal: export: %w", err)
	}
	return bw.Flush()
}

// Recover replays the journal for rebuilding state: it finds the latest
// snapshot record and calls fn with it and every record after it, in
// order; with no snapshot, fn sees the whole journal. A snapshot is a
// checkpoint of the whole desk (every ledger, account state, lockout and
// open intent the caller's fold needs), so that folding from it equals
// folding the whole log. It returns the seq recovery started at (0 for an
// empty journal).
func (j *Journal) Recover(fn func(Record) error) (from uint64, err error) {
	err = j.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			r, err := Decode(k, v)
			if err != nil {
				return err
			}
			from = r.Seq
			if r.Kind == KindSnapshot {
				break
			}
		}
		return nil
	})
	if err != nil || from == 0 {
		return 0, err
	}
	return from, j.Iterate(from, fn)
}

// LegIDs returns the client order ids of an entry's bracket legs, by the
// desk's convention "<entryID>.stop" and "<entryID>.target".
func LegIDs(entryID string) (stop, target string) {
	return entryID + ".stop", entryID + ".target"
}

// OpenIntent is an intent the venue has not answered.
type OpenIntent struct {
	Seq    uint64        // the intent record
	Intent intent.Intent // what was asked
	Ref    string        // the order id an outcome is expected for
}

// OpenIntents lists the intents that may have reached the broker without
// an outcome in the journal, for reconciliation with the venue: intents
// the gate allowed (or journaled without a decision) for which no broker
// event says the venue saw the order. For Enter, Add and Exit the order is
// the intent's own ClientID (any accepted, rejected, fill, cancel or expiry
// event for it, or for one of its legs, is an outcome); for Cancel and
// MoveStop it is Ref (a cancel, modify or terminal event on Ref after the
// intent). It reads the whole journal.
func (j *Journal) OpenIntents() ([]OpenIntent, error) {
	var (
		open  []OpenIntent
		index = map[string][]int{} // order id → positions in open
	)
	answered := func(id string, kinds ...execution.EventKind) func(execution.EventKind) bool {
		return func(k execution.EventKind) bool {
			for _, want := range kinds {
				if k == want {
					return true
				}
			}
			return false
		}
	}
	var outcome []func(execution.EventKind) bool
	err := j.Iterate(1, func(r Record) error {
		switch r.Kind {
		case KindIntent:
			b, err := r.IntentBody()
			if err != nil {
				return err
			}
			if b.Decision != nil && !b.Decision.Allowed {
				return nil
			}
			oi := OpenIntent{Seq: r.Seq, Intent: b.Intent, Ref: b.Intent.ID}
			var f func(execution.EventKind) bool
			switch b.Intent.Kind {
			case intent.Cancel:
				oi.Ref = b.Intent.Ref
				f = answered(oi.Ref, execution.CancelledEv, execution.FilledEv, execution.RejectedEv, execution.ExpiredEv)
			case intent.MoveStop:
				oi.Ref = b.Intent.Ref
				f = answered(oi.Ref, execution.Modified, execution.RejectedEv, execution.FilledEv, execution.CancelledEv, execution.ExpiredEv)
			default:
				f = answered(oi.Ref, execution.Accepted, execution.RejectedEv, execution.PartiallyFilled, execution.FilledEv,
					execution.CancelledEv, execution.ExpiredEv, execution.TriggeredEv)
			}
			if oi.Ref == "" {
				return nil
			}
			index[oi.Ref] = append(index[oi.Ref], len(open))
			open = append(open, oi)
			outcome = append(outcome, f)
			if b.Intent.Kind == intent.Enter || b.Intent.Kind == intent.Add {
				s, t := LegIDs(oi.Ref)
				index[s] = append(index[s], len(open)-1)
				index[t] = append(index[t], len(open)-1)
			}
		case KindBrokerEvent:
			ev, err := r.BrokerEvent()
			if err != nil {
				return err
			}
			ids := []string{ev.ClientID}
			if ev.GroupID != "" && ev.GroupID != ev.ClientID {
				ids = append(ids, ev.GroupID)
			}
			for _, id := range ids {
				for _, i := range index[id] {
					if open[i].Seq != 0 && (id != open[i].Ref || outcome[i](ev.Kind)) {
						open[i].Seq = 0 // answered
					}
				}
			}
		}
		return nil
	})
	out := open[:0]
	for _, oi := range open {
		if oi.Seq != 0 {
			out = append(out, oi)
		}
	}
	return out, err
}

// Backup writes a consistent copy of the journal to path (bbolt's
// tx.WriteTo inside a read transaction, then fsync), while appends go on.
// dump and verify can read the copy beside a live desk.
func (j *Journal) Backup(path string) (n int64, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("journal: backup: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("journal: backup: %w", cerr)
		}
	}()
	err = j.view(func(tx *bolt.Tx) error {
		n, err = tx.WriteTo(f)
		return err
	})
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		return n, fmt.Errorf("journal: backup to %s: %w", path, err)
	}
	return n, nil
}
