package supervisor

// tick.go: the tick path (DESIGN.md "The three paths", 1) — marks,
// drawdown checks and the other risk rules (rules.go), expiries and the
// schedule, then fan-out to the
// engines. It holds d.tick.mu for the batch and each account's books once
// per batch; it never blocks on a worker (frames are queued without
// waiting) and nothing on the kill path waits for it.

import (
	"context"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor/wire"
)

// OnTrades is the tick path for a batch of trades, in time order.
func (d *Desk) OnTrades(ctx context.Context, ts []market.Trade) {
	if len(ts) == 0 {
		return
	}
	var deskBreach limits.Breach
	var deskBroke bool
	var df deskFired
	var expired []*order
	var expAcct []*account
	last := ts[len(ts)-1]
	n := len(d.accts)

	d.tick.mu.Lock()
	if cap(d.tick.eq) < len(ts)*n {
		d.tick.eq = make([]int64, len(ts)*n)
	}
	eq := d.tick.eq[:len(ts)*n]
	newMinute := false
	if m := last.Time / int64(time.Minute); m != d.tick.minute {
		d.tick.minute, newMinute = m, true
	}
	// Each account's books once for the batch: marks and its own rules
	// (the ladder and lockout line, trailing and weekly lines, tier,
	// blackout flattens: rules.go) on every trade, its equity kept for the
	// desk check.
	for ai, a := range d.accts {
		a.mu.Lock()
		for ti, t := range ts {
			a.ledger.MarkAt(t.Time, t.Price)
			if d.markHook != nil {
				d.markHook(a.id, ti)
			}
			e := a.ledger.EquityCents()
			eq[ti*n+ai] = e
			d.markRules(a, t.Time, e)
		}
		if newMinute {
			a.curve = append(a.curve, curvePoint{last.Time, a.ledger.EquityCents()})
			d.minuteRules(a)
		}
		if len(a.expiring) > 0 {
			keep := a.expiring[:0]
			for _, o := range a.expiring {
				switch {
				case o.done() || o.filled > 0 || o.expireAt == 0:
				case o.status == 0:
					// Still on its way to the venue (its intent is being made
					// durable): a cancel now would overtake it and find nothing
					// to cancel. Expire it once the venue has acknowledged it.
					keep = append(keep, o)
				case last.Time >= o.expireAt:
					o.expireAt = 0
					expired = append(expired, o)
					expAcct = append(expAcct, a)
				default:
					keep = append(keep, o)
				}
			}
			a.expiring = keep
		}
		a.mu.Unlock()
	}
	// The desk-wide limit and its ladder on the sum, trade by trade as the
	// accounts were marked.
	for ti, t := range ts {
		for ai, a := range d.accts {
			if b, ok := d.observeDesk(&df, t.Time, a.id, eq[ti*n+ai]); ok {
				deskBreach, deskBroke = b, true
			}
		}
	}
	d.tick.trades += int64(len(ts))
	d.lastPx.Store(int64(last.Price))
	d.lastTime.Store(last.Time)
	due := d.tick.sched.Advance(time.Unix(0, last.Time))
	fired := d.takeFired()
	d.tick.mu.Unlock()

	for _, f := range fired {
		d.onRules(ctx, f)
	}
	d.onDeskLadder(ctx, &df)
	if deskBroke {
		d.log.Warn("desk drawdown limit breached", "breach", deskBreach.String())
		_, _ = d.Kill(ctx, DeskScope, TriggerDeskDrawdown, "deskguard")
	}
	for i, o := range expired {
		d.cancelExpired(ctx, expAcct[i], o)
	}
	for _, j := range due {
		d.runJob(ctx, j)
	}
	d.checkCoverage(ctx)
	d.fanOut(ctx, ts)
}

func (d *Desk) fanOut(ctx context.Context, ts []market.Trade) {
	switch d.opt.Workers {
	case InProcess:
		for _, t := range ts {
			for _, a := range d.accts {
				host, _ := a.hosts()
				if host == nil {
					continue
				}
				for _, in := range host.OnTrade(t) {
					d.HandleIntent(ctx, in)
				}
			}
		}
	case Processes:
		d.tick.mu.Lock()
		d.tick.buf = wire.AppendTicks(d.tick.buf[:0], ts)
		p := append([]byte(nil), d.tick.buf...) // shared read-only by every worker queue
		d.tick.mu.Unlock()
		for _, a := range d.accts {
			if proc := a.proc(); proc != nil {
				proc.Send(wire.Ticks, p)
			}
		}
	}
}

// cancelExpired cancels an entry whose time ran out (the engine asked for it
// with ExpireNs); the cancel is journaled as the desk's own intent.
func (d *Desk) cancelExpired(ctx context.Context, a *account, o *order) {
	in := intent.Intent{Kind: intent.Cancel, Account: a.id, Strategy: o.strategy, Time: d.nowNs(), Ref: o.id,
		Reason: "desk: entry expired unfilled"}
	d.HandleIntent(ctx, in)
}
