package journal_test

// ledger_verify_test.go: Verify with the ledger check its caller hands in
// (journal/ledgercheck, as `deskguard journal verify` does): a good journal
// passes with every snapshot compared, and a fill the next snapshot does
// not account for is found.

import (
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/journal/ledgercheck"
)

func TestVerifyWithTheLedgerCheck(t *testing.T) {
	j, path := journal.OpenTemp(t, journal.Options{})
	journal.WriteSession(t, j, []string{"A1", "A2", "A3"}, 12, 5)
	j.Close()
	lc := ledgercheck.New()
	rep, err := journal.Verify(path, journal.VerifyOptions{Checkers: []journal.Checker{lc}})
	if err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	if lc.Checked() != 6 {
		t.Errorf("ledger comparisons %d, want 6 (3 accounts × 2 snapshots)", lc.Checked())
	}
}

func TestVerifyFindsALedgerMismatch(t *testing.T) {
	j, path := journal.OpenTemp(t, journal.Options{})
	journal.WriteSession(t, j, []string{"A1", "A2"}, 6, 3)
	j.Close()
	journal.Rewrite(t, path, func(b *bolt.Bucket) error {
		// A fill the snapshot after it does not account for.
		var snapSeq uint64
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			r, _ := journal.Decode(k, v)
			if r.Kind == journal.KindSnapshot {
				snapSeq = r.Seq
				break
			}
		}
		r, _ := journal.Decode(journal.SeqKey(snapSeq-1), b.Get(journal.SeqKey(snapSeq-1)))
		ev, err := r.BrokerEvent()
		if err != nil {
			t.Fatalf("seq %d before the snapshot is %s", r.Seq, r.Kind)
		}
		ev.FillQty++
		return b.Put(journal.SeqKey(r.Seq), journal.SealValue(r.Seq, journal.EnvOf(t, journal.NewBrokerEvent(ev))))
	})
	rep, err := journal.Verify(path, journal.VerifyOptions{Checkers: []journal.Checker{ledgercheck.New()}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || !strings.Contains(strings.Join(rep.Problems, "\n"), "recomputed from fills") {
		t.Fatalf("problems %q, want a ledger mismatch", rep.Problems)
	}
	// Without the check the journal itself is sound.
	if rep, _ := journal.Verify(path, journal.VerifyOptions{}); !rep.OK {
		t.Fatalf("structural verify: %v", rep.Problems)
	}
}
