// vwapmr_test.go: the VWAP mean reversion rules, fired and near-missed.

package strategies

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

// mrTape: quiet minutes at 5000.00 from 09:30 until the signal minute hm,
// the candle at hm, and one trade in the next minute to close it.
func mrTape(t *testing.T, hm int, o, h, l, c string, buy, sell int64) *tape {
	tp := newTape(t)
	tp.flat(9, 30, hm-(9*60+30), "5000.00", 50, 50)
	tp.bar(hm/60, hm%60, o, h, l, c, buy, sell)
	n := hm + 1
	tp.trade(tp.at(n/60, n%60, 1), market.MustPrice(c), 1, market.Buy)
	return tp
}

func TestVWAPMRShortFires(t *testing.T) {
	tp := mrTape(t, 10*60, "5002.00", "5005.00", "5002.00", "5002.25", 2, 50)
	r := NewRunner("acct", NewVWAPMR(DefaultVWAPMRConfig()))
	out := run(r, tp.trades)
	if len(out) != 1 {
		t.Fatalf("want 1 intent, got %d", len(out))
	}
	in := out[0]
	if err := Validate(in); err != nil {
		t.Fatal(err)
	}
	// the VWAP at the candle's close, recomputed directly from the tape
	var pv, v float64
	for _, tr := range tp.trades[:len(tp.trades)-1] {
		pv += float64(tr.Price) * float64(tr.Size)
		v += float64(tr.Size)
	}
	wantTarget := market.Price(math.Ceil(pv / v))
	want := intent.Intent{
		Kind: intent.Enter, Account: "acct", Strategy: "vwapmr", Time: tp.at(10, 1, 1), Side: market.Sell, Qty: 5,
		EntryType: market.LimitOrder, Entry: market.MustPrice("5002.25"), Stop: market.MustPrice("5005.50"),
		Target: wantTarget, ExpireNs: int64(2 * time.Minute),
	}
	got := in
	got.Reason = ""
	if got != want {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if !strings.HasPrefix(in.Reason, "vwapmr.short: inverted_hammer close 5002.25 after +2σ touch 5005.00, delta -48 < prev 0") {
		t.Fatalf("reason %q", in.Reason)
	}
}

func TestVWAPMRRules(t *testing.T) {
	def := DefaultVWAPMRConfig()
	cases := []struct {
		name       string
		hm         int
		o, h, l, c string
		buy, sell  int64
		cfg        func(*VWAPMRConfig)
		wantSide   market.Side
	}{
		{"wick 2.1x body", 600, "5004.50", "5009.75", "5002.00", "5002.00", 2, 50, nil, market.Sell},
		{"wick 1.9x body", 600, "5004.50", "5009.25", "5002.00", "5002.00", 2, 50, nil, 0},
		{"wick 2.0x body", 600, "5004.50", "5009.50", "5002.00", "5002.00", 2, 50, nil, market.Sell},
		{"close above lower third", 600, "5002.00", "5005.00", "5000.75", "5002.25", 2, 50, nil, 0},
		{"during warm-up", 9*60 + 44, "5002.00", "5005.00", "5002.00", "5002.25", 2, 50, nil, 0},
		{"first bar after warm-up", 9*60 + 45, "5002.00", "5005.00", "5002.00", "5002.25", 2, 50, nil, market.Sell},
		{"delta equal to previous", 600, "5002.00", "5005.00", "5002.00", "5002.25", 50, 50, nil, 0},
		{"close at top of lower third", 600, "5002.00", "5005.00", "5001.00", "5002.25", 2, 50, nil, market.Sell},
		{"reward 4 ticks", 600, "5001.50", "5004.00", "5001.25", "5001.25", 2, 50, nil, 0},
		{"reward 4 ticks, min 4", 600, "5001.50", "5004.00", "5001.25", "5001.25", 2, 50,
			func(c *VWAPMRConfig) { c.MinRewardTicks = 4 }, market.Sell},
		{"long mirror", 600, "4998.00", "4998.00", "4995.00", "4997.75", 50, 2, nil, market.Buy},
		{"long mirror, delta not above", 600, "4998.00", "4998.00", "4995.00", "4997.75", 50, 50, nil, 0},
		{"bar at 15:43 (closes 15:44)", 15*60 + 43, "5002.00", "5005.00", "5002.00", "5002.25", 2, 50, nil, market.Sell},
		{"bar at 15:45 (closes 15:46)", 15*60 + 45, "5002.00", "5005.00", "5002.00", "5002.25", 2, 50, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := def
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			out := runOne(t, NewVWAPMR(cfg), mrTape(t, c.hm, c.o, c.h, c.l, c.c, c.buy, c.sell).trades)
			if c.wantSide == 0 {
				if len(out) != 0 {
					t.Fatalf("want none, got %v", &out[0])
				}
				return
			}
			if len(out) != 1 || out[0].Side != c.wantSide {
				t.Fatalf("want one %v, got %v", c.wantSide, out)
			}
		})
	}
}

func TestVWAPMRSkipsTrendDay(t *testing.T) {
	// VWAP climbs about 1.5 ticks a minute; the same candle 20 ticks above it.
	build := func() *tape {
		tp := newTape(t)
		for i := 0; i < 40; i++ {
			px := market.MustPrice("5000.00") + market.Price(3*i)
			tp.bar(9+(30+i)/60, (30+i)%60, px.String(), (px + 1).String(), (px - 1).String(), px.String(), 50, 50)
		}
		top := market.MustPrice("5000.00") + 3*39
		tp.bar(10, 10, (top + 8).String(), (top + 20).String(), (top + 8).String(), (top + 9).String(), 2, 50)
		tp.trade(tp.at(10, 11, 1), top, 1, market.Buy)
		return tp
	}
	r := NewRunner("acct", NewVWAPMR(DefaultVWAPMRConfig()))
	if out := run(r, build().trades); len(out) != 0 {
		t.Fatalf("trend day: want none, got %v", &out[0])
	}
	if s, _ := r.Indicators().VWAPSlope(30); s <= 1 {
		t.Fatalf("test premise: slope %.2f should exceed 1 tick/min", s)
	}
	cfg := DefaultVWAPMRConfig()
	cfg.MaxSlopeTicks = 10
	if out := runOne(t, NewVWAPMR(cfg), build().trades); len(out) != 1 {
		t.Fatalf("slope allowed: want 1 intent, got %d", len(out))
	}
}
