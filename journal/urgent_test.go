// urgent_test.go: AppendUrgent (the kill's record) is in the first commit
// to start after it was queued, however long the ordinary queue is (here
// without the urgent log, so its seq is its commit's; urgentlog_test.go
// has the urgent log).

package journal

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestAppendUrgentOvertakesTheQueue(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var commits []int // records in each commit, in order
	first := true
	j, _ := openTemp(t, Options{MaxBatch: 64, NoUrgentLog: true, Inject: func(n int) Fault {
		mu.Lock()
		commits = append(commits, n)
		hold := first
		first = false
		mu.Unlock()
		if hold {
			close(entered)
			<-release // the first commit is "in its fsync" until released
		}
		return Fault{}
	}})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the journal's own cleanup closes it
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { _, err := j.Append(ctx, marker("first")); done <- err }()
	<-entered
	// A backlog of ordinary records, as many as the queue holds.
	for i := 0; i < 4*64-1; i++ { // the queue full: four commits behind
		if err := j.AppendNoWait(marker("queued")); err != nil {
			t.Fatal(err)
		}
	}
	type res struct {
		seq uint64
		err error
	}
	urgent := make(chan res, 1)
	go func() { s, err := j.AppendUrgent(ctx, marker("kill")); urgent <- res{s, err} }()
	for deadline := time.Now().Add(10 * time.Second); len(j.urgent) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the urgent record never queued")
		}
		time.Sleep(time.Millisecond)
	}
	unblock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	u := <-urgent
	if u.err != nil {
		t.Fatal(u.err)
	}
	mu.Lock()
	seen := append([]int(nil), commits...)
	mu.Unlock()
	if len(seen) < 2 {
		t.Fatalf("commits %v", seen)
	}
	// Commit 1 is the record already committing; the urgent one is in commit 2.
	if limit := uint64(seen[0] + seen[1]); u.seq > limit || u.seq <= uint64(seen[0]) {
		t.Fatalf("urgent record at seq %d; commits %v: want it in the second commit (seq %d–%d)", u.seq, seen[:2], seen[0]+1, limit)
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := j.AppendUrgent(ctx, marker("after")); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := j.AppendUrgent(ctx, marker("closed")); err == nil {
		t.Fatal("AppendUrgent on a closed journal succeeded")
	}
}

func marker(what string) Record {
	r, _ := New(KindMarker, "", "", 0, map[string]string{"what": what})
	return r
}
