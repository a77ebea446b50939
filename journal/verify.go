// verify.go: Verify, the check behind `deskguard journal verify`: bbolt's
// tx.Check, contiguous sequence numbers, every record and payload decodes,
// every fill belongs to a journaled intent (or is an external order's: one
// the desk did not place, as the venue reported it), and the state checkers its
// caller hands in (deskguard's: journal/ledgercheck, the ledger recomputed
// from fills against each snapshot).

package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/deskguard/deskguard/execution"
	"github.com/deskguard/deskguard/intent"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Report is Verify's result (the JSON `deskguard journal verify` prints).
type Report struct {
	Path      string `json:"path"`
	Records   int    `json:"records"`
	Intents   int    `json:"intents"`
	Fills     int    `json:"fills"`
	External  int    `json:"external_fills"` // fills of orders the desk did not place (Event.External)
	Busts     int    `json:"busts"`          // trade busts and corrections the venue reported
	Kills     int    `json:"kills"`
	Lockouts  int    `json:"lockouts"`
	Snapshots int    `json:"snapshots"`
	// PendingUrgent counts records durable in the urgent log (kills) that
	// the file does not hold yet: the desk's next start replays them
	// (urgentlog.go). Not a problem: after a crash, the kill is there.
	PendingUrgent int      `json:"pending_urgent,omitempty"`
	First         uint64   `json:"first"`
	Last          uint64   `json:"last"`
	OK            bool     `json:"ok"`
	Problems      []string `json:"problems"`
}

// Checker folds the records in order and reports problems: a state
// recomputation compared with the journal's own snapshots.
type Checker interface {
	Check(r Record) []string // every decoded record, in order
	Finish() []string        // after the last record
}

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// Timeout for the file lock (default 1s).
	Timeout time.Duration
	// Checkers fold the records and compare state with the journal's own
	// snapshots (the caller's: `deskguard journal verify` hands in
	// ledgercheck.New()). None runs only the journal's own checks.
	Checkers []Checker
	// FillOwner may accept a fill that belongs to no journaled intent
	// (e.g. a venue-generated liquidation order id). Nil accepts none.
	FillOwner func(ev execution.Event) bool
	// MaxProblems caps the listed problems (default 100); the rest are counted.
	MaxProblems int
}

// Verify checks the journal file at path, opened read-only. It returns an
// error only when the file cannot be examined at all (missing, locked by a
// live desk: ErrLocked); damage of any kind is a problem in the report.
func Verify(path string, opt VerifyOptions) (rep Report, err error) {
	if opt.Timeout <= 0 {
		opt.Timeout = time.Second
	}
	if opt.MaxProblems <= 0 {
		opt.MaxProblems = 100
	}
	rep = Report{Path: path, Problems: []string{}}
	extra := 0
	problem := func(format string, args ...any) {
		if len(rep.Problems) < opt.MaxProblems {
			rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...))
		} else {
			extra++
		}
	}
	defer func() {
		if extra > 0 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("... and %d more problems", extra))
		}
		rep.OK = len(rep.Problems) == 0 && err == nil
	}()
	if err := checkRegular(path, true); err != nil {
		return rep, err
	}
	prechecked := false
	if lockHolder(path) == "" { // in use: bbolt times out below, or we check under the lock
		if err := precheck(path, true); err != nil {
			if errors.Is(err, ErrLocked) {
				return rep, err
			}
			problem("%v", err)
			return rep, nil
		}
		prechecked = true
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	db, err := openRaw(path, opt.Timeout)
	if err != nil {
		if errors.Is(err, ErrLocked) {
			return rep, err
		}
		problem("open: %v", err)
		return rep, nil
	}
	defer db.Close()
	if probs := checkFile(path, !prechecked); len(probs) > 0 {
		for _, p := range probs {
			problem("%s", p)
		}
		return rep, nil // bbolt must not read a damaged tree
	}
	v := &verifier{opt: opt, problem: problem, rep: &rep, ids: map[string]bool{}, entries: map[string]bool{}}
	func() {
		defer func() {
			if r := recover(); r != nil {
				problem("reading the file: bbolt failed on a damaged page: %v", r)
			}
		}()
		if err := db.View(v.run); err != nil {
			problem("%v", err)
		}
	}()
	for _, c := range opt.Checkers {
		for _, p := range c.Finish() {
			problem("%s", p)
		}
	}
	if n, err := pendingUrgent(path, v.urgentMark); err != nil {
		problem("%v", err)
	} else {
		rep.PendingUrgent = n
	}
	return rep, nil
}

// openRaw opens the file read-only with a lock timeout, recovering bbolt
// panics.
func openRaw(path string, timeout time.Duration) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: open %s: %v", ErrCorrupt, path, r)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, ReadOnly: true})
	if err != nil {
		return nil, openError(path, err)
	}
	return db, nil
}

type verifier struct {
	opt     VerifyOptions
	problem func(string, ...any)
	rep     *Report
	ids     map[string]bool // client ids of journaled intents and their legs
	entries map[string]bool // entry ids (bracket group ids)
	// urgentMark is the highest urgent log id the file holds (meta).
	urgentMark uint64
}

func (v *verifier) run(tx *bolt.Tx) error {
	if err := checkMeta(tx, v.rep.Path); err != nil {
		v.problem("%v", err)
		if errors.Is(err, ErrNewerSchema) || tx.Bucket(bucketRecords) == nil {
			return nil
		}
	}
	if m := tx.Bucket(bucketMeta); m != nil {
		if mv := m.Get(keyUrgent); len(mv) == 8 {
			v.urgentMark = binary.BigEndian.Uint64(mv)
		}
	}
	b := tx.Bucket(bucketRecords)
	if b == nil {
		return nil
	}
	var prev uint64
	c := b.Cursor()
	for k, val := c.First(); k != nil; k, val = c.Next() {
		v.rep.Records++
		r, err := Decode(k, val)
		if err != nil {
			v.problem("%v", err)
			if len(k) == 8 {
				prev = uint64(k[0])<<56 | uint64(k[1])<<48 | uint64(k[2])<<40 | uint64(k[3])<<32 |
					uint64(k[4])<<24 | uint64(k[5])<<16 | uint64(k[6])<<8 | uint64(k[7])
			}
			continue
		}
		if v.rep.First == 0 {
			v.rep.First = r.Seq
			if r.Seq != 1 {
				v.problem("first record is seq %d, want 1", r.Seq)
			}
		} else if r.Seq != prev+1 {
			v.problem("gap: seq %d follows %d", r.Seq, prev)
		}
		prev, v.rep.Last = r.Seq, r.Seq
		if err := checkPayload(r); err != nil {
			v.problem("%v", err)
			continue
		}
		v.record(r)
		for _, ch := range v.opt.Checkers {
			for _, p := range ch.Check(r) {
				v.problem("seq %d: %s", r.Seq, p)
			}
		}
	}
	if s := b.Sequence(); s != v.rep.Last && v.rep.Records > 0 {
		v.problem("the last commit wrote seq %d but the last record is seq %d (records lost)", s, v.rep.Last)
	}
	// bbolt's own check last: it runs in a goroutine where a bad page
	// pointer would fault fatally; the walk above has touched every page
	// of the records tree here, where the fault is a recoverable panic.
	touchMeta(tx)
	for err := range tx.Check() {
		v.problem("bbolt check: %v", err)
	}
	return nil
}

func (v *verifier) record(r Record) {
	switch r.Kind {
	case KindIntent:
		v.rep.Intents++
		b, _ := r.IntentBody()
		if id := b.Intent.ID; id != "" {
			v.ids[id] = true
			if b.Intent.Kind == intent.Enter || b.Intent.Kind == intent.Add {
				s, t := LegIDs(id)
				v.ids[s], v.ids[t], v.entries[id] = true, true, true
			}
		}
	case KindBrokerEvent:
		ev, _ := r.BrokerEvent()
		if ev.Kind == execution.BustedEv || ev.Kind == execution.CorrectedEv {
			v.rep.Busts++
		}
		if !isFill(ev) {
			return
		}
		v.rep.Fills++
		if v.ids[ev.ClientID] || (ev.GroupID != "" && v.entries[ev.GroupID]) {
			return
		}
		if ev.External {
			// An order the desk did not place (a trader's on the broker's
			// own platform, the broker's auto-liquidation): the venue said
			// so, and the desk booked it as such.
			v.rep.External++
			return
		}
		if v.opt.FillOwner != nil && v.opt.FillOwner(ev) {
			return
		}
		v.problem("seq %d: fill of %s %s x%d belongs to no journaled intent (or precedes it)", r.Seq, ev.Account, ev.ClientID, ev.FillQty)
	case KindKill:
		v.rep.Kills++
	case KindLockout:
		v.rep.Lockouts++
	case KindSnapshot:
		v.rep.Snapshots++
	}
}

func isFill(ev execution.Event) bool {
	return (ev.Kind == execution.FilledEv || ev.Kind == execution.PartiallyFilled) && ev.FillQty > 0
}

// IsLocked reports whether err is a lock conflict.
func IsLocked(err error) bool { return errors.Is(err, ErrLocked) || errors.Is(err, berrors.ErrTimeout) }
