package drill

// journalfull.go: the journal on a disk that fills up (journal MaxSize):
// from the first failed append no entry may reach the venue, the desk goes
// degraded, and a kill still flattens every account.

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/deskguard/deskguard/supervisor"
)

// failWatch remembers whether an append has failed.
type failWatch struct {
	supervisor.Journal
	failed atomic.Bool
}

func (f *failWatch) Append(ctx context.Context, e supervisor.Entry) (uint64, error) {
	seq, err := f.Journal.Append(ctx, e)
	if err != nil && !errors.Is(err, errCrashed) {
		f.failed.Store(true)
	}
	return seq, err
}

func runJournalFull(ctx context.Context, o *Options, seed int64, dir string) (round, error) {
	var rd round
	ts, err := sessionTrades(seed, o.Scale)
	if err != nil {
		return rd, err
	}
	body, tail := split(ts)
	rng := newRand(seed)
	// Big enough to start and trade a while, small enough to fill mid-session.
	size := 96<<10 + rng.IntN(160<<10)
	r, err := newRig(ctx, rigOpt{Dir: dir, Log: o.Log, Start: time.Unix(0, ts[0].Time), MaxSize: size})
	if err != nil {
		return rd, err
	}
	fw := &failWatch{Journal: r.jp.j}
	r.jp.j = fw
	c := newChecker(r)
	var after int
	r.p.before = func() error {
		if fw.failed.Load() {
			after++
			c.violate(nil, "", "an entry reached the venue after the journal failed (%d so far)", after)
		}
		return nil
	}
	ch := &chaos{rng: newRand(seed + 1), every: 1 + len(body)/300}
	if _, err := play(ctx, r, c, ch, body, nil); err != nil {
		r.close()
		return rd, err
	}
	if fw.failed.Load() {
		rd.faults++
		if st := r.d.Status(ctx).State; st != "degraded" && st != "halting" && st != "halted" {
			c.violate(nil, "", "journal failed but the desk is %s, not degraded", st)
		}
	}
	return rd, endRound(ctx, r, c, tail, &rd)
}
