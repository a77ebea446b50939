package supervisor

// session.go: the session and its schedule (schedule.go) as the desk
// carries them out — the flat-by job (a kill with trigger
// schedule_flat_by: day accounts flattened, nothing halted), the daily
// summary, and the session reset (new start equity, the rules' session
// end and start, lockouts lifted unless unlocks are manual or a trailing
// or weekly line holds them, the broker's own risk limits set again for
// the new session: brokerside.go).

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// runJob carries out a scheduled job.
func (d *Desk) runJob(ctx context.Context, due Due) {
	d.log.Info("schedule", "job", due.Job, "at", due.At.In(market.NewYork).Format(time.RFC3339))
	switch due.Job {
	case JobFlattenDay:
		var ids []string
		for _, a := range d.accts {
			if !a.spec.DayTrading {
				continue
			}
			a.mu.Lock()
			busy := !a.flat()
			a.mu.Unlock()
			if busy {
				ids = append(ids, a.id)
			}
		}
		if len(ids) > 0 {
			if _, err := d.Kill(ctx, AccountsScope(ids...), TriggerSchedule, "deskguard"); err != nil {
				d.log.Error("scheduled flatten", "err", err)
			}
		}
	case JobDailySummary:
		d.alerts.Notify(d.summaryAlert())
	case JobSessionReset:
		d.sessionReset(ctx, due.At)
	case JobNoEntries:
		// The gate refuses entries after the configured time by itself.
	}
}

// sessionReset starts a new session: new start equity (the cash balance),
// lockouts lifted unless unlocks are manual.
func (d *Desk) sessionReset(ctx context.Context, at time.Time) {
	s := market.SessionOf(at.Add(time.Minute))
	d.session.Store(s)
	starts := map[string]int64{}
	var unlock []*account
	for _, a := range d.accts {
		a.mu.Lock()
		a.pastTrips = append(a.pastTrips, a.ledger.RoundTrips()...)
		a.pastFees += accounts.Cents(a.ledger.Fees())
		if a.firstStart == 0 {
			a.firstStart = a.ledger.StartCents()
		}
		cash := a.ledger.StartEquity().Add(a.ledger.Realized()).Sub(a.ledger.Fees())
		// The rules see the session's closing balance (the end-of-day
		// trailing line and the scaling tier move on it), then start the
		// next session with the ledger.
		if units, changed := a.rules.SessionEnd(accounts.Cents(cash)); changed {
			d.log.Info("scaling tier", "account", a.id, "units", units)
		}
		if err := a.ledger.ResetSession(cash); err != nil {
			d.log.Error("session reset", "account", a.id, "err", err)
		}
		a.rules.SessionReset(a.ledger.StartCents())
		a.rate.Reset()
		starts[a.id] = a.ledger.StartCents()
		a.curve = a.curve[:0]
		// The trailing line holds an account locked across sessions until
		// its reset, the week's line until the next week.
		held := a.lockedByRule(at.UnixNano())
		a.mu.Unlock()
		if a.m.State() == AcctLockedOut && !d.opt.ManualUnlock && held == "" {
			unlock = append(unlock, a)
		}
	}
	d.tick.mu.Lock()
	d.tick.deskMon.Reset(starts)
	d.tick.deskStarts = nil
	d.deskLevel.Store(uint32(limits.LevelNormal))
	d.tick.mu.Unlock()
	d.journal(ctx, journal.NewSessionReset(at.UnixNano(), journal.SessionReset{Session: s.String(), Accounts: d.startEquities()}))
	if d.deskLocked.Load() && !d.opt.ManualUnlock {
		// The desk's lockout ends with its session, as an account's does.
		d.journal(ctx, journal.NewDeskUnlock(at.UnixNano(), "deskguard", "session reset", nil))
		d.deskLocked.Store(false)
		d.lightsChanged()
	}
	if err := d.Snapshot(ctx); err != nil {
		d.log.Warn("snapshot", "err", err)
	}
	for _, a := range unlock {
		a.halted.Store(false)
		_ = a.m.Fire(EvUnlock, "session reset")
		if !a.spec.EnginesOff {
			_ = a.m.Fire(EvStart, "session reset")
		}
		a.tellWorker()
	}
	d.refreshBrokerRisk(ctx)
}

func (d *Desk) summaryAlert() alert.Alert {
	f := alert.SummaryFacts{}
	if sess, ok := d.session.Load().(market.Session); ok {
		f.Session = sess.String()
	}
	for _, a := range d.accts {
		a.mu.Lock()
		row := alert.SummaryRow{Account: a.id, Net: accounts.Money(a.ledger.EquityCents() - a.ledger.StartCents()),
			DrawdownUsed: decimal.NewFromFloat(drawdownUsed(a)).Round(4)}
		for _, r := range accounts.Trades(a.ledger.RoundTrips()) { // one per entry
			row.Trades++
			if r.Net().IsPositive() {
				row.Wins++
			}
		}
		a.mu.Unlock()
		f.Accounts = append(f.Accounts, row)
	}
	return alert.DailySummary(d.clock.Now(), f)
}
