// bench_test.go: the firm layer's speed on loopback, with a real NATS
// server (nats-server/v2, JetStream on disk in b.TempDir()):
//
//   - BenchmarkCommitToView: three desks each committing 1,000 journal
//     records a second; from Append returning (the record durable) until
//     the firm has folded it (p50/p99), and until the message is on the
//     wire (a core-NATS tap on the journal subjects: the outbox's share).
//   - BenchmarkFloorPubSub: the same rate of plain core-NATS messages
//     through the same server (the machine's floor for the above).
//   - BenchmarkKill: one desk's own kill (Flatten → halted, every account
//     flat, as its Status shows) beside a firm kill of three desks (Kill →
//     every desk replied flat), in the same run, alternating; each desk's
//     venue sees a trade every millisecond (a liquidation fills at the next).
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
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats.go"

	"github.com/deskguard/deskguard/firm"
	"github.com/deskguard/deskguard/firm/firmtest"
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
	type stamp struct {
		mu        sync.Mutex
		committed map[uint64]time.Time
		visible   map[uint64]time.Time
	}
	stamps := map[string]*stamp{}
	for _, n := range names {
		stamps[n] = &stamp{committed: map[uint64]time.Time{}, visible: map[uint64]time.Time{}}
	}
	agg := startAgg(b, firm.Options{Conn: connect(b, srv.URL(), "firm"), OnApply: func(desk string, seq uint64) {
		now := time.Now()
		if s := stamps[desk]; s != nil {
			s.mu.Lock()
			s.visible[seq] = now
			s.mu.Unlock()
		}
	}})
	wireSeen := map[string]*stamp{}
	for _, n := range names {
		wireSeen[n] = &stamp{visible: map[uint64]time.Time{}}
	}
	tap := connect(b, srv.URL(), "tap")
	if _, err := tap.Subscribe("deskguard.journal.>", func(m *nats.Msg) {
		now := time.Now()
		var seq uint64
		fmt.Sscan(m.Header.Get("Deskguard-Seq"), &seq)
		s := wireSeen[m.Header.Get("Deskguard-Desk")]
		s.mu.Lock()
		if _, ok := s.visible[seq]; !ok {
			s.visible[seq] = now
		}
		s.mu.Unlock()
	}); err != nil {
		b.Fatal(err)
	}
	type desk struct {
		name string
		j    *journal.Journal
	}
	var desks []desk
	for _, n := range names {
		j, err := journal.Open(filepath.Join(b.TempDir(), n+".db"), journal.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = j.Close() })
		ob, err := outbox.New(outbox.Options{Desk: n, Journal: j, Conn: connect(b, srv.URL(), n)})
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
					now := time.Now()
					if err != nil {
						b.Error(err)
						return
					}
					s := stamps[d.name]
					s.mu.Lock()
					s.committed[seq] = now
					s.mu.Unlock()
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
	h := hdrhistogram.New(1, int64(10*time.Second), 3)
	for _, s := range stamps {
		for seq, c := range s.committed {
			v, ok := s.visible[seq]
			if !ok {
				b.Fatalf("seq %d never visible", seq)
			}
			_ = h.RecordValue(max(1, v.Sub(c).Nanoseconds())) // a record may be folded before its Append returns
		}
	}
	reportHist(b, "commit_to_view", h)
	hw := hdrhistogram.New(1, int64(10*time.Second), 3)
	for n, s := range stamps {
		for seq, c := range s.committed {
			if v, ok := wireSeen[n].visible[seq]; ok {
				_ = hw.RecordValue(max(1, v.Sub(c).Nanoseconds()))
			}
		}
	}
	reportHist(b, "commit_to_wire", hw)
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
		within(b, "every desk flat", func() bool {
			for _, k := range agg.a.Kills() {
				if k.ID == id {
					return k.Done
				}
			}
			return false
		})
		_ = fk.RecordValue(time.Since(t1).Nanoseconds())
		b.StopTimer()
		rearm()
		b.StartTimer()
	}
	b.StopTimer()
	reportHist(b, "desk_kill_flat", own)
	reportHist(b, "firm_kill_3desks_flat", fk)
	b.ReportMetric(float64(fk.ValueAtQuantile(99))/float64(own.ValueAtQuantile(99)), "p99_ratio")
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
