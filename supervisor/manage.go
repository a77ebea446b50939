package supervisor

// manage.go: the authorized acts on the desk other than the kill —
// re-arm, an early unlock, clearing a fault, engines on and off, the
// simulated button (the trailing line's reset is in rules.go) — and the outside links' health (degraded while one is
// down). Each is journaled before it takes effect and alerted.

import (
	"context"
	"fmt"
	"time"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/authz"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// Rearm returns a halted desk to running and its halted accounts to idle
// (trading again where their engines are on). Locked-out and faulted
// accounts stay as they are.
func (d *Desk) Rearm(ctx context.Context, who, why string) error {
	why, err := authz.Reason(authz.Rearm, why)
	if err != nil {
		return err
	}
	switch d.m.State() {
	case DeskHalted:
	case DeskHalting:
		return fmt.Errorf("%w: the desk is still halting (not yet flat)", deskapi.ErrNotAllowed)
	default:
		// A running desk may re-arm accounts an account-scoped kill halted;
		// with none, there is nothing to re-arm (and nothing is journaled).
		any := false
		for _, a := range d.accts {
			any = any || a.m.State() == AcctHalted
		}
		if !any {
			return fmt.Errorf("%w: the desk is %s and no account is halted", deskapi.ErrNotAllowed, d.m.State())
		}
	}
	d.journal(ctx, journal.NewRearm(d.nowNs(), who, why))
	if d.m.State() == DeskHalted {
		if err := d.m.Fire(EvRearm, "re-armed by "+who); err != nil {
			return err
		}
	}
	for _, a := range d.accts {
		if a.m.State() == AcctHalted {
			_ = a.m.Fire(EvRearm, "re-armed by "+who)
			a.halted.Store(false)
			if !a.spec.EnginesOff {
				_ = a.m.Fire(EvStart, "re-armed")
			}
			a.tellWorker()
		}
	}
	d.alerts.Notify(alert.Rearmed(d.clock.Now(), who, why))
	return nil
}

// Unlock lifts an account's lockout early (the risk manager, with a
// reason checked by authz.Reason); account "" lifts the desk's lockout
// (unlockDesk).
func (d *Desk) Unlock(ctx context.Context, account, who, why string) error {
	if account == "" {
		return d.unlockDesk(ctx, who, why)
	}
	why, err := authz.Reason(authz.Unlock, why)
	if err != nil {
		return err
	}
	a := d.byID[account]
	if a == nil {
		return fmt.Errorf("%w: %q", deskapi.ErrUnknownAccount, account)
	}
	if a.m.State() != AcctLockedOut {
		return fmt.Errorf("%w: account %s is %s, not locked_out", deskapi.ErrNotAllowed, account, a.m.State())
	}
	a.mu.Lock()
	trailing := a.rules.Trailing != nil && a.rules.Trailing.Breached()
	a.mu.Unlock()
	if trailing {
		// The trailing line is lifted only by its own reset (ResetTrailing).
		return fmt.Errorf("%w: account %s is past its trailing drawdown line: reset it (deskguard reset-trailing %s --reason ...)",
			deskapi.ErrNotAllowed, account, account)
	}
	now := d.nowNs()
	d.journal(ctx, journal.NewUnlock(account, now, who, why))
	a.mu.Lock()
	// The day's allowance starts again from the equity now: with the old
	// line the next trade would breach (and lock out) again at once. So
	// does the week's, when its line is what held the account.
	eq := a.ledger.EquityCents()
	a.rules.Drawdown.Reset(eq)
	if w := a.rules.Weekly; w != nil && w.Breached() {
		w.Unlock(eq)
	}
	a.mu.Unlock()
	d.riskRecord(ctx, a, now, journal.Risk{Event: riskUnlock, Who: who, Why: why})
	if err := a.m.Fire(EvUnlock, why+" ("+who+")"); err != nil {
		return err
	}
	a.halted.Store(false)
	if !a.spec.EnginesOff {
		// As after a session reset: an unlocked account trades again
		// (left idle, its gate would refuse every entry as halted).
		_ = a.m.Fire(EvStart, "unlocked")
	}
	a.tellWorker()
	d.alerts.Notify(alert.Unlocked(d.clock.Now(), account, who, why))
	return nil
}

// unlockDesk lifts the desk-wide drawdown lockout before the session
// reset: journaled with the equities the desk's allowance starts again
// from (as an account's unlock does, the line is measured anew from the
// equity now: with the old one the next trade would lock out again at
// once), then entries are allowed again. A halted desk stays halted until
// it is re-armed.
func (d *Desk) unlockDesk(ctx context.Context, who, why string) error {
	why, err := authz.Reason(authz.UnlockDesk, why)
	if err != nil {
		return err
	}
	if !d.deskLocked.Load() {
		return fmt.Errorf("%w: the desk is not locked out", deskapi.ErrNotAllowed)
	}
	eq := d.equities()
	d.journal(ctx, journal.NewDeskUnlock(d.nowNs(), who, why, moneyMap(eq)))
	d.tick.mu.Lock()
	d.tick.deskMon.Reset(eq) // the ladder back on its first rung, from the equities now
	d.tick.deskStarts = eq
	d.deskLevel.Store(uint32(limits.LevelNormal))
	d.tick.mu.Unlock()
	d.deskLocked.Store(false)
	d.log.Warn("desk lockout lifted", "who", who, "why", why)
	d.lightsChanged()
	d.alerts.Notify(alert.Unlocked(d.clock.Now(), "", who, why))
	return nil
}

// equities reads every account's equity now, in cents.
func (d *Desk) equities() map[string]int64 {
	out := make(map[string]int64, len(d.accts))
	for _, a := range d.accts {
		a.mu.Lock()
		out[a.id] = a.ledger.EquityCents()
		a.mu.Unlock()
	}
	return out
}

func moneyMap(cents map[string]int64) map[string]string {
	out := make(map[string]string, len(cents))
	for id, c := range cents {
		out[id] = accounts.Money(c).StringFixed(2)
	}
	return out
}

// ClearFault returns a faulted account (a reconcile mismatch, a worker
// crash loop) to idle, and to trading where its engines are on: the risk
// manager's explicit act, with a reason, journaled (kind "clear", then the
// transition) and alerted. It is refused unless the account is faulted,
// while a desk kill is in force (halting or halted: re-arm first), while
// the account is past its drawdown line (the session reset lifts that),
// when its worker crash-looped and stopped (restart the desk for a new
// one), and unless the venue agrees with the desk: the account's position
// at the venue equals the ledger's and is covered in full by working
// stop-market orders at the venue.
func (d *Desk) ClearFault(ctx context.Context, account, who, why string) error {
	why, err := authz.Reason(authz.Clear, why)
	if err != nil {
		return err
	}
	a := d.byID[account]
	if a == nil {
		return fmt.Errorf("%w: %q", deskapi.ErrUnknownAccount, account)
	}
	if st := a.m.State(); st != AcctFaulted {
		return fmt.Errorf("%w: account %s is %s, not faulted", deskapi.ErrNotAllowed, account, st)
	}
	switch ds := d.m.State(); ds {
	case DeskRunning, DeskDegraded:
	case DeskHalting:
		return fmt.Errorf("%w: the desk is still halting (not yet flat)", deskapi.ErrNotAllowed)
	default:
		return fmt.Errorf("%w: the desk is %s: re-arm it before clearing an account", deskapi.ErrNotAllowed, ds)
	}
	a.mu.Lock()
	breached := a.rules.Drawdown.Breached()
	a.mu.Unlock()
	if breached {
		return fmt.Errorf("%w: account %s is past its drawdown line: it stays faulted until the session reset", deskapi.ErrNotAllowed, account)
	}
	if proc := a.proc(); proc != nil {
		select {
		case <-proc.Done():
			return fmt.Errorf("%w: account %s: its worker crash-looped and has stopped; restart the desk for a new one, then clear", deskapi.ErrNotAllowed, account)
		default:
		}
	}
	if err := d.venueAgrees(ctx, a); err != nil {
		return fmt.Errorf("%w: account %s: %v", deskapi.ErrNotAllowed, account, err)
	}
	d.journal(ctx, journal.NewClear(account, d.nowNs(), who, why))
	if err := a.m.Fire(EvClear, why+" ("+who+")"); err != nil {
		return fmt.Errorf("%w: %v", deskapi.ErrNotAllowed, err)
	}
	a.mu.Lock()
	a.dirty = true // stop coverage looked at again on the next settle
	a.mu.Unlock()
	a.halted.Store(false)
	if !a.spec.EnginesOff {
		_ = a.m.Fire(EvStart, "fault cleared")
	}
	a.tellWorker()
	d.alerts.Notify(alert.FaultCleared(d.clock.Now(), account, who, why))
	return nil
}

// venueAgrees checks an account against the venue itself: its position
// there equals the ledger's, and working stop-market orders on the closing
// side cover all of it.
func (d *Desk) venueAgrees(ctx context.Context, a *account) error {
	v, err := d.venueOf(ctx, a)
	if err != nil {
		return err
	}
	a.mu.Lock()
	lq := a.ledger.Position()
	a.mu.Unlock()
	if v.pos.Qty != lq {
		return fmt.Errorf("position at the venue %d, in the ledger %d: not reconciled (flatten the account, or restart the desk to reconcile)", v.pos.Qty, lq)
	}
	if lq == 0 {
		return nil
	}
	exit := market.Sell
	if lq < 0 {
		exit = market.Buy
	}
	var work []limits.WorkingOrder
	covered := int64(0)
	for _, o := range v.open {
		if o.Status == broker.Pending || o.Status.Done() {
			continue // an exit not yet armed protects nothing
		}
		role := limits.RoleOther
		if o.Role == broker.StopLeg || (o.Role == broker.Single && o.Type == market.StopOrder) {
			role = limits.RoleStop
		}
		wo := limits.WorkingOrder{ClientID: o.ClientID, Role: role, Side: o.Side, Qty: o.Qty - o.FilledQty, Type: o.Type, Price: venuePrice(o)}
		if role == limits.RoleStop && o.Side == exit && o.Type == market.StopOrder {
			covered += wo.Qty
		}
		work = append(work, wo)
	}
	if ok, _ := limits.StopCoverage(lq, work, 0, 0); !ok {
		return fmt.Errorf("position %d has working stop cover for only %d at the venue (wait for the stop repair, or flatten the account)", lq, covered)
	}
	return nil
}

// SetEngines starts or stops an account's engines.
func (d *Desk) SetEngines(ctx context.Context, account string, run bool, who string) error {
	a := d.byID[account]
	if a == nil {
		return fmt.Errorf("%w: %q", deskapi.ErrUnknownAccount, account)
	}
	ev := EvStop
	if run {
		ev = EvStart
	}
	cmd := "engines off"
	if run {
		cmd = "engines on"
	}
	d.journal(ctx, journal.NewCommand(account, d.nowNs(), journal.Command{Who: who, Command: cmd, Allowed: true}))
	if err := a.m.Fire(ev, "engines by "+who); err != nil {
		return fmt.Errorf("%w: %v", deskapi.ErrNotAllowed, err)
	}
	a.tellWorker()
	return nil
}

// Press presses the simulated panic button, through the same debounce and
// watcher code as the real one.
func (d *Desk) Press(ctx context.Context, who string) error {
	if d.opt.PressButton == nil {
		return deskapi.ErrNoSimButton
	}
	d.journal(ctx, journal.NewCommand("", d.nowNs(), journal.Command{Who: who, Source: "button", Command: "press sim button", Allowed: true}))
	return d.opt.PressButton()
}

// LinkHealth records an outside link going down or coming back (the panic
// button's watcher, the broker or the data feed). While any link is down
// the desk is degraded: no new entries, brackets stay at the venue. It
// alerts both ways.
func (d *Desk) LinkHealth(link string, ok bool, why string) {
	d.links.mu.Lock()
	if d.links.down == nil {
		d.links.down = map[string]time.Time{}
	}
	since, wasDown := d.links.down[link]
	if ok {
		delete(d.links.down, link)
	} else if !wasDown {
		d.links.down[link] = d.wall.Now()
	}
	anyDown := len(d.links.down) > 0
	d.links.mu.Unlock()
	if ok == !wasDown {
		return // no change
	}
	d.journal(context.Background(), journal.NewLink(d.nowNs(), journal.Link{Link: link, OK: ok, Why: why}))
	if !ok {
		d.log.Error("link down", "link", link, "why", why)
		if d.m.Can(EvDegrade) {
			_ = d.m.Fire(EvDegrade, link+": "+why)
		}
		d.alerts.Notify(alert.LinkLost(d.clock.Now(), link, why))
		return
	}
	d.log.Info("link back", "link", link)
	if !anyDown && d.m.State() == DeskDegraded {
		_ = d.m.Fire(EvRestore, link+" back")
	}
	d.alerts.Notify(alert.LinkBack(d.clock.Now(), link, d.wall.Now().Sub(since)))
}
