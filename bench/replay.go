package bench

// replay.go: replay throughput — the default desk (three accounts, the
// three engines in-process, the real gate, a journal on the measured disk,
// the synchronous matching engine) over the default synthetic session, as
// `deskguard replay` runs it; the floor is the raw decode rate of the same
// trades: the session encoded once in memory as CSV ticks
// (market.CSVTickWriter) and read back by the real decoder
// (market.OpenTrades), nothing else.

import (
	"bytes"
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

// encodeSession writes the session's trades as CSV ticks, in memory.
func encodeSession(c *config.Config, n int) ([]byte, int64, error) {
	feed, err := session(c, n)
	if err != nil {
		return nil, 0, err
	}
	var buf bytes.Buffer
	w := market.NewCSVTickWriter(&buf)
	var k int64
	for {
		t, err := feed.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		if err := w.Write(t); err != nil {
			return nil, 0, err
		}
		k++
	}
	if err := w.Flush(); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), k, nil
}

// decodeOnce reads the encoded session to the end with the real decoder.
// With check it also compares every trade with the session's own (untimed
// use only: the comparison regenerates the session).
func decodeOnce(c *config.Config, n int, data []byte, check bool) (int64, time.Duration, error) {
	var want market.TradeReader
	if check {
		var err error
		if want, err = session(c, n); err != nil {
			return 0, 0, err
		}
	}
	t := time.Now()
	feed, err := market.OpenTrades(bytes.NewReader(data), "session.csv")
	if err != nil {
		return 0, 0, err
	}
	defer feed.Close()
	var k int64
	for {
		tr, err := feed.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, err
		}
		k++
		if check {
			if w, err := want.Next(); err != nil || w != tr {
				return 0, 0, fmt.Errorf("decoded trade %d %+v, the session has %+v (%v)", k, tr, w, err)
			}
		}
	}
	return k, time.Since(t), nil
}

func benchReplay(ctx context.Context, opt Options, dir string) (Figure, error) {
	c := config.Default()
	n := pick(opt.Short, 20000, 0)
	runs := pick(opt.Short, 1, 3)
	var rates, floor []float64
	var trades int64
	data, _, err := encodeSession(c, n)
	if err != nil {
		return Figure{}, err
	}
	if _, _, err := decodeOnce(c, n, data, true); err != nil { // the floor decodes the very trades replayed
		return Figure{}, err
	}
	for i := 0; i < runs; i++ {
		k, el, err := replayOnce(ctx, c, dir, n)
		if err != nil {
			return Figure{}, err
		}
		trades = k
		rates = append(rates, float64(k)/el.Seconds())
		g, gel, err := decodeOnce(c, n, data, false)
		if err != nil {
			return Figure{}, err
		}
		if g != k {
			return Figure{}, fmt.Errorf("replayed %d trades but decoded %d", k, g)
		}
		floor = append(floor, float64(g)/gel.Seconds())
	}
	f := figure("trades/s", rates, floor, true)
	f.What = fmt.Sprintf("supervisor.Replay of the default desk (3 accounts, orb/vwapmr/delta in-process, gate, journal on disk, "+
		"sync matching engine) over %d trades of synthetic session seed %d (%s), %d run(s)", trades, c.Data.Seed, c.Data.Regime, runs)
	f.Floor = fmt.Sprintf("raw decode rate of the same trades: CSV ticks in memory (%.0f MB, market.CSVTickWriter) read to EOF by market.OpenTrades",
		float64(len(data))/1e6)
	f.Note = fmt.Sprintf("these %d trades take %.0f ms at the p50 rate", trades, float64(trades)/f.P50*1000)
	return f, nil
}
