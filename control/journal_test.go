package control

// journal_test.go: journal_tail and journal_backup over a real socket with
// a fake journal: who may, the window a tail reads, a backup's path rules,
// a desk without a journal, and a followed tail that sends each commit and
// ends when its reader goes.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/deskapi"
)

type fakeJournal struct {
	mu      sync.Mutex
	n       uint64
	subs    map[chan struct{}]bool
	backups []string
}

func (f *fakeJournal) Backup(p string) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.backups = append(f.backups, p)
	return 4096, nil
}
func (f *fakeJournal) Last() (uint64, error) { f.mu.Lock(); defer f.mu.Unlock(); return f.n, nil }
func (f *fakeJournal) Path() string          { return "/var/lib/deskguard/deskguard.db" }
func (f *fakeJournal) After(seq uint64, max int) ([]json.RawMessage, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []json.RawMessage
	last := seq
	for s := seq + 1; s <= f.n && len(out) < max; s++ {
		out = append(out, json.RawMessage(fmt.Sprintf(`{"seq":%d,"kind":"marker"}`, s)))
		last = s
	}
	return out, last, nil
}
func (f *fakeJournal) Commits() (<-chan struct{}, func()) {
	c := make(chan struct{}, 1)
	f.mu.Lock()
	if f.subs == nil {
		f.subs = map[chan struct{}]bool{}
	}
	f.subs[c] = true
	f.mu.Unlock()
	return c, func() { f.mu.Lock(); delete(f.subs, c); f.mu.Unlock() }
}
func (f *fakeJournal) append() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	for c := range f.subs {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}
func (f *fakeJournal) followers() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.subs) }

func serveJournal(t *testing.T, j Journal) string {
	t.Helper()
	var ts auth.Tokens
	ts.AddPlain("risk", "mtok", auth.Role{Kind: "manager"})
	ts.AddPlain("alice", "ttok", auth.Role{Kind: "trader", Account: "A1"})
	ts.AddPlain("wall", "vtok", auth.Role{Kind: "viewer"})
	srv := &Server{Desk: &fakeDesk{}, Tokens: &ts, Journal: j}
	path := filepath.Join(t.TempDir(), "ctl.sock")
	if err := srv.Listen(path); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go srv.Serve(ctx)
	return path
}

func seqs(t *testing.T, recs []json.RawMessage) []uint64 {
	t.Helper()
	var out []uint64
	for _, r := range recs {
		var v struct{ Seq uint64 }
		if err := json.Unmarshal(r, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v.Seq)
	}
	return out
}

func TestJournalOps(t *testing.T) {
	fj := &fakeJournal{n: 50}
	sock := serveJournal(t, fj)
	ctx := context.Background()
	call := func(req deskapi.Request) (deskapi.Response, error) { return deskapi.Call(ctx, sock, req) }

	r, err := call(deskapi.Request{Token: "vtok", Op: "journal_tail", Count: 3})
	if got := seqs(t, r.Records); err != nil || fmt.Sprint(got) != "[48 49 50]" || r.Seq != 50 {
		t.Fatalf("viewer tail 3: %v %v seq %d", got, err, r.Seq)
	}
	r, err = call(deskapi.Request{Token: "mtok", Op: "journal_tail"})
	if err != nil || len(r.Records) != DefaultTail {
		t.Fatalf("default tail: %d records, %v", len(r.Records), err)
	}
	r, err = call(deskapi.Request{Token: "mtok", Op: "journal_tail", After: 45})
	if got := seqs(t, r.Records); err != nil || fmt.Sprint(got) != "[46 47 48 49 50]" {
		t.Fatalf("tail after 45: %v %v", got, err)
	}
	if _, err := call(deskapi.Request{Token: "mtok", Op: "journal_tail", Count: MaxTail + 1}); err == nil {
		t.Error("a tail past MaxTail was served")
	}
	if _, err := call(deskapi.Request{Token: "ttok", Op: "journal_tail"}); err == nil || !strings.Contains(err.Error(), "may not") {
		t.Errorf("trader tail: %v", err)
	}
	if _, err := call(deskapi.Request{Token: "vtok", Op: "journal_backup", To: "/tmp/x.db"}); err == nil || !strings.Contains(err.Error(), "may not") {
		t.Errorf("viewer backup: %v", err)
	}
	if _, err := call(deskapi.Request{Token: "mtok", Op: "journal_backup", To: "rel/x.db"}); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("relative backup path: %v", err)
	}
	r, err = call(deskapi.Request{Token: "mtok", Op: "journal_backup", To: "/tmp/a/../x.db"})
	if err != nil || r.Bytes != 4096 || r.Journal != fj.Path() || len(fj.backups) != 1 || fj.backups[0] != "/tmp/x.db" {
		t.Fatalf("backup: %+v %v %v", r, err, fj.backups)
	}

	none := serveJournal(t, nil)
	if _, err := deskapi.Call(ctx, none, deskapi.Request{Token: "mtok", Op: "journal_tail"}); err == nil || !strings.Contains(err.Error(), "no journal") {
		t.Errorf("tail of a desk without a journal: %v", err)
	}
}

func TestJournalTailFollow(t *testing.T) {
	fj := &fakeJournal{n: 10}
	sock := serveJournal(t, fj)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan []uint64, 16)
	done := make(chan error, 1)
	go func() {
		done <- deskapi.Stream(ctx, sock, deskapi.Request{Token: "mtok", Op: "journal_tail", Count: 2, Follow: true}, func(r deskapi.Response) error {
			got <- seqs(t, r.Records)
			return nil
		})
	}()
	wait := func(want string) {
		t.Helper()
		select {
		case g := <-got:
			if fmt.Sprint(g) != want {
				t.Fatalf("batch %v, want %s", g, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no batch %s", want)
		}
	}
	wait("[9 10]")
	fj.append()
	wait("[11]")
	fj.append()
	fj.append()
	select {
	case g := <-got:
		if len(g) == 0 || g[len(g)-1] > 13 {
			t.Fatalf("batch %v", g)
		}
		if g[len(g)-1] != 13 {
			wait("[13]")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no batch after two commits")
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("stream: %v", err)
	}
	// The server lets its follower go once the reader has.
	deadline := time.Now().Add(30 * time.Second)
	for fj.followers() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the followed tail outlived its reader")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A trader may not follow.
	err := deskapi.Stream(context.Background(), sock, deskapi.Request{Token: "ttok", Op: "journal_tail", Follow: true}, func(deskapi.Response) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "may not") {
		t.Errorf("trader follow: %v", err)
	}
}
