package bench

// journalbench.go: JournalBench measures the journal (package journal,
// through its exported API) on a directory's disk — the raw floor (a
// 256-byte write + fdatasync), Append latency with one writer, throughput
// and commits with 1, 8 and 64 concurrent writers, bbolt's own Batch for
// comparison, and the cost of the open-time check. It moved here from the
// journal package: benchmarks stay out of production packages.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	bolt "go.etcd.io/bbolt"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

// Latency summarises a histogram, in nanoseconds.
type Latency struct {
	N   int64         `json:"n"`
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

func (l Latency) String() string {
	return fmt.Sprintf("p50 %v p99 %v max %v (n=%d)", l.P50, l.P99, l.Max, l.N)
}

// Throughput is one concurrent run.
type Throughput struct {
	Name       string  `json:"name"`
	Writers    int     `json:"writers"`
	Records    int     `json:"records"`
	Commits    int64   `json:"commits"` // -1 when not counted
	PerSec     float64 `json:"per_sec"`
	PerCommit  float64 `json:"records_per_commit"`
	AppendWait Latency `json:"append_latency"`
}

// JournalResults is what JournalBench measured.
type JournalResults struct {
	Dir        string        `json:"dir"`
	Fsync      Latency       `json:"fsync_256b"`      // write 256 bytes + fdatasync
	Append     Latency       `json:"append_1_writer"` // Append, one writer
	Ratio      float64       `json:"append_p50_over_fsync_p50"`
	Runs       []Throughput  `json:"throughput"`
	OpenFull   time.Duration `json:"open_full_check_ns"`  // Open with tx.Check + every record
	OpenQuick  time.Duration `json:"open_quick_check_ns"` // Open with QuickOpen
	OpenRecord int           `json:"open_records"`
}

func newJHist() *hdrhistogram.Histogram { return hdrhistogram.New(1_000, 10_000_000_000, 3) }

func summary(h *hdrhistogram.Histogram) Latency {
	return Latency{N: h.TotalCount(), P50: time.Duration(h.ValueAtQuantile(50)), P99: time.Duration(h.ValueAtQuantile(99)),
		Max: time.Duration(h.Max())}
}

// JournalBench runs every measurement with n records per run in dir
// (files are created there and removed). It takes a few seconds for
// n = 2000 on a virtual disk.
func JournalBench(dir string, n int) (JournalResults, error) {
	if n < 64 {
		n = 64
	}
	res := JournalResults{Dir: dir}
	tmp, err := os.MkdirTemp(dir, "journal-bench-")
	if err != nil {
		return res, fmt.Errorf("bench: journal: %w", err)
	}
	defer os.RemoveAll(tmp)

	if res.Fsync, err = benchFsync(filepath.Join(tmp, "fsync"), n); err != nil {
		return res, err
	}
	path := filepath.Join(tmp, "bench.journal")
	var commits atomic.Int64
	j, err := journal.Open(path, journal.Options{Clock: market.WallClock{}, Inject: func(int) journal.Fault { commits.Add(1); return journal.Fault{} }})
	if err != nil {
		return res, err
	}
	rec := journalRecord()
	h := newJHist()
	for i := 0; i < n; i++ {
		t := time.Now()
		if _, err := j.Append(context.Background(), rec); err != nil {
			j.Close()
			return res, err
		}
		_ = h.RecordValue(int64(time.Since(t)))
	}
	res.Append = summary(h)
	if res.Fsync.P50 > 0 {
		res.Ratio = float64(res.Append.P50) / float64(res.Fsync.P50)
	}
	for _, w := range []int{1, 8, 64} {
		commits.Store(0)
		tp, err := runWriters(w, n, func() error { _, err := j.Append(context.Background(), rec); return err })
		if err != nil {
			j.Close()
			return res, err
		}
		tp.Name, tp.Commits = "journal.Append (own group commit)", commits.Load()
		tp.PerCommit = float64(tp.Records) / float64(max(tp.Commits, 1))
		res.Runs = append(res.Runs, tp)
	}
	if err := j.Close(); err != nil {
		return res, err
	}
	t := time.Now()
	if j, err = journal.Open(path, journal.Options{ReadOnly: true}); err != nil {
		return res, err
	}
	res.OpenFull = time.Since(t)
	last, _, _ := j.Last()
	res.OpenRecord = int(last.Seq)
	j.Close()
	t = time.Now()
	if j, err = journal.Open(path, journal.Options{ReadOnly: true, QuickOpen: true}); err != nil {
		return res, err
	}
	res.OpenQuick = time.Since(t)
	j.Close()

	for _, cfg := range []struct {
		name    string
		size    int
		delay   time.Duration
		writers int
	}{
		{"bbolt Batch, defaults (1000, 10ms)", 1000, 10 * time.Millisecond, 64},
		{"bbolt Batch, MaxBatchSize 64, 1ms", 64, time.Millisecond, 1},
		{"bbolt Batch, MaxBatchSize 64, 1ms", 64, time.Millisecond, 8},
		{"bbolt Batch, MaxBatchSize 64, 1ms", 64, time.Millisecond, 64},
	} {
		nn := n
		if cfg.writers == 1 {
			nn = max(n/4, 16) // a lone writer waits out MaxBatchDelay on every call
		}
		tp, err := benchBoltBatch(filepath.Join(tmp, "batch.db"), cfg.size, cfg.delay, cfg.writers, nn)
		if err != nil {
			return res, err
		}
		tp.Name = cfg.name
		res.Runs = append(res.Runs, tp)
	}
	return res, nil
}

// journalRecord is a typical intent record (about 400 bytes).
func journalRecord() journal.Record {
	return journal.NewIntent(intent.Intent{ID: "A1-1700000000000", Kind: intent.Enter, Account: "A1", Strategy: "orb", Time: 1,
		Side: market.Buy, Qty: 5, EntryType: market.StopLimitOrder, Entry: 20601, Limit: 20603, Stop: 20590, Target: 20630,
		ExpireNs: 600e9, Reason: "orb.long: 5m close 5150.25 > ORH 5150.00, vol 1.8x"}, &journal.Decision{Allowed: true})
}

func runWriters(w, n int, appendOne func() error) (Throughput, error) {
	per := max(n/w, 1)
	var (
		mu   sync.Mutex
		h    = newJHist()
		wg   sync.WaitGroup
		ferr error
	)
	start := time.Now()
	for g := 0; g < w; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := newJHist()
			for i := 0; i < per; i++ {
				t := time.Now()
				if err := appendOne(); err != nil {
					mu.Lock()
					ferr = err
					mu.Unlock()
					return
				}
				_ = local.RecordValue(int64(time.Since(t)))
			}
			mu.Lock()
			h.Merge(local)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	return Throughput{Writers: w, Records: per * w, Commits: -1, PerSec: float64(per*w) / el.Seconds(), AppendWait: summary(h)}, ferr
}

func benchBoltBatch(path string, size int, delay time.Duration, w, n int) (Throughput, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return Throughput{}, err
	}
	defer os.Remove(path)
	defer db.Close()
	db.MaxBatchSize, db.MaxBatchDelay = size, delay
	bucket := []byte("records")
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bucket); return err }); err != nil {
		return Throughput{}, err
	}
	rec := journalRecord()
	return runWriters(w, n, func() error {
		return db.Batch(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucket)
			seq, err := b.NextSequence() // inside the tx: safe if Batch runs this twice
			if err != nil {
				return err
			}
			r := rec
			r.Seq = seq
			k, v, err := journal.Encode(r) // the journal's own on-disk value
			if err != nil {
				return err
			}
			return b.Put(k, v)
		})
	})
}

func benchFsync(path string, n int) (Latency, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return Latency{}, fmt.Errorf("bench: journal fsync: %w", err)
	}
	defer os.Remove(path)
	defer f.Close()
	buf := make([]byte, 256)
	// Preallocate so each sync flushes data, not a file-size change (as bbolt's commits mostly do).
	if _, err := f.WriteAt(make([]byte, 64<<10), 0); err != nil {
		return Latency{}, err
	}
	if err := f.Sync(); err != nil {
		return Latency{}, err
	}
	h := newJHist()
	for i := 0; i < n; i++ {
		buf[0] = byte(i)
		t := time.Now()
		if _, err := f.WriteAt(buf, int64(i%16)*4096); err != nil {
			return Latency{}, err
		}
		if err := fdatasync(f); err != nil {
			return Latency{}, err
		}
		_ = h.RecordValue(int64(time.Since(t)))
	}
	return summary(h), nil
}
