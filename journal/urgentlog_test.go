// urgentlog_test.go: the urgent log (urgentlog.go). AppendUrgent returns
// while the commit ahead of it is stuck; a record it made durable is in
// the journal after a kill -9 before its commit, exactly once, and never
// twice after its commit; a torn last entry, a full log and a failed write
// lose nothing (the record waits for its commit); a damaged header is
// refused; the reader survives any bytes (FuzzUrgentLog).

package journal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// markers returns the journal's marker records' "what", in seq order.
func markers(t *testing.T, path string) []string {
	t.Helper()
	j, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var out []string
	if err := j.Iterate(1, func(r Record) error {
		if r.Kind == KindMarker {
			var m map[string]string
			if err := jsonUnmarshal(r.Body, &m); err != nil {
				return err
			}
			out = append(out, m["what"])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// reopen opens the journal at path (replaying its urgent log), appends
// recs and closes it.
func reopen(t *testing.T, path string, recs ...Record) {
	t.Helper()
	j, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		mustAppend(t, j, r)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

func count(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

// The kill's record does not wait for the commit already running: with
// that commit held "in its fsync", AppendUrgent returns (durable in the
// urgent log), and the record is in the next commit once the first is let
// go. Fails on the journal without the urgent log (AppendUrgent waits for
// the held commit).
func TestAppendUrgentDoesNotWaitForTheRunningCommit(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	first := true
	var mu sync.Mutex
	j, path := openTemp(t, Options{Inject: func(n int) Fault {
		mu.Lock()
		hold := first
		first = false
		mu.Unlock()
		if hold {
			close(entered)
			<-release
		}
		return Fault{}
	}})
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { _, err := j.Append(ctx, marker("intent")); done <- err }()
	<-entered
	urgent := make(chan error, 1)
	go func() { _, err := j.AppendUrgent(ctx, marker("kill")); urgent <- err }()
	select {
	case err := <-urgent:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("AppendUrgent waited for the commit running ahead of it")
	}
	unblock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if got := markers(t, path); strings.Join(got, ",") != "intent,kill" {
		t.Fatalf("records %v, want intent then kill", got)
	}
}

// urgentChild opens the journal with every commit stuck (its writer never
// returns from the first commit of records) and appends urgent markers one
// after another, printing each once AppendUrgent has returned: each is
// durable only in the urgent log when the parent SIGKILLs it.
func urgentChild(path string) int {
	j, err := Open(path, Options{Inject: func(n int) Fault {
		select {} // the commit never finishes
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	pid := os.Getpid()
	_ = j.AppendNoWait(marker(fmt.Sprintf("queued-%d", pid)))
	for i := 0; ; i++ {
		what := fmt.Sprintf("kill-%d-%d", pid, i)
		if _, err := j.AppendUrgent(context.Background(), marker(what)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		os.Stdout.WriteString(what + "\n")
	}
}

// A kill -9 with the urgent records durable only in the urgent log: after
// each, Open replays every acknowledged one into the journal exactly once
// (and the next child's are added, none twice); the sequence stays
// contiguous (Open's full check).
func TestUrgentLogSurvivesKill9BeforeItsCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "urgent.journal")
	reopen(t, path, marker("start"))
	var acked []string
	for round := 0; round < 4; round++ {
		before := len(acked)
		cmd := child(t, "urgent", path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		rd := bufio.NewReader(out)
		for n := 0; n < 3+5*round; n++ {
			line, err := rd.ReadString('\n')
			if err != nil {
				t.Fatalf("round %d: child ended: %v", round, err)
			}
			acked = append(acked, strings.TrimSpace(line))
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				break
			}
			acked = append(acked, strings.TrimSpace(line))
		}
		_ = cmd.Wait()
		// A read-only look (journal verify) counts what waits in the urgent
		// log, changing nothing: every acknowledged one, and perhaps one
		// more made durable just before the kill.
		vr, err := Verify(path, VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(acked) - before; vr.PendingUrgent < n || vr.PendingUrgent > n+1 {
			t.Fatalf("round %d: verify counts %d urgent records pending, %d acknowledged", round, vr.PendingUrgent, n)
		}
		reopen(t, path) // replays
		if vr, err := Verify(path, VerifyOptions{}); err != nil || vr.PendingUrgent != 0 {
			t.Fatalf("round %d: after the replay verify counts %d pending (%v)", round, vr.PendingUrgent, err)
		}
		got := markers(t, path)
		for _, a := range acked {
			if n := count(got, a); n != 1 {
				t.Fatalf("round %d: acknowledged urgent record %s is in the journal %d times", round, a, n)
			}
		}
		for _, g := range got {
			if strings.HasPrefix(g, "queued-") {
				t.Fatalf("round %d: %s (never committed, not urgent) is in the journal", round, g)
			}
		}
	}
}

// After its commit an urgent record is never replayed again: reopened
// twice, it is in the journal once.
func TestUrgentLogNoReplayAfterCommit(t *testing.T) {
	j, path := openTemp(t, Options{})
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := j.AppendUrgent(ctx, marker(fmt.Sprintf("kill-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		j, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := j.AppendUrgent(ctx, marker(fmt.Sprintf("again-%d", i))); err != nil {
			t.Fatal(err)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(markers(t, path), ","); got != "kill-0,kill-1,kill-2,again-0,again-1" {
		t.Fatalf("records %s", got)
	}
}

// A torn last entry (its write cut short by the crash, so AppendUrgent
// never returned) is not replayed; the whole ones before it are.
func TestUrgentLogTornLastEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "torn.journal")
	reopen(t, path, marker("start"))
	// Entries as a run that crashed before their commits left them.
	u, _, err := openUrgent(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, what := range []string{"a", "b", "torn"} {
		r := marker(what)
		r.Wall, r.Version = 1, PayloadVersion
		env, err := encodeEnvelope(&r)
		if err != nil {
			t.Fatal(err)
		}
		id, err := u.take(env)
		if err != nil {
			t.Fatal(err)
		}
		if err := u.write(id, env); err != nil {
			t.Fatal(err)
		}
	}
	// Cut the last entry short: zero its last 10 bytes.
	last := u.off
	if _, err := u.f.WriteAt(make([]byte, 10), last-10); err != nil {
		t.Fatal(err)
	}
	_ = u.close()
	reopen(t, path) // replays
	if got := strings.Join(markers(t, path), ","); got != "start,a,b" {
		t.Fatalf("records %s, want start,a,b", got)
	}
}

// A failed urgent log write, and a full log, lose nothing: AppendUrgent
// waits for the commit (a real seq back) and the record is in the journal.
func TestUrgentLogFailureWaitsForTheCommit(t *testing.T) {
	fail := errors.New("injected EIO")
	j, path := openTemp(t, Options{InjectUrgent: func() error { return fail }})
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		seq, err := j.AppendUrgent(ctx, marker(fmt.Sprintf("kill-%d", i)))
		if err != nil || seq == 0 {
			t.Fatalf("AppendUrgent after a failed urgent write: seq %d, %v (want its commit's seq)", seq, err)
		}
	}
	// Full: entries that do not fit wait for their commit.
	j.ulog.mu.Lock()
	j.ulog.broken, j.ulog.inject, j.ulog.off = nil, nil, urgentFileSize-8
	j.ulog.mu.Unlock()
	if seq, err := j.AppendUrgent(ctx, marker("full")); err != nil || seq == 0 {
		t.Fatalf("AppendUrgent on a full urgent log: seq %d, %v", seq, err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(markers(t, path), ","); got != "kill-0,kill-1,full" {
		t.Fatalf("records %s", got)
	}
}

// A file that is not an urgent log where the journal's would be is
// refused, not overwritten.
func TestUrgentLogBadHeaderRefused(t *testing.T) {
	j, path := openTemp(t, Options{})
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(UrgentPath(path), []byte("something else entirely"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with a foreign urgent file: %v, want ErrCorrupt", err)
	}
	if b, _ := os.ReadFile(UrgentPath(path)); string(b) != "something else entirely" {
		t.Fatal("the foreign file was changed")
	}
}

// FuzzUrgentLog: the reader takes any bytes without panicking; what it
// returns has growing ids and ends where the next entry goes; entries
// written after those are read back in order.
func FuzzUrgentLog(f *testing.F) {
	good := func(n int) []byte {
		dir := f.TempDir()
		u, _, err := openUrgent(filepath.Join(dir, "j"), 0)
		if err != nil {
			f.Fatal(err)
		}
		for i := 0; i < n; i++ {
			env := []byte(fmt.Sprintf(`{"k":"marker","v":1,"w":%d}`, i))
			id, _ := u.take(env)
			_ = u.write(id, env)
		}
		b, _ := os.ReadFile(u.path)
		_ = u.close()
		return b[:u.off]
	}
	f.Add(good(0))
	f.Add(good(3))
	f.Add([]byte(urgentMagic))
	f.Add(append([]byte(urgentMagic+"\x00\x00\x00\x00\x00\x00\x00\x00"), 0, 0, 0, 5, 1, 2, 3, 4))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "j")
		if err := os.WriteFile(UrgentPath(path), data, 0o600); err != nil {
			t.Fatal(err)
		}
		u, past, err := openUrgent(path, 0)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		defer u.close()
		var prev uint64
		for _, e := range past {
			if e.id <= prev {
				t.Fatalf("ids %d after %d", e.id, prev)
			}
			prev = e.id
		}
		if err := u.reset(); err != nil {
			t.Fatal(err)
		}
		env := []byte(`{"k":"marker","v":1,"w":1}`)
		id, err := u.take(env)
		if err != nil {
			t.Fatal(err)
		}
		if err := u.write(id, env); err != nil {
			t.Fatal(err)
		}
		_ = u.close()
		u2, again, err := openUrgent(path, prev)
		if err != nil {
			t.Fatal(err)
		}
		defer u2.close()
		if len(again) != 1 || again[0].id != id || string(again[0].env) != string(env) {
			t.Fatalf("after a reset and a write: %+v, want the one entry %d", again, id)
		}
	})
}
