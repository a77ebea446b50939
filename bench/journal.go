package bench

// journal.go: the durable journal on the measured disk. Append latency
// with one writer comes from JournalBench (the journal's own benchmark,
// beside its raw floor: a 256-byte write + fdatasync in the same
// directory). Group-commit throughput is 64 concurrent writers appending
// through journal.Append, in rounds, beside rounds of raw fdatasyncs.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

func benchJournalAppend(_ context.Context, opt Options, dir string) (Figure, error) {
	n := pick(opt.Short, 64, 2000)
	r, err := JournalBench(dir, n)
	if err != nil {
		return Figure{}, err
	}
	us := float64(time.Microsecond)
	f := Figure{Unit: "µs", N: int(r.Append.N),
		P50: float64(r.Append.P50) / us, P99: float64(r.Append.P99) / us,
		FloorP50: float64(r.Fsync.P50) / us, FloorP99: float64(r.Fsync.P99) / us,
		What:  "journal.Append of an intent record, one writer, returns after bbolt's commit (two fdatasyncs) — JournalBench",
		Floor: "write 256 bytes + fdatasync on the same disk (JournalBench)",
	}
	for _, run := range r.Runs {
		if run.Writers == 64 && run.Commits > 0 {
			f.Note = fmt.Sprintf("JournalBench's 64-writer run: %.0f appends/s, %.1f records per commit", run.PerSec, run.PerCommit)
		}
	}
	return f, nil
}

func benchRecord(i int) journal.Record {
	return journal.NewIntent(intent.Intent{ID: fmt.Sprintf("A1.%d", i), Kind: intent.Enter, Account: "A1", Strategy: "orb", Time: 1,
		Side: market.Buy, Qty: 5, EntryType: market.StopLimitOrder, Entry: 20601, Limit: 20603, Stop: 20590, Target: 20630,
		ExpireNs: 600e9, Reason: "orb.long: 5m close 5150.25 > ORH 5150.00, vol 1.8x"}, &journal.Decision{Allowed: true})
}

func benchGroupCommit(ctx context.Context, opt Options, dir string) (Figure, error) {
	const writers = 64
	rounds := pick(opt.Short, 2, 7)
	per := pick(opt.Short, 4, 40)
	path := filepath.Join(dir, "group.journal")
	defer os.Remove(path)
	j, err := journal.Open(path, journal.Options{})
	if err != nil {
		return Figure{}, err
	}
	defer j.Close()
	var rates []float64
	for r := 0; r < rounds; r++ {
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		t := time.Now()
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < per; i++ {
					if _, err := j.Append(ctx, benchRecord(w*per+i)); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		el := time.Since(t)
		close(errs)
		if err := <-errs; err != nil {
			return Figure{}, err
		}
		rates = append(rates, float64(writers*per)/el.Seconds())
	}
	floor, err := fsyncRates(filepath.Join(dir, "fsync.raw"), rounds, pick(opt.Short, 16, 300))
	if err != nil {
		return Figure{}, err
	}
	f := figure("appends/s", rates, floor, true)
	f.What = fmt.Sprintf("%d goroutines each appending %d intent records through journal.Append (group commit), %d rounds", writers, per, rounds)
	f.Floor = "raw fdatasyncs/s: sequential 256-byte write + fdatasync on the same disk"
	return f, nil
}

// fsyncRates measures rounds of n sequential 256-byte writes + fdatasync
// into a preallocated file, as JournalBench's floor does.
func fsyncRates(path string, rounds, n int) ([]float64, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	defer os.Remove(path)
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, 64<<10), 0); err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	buf := make([]byte, 256)
	var out []float64
	for r := 0; r < rounds; r++ {
		t := time.Now()
		for i := 0; i < n; i++ {
			buf[0] = byte(i)
			if _, err := f.WriteAt(buf, int64(i%16)*4096); err != nil {
				return nil, err
			}
			if err := fdatasync(f); err != nil {
				return nil, err
			}
		}
		out = append(out, float64(n)/time.Since(t).Seconds())
	}
	return out, nil
}
