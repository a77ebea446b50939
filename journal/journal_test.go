// journal_test.go: append/read round trips, group commit, locking, schema
// refusal, write faults, recovery from a snapshot and open intents.

package journal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

func TestAppendReadBack(t *testing.T) {
	clk := market.NewReplayClock(t0)
	j, path := openTemp(t, Options{Clock: clk})
	in := enter("A1", "A1-1", market.Buy, 5, 20601, t0.UnixNano())
	recs := []Record{
		NewIntent(in, nil),
		NewDecision("A1", "A1-1", 5, Decision{Reason: "max_qty", Detail: "5 > 3", Got: 5, Limit: 3}),
		NewBrokerEvent(broker.Event{Seq: 3, Time: 7, Account: "A1", ClientID: "A1-1", Kind: broker.FilledEv, Side: market.Buy, FillQty: 5, FillPrice: 20601}),
		NewBrokerError("A1", "A1-1", 8, BrokerError{Op: "submit", Err: "disconnected"}),
		NewTransition(9, Transition{Machine: "account", ID: "A1", From: "idle", To: "trading", Event: "start"}),
		NewKill(10, Kill{Scope: "desk", Trigger: "button", Who: "gpio", Accounts: []string{"A1", "A2"}}),
		NewLockout("A1", 11, Lockout{Equity: "1", Line: "2", Start: "3"}),
		NewUnlock("A1", 12, "rm", "ok"),
		NewRearm(13, "rm", "after drill"),
		NewConfigChange("", 14, ConfigChange{Who: "rm", Key: "limits.max_qty", From: "5", To: "3"}),
		NewSessionReset(15, SessionReset{Session: "s", Accounts: map[string]string{"A1": "100.00"}}),
		NewAlertFailed("", 16, AlertFailed{Alert: "kill", Err: "slack 500"}),
		NewCommand("", 17, Command{Who: "U1", Source: "slack", Command: "flatten", Allowed: false, Detail: "not allowed"}),
	}
	snap, err := NewSnapshot(18, []byte(`{"ledgers":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	recs = append(recs, snap)
	for i, r := range recs {
		clk.Advance(t0.UnixNano() + int64(i+1))
		if seq := mustAppend(t, j, r); seq != uint64(i+1) {
			t.Fatalf("record %d got seq %d", i, seq)
		}
	}
	var got []Record
	if err := j.Iterate(1, func(r Record) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("read %d records, wrote %d", len(got), len(recs))
	}
	for i, r := range got {
		if r.Kind != recs[i].Kind || r.Seq != uint64(i+1) || r.Wall != t0.UnixNano()+int64(i+1) || r.Version != PayloadVersion {
			t.Errorf("record %d: %+v", i, r)
		}
		if err := checkPayload(r); err != nil {
			t.Errorf("record %d payload: %v", i, err)
		}
	}
	b, err := got[0].IntentBody()
	if err != nil || b.Intent != in || b.Decision != nil || got[0].ClientID != "A1-1" || got[0].Account != "A1" {
		t.Errorf("intent back: %+v %v", b, err)
	}
	if ev, err := got[2].BrokerEvent(); err != nil || ev.FillQty != 5 || ev.FillPrice != 20601 {
		t.Errorf("event back: %+v %v", ev, err)
	}
	if k, err := got[5].Kill(); err != nil || len(k.Accounts) != 2 || got[5].Account != "" {
		t.Errorf("kill back: %+v %v", k, err)
	}
	if _, err := got[5].Lockout(); err == nil {
		t.Error("a kill record decoded as a lockout")
	}
	last, ok, err := j.Last()
	if err != nil || !ok || last.Seq != uint64(len(recs)) {
		t.Errorf("Last: %+v %v %v", last, ok, err)
	}
	tail, err := j.Tail(3)
	if err != nil || len(tail) != 3 || tail[0].Seq != uint64(len(recs)-2) || tail[2].Seq != uint64(len(recs)) {
		t.Errorf("Tail: %v %v", tail, err)
	}
	var sb strings.Builder
	if err := j.Export(&sb, 13); err != nil || strings.Count(sb.String(), "\n") != 2 {
		t.Errorf("Export: %q %v", sb.String(), err)
	}
	// Reopen: the sequence continues.
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Append(context.Background(), NewRearm(1, "a", "b")); !errors.Is(err, ErrClosed) {
		t.Errorf("append after close: %v", err)
	}
	j2, err := Open(path, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if seq := mustAppend(t, j2, NewRearm(1, "a", "b")); seq != uint64(len(recs)+1) {
		t.Errorf("after reopen seq %d", seq)
	}
}

func TestAppendRefusesInvalid(t *testing.T) {
	j, _ := openTemp(t, Options{})
	for _, r := range []Record{
		{Kind: "", Version: 1},
		{Kind: "Bad-Kind", Version: 1},
		{Kind: "marker", Version: 1, Body: []byte("{not json")},
		{Kind: "marker", Version: 1, Account: strings.Repeat("x", 300)},
		{Kind: "marker", Version: 1, Body: []byte(`"` + strings.Repeat("x", MaxBodySize) + `"`)},
	} {
		if _, err := j.Append(context.Background(), r); !errors.Is(err, ErrInvalidRecord) {
			t.Errorf("%q: got %v, want ErrInvalidRecord", r.Kind, err)
		}
	}
	if _, err := New("marker", "", "", 0, func() {}); !errors.Is(err, ErrInvalidRecord) {
		t.Errorf("unmarshalable body: %v", err)
	}
	// A refused record does not poison the journal.
	if seq := mustAppend(t, j, Record{Kind: "future_kind", Body: []byte(`{"x":1}`)}); seq != 1 {
		t.Errorf("seq %d", seq)
	}
}

// commitCounter counts commits through the test hook.
type commitCounter struct {
	mu      sync.Mutex
	commits int
	records int
}

func (c *commitCounter) hook(n int) error {
	c.mu.Lock()
	c.commits++
	c.records += n
	c.mu.Unlock()
	return nil
}

func TestGroupCommitSharesFsyncs(t *testing.T) {
	var cc commitCounter
	j, _ := openTemp(t, Options{Inject: func(n int) Fault { _ = cc.hook(n); return Fault{} }})
	const writers, each = 32, 20
	var wg sync.WaitGroup
	seqs := make(chan uint64, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				seq, err := j.Append(context.Background(), NewIntent(enter("A", fmt.Sprintf("w%d-%d", w, i), market.Buy, 1, 100, 1), nil))
				if err != nil {
					t.Error(err)
					return
				}
				seqs <- seq
			}
		}()
	}
	wg.Wait()
	close(seqs)
	seen := map[uint64]bool{}
	for s := range seqs {
		if seen[s] || s == 0 || s > writers*each {
			t.Fatalf("seq %d duplicated or out of range", s)
		}
		seen[s] = true
	}
	if cc.records != writers*each {
		t.Fatalf("hook saw %d records", cc.records)
	}
	// With 32 writers in flight each commit should carry many records.
	if cc.commits > writers*each/4 {
		t.Errorf("%d commits for %d records: group commit is not grouping", cc.commits, cc.records)
	}
	t.Logf("%d records in %d commits", cc.records, cc.commits)
	// AppendNoWait + Flush.
	for i := 0; i < 10; i++ {
		if err := j.AppendNoWait(NewCommand("", 0, Command{Who: "x", Command: "status", Allowed: true})); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if last, _, _ := j.Last(); last.Seq != writers*each+10 {
		t.Errorf("after flush last seq %d", last.Seq)
	}
}

func TestSecondOpenIsLockedAtOnce(t *testing.T) {
	j, path := openTemp(t, Options{})
	mustAppend(t, j, NewRearm(1, "a", "b"))
	for _, ro := range []bool{false, true} {
		_, err := Open(path, Options{Timeout: 50e6, ReadOnly: ro})
		if !errors.Is(err, ErrLocked) || !errors.Is(err, berrors.ErrTimeout) {
			t.Fatalf("read-only=%v: second open: %v, want ErrLocked wrapping ErrTimeout", ro, err)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
			t.Errorf("error does not name the holder: %v", err)
		}
	}
	if _, err := Verify(path, VerifyOptions{Timeout: 50e6}); !errors.Is(err, ErrLocked) {
		t.Errorf("verify on a live journal: %v", err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	j, path := openTemp(t, Options{})
	j.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		v := make([]byte, 2)
		binary.BigEndian.PutUint16(v, SchemaVersion+1)
		return tx.Bucket(bucketMeta).Put(keySchema, v)
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(path, Options{})
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "upgrade deskguard") {
		t.Fatalf("open newer schema: %v", err)
	}
	rep, err := Verify(path, VerifyOptions{})
	if err != nil || rep.OK || len(rep.Problems) == 0 {
		t.Fatalf("verify newer schema: %+v %v", rep, err)
	}
}

func TestNotAJournalRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("records")); return err })
	db.Close()
	if _, err := Open(path, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v", err)
	}
	if err := os.WriteFile(path, []byte("hello, not bbolt"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("garbage file: %v", err)
	}
}

func TestCommitFailureIsSticky(t *testing.T) {
	boom := errors.New("injected: no space left on device")
	var fail bool
	var mu sync.Mutex
	j, path := openTemp(t, Options{Inject: func(int) Fault {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return Fault{Err: boom}
		}
		return Fault{}
	}})
	mustAppend(t, j, NewRearm(1, "a", "b"))
	mu.Lock()
	fail = true
	mu.Unlock()
	_, err := j.Append(context.Background(), NewIntent(enter("A", "x", market.Buy, 1, 100, 1), nil))
	if !errors.Is(err, ErrAppendFailed) || !errors.Is(err, boom) {
		t.Fatalf("append on a failing disk: %v", err)
	}
	mu.Lock()
	fail = false // the disk recovers, but the journal stays failed until reopened
	mu.Unlock()
	if _, err := j.Append(context.Background(), NewRearm(1, "a", "b")); !errors.Is(err, ErrAppendFailed) {
		t.Fatalf("append after a failure: %v", err)
	}
	if err := j.AppendNoWait(NewRearm(1, "a", "b")); !errors.Is(err, ErrAppendFailed) {
		t.Fatalf("no-wait append after a failure: %v", err)
	}
	if j.Err() == nil {
		t.Fatal("Err() is nil after a failure")
	}
	j.Close()
	j2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if last, _, _ := j2.Last(); last.Seq != 1 {
		t.Errorf("failed append left seq %d behind", last.Seq)
	}
	if seq := mustAppend(t, j2, NewRearm(1, "a", "b")); seq != 2 {
		t.Errorf("after reopen seq %d, want 2", seq)
	}
}

// TestFsyncFailsAfterWrite: a commit that reached the disk but whose
// fdatasync reported an error. The appender is told it failed, the journal
// refuses appends, and after a reopen the record is there (the desk's
// recovery treats such an intent as never acknowledged: see supervisor).
func TestFsyncFailsAfterWrite(t *testing.T) {
	eio := errors.New("injected: fdatasync: input/output error")
	var fail atomic.Bool
	j, path := openTemp(t, Options{Inject: func(int) Fault {
		if fail.Load() {
			return Fault{Err: eio, AfterWrite: true}
		}
		return Fault{}
	}})
	mustAppend(t, j, NewRearm(1, "a", "b"))
	fail.Store(true)
	if _, err := j.Append(context.Background(), NewRearm(2, "c", "d")); !errors.Is(err, ErrAppendFailed) || !errors.Is(err, eio) {
		t.Fatalf("append whose fsync failed: %v", err)
	}
	fail.Store(false)
	if _, err := j.Append(context.Background(), NewRearm(3, "e", "f")); !errors.Is(err, ErrAppendFailed) {
		t.Fatalf("append after a failed fsync: %v", err)
	}
	j.Close()
	rep, err := Verify(path, VerifyOptions{})
	if err != nil || !rep.OK || rep.Last != 2 {
		t.Fatalf("after a failed fsync that wrote: %+v %v (want the record durable, last 2)", rep, err)
	}
	j2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if seq := mustAppend(t, j2, NewRearm(4, "g", "h")); seq != 3 {
		t.Errorf("after reopen seq %d, want 3", seq)
	}
}

// TestFullFile uses bbolt's MaxSize: the file cannot grow, as on a full disk.
func TestFullFile(t *testing.T) {
	j, path := openTemp(t, Options{MaxSize: 256 << 10})
	body := []byte(`"` + strings.Repeat("x", 4000) + `"`)
	var last uint64
	var err error
	for i := 0; i < 1000; i++ {
		var seq uint64
		seq, err = j.Append(context.Background(), Record{Kind: KindMarker, Body: body})
		if err != nil {
			break
		}
		last = seq
	}
	if !errors.Is(err, ErrAppendFailed) || !errors.Is(err, berrors.ErrMaxSizeReached) {
		t.Fatalf("filling the file: last seq %d, err %v", last, err)
	}
	j.Close()
	rep, err := Verify(path, VerifyOptions{})
	if err != nil || !rep.OK || rep.Last != last {
		t.Fatalf("verify after full disk: %+v %v (last appended %d)", rep, err, last)
	}
}

func TestAppendContextCancelled(t *testing.T) {
	j, _ := openTemp(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Either it was queued and its outcome is unknown, or it was refused: never a seq with a nil error.
	if seq, err := j.Append(ctx, NewRearm(1, "a", "b")); err == nil {
		t.Fatalf("cancelled append returned seq %d without error", seq)
	}
}

func TestRecoverFromSnapshotEqualsWholeLog(t *testing.T) {
	j, _ := openTemp(t, Options{})
	session(t, j, []string{"A1", "A2"}, 9, 4)
	// A simple fold: per account, net position and fill count, plus
	// lockouts, with the snapshot holding its state.
	type state struct {
		Pos, Fills map[string]int64
		Locked     map[string]bool
	}
	newState := func() *state {
		return &state{Pos: map[string]int64{}, Fills: map[string]int64{}, Locked: map[string]bool{}}
	}
	fold := func(s *state, r Record) {
		switch r.Kind {
		case KindBrokerEvent:
			ev, _ := r.BrokerEvent()
			if isFill(ev) {
				s.Pos[ev.Account] += ev.Side.Sign() * ev.FillQty
				s.Fills[ev.Account]++
			}
		case KindLockout:
			s.Locked[r.Account] = true
		case KindUnlock:
			delete(s.Locked, r.Account)
		}
	}
	// Write a snapshot of the fold so far, then some tail.
	whole := newState()
	if err := j.Iterate(1, func(r Record) error { fold(whole, r); return nil }); err != nil {
		t.Fatal(err)
	}
	raw, _ := jsonMarshal(whole)
	snap, _ := NewSnapshot(0, raw)
	snapSeq := mustAppend(t, j, snap)
	mustAppend(t, j, NewBrokerEvent(fill("A1", "A1-0", "A1-0", broker.EntryLeg, market.Buy, 3, 20600, 1)))
	mustAppend(t, j, NewLockout("A2", 2, Lockout{Equity: "1", Line: "2", Start: "3"}))

	whole = newState()
	if err := j.Iterate(1, func(r Record) error {
		if r.Kind != KindSnapshot {
			fold(whole, r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var rec *state
	from, err := j.Recover(func(r Record) error {
		if r.Kind == KindSnapshot {
			rec = newState()
			raw, _ := r.Snapshot()
			if err := jsonUnmarshal(raw, rec); err != nil {
				return err
			}
			return nil
		}
		fold(rec, r)
		return nil
	})
	if err != nil || from != snapSeq {
		t.Fatalf("recover from %d (want %d): %v", from, snapSeq, err)
	}
	a, _ := jsonMarshal(whole)
	b, _ := jsonMarshal(rec)
	if string(a) != string(b) {
		t.Fatalf("recovered state differs:\nwhole %s\nsnap  %s", a, b)
	}
}

func TestRecoverWithoutSnapshotSeesEverything(t *testing.T) {
	j, _ := openTemp(t, Options{})
	n := 0
	if from, err := j.Recover(func(Record) error { n++; return nil }); err != nil || from != 0 || n != 0 {
		t.Fatalf("empty: %d %d %v", from, n, err)
	}
	session(t, j, []string{"A"}, 3, 0)
	if from, err := j.Recover(func(Record) error { n++; return nil }); err != nil || from != 1 || n == 0 {
		t.Fatalf("no snapshot: from %d, %d records, %v", from, n, err)
	}
}

func TestOpenIntents(t *testing.T) {
	j, _ := openTemp(t, Options{})
	ok := &Decision{Allowed: true}
	mustAppend(t, j, NewIntent(enter("A", "answered", market.Buy, 1, 100, 1), ok))
	mustAppend(t, j, NewIntent(enter("A", "leg-only", market.Buy, 1, 100, 1), ok))
	mustAppend(t, j, NewIntent(enter("A", "unanswered", market.Buy, 1, 100, 1), ok))
	mustAppend(t, j, NewIntent(enter("A", "refused", market.Buy, 1, 100, 1), &Decision{Reason: "max_qty"}))
	mustAppend(t, j, NewIntent(enter("A", "no-decision", market.Buy, 1, 100, 1), nil))
	mustAppend(t, j, NewIntent(intent.Intent{ID: "c1", Kind: intent.Cancel, Account: "A", Ref: "answered"}, ok))
	mustAppend(t, j, NewIntent(intent.Intent{ID: "m1", Kind: intent.MoveStop, Account: "A", Ref: "leg-only.stop", Stop: 99}, ok))
	mustAppend(t, j, NewBrokerEvent(broker.Event{Account: "A", ClientID: "answered", Kind: broker.Accepted}))
	stop, _ := LegIDs("leg-only")
	mustAppend(t, j, NewBrokerEvent(broker.Event{Account: "A", ClientID: stop, Kind: broker.Accepted, GroupID: "leg-only", Role: broker.StopLeg}))
	mustAppend(t, j, NewBrokerEvent(broker.Event{Account: "A", ClientID: "no-decision", Kind: broker.RejectedEv, Reason: "bad"}))
	got, err := j.OpenIntents()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, oi := range got {
		ids = append(ids, oi.Intent.ID+">"+oi.Ref)
	}
	// c1 waits for "answered" to be cancelled (its accept came after the
	// cancel was journaled, but an accept is not a cancel); m1 for a modify.
	want := "unanswered>unanswered c1>answered m1>leg-only.stop"
	if strings.Join(ids, " ") != want {
		t.Fatalf("open intents %q, want %q", strings.Join(ids, " "), want)
	}
	mustAppend(t, j, NewBrokerEvent(broker.Event{Account: "A", ClientID: "answered", Kind: broker.CancelledEv}))
	mustAppend(t, j, NewBrokerEvent(broker.Event{Account: "A", ClientID: stop, Kind: broker.Modified}))
	got, _ = j.OpenIntents()
	if len(got) != 1 || got[0].Intent.ID != "unanswered" || got[0].Seq != 3 {
		t.Fatalf("after outcomes: %+v", got)
	}
}

func TestLegIDs(t *testing.T) {
	s, tg := LegIDs("A1-42")
	if s != "A1-42.stop" || tg != "A1-42.target" {
		t.Fatal(s, tg)
	}
}

func TestBackupBesideLiveWriter(t *testing.T) {
	j, _ := openTemp(t, Options{})
	session(t, j, []string{"A1", "A2"}, 6, 3)
	done := make(chan error)
	go func() { // appends go on during the backup
		for i := 0; i < 50; i++ {
			if _, err := j.Append(context.Background(), NewRearm(0, "a", "b")); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	cp := filepath.Join(t.TempDir(), "copy.journal")
	if _, err := j.Backup(cp); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(cp, VerifyOptions{})
	if err != nil || !rep.OK || rep.Records == 0 {
		t.Fatalf("verify of the hot copy: %+v %v", rep, err)
	}
	if _, err := j.Backup(cp); err == nil {
		t.Error("backup overwrote an existing file")
	}
}

// A long read (recovery, export) must not stall appends: bbolt remaps to
// grow the file only after every read transaction ends, which the 1 GiB
// initial mmap avoids.
func TestLongIterateDoesNotBlockAppends(t *testing.T) {
	j, _ := openTemp(t, Options{})
	mustAppend(t, j, NewRearm(0, "a", "b"))
	inside, release := make(chan struct{}), make(chan struct{})
	iterDone := make(chan error)
	go func() {
		iterDone <- j.Iterate(1, func(Record) error {
			close(inside)
			<-release
			return ErrStop
		})
	}()
	<-inside
	released := false
	defer func() { // never leave the read transaction open for Close
		if !released {
			close(release)
			<-iterDone
		}
	}()
	appended := make(chan error, 1)
	go func() {
		body := []byte(`"` + strings.Repeat("x", 4000) + `"`)
		for i := 0; i < 1500; i++ { // ~6 MB: far past bbolt's default first mappings
			if err := j.AppendNoWait(Record{Kind: KindMarker, Body: body}); err != nil {
				appended <- err
				return
			}
		}
		appended <- j.Flush(context.Background())
	}()
	select {
	case err := <-appended:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("appends stalled behind an open read transaction")
	}
	released = true
	close(release)
	if err := <-iterDone; err != nil {
		t.Fatal(err)
	}
}

func TestReadOnlyRefusesAppend(t *testing.T) {
	j, path := openTemp(t, Options{})
	mustAppend(t, j, NewRearm(0, "a", "b"))
	j.Close()
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Append(context.Background(), NewRearm(0, "a", "b")); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("append read-only: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "none"), Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only open created a file")
	}
}

// TestOnCommitCountsRecords: the commit hook is told each commit's record
// count; their sum is the records appended (a batch of 3 is one commit of 3).
func TestOnCommitCountsRecords(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	j, err := Open(filepath.Join(t.TempDir(), "j.db"), Options{OnCommit: func(n int, took time.Duration) {
		if took < 0 {
			t.Errorf("negative commit time %v", took)
		}
		mu.Lock()
		sizes = append(sizes, n)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()
	if _, err := j.Append(ctx, NewKill(1, Kill{Scope: "desk", Trigger: "t", Who: "w"})); err != nil {
		t.Fatal(err)
	}
	recs := []Record{NewKill(2, Kill{Scope: "desk"}), NewKill(3, Kill{Scope: "desk"}), NewKill(4, Kill{Scope: "desk"})}
	if err := j.AppendBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	sum := 0
	for _, n := range sizes {
		if n <= 0 {
			t.Errorf("a commit of %d records reported", n)
		}
		sum += n
	}
	if sum != 4 || sizes[0] != 1 {
		t.Fatalf("commit sizes %v, want the first 1 and a sum of 4", sizes)
	}
}
