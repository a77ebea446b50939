// indicators_test.go: every incremental indicator against a direct
// computation over the same random trades.

package strategies

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

// randomSession is a seeded random walk of n trades spread over 09:25–16:05
// ET of testSession, sizes 1–20, some aggressor sides missing.
func randomSession(seed uint64, n int) []market.Trade {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	from := testSession.At(9, 25).UnixNano()
	to := testSession.At(16, 5).UnixNano()
	step := (to - from) / int64(n)
	px := market.MustPrice("5000.00")
	out := make([]market.Trade, 0, n)
	t := from
	for i := 0; i < n; i++ {
		t += 1 + rng.Int64N(2*step)
		if t >= to {
			break
		}
		px += market.Price(rng.IntN(5) - 2)
		side := market.Side(rng.IntN(3) - 1)
		out = append(out, market.Trade{Time: t, Price: px, Size: 1 + rng.Int64N(20), Aggressor: side, Seq: uint64(i)})
	}
	return out
}

// probe is an engine that records what the shared indicators say at each
// bar, for comparison with a direct computation.
type probe struct {
	ind    *Indicators
	bars1  []market.Bar
	bars5  []market.Bar
	cd1    []int64   // CD at each 1-minute bar's close
	vw1    []float64 // VWAP at each 1-minute bar's close
	avg5   []float64 // Avg5mVolume when each 5-minute bar is delivered
	trades []market.Trade
}

func (p *probe) Name() string                                  { return "probe" }
func (p *probe) Attach(ind *Indicators, _ func(intent.Intent)) { p.ind = ind }
func (p *probe) OnSessionStart(market.Session)                 {}
func (p *probe) OnFill(Fill)                                   {}
func (p *probe) OnOrderDone(string, bool)                      {}
func (p *probe) OnTrade(t market.Trade)                        { p.trades = append(p.trades, t) }
func (p *probe) OnBar(b market.Bar) {
	if b.Period == time.Minute {
		p.bars1 = append(p.bars1, b)
		p.cd1 = append(p.cd1, p.ind.CD)
		v, _ := p.ind.VWAP.Value()
		p.vw1 = append(p.vw1, v)
		return
	}
	a, _ := p.ind.Avg5mVolume()
	p.bars5 = append(p.bars5, b)
	p.avg5 = append(p.avg5, a)
}

func TestIndicatorsAgainstDirect(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		trades := randomSession(seed, 20000)
		p := &probe{}
		r := NewRunner("a", p)
		run(r, trades)
		ind := r.Indicators()
		rth := p.trades // the trades the engines saw, aggressors inferred
		if len(rth) == 0 || r.RTHTrades() != int64(len(rth)) {
			t.Fatalf("RTH trades: runner counted %d, engines saw %d", r.RTHTrades(), len(rth))
		}
		for _, tr := range rth {
			if tr.Time < ind.RTHOpen || tr.Time >= ind.RTHClose {
				t.Fatalf("trade outside RTH reached the engine: %v", tr.T())
			}
		}
		// VWAP and σ
		var v, pv float64
		for _, tr := range rth {
			v += float64(tr.Size)
			pv += float64(tr.Size) * float64(tr.Price)
		}
		vw := pv / v
		var ss float64
		for _, tr := range rth {
			d := float64(tr.Price) - vw
			ss += float64(tr.Size) * d * d
		}
		got, _ := ind.VWAP.Value()
		if math.Abs(got-vw) > 1e-6 || math.Abs(ind.VWAP.Sigma()-math.Sqrt(ss/v)) > 1e-6 {
			t.Fatalf("seed %d: vwap %.6f σ %.6f, direct %.6f σ %.6f", seed, got, ind.VWAP.Sigma(), vw, math.Sqrt(ss/v))
		}
		// profile, POC, value area, HVNs
		prof := map[market.Price]int64{}
		var cd int64
		for _, tr := range rth {
			prof[tr.Price] += tr.Size
			cd += tr.Size * tr.Aggressor.Sign()
		}
		if cd != ind.CD {
			t.Fatalf("CD %d, direct %d", ind.CD, cd)
		}
		checkProfile(t, &ind.Profile, prof)
		// bars
		want1 := directBars(rth, time.Minute)
		want5 := directBars(rth, 5*time.Minute)
		if !equalBars(p.bars1, want1) || !equalBars(p.bars5, want5) {
			t.Fatalf("bars differ: %d/%d 1m, %d/%d 5m", len(p.bars1), len(want1), len(p.bars5), len(want5))
		}
		// CD and VWAP at each 1-minute close; average 5-minute volume
		var run, rv, rpv float64
		j := 0
		for i, b := range want1 {
			var c int64
			for ; j < len(rth) && rth[j].Time < b.End(); j++ {
				run += float64(rth[j].Size * rth[j].Aggressor.Sign())
				rv += float64(rth[j].Size)
				rpv += float64(rth[j].Size) * float64(rth[j].Price)
			}
			c = int64(run)
			if p.cd1[i] != c || math.Abs(p.vw1[i]-rpv/rv) > 1e-6 {
				t.Fatalf("bar %d: CD %d VWAP %.4f, direct %d %.4f", i, p.cd1[i], p.vw1[i], c, rpv/rv)
			}
		}
		var sum float64
		for i, b := range want5 {
			want := 0.0
			if i > 0 {
				want = sum / float64(i)
			}
			if math.Abs(p.avg5[i]-want) > 1e-9 {
				t.Fatalf("5m bar %d: avg %.3f, direct %.3f", i, p.avg5[i], want)
			}
			sum += float64(b.Volume)
		}
		// VWAP slope over 30 minutes at the last bar
		last := want1[len(want1)-1]
		m := int((last.End() - ind.RTHOpen) / int64(time.Minute))
		vwAt := func(min int) float64 { // VWAP of trades before 09:30+min
			var a, b float64
			for _, tr := range rth {
				if tr.Time < ind.RTHOpen+int64(min)*int64(time.Minute) {
					a += float64(tr.Size)
					b += float64(tr.Size) * float64(tr.Price)
				}
			}
			return b / a
		}
		slope, ok := ind.VWAPSlope(30)
		if want := (vwAt(m) - vwAt(m-30)) / 30; !ok || math.Abs(slope-want) > 1e-6 {
			t.Fatalf("slope %.6f, direct %.6f", slope, want)
		}
	}
}

func checkProfile(t *testing.T, p *Profile, prof map[market.Price]int64) {
	t.Helper()
	var total int64
	prices := make([]market.Price, 0, len(prof))
	for px, v := range prof {
		total += v
		prices = append(prices, px)
	}
	sort.Slice(prices, func(i, j int) bool { return prices[i] < prices[j] })
	poc := prices[0]
	for _, px := range prices {
		if prof[px] > prof[poc] {
			poc = px
		}
		if p.At(px) != prof[px] {
			t.Fatalf("volume at %s: %d, direct %d", px, p.At(px), prof[px])
		}
	}
	gp, gv, _ := p.POC()
	if p.Total() != total || gp != poc || gv != prof[poc] {
		t.Fatalf("POC %s(%d) total %d, direct %s(%d) %d", gp, gv, p.Total(), poc, prof[poc], total)
	}
	// value area: a direct, tick-by-tick walk of the same expansion rule
	lo, hi := prices[0], prices[len(prices)-1]
	val, vah := poc, poc
	in := prof[poc]
	for float64(in) < 0.7*float64(total) {
		up := []market.Price{}
		for q := vah + 1; q <= vah+2 && q <= hi; q++ {
			up = append(up, q)
		}
		dn := []market.Price{}
		for q := val - 1; q >= val-2 && q >= lo; q-- {
			dn = append(dn, q)
		}
		var su, sd int64
		for _, q := range up {
			su += prof[q]
		}
		for _, q := range dn {
			sd += prof[q]
		}
		if len(up) > 0 && (len(dn) == 0 || su >= sd) {
			vah, in = up[len(up)-1], in+su
		} else {
			val, in = dn[len(dn)-1], in+sd
		}
	}
	gl, gh, _ := p.ValueArea(0.7)
	if gl != val || gh != vah {
		t.Fatalf("value area %s–%s, direct %s–%s", gl, gh, val, vah)
	}
	var vaVol int64
	for q := gl; q <= gh; q++ {
		vaVol += prof[q]
	}
	if float64(vaVol) < 0.7*float64(total) || gl > poc || gh < poc {
		t.Fatalf("value area %s–%s holds %d of %d or misses the POC", gl, gh, vaVol, total)
	}
	// HVNs and the next one above/below a few prices
	isHVN := func(px market.Price) bool {
		v := prof[px]
		if v == 0 || float64(v) < 0.5*float64(prof[poc]) {
			return false
		}
		for k := market.Price(1); k <= 4; k++ {
			if prof[px-k] >= v || prof[px+k] > v {
				return false
			}
		}
		return true
	}
	for _, from := range []market.Price{lo - 1, poc, (lo + hi) / 2, hi} {
		var want market.Price
		found := false
		for q := from + 1; q <= hi; q++ {
			if isHVN(q) {
				want, found = q, true
				break
			}
		}
		got, ok := p.NextHVNAbove(from, 0.5, 4)
		if ok != found || got != want {
			t.Fatalf("next HVN above %s: %s %v, direct %s %v", from, got, ok, want, found)
		}
	}
	if !isHVN(poc) && prof[poc-1] < prof[poc] {
		t.Fatalf("POC %s with no higher neighbour must be an HVN", poc)
	}
}

func directBars(trades []market.Trade, period time.Duration) []market.Bar {
	var out []market.Bar
	for _, tr := range trades {
		start := tr.Time - tr.Time%int64(period)
		if len(out) == 0 || out[len(out)-1].Start != start {
			out = append(out, market.Bar{Start: start, Period: period, Open: tr.Price, High: tr.Price, Low: tr.Price})
		}
		b := &out[len(out)-1]
		b.High, b.Low, b.Close = max(b.High, tr.Price), min(b.Low, tr.Price), tr.Price
		b.Volume += tr.Size
		b.Trades++
		switch tr.Aggressor {
		case market.Buy:
			b.BuyVolume += tr.Size
		case market.Sell:
			b.SellVolume += tr.Size
		}
		b.Delta = b.BuyVolume - b.SellVolume
	}
	return out
}

func equalBars(a, b []market.Bar) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOpeningRangeAgainstDirect(t *testing.T) {
	trades := randomSession(7, 5000)
	var o OpeningRange
	from, to := testSession.At(9, 30).UnixNano(), testSession.At(10, 0).UnixNano()
	o.Reset(from, to)
	var hi, lo market.Price
	n := 0
	for _, tr := range trades {
		o.Add(tr)
		if tr.Time >= from && tr.Time < to {
			if n == 0 || tr.Price > hi {
				hi = tr.Price
			}
			if n == 0 || tr.Price < lo {
				lo = tr.Price
			}
			n++
		}
	}
	if !o.Done(to) || o.High != hi || o.Low != lo || o.Mid() != market.Price(math.Floor(float64(hi+lo)/2)) {
		t.Fatalf("range %s–%s mid %s, direct %s–%s", o.Low, o.High, o.Mid(), lo, hi)
	}
	if o.Done(to - 1) {
		t.Fatal("range done before its end")
	}
	// 09:59:59.999 is in, 10:00:00 is out
	var e OpeningRange
	e.Reset(from, to)
	e.Add(market.Trade{Time: to - int64(time.Millisecond), Price: 100})
	e.Add(market.Trade{Time: to, Price: 200})
	if e.High != 100 {
		t.Fatalf("window edge: high %s", e.High)
	}
	odd := OpeningRange{High: 20601, Low: 20600, n: 1}
	if odd.Mid() != 20600 {
		t.Fatalf("mid rounds down: %d", odd.Mid())
	}
}

func TestSwingsAgainstDirect(t *testing.T) {
	trades := randomSession(11, 8000)
	bars := directBars(trades, time.Minute)
	var s Swings
	s.Reset(2)
	var lastH, lastL market.Price
	var hasH, hasL bool
	for i, b := range bars {
		s.AddBar(b, int64(i))
		if i >= 4 {
			m := bars[i-2]
			h, l := true, true
			for k := i - 4; k <= i; k++ {
				if k == i-2 {
					continue
				}
				h = h && bars[k].High < m.High
				l = l && bars[k].Low > m.Low
			}
			if h {
				lastH, hasH = m.High, true
				if s.LastHigh.CD != int64(i-2) || s.LastHigh.Start != m.Start {
					t.Fatalf("swing high at bar %d: got %+v", i-2, s.LastHigh)
				}
			}
			if l {
				lastL, hasL = m.Low, true
			}
		}
		if hasH {
			var hiAfter market.Price
			for k := i; k >= 0 && bars[k].Start > s.LastHigh.Start; k-- {
				hiAfter = max(hiAfter, bars[k].High)
			}
			if s.HighAfter != hiAfter {
				t.Fatalf("bar %d: highest high after the swing %s, direct %s", i, s.HighAfter, hiAfter)
			}
		}
		if hasL {
			loAfter := market.Price(1 << 62)
			for k := i; k >= 0 && bars[k].Start > s.LastLow.Start; k-- {
				loAfter = min(loAfter, bars[k].Low)
			}
			if s.LowAfter != loAfter {
				t.Fatalf("bar %d: lowest low after the swing %s, direct %s", i, s.LowAfter, loAfter)
			}
		}
		if s.HasHigh != hasH || s.HasLo != hasL || (hasH && s.LastHigh.Price != lastH) || (hasL && s.LastLow.Price != lastL) {
			t.Fatalf("bar %d: swings %+v/%+v, direct %s/%s", i, s.LastHigh, s.LastLow, lastH, lastL)
		}
	}
	if !hasH || !hasL {
		t.Fatal("test premise: random walk should have swings")
	}
}

func TestCandles(t *testing.T) {
	p := market.MustPrice
	bar := func(o, h, l, c string) market.Bar { return market.Bar{Open: p(o), High: p(h), Low: p(l), Close: p(c)} }
	cases := []struct {
		b          market.Bar
		bear, bull Candle
	}{
		{bar("5002.50", "5005.00", "5000.00", "5000.00"), NoCandle, NoCandle},       // body 10, wick 10: 1×
		{bar("5002.50", "5007.75", "5000.00", "5000.00"), ShootingStar, NoCandle},   // wick 21 ticks = 2.1×
		{bar("5002.50", "5007.25", "5000.00", "5000.00"), NoCandle, NoCandle},       // wick 19 = 1.9×
		{bar("5000.00", "5005.00", "5000.00", "5000.25"), InvertedHammer, NoCandle}, // up body 1, wick 19
		{bar("5000.00", "5000.25", "4995.00", "5000.25"), NoCandle, Hammer},         // lower wick 20, body 1
		{bar("5000.25", "5000.25", "4995.00", "5000.00"), NoCandle, PinBar},         // down body
		{bar("5000.00", "5000.00", "5000.00", "5000.00"), NoCandle, NoCandle},       // no range
		{bar("5000.00", "5003.00", "4997.00", "5000.00"), NoCandle, NoCandle},       // doji mid-range
	}
	for i, c := range cases {
		if got := BearishReversal(c.b, 2); got != c.bear {
			t.Errorf("case %d bearish: %v, want %v", i, got, c.bear)
		}
		if got := BullishReversal(c.b, 2); got != c.bull {
			t.Errorf("case %d bullish: %v, want %v", i, got, c.bull)
		}
	}
}

func TestRoundNumbers(t *testing.T) {
	p := market.MustPrice
	cases := []struct {
		in, above, below, above8, below8 string
	}{
		{"5150.00", "5175.00", "5125.00", "5175.00", "5125.00"},
		{"5150.25", "5175.00", "5150.00", "5175.00", "5125.00"},
		{"5173.00", "5175.00", "5150.00", "5175.00", "5150.00"}, // 5175.00 is exactly 8 ticks away
		{"5173.25", "5175.00", "5150.00", "5200.00", "5150.00"},
		{"5152.00", "5175.00", "5150.00", "5175.00", "5150.00"},
		{"5151.75", "5175.00", "5150.00", "5175.00", "5125.00"},
	}
	for _, c := range cases {
		if RoundAbove(p(c.in), 100) != p(c.above) || RoundBelow(p(c.in), 100) != p(c.below) ||
			RoundAtLeastAbove(p(c.in), 100, 8) != p(c.above8) || RoundAtLeastBelow(p(c.in), 100, 8) != p(c.below8) {
			t.Errorf("%s: %s %s %s %s", c.in, RoundAbove(p(c.in), 100), RoundBelow(p(c.in), 100),
				RoundAtLeastAbove(p(c.in), 100, 8), RoundAtLeastBelow(p(c.in), 100, 8))
		}
	}
}

// TestVWAPSlopeCarriesAcrossQuietSpell pins the carry-forward rule for
// minutes without trades: each holds the last VWAP known before it, so the
// 30-minute slope after a quiet spell measures the move across the spell
// (the defect filled the gap with the VWAP from after it, and the slope of a
// trend day read flat).
func TestVWAPSlopeCarriesAcrossQuietSpell(t *testing.T) {
	tp := newTape(t)
	for i := 0; i < 20; i++ { // 09:30–09:49: a trend, 3 ticks a minute
		px := market.MustPrice("5000.00") + market.Price(3*i)
		tp.bar(9, 30+i, px.String(), (px + 1).String(), (px - 1).String(), px.String(), 50, 50)
	}
	// 09:50–10:29: no trades at all. 10:30: the market is 40 ticks higher.
	top := market.MustPrice("5000.00") + 3*19 + 40
	tp.bar(10, 30, top.String(), (top + 1).String(), (top - 1).String(), top.String(), 2000, 2000)
	tp.trade(tp.at(10, 31, 1), top, 1, market.Buy) // closes the 10:30 bar

	r := NewRunner("acct", &probe{})
	run(r, tp.trades[:len(tp.trades)-1])
	r.OnTrade(tp.trades[len(tp.trades)-1])
	ind := r.Indicators()
	vwapBefore := func(ns int64) float64 {
		var v, pv float64
		for _, tr := range tp.trades {
			if tr.Time < ns {
				v += float64(tr.Size)
				pv += float64(tr.Size) * float64(tr.Price)
			}
		}
		return pv / v
	}
	end := tp.at(10, 31, 0) // minute 61 after the open
	from := tp.at(10, 1, 0) // minute 31: inside the quiet spell
	want := (vwapBefore(end) - vwapBefore(from)) / 30
	got, ok := ind.VWAPSlope(30)
	if !ok || math.Abs(got-want) > 1e-9 {
		t.Fatalf("slope after a quiet spell %.4f ticks/min, direct (last known VWAP carried) %.4f", got, want)
	}
	if want <= 1 {
		t.Fatalf("test premise: the move across the spell should read as a trend (slope %.2f)", want)
	}
}
