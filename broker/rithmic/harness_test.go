// harness_test.go: a venue in-process on loopback (package
// broker/venue/rithmic) and the connector and feed dialled to it, for the
// tests of this package.

package rithmic_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker/rithmic"
	rvenue "github.com/deskguard/deskguard/broker/venue/rithmic"
	"github.com/deskguard/deskguard/market"
)

func testLog(t testing.TB) *slog.Logger {
	if os.Getenv("VENUE_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

// startVenue runs a Manual venue: trades enter only through Trade.
func startVenue(t testing.TB, cfg rvenue.Config) (*rvenue.Venue, func()) {
	t.Helper()
	cfg.Manual = true
	v, err := rvenue.New(cfg, nil, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, v)
}

// serve runs a venue on loopback until the returned stop.
func serve(t testing.TB, v *rvenue.Venue) (*rvenue.Venue, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- v.Serve(ctx, ln) }()
	select {
	case <-v.Ready():
	case err := <-served:
		t.Fatalf("venue stopped: %v", err)
	}
	return v, func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("venue: %v", err)
		}
	}
}

func clientConfig(v *rvenue.Venue) (rithmic.Config, rithmic.Credentials) {
	return rithmic.Config{URL: v.URL(), SystemName: v.SystemName(), User: "demo", Symbol: "MESZ5", Exchange: "CME"},
		rithmic.Credentials{Password: "demo"}
}

func options(t testing.TB) rithmic.Options {
	return rithmic.Options{Log: testLog(t), Backoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		RequestTimeout: 5 * time.Second}
}

func dial(t testing.TB, v *rvenue.Venue) *rithmic.Client {
	t.Helper()
	cfg, creds := clientConfig(v)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rithmic.Dial(ctx, cfg, creds, options(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tape is a client's feed drained in the background: the trades seen,
// and a wait for the n-th.
type tape struct {
	f    *rithmic.Feed
	mu   sync.Mutex
	cond *sync.Cond
	got  []market.Trade
	done chan struct{}
}

func startTape(t testing.TB, c *rithmic.Client) *tape {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := c.Feed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tp := &tape{f: f, done: make(chan struct{})}
	tp.cond = sync.NewCond(&tp.mu)
	go func() {
		defer close(tp.done)
		for {
			tr, err := f.Next()
			if err != nil {
				tp.mu.Lock()
				tp.cond.Broadcast()
				tp.mu.Unlock()
				return
			}
			tp.mu.Lock()
			tp.got = append(tp.got, tr)
			tp.cond.Broadcast()
			tp.mu.Unlock()
		}
	}()
	t.Cleanup(func() { f.Close(); <-tp.done })
	return tp
}

// wait blocks until n trades arrived or the deadline passes.
func (tp *tape) wait(n int, d time.Duration) bool {
	deadline := time.AfterFunc(d, func() {
		tp.mu.Lock()
		tp.cond.Broadcast()
		tp.mu.Unlock()
	})
	defer deadline.Stop()
	start := time.Now()
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for len(tp.got) < n {
		if time.Since(start) >= d {
			return false
		}
		select {
		case <-tp.done:
			return len(tp.got) >= n
		default:
		}
		tp.cond.Wait()
	}
	return true
}

func (tp *tape) trades() []market.Trade {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]market.Trade(nil), tp.got...)
}
