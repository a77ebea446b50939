// orb_test.go: the opening range breakout rules, fired and near-missed.

package strategies

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

// orbTape: a 09:30–10:00 range of 5000.00–5010.00 at 100 lots a minute
// (every 5-minute bar 500), then five minutes from 10:00 whose 5-minute bar
// closes at close with total volume 5 × perMin and the given delta sign.
func orbTape(t *testing.T, close string, perMin int64, sellHeavy bool, startHM int) *tape {
	tp := newTape(t)
	for i := 0; i < 30; i++ {
		m := 30 + i
		px := "5005.00"
		hi, lo := "5006.00", "5004.00"
		if i == 3 {
			hi = "5010.00"
		}
		if i == 7 {
			lo = "5000.00"
		}
		tp.bar(9, m, px, hi, lo, px, 50, 50)
	}
	// quiet bars between 10:00 and the breakout keep the mean at 500
	for m := 10 * 60; m < startHM; m++ {
		tp.bar(m/60, m%60, "5005.00", "5006.00", "5004.00", "5005.00", 50, 50)
	}
	buy, sell := perMin/2, perMin-perMin/2
	if sellHeavy {
		buy, sell = 2, perMin-2
	}
	c := market.MustPrice(close)
	for i := 0; i < 5; i++ {
		m := startHM + i
		tp.bar(m/60, m%60, close, (c + 2).String(), (c - 2).String(), close, buy, sell)
	}
	m := startHM + 5
	tp.trade(tp.at(m/60, m%60, 1), c, 1, market.Buy) // closes the bar
	return tp
}

func TestORBLongFiresAboveVolumeThreshold(t *testing.T) {
	cases := []struct {
		name   string
		perMin int64 // 5-minute volume = 5 × perMin against a mean of 500
		fire   bool
	}{
		{"1.51x", 151, true},
		{"1.49x", 149, false},
		{"1.50x exactly", 150, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tp := orbTape(t, "5012.00", c.perMin, false, 10*60)
			out := runOne(t, NewORB(DefaultORBConfig()), tp.trades)
			if !c.fire {
				if len(out) != 0 {
					t.Fatalf("want no intent, got %v", &out[0])
				}
				return
			}
			if len(out) != 1 {
				t.Fatalf("want 1 intent, got %d", len(out))
			}
			in := out[0]
			want := intent.Intent{
				Kind: intent.Enter, Account: "acct", Strategy: "orb", Time: tp.at(10, 5, 1), Side: market.Buy, Qty: 5,
				EntryType: market.StopLimitOrder, Entry: market.MustPrice("5012.75"), Limit: market.MustPrice("5013.25"),
				Stop: market.MustPrice("5005.00"), Target: market.MustPrice("5025.00"), ExpireNs: int64(10 * time.Minute),
			}
			in.Reason, want.Reason = "", ""
			if in != want {
				t.Fatalf("got  %+v\nwant %+v", in, want)
			}
			if !strings.HasPrefix(out[0].Reason, "orb.long: 5m close 5012.00 > ORH 5010.00, vol 1.51x") {
				t.Fatalf("reason %q", out[0].Reason)
			}
		})
	}
}

func TestORBShortNeedsSellingDelta(t *testing.T) {
	for _, sellHeavy := range []bool{true, false} {
		tp := orbTape(t, "4998.00", 160, sellHeavy, 10*60)
		out := runOne(t, NewORB(DefaultORBConfig()), tp.trades)
		if !sellHeavy {
			if len(out) != 0 {
				t.Fatalf("delta ≥ 0: want no short, got %v", &out[0])
			}
			continue
		}
		if len(out) != 1 || out[0].Side != market.Sell {
			t.Fatalf("want one short, got %v", out)
		}
		in := out[0]
		if in.Entry != market.MustPrice("4997.25") || in.Limit != market.MustPrice("4996.75") || in.Stop != market.MustPrice("5005.00") {
			t.Fatalf("levels: %v", &in)
		}
		// value area is around 5005 (above the entry), so the target is the next round number ≥ 8 ticks below
		if in.Target != market.MustPrice("4975.00") || !strings.Contains(in.Reason, "target rn 4975.00") {
			t.Fatalf("target: %v", &in)
		}
	}
}

func TestORBWindowsAndOneAttempt(t *testing.T) {
	// 11:25 bar ends at 11:30: still armed; 11:30 bar: not armed.
	if out := runOne(t, NewORB(DefaultORBConfig()), orbTape(t, "5012.00", 200, false, 11*60+25).trades); len(out) != 1 {
		t.Fatalf("11:25 bar: want 1 intent, got %d", len(out))
	}
	if out := runOne(t, NewORB(DefaultORBConfig()), orbTape(t, "5012.00", 200, false, 11*60+30).trades); len(out) != 0 {
		t.Fatalf("11:30 bar: want none, got %v", &out[0])
	}
	// No entries at or after 15:45, even when armed all day.
	cfg := DefaultORBConfig()
	cfg.ArmUntil = 16 * 60
	if out := runOne(t, NewORB(cfg), orbTape(t, "5012.00", 200, false, 15*60+35).trades); len(out) != 1 {
		t.Fatalf("15:35 bar (closes 15:40): want 1 intent, got %d", len(out))
	}
	if out := runOne(t, NewORB(cfg), orbTape(t, "5012.00", 200, false, 15*60+40).trades); len(out) != 0 {
		t.Fatalf("15:40 bar (closes 15:45): want none, got %v", &out[0])
	}
	// One attempt per side: two breakouts, one intent (the first expires unfilled).
	tp := orbTape(t, "5012.00", 200, false, 10*60)
	for m := 10*60 + 5; m < 11*60; m++ {
		tp.bar(m/60, m%60, "5012.00", "5014.00", "5010.00", "5012.00", 500, 500)
	}
	if out := runOne(t, NewORB(DefaultORBConfig()), tp.trades); len(out) != 1 {
		t.Fatalf("one attempt per side: got %d intents", len(out))
	}
}

func TestORBSkipsFarStop(t *testing.T) {
	cfg := DefaultORBConfig()
	cfg.MaxStopTicks = 30 // entry 5012.75 is 31 ticks above the mid 5005.00
	if out := runOne(t, NewORB(cfg), orbTape(t, "5012.00", 200, false, 10*60).trades); len(out) != 0 {
		t.Fatalf("want skip, got %v", &out[0])
	}
	cfg.MaxStopTicks = 31
	if out := runOne(t, NewORB(cfg), orbTape(t, "5012.00", 200, false, 10*60).trades); len(out) != 1 {
		t.Fatalf("31 ticks with max 31: want 1 intent, got %d", len(out))
	}
}

func TestORBTargetHVN(t *testing.T) {
	// Heavy trade at 5020.00 inside the range window makes it the range high
	// too, so build the HVN after the range: a quiet high-volume cluster at
	// 5020 between 10:00 and 10:05 does not break out (close inside), then
	// a breakout at 10:05 targets the HVN at 5020 (nearer than 5025).
	tp := newTape(t)
	for i := 0; i < 30; i++ {
		hi := "5006.00"
		if i == 3 {
			hi = "5010.00"
		}
		tp.bar(9, 30+i, "5005.00", hi, "5000.00", "5005.00", 50, 50)
	}
	tp.trade(tp.at(10, 0, 1), market.MustPrice("5020.00"), 2000, market.Buy)
	for m := 0; m < 5; m++ {
		tp.bar(10, m, "5008.00", "5009.00", "5007.00", "5008.00", 2, 2)
	}
	for m := 5; m < 10; m++ {
		tp.bar(10, m, "5011.00", "5012.00", "5010.00", "5011.00", 150, 150)
	}
	tp.trade(tp.at(10, 10, 1), market.MustPrice("5011.00"), 1, market.Buy)
	// The session-mean baseline: the heavy HVN print is not in any recent
	// bar's comparison then (with last_bars it would be the baseline).
	cfg := DefaultORBConfig()
	cfg.VolumeBaseline = VolumeSessionMean
	out := runOne(t, NewORB(cfg), tp.trades)
	if len(out) != 1 || out[0].Target != market.MustPrice("5020.00") || !strings.Contains(out[0].Reason, "target hvn 5020.00") {
		t.Fatalf("want one long targeting the HVN at 5020.00, got %v", out)
	}
}

// heavyOpenTape: a 09:30–10:00 range of 5000.00–5010.00 at 1,000 lots a
// minute (the heavy open), quiet minutes of 100 lots from 10:00 to 10:30,
// then the 10:30 five-minute bar closing above the range at perMin a minute.
func heavyOpenTape(tp *tape, perMin int64) {
	for i := 0; i < 30; i++ {
		hi, lo := "5006.00", "5004.00"
		if i == 3 {
			hi = "5010.00"
		}
		if i == 7 {
			lo = "5000.00"
		}
		tp.bar(9, 30+i, "5005.00", hi, lo, "5005.00", 500, 500)
	}
	for m := 0; m < 30; m++ {
		tp.bar(10, m, "5005.00", "5006.00", "5004.00", "5005.00", 50, 50)
	}
	for m := 30; m < 35; m++ {
		tp.bar(10, m, "5012.00", "5014.00", "5010.00", "5012.00", perMin/2, perMin-perMin/2)
	}
	tp.trade(tp.at(10, 35, 1), market.MustPrice("5012.00"), 1, market.Buy)
}

func TestORBVolumeBaselines(t *testing.T) {
	// The 10:30 bar against a baseline of 500 a 5-minute bar (the quiet
	// half hour, the last 3 bars) or about 2,750 (the session's mean with the
	// heavy open): 1.51× and 1.49× of the recent 500 around the line.
	cases := []struct {
		baseline string
		perMin   int64
		fire     bool
	}{
		{VolumeLastBars, 151, true},
		{VolumeLastBars, 150, false}, // exactly 1.50×: not more than
		{VolumeLastBars, 149, false},
		{VolumeSessionMean, 151, false}, // the heavy open hides the breakout
		{VolumeSessionMean, 800, false}, // 4,000 < 1.5 × 2,750
		{VolumeSessionMean, 900, true},  // 4,500 > 4,125
		{VolumeTimeOfDay, 151, true},    // no prior session: falls back to the last bars
		{VolumeTimeOfDay, 149, false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%d", c.baseline, c.perMin), func(t *testing.T) {
			tp := newTape(t)
			heavyOpenTape(tp, c.perMin)
			cfg := DefaultORBConfig()
			cfg.VolumeBaseline = c.baseline
			out := runOne(t, NewORB(cfg), tp.trades)
			if got := len(out) == 1; got != c.fire || len(out) > 1 {
				t.Fatalf("%s at %d a minute: %d intents, want fire=%v", c.baseline, c.perMin, len(out), c.fire)
			}
		})
	}
}

func TestORBTimeOfDayBaselineUsesPriorSessions(t *testing.T) {
	// Session 1 had 2,000 lots in its 10:30 bar; in session 2 a 10:30
	// breakout bar must beat 1.5 × 2,000 = 3,000, not 1.5 × the quiet half
	// hour before it.
	prior := &tape{t: t, s: testSession}
	heavyOpenTape(prior, 400) // its 10:30 bar: 2,000 lots (its own signals are not counted below)
	next := &tape{t: t, s: market.Session{Year: 2024, Month: time.March, Day: 6}, seq: prior.seq}
	cases := []struct {
		perMin int64
		fire   bool
	}{{605, true}, {600, false}, {595, false}}
	for _, c := range cases {
		n := *next
		n.trades = nil
		heavyOpenTape(&n, c.perMin)
		cfg := DefaultORBConfig()
		cfg.VolumeBaseline = VolumeTimeOfDay
		all := append(append([]market.Trade(nil), prior.trades...), n.trades...)
		var second []intent.Intent
		for _, in := range runOne(t, NewORB(cfg), all) {
			if in.Time >= n.trades[0].Time {
				second = append(second, in)
			}
		}
		if got := len(second) == 1; got != c.fire {
			t.Fatalf("10:30 bar of %d lots against a prior 10:30 of 2,000: %d intents, want fire=%v", 5*c.perMin, len(second), c.fire)
		}
	}
}
