// helpers_test.go: hand-built sessions for the engine tests: minute bars
// written as OHLC with buy and sell volume, expanded to trades.

package strategies

import (
	"testing"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

// testSession is a Tuesday on EST.
var testSession = market.Session{Year: 2024, Month: time.March, Day: 5}

type tape struct {
	t      testing.TB
	s      market.Session
	trades []market.Trade
	seq    uint64
}

func newTape(t testing.TB) *tape { return &tape{t: t, s: testSession} }

func (tp *tape) at(h, m, sec int) int64 {
	return tp.s.At(h, m).Add(time.Duration(sec) * time.Second).UnixNano()
}

func (tp *tape) trade(ns int64, px market.Price, size int64, side market.Side) {
	tp.seq++
	tp.trades = append(tp.trades, market.Trade{Time: ns, Price: px, Size: size, Aggressor: side, Seq: tp.seq})
}

// bar writes the 1-minute bar starting at h:m ET: prints at open, high, low
// and close (1 lot each: buy, buy, sell, sell) and the rest of the buy and
// sell volume at the close. buy and sell must be ≥ 2.
func (tp *tape) bar(h, m int, o, hi, lo, c string, buy, sell int64) {
	tp.t.Helper()
	if buy < 2 || sell < 2 {
		tp.t.Fatalf("bar %02d:%02d: buy and sell volume must be ≥ 2", h, m)
	}
	po, ph, pl, pc := market.MustPrice(o), market.MustPrice(hi), market.MustPrice(lo), market.MustPrice(c)
	if ph < max(po, pc) || pl > min(po, pc) {
		tp.t.Fatalf("bar %02d:%02d: bad OHLC", h, m)
	}
	tp.trade(tp.at(h, m, 0), po, 1, market.Buy)
	tp.trade(tp.at(h, m, 10), ph, 1, market.Buy)
	tp.trade(tp.at(h, m, 20), pl, 1, market.Sell)
	tp.trade(tp.at(h, m, 30), pc, 1, market.Sell)
	if buy > 2 {
		tp.trade(tp.at(h, m, 40), pc, buy-2, market.Buy)
	}
	if sell > 2 {
		tp.trade(tp.at(h, m, 50), pc, sell-2, market.Sell)
	}
}

// flat writes n quiet minutes from h:m: o=c=px, high +1 tick, low −1 tick,
// vol buy+sell each, delta buy−sell.
func (tp *tape) flat(h, m, n int, px string, buy, sell int64) {
	p := market.MustPrice(px)
	for i := 0; i < n; i++ {
		mm := h*60 + m + i
		tp.bar(mm/60, mm%60, px, (p + 1).String(), (p - 1).String(), px, buy, sell)
	}
}

// run feeds the tape through a runner and returns copies of every intent.
func run(r *Runner, trades []market.Trade) []intent.Intent {
	var all []intent.Intent
	for _, t := range trades {
		all = append(all, r.OnTrade(t)...)
	}
	return append(all, r.Flush()...)
}

func runOne(t testing.TB, e Engine, trades []market.Trade) []intent.Intent {
	t.Helper()
	out := run(NewRunner("acct", e), trades)
	for _, in := range out {
		if err := Validate(in); err != nil {
			t.Errorf("ill-formed intent: %v", err)
		}
	}
	return out
}
