package supervisor

// rules.go: the risk rules of docs/risk.md (issue 20) as the desk carries
// them out. The rules themselves are pure (limits.AccountRules, one per
// account, behind the account's lock; the desk's ladder in
// limits.DeskMonitor, behind d.tick.mu); here is what the desk does when a
// mark trips one — the ladder's warning (alert) and reduce-only (alert,
// journal), its lockout and the trailing and weekly lines (the lockout
// path: the one kill), a scaling tier lost (journal), a news blackout's
// flatten (the kill, flatten only) — the risk records that carry each
// account's rule state across restarts, the other accounts' working orders
// for self-match (published, so no intent takes another account's lock),
// the manager's ResetTrailing, and each account's usage for Status.
//
// The tick path only collects what fired (into a reused slice, under the
// locks it already holds: no allocation when nothing fires); it acts on it
// after letting every lock go, as it does a lockout.

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/authz"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
)

// Risk record events (journal.Risk.Event).
const (
	riskWarning   = "warning"     // the ladder's warning rung
	riskReduce    = "reduce_only" // the ladder's reduce-only rung
	riskTrailing  = "trailing_breach"
	riskWeekly    = "weekly_breach"
	riskTier      = "scaling_tier" // the scaling tier changed
	riskBlackout  = "blackout_flatten"
	riskLine      = "trailing_line"    // the intraday trailing line rose (at most once a minute)
	riskReset     = "trailing_reset"   // the risk manager reset the trailing line
	riskUnlock    = "unlock"           // the rules after an early unlock
	riskDeskLevel = "desk_level"       // the desk ladder's rung (account "")
	riskFirm      = "firm_reduce_only" // the firm link's reduce-only on or off (account "")
)

// ruleFired is what one account's marks tripped in a batch of trades.
type ruleFired struct {
	a    *account
	ev   limits.MarkEvents
	line bool // the intraday trailing line rose since it was last journaled
}

// deskFired is the desk ladder's new rungs in a batch (the lockout rung
// is the desk kill).
type deskFired struct {
	ev  [limits.LevelLockedOut]limits.LadderEvent
	new [limits.LevelLockedOut]bool
}

// markRules runs the account's rules on one mark (tick path: a.mu and
// d.tick.mu held). Nothing allocates unless something fired.
func (d *Desk) markRules(a *account, nowNs, equityCents int64) {
	if ev := a.rules.Mark(nowNs, equityCents); ev.Any() {
		d.tick.fired = append(d.tick.fired, ruleFired{a: a, ev: ev})
	}
}

// minuteRules is the tick path's once-a-minute look at the account's
// rules (a.mu and d.tick.mu held): an intraday trailing line that rose is
// journaled, so a restart brings back the line of at most a minute ago.
func (d *Desk) minuteRules(a *account) {
	if t := a.rules.Trailing; t != nil && t.LineCents() > a.trailLine {
		a.trailLine = t.LineCents()
		d.tick.fired = append(d.tick.fired, ruleFired{a: a, line: true})
	}
}

// takeFired hands the batch's events over (d.tick.mu held): a copy only
// when something fired, so the next batch can reuse the scratch.
func (d *Desk) takeFired() []ruleFired {
	if len(d.tick.fired) == 0 {
		return nil
	}
	out := append([]ruleFired(nil), d.tick.fired...)
	clear(d.tick.fired)
	d.tick.fired = d.tick.fired[:0]
	return out
}

// observeDesk feeds one account's equity to the desk ladder (d.tick.mu
// held). It returns the desk's lockout breach; the lower rungs go into df,
// and the rung into d.deskLevel for the intent path.
func (d *Desk) observeDesk(df *deskFired, nowNs int64, id string, equityCents int64) (limits.Breach, bool) {
	ev, ok := d.tick.deskMon.Observe(nowNs, id, equityCents)
	if !ok {
		return limits.Breach{}, false
	}
	d.deskLevel.Store(uint32(ev.Level))
	if ev.Level == limits.LevelLockedOut {
		return limits.Breach{TimeNs: ev.TimeNs, EquityCents: ev.EquityCents, LineCents: ev.LineCents, StartCents: ev.StartCents}, true
	}
	df.ev[ev.Level], df.new[ev.Level] = ev, true
	return limits.Breach{}, false
}

// deskReduceOnly reports whether the desk is reduce-only: its ladder at
// reduce-only (or locked out), or the firm link's hook on (SetFirmReduceOnly).
// Read by the intent path without the tick lock.
func (d *Desk) deskReduceOnly() bool {
	return limits.Level(d.deskLevel.Load()) >= limits.LevelReduceOnly || d.firmReduce.Load()
}

// SetFirmReduceOnly is the firm link's reduce-only hook (docs/firm.md,
// [firm] reduce_only_after): on, the desk refuses every entry and add with
// the same reason as its own ladder's reduce-only rung (every risk-reducing
// act stays allowed); off, it lifts that (the ladder's own rung, if set,
// stays). Journaled as a desk risk record (event firm_reduce_only) and
// shown in Status (FirmReduceOnly). Recover restores it (the snapshot and
// the record): a desk that restarts while it still cannot hear the firm
// is not let trade entries in the time its new link takes to decide again;
// the restarted link starts from FirmReduceOnly (outbox.LinkOptions
// StartReduceOnly) and lifts it once the firm is heard. Each change, and
// only a change, is one alert (alert.FirmReduceOnly, critical; lifted:
// alert.FirmReduceOnlyLifted with how long it lasted). It takes no lock of
// the three paths (an atomic the intent path reads).
func (d *Desk) SetFirmReduceOnly(ctx context.Context, on bool) {
	detail := "the firm link is lost: reduce-only until the firm is heard again"
	if !on {
		detail = "the firm is heard again: the firm's reduce-only lifted"
	}
	d.setFirmReduceOnly(ctx, on, detail)
}

// LiftFirmReduceOnly lifts the firm reduce-only for a reason other than
// the firm being heard (a run with no firm link to lift one the journal
// restored): the record and the alert say why, not that the firm spoke.
func (d *Desk) LiftFirmReduceOnly(ctx context.Context, why string) {
	d.setFirmReduceOnly(ctx, false, why)
}

func (d *Desk) setFirmReduceOnly(ctx context.Context, on bool, detail string) {
	if d.firmReduce.Swap(on) == on {
		return
	}
	now := d.nowNs()
	lvl := limits.LevelReduceOnly.String()
	if !on {
		lvl = limits.LevelNormal.String()
	}
	d.log.Warn("firm reduce-only", "on", on)
	d.journal(ctx, journal.NewRisk("", now, journal.Risk{Event: riskFirm, Level: lvl, Who: "firm", Detail: detail}))
	if on {
		d.firmReduceAt.Store(now)
		d.alerts.Notify(alert.FirmReduceOnly(time.Unix(0, now), detail))
		return
	}
	var lasted time.Duration
	if at := d.firmReduceAt.Swap(0); at > 0 && now > at {
		lasted = time.Duration(now - at)
	}
	d.alerts.Notify(alert.FirmReduceOnlyLifted(time.Unix(0, now), lasted, detail))
}

// FirmReduceOnly reports whether the firm link's reduce-only hook is on
// (as SetFirmReduceOnly left it, or as Recover restored it).
func (d *Desk) FirmReduceOnly() bool { return d.firmReduce.Load() }

// onRules acts on what an account's marks tripped (no lock held).
func (d *Desk) onRules(ctx context.Context, f ruleFired) {
	a, ev := f.a, f.ev
	if ev.LadderNew {
		l := ev.Ladder
		switch l.Level {
		case limits.LevelLockedOut:
			d.lockout(ctx, a, limits.Breach{TimeNs: l.TimeNs, EquityCents: l.EquityCents, LineCents: l.LineCents, StartCents: l.StartCents})
		case limits.LevelWarning, limits.LevelReduceOnly:
			event := riskWarning
			if l.Level == limits.LevelReduceOnly {
				event = riskReduce
			}
			d.riskRecord(ctx, a, l.TimeNs, journal.Risk{Event: event, Level: l.Level.String(), Detail: l.String()})
			d.log.Warn("risk ladder", "account", a.id, "rung", l.Level.String(), "detail", l.String())
			d.alerts.Notify(ladderAlert(l, a.id, a.gate.Config()))
		}
	}
	if ev.TrailingNew {
		d.ruleLockout(ctx, a, TriggerTrailing, ev.Trailing)
	}
	if ev.WeeklyNew {
		d.ruleLockout(ctx, a, TriggerWeekly, ev.Weekly)
	}
	if ev.UnitsChanged {
		d.log.Warn("scaling tier lost units", "account", a.id, "units", ev.Units)
		d.riskRecord(ctx, a, d.nowNs(), journal.Risk{Event: riskTier, Detail: fmt.Sprintf("%d units", ev.Units)})
	}
	if ev.FlattenDue {
		d.blackoutFlatten(ctx, a, ev.Flatten)
	}
	if f.line {
		d.riskRecord(ctx, a, d.nowNs(), journal.Risk{Event: riskLine})
	}
}

// onDeskLadder alerts and journals the desk ladder's new rungs.
func (d *Desk) onDeskLadder(ctx context.Context, df *deskFired) {
	for lvl, ok := range df.new {
		if !ok {
			continue
		}
		l := df.ev[lvl]
		d.log.Warn("desk risk ladder", "rung", l.Level.String(), "detail", l.String())
		d.journal(ctx, journal.NewRisk("", l.TimeNs, journal.Risk{Event: riskDeskLevel, Level: l.Level.String(), Detail: l.String()}))
		d.alerts.Notify(ladderAlert(l, "", d.opt.Limits.WithDefaults()))
	}
}

func ladderAlert(l limits.LadderEvent, account string, cfg limits.Config) alert.Alert {
	used := decimal.Zero
	if l.AllowanceCents > 0 {
		used = decimal.NewFromInt(l.UsedCents).Div(decimal.NewFromInt(l.AllowanceCents)).Round(4)
	}
	f := alert.RiskFacts{Equity: accounts.Money(l.EquityCents), Line: accounts.Money(l.LineCents), From: accounts.Money(l.StartCents), Used: used}
	if l.Level == limits.LevelReduceOnly {
		return alert.ReduceOnly(time.Unix(0, l.TimeNs), account, f)
	}
	f.Next = "Reduce-only from the configured reduce-only rung, locked out at 100% used."
	if account != "" {
		f.Next = fmt.Sprintf("Reduce-only at %d%% used, locked out at 100%%.", cfg.ReduceOnlyPct)
	}
	return alert.RiskWarning(time.Unix(0, l.TimeNs), account, f)
}

// ruleLockout locks an account out for a trailing or weekly breach: the
// lockout path (the one kill: liquidated, locked_out), then the rules'
// state journaled.
func (d *Desk) ruleLockout(ctx context.Context, a *account, trig Trigger, b limits.Breach) {
	if _, err := d.kill(ctx, killOrder{scope: AccountScope(a.id), trigger: trig, who: "deskguard", breach: &b}); err != nil {
		d.log.Error("rule lockout", "account", a.id, "trigger", trig, "err", err)
	}
	event := riskTrailing
	if trig == TriggerWeekly {
		event = riskWeekly
	}
	d.riskRecord(ctx, a, b.TimeNs, journal.Risk{Event: event, Detail: b.String()})
}

// blackoutFlatten flattens an account ahead of a release (a kill that
// changes no state), then journals that it did: a restart inside the
// window does not flatten again, one before the record lands does.
func (d *Desk) blackoutFlatten(ctx context.Context, a *account, rel limits.Release) {
	d.log.Warn("news blackout: flattening", "account", a.id, "release", rel.Name, "at", time.Unix(0, rel.TimeNs).UTC())
	if _, err := d.kill(ctx, killOrder{scope: AccountScope(a.id), trigger: TriggerNewsBlackout, who: "deskguard", why: rel.Name}); err != nil {
		d.log.Error("blackout flatten", "account", a.id, "err", err)
	}
	d.riskRecord(ctx, a, d.nowNs(), journal.Risk{Event: riskBlackout, Detail: rel.Name})
	d.alerts.Notify(alert.BlackoutFlatten(d.clock.Now(), a.id, alert.RiskFacts{Release: rel.Name, ReleaseAt: time.Unix(0, rel.TimeNs)}))
}

// riskRecord journals a risk record with the account's whole rule state.
func (d *Desk) riskRecord(ctx context.Context, a *account, ns int64, r journal.Risk) {
	a.mu.Lock()
	st := a.rules.State()
	a.mu.Unlock()
	raw, err := json.Marshal(st)
	if err != nil {
		d.log.Error("risk record", "account", a.id, "err", err)
		return
	}
	r.State = raw
	d.journal(ctx, journal.NewRisk(a.id, ns, r))
}

// restoreRisk puts a risk record's state back (recovery; a.mu held).
func (a *account) restoreRisk(r journal.Risk) error {
	if len(r.State) == 0 {
		return nil
	}
	var st limits.RulesState
	if err := json.Unmarshal(r.State, &st); err != nil {
		return fmt.Errorf("risk record %s: %w", r.Event, err)
	}
	if err := a.rules.RestoreState(st); err != nil {
		return fmt.Errorf("risk record %s: %w", r.Event, err)
	}
	if a.rules.Trailing != nil {
		a.trailLine = a.rules.Trailing.LineCents()
	}
	return nil
}

// lockedByRule reports which of the account's own lines holds it locked
// at nowNs besides the day's drawdown: "trailing_drawdown", "weekly_loss"
// or "" (a.mu held).
func (a *account) lockedByRule(nowNs int64) Trigger {
	switch {
	case a.rules.Trailing != nil && a.rules.Trailing.Breached():
		return TriggerTrailing
	case a.rules.Weekly != nil && a.rules.Weekly.BreachedAt(nowNs):
		return TriggerWeekly
	}
	return ""
}

// breachRule marks the trailing or weekly line breached from a lockout
// record (recovery, when the crash came before the rules' own record).
func (a *account) breachRule(trig Trigger, ns int64) {
	switch trig {
	case TriggerTrailing:
		if t := a.rules.Trailing; t != nil && !t.Breached() {
			st := t.State()
			st.Breached, st.BreachNs = true, ns
			_ = t.RestoreState(st)
		}
	case TriggerWeekly:
		if w := a.rules.Weekly; w != nil && !w.Breached() {
			st := w.State()
			st.Breached = true
			_ = w.RestoreState(st)
		}
	}
}

// publish makes the account's working orders what the other accounts'
// gates see for self-match (a.mu held; a fresh slice each time, so a
// reader never sees one being written).
func (a *account) publish() {
	w := a.workingOrders()
	p := make([]limits.WorkingOrder, len(w))
	copy(p, w)
	a.pub.Store(&p)
}

// othersOf gathers every other account's published working orders into
// a's scratch (a.mu held): no other account's lock is taken.
func (d *Desk) othersOf(a *account) []limits.WorkingOrder {
	a.others = a.others[:0]
	if a.gate.Config().SelfMatch != limits.SelfMatchOn {
		return a.others
	}
	for _, b := range d.accts {
		if b == a {
			continue
		}
		if p := b.pub.Load(); p != nil {
			a.others = append(a.others, *p...)
		}
	}
	return a.others
}

// ResetTrailing is the risk manager's reset of an account's breached
// trailing line, with a reason: the line starts again the configured
// amount below the equity now (the one act that can lower it), journaled
// (a risk record) before the account may trade again and alerted. An
// account locked out by the trailing line alone is unlocked and its
// engines start; one whose day's drawdown or week's line also holds it
// stays locked out (unlock it).
func (d *Desk) ResetTrailing(ctx context.Context, account, who, why string) error {
	why, err := authz.Reason(authz.ResetTrailing, why)
	if err != nil {
		return err
	}
	a := d.byID[account]
	if a == nil {
		return fmt.Errorf("%w: %q", deskapi.ErrUnknownAccount, account)
	}
	now := d.nowNs()
	a.mu.Lock()
	t := a.rules.Trailing
	switch {
	case t == nil:
		a.mu.Unlock()
		return fmt.Errorf("%w: account %s has no trailing drawdown (trailing_mode off)", deskapi.ErrNotAllowed, account)
	case !t.Breached():
		a.mu.Unlock()
		return fmt.Errorf("%w: account %s: its trailing line %s is not breached", deskapi.ErrNotAllowed, account,
			accounts.Money(t.LineCents()).StringFixed(2))
	}
	// The account is locked out (halted) while the line is breached, so
	// nothing trades on the new line before its record is durable.
	t.Reset(a.ledger.EquityCents())
	a.trailLine = t.LineCents()
	line := t.LineCents()
	otherLock := a.rules.Drawdown.Breached() || a.rules.Weekly != nil && a.rules.Weekly.BreachedAt(now)
	a.mu.Unlock()
	d.riskRecord(ctx, a, now, journal.Risk{Event: riskReset, Who: who, Why: why,
		Detail: "trailing line reset to " + accounts.Money(line).StringFixed(2)})
	d.log.Warn("trailing line reset", "account", account, "who", who, "why", why, "line", accounts.Money(line).StringFixed(2))
	if a.m.State() == AcctLockedOut && !otherLock {
		if err := a.m.Fire(EvUnlock, "trailing line reset: "+why+" ("+who+")"); err != nil {
			return err
		}
		a.halted.Store(false)
		if !a.spec.EnginesOff {
			_ = a.m.Fire(EvStart, "trailing line reset")
		}
		a.tellWorker()
	}
	d.alerts.Notify(alert.TrailingReset(d.clock.Now(), account, who, why))
	return nil
}

// usage is an account's risk usage for Status (a.mu held).
func (a *account) usage(d *Desk) *deskapi.RiskUsage {
	var s limits.Snapshot
	s.NowNs = d.nowNs()
	eq := a.ledger.EquityCents()
	a.ledger.FillSnapshot(&s, a.rules.Drawdown)
	a.rules.Fill(&s, eq)
	u := a.rules.Usage(a.gate, &s, eq)
	m := func(c int64) string { return accounts.Money(c).StringFixed(2) }
	ts := func(ns int64) string {
		if ns == 0 {
			return ""
		}
		return time.Unix(0, ns).UTC().Format(time.RFC3339)
	}
	out := &deskapi.RiskUsage{Level: u.Level.String(), AllowanceUsed: m(u.AllowanceUsedCents), Allowance: m(u.AllowanceCents),
		TradesToday: u.TradesToday, TradeLimit: u.TradeLimit, OrdersToday: u.OrdersToday, OrderLimit: u.OrderLimit,
		TierUnits: u.TierUnits, TierMaxPos: u.TierMaxPosition, MaxPosition: u.MaxPositionNow, CooldownUntil: ts(u.CooldownUntilNs),
		NearestRule: string(u.NearestRule), NearestBP: u.NearestBP, NextRelease: u.NextReleaseName, NextReleaseAt: ts(u.NextReleaseNs),
		BlackoutFrom: ts(u.BlackoutWindowStart), NearestLeft: nearestLeft(u, &s, eq, a.gate.Config())}
	if t := a.rules.Trailing; t != nil {
		out.TrailingLine, out.TrailingLeft, out.TrailingBroken = m(u.TrailingLineCents), m(u.TrailingLeftCents), t.Breached()
	}
	if w := a.rules.Weekly; w != nil {
		out.WeeklyLine, out.WeeklyBroken = m(u.WeeklyLineCents), w.BreachedAt(s.NowNs)
	}
	return out
}
