// runner_test.go: determinism, well-formed intents over random sessions,
// add-on units only in profit, config loading, allocation-free trades and
// the throughput benchmark.

package strategies

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"pgregory.net/rapid"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

func allEngines() []Engine {
	return []Engine{NewORB(DefaultORBConfig()), NewVWAPMR(DefaultVWAPMRConfig()), NewDelta(DefaultDeltaConfig())}
}

func TestDeterministic(t *testing.T) {
	trades := randomSession(42, 50000)
	a := run(NewRunner("x", allEngines()...), trades)
	b := run(NewRunner("x", allEngines()...), trades)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same session twice: %d vs %d intents, or different", len(a), len(b))
	}
	// one runner, the session fed twice as two consecutive days, gives the same intents each day
	next := make([]market.Trade, len(trades))
	day := int64(24 * time.Hour)
	for i, tr := range trades {
		tr.Time += day
		next[i] = tr
	}
	r := NewRunner("x", allEngines()...)
	ab := run(r, append(append([]market.Trade{}, trades...), next...))
	if len(ab) != 2*len(a) {
		t.Fatalf("two days: %d intents, want %d", len(ab), 2*len(a))
	}
	for i := range a {
		x := ab[len(a)+i]
		x.Time -= day
		if !reflect.DeepEqual(a[i], x) {
			t.Fatalf("day 2 intent %d differs: %v vs %v", i, &a[i], &x)
		}
	}
}

// TestWellFormedProperty: whatever the random session, every intent is well
// formed, within the session's entry window, and no engine emits more than
// its one-attempt/one-working-order rules allow.
func TestWellFormedProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		seed := rapid.Uint64().Draw(rt, "seed")
		n := rapid.IntRange(100, 20000).Draw(rt, "n")
		trades := randomSession(seed, n)
		out := run(NewRunner("x", allEngines()...), trades)
		orbSides := map[market.Side]int{}
		noEntry := testSession.At(15, 45).UnixNano()
		for _, in := range out {
			if err := Validate(in); err != nil {
				rt.Fatal(err)
			}
			if in.Kind == intent.Enter && in.Time >= noEntry {
				rt.Fatalf("entry at or after 15:45: %v", &in)
			}
			if !strings.HasPrefix(in.Reason, in.Strategy+".") {
				rt.Fatalf("reason %q does not name %s", in.Reason, in.Strategy)
			}
			if in.Strategy == "orb" {
				orbSides[in.Side]++
				if orbSides[in.Side] > 1 {
					rt.Fatalf("orb: two attempts on %v", in.Side)
				}
			}
		}
	})
}

func TestRunnerNoAllocationWhenQuiet(t *testing.T) {
	trades := randomSession(5, 20000)
	r := NewRunner("x", allEngines()...)
	for _, tr := range trades[:10000] {
		r.OnTrade(tr)
	}
	// a minute of quiet trades within one bar (no bar closes, nothing fires)
	base := trades[10000]
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		tr := base
		tr.Time = base.Time - base.Time%int64(time.Minute) + int64(i%50000)*1000
		i++
		if len(r.OnTrade(tr)) != 0 {
			t.Fatal("unexpected intent")
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per quiet trade", allocs)
	}
}

func TestAddOnOnlyInProfit(t *testing.T) {
	cfg := DefaultDeltaConfig()
	cfg.AddMax = 1
	cfg.AddAfterTicks = 4
	d := NewDelta(cfg)
	r := NewRunner("acct", d)
	tp := divTape(t, 10*60, 0, "5003.25", 0)
	out := run2(r, tp.trades)
	if len(out) != 1 || out[0].Side != market.Sell {
		t.Fatalf("want the short entry, got %v", out)
	}
	entry := out[0]
	now := entry.Time
	if got := r.OnFill("delta", Fill{Side: market.Sell, Qty: 5, Price: entry.Entry, Time: now}); len(got) != 0 {
		t.Fatalf("fill: %v", got)
	}
	at := func(px market.Price) []intent.Intent {
		now += int64(time.Second)
		return r.OnTrade(market.Trade{Time: now, Price: px, Size: 1, Aggressor: market.Sell})
	}
	// at the entry, 3 ticks in profit, and in loss: no add
	for _, px := range []market.Price{entry.Entry, entry.Entry - 3, entry.Entry + 1} {
		if got := at(px); len(got) != 0 {
			t.Fatalf("at %s (not 4 ticks in profit): got %v", px, &got[0])
		}
	}
	got := at(entry.Entry - 4)
	if len(got) != 1 || got[0].Kind != intent.Add || got[0].Side != market.Sell || got[0].Qty != 5 ||
		got[0].Entry != entry.Entry || got[0].Stop != entry.Stop || got[0].Target != entry.Target {
		t.Fatalf("want an add at the average entry with the position's bracket, got %v", got)
	}
	if err := Validate(got[0]); err != nil {
		t.Fatal(err)
	}
	// only one add working, and at most AddMax
	if g := at(entry.Entry - 5); len(g) != 0 {
		t.Fatalf("second add while one works: %v", &g[0])
	}
	r.OnFill("delta", Fill{Side: market.Sell, Qty: 5, Price: entry.Entry, Time: now})
	if g := at(entry.Entry - 6); len(g) != 0 {
		t.Fatalf("add beyond add_max: %v", &g[0])
	}
	// the target fills: flat again; the default config never adds
	r.OnFill("delta", Fill{Side: market.Buy, Qty: 10, Price: entry.Target, Time: now})
	if d.book.pos != 0 || d.book.working {
		t.Fatalf("book after target: %+v", d.book)
	}
	d2 := NewDelta(DefaultDeltaConfig())
	r2 := NewRunner("acct", d2)
	out = run2(r2, tp.trades)
	r2.OnFill("delta", Fill{Side: market.Sell, Qty: 5, Price: out[0].Entry, Time: out[0].Time})
	if g := r2.OnTrade(market.Trade{Time: out[0].Time + 1, Price: out[0].Entry - 7, Size: 1}); len(g) != 0 {
		t.Fatalf("default config added: %v", &g[0])
	}
}

// run2 is run without the final Flush (the session continues).
func run2(r *Runner, trades []market.Trade) []intent.Intent {
	var all []intent.Intent
	for _, t := range trades {
		all = append(all, r.OnTrade(t)...)
	}
	return all
}

func TestEntryWaitsForWorkingOrder(t *testing.T) {
	// While an entry works (not expired, no outcome), no second entry.
	tp := divTape(t, 10*60, 0, "5003.25", 0)
	d := NewDelta(DefaultDeltaConfig())
	r := NewRunner("acct", d)
	run2(r, tp.trades)
	if !d.book.working {
		t.Fatal("entry should be working")
	}
	r.OnOrderDone("delta", "c1", false)
	if d.book.working || !d.book.canEnter() {
		t.Fatal("cancelled entry should free the engine")
	}
}

func TestConfigTOML(t *testing.T) {
	var cfg struct {
		ORB    ORBConfig    `toml:"orb"`
		VWAPMR VWAPMRConfig `toml:"vwapmr"`
		Delta  DeltaConfig  `toml:"delta"`
	}
	cfg.ORB, cfg.VWAPMR, cfg.Delta = DefaultORBConfig(), DefaultVWAPMRConfig(), DefaultDeltaConfig()
	doc := `
[orb]
volume_mult = 1.8
arm_until = "11:00"
qty = 3
add_max = 2
[vwapmr]
max_slope_ticks = 0.5
[delta]
target_ticks = 10
`
	md, err := toml.Decode(doc, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if u := md.Undecoded(); len(u) != 0 {
		t.Fatalf("undecoded keys: %v", u)
	}
	if cfg.ORB.VolumeMult != 1.8 || cfg.ORB.ArmUntil != 11*60 || cfg.ORB.Qty != 3 || cfg.ORB.AddMax != 2 ||
		cfg.ORB.MaxStopTicks != 40 || cfg.VWAPMR.MaxSlopeTicks != 0.5 || cfg.Delta.TargetTicks != 10 {
		t.Fatalf("decoded %+v", cfg)
	}
	for _, err := range []error{cfg.ORB.Validate(), cfg.VWAPMR.Validate(), cfg.Delta.Validate(),
		DefaultORBConfig().Validate(), DefaultVWAPMRConfig().Validate(), DefaultDeltaConfig().Validate()} {
		if err != nil {
			t.Fatal(err)
		}
	}
	bad := DefaultORBConfig()
	bad.Qty = 0
	if bad.Validate() == nil {
		t.Fatal("qty 0 accepted")
	}
	if _, err := toml.Decode(`[orb]`+"\n"+`arm_from = "25:00"`, &cfg); err == nil {
		t.Fatal("bad time of day accepted")
	}
}

func FuzzParseHM(f *testing.F) {
	for _, s := range []string{"09:30", "15:45", "00:00", "23:59", "24:00", "9:30", "ab:cd", "", "12:345", "-1:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHM(s)
		if err != nil {
			return
		}
		if h < 0 || h >= 24*60 || h.String() != s {
			t.Fatalf("%q parsed as %d (%s)", s, h, h)
		}
	})
}

// BenchmarkRunnerAllEngines: trades per second through the indicators and
// all three engines together, over a 200,000-trade random session.
func BenchmarkRunnerAllEngines(b *testing.B) {
	trades := randomSession(99, 200000)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		r := NewRunner("x", allEngines()...)
		for _, t := range trades {
			r.OnTrade(t)
		}
		r.Flush()
		n += len(trades)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "trades/s")
}

func TestConfigEngines(t *testing.T) {
	c := DefaultConfig()
	es, err := c.Engines("all")
	if err != nil || len(es) != 3 || es[0].Name() != "orb" || es[1].Name() != "vwapmr" || es[2].Name() != "delta" {
		t.Fatalf("all: %v %v", es, err)
	}
	var ue *UnknownEngineError
	if _, err := c.Engines("orb", "scalper"); !errors.As(err, &ue) || ue.Name != "scalper" {
		t.Fatalf("unknown engine: %v", err)
	}
	c.Delta.TargetTicks = 0
	if _, err := c.Engines("delta"); err == nil || c.Validate() == nil {
		t.Fatal("bad delta config accepted")
	}
	if _, err := c.Engines("orb"); err != nil {
		t.Fatalf("orb alone should not care about delta's config: %v", err)
	}
}

func TestRunnerSessionEdges(t *testing.T) {
	tp := newTape(t)
	tp.trade(tp.at(9, 29, 59), market.MustPrice("4990.00"), 7, market.Buy) // pre-open: not used
	tp.flat(9, 30, 2, "5000.00", 10, 10)
	tp.flat(15, 58, 2, "5000.00", 10, 10)
	tp.trade(tp.at(16, 0, 0), market.MustPrice("4980.00"), 9, market.Sell) // 16:00: closes the bars, not used
	// the next session's first RTH trade
	next := testSession.At(9, 30).AddDate(0, 0, 1).UnixNano()
	tp.trades = append(tp.trades, market.Trade{Time: next + 1, Price: market.MustPrice("5010.00"), Size: 1, Aggressor: market.Buy})
	p := &probe{}
	r := NewRunner("a", p)
	for _, tr := range tp.trades[:len(tp.trades)-1] {
		r.OnTrade(tr)
	}
	if len(p.bars1) != 4 || len(p.bars5) != 2 {
		t.Fatalf("after 16:00: %d 1m bars, %d 5m bars delivered; want 4 and 2", len(p.bars1), len(p.bars5))
	}
	last := p.bars1[3]
	if time.Unix(0, last.Start).In(market.NewYork).Format("15:04") != "15:59" || last.Volume != 20 {
		t.Fatalf("last bar %v", last)
	}
	if v, _ := r.Indicators().VWAP.Value(); v != float64(market.MustPrice("5000.00")) || r.Indicators().CD != 0 {
		t.Fatalf("pre-open or post-close trades reached the indicators: vwap %.2f cd %d", v, r.Indicators().CD)
	}
	r.OnTrade(tp.trades[len(tp.trades)-1])
	if r.Indicators().Session != (market.Session{Year: 2024, Month: time.March, Day: 6}) || r.Indicators().CD != 1 {
		t.Fatalf("new session not started: %v cd %d", r.Indicators().Session, r.Indicators().CD)
	}
	if got := r.Flush(); len(got) != 0 || len(p.bars1) != 5 {
		t.Fatalf("flush: %d intents, %d bars", len(got), len(p.bars1))
	}
}
