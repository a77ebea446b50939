// bench_test.go: the firm layer's speed on loopback, with a real NATS
// server (nats-server/v2, JetStream on disk in b.TempDir()):
//
//   - BenchmarkCommitToView: three desks each committing 1,000 journal
//     records a second, each outbox with its cursor file and the firm with
//     its state file (as deployed); from Append returning (the record
//     durable) until the firm has folded it (p50/p99), split into stages:
//     until the outbox hands it to the NATS client, until a core-NATS tap
//     on the journal subjects sees it (the server has it), until folded.
//   - BenchmarkFloorPubSub: the same rate of plain core-NATS messages
//     through the same server (the machine's floor for the above).
//   - BenchmarkKill: one desk's own kill (Flatten → halted, every account
//     flat, as its Status shows) beside a firm kill of three desks (Kill →
//     every desk replied flat), in the same run, alternating; each desk's
//     venue sees a trade every millisecond (a liquidation fills at the next).
//     A third figure, the three desks' own kills at once (each Flatten on
//     its own goroutine → all three flat), tells what the firm adds from
//     what three kills on one machine cost anyway.
//   - BenchmarkCatchUp: an outbox publishing a journal of 100,000 records
//     written while NATS was away (records/s).
//
// go test -run '^$' -bench . -benchtime 3000x ./firm/   (CommitToView: records per desk)

package firm_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats.go"

	"github.com/deskguard/deskguard/firm"
	"github.com/deskguard/deskguard/firm/firmtest"
	"github.com/deskguard/deskguard/firm/wire"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/outbox"
)

func reportHist(b *testing.B, name string, h *hdrhistogram.Histogram) {
	b.ReportMetric(float64(h.ValueAtQuantile(50))/1e6, name+"_p50_ms")
	b.ReportMetric(float64(h.ValueAtQuantile(99))/1e6, name+"_p99_ms")
}

func BenchmarkCommitToView(b *testing.B) {
	srv := startNATS(b)
	names := []string{"east", "west", "north"}
	// Per desk, per journal seq (1..b.N), the monotonic instant of each
	// stage, written once without a lock (the benchmark must not add a
	// lock to the path it times).
	const (
		stCommitted = iota // Append returned: the record is durable
		stPublished        // the outbox handed it to the NATS client (outbox.Options.OnPublish)
		stWire             // a core-NATS tap on the journal subjects saw it: the server has it
		stView             // the aggregator folded it (firm.Options.OnApply)
		nStages
	)
	base := time.Now()
	type stamps [nStages][]atomic.Int64
	st := map[string]*stamps{}
	for _, n := range names {
		s := &stamps{}
		for i := range s {
			s[i] = make([]atomic.Int64, b.N+1)
		}
		st[n] = s
	}
	mark := func(desk string, stage int, seq uint64) {
		if s := st[desk]; s != nil && seq < uint64(len(s[stage])) {
			s[stage][seq].CompareAndSwap(0, int64(time.Since(base))) // the first time (a resend is not a new record)
		}
	}
	// The production configuration: the firm keeps its state file and each
	// outbox its cursor file, as deskguard firm and run --firm do.
	agg := startAgg(b, firm.Options{Conn: connect(b, srv.URL(), "firm"), StateFile: filepath.Join(b.TempDir(), "firm.state"),
		OnApply: func(desk string, seq uint64) { mark(desk, stView, seq) }})
	tap := connect(b, srv.URL(), "tap")
	if _, err := tap.Subscribe("deskguard.journal.>", func(m *nats.Msg) {
		seq, _ := strconv.ParseUint(m.Header.Get(wire.HdrSeq), 10, 64)
		mark(m.Header.Get(wire.HdrDesk), stWire, seq)
	}); err != nil {
		b.Fatal(err)
	}
	type desk struct {
		name string
		j    *journal.Journal
	}
	var desks []desk
	for _, n := range names {
		path := filepath.Join(b.TempDir(), n+".db")
		j, err := journal.Open(path, journal.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = j.Close() })
		ob, err := outbox.New(outbox.Options{Desk: n, Journal: j, Conn: connect(b, srv.URL(), n), CursorFile: path + ".outbox",
			OnPublish: func(seq uint64) { mark(n, stPublished, seq) }})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = ob.Run(ctx) }()
		b.Cleanup(func() { cancel(); <-done })
		desks = append(desks, desk{n, j})
	}
	rec := journal.NewCommand("A1", 0, journal.Command{Who: "bench", Source: "bench", Command: "x", Allowed: true,
		Detail: "a record about the size of a broker event ........................................................"})
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, d := range desks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// 1,000 records a second: one every millisecond, each appended
			// on its own goroutine as the desk's paths do (they share commits).
			tk := time.NewTicker(time.Millisecond)
			defer tk.Stop()
			var awg sync.WaitGroup
			for i := 0; i < b.N; i++ {
				<-tk.C
				awg.Add(1)
				go func() {
					defer awg.Done()
					seq, err := d.j.Append(context.Background(), rec)
					if err != nil {
						b.Error(err)
						return
					}
					mark(d.name, stCommitted, seq)
				}()
			}
			awg.Wait()
		}()
	}
	wg.Wait()
	for _, d := range desks {
		c, _ := d.j.Committed()
		within(b, d.name+" visible", func() bool { return agg.a.LastSeq(d.name) == c })
	}
	b.StopTimer()
	span := func(name string, from, to int) {
		h := hdrhistogram.New(1, int64(10*time.Second), 3)
		for n, s := range st {
			for seq := 1; seq <= b.N; seq++ {
				a, z := s[from][seq].Load(), s[to][seq].Load()
				if z == 0 && to == stView {
					b.Fatalf("%s seq %d never folded", n, seq)
				}
				if a == 0 || z == 0 {
					continue
				}
				_ = h.RecordValue(max(1, z-a)) // a later stage may come first (a record is often folded before its Append returns)
			}
		}
		reportHist(b, name, h)
	}
	span("commit_to_view", stCommitted, stView)
	span("commit_to_wire", stCommitted, stWire)
	span("commit_to_publish", stCommitted, stPublished)
	span("publish_to_wire", stPublished, stWire)
	span("wire_to_view", stWire, stView)
}

func BenchmarkKill(b *testing.B) {
	srv := startNATS(b)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	var desks []*firmtest.Desk
	for i, n := range []string{"east", "west", "north"} {
		d, err := firmtest.StartDesk(firmtest.DeskOptions{Name: n, NATSURL: srv.URL(), Pub: pub, Seed: int64(3 + i), Dir: b.TempDir(),
			Steady: time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = d.Close() })
		desks = append(desks, d)
	}
	agg := startAgg(b, firm.Options{Conn: connect(b, srv.URL(), "firm"), Key: priv, Desks: []string{"east", "west", "north"},
		KillRetry: 10 * time.Millisecond})
	ctx := context.Background()
	flat := func(d *firmtest.Desk) func() bool {
		return func() bool { ok, _ := firmtest.DeskFlat(d.Status()); return ok }
	}
	rearm := func() {
		for _, d := range desks {
			if d.Status().State == "running" {
				continue
			}
			if err := d.D.Rearm(ctx, "bench", "bench"); err != nil {
				b.Fatal(err)
			}
			within(b, d.Name+" running", func() bool { return d.Status().State == "running" })
		}
	}
	open := func() { // every desk long 1 on MAN1 (the desks still long from the last round stay so)
		for _, d := range desks {
			long := false
			for _, a := range d.Status().Accounts {
				long = long || a.ID == "MAN1" && a.Position > 0
			}
			if long {
				continue
			}
			if err := d.Open(1); err != nil {
				b.Fatal(err)
			}
		}
	}
	own := hdrhistogram.New(1, int64(60*time.Second), 3)
	fk := hdrhistogram.New(1, int64(60*time.Second), 3)
	all := hdrhistogram.New(1, int64(60*time.Second), 3)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		open()
		b.StartTimer()
		// One desk's own kill, confirmed flat by its Status.
		d := desks[i%len(desks)]
		t0 := time.Now()
		if err := d.D.Flatten(ctx, "", "bench", "bench"); err != nil {
			b.Fatal(err)
		}
		within(b, d.Name+" flat", flat(d))
		_ = own.RecordValue(time.Since(t0).Nanoseconds())
		b.StopTimer()
		rearm()
		open()
		b.StartTimer()
		// The firm's kill, every desk confirmed flat by its reply.
		t1 := time.Now()
		id, err := agg.a.Kill(ctx, "bench", "bench")
		if err != nil {
			b.Fatal(err)
		}
		// Waited on, not polled: the own kills' Flatten returns once the
		// desk is flat, so their first poll already sees it.
		wctx, cancel := context.WithTimeout(ctx, waitFor)
		_, err = agg.a.WaitKill(wctx, id)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		_ = fk.RecordValue(time.Since(t1).Nanoseconds())
		b.StopTimer()
		rearm()
		open()
		b.StartTimer()
		// The three desks' own kills at once, every desk flat by its Status.
		t2 := time.Now()
		var kwg sync.WaitGroup
		for _, d := range desks {
			kwg.Add(1)
			go func() {
				defer kwg.Done()
				if err := d.D.Flatten(ctx, "", "bench", "bench"); err != nil {
					b.Error(err)
				}
			}()
		}
		kwg.Wait()
		within(b, "every desk flat by its own kill", func() bool {
			for _, d := range desks {
				if !flat(d)() {
					return false
				}
			}
			return true
		})
		_ = all.RecordValue(time.Since(t2).Nanoseconds())
		b.StopTimer()
		rearm()
		b.StartTimer()
	}
	b.StopTimer()
	reportHist(b, "desk_kill_flat", own)
	reportHist(b, "firm_kill_3desks_flat", fk)
	reportHist(b, "own_kill_3desks_at_once_flat", all)
	b.ReportMetric(float64(fk.ValueAtQuantile(99))/float64(own.ValueAtQuantile(99)), "p99_ratio")
	b.ReportMetric(float64(fk.ValueAtQuantile(99))/float64(all.ValueAtQuantile(99)), "p99_firm_over_3own")
}

func BenchmarkCatchUp(b *testing.B) {
	const n = 100_000
	j, err := journal.Open(filepath.Join(b.TempDir(), "desk.db"), journal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	rec := journal.NewCommand("A1", 0, journal.Command{Who: "bench", Source: "bench", Command: "x", Allowed: true,
		Detail: "a record about the size of a broker event ........................................................"})
	for i := 0; i < n; i++ {
		if err := j.AppendNoWait(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := j.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		srv := startNATS(b) // a new, empty stream each time: NATS is back, the desk catches up
		nc := connect(b, srv.URL(), fmt.Sprint("desk", i))
		ob, err := outbox.New(outbox.Options{Desk: "east", Journal: j, Conn: nc, Batch: 4096})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		b.StartTimer()
		t0 := time.Now()
		go func() { defer close(done); _ = ob.Run(ctx) }()
		within(b, "caught up", func() bool { return ob.Published() == n })
		total += time.Since(t0)
		b.StopTimer()
		cancel()
		<-done
		nc.Close()
		srv.Stop()
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "records/s")
}

// BenchmarkFloorPubSub is this machine's floor for BenchmarkCommitToView
// in the same conditions: three publishers each sending 1,000 core-NATS
// messages a second through the same embedded server, received by one
// subscriber (publish → delivered, p50/p99). No journal, no JetStream.
func BenchmarkFloorPubSub(b *testing.B) {
	srv := startNATS(b)
	sub := connect(b, srv.URL(), "sub")
	h := hdrhistogram.New(1, int64(10*time.Second), 3)
	var mu sync.Mutex
	got := make(chan struct{}, 3*b.N)
	if _, err := sub.Subscribe("floor.>", func(m *nats.Msg) {
		var ns int64
		fmt.Sscan(string(m.Data), &ns)
		mu.Lock()
		_ = h.RecordValue(max(1, time.Now().UnixNano()-ns))
		mu.Unlock()
		got <- struct{}{}
	}); err != nil {
		b.Fatal(err)
	}
	_ = sub.Flush()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i := range 3 {
		pub := connect(b, srv.URL(), fmt.Sprint("pub", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk := time.NewTicker(time.Millisecond)
			defer tk.Stop()
			for n := 0; n < b.N; n++ {
				<-tk.C
				_ = pub.Publish(fmt.Sprintf("floor.%d", i), []byte(fmt.Sprint(time.Now().UnixNano())))
			}
		}()
	}
	wg.Wait()
	for n := 0; n < 3*b.N; n++ {
		<-got
	}
	b.StopTimer()
	reportHist(b, "pubsub", h)
}
