// journal.go: opening a journal file (lock with a timeout, schema check,
// integrity check) and appending with group commit.

package journal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/deskguard/deskguard/market"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the journal layout this build writes and reads. A file
// with a newer schema is refused (ErrNewerSchema).
const SchemaVersion uint16 = 1

var (
	bucketRecords = []byte("records")
	bucketMeta    = []byte("meta")
	keySchema     = []byte("schema")
	keyCreated    = []byte("created")
)

// Errors callers decide on.
var (
	// ErrLocked: another process (or another Open in this one) holds the
	// file. It wraps berrors.ErrTimeout.
	ErrLocked = errors.New("journal: file is locked by another deskguard process")
	// ErrNewerSchema: the file was written by a newer deskguard.
	ErrNewerSchema = errors.New("journal: file has a newer schema version")
	// ErrAppendFailed: a commit failed (disk full, I/O error). The journal
	// refuses every later append until it is reopened; the desk must go
	// degraded and send nothing that was not journaled.
	ErrAppendFailed = errors.New("journal: append failed")
	// ErrClosed: the journal was closed.
	ErrClosed = errors.New("journal: closed")
	// ErrReadOnly: Append on a journal opened read-only.
	ErrReadOnly = errors.New("journal: opened read-only")
)

// Options configure Open. The zero value is a writable journal with a one
// second lock timeout, the wall clock and a full check at open.
type Options struct {
	// Clock gives each record its Wall time (market.WallClock{} when nil).
	Clock market.Clock
	// Timeout is how long Open waits for the file lock (default 1s; it is
	// never infinite).
	Timeout time.Duration
	// ReadOnly opens without writing (dump, verify). bbolt still takes a
	// shared flock, which conflicts with a live writer: see docs.
	ReadOnly bool
	// QuickOpen checks only the meta, the first record and the last 256
	// records at Open instead of bbolt's tx.Check and every record.
	QuickOpen bool
	// MaxBatch caps the records committed in one transaction (default 1024).
	MaxBatch int
	// MmapSize is the initial bbolt mmap size (default 1 GiB of address
	// space; the file does not grow with it). bbolt must remap to grow the
	// file and a remap waits for every open read transaction, so a long
	// Iterate (recovery, export) would stall Append until it finished;
	// below this size there is no remap.
	MmapSize int
	// MaxSize caps the file size in bytes (bbolt's MaxSize; 0 = no limit):
	// past it every commit fails as a full disk would.
	MaxSize int
	// Log receives open/close/failure events (discarded when nil).
	Log *slog.Logger

	// Inject, when set, is a fault-injection point (drills, tests): it is
	// called at each commit with the number of records in it, and the
	// Fault it returns, if its Err is set, fails that commit.
	Inject func(records int) Fault

	// NoUrgentLog: AppendUrgent waits for the bbolt commit, as Append does
	// (no <path>.urgent file; urgentlog.go).
	NoUrgentLog bool
	// InjectUrgent, when set, is called before each urgent log write; an
	// error fails that write (and breaks the log for the run), as an I/O
	// error would: AppendUrgent then waits for the commit.
	InjectUrgent func() error

	// OnCommit, when set, is told each durable commit's record count and
	// how long it took (Clock, from the transaction's start to fdatasync's
	// return): the metrics' commit latency and records per commit. It is
	// called on the writer goroutine and must not block.
	OnCommit func(records int, took time.Duration)
}

// Fault is an injected commit failure (Options.Inject). With AfterWrite
// false the commit fails before it is durable, as when the fdatasync of
// bbolt's data pages fails: nothing of it reaches the file. With
// AfterWrite true the commit is made durable and then reported failed, as
// when the fdatasync of the meta page fails although the page reached the
// disk: the records are in the file, but their appenders were told the
// append failed. Either way the journal refuses appends from then on.
type Fault struct {
	Err        error
	AfterWrite bool
}

// Journal is an open journal. Its methods are safe for concurrent use.
type Journal struct {
	db    *bolt.DB
	path  string
	opt   Options
	clock market.Clock
	log   *slog.Logger

	mu     sync.RWMutex // held (R) while enqueueing; (W) to close the queues
	closed bool
	queue  chan *request
	urgent chan *request // AppendUrgent: taken before queue, into the next commit
	done   chan struct{} // writer exited

	fmu    sync.Mutex
	failed error // sticky commit failure

	// owned by the writer goroutine
	next uint64

	follow followers // commit notifications (follow.go)

	ulog *urgentLog // AppendUrgent's own file (urgentlog.go); nil: none
}

type request struct {
	env      []byte // sealed envelope without seq (nil for a flush)
	seq      uint64
	urgentID uint64 // its entry in the urgent log (0: none)
	err      error
	reply    chan *request // nil for AppendNoWait
}

// Open opens (creating if needed) the journal at path. It fails at once
// with ErrLocked when another process holds the file, with ErrNewerSchema
// for a newer file, and with ErrCorrupt for a damaged one.
func Open(path string, opt Options) (_ *Journal, err error) {
	if opt.Clock == nil {
		opt.Clock = market.WallClock{}
	}
	if opt.Timeout <= 0 {
		opt.Timeout = time.Second
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 1024
	}
	if opt.MmapSize <= 0 {
		opt.MmapSize = 1 << 30
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := checkRegular(path, opt.ReadOnly); err != nil {
		return nil, err
	}
	var db *bolt.DB
	defer func() { // bbolt panics on some damaged pages: never let that cross the package boundary
		if r := recover(); r != nil {
			if db != nil {
				_ = db.Close()
			}
			err = fmt.Errorf("%w: open %s: %v", ErrCorrupt, path, r)
		}
	}()
	// Before bbolt maps the file: a file cut short would fault on the
	// first read past its end (SIGBUS), which no recover catches. While
	// another process holds the lock the file is in use (bbolt will time
	// out) and is checked under our lock instead if we get it.
	walk := !opt.QuickOpen
	prechecked := false
	if lockHolder(path) == "" {
		if err := precheck(path, walk); err != nil {
			return nil, err
		}
		prechecked = true
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: opt.Timeout, ReadOnly: opt.ReadOnly, MaxSize: opt.MaxSize,
		InitialMmapSize: opt.MmapSize, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, openError(path, err)
	}
	// Under the lock: both meta pages valid and the file as long as they say.
	if probs := checkFile(path, walk && !prechecked); len(probs) > 0 {
		_ = db.Close()
		return nil, fmt.Errorf("%w: %s: %s (not repaired: inspect it with deskguard journal verify)", ErrCorrupt, path, strings.Join(probs, "; "))
	}
	j := &Journal{db: db, path: path, opt: opt, clock: opt.Clock, log: log}
	if err := j.init(); err != nil {
		_ = db.Close()
		return nil, err
	}
	if !opt.ReadOnly && !opt.NoUrgentLog {
		if err := j.openUrgent(); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	if !opt.ReadOnly {
		j.queue = make(chan *request, 4*opt.MaxBatch)
		j.urgent = make(chan *request, urgentQueue)
		j.done = make(chan struct{})
		go j.writer()
	}
	log.Info("journal open", "path", path, "next_seq", j.next, "read_only", opt.ReadOnly)
	return j, nil
}

// checkRegular refuses a path that is not a regular file (a directory; a
// FIFO, whose open would block; a device such as /dev/zero) before anything
// opens it, an empty file, and, for reading, a missing file: none is a
// journal.
func checkRegular(path string, read bool) error {
	fi, err := os.Stat(path)
	switch {
	case err != nil && (read || !errors.Is(err, os.ErrNotExist)):
		return fmt.Errorf("journal: open %s: %w", path, err)
	case err != nil:
		return nil // a new journal
	case fi.IsDir():
		return fmt.Errorf("journal: open %s: a directory, not a journal file", path)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("journal: open %s: a device, FIFO or socket, not a journal file", path)
	case fi.Size() == 0:
		// Not a journal, for reading or writing: a new journal is only ever
		// created where no file is (the desk does not adopt a file it did not make).
		return fmt.Errorf("journal: open %s: empty file: not a journal (a new journal is created only where no file exists)", path)
	}
	return nil
}

// precheck runs checkFile before bbolt opens the file. A writer holding
// the lock may be mid-commit, so problems seen while the file is locked are
// reported as ErrLocked, not as damage.
func precheck(path string, walk bool) error {
	probs := checkFile(path, walk)
	if len(probs) == 0 {
		return nil
	}
	if h := lockHolder(path); h != "" {
		return fmt.Errorf("%w: %s%s", ErrLocked, path, h)
	}
	return fmt.Errorf("%w: %s: %s (not repaired: inspect it with deskguard journal verify)", ErrCorrupt, path, strings.Join(probs, "; "))
}

func openError(path string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		holder := lockHolder(path)
		return fmt.Errorf("%w: %s%s (gave up after the lock timeout): %w", ErrLocked, path, holder, err)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return fmt.Errorf("%w: open %s: %w (not a journal, or damaged meta pages; not repaired)", ErrCorrupt, path, err)
	}
	if probs := checkFile(path, false); len(probs) > 0 {
		return fmt.Errorf("%w: open %s: %w (%s; not repaired)", ErrCorrupt, path, err, strings.Join(probs, "; "))
	}
	return fmt.Errorf("journal: open %s: %w", path, err)
}

// init creates or checks the meta and runs the open-time integrity check.
func (j *Journal) init() error {
	if !j.opt.ReadOnly {
		err := j.db.Update(func(tx *bolt.Tx) error {
			m := tx.Bucket(bucketMeta)
			if m == nil {
				if tx.Bucket(bucketRecords) != nil {
					return fmt.Errorf("%w: %s: records without a meta bucket", ErrCorrupt, j.path)
				}
				// Another application's bbolt file is not adopted: a journal
				// is made only in a file with no buckets at all (new).
				if c := tx.Cursor(); c != nil {
					if k, _ := c.First(); k != nil {
						return fmt.Errorf("%w: %s has no journal meta bucket but a bucket %q (not a deskguard journal; not changed)", ErrCorrupt, j.path, k)
					}
				}
				var err error
				if m, err = tx.CreateBucket(bucketMeta); err != nil {
					return err
				}
				v := make([]byte, 2)
				binary.BigEndian.PutUint16(v, SchemaVersion)
				if err := m.Put(keySchema, v); err != nil {
					return err
				}
				if err := m.Put(keyCreated, []byte(j.clock.Now().UTC().Format(time.RFC3339Nano))); err != nil {
					return err
				}
				_, err = tx.CreateBucket(bucketRecords)
				return err
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("journal: init %s: %w", j.path, err)
		}
	}
	return j.view(func(tx *bolt.Tx) error {
		if err := checkMeta(tx, j.path); err != nil {
			return err
		}
		last, err := j.checkOpen(tx)
		j.next = last + 1
		return err
	})
}

func checkMeta(tx *bolt.Tx, path string) error {
	m := tx.Bucket(bucketMeta)
	if m == nil {
		return fmt.Errorf("%w: %s has no journal meta bucket (not a deskguard journal)", ErrCorrupt, path)
	}
	v := m.Get(keySchema)
	if len(v) != 2 {
		return fmt.Errorf("%w: %s: schema version missing or malformed", ErrCorrupt, path)
	}
	if s := binary.BigEndian.Uint16(v); s > SchemaVersion {
		return fmt.Errorf("%w: %s is schema %d, this deskguard reads up to %d: upgrade deskguard to read it",
			ErrNewerSchema, path, s, SchemaVersion)
	}
	if tx.Bucket(bucketRecords) == nil {
		return fmt.Errorf("%w: %s: records bucket missing", ErrCorrupt, path)
	}
	return nil
}

// checkOpen validates the records at open and returns the last seq.
func (j *Journal) checkOpen(tx *bolt.Tx) (uint64, error) {
	c := tx.Bucket(bucketRecords).Cursor()
	k, v := c.First()
	if k == nil {
		if s := tx.Bucket(bucketRecords).Sequence(); s != 0 {
			return 0, fmt.Errorf("%w: %s: no records, but the last commit wrote seq %d", ErrCorrupt, j.path, s)
		}
		return 0, nil
	}
	first, err := Decode(k, v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", j.path, err)
	}
	if first.Seq != 1 {
		return 0, fmt.Errorf("%w: %s: first record is seq %d, want 1", ErrCorrupt, j.path, first.Seq)
	}
	if !j.opt.QuickOpen {
		want := uint64(1)
		for ; k != nil; k, v = c.Next() {
			seq, err := checkSealed(k, v) // checksums; the JSON was valid when written
			if err != nil {
				return 0, fmt.Errorf("%s: %w", j.path, err)
			}
			if seq != want {
				return 0, fmt.Errorf("%w: %s: seq %d follows %d", ErrCorrupt, j.path, seq, want-1)
			}
			want++
		}
		if _, err := Decode(c.Last()); err != nil {
			return 0, fmt.Errorf("%s: %w", j.path, err)
		}
		if s := tx.Bucket(bucketRecords).Sequence(); s != want-1 {
			return 0, fmt.Errorf("%w: %s: the last commit wrote seq %d but the last record is seq %d", ErrCorrupt, j.path, s, want-1)
		}
		// After the walk above (in this goroutine, where a bad page
		// pointer faults into a recoverable panic): bbolt's tx.Check runs
		// in a goroutine of its own, where such a fault would kill the
		// process.
		if err := bboltCheck(tx); err != nil {
			return 0, fmt.Errorf("%w: %s: bbolt check: %v (not repaired)", ErrCorrupt, j.path, err)
		}
		return want - 1, nil
	}
	k, v = c.Last()
	last, err := Decode(k, v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", j.path, err)
	}
	want := last.Seq
	for i := 0; i < 256 && k != nil; i++ {
		r, err := Decode(k, v)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", j.path, err)
		}
		if r.Seq != want {
			return 0, fmt.Errorf("%w: %s: seq %d precedes %d", ErrCorrupt, j.path, r.Seq, want+1)
		}
		want--
		k, v = c.Prev()
	}
	if s := tx.Bucket(bucketRecords).Sequence(); s != last.Seq {
		return 0, fmt.Errorf("%w: %s: the last commit wrote seq %d but the last record is seq %d", ErrCorrupt, j.path, s, last.Seq)
	}
	return last.Seq, nil
}

// bboltCheck runs bbolt's consistency check, draining every error (the
// checker goroutine must finish before the transaction ends) and returning
// the first ones joined.
func bboltCheck(tx *bolt.Tx) error {
	touchMeta(tx)
	var errs []error
	for err := range tx.Check() {
		if len(errs) < 10 {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// touchMeta reads every key of the meta bucket, so a bad page pointer
// there faults in the caller's goroutine (see checkOpen), not in tx.Check's.
func touchMeta(tx *bolt.Tx) {
	if m := tx.Bucket(bucketMeta); m != nil {
		_ = m.ForEach(func(k, v []byte) error { return nil })
	}
}

// view runs fn in a read transaction, turning a bbolt panic on a damaged
// page into ErrCorrupt.
func (j *Journal) view(fn func(tx *bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: reading: %v", ErrCorrupt, j.path, r)
		}
	}()
	return j.db.View(fn)
}

// Path is the journal's file.
func (j *Journal) Path() string { return j.path }

// Err returns the sticky commit failure, if any (wrapping ErrAppendFailed).
func (j *Journal) Err() error {
	j.fmu.Lock()
	defer j.fmu.Unlock()
	return j.failed
}

// Append writes rec and returns its sequence number once it is durable:
// its bbolt transaction committed, both the data pages and the meta page
// fdatasynced. Records appended concurrently share one commit. Wall is set
// from the journal's clock when zero, Version to PayloadVersion when zero.
//
// On a commit failure Append returns an error wrapping ErrAppendFailed and
// so does every later Append until the journal is reopened. If ctx ends
// while waiting, Append returns ctx's error and the record may or may not
// become durable: the caller must treat it as not journaled (send nothing).
func (j *Journal) Append(ctx context.Context, rec Record) (uint64, error) {
	req, err := j.enqueue(ctx, rec, true)
	if err != nil {
		return 0, err
	}
	select {
	case <-req.reply:
		return req.seq, req.err
	case <-ctx.Done():
		return 0, fmt.Errorf("journal: append %s: outcome unknown: %w", rec.Kind, ctx.Err())
	}
}

// urgentQueue bounds the records waiting on the urgent lane.
const urgentQueue = 256

// AppendUrgent is Append for a record that must not queue behind others
// (a kill): it goes on a lane of its own that the group commit takes
// first, so it is in the next commit to start, however many records are
// queued. Records appended before it may get later sequence numbers.
//
// With the urgent log (the default; urgentlog.go) it returns once the
// record is durable there — one write and one fdatasync of a preallocated
// file, not waiting for the commit already running — with seq 0 when its
// commit has not yet answered (it follows; after a crash, Open replays
// it). Where the urgent log cannot take it (full, failed, or
// Options.NoUrgentLog) it waits for its commit, as Append.
func (j *Journal) AppendUrgent(ctx context.Context, rec Record) (uint64, error) {
	if j.opt.ReadOnly {
		return 0, ErrReadOnly
	}
	req, err := j.newRequest(rec, true)
	if err != nil {
		return 0, err
	}
	if u := j.ulog; u != nil {
		if done, err := j.urgentDurable(ctx, u, req); done {
			return j.seqIfAnswered(req), err
		}
	} else if err := j.sendTo(ctx, req, true); err != nil {
		return 0, err
	}
	select {
	case <-req.reply:
		return req.seq, req.err
	case <-ctx.Done():
		return 0, fmt.Errorf("journal: append %s: outcome unknown: %w", rec.Kind, ctx.Err())
	}
}

// urgentDurable queues req on the urgent lane and writes its urgent log
// entry, in id order (u.mu across both). done: the record is durable in the
// urgent log (err nil) or was never queued (err set); not done: it is
// queued, and only its commit makes it durable.
func (j *Journal) urgentDurable(ctx context.Context, u *urgentLog, req *request) (done bool, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	id, terr := u.take(req.env)
	if terr == nil {
		req.urgentID = id
	}
	if err := j.sendTo(ctx, req, true); err != nil {
		return true, err
	}
	if terr != nil {
		j.log.Warn("journal: urgent record waits for its commit", "why", terr)
		return false, nil
	}
	if err := u.write(id, req.env); err != nil {
		j.log.Error("journal: urgent log write failed; urgent records wait for their commit", "err", err)
		return false, nil
	}
	return true, nil
}

// seqIfAnswered is req's seq if its commit has answered (0 if not yet).
func (j *Journal) seqIfAnswered(req *request) uint64 {
	select {
	case r := <-req.reply:
		if r.err == nil {
			return r.seq
		}
	default:
	}
	return 0
}

// openUrgent opens the urgent log and replays into bbolt, in one commit,
// every entry past the committed mark; then resets the log.
func (j *Journal) openUrgent() error {
	var mark uint64
	if err := j.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyUrgent); len(v) == 8 {
			mark = binary.BigEndian.Uint64(v)
		}
		return nil
	}); err != nil {
		return err
	}
	u, past, err := openUrgent(j.path, mark)
	if err != nil {
		return err
	}
	if len(past) > 0 {
		next := j.next
		err = j.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketRecords)
			for i, e := range past {
				seq := next + uint64(i)
				v := sealValue(seq, e.env)
				if _, err := Decode(seqKey(seq), v); err != nil {
					return fmt.Errorf("urgent log entry %d: %w", e.id, err)
				}
				if err := b.Put(seqKey(seq), v); err != nil {
					return err
				}
			}
			if err := b.SetSequence(next + uint64(len(past)) - 1); err != nil {
				return err
			}
			return tx.Bucket(bucketMeta).Put(keyUrgent, seqKey(past[len(past)-1].id))
		})
		if err != nil {
			_ = u.close()
			return fmt.Errorf("journal: %s: replaying %d urgent records: %w", j.path, len(past), err)
		}
		j.next += uint64(len(past))
		j.log.Warn("journal: urgent records replayed from the urgent log (a crash before their commit)",
			"path", j.path, "records", len(past), "first_seq", next)
	}
	if err := u.reset(); err != nil {
		_ = u.close()
		return err
	}
	u.inject = j.opt.InjectUrgent
	j.ulog = u
	return nil
}

// AppendNoWait queues rec for the next commit and returns at once. It is
// durable only once a later Append or Flush has returned without error; if
// its commit fails, the journal fails as for Append (Err, and every later
// Append, report it). For records nothing waits on (transitions, alerts).
func (j *Journal) AppendNoWait(rec Record) error {
	_, err := j.enqueue(context.Background(), rec, false)
	return err
}

// AppendBatch makes recs durable in one commit where they fit (the group
// commit takes what is queued), in order, and returns once all are durable
// or with the first error.
func (j *Journal) AppendBatch(ctx context.Context, recs []Record) error {
	for _, r := range recs {
		if err := j.AppendNoWait(r); err != nil {
			return err
		}
	}
	return j.Flush(ctx)
}

// Flush returns once everything queued before it is durable.
func (j *Journal) Flush(ctx context.Context) error {
	req := &request{reply: make(chan *request, 1)}
	if err := j.send(ctx, req); err != nil {
		return err
	}
	select {
	case <-req.reply:
		return req.err
	case <-ctx.Done():
		return fmt.Errorf("journal: flush: %w", ctx.Err())
	}
}

func (j *Journal) enqueue(ctx context.Context, rec Record, wait bool) (*request, error) {
	if j.opt.ReadOnly {
		return nil, ErrReadOnly
	}
	req, err := j.newRequest(rec, wait)
	if err != nil {
		return nil, err
	}
	return req, j.send(ctx, req)
}

func (j *Journal) newRequest(rec Record, wait bool) (*request, error) {
	if rec.Wall == 0 {
		rec.Wall = j.clock.Now().UnixNano()
	}
	if rec.Version == 0 {
		rec.Version = PayloadVersion
	}
	env, err := encodeEnvelope(&rec)
	if err != nil {
		return nil, err
	}
	req := &request{env: env}
	if wait {
		req.reply = make(chan *request, 1)
	}
	return req, nil
}

func (j *Journal) send(ctx context.Context, req *request) error { return j.sendTo(ctx, req, false) }

func (j *Journal) sendTo(ctx context.Context, req *request, urgent bool) error {
	if err := j.Err(); err != nil {
		return err
	}
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.closed {
		return ErrClosed
	}
	q := j.queue
	if urgent {
		q = j.urgent
	}
	select {
	case q <- req:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("journal: append: %w", ctx.Err())
	}
}

// lanes is the writer's view of the two queues: a lane is set to nil once
// it is closed and drained. last is whether next took from the urgent lane.
type lanes struct {
	queue, urgent chan *request
	last          *request
	lastUrgent    bool
}

func (l *lanes) isUrgent(r *request) bool { return l.last == r && l.lastUrgent }

// next waits for the next request, the urgent lane first, and returns
// false once both lanes are closed and empty.
func (l *lanes) next() (*request, bool) {
	for l.queue != nil || l.urgent != nil {
		select {
		case r, ok := <-l.urgent:
			if ok {
				l.last, l.lastUrgent = r, true
				return r, true
			}
			l.urgent = nil
			continue
		default:
		}
		select {
		case r, ok := <-l.urgent:
			if !ok {
				l.urgent = nil
				continue
			}
			l.last, l.lastUrgent = r, true
			return r, true
		case r, ok := <-l.queue:
			if !ok {
				l.queue = nil
				continue
			}
			l.last, l.lastUrgent = r, false
			return r, true
		}
	}
	return nil, false
}

// more appends to batch what is waiting without blocking: the whole
// urgent lane, then the queue up to max.
func (l *lanes) more(batch []*request, max int) []*request {
	for l.urgent != nil {
		select {
		case r, ok := <-l.urgent:
			if !ok {
				l.urgent = nil
				continue
			}
			batch = append(batch, r)
			continue
		default:
		}
		break
	}
	for l.queue != nil && len(batch) < max {
		select {
		case r, ok := <-l.queue:
			if !ok {
				l.queue = nil
				continue
			}
			batch = append(batch, r)
			continue
		default:
		}
		break
	}
	return batch
}

// writer is the group-commit loop: it takes one request, everything else
// already queued (up to MaxBatch), commits them in one transaction and
// answers them all. No timer: while a commit runs, the next batch queues.
//
// The urgent lane (AppendUrgent) is taken first, whole, so an urgent
// record is in the first commit to start after it was queued.
func (j *Journal) writer() {
	defer close(j.done)
	queue := j.queue
	l := &lanes{queue: j.queue, urgent: j.urgent}
	batch := make([]*request, 0, j.opt.MaxBatch)
	for {
		req, ok := l.next()
		if !ok {
			return
		}
		batch = append(batch[:0], req)
		// The appenders answered by the previous commit are usually about
		// to queue again: yield once so they join this commit rather than
		// the next. Yield while the queue keeps growing, at most 8 times
		// (no timer: a lone appender pays one yield).
		// An urgent record waiting goes without the yields.
		for i, n := 0, -1; i < 8 && len(queue) != n && len(queue) < j.opt.MaxBatch && len(l.urgent) == 0 && !l.isUrgent(req); i++ {
			n = len(queue)
			runtime.Gosched()
		}
		batch = l.more(batch, j.opt.MaxBatch)
		err := j.Err()
		if err == nil {
			t0 := j.clock.Now()
			from := j.next
			err = j.commit(batch)
			if n := int(j.next - from); err == nil && n > 0 && j.opt.OnCommit != nil {
				j.opt.OnCommit(n, j.clock.Now().Sub(t0))
			}
		}
		if err == nil {
			j.follow.notify(j.next - 1) // never blocks (follow.go)
		}
		for _, r := range batch {
			if err != nil {
				r.err, r.seq = err, 0
			}
			if r.reply != nil {
				r.reply <- r
			}
		}
	}
}

func (j *Journal) commit(batch []*request) (err error) {
	next := j.next
	var injected Fault
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in commit: %v", r)
		}
		if err != nil {
			err = fmt.Errorf("%w: %s: commit of %d records: %w", ErrAppendFailed, j.path, len(batch), err)
			j.fmu.Lock()
			if j.failed == nil {
				j.failed = err
			}
			j.fmu.Unlock()
			j.log.Error("journal commit failed; refusing appends until reopened", "err", err)
		}
	}()
	err = j.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		n := 0
		var urgent uint64 // the highest urgent log id in the batch
		for _, r := range batch {
			if r.env == nil {
				continue
			}
			urgent = max(urgent, r.urgentID)
			r.seq = next + uint64(n)
			if err := b.Put(seqKey(r.seq), sealValue(r.seq, r.env)); err != nil {
				return err
			}
			n++
		}
		if err := b.SetSequence(next + uint64(n) - 1); err != nil {
			return err
		}
		if urgent > 0 {
			if err := tx.Bucket(bucketMeta).Put(keyUrgent, seqKey(urgent)); err != nil {
				return err
			}
		}
		if j.opt.Inject != nil {
			injected = j.opt.Inject(n)
			if injected.Err != nil && !injected.AfterWrite {
				return injected.Err
			}
		}
		next += uint64(n)
		return nil
	})
	if err == nil {
		j.next = next
		if injected.Err != nil {
			return injected.Err // durable, but reported failed
		}
	}
	return err
}

// Close stops accepting appends, commits what is queued, and closes the
// file.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	if j.queue != nil {
		close(j.queue)
		close(j.urgent)
	}
	j.mu.Unlock()
	if j.done != nil {
		<-j.done
	}
	var uerr error
	if j.ulog != nil {
		uerr = j.ulog.close()
	}
	if err := j.db.Close(); err != nil {
		return fmt.Errorf("journal: close %s: %w", j.path, err)
	}
	if uerr != nil {
		return fmt.Errorf("journal: close %s: %w", UrgentPath(j.path), uerr)
	}
	return nil
}
