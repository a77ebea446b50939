package supervisor

// faults_test.go: misbehaving worker processes at the desk level — killed,
// stopped, panicking, crash-looping, flooding — while the desk runs live
// against the sim: the desk stays up, the account is protected, the event
// is journaled.

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

// genReader makes trades without end (10 ms of market time apart, price
// between 5000.25 and 5000.50 — inside any test bracket) until ctx ends.
type genReader struct {
	ctx     context.Context
	t       int64
	n       int64
	hold    int64         // after this many trades, wait for release (0: never)
	release chan struct{} // closed to go on
}

func (g *genReader) Next() (market.Trade, error) {
	if err := g.ctx.Err(); err != nil {
		return market.Trade{}, err
	}
	if g.hold > 0 && g.n == g.hold {
		select {
		case <-g.release:
		case <-g.ctx.Done():
			return market.Trade{}, g.ctx.Err()
		}
	}
	g.n++
	g.t += int64(10 * time.Millisecond)
	return market.Trade{Time: g.t, Price: pts(5000.25) + market.Price(g.n%2), Size: 1, Aggressor: market.Buy, Seq: uint64(g.n)}, nil
}

func faultSpecs() []AccountSpec {
	return []AccountSpec{{Config: accounts.Config{ID: "F1", StartEquity: decimal.NewFromInt(50000), Strategies: []string{"orb", "vwapmr", "delta"}}}}
}

// startGen runs the desk live over an endless generated feed from 10:00
// ET; with hold > 0 the feed pauses after hold trades until release is
// closed.
func startGen(t *testing.T, r *rig, hold int64, release chan struct{}) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	feed := &genReader{ctx: ctx, t: etAt(10, 0, 0), hold: hold, release: release}
	go func() {
		done <- RunLive(ctx, r.d, LiveOptions{Feed: feed, Matcher: r.rec, Clock: r.clock, MaxBatch: 16})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("RunLive did not stop")
		}
	})
	return cancel
}

func (r *rig) workerRunning(id string) func() bool {
	return func() bool {
		a := r.d.byID[id]
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.worker == "running" && a.proc() != nil && a.proc().PID() != 0
	}
}

// workerEvents returns the journaled worker events ("crashed", "faulted").
func workerEvents(recs []journal.Record) []string {
	var out []string
	for _, r := range recs {
		if r.Kind == "worker" && strings.Contains(string(r.Body), `"event"`) {
			for _, ev := range []string{"crashed", "faulted"} {
				if strings.Contains(string(r.Body), `"`+ev+`"`) {
					out = append(out, ev)
				}
			}
		}
	}
	return out
}

func TestWorkerFaultsAtDeskLevel(t *testing.T) {
	t.Run("sigkill and sigstop: restarted, desk keeps running", func(t *testing.T) {
		r := newRig(t, rigOpt{Accounts: faultSpecs(), Workers: Processes, Proc: enginesProc(""), Async: true})
		startGen(t, r, 0, nil)
		within(t, 20*time.Second, "worker running", r.workerRunning("F1"))
		for i, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGSTOP} {
			pid := r.d.byID["F1"].proc().PID()
			if err := syscall.Kill(pid, sig); err != nil {
				t.Fatal(err)
			}
			withinOr(t, 20*time.Second, sig.String()+": worker restarted", func() bool {
				return len(workerEvents(r.records())) >= i+1 && r.workerRunning("F1")() && r.d.byID["F1"].proc().PID() != pid
			}, func() {
				t.Logf("worker events %v, pid %d (was %d), dropped %d", workerEvents(r.records()), r.d.byID["F1"].proc().PID(), pid, r.d.floodDropped.Load())
				r.dumpDesk()
			})
			if st := r.d.m.State(); st != DeskRunning {
				t.Fatalf("desk %s after %s", st, sig)
			}
			if st := r.d.byID["F1"].m.State(); st != AcctTrading {
				t.Fatalf("account %s after %s", st, sig)
			}
		}
	})
	t.Run("panic: restarted", func(t *testing.T) {
		r := newRig(t, rigOpt{Accounts: faultSpecs(), Workers: Processes, Proc: enginesProc("panic@200"), Async: true})
		startGen(t, r, 0, nil)
		// Restarted: running again after the crash, or crashed a second
		// time (a restarted worker panics again after its 200 trades).
		within(t, 20*time.Second, "a crash and a restart", func() bool {
			evs := workerEvents(r.records())
			return len(evs) >= 1 && evs[0] == "crashed" && (r.workerRunning("F1")() || len(evs) >= 2 && evs[1] == "crashed")
		})
		if st := r.d.m.State(); st != DeskRunning {
			t.Fatalf("desk %s after a worker panic", st)
		}
	})
	t.Run("crash loop: account faulted and flattened", func(t *testing.T) {
		cfg := enginesProc("exit@300")
		cfg.CrashLoop = 3
		r := newRig(t, rigOpt{Accounts: faultSpecs(), Workers: Processes, Proc: cfg, Async: true})
		release := make(chan struct{})
		startGen(t, r, 5, release)
		ctx := ctxT(t, 30*time.Second)
		// The entry needs a mark: the held feed's trades reached the desk.
		within(t, 20*time.Second, "worker running and the first trades marked", func() bool {
			return r.workerRunning("F1")() && r.d.Status(ctx).Trades == 5
		})
		in := buyBracket(0)
		in.Account, in.Entry, in.Stop, in.Target = "F1", pts(5000.50), pts(4998), pts(5010)
		if res := r.d.HandleIntent(ctx, in); !res.Sent {
			t.Fatalf("entry not sent: %+v", res)
		}
		close(release)
		withinOr(t, 30*time.Second, "account faulted and flat at the venue", func() bool {
			p, _ := r.sim.Position("F1")
			open, _ := r.sim.OpenOrders(ctx, "F1")
			return r.d.byID["F1"].m.State() == AcctFaulted && p.Qty == 0 && len(open) == 0
		}, r.dumpDesk)
		evs := workerEvents(r.records())
		if len(evs) != 4 || evs[3] != "faulted" {
			t.Fatalf("journaled worker events %v, want 3 crashes and a fault", evs)
		}
		if st := r.d.m.State(); st != DeskRunning {
			t.Fatalf("desk %s after one account's crash loop", st)
		}
	})
	t.Run("intent flood: desk up, rejections journaled, nothing unbracketed sent", func(t *testing.T) {
		r := newRig(t, rigOpt{Accounts: faultSpecs(), Workers: Processes, Proc: enginesProc("flood@100"), Async: true})
		startGen(t, r, 0, nil)
		ctx := ctxT(t, 30*time.Second)
		withinOr(t, 20*time.Second, "rejections from the flood", func() bool {
			n := 0
			for _, v := range r.d.Status(ctx).Accounts[0].Rejections {
				n += v
			}
			return n > 100
		}, func() {
			t.Logf("rejections %v, dropped %d", r.d.Status(ctx).Accounts[0].Rejections, r.d.floodDropped.Load())
			r.dumpDesk()
		})
		// The kill path shares no queue with the flood.
		rep, err := r.d.FlattenReport(ctx, "", "test", "tester")
		if err != nil {
			t.Fatal(err)
		}
		if rep.TotalNs > 2*time.Second {
			t.Fatalf("kill took %s during a flood", rep.TotalNs)
		}
		within(t, 20*time.Second, "desk halted", func() bool { return r.d.m.State() == DeskHalted })
		for _, c := range r.rec.Calls() {
			if c.Op == "order" && !strings.Contains(c.ClientID, ".repair.") {
				t.Errorf("a single order reached the venue: %+v", c)
			}
		}
		for _, ev := range r.rec.Log() {
			if ev.Kind == broker.Accepted && ev.Role == broker.Single && ev.Reason != "liquidate" {
				t.Errorf("venue accepted an unbracketed order: %+v", ev)
			}
		}
		t.Logf("rejections %v, dropped by the dispatcher %d", r.d.Status(ctx).Accounts[0].Rejections, r.d.floodDropped.Load())
	})
}
