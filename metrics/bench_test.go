package metrics

// bench_test.go: what the metrics cost the desk's paths — the gate check
// as the supervisor's intent path runs it (two wall-clock reads around
// limits.Gate.Check and an Observer call), with the metrics off (the
// supervisor's no-op Observer) and on (Latency), beside the bare check;
// and a whole synthetic session replayed through the built-in desk with
// the metrics off and on (Latency as the desk's Observer and the journal's
// OnCommit, the desk collector registered and scraped once at the end).
// Run: go test -run '^$' -bench 'GateObserved|ReplayMetrics' -benchmem -count 5 ./metrics
// (BENCHMARKS.md, "Metrics").

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
	"github.com/deskguard/deskguard/strategies"
	"github.com/deskguard/deskguard/supervisor"
)

// nopObserver is the supervisor's Observer when metrics are off (its own
// is unexported; this one is the same: three empty methods).
type nopObserver struct{}

func (nopObserver) GateChecked(time.Duration)      {}
func (nopObserver) KillSent(string, time.Duration) {}
func (nopObserver) KillFlat(time.Duration)         {}

// BenchmarkGateObserved: a long limit entry with its bracket, accepted.
// bare is limits.Gate.Check alone; off and on are the intent path's
// g0 := wall.Now(); Check; Observer.GateChecked(wall.Now().Sub(g0))
// (supervisor/intent.go) with the no-op Observer and with Latency.
func BenchmarkGateObserved(b *testing.B) {
	g, err := limits.NewGate(limits.Config{Windows: map[string]limits.Window{"orb": {From: 600, Until: 690}}})
	if err != nil {
		b.Fatal(err)
	}
	const last = market.Price(20600)
	now := time.Date(2026, 12, 7, 10, 30, 0, 0, market.NewYork).UnixNano()
	s := limits.Snapshot{NowNs: now, LastPrice: last, LastTimeNs: now, AllowanceCents: 15000_00, FeesRTCents: 120}
	s.Rate = g.NewRateLimiter()
	in := intent.Intent{Kind: intent.Enter, Account: "a1", Strategy: "orb", Time: now, Side: market.Buy,
		Qty: 1, EntryType: market.LimitOrder, Entry: last, Stop: last - 8, Target: last + 8}
	if d := g.Check(&s, &in); !d.Allowed {
		b.Fatalf("setup: %v", d)
	}
	lat, err := NewLatency(NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	var wall market.Clock = market.WallClock{}
	for _, c := range []struct {
		name string
		obs  supervisor.Observer // nil = the bare check
	}{{"bare", nil}, {"off", nopObserver{}}, {"on", lat}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if c.obs == nil {
					if d := g.Check(&s, &in); !d.Allowed {
						b.Fatal(d)
					}
					continue
				}
				g0 := wall.Now()
				d := g.Check(&s, &in)
				c.obs.GateChecked(wall.Now().Sub(g0))
				if !d.Allowed {
					b.Fatal(d)
				}
			}
		})
	}
}

// BenchmarkReplayMetrics: one whole synthetic session (seed 1, about a
// million trades) through the built-in three-account desk in-process, the
// real journal and the synchronous sim — supervisor's BenchmarkReplaySession
// — with the metrics off and on. The session is generated once, before
// the clock starts.
func BenchmarkReplayMetrics(b *testing.B) {
	ts, err := synth.Generate(synth.Options{Seed: 1, Scale: 1})
	if err != nil {
		b.Fatal(err)
	}
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				n, el := replayOnce(b, ts, on)
				b.ReportMetric(float64(n)/el.Seconds(), "trades/s")
			}
		})
	}
}

func replayOnce(b *testing.B, ts []market.Trade, on bool) (int64, time.Duration) {
	b.Helper()
	clock := market.NewReplayClock(time.Unix(0, 0))
	reg := NewRegistry()
	jopt := journal.Options{Clock: clock}
	var obs supervisor.Observer
	if on {
		lat, err := NewLatency(reg)
		if err != nil {
			b.Fatal(err)
		}
		jopt.OnCommit, obs = lat.JournalCommit, lat
	}
	j, err := journal.Open(filepath.Join(b.TempDir(), "replay.db"), jopt)
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	var specs []supervisor.AccountSpec
	var ids []string
	for _, a := range []struct{ id, eng string }{{"ORB1", "orb"}, {"VWAP1", "vwapmr"}, {"DELTA1", "delta"}} {
		ids = append(ids, a.id)
		specs = append(specs, supervisor.AccountSpec{DayTrading: true, Config: accounts.Config{ID: a.id,
			StartEquity: decimal.NewFromInt(50000), Strategies: []string{a.eng}}})
	}
	venue, err := sim.New(sim.Config{Accounts: ids, Synchronous: true})
	if err != nil {
		b.Fatal(err)
	}
	defer venue.Close()
	d, err := supervisor.New(supervisor.Options{Clock: clock, Journal: supervisor.JournalOf(j), Broker: venue,
		Accounts: specs, Engines: strategies.DefaultConfig(), Observer: obs})
	if err != nil {
		b.Fatal(err)
	}
	if on {
		reg.MustRegister(NewDesk(DeskOptions{Desk: d}))
	}
	t0 := time.Now()
	sum, err := supervisor.Replay(context.Background(), d, &trades{ts: ts}, venue, clock)
	el := time.Since(t0)
	if err != nil {
		b.Fatal(err)
	}
	if on {
		// One scrape, as Prometheus would at the end: the collector works
		// on the desk the replay left.
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
	return sum.Trades, el
}

// trades is a market.TradeReader over trades in memory.
type trades struct {
	ts []market.Trade
	i  int
}

func (r *trades) Next() (market.Trade, error) {
	if r.i >= len(r.ts) {
		return market.Trade{}, io.EOF
	}
	r.i++
	return r.ts[r.i-1], nil
}
