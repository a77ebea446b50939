// follow_test.go: Follow signals after every commit (Append, AppendNoWait
// made durable by a Flush, concurrent appenders), never blocks the writer
// when nobody reads the signal, and ReadAfter hands out exactly the records
// after a sequence as stored, which DecodeValue reads back.

package journal

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestFollowSignalsEachCommit(t *testing.T) {
	j, _ := openTemp(t, Options{})
	if c, err := j.Committed(); err != nil || c != 0 {
		t.Fatalf("empty journal: committed %d, %v", c, err)
	}
	f := j.Follow()
	defer f.Close()
	seq := mustAppend(t, j, NewCommand("", 1, Command{Who: "t", Command: "one"}))
	select {
	case <-f.C:
	case <-time.After(10 * time.Second):
		t.Fatal("no signal after a commit")
	}
	if c, _ := j.Committed(); c != seq {
		t.Fatalf("committed %d, want %d", c, seq)
	}
	// AppendNoWait: durable (and signalled) once its commit lands.
	if err := j.AppendNoWait(NewCommand("", 2, Command{Who: "t", Command: "two"})); err != nil {
		t.Fatal(err)
	}
	if err := j.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-f.C
	if c, _ := j.Committed(); c != seq+1 {
		t.Fatalf("after flush: committed %d, want %d", c, seq+1)
	}
}

// A follower that never reads must not hold up the writer: appends go on
// (the signal channel holds one value; the rest coalesce).
func TestFollowNeverBlocksTheWriter(t *testing.T) {
	j, _ := openTemp(t, Options{})
	lazy := j.Follow()
	defer lazy.Close()
	for i := range 50 {
		mustAppend(t, j, NewCommand("", int64(i), Command{Who: "t", Command: "x"}))
	}
	if c, _ := j.Committed(); c != 50 {
		t.Fatalf("committed %d, want 50", c)
	}
	if len(lazy.C) != 1 {
		t.Fatalf("pending signals %d, want 1 (coalesced)", len(lazy.C))
	}
	lazy.Close()
	mustAppend(t, j, NewCommand("", 51, Command{Who: "t", Command: "after close"}))
}

// Concurrent appenders and a reader that follows: the reader sees every
// record exactly once, in order, with nothing missed between signals.
func TestFollowReaderSeesEveryRecordOnce(t *testing.T) {
	j, _ := openTemp(t, Options{})
	f := j.Follow()
	defer f.Close()
	const writers, each = 8, 40
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := j.Append(context.Background(), NewCommand("", int64(w*1000+i), Command{Who: "w", Command: "x"})); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var got []uint64
	var after uint64
	deadline := time.After(30 * time.Second)
	for len(got) < writers*each {
		select {
		case <-f.C:
		case <-deadline:
			t.Fatalf("read %d of %d records", len(got), writers*each)
		}
		last, err := j.ReadAfter(after, 0, func(r Record, raw []byte) error {
			got = append(got, r.Seq)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		after = last
	}
	wg.Wait()
	for i, s := range got {
		if s != uint64(i+1) {
			t.Fatalf("record %d has seq %d: a record missed or read twice", i, s)
		}
	}
}

func TestReadAfterBoundsAndRaw(t *testing.T) {
	j, _ := openTemp(t, Options{})
	for i := range 10 {
		mustAppend(t, j, NewCommand("A", int64(i), Command{Who: "t", Command: "x"}))
	}
	var seqs []uint64
	last, err := j.ReadAfter(3, 4, func(r Record, raw []byte) error {
		seqs = append(seqs, r.Seq)
		back, err := DecodeValue(r.Seq, raw)
		if err != nil {
			return err
		}
		if back.Seq != r.Seq || back.Account != "A" || !bytes.Equal(back.Body, r.Body) {
			t.Errorf("seq %d decodes back as %+v", r.Seq, back)
		}
		if _, err := DecodeValue(r.Seq+1, raw); !errors.Is(err, ErrCorrupt) {
			t.Errorf("seq %d read as seq %d: %v, want ErrCorrupt", r.Seq, r.Seq+1, err)
		}
		raw[len(raw)-2] ^= 0xff // fn's own copy: the journal is unchanged
		if _, err := DecodeValue(r.Seq, raw); !errors.Is(err, ErrCorrupt) {
			t.Errorf("flipped byte decoded: %v", err)
		}
		return nil
	})
	if err != nil || last != 7 || len(seqs) != 4 || seqs[0] != 4 {
		t.Fatalf("ReadAfter(3, 4): seqs %v last %d err %v, want 4..7", seqs, last, err)
	}
	if last, err := j.ReadAfter(10, 0, func(Record, []byte) error { t.Error("record after the last"); return nil }); err != nil || last != 10 {
		t.Fatalf("ReadAfter(10): last %d err %v", last, err)
	}
	n := 0
	if _, err := j.ReadAfter(0, 0, func(Record, []byte) error { n++; return ErrStop }); err != nil || n != 1 {
		t.Fatalf("ErrStop: n %d err %v", n, err)
	}
	if _, err := j.ReadAfter(0, 0, func(r Record, raw []byte) error {
		_, err := DecodeValue(r.Seq, raw)
		return err
	}); err != nil {
		t.Fatalf("stored values do not decode after the first read flipped its copy: %v", err)
	}
	if c, err := j.Created(); err != nil || len(c) < 20 {
		t.Fatalf("Created %q %v", c, err)
	}
}

// ReadRawAfter forwards the stored values with their kinds, and refuses a
// damaged frame as ReadAfter does.
func TestReadRawAfter(t *testing.T) {
	j, _ := openTemp(t, Options{})
	kinds := []Kind{KindCommand, KindMarker, KindKill}
	for i := range 9 {
		r, err := New(kinds[i%3], "A", "", int64(i), map[string]int{"i": i})
		if err != nil {
			t.Fatal(err)
		}
		mustAppend(t, j, r)
	}
	var got []Kind
	last, err := j.ReadRawAfter(2, 5, func(seq uint64, kind Kind, raw []byte) error {
		r, err := DecodeValue(seq, raw)
		if err != nil {
			return err
		}
		if r.Kind != kind {
			t.Errorf("seq %d: kind %s, the record says %s", seq, kind, r.Kind)
		}
		got = append(got, kind)
		return nil
	})
	if err != nil || last != 7 || len(got) != 5 || got[0] != KindKill {
		t.Fatalf("ReadRawAfter(2, 5): kinds %v last %d err %v", got, last, err)
	}
	for env, want := range map[string]Kind{`{"k":"kill","v":1}`: KindKill, `{"v":1,"k":"kill"}`: "", `{"k":"Kill"}`: "", `{"k":"`: ""} {
		if k, ok := headKind([]byte(env)); k != want && ok {
			t.Errorf("headKind(%s) = %q, %v", env, k, ok)
		}
	}
}
