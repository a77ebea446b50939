// Tests of Bar and BarBuilder: OHLCV, aggressor volumes and delta, period
// alignment, and the bars-built-per-second benchmark.

package market

import (
	"math/rand/v2"
	"testing"
	"time"
)

// barT is a trade at 2024-03-12 hh:mm:ss.ns New York (EDT).
func barT(hh, mm, ss, ns int, price string, size int64, side Side) Trade {
	at := time.Date(2024, 3, 12, hh, mm, ss, ns, NewYork)
	return Trade{Time: at.UnixNano(), Price: MustPrice(price), Size: size, Aggressor: side}
}

func buildBars(period time.Duration, trades []Trade) []Bar {
	b := NewBarBuilder(period)
	var out []Bar
	for _, t := range trades {
		if bar, ok := b.Add(t); ok {
			out = append(out, bar)
		}
	}
	if bar, ok := b.Flush(); ok {
		out = append(out, bar)
	}
	return out
}

func TestBarBuilder(t *testing.T) {
	trades := []Trade{
		barT(9, 30, 0, 0, "5150.00", 2, Buy), // exactly on the boundary: first bar
		barT(9, 30, 10, 0, "5151.00", 3, Buy),
		barT(9, 30, 20, 0, "5149.50", 4, Sell),
		barT(9, 30, 59, 999_999_999, "5150.25", 1, Unknown),
		barT(9, 31, 0, 0, "5150.50", 5, Sell), // next minute
		barT(9, 31, 30, 0, "5150.75", 1, Buy),
		barT(9, 34, 59, 0, "5152.00", 7, Buy), // 09:32–09:33 have no trades: no bars
		barT(9, 35, 0, 1, "5151.75", 2, Sell), // next five-minute bar
	}
	type want struct {
		start                 string // New York hh:mm
		o, h, l, c            string
		vol, buy, sell, delta int64
		trades                int64
	}
	for _, tc := range []struct {
		period time.Duration
		bars   []want
	}{
		{time.Minute, []want{
			{"09:30", "5150.00", "5151.00", "5149.50", "5150.25", 10, 5, 4, 1, 4},
			{"09:31", "5150.50", "5150.75", "5150.50", "5150.75", 6, 1, 5, -4, 2},
			{"09:34", "5152.00", "5152.00", "5152.00", "5152.00", 7, 7, 0, 7, 1},
			{"09:35", "5151.75", "5151.75", "5151.75", "5151.75", 2, 0, 2, -2, 1},
		}},
		{5 * time.Minute, []want{
			{"09:30", "5150.00", "5152.00", "5149.50", "5152.00", 23, 13, 9, 4, 7},
			{"09:35", "5151.75", "5151.75", "5151.75", "5151.75", 2, 0, 2, -2, 1},
		}},
	} {
		t.Run(tc.period.String(), func(t *testing.T) {
			got := buildBars(tc.period, trades)
			if len(got) != len(tc.bars) {
				t.Fatalf("%d bars, want %d: %v", len(got), len(tc.bars), got)
			}
			for i, w := range tc.bars {
				g := got[i]
				start := time.Unix(0, g.Start).In(NewYork).Format("15:04")
				if start != w.start || g.Period != tc.period || g.End() != g.Start+int64(tc.period) ||
					g.Open != MustPrice(w.o) || g.High != MustPrice(w.h) || g.Low != MustPrice(w.l) || g.Close != MustPrice(w.c) ||
					g.Volume != w.vol || g.BuyVolume != w.buy || g.SellVolume != w.sell || g.Delta != w.delta || g.Trades != w.trades {
					t.Errorf("bar %d = %v (start %s buy %d sell %d trades %d), want %+v", i, g, start, g.BuyVolume, g.SellVolume, g.Trades, w)
				}
				if g.Start%int64(tc.period) != 0 {
					t.Errorf("bar %d start %d not aligned to %v", i, g.Start, tc.period)
				}
			}
		})
	}
}

func TestBarBuilderCurrentAndFlush(t *testing.T) {
	b := NewBarBuilder(time.Minute)
	if _, ok := b.Current(); ok {
		t.Fatal("empty builder has a current bar")
	}
	if _, ok := b.Flush(); ok {
		t.Fatal("empty builder flushed a bar")
	}
	if _, closed := b.Add(barT(10, 0, 1, 0, "5000.00", 1, Buy)); closed {
		t.Fatal("first trade closed a bar")
	}
	cur, ok := b.Current()
	if !ok || cur.Volume != 1 || cur.Close != MustPrice("5000") {
		t.Fatalf("Current = %v, %v", cur, ok)
	}
	if bar, ok := b.Flush(); !ok || bar != cur {
		t.Fatalf("Flush = %v, %v", bar, ok)
	}
	if _, ok := b.Flush(); ok {
		t.Fatal("second Flush returned a bar")
	}
	// After a flush the next trade starts a fresh bar, even in the same minute.
	b.Add(barT(10, 0, 2, 0, "5001.00", 4, Sell))
	if cur, _ := b.Current(); cur.Open != MustPrice("5001") || cur.Volume != 4 || cur.Delta != -4 {
		t.Fatalf("bar after flush = %v", cur)
	}
}

// TestBarAlignmentAcrossDST: one- and five-minute bars start on New York
// minute boundaries on both sides of a DST change.
func TestBarAlignmentAcrossDST(t *testing.T) {
	for _, day := range []time.Time{
		time.Date(2024, 3, 8, 9, 32, 17, 0, NewYork),  // EST
		time.Date(2024, 3, 11, 9, 32, 17, 0, NewYork), // EDT
	} {
		for _, p := range []time.Duration{time.Minute, 5 * time.Minute} {
			b := NewBarBuilder(p)
			b.Add(Trade{Time: day.UnixNano(), Price: 1, Size: 1})
			cur, _ := b.Current()
			got := time.Unix(0, cur.Start).In(NewYork).Format("15:04:05")
			want := map[time.Duration]string{time.Minute: "09:32:00", 5 * time.Minute: "09:30:00"}[p]
			if got != want {
				t.Errorf("%s %v bar starts %s, want %s", day.Format("2006-01-02"), p, got, want)
			}
		}
	}
}

func TestBarString(t *testing.T) {
	b := Bar{Start: time.Date(2024, 3, 12, 13, 30, 0, 0, time.UTC).UnixNano(), Period: time.Minute,
		Open: 20600, High: 20604, Low: 20599, Close: 20601, Volume: 10, Delta: -2}
	want := "2024-03-12T13:30:00Z 1m0s O5150.00 H5151.00 L5149.75 C5150.25 V10 D-2"
	if b.String() != want {
		t.Errorf("String() = %q, want %q", b.String(), want)
	}
}

// BenchmarkBarBuilder folds a session of a million trades (about 2,600 a
// minute, as a busy RTH) into one- and five-minute bars.
func BenchmarkBarBuilder(b *testing.B) {
	const n = 1 << 20
	rng := rand.New(rand.NewPCG(1, 2))
	trades := make([]Trade, n)
	at := time.Date(2024, 3, 12, 9, 30, 0, 0, NewYork).UnixNano()
	px := MustPrice("5150")
	for i := range trades {
		at += int64(rng.ExpFloat64() * 22e3 * 1e3) // mean 22 µs
		px += Price(rng.IntN(3) - 1)
		trades[i] = Trade{Time: at, Price: px, Size: 1 + rng.Int64N(5), Aggressor: Side(rng.IntN(2)*2 - 1), Seq: uint64(i)}
	}
	var bars int
	for b.Loop() {
		one, five := NewBarBuilder(time.Minute), NewBarBuilder(5*time.Minute)
		for _, t := range trades {
			if _, ok := one.Add(t); ok {
				bars++
			}
			if _, ok := five.Add(t); ok {
				bars++
			}
		}
	}
	if bars == 0 {
		b.Fatal("no bars")
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "trades/s")
}
