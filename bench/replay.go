package bench

// replay.go: replay throughput — the default desk (three accounts, the
// three engines in-process, the real gate, a journal on the measured disk,
// the synchronous matching engine) over the default synthetic session, as
// `deskguard replay` runs it; the floor is the raw generation rate of the
// same trades (market/synth read to the end, nothing else).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
	"github.com/deskguard/deskguard/supervisor"
)

// limited ends a TradeReader after n trades (0 = never).
type limited struct {
	r    market.TradeReader
	n, i int
}

func (l *limited) Next() (market.Trade, error) {
	if l.n > 0 && l.i >= l.n {
		return market.Trade{}, io.EOF
	}
	l.i++
	return l.r.Next()
}

func session(c *config.Config, n int) (market.TradeReader, error) {
	r, err := synth.NewReader(synth.Options{Seed: c.Data.Seed, Regime: synth.Regime(c.Data.Regime)})
	if err != nil {
		return nil, err
	}
	return &limited{r: r, n: n}, nil
}

func replayOnce(ctx context.Context, c *config.Config, dir string, n int) (trades int64, el time.Duration, err error) {
	feed, err := session(c, n)
	if err != nil {
		return 0, 0, err
	}
	path := filepath.Join(dir, "replay.journal")
	defer os.Remove(path)
	clock := market.NewReplayClock(time.Unix(0, 0))
	j, err := journal.Open(path, journal.Options{Clock: clock})
	if err != nil {
		return 0, 0, err
	}
	defer j.Close()
	specs := c.Specs()
	ids := make([]string, len(specs))
	for i, s := range specs {
		ids[i] = s.Config.ID
	}
	venue, err := sim.New(sim.Config{Accounts: ids, Synchronous: true})
	if err != nil {
		return 0, 0, err
	}
	defer venue.Close()
	lim := c.Limits
	lim.MaxDataAge = 0
	d, err := supervisor.New(supervisor.Options{Clock: clock, Journal: supervisor.JournalOf(j), Broker: venue, Limits: lim,
		DeskDrawdownPct: c.Desk.DrawdownPct, Accounts: specs, Engines: c.Strategies, Schedule: c.Schedule,
		Workers: supervisor.InProcess, ManualUnlock: c.Desk.ManualUnlock})
	if err != nil {
		return 0, 0, err
	}
	t := time.Now()
	sum, err := supervisor.Replay(ctx, d, feed, venue, clock)
	el = time.Since(t)
	if err != nil {
		return 0, 0, err
	}
	return sum.Trades, el, nil
}

func generateOnce(c *config.Config, n int) (int64, time.Duration, error) {
	t := time.Now()
	feed, err := session(c, n)
	if err != nil {
		return 0, 0, err
	}
	var k int64
	for {
		_, err := feed.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, err
		}
		k++
	}
	return k, time.Since(t), nil
}

func benchReplay(ctx context.Context, opt Options, dir string) (Figure, error) {
	c := config.Default()
	n := pick(opt.Short, 20000, 0)
	runs := pick(opt.Short, 1, 3)
	var rates, floor []float64
	var trades int64
	for i := 0; i < runs; i++ {
		k, el, err := replayOnce(ctx, c, dir, n)
		if err != nil {
			return Figure{}, err
		}
		trades = k
		rates = append(rates, float64(k)/el.Seconds())
		g, gel, err := generateOnce(c, n)
		if err != nil {
			return Figure{}, err
		}
		if g != k {
			return Figure{}, fmt.Errorf("replayed %d trades but generated %d", k, g)
		}
		floor = append(floor, float64(g)/gel.Seconds())
	}
	f := figure("trades/s", rates, floor, true)
	f.What = fmt.Sprintf("supervisor.Replay of the default desk (3 accounts, orb/vwapmr/delta in-process, gate, journal on disk, "+
		"sync matching engine) over %d trades of synthetic session seed %d (%s), %d run(s)", trades, c.Data.Seed, c.Data.Regime, runs)
	f.Floor = "raw generation rate of the same trades (market/synth to EOF)"
	f.Note = fmt.Sprintf("these %d trades take %.0f ms at the p50 rate", trades, float64(trades)/f.P50*1000)
	return f, nil
}
