package supervisor

// kill.go: the kill path (DESIGN.md "The three paths", 3) — one routine,
// kill(scope, trigger), for every trigger: the console, the CLI and the
// control socket, SIGUSR1, the panic button, Slack, a drawdown lockout,
// the desk drawdown, a fault, a worker crash loop, stale data, the 15:55
// flat-by schedule and a stop repair that must flatten. What a trigger
// does to the accounts' machines (halt, lock out, fault, or only flatten)
// follows from the trigger; the path is the same:
//
//  1. raise the accounts' flags (atomics): from here every risk-adding
//     intent and stop repair is refused, even one already gated;
//  2. journal the kill on the journal's urgent lane (it waits for at most
//     the commit already running; bounded by Options.KillJournalWait);
//  3. tell the workers on their own lane (ProcHost.SetHalted, no queue);
//  4. liquidate every account in scope in parallel, at once; an account
//     with a risk-adding request in flight across step 1 is liquidated
//     again, in the background, once that request has returned;
//  5. then the state machines, the alert, the report.
//
// From the trigger to the last liquidate request it takes no lock and
// enters no queue that the tick path, the intent path or a worker can hold
// or fill: no account's books, no tick lock, no send lock, no frame queue.
// Pressing again while halting is harmless: the liquidations are sent again.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
)

// KillReport measures one kill.
type KillReport struct {
	Scope         string
	Trigger       Trigger
	Accounts      int
	JournalNs     time.Duration // trigger → kill durable (or the wait bound)
	SentNs        time.Duration // kill durable → every liquidate request returned
	TotalNs       time.Duration // trigger → every liquidate request returned
	RepeatIgnored bool
	JournalErr    error    // the kill's record could not be made durable in time (the kill went ahead)
	Failed        []string // accounts whose liquidate request the venue refused
	Chased        []string // accounts liquidated again after a request in flight across the halt
	Held          []string // accounts whose liquidation waits for the broker's own (brokerliq.go): not sent yet
}

// killOrder is one kill to carry out.
type killOrder struct {
	scope   Scope
	trigger Trigger
	who     string
	why     string         // a fault's reason
	breach  *limits.Breach // a lockout's breach
}

// errKillJournalSlow: the kill's record was not durable within
// Options.KillJournalWait; the kill went ahead.
var errKillJournalSlow = errors.New("supervisor: the kill's journal record was not durable in time; liquidated anyway")

// Kill halts (or, by its trigger, locks out, faults or only flattens) and
// liquidates every account in scope. It returns once every liquidate
// request has been answered; an account reaches halted when the venue
// confirms it flat, and the desk when every account has.
func (d *Desk) Kill(ctx context.Context, scope Scope, trigger Trigger, who string) (KillReport, error) {
	return d.kill(ctx, killOrder{scope: scope, trigger: trigger, who: who})
}

func (d *Desk) scopeAccounts(s Scope) ([]*account, error) {
	if s.IsDesk() {
		return d.accts, nil
	}
	out := make([]*account, 0, len(s.ids))
	for _, id := range s.ids {
		a := d.byID[id]
		if a == nil {
			return nil, fmt.Errorf("%w: %q", deskapi.ErrUnknownAccount, id)
		}
		out = append(out, a)
	}
	return out, nil
}

func (d *Desk) kill(ctx context.Context, k killOrder) (KillReport, error) {
	run, err := d.startKill(ctx, k)
	if err != nil {
		return KillReport{}, err
	}
	<-run.done
	return run.report, nil
}

// startKill carries out steps 1–4 and returns with the liquidations on
// their way; finishKill (its own goroutine) waits for their answers and
// does step 5. The returned run says how far the kill has got.
func (d *Desk) startKill(ctx context.Context, k killOrder) (*killRun, error) {
	ctx = context.WithoutCancel(ctx) // a kill is never lost to a cancelled context
	t0 := d.wall.Now()
	scope, err := d.scopeAccounts(k.scope)
	if err != nil {
		return nil, err
	}
	eff := k.trigger.effect()
	// 1. The flags: from here no risk-adding request leaves for the venue.
	if k.trigger.locksDesk() {
		d.deskLocked.Store(true)
	}
	for _, a := range scope {
		a.liquidating.Store(true)
		a.killAt.CompareAndSwap(0, t0.UnixNano()) // KillFlat's start (checkHaltedTry)
		if eff != effFlat {
			a.halted.Store(true)
		}
	}
	ids := make([]string, len(scope))
	for i, a := range scope {
		ids[i] = a.id
	}
	repeat := k.scope.IsDesk() && eff == effHalt && (d.m.State() == DeskHalting || d.m.State() == DeskHalted)
	// 2. The kill's record, durable before anything reaches the venue.
	jerr := d.journalKill(ctx, k, ids)
	tj := d.wall.Now()
	// 3. The workers, on their own lane.
	if eff != effFlat {
		for _, a := range scope {
			if p := a.proc(); p != nil {
				p.SetHalted(true)
			}
		}
	}
	// 4. Every account liquidated, in parallel.
	run := newKillRun(k, ids, d.nowNs())
	d.lastKill.Store(run)
	run.liquidateAll(ctx, d, scope)
	go d.finishKill(ctx, run, scope, eff, repeat, jerr, t0, tj)
	return run, nil
}

// finishKill is step 5 of a kill: once every liquidation is answered — or
// Options.KillAnswerWait has passed, for a venue that does not answer —
// the state machines; once every one is answered, the report, journal
// failures, the alert and the halted check.
func (d *Desk) finishKill(ctx context.Context, run *killRun, scope []*account, eff effect, repeat bool, jerr error, t0, tj time.Time) {
	k := run.k
	bound := d.wall.NewTimer(d.opt.KillAnswerWait)
	select {
	case <-run.answered:
	case <-bound.C():
	}
	bound.Stop()
	d.killMachines(k, eff, scope, repeat)
	close(run.moved)
	<-run.answered
	t1 := run.t1
	rep := KillReport{Scope: k.scope.String(), Trigger: k.trigger, Accounts: len(scope), JournalNs: tj.Sub(t0), SentNs: t1.Sub(tj),
		TotalNs: t1.Sub(t0), RepeatIgnored: repeat, JournalErr: jerr}
	for i, a := range scope {
		if run.errs[i] != nil {
			rep.Failed = append(rep.Failed, a.id)
		}
		if run.chased[i] {
			rep.Chased = append(rep.Chased, a.id)
		}
		if run.state[i].Load() == liqHeld {
			rep.Held = append(rep.Held, a.id)
		}
	}
	if jerr != nil {
		d.log.Error("kill journal", "trigger", k.trigger, "err", jerr)
	}
	for i, a := range scope {
		if run.errs[i] != nil {
			d.log.Error("liquidate failed", "account", a.id, "trigger", k.trigger, "err", run.errs[i])
			d.journal(ctx, journal.NewBrokerError(a.id, "", d.nowNs(), journal.BrokerError{Op: "liquidate", Err: run.errs[i].Error()}))
		}
	}
	d.killMu.Lock()
	d.kills = append(d.kills, rep)
	d.killMu.Unlock()
	d.opt.Observer.KillSent(string(k.trigger), rep.TotalNs)
	d.log.Warn("kill sent", "scope", rep.Scope, "trigger", k.trigger, "who", k.who, "accounts", len(scope), "elapsed", rep.TotalNs)
	d.killAlert(k, eff, scope, run.ids)
	for _, a := range scope {
		d.settleLater(a)
	}
	run.report = rep
	close(run.done)
}

// journalKill makes the kill's record durable on the journal's urgent
// lane, waiting at most Options.KillJournalWait (a disk that stalls must
// not hold the kill back; its failure is reported when it comes).
func (d *Desk) journalKill(ctx context.Context, k killOrder, ids []string) error {
	var e journal.Record
	if k.trigger.effect() == effLockout && k.breach != nil {
		b := k.breach
		e = journal.NewLockout(ids[0], b.TimeNs, journal.Lockout{Equity: accounts.Money(b.EquityCents).StringFixed(2),
			Line: accounts.Money(b.LineCents).StringFixed(2), Start: accounts.Money(b.StartCents).StringFixed(2), Why: string(k.trigger)})
	} else {
		e = journal.NewKill(d.nowNs(), journal.Kill{Scope: k.scope.String(), Trigger: string(k.trigger), Who: k.who, Accounts: ids, Why: k.why})
	}
	wctx, cancel := context.WithCancel(ctx)
	bound := d.wall.AfterFunc(d.opt.KillJournalWait, cancel)
	err := d.appendUrgent(wctx, e)
	bound.Stop()
	cancel()
	switch {
	case err == nil:
		return nil
	case wctx.Err() != nil && ctx.Err() == nil:
		// Queued, not yet durable: it lands when the disk answers (a
		// failure then is the journal's sticky error, seen by the next
		// append).
		return errKillJournalSlow
	}
	d.journalFailed(err)
	return err
}

// appendUrgent appends on the journal's urgent lane when it has one.
func (d *Desk) appendUrgent(ctx context.Context, e journal.Record) error {
	if uj, ok := d.j.(UrgentJournal); ok {
		_, err := uj.AppendUrgent(ctx, e)
		return err
	}
	_, err := d.j.Append(ctx, e)
	return err
}

// liquidateAll liquidates every account in parallel and returns, per
// account, the venue's answer and whether a second liquidation was sent
// after a request in flight across the halt (recovery's resumeKills; a
// kill uses its killRun).
func (d *Desk) liquidateAll(ctx context.Context, scope []*account, trig Trigger) ([]error, []bool) {
	ids := make([]string, len(scope))
	for i, a := range scope {
		ids[i] = a.id
	}
	run := newKillRun(killOrder{trigger: trig}, ids, d.nowNs())
	run.liquidateAll(ctx, d, scope)
	<-run.answered
	return run.errs, run.chased
}

// liquidate asks the venue to cancel everything of a's and flatten it, as
// one operation. A risk-adding request in flight across the halt (the
// account's sending count, read before the liquidation goes out) may
// reach the venue after it: once every such request has returned, the
// account is liquidated again, in the background (d.chases).
func (d *Desk) liquidate(ctx context.Context, a *account, trig Trigger) (err error, chased, held bool) {
	racing := a.sending.Load() > 0
	if !racing && d.holdLiquidation(a) {
		// The broker is flattening the account itself: the desk's goes
		// once the broker's is done (brokerliq.go), not racing it.
		return nil, false, true
	}
	w := d.watchAnswer(a.id)
	err = d.br.Liquidate(ctx, a.id)
	w.answered()
	if err != nil {
		a.liquidating.Store(false) // coverage repair takes over
	}
	if racing {
		d.chases.Add(1)
		go d.chase(ctx, a, trig)
	}
	return err, racing, false
}

// chase waits until no risk-adding request of a's is in flight, then
// liquidates a again: whatever such a request placed is cancelled or
// flattened after it (invariant 8: nothing that adds risk outlives the
// liquidation).
func (d *Desk) chase(ctx context.Context, a *account, trig Trigger) {
	defer d.chases.Done()
	a.waitSends()
	d.log.Warn("a risk-adding request was in flight across the kill: liquidating again", "account", a.id, "trigger", trig)
	d.chased.Add(1)
	w := d.watchAnswer(a.id)
	err := d.br.Liquidate(ctx, a.id)
	w.answered()
	if err != nil {
		d.log.Error("liquidate again failed", "account", a.id, "trigger", trig, "err", err)
		d.journal(ctx, journal.NewBrokerError(a.id, "", d.nowNs(), journal.BrokerError{Op: "liquidate", Err: err.Error()}))
	}
	d.checkHalted(a)
}

// killMachines moves the machines as the trigger says. The accounts'
// transitions are journaled concurrently, so they share commits.
func (d *Desk) killMachines(k killOrder, eff effect, scope []*account, repeat bool) {
	why := string(k.trigger) + " by " + k.who
	switch eff {
	case effFlat:
		return
	case effHalt:
		if k.scope.IsDesk() && !repeat {
			if err := d.m.Fire(EvHalt, why); err != nil {
				d.log.Warn("desk halt transition", "err", err)
			}
		}
	}
	var wg sync.WaitGroup
	for _, a := range scope {
		var ev, reason string
		switch eff {
		case effHalt:
			ev, reason = EvHalt, why
		case effLockout:
			ev, reason = EvLockout, why
			if k.breach != nil {
				reason = k.breach.String()
				if k.trigger != TriggerLockout {
					reason = string(k.trigger) + ": " + reason
				}
			}
		case effFault:
			ev, reason = EvFault, k.why
		}
		if !a.m.Can(ev) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.m.Fire(ev, reason); err != nil {
				d.log.Warn("kill transition", "account", a.id, "event", ev, "err", err)
			}
		}()
	}
	wg.Wait()
}

// lockout carries out a drawdown breach (invariant 5) through the kill.
func (d *Desk) lockout(ctx context.Context, a *account, b limits.Breach) {
	if _, err := d.kill(ctx, killOrder{scope: AccountScope(a.id), trigger: TriggerLockout, who: "deskguard", breach: &b}); err != nil {
		d.log.Error("lockout", "account", a.id, "err", err)
	}
}

// faultAccount faults an account and liquidates it through the kill.
func (d *Desk) faultAccount(ctx context.Context, a *account, trig Trigger, why string) {
	if _, err := d.kill(ctx, killOrder{scope: AccountScope(a.id), trigger: trig, who: "deskguard", why: why}); err != nil {
		d.log.Error("fault", "account", a.id, "err", err)
	}
}

// checkHalted completes halting → halted for an account once it is flat
// with nothing working, and the desk once every account is.
func (d *Desk) checkHalted(a *account) { d.checkHaltedTry(a, false) }

// settleLater is checkHalted at the end of a kill: at once if no books it
// needs are held, else once they are let go (the kill returns either way).
func (d *Desk) settleLater(a *account) {
	if d.checkHaltedTry(a, true) {
		return
	}
	d.later.Add(1)
	go func() {
		defer d.later.Done()
		d.checkHalted(a)
	}()
}

// checkHaltedTry is checkHalted; with try it gives up (false) rather than
// wait for an account's books.
func (d *Desk) checkHaltedTry(a *account, try bool) bool {
	flat, ok := flatNow(a, try)
	if !ok {
		return false
	}
	if flat {
		d.settleFlat(a)
	}
	if d.m.State() != DeskHalting {
		return true
	}
	for _, x := range d.accts {
		f, ok := flatNow(x, try)
		if !ok {
			return false
		}
		if !f {
			return true
		}
	}
	// Every account is flat on the books. Events that arrived together
	// are all booked before any is acted on (OnBrokerEvents), so an
	// account may be flat here before its own event has halted it: halt
	// each first, or the desk announces halted (and takes a re-arm, which
	// skips an account still halting) with accounts still halting.
	for _, x := range d.accts {
		d.settleFlat(x)
	}
	_ = d.m.Fire(EvHalted, "every account flat")
	return true
}

// settleFlat is what an account flat on the books ends: its liquidation,
// the kill's timing, and a halting account's halt.
func (d *Desk) settleFlat(a *account) {
	a.liquidating.Store(false)
	if at := a.killAt.Swap(0); at != 0 {
		d.opt.Observer.KillFlat(d.wall.Now().Sub(time.Unix(0, at)))
	}
	if a.m.State() == AcctHalting {
		_ = a.m.Fire(EvHalted, "flat at the venue")
	}
}

// flatNow reads a.flat(); with try, only if a's books are free.
func flatNow(a *account, try bool) (flat, ok bool) {
	if try {
		if !a.mu.TryLock() {
			return false, false
		}
	} else {
		a.mu.Lock()
	}
	flat = a.flat()
	a.mu.Unlock()
	return flat, true
}
