package auth

// limit_test.go: the limiter's burst, doubling waits, cap, reset on
// success, fresh start after a quiet spell, and its bound on keys.

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type fakeNow struct{ t time.Time }

func (f *fakeNow) now() time.Time      { return f.t }
func (f *fakeNow) add(d time.Duration) { f.t = f.t.Add(d) }

func TestLimiterBurstThenDoubling(t *testing.T) {
	clk := &fakeNow{t: time.Unix(1e9, 0)}
	l := NewLimiter(LimitConfig{Burst: 3, Backoff: time.Second, BackoffMax: 10 * time.Second}, clk.now)
	for i := range 3 {
		if w := l.Attempt("a"); w != 0 {
			t.Fatalf("attempt %d inside the burst must wait %s", i+1, w)
		}
	}
	// The 3rd failure spent the burst; the 4th is allowed, then waits grow.
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := l.Attempt("a"); got != 0 {
			t.Fatalf("step %d: refused (%s) although the previous wait was served", i, got)
		}
		if got := l.Attempt("a"); got != w {
			t.Fatalf("step %d: wait %s, want %s", i, got, w)
		}
		clk.add(w - time.Millisecond)
		if got := l.Attempt("a"); got != time.Millisecond {
			t.Fatalf("step %d: a millisecond before the end: %s", i, got)
		}
		clk.add(time.Millisecond)
	}
	if l.Attempt("b") != 0 {
		t.Fatal("another key is limited")
	}
	l.Succeed("a")
	for i := range 3 {
		if w := l.Attempt("a"); w != 0 {
			t.Fatalf("after a success, attempt %d waits %s", i+1, w)
		}
	}
}

func TestLimiterQuietSpellStartsAfresh(t *testing.T) {
	clk := &fakeNow{t: time.Unix(1e9, 0)}
	l := NewLimiter(LimitConfig{Burst: 1, Backoff: time.Second, BackoffMax: 4 * time.Second}, clk.now)
	l.Attempt("a")
	l.Attempt("a") // over the burst: waits 1s
	clk.add(time.Second + 4*time.Second + time.Nanosecond)
	if w := l.Attempt("a"); w != 0 {
		t.Fatal(w)
	}
	if w := l.Attempt("a"); w != 0 {
		t.Fatalf("the burst after a quiet spell: %s", w) // the 2nd of a fresh burst of 1 is allowed, then waits
	}
	if w := l.Attempt("a"); w != time.Second {
		t.Fatalf("the first wait after a quiet spell: %s, want 1s", w)
	}
}

// Parallel attempts cannot all slip through one burst: each is counted
// before its token is checked.
func TestLimiterParallelBurst(t *testing.T) {
	clk := &fakeNow{t: time.Unix(1e9, 0)}
	l := NewLimiter(LimitConfig{Burst: 5, Backoff: time.Minute}, clk.now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l.Attempt("a") == 0 {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed != 6 { // the burst, then the one whose failure starts the first wait
		t.Fatalf("%d of 200 parallel attempts allowed, want 6", allowed)
	}
}

func TestLimiterKeysBounded(t *testing.T) {
	clk := &fakeNow{t: time.Unix(1e9, 0)}
	l := NewLimiter(LimitConfig{Burst: 1, Backoff: time.Hour, Keys: 8}, clk.now)
	l.Attempt("victim")
	l.Attempt("victim") // waits an hour
	for i := range 100 {
		l.Attempt(fmt.Sprint("k", i))
	}
	if len(l.keys) > 8 {
		t.Fatalf("%d keys kept, bound 8", len(l.keys))
	}
	if w := l.Attempt("victim"); w == 0 {
		t.Fatal("a flood of other keys evicted a key that must wait")
	}
}
