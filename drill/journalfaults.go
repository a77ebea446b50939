package drill

// journalfaults.go: the journal-faults scenario. The journal's disk fills
// up (journal MaxSize), or one commit's fdatasync fails — before the
// commit is durable, or after (the records are on disk although their
// appenders were told they failed; journal.Options.Inject). From the first
// failed append no entry may reach the venue and the desk goes degraded;
// then the operator frees space or replaces the disk and restarts the desk
// on the same journal file, which recovers, reconciles and trades on; the
// round ends with a kill that must reach every account.

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor"
)

// journalModes are the round's fault, by seed.
var journalModes = []string{"disk-full", "fsync-eio", "fsync-eio-after-write"}

// failWatch remembers whether an append has failed.
type failWatch struct {
	supervisor.Journal
	failed atomic.Bool
}

func (f *failWatch) Append(ctx context.Context, e journal.Record) (uint64, error) {
	seq, err := f.Journal.Append(ctx, e)
	if err != nil && !errors.Is(err, errCrashed) {
		f.failed.Store(true)
	}
	return seq, err
}

func runJournalFaults(ctx context.Context, o *Options, seed int64, dir string) (round, error) {
	var rd round
	ts, err := sessionTrades(seed, o.Scale)
	if err != nil {
		return rd, err
	}
	body, tail := split(ts)
	rng := newRand(seed)
	mode := modeOf(seed, journalModes)
	rd.mode = mode
	opt := rigOpt{Dir: dir, Log: o.Log, Start: time.Unix(0, ts[0].Time)}
	switch mode {
	case "disk-full":
		// Big enough to start and trade a while, small enough to fill mid-session.
		opt.MaxSize = 96<<10 + rng.IntN(160<<10)
	default:
		// One commit's fdatasync fails (EIO), somewhere in the session.
		failAt := int64(20 + rng.IntN(200))
		var commits atomic.Int64
		eio := &journalEIO{err: syscall.EIO}
		opt.Inject = func(int) journal.Fault {
			if commits.Add(1) == failAt {
				return journal.Fault{Err: eio, AfterWrite: mode == "fsync-eio-after-write"}
			}
			return journal.Fault{}
		}
	}
	r, err := newRig(ctx, opt)
	if err != nil {
		return rd, err
	}
	fw := &failWatch{Journal: r.jp.j}
	r.jp.j = fw
	c := newChecker(r)
	r.allIn = &allIn{at: len(body) / 12}
	var after int
	r.p.before = func() error {
		if fw.failed.Load() {
			after++
			c.violate(nil, "", "%s: an entry reached the venue after the journal failed (%d so far)", mode, after)
		}
		return nil
	}
	ch := &chaos{rng: newRand(seed + 1), every: 1 + len(body)/300}
	// The failure, then 50 trades on the degraded desk, then the restart
	// on a healthy disk.
	failedAt := -1
	restarted := false
	hook := func(i int, _ market.Trade) error {
		if failedAt < 0 && fw.failed.Load() {
			failedAt = i
			rd.faults++
			if st := r.d.Status(ctx).State; st != "degraded" && st != "halting" && st != "halted" {
				c.violate(nil, "", "%s: journal failed but the desk is %s, not degraded", mode, st)
			}
		}
		if failedAt >= 0 && !restarted && i >= failedAt+50 {
			restarted = true
			r.opt.MaxSize, r.opt.Inject = 0, nil
			r.crash()
			if err := r.restart(ctx); err != nil {
				return fmt.Errorf("%s: restart on the same journal: %w", mode, err)
			}
		}
		return nil
	}
	if _, err := play(ctx, r, c, ch, body, hook); err != nil {
		r.close()
		return rd, err
	}
	return rd, endRound(ctx, r, c, tail, &rd)
}

// journalEIO is the injected fdatasync error.
type journalEIO struct{ err error }

func (e *journalEIO) Error() string { return "fdatasync: " + e.err.Error() + " (injected)" }
func (e *journalEIO) Unwrap() error { return e.err }
