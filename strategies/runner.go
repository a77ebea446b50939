// runner.go: the Runner, the one code path from trades to intents that the
// replay, the child worker, the signals command and the tests all use.

package strategies

import (
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

// Runner owns the shared indicators and bar builders of one account's
// engines and feeds them in a fixed order. For each trade:
//
//  1. a trade in a new Globex session closes the previous session's bars
//     (delivered to the engines) and starts the new session (indicators
//     reset, OnSessionStart);
//  2. trades outside regular trading hours (09:30–16:00 ET) are not used;
//     the first one at or after 16:00 closes the bars in progress;
//  3. a missing aggressor side is inferred by the tick rule;
//  4. the trade goes to the 1- and 5-minute bar builders; a bar it closes is
//     delivered with the indicators as of the bar's end (1-minute, then
//     5-minute);
//  5. the indicators take the trade, then every engine's OnTrade.
//
// Intents emitted during a call are returned by that call, with Account and
// (when the engine left it zero) Time filled in. The returned slice is
// reused by the next call: copy what you keep. A call that emits nothing
// does not allocate.
type Runner struct {
	account   string
	engines   []Engine
	ind       *Indicators
	out       []intent.Intent
	tick      market.TickRule
	started   bool
	sessStart int64 // [sessStart, sessEnd) ns: trades in the current session
	sessEnd   int64
	emitFn    func(intent.Intent)
	rthTrades int64
}

// RTHTrades is how many trades reached the indicators and engines (those in
// regular trading hours), over the runner's life.
func (r *Runner) RTHTrades() int64 { return r.rthTrades }

// NewRunner returns a runner for account's engines and attaches each one.
func NewRunner(account string, engines ...Engine) *Runner {
	r := &Runner{account: account, engines: engines, ind: newIndicators(), out: make([]intent.Intent, 0, 8)}
	r.emitFn = r.emit
	for _, e := range engines {
		e.Attach(r.ind, r.emitFn)
	}
	return r
}

// Indicators returns the shared indicators (read only).
func (r *Runner) Indicators() *Indicators { return r.ind }

// Engines returns the engines in the order they are called.
func (r *Runner) Engines() []Engine { return r.engines }

func (r *Runner) emit(in intent.Intent) {
	in.Account = r.account
	if in.Time == 0 {
		in.Time = r.ind.Now
	}
	r.out = append(r.out, in)
}

func (r *Runner) drain() []intent.Intent {
	out := r.out
	r.out = r.out[:0]
	return out
}

// OnTrade processes one trade and returns the intents it caused.
func (r *Runner) OnTrade(t market.Trade) []intent.Intent {
	r.out = r.out[:0]
	if !r.started || t.Time < r.sessStart || t.Time >= r.sessEnd {
		s := market.SessionOf(t.T())
		if !r.started || s != r.ind.Session {
			r.closeBars(r.ind.Now)
			r.startSession(s)
		}
	}
	r.ind.Now = t.Time
	if t.Time < r.ind.RTHOpen {
		return r.drain()
	}
	if t.Time >= r.ind.RTHClose {
		r.closeBars(t.Time)
		return r.drain()
	}
	r.rthTrades++
	r.tick.Apply(&t)
	if b, ok := r.ind.Bars1.Add(t); ok {
		r.bar1(b)
	}
	if b, ok := r.ind.Bars5.Add(t); ok {
		r.bar5(b)
	}
	r.ind.addTrade(t)
	for _, e := range r.engines {
		e.OnTrade(t)
	}
	return r.drain()
}

// Flush closes the bars in progress (end of data) and returns the intents
// that caused. Their time is the bar's end.
func (r *Runner) Flush() []intent.Intent {
	r.out = r.out[:0]
	if r.started {
		r.closeBars(r.ind.Now)
	}
	return r.drain()
}

// OnFill reports a fill of strategy's order and returns resulting intents.
func (r *Runner) OnFill(strategy string, f Fill) []intent.Intent {
	r.out = r.out[:0]
	for _, e := range r.engines {
		if e.Name() == strategy {
			e.OnFill(f)
		}
	}
	return r.drain()
}

// OnOrderDone reports that strategy's order clientID is finished (filled
// completely, or cancelled/expired/rejected unfilled) and returns resulting
// intents.
func (r *Runner) OnOrderDone(strategy, clientID string, filled bool) []intent.Intent {
	r.out = r.out[:0]
	for _, e := range r.engines {
		if e.Name() == strategy {
			e.OnOrderDone(clientID, filled)
		}
	}
	return r.drain()
}

func (r *Runner) startSession(s market.Session) {
	r.started = true
	r.ind.reset(s)
	r.sessStart = s.GlobexOpen().UnixNano()
	r.sessEnd = s.GlobexOpen().AddDate(0, 0, 1).UnixNano() // next 18:00 ET; halt belongs to this session
	r.tick = market.TickRule{}
	for _, e := range r.engines {
		e.OnSessionStart(s)
	}
}

// closeBars delivers the bars in progress, at time now (or the bar's end
// when now is earlier).
func (r *Runner) closeBars(now int64) {
	if b, ok := r.ind.Bars1.Flush(); ok {
		r.ind.Now = max(now, b.End())
		r.bar1(b)
	}
	if b, ok := r.ind.Bars5.Flush(); ok {
		r.ind.Now = max(now, b.End())
		r.bar5(b)
	}
}

func (r *Runner) bar1(b market.Bar) {
	r.ind.closeBar1(b)
	for _, e := range r.engines {
		e.OnBar(b)
	}
}

func (r *Runner) bar5(b market.Bar) {
	for _, e := range r.engines {
		e.OnBar(b)
	}
	r.ind.closeBar5(b)
}
