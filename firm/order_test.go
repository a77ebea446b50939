// order_test.go: a desk's records reaching the firm out of journal order
// (the stream stores them as the publishes land: a publish the NATS client
// retried after a "no responders", or the outbox resent after a failure,
// lands behind later ones — TestThreeNodeCluster met it when a node died).
// The book holds the early ones and folds every record once, in journal
// order, with no gap; the held records survive the state file; a record
// that never comes is declared a gap once MaxAhead are held; end to end,
// an aggregator fed 1, 2, 4, 3 from the stream folds 1, 2, 3, 4.

package firm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/deskguard/deskguard/firm"
	"github.com/deskguard/deskguard/firm/wire"
	"github.com/deskguard/deskguard/journal"
)

func cmdRecord(seq uint64) journal.Record {
	r := journal.NewCommand("A1", 0, journal.Command{Who: "t", Source: "test", Command: fmt.Sprint("c", seq), Allowed: true})
	r.Seq, r.Wall = seq, int64(seq)
	return r
}

func TestBookFoldsInJournalOrder(t *testing.T) {
	in := func(seqs ...uint64) []journal.Record {
		var rs []journal.Record
		for _, s := range seqs {
			rs = append(rs, cmdRecord(s))
		}
		return rs
	}
	for _, tc := range []struct {
		name   string
		arrive []journal.Record
		folded [][]uint64 // per Apply
		dups   []bool
	}{
		{"in order", in(1, 2, 3), [][]uint64{{1}, {2}, {3}}, []bool{false, false, false}},
		{"one early", in(1, 3, 2, 4), [][]uint64{{1}, nil, {2, 3}, {4}}, []bool{false, false, false, false}},
		{"two early, reversed", in(1, 4, 3, 2), [][]uint64{{1}, nil, nil, {2, 3, 4}}, []bool{false, false, false, false}},
		{"first missing", in(2, 1), [][]uint64{nil, {1, 2}}, []bool{false, false}},
		{"a held record again", in(1, 3, 3, 2), [][]uint64{{1}, nil, nil, {2, 3}}, []bool{false, false, true, false}},
		{"a folded record again", in(1, 2, 1), [][]uint64{{1}, {2}, nil}, []bool{false, false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bk := firm.NewBook("east")
			for i, r := range tc.arrive {
				f, dup := bk.Apply(r)
				if !slices.Equal(f, tc.folded[i]) || dup != tc.dups[i] {
					t.Fatalf("Apply(seq %d) #%d: folded %v duplicate %v, want %v %v", r.Seq, i, f, dup, tc.folded[i], tc.dups[i])
				}
			}
			if len(bk.Gaps) != 0 || len(bk.Ahead) != 0 || bk.Records != bk.LastSeq {
				t.Fatalf("book: gaps %v, %d held, %d records to seq %d", bk.Gaps, len(bk.Ahead), bk.Records, bk.LastSeq)
			}
		})
	}
}

// Held records are in the saved state: a firm restarted between an early
// record and the one it waits for folds both.
func TestBookHeldRecordsSurviveTheStateFile(t *testing.T) {
	bk := firm.NewBook("east")
	bk.Apply(cmdRecord(1))
	bk.Apply(cmdRecord(3))
	raw, err := json.Marshal(bk)
	if err != nil {
		t.Fatal(err)
	}
	var back firm.Book
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if f, _ := back.Apply(cmdRecord(2)); !slices.Equal(f, []uint64{2, 3}) || back.LastSeq != 3 || len(back.Gaps) != 0 {
		t.Fatalf("after a round trip: folded %v, last %d, gaps %v", f, back.LastSeq, back.Gaps)
	}
}

// A record that never comes (an operator's limits removed it) does not
// stall the desk for ever: past MaxAhead held, it is a gap.
func TestBookDeclaresAGapPastMaxAhead(t *testing.T) {
	bk := firm.NewBook("east")
	bk.Apply(cmdRecord(1))
	last := uint64(3 + firm.MaxAhead) // 3..last-1: MaxAhead held
	for s := uint64(3); s < last; s++ {
		if f, _ := bk.Apply(cmdRecord(s)); f != nil {
			t.Fatalf("seq %d folded with seq 2 missing and %d held", s, len(bk.Ahead))
		}
	}
	f, _ := bk.Apply(cmdRecord(last))
	if len(f) != firm.MaxAhead+1 || f[0] != 3 || f[len(f)-1] != last || bk.LastSeq != last {
		t.Fatalf("past MaxAhead: folded %d (%v..), last %d", len(f), f[:min(3, len(f))], bk.LastSeq)
	}
	if len(bk.Gaps) != 1 || bk.Gaps[0] != "2..2 missing" || len(bk.Ahead) != 0 {
		t.Fatalf("gaps %v, %d still held", bk.Gaps, len(bk.Ahead))
	}
}

func TestAggregatorFoldsOutOfOrderStream(t *testing.T) {
	srv := startNATS(t)
	j, err := journal.Open(filepath.Join(t.TempDir(), "east.db"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	for i := 0; i < 4; i++ {
		if _, err := j.Append(context.Background(), journal.NewCommand("A1", 0, journal.Command{Who: "t", Command: "x"})); err != nil {
			t.Fatal(err)
		}
	}
	epoch, _ := j.Created()
	raws := map[uint64]*nats.Msg{}
	if _, err := j.ReadRawAfter(0, 0, func(seq uint64, kind journal.Kind, raw []byte) error {
		m := nats.NewMsg(wire.JournalSubject("east", string(kind)))
		m.Data = raw
		m.Header.Set(wire.HdrDesk, "east")
		m.Header.Set(wire.HdrSeq, strconv.FormatUint(seq, 10))
		m.Header.Set(wire.HdrJournal, epoch)
		m.Header.Set(jetstream.MsgIDHeader, wire.MsgID("east", seq))
		raws[seq] = m
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	nc := connect(t, srv.URL(), "east")
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if _, err := wire.EnsureStream(ctx, js, wire.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{1, 2, 4, 3} { // stored as they land
		if _, err := js.PublishMsg(ctx, raws[seq]); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var order []uint64
	agg := startAgg(t, firm.Options{Conn: connect(t, srv.URL(), "firm"), OnApply: func(_ string, seq uint64) {
		mu.Lock()
		order = append(order, seq)
		mu.Unlock()
	}})
	within(t, "all four folded", func() bool { return agg.a.LastSeq("east") == 4 })
	bk, _ := agg.a.Book("east")
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(order, []uint64{1, 2, 3, 4}) || bk.Records != 4 || len(bk.Gaps) != 0 {
		t.Fatalf("folded in order %v, %d records, gaps %v", order, bk.Records, bk.Gaps)
	}
}
