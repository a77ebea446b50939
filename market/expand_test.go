// Tests of the bar → trade path expansion.

package market

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestExpandBar(t *testing.T) {
	p := MustPrice
	const s = int64(1_700_000_040_000_000_000)
	bar := func(o, h, l, c string, v int64) Bar {
		return Bar{Start: s, Period: time.Minute, Open: p(o), High: p(h), Low: p(l), Close: p(c), Volume: v}
	}
	type tr struct {
		px   string
		size int64
	}
	cases := []struct {
		name string
		bar  Bar
		want []tr
	}{
		{"high nearer", bar("100", "101", "98", "99", 8), []tr{{"100", 2}, {"101", 2}, {"98", 2}, {"99", 2}}},
		{"low nearer", bar("100", "103", "99.5", "102", 10), []tr{{"100", 3}, {"99.5", 3}, {"103", 2}, {"102", 2}}},
		{"tie goes low first", bar("100", "101", "99", "100", 4), []tr{{"100", 1}, {"99", 1}, {"101", 1}, {"100", 1}}},
		{"open is the low", bar("100", "102", "100", "101", 7), []tr{{"100", 3}, {"102", 2}, {"101", 2}}},
		{"flat bar", bar("100", "100", "100", "100", 5), []tr{{"100", 5}}},
		{"close at the far extreme", bar("100", "100.25", "99", "99", 3), []tr{{"100", 1}, {"100.25", 1}, {"99", 1}}},
		{"one lot: nearer extreme only", bar("100", "101", "98", "99", 1), []tr{{"101", 1}}},
		{"two lots: both extremes", bar("100", "101", "98", "99", 2), []tr{{"101", 1}, {"98", 1}}},
		{"three lots: extremes and close", bar("100", "101", "98", "99", 3), []tr{{"101", 1}, {"98", 1}, {"99", 1}}},
		{"zero volume", bar("100", "101", "98", "99", 0), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ExpandBar(nil, c.bar)
			if len(got) != len(c.want) {
				t.Fatalf("%+v, want %v", got, c.want)
			}
			for i, w := range c.want {
				if got[i].Price != p(w.px) || got[i].Size != w.size || got[i].Aggressor != Unknown {
					t.Errorf("trade %d = %s×%d, want %s×%d", i, got[i].Price, got[i].Size, w.px, w.size)
				}
				if want := s + int64(i)*int64(time.Minute)/int64(len(c.want)); got[i].Time != want {
					t.Errorf("trade %d at %d, want %d", i, got[i].Time, want)
				}
			}
		})
	}
}

func TestExpandBarProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		l := Price(rapid.Int64Range(1, 40000).Draw(t, "low"))
		h := l + Price(rapid.Int64Range(0, 40).Draw(t, "range"))
		o := l + Price(rapid.Int64Range(0, int64(h-l)).Draw(t, "o"))
		c := l + Price(rapid.Int64Range(0, int64(h-l)).Draw(t, "c"))
		v := rapid.Int64Range(0, 5000).Draw(t, "v")
		b := Bar{Start: 60_000_000_000 * rapid.Int64Range(0, 1e8).Draw(t, "m"), Period: time.Minute, Open: o, High: h, Low: l, Close: c, Volume: v}
		got := ExpandBar(nil, b)
		var sum int64
		var hiSeen, loSeen bool
		for i, tr := range got {
			sum += tr.Size
			if tr.Size <= 0 || tr.Price < l || tr.Price > h || tr.Time < b.Start || tr.Time >= b.End() || (i > 0 && tr.Time <= got[i-1].Time) {
				t.Fatalf("bad trade %d %+v of %v", i, tr, b)
			}
			hiSeen = hiSeen || tr.Price == h
			loSeen = loSeen || tr.Price == l
		}
		if sum != v {
			t.Fatalf("volume %d, want %d", sum, v)
		}
		if v >= 2 && (!hiSeen || !loSeen) {
			t.Fatalf("range not traded: %+v of %v", got, b)
		}
		if v >= 4 && (got[0].Price != o || got[len(got)-1].Price != c) {
			t.Fatalf("path does not open at the open and close at the close: %+v of %v", got, b)
		}
	})
}
