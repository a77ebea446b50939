// verify_test.go: Verify on good journals and on each problem it must find
// (gaps, undecodable records, orphan fills, ledger mismatches), and the
// corruption tests: flipped bytes and truncation are refused at Open and
// reported by Verify, never read back as a different history.

package journal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
	bolt "go.etcd.io/bbolt"
)

func TestVerifyGoodJournal(t *testing.T) {
	j, path := openTemp(t, Options{})
	session(t, j, []string{"A1", "A2", "A3"}, 12, 5)
	last, _, _ := j.Last()
	j.Close()
	rep, err := Verify(path, VerifyOptions{})
	if err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	if rep.First != 1 || rep.Last != last.Seq || rep.Records != int(last.Seq) || rep.Intents != 36 || rep.Kills != 1 ||
		rep.Lockouts != 1 || rep.Snapshots != 2 || rep.Fills != 36*2+24 {
		t.Errorf("report %+v", rep)
	}
}

// rewrite opens the closed journal with bbolt directly and lets fn damage it.
func rewrite(t *testing.T, path string, fn func(b *bolt.Bucket) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket(bucketRecords)) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyFindsProblems(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, b *bolt.Bucket)
		want   string
	}{
		{"gap", func(t *testing.T, b *bolt.Bucket) { b.Delete(seqKey(7)) }, "gap: seq 8 follows 6"},
		{"lost tail", func(t *testing.T, b *bolt.Bucket) {
			k, _ := b.Cursor().Last()
			b.Delete(k)
		}, "records lost"},
		{"bad checksum", func(t *testing.T, b *bolt.Bucket) {
			v := append([]byte(nil), b.Get(seqKey(5))...)
			v[len(v)-3] ^= 0x20
			b.Put(seqKey(5), v)
		}, "seq 5: checksum"},
		{"orphan fill", func(t *testing.T, b *bolt.Bucket) {
			n := b.Sequence() + 1
			b.Put(seqKey(n), sealValue(n, envOf(t, NewBrokerEvent(fill("A1", "ghost", "", broker.Single, market.Buy, 1, 100, 1)))))
			b.SetSequence(n)
		}, "ghost x1 belongs to no journaled intent"},
		{"payload does not decode", func(t *testing.T, b *bolt.Bucket) {
			n := b.Sequence() + 1
			b.Put(seqKey(n), sealValue(n, envOf(t, Record{Kind: KindKill, Version: 1, Body: []byte(`{"accounts":"not a list"}`)})))
			b.SetSequence(n)
		}, "kill body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j, path := openTemp(t, Options{})
			session(t, j, []string{"A1", "A2"}, 6, 3)
			j.Close()
			rewrite(t, path, func(b *bolt.Bucket) error { tc.damage(t, b); return nil })
			rep, err := Verify(path, VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || !strings.Contains(strings.Join(rep.Problems, "\n"), tc.want) {
				t.Fatalf("problems %q, want one containing %q", rep.Problems, tc.want)
			}
			if tc.name != "orphan fill" && tc.name != "payload does not decode" {
				if _, err := Open(path, Options{}); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("open damaged journal: %v, want ErrCorrupt", err)
				}
			}
		})
	}
}

func envOf(t *testing.T, r Record) []byte {
	t.Helper()
	if r.Version == 0 {
		r.Version = 1
	}
	env, err := encodeEnvelope(&r)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestVerifyFillOwnerHook(t *testing.T) {
	j, path := openTemp(t, Options{})
	mustAppend(t, j, NewBrokerEvent(fill("A1", "liq-1", "", broker.Single, market.Sell, 1, 100, 1)))
	j.Close()
	rep, _ := Verify(path, VerifyOptions{})
	if rep.OK {
		t.Fatal("orphan fill accepted")
	}
	rep, _ = Verify(path, VerifyOptions{FillOwner: func(ev broker.Event) bool { return strings.HasPrefix(ev.ClientID, "liq-") }})
	if !rep.OK {
		t.Fatalf("hook: %v", rep.Problems)
	}
}

// history reads every record of a journal that opens.
func history(t *testing.T, path string) ([]Record, error) {
	j, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer j.Close()
	var out []Record
	err = j.Iterate(1, func(r Record) error { out = append(out, r); return nil })
	return out, err
}

func sameHistory(a, b []Record) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, _ := json.Marshal(a[i])
		y, _ := json.Marshal(b[i])
		if !bytes.Equal(x, y) {
			return false
		}
	}
	return true
}

func TestTruncatedFileRefused(t *testing.T) {
	j, path := openTemp(t, Options{})
	session(t, j, []string{"A1", "A2"}, 30, 10)
	j.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	m := readMeta(f, 0)
	f.Close()
	used := int(m.pgid) * int(m.pageSize) // bbolt grows the file ahead of use: cut into the used part
	for _, cut := range []int{used - 4096, used / 2, 3 * 4096, 4096 + 100, 100} {
		p := filepath.Join(t.TempDir(), "cut.journal")
		if err := os.WriteFile(p, data[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := Open(p, Options{})
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("cut at %d of %d: open %v, want ErrCorrupt", cut, len(data), err)
		}
		if err == nil {
			j.Close()
		}
		rep, err := Verify(p, VerifyOptions{})
		if err != nil || rep.OK {
			t.Errorf("cut at %d: verify %+v %v", cut, rep, err)
		}
		t.Logf("cut at %d: %v", cut, rep.Problems)
	}
}

// TestFlippedBytes flips bytes at random places of a real journal: Open and
// Verify must either refuse it or read back exactly the original history
// (a flip in free space changes nothing) — never a different one — and
// neither may crash.
func TestFlippedBytes(t *testing.T) {
	j, path := openTemp(t, Options{})
	session(t, j, []string{"A1", "A2"}, 30, 10)
	j.Close()
	orig, err := history(t, path)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	flips := 300
	if v, err := strconv.Atoi(os.Getenv("JOURNAL_FLIPS")); err == nil {
		flips = v
	}
	refused, same := 0, 0
	dir := t.TempDir()
	for i := 0; i < flips; i++ {
		d := append([]byte(nil), data...)
		nflips := 1 + rng.IntN(3)
		for k := 0; k < nflips; k++ {
			d[rng.IntN(len(d))] ^= byte(1 + rng.IntN(255))
		}
		p := filepath.Join(dir, "flip.journal")
		if err := os.WriteFile(p, d, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := history(t, p)
		rep, verr := Verify(p, VerifyOptions{})
		if verr != nil {
			t.Fatalf("flip %d: verify error %v", i, verr)
		}
		if err != nil {
			refused++
			if rep.OK {
				t.Errorf("flip %d: open refused (%v) but verify says ok", i, err)
			}
			continue
		}
		if !sameHistory(orig, got) {
			t.Fatalf("flip %d: opened into a different history (%d records vs %d)", i, len(got), len(orig))
		}
		same++
	}
	t.Logf("%d damaged copies: %d refused, %d read back identical", flips, refused, same)
	if refused == 0 {
		t.Error("no damage was detected at all")
	}
}

// The byte flip aimed at a record's body: found by checksum even though
// the JSON would still parse.
func TestFlipInsideRecordValue(t *testing.T) {
	j, path := openTemp(t, Options{})
	session(t, j, []string{"A1"}, 5, 0)
	j.Close()
	data, _ := os.ReadFile(path)
	// A1-3 → A1-7 everywhere (live pages and freed copies): still valid
	// JSON, a different order id.
	n := bytes.Count(data, []byte(`"A1-3"`))
	if n == 0 {
		t.Fatal("client id not found in file")
	}
	data = bytes.ReplaceAll(data, []byte(`"A1-3"`), []byte(`"A1-7"`))
	p := filepath.Join(t.TempDir(), "f.journal")
	os.WriteFile(p, data, 0o600)
	if _, err := Open(p, Options{}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("open: %v", err)
	}
	rep, _ := Verify(p, VerifyOptions{})
	if rep.OK {
		t.Fatal("verify missed it")
	}
}

func TestQuickOpen(t *testing.T) {
	j, path := openTemp(t, Options{})
	session(t, j, []string{"A1"}, 10, 0)
	j.Close()
	j2, err := Open(path, Options{QuickOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, j2, NewRearm(0, "a", "b"))
	j2.Close()
	rep, err := Verify(path, VerifyOptions{})
	if err != nil || !rep.OK {
		t.Fatal(rep, err)
	}
}

var _ = accounts.Restore
var _ = context.Background
