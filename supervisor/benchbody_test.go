package supervisor

// benchbody_test.go: the bodies of the supervisor's `go test -bench`
// figures (bench_test.go; `deskguard bench` has its own, package bench): the kill (trigger → liquidate
// requests sent for every account, with and without the journal fsync),
// the tick round trip through a worker process beside a raw pipe round
// trip, and replay throughput. Percentiles from HdrHistogram.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
	"github.com/deskguard/deskguard/strategies"
	"github.com/deskguard/deskguard/supervisor/wire"
	"github.com/deskguard/deskguard/supervisor/workerhost"
)

// Percentiles is a latency distribution's summary.
type Percentiles struct {
	N        int64
	P50, P99 time.Duration
	Max      time.Duration
}

func percentiles(h *hdrhistogram.Histogram) Percentiles {
	return Percentiles{N: h.TotalCount(), P50: time.Duration(h.ValueAtQuantile(50)), P99: time.Duration(h.ValueAtQuantile(99)),
		Max: time.Duration(h.Max())}
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, int64(10*time.Second), 3) }

// KillBench is BenchKill's result.
type KillBench struct {
	Accounts int
	Sent     Percentiles // trigger → every liquidate request returned, journal fsync excluded
	Total    Percentiles // trigger → every liquidate request returned, journal fsync included
}

// BenchKill measures n kills (at most 300: the kills walk through the
// trading day 15 s of market time apart) of a desk of accounts accounts, each holding a
// one-lot position with its bracket, on a real journal in dir and the sim;
// the desk is flattened, confirmed flat and re-armed between kills.
func BenchKill(dir string, accountsN, n int) (KillBench, error) {
	ctx := context.Background()
	clock := market.NewReplayClock(time.Date(2024, 3, 12, 10, 0, 0, 0, market.NewYork))
	j, err := journal.Open(filepath.Join(dir, "bench-kill.db"), journal.Options{Clock: clock})
	if err != nil {
		return KillBench{}, err
	}
	defer j.Close()
	var specs []AccountSpec
	var ids []string
	for i := 0; i < accountsN; i++ {
		id := fmt.Sprintf("K%02d", i)
		ids = append(ids, id)
		specs = append(specs, AccountSpec{Config: accounts.Config{ID: id, StartEquity: decimal.NewFromInt(50000), Strategies: []string{"orb"}}})
	}
	venue, err := sim.New(sim.Config{Accounts: ids, Synchronous: true})
	if err != nil {
		return KillBench{}, err
	}
	defer venue.Close()
	d, err := New(Options{Clock: clock, Journal: JournalOf(j), Broker: venue, Accounts: specs, Engines: strategies.DefaultConfig(),
		// The same round trip every kill, as many as b.N asks: the day's
		// trade and order counts and the losing streak stay out of the way.
		Limits:   limits.Config{DailyTradeLimit: 1 << 30, DailyOrderLimit: 1 << 30, LossStreak: 1 << 30},
		Schedule: ScheduleConfig{SessionReset: "off", NoNewEntries: "off", FlattenDay: "off", DailySummary: "off"}})
	if err != nil {
		return KillBench{}, err
	}
	now := clock.Now().UnixNano()
	step := func(px market.Price) error {
		now += int64(5 * time.Second) // 15 s a kill: clear of the order-rate limits
		tr := market.Trade{Time: now, Price: px, Size: 100, Aggressor: market.Buy}
		clock.Advance(now)
		venue.OnTrade(tr)
		if err := d.drainSync(ctx, venue); err != nil {
			return err
		}
		d.OnTrades(ctx, []market.Trade{tr})
		return d.drainSync(ctx, venue)
	}
	if err := d.Start(ctx); err != nil {
		return KillBench{}, err
	}
	n = min(n, 300)
	const px = market.Price(20000)
	sent, total := newHist(), newHist()
	for i := 0; i < n; i++ {
		if err := step(px + 1); err != nil {
			return KillBench{}, err
		}
		for _, id := range ids {
			res := d.HandleIntent(ctx, intent.Intent{Kind: intent.Enter, Account: id, Strategy: "bench", Side: market.Buy, Qty: 1,
				EntryType: market.LimitOrder, Entry: px + 1, Stop: px - 3, Target: px + 9, Reason: "bench"})
			if !res.Sent {
				return KillBench{}, fmt.Errorf("bench kill: entry %s refused: %s", id, res.Decision.Reason)
			}
		}
		if err := step(px + 1); err != nil { // fills every entry, arms the brackets
			return KillBench{}, err
		}
		rep, err := d.FlattenReport(ctx, "", "bench", "bench")
		if err != nil {
			return KillBench{}, err
		}
		_ = sent.RecordValue(int64(rep.SentNs))
		_ = total.RecordValue(int64(rep.TotalNs))
		if err := step(px + 1); err != nil { // fills the liquidations
			return KillBench{}, err
		}
		if d.m.State() != DeskHalted {
			return KillBench{}, fmt.Errorf("bench kill: desk %s after the liquidations filled", d.m.State())
		}
		if err := d.Rearm(ctx, "bench", "bench"); err != nil {
			return KillBench{}, err
		}
	}
	return KillBench{Accounts: accountsN, Sent: percentiles(sent), Total: percentiles(total)}, nil
}

// WorkerBench is BenchWorker's result.
type WorkerBench struct {
	Worker Percentiles // one tick frame → the worker's answer (its intents written, barrier pong read)
	Pipe   Percentiles // the same frame through a raw pipe (`cat`) and back
}

// BenchWorker measures n tick round trips through one worker process
// started from cfg (the real `deskguard worker` with the engines), beside
// n round trips of the same frame through a `cat` child in the same run.
func BenchWorker(cfg ProcConfig, n int) (WorkerBench, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan workerhost.WorkerEvent, 1<<16)
	go func() { // drain intents
		for {
			select {
			case <-events:
			case <-ctx.Done():
				return
			}
		}
	}()
	engines, _ := jsonMarshal(strategies.DefaultConfig())
	h := workerhost.NewProcHost("BENCH", cfg, func(r int) wire.HelloMsg {
		return wire.HelloMsg{Account: "BENCH", Strategies: strategies.Names[:], Config: engines, Restart: r}
	}, nil, events, slog.New(slog.DiscardHandler), nil)
	go h.Run(ctx)
	defer func() { cancel(); <-h.Done() }()
	rctx, rcancel := context.WithTimeout(ctx, 20*time.Second)
	defer rcancel()
	if err := h.Ready(rctx); err != nil {
		return WorkerBench{}, err
	}
	ts, err := synth.Generate(synth.Options{Seed: 1, Scale: 0.05})
	if err != nil {
		return WorkerBench{}, err
	}
	whist := newHist()
	var frame []byte
	for i := 0; i < n; i++ {
		frame = wire.AppendTicks(frame[:0], ts[i%len(ts):i%len(ts)+1])
		t0 := time.Now()
		h.Send(wire.Ticks, append([]byte(nil), frame...))
		if err := h.Sync(rctx); err != nil {
			return WorkerBench{}, fmt.Errorf("bench worker: %w", err)
		}
		_ = whist.RecordValue(int64(time.Since(t0)))
	}
	phist, err := pipeRoundTrips(frame, n)
	if err != nil {
		return WorkerBench{}, err
	}
	return WorkerBench{Worker: percentiles(whist), Pipe: percentiles(phist)}, nil
}

// pipeRoundTrips sends a frame (plus a ping frame, as the barrier does)
// through `cat` n times and reads both back.
func pipeRoundTrips(frame []byte, n int) (*hdrhistogram.Histogram, error) {
	cmd := exec.Command("cat")
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench pipe: %w", err)
	}
	defer func() { _ = in.Close(); _ = cmd.Wait() }()
	w, r := wire.NewWriter(in), wire.NewReader(out)
	ping, _ := jsonMarshal(wire.PingMsg{N: 1})
	h := newHist()
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if err := w.Write(wire.Ticks, frame); err != nil {
			return nil, err
		}
		if err := w.Write(wire.Ping, ping); err != nil {
			return nil, err
		}
		if err := w.Flush(); err != nil {
			return nil, err
		}
		for k := 0; k < 2; k++ {
			if _, _, err := r.Read(); err != nil {
				if err == io.EOF {
					return nil, fmt.Errorf("bench pipe: cat ended")
				}
				return nil, err
			}
		}
		_ = h.RecordValue(int64(time.Since(t0)))
	}
	return h, nil
}

// ReplayBench is BenchReplay's result.
type ReplayBench struct {
	Trades       int64
	Elapsed      time.Duration
	TradesPerSec float64
	Summary      Summary
}

// BenchReplay replays one whole synthetic session (seed, scale 1 = about
// a million trades) through the built-in three-account desk in-process,
// with the real journal in dir and the sim.
func BenchReplay(dir string, seed int64, scale float64) (ReplayBench, error) {
	// The session is generated before the clock starts: the figure is the
	// desk's, not the generator's.
	ts, err := synth.Generate(synth.Options{Seed: seed, Scale: scale})
	if err != nil {
		return ReplayBench{}, err
	}
	src := &tradeSlice{ts: ts}
	clock := market.NewReplayClock(time.Unix(0, 0))
	j, err := journal.Open(filepath.Join(dir, "bench-replay.db"), journal.Options{Clock: clock})
	if err != nil {
		return ReplayBench{}, err
	}
	defer j.Close()
	var specs []AccountSpec
	var ids []string
	for _, a := range []struct{ id, eng string }{{"ORB1", "orb"}, {"VWAP1", "vwapmr"}, {"DELTA1", "delta"}} {
		ids = append(ids, a.id)
		specs = append(specs, AccountSpec{DayTrading: true, Config: accounts.Config{ID: a.id, StartEquity: decimal.NewFromInt(50000),
			Strategies: []string{a.eng}}})
	}
	venue, err := sim.New(sim.Config{Accounts: ids, Synchronous: true})
	if err != nil {
		return ReplayBench{}, err
	}
	defer venue.Close()
	d, err := New(Options{Clock: clock, Journal: JournalOf(j), Broker: venue, Accounts: specs, Engines: strategies.DefaultConfig()})
	if err != nil {
		return ReplayBench{}, err
	}
	t0 := time.Now()
	sum, err := Replay(context.Background(), d, src, venue, clock)
	el := time.Since(t0)
	if err != nil {
		return ReplayBench{}, err
	}
	return ReplayBench{Trades: sum.Trades, Elapsed: el, TradesPerSec: float64(sum.Trades) / el.Seconds(), Summary: sum}, nil
}

// tradeSlice is a market.TradeReader over trades in memory.
type tradeSlice struct {
	ts []market.Trade
	i  int
}

func (r *tradeSlice) Next() (market.Trade, error) {
	if r.i >= len(r.ts) {
		return market.Trade{}, io.EOF
	}
	r.i++
	return r.ts[r.i-1], nil
}
