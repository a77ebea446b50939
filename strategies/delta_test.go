// delta_test.go: the cumulative delta divergence rules, fired and
// near-missed.

package strategies

import (
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

// divTape: from start (minutes after midnight ET), five bars making a swing
// high of 5003.00 at start+2 (CD 0, +10, +20, +15, +10 at their closes),
// then gap quiet bars, then a bar to 5003.25 closing at 5002.50 whose delta
// is sigDelta (CD at its close 10 + sigDelta), then one trade to close it.
func divTape(t *testing.T, start, gap int, sigHigh string, sigDelta int64) *tape {
	tp := newTape(t)
	if start > 9*60+30 {
		tp.flat(9, 30, start-(9*60+30), "4999.00", 20, 20)
	}
	hm := func(i int) (int, int) { m := start + i; return m / 60, m % 60 }
	h, m := hm(0)
	tp.bar(h, m, "5000.00", "5000.50", "4999.50", "5000.00", 10, 10)
	h, m = hm(1)
	tp.bar(h, m, "5000.00", "5001.00", "4999.75", "5000.75", 20, 10)
	h, m = hm(2)
	tp.bar(h, m, "5000.75", "5003.00", "5000.50", "5002.00", 20, 10)
	h, m = hm(3)
	tp.bar(h, m, "5001.00", "5001.00", "5000.25", "5000.50", 5, 10)
	h, m = hm(4)
	tp.bar(h, m, "5000.50", "5000.50", "4999.75", "5000.00", 5, 10)
	for i := 0; i < gap; i++ {
		h, m = hm(5 + i)
		tp.bar(h, m, "5000.00", "5000.25", "4999.75", "5000.00", 10, 10)
	}
	h, m = hm(5 + gap)
	buy, sell := int64(20)+max(sigDelta, 0), int64(20)+max(-sigDelta, 0)
	tp.bar(h, m, "5000.25", sigHigh, "5000.25", "5002.50", buy, sell)
	h, m = hm(6 + gap)
	tp.trade(tp.at(h, m, 1), market.MustPrice("5002.50"), 1, market.Buy)
	return tp
}

func TestDeltaBearishDivergence(t *testing.T) {
	const start = 10 * 60
	cases := []struct {
		name  string
		start int
		gap   int
		high  string
		delta int64
		fire  bool
	}{
		{"CD equal at the new high", start, 0, "5003.25", 10, true},
		{"CD one above", start, 0, "5003.25", 11, false},
		{"CD below", start, 0, "5003.25", -30, true},
		{"high only equal to the swing", start, 0, "5003.00", 0, false},
		{"risk 8 ticks", start, 0, "5004.00", 0, true},  // stop 5004.50 − close 5002.50 = 8 ticks
		{"risk 9 ticks", start, 0, "5004.25", 0, false}, // 9 ticks
		{"swing bar 30 minutes before", start, 27, "5003.25", 0, true},
		{"swing bar 31 minutes before", start, 28, "5003.25", 0, false},
		{"signal bar at 15:43 (closes 15:44)", 15*60 + 38, 0, "5003.25", 0, true},
		{"signal bar at 15:45 (closes 15:46)", 15*60 + 40, 0, "5003.25", 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tp := divTape(t, c.start, c.gap, c.high, c.delta)
			out := runOne(t, NewDelta(DefaultDeltaConfig()), tp.trades)
			if !c.fire {
				if len(out) != 0 {
					t.Fatalf("want none, got %v", &out[0])
				}
				return
			}
			if len(out) != 1 {
				t.Fatalf("want 1 intent, got %d", len(out))
			}
			in := out[0]
			hi := market.MustPrice(c.high)
			sig := c.start + 5 + c.gap + 1
			want := intent.Intent{
				Kind: intent.Enter, Account: "acct", Strategy: "delta", Time: tp.at(sig/60, sig%60, 1), Side: market.Sell,
				Qty: 5, EntryType: market.LimitOrder, Entry: market.MustPrice("5002.50"), Stop: hi + 2,
				Target: market.MustPrice("5000.50"), ExpireNs: int64(2 * time.Minute),
			}
			got := in
			got.Reason = ""
			if got != want {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
			if !strings.HasPrefix(in.Reason, "delta.bear: high "+c.high+" > swing high 5003.00 at ") {
				t.Fatalf("reason %q", in.Reason)
			}
		})
	}
}

func TestDeltaBullishMirror(t *testing.T) {
	tp := newTape(t)
	tp.bar(10, 0, "5000.00", "5000.50", "4999.50", "5000.00", 10, 10) // cd 0
	tp.bar(10, 1, "5000.00", "5000.25", "4999.00", "4999.25", 10, 20) // -10
	tp.bar(10, 2, "4999.25", "4999.50", "4997.00", "4998.00", 10, 20) // -20, swing low 4997.00
	tp.bar(10, 3, "4998.00", "4999.75", "4998.00", "4999.50", 10, 5)  // -15
	tp.bar(10, 4, "4999.50", "5000.25", "4999.50", "5000.00", 10, 5)  // -10
	tp.bar(10, 5, "4999.75", "4999.75", "4996.75", "4997.50", 20, 30) // -20 = CD at the swing: fires
	tp.trade(tp.at(10, 6, 1), market.MustPrice("4997.50"), 1, market.Buy)
	out := runOne(t, NewDelta(DefaultDeltaConfig()), tp.trades)
	if len(out) != 1 || out[0].Side != market.Buy || out[0].Entry != market.MustPrice("4997.50") ||
		out[0].Stop != market.MustPrice("4996.25") || out[0].Target != market.MustPrice("4999.50") {
		t.Fatalf("want one long 4997.50 stop 4996.25 target 4999.50, got %v", out)
	}
}

func TestDeltaOneSignalPerSwing(t *testing.T) {
	tp := divTape(t, 10*60, 0, "5003.25", 0)
	// two more new highs above the same swing, both diverging: no second
	// signal on that swing even after the first entry expires.
	tp.bar(10, 7, "5002.50", "5003.50", "5002.25", "5002.75", 20, 20)
	tp.bar(10, 12, "5002.50", "5003.50", "5002.25", "5002.75", 20, 20)
	tp.trade(tp.at(10, 13, 1), market.MustPrice("5002.50"), 1, market.Buy)
	if out := runOne(t, NewDelta(DefaultDeltaConfig()), tp.trades); len(out) != 1 {
		t.Fatalf("want 1 intent, got %d", len(out))
	}
}

func TestDeltaNeedsANewHighSinceTheSwing(t *testing.T) {
	// First break of 5003.00 at 10:05 to 5004.00 with strong buying (no
	// divergence). Then at 10:06 a bar to 5003.50 with CD back below the
	// swing's: above the swing high but not a new high since: no signal.
	// At 10:07 a bar to 5004.25 (a new high) with CD still below: signal.
	build := func(third bool) *tape {
		tp := divTape(t, 10*60, 0, "5004.00", 40) // CD 50 at 10:05 close
		tp.trades = tp.trades[:len(tp.trades)-1]
		tp.bar(10, 6, "5002.50", "5003.50", "5002.25", "5003.00", 10, 45) // CD 15 ≤ 20
		if third {
			tp.bar(10, 7, "5003.00", "5004.25", "5002.75", "5003.50", 10, 11) // CD 14, high 5004.25
		}
		tp.trade(tp.at(10, 9, 1), market.MustPrice("5003.00"), 1, market.Buy)
		return tp
	}
	if out := runOne(t, NewDelta(DefaultDeltaConfig()), build(false).trades); len(out) != 0 {
		t.Fatalf("below the highest high since the swing: want none, got %v", &out[0])
	}
	out := runOne(t, NewDelta(DefaultDeltaConfig()), build(true).trades)
	if len(out) != 1 || out[0].Entry != market.MustPrice("5003.50") || out[0].Stop != market.MustPrice("5004.75") {
		t.Fatalf("new high with CD below the swing's: want a short at 5003.50, got %v", out)
	}
}
