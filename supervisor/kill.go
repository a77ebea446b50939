package supervisor

// kill.go: the kill path (DESIGN.md "The three paths", 3) and the other
// authorized acts on the desk: re-arm, unlock, clearing a fault, engines
// on/off, the simulated button. Flatten shares no lock or queue with the tick path
// that a slow engine could fill: it raises atomic halt flags first, then
// waits only for in-flight sends (one journal fsync at most) before the
// liquidations go out, one goroutine per account.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/deskguard/deskguard/alerts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// KillRecord is the journal body of a kill.
type KillRecord struct {
	Scope    string   `json:"scope"` // "desk" or the account id
	Trigger  string   `json:"trigger"`
	Who      string   `json:"who"`
	Accounts []string `json:"accounts"`
}

// KillReport measures one kill.
type KillReport struct {
	Trigger       string
	Accounts      int
	JournalNs     time.Duration // trigger → kill durable
	SentNs        time.Duration // trigger → every liquidate request returned, journal excluded
	TotalNs       time.Duration // trigger → every liquidate request returned
	RepeatIgnored bool
}

// Flatten halts and liquidates the desk (account "") or one account. It
// returns once every liquidation request has been sent; the desk (or the
// account) reaches halted when the venue confirms it flat. Pressing again
// while halting is harmless: the liquidations are simply sent again.
func (d *Desk) Flatten(ctx context.Context, account, trigger, who string) error {
	_, err := d.flatten(ctx, account, trigger, who)
	return err
}

// FlattenReport is Flatten with timings (benchmarks, the drill).
func (d *Desk) FlattenReport(ctx context.Context, account, trigger, who string) (KillReport, error) {
	return d.flatten(ctx, account, trigger, who)
}

func (d *Desk) flatten(ctx context.Context, acct, trigger, who string) (KillReport, error) {
	ctx = context.WithoutCancel(ctx) // a kill is never lost to a cancelled context
	t0 := time.Now()
	var scope []*account
	if acct == "" {
		scope = d.accts
	} else {
		a := d.byID[acct]
		if a == nil {
			return KillReport{}, fmt.Errorf("%w: %q", deskapi.ErrUnknownAccount, acct)
		}
		scope = []*account{a}
	}
	// 1. Raise the halt flags: from here every risk-adding intent is refused.
	for _, a := range scope {
		a.halted.Store(true)
	}
	ids := make([]string, len(scope))
	for i, a := range scope {
		ids[i] = a.id
	}
	scopeName := acct
	if acct == "" {
		scopeName = "desk"
	}
	// 2. Journal the kill (durable) before anything reaches the venue.
	_, jerr := d.j.Append(ctx, Entry{Kind: "kill", Account: acct, Market: d.nowNs(),
		Body: KillRecord{Scope: scopeName, Trigger: trigger, Who: who, Accounts: ids}})
	tj := time.Now()
	if jerr != nil {
		// The kill goes ahead regardless: flattening reduces risk.
		d.journalFailed(jerr)
	}
	// 3. Workers told to halt (non-blocking), then every account in scope
	// liquidated in parallel. The state machines move at the same time in
	// their own goroutine: each transition is a journal append (an fsync),
	// and 20 of them in a row must not stand between the kill and the venue.
	repeat := acct == "" && (d.m.State() == DeskHalting || d.m.State() == DeskHalted)
	for _, a := range scope {
		d.haltWorker(a)
	}
	machines := make(chan struct{})
	go func() {
		defer close(machines)
		if acct == "" && !repeat {
			if err := d.m.Fire(EvHalt, trigger+" by "+who); err != nil {
				d.log.Warn("desk halt transition", "err", err)
			}
		}
		// The accounts' transitions at once: their journal appends share
		// commits instead of taking one fsync each in a row.
		var mwg sync.WaitGroup
		for _, a := range scope {
			if a.m.Can(EvHalt) {
				mwg.Add(1)
				go func() {
					defer mwg.Done()
					_ = a.m.Fire(EvHalt, trigger+" by "+who)
				}()
			}
		}
		mwg.Wait()
	}()
	var wg sync.WaitGroup
	for _, a := range scope {
		wg.Add(1)
		go func(a *account) {
			defer wg.Done()
			d.liquidateAccount(ctx, a, trigger, who)
		}(a)
	}
	wg.Wait()
	t1 := time.Now()
	rep := KillReport{Trigger: trigger, Accounts: len(scope), JournalNs: tj.Sub(t0), SentNs: t1.Sub(tj), TotalNs: t1.Sub(t0), RepeatIgnored: repeat}
	<-machines
	d.mu.Lock()
	d.kills = append(d.kills, rep)
	d.mu.Unlock()
	d.log.Warn("kill sent", "scope", scopeName, "trigger", trigger, "who", who, "accounts", len(scope), "elapsed", rep.TotalNs)
	d.alerts.Notify(d.killAlert(scopeName, acct, trigger, who, ids))
	for _, a := range scope {
		d.checkHalted(a)
	}
	return rep, nil
}

// checkHalted completes halting → halted for an account once it is flat
// with nothing working, and the desk once every account is.
func (d *Desk) checkHalted(a *account) {
	d.mu.Lock()
	pos := a.ledger.Position()
	flat := pos == 0 && len(a.workingOrders()) == 0
	d.mu.Unlock()
	if pos == 0 {
		// The liquidation is done: stop coverage is the repair's again (a
		// flat account needs none; what still works is being cancelled).
		a.liquidating.Store(false)
	}
	if flat && a.m.State() == AcctHalting {
		_ = a.m.Fire(EvHalted, "flat at the venue")
	}
	if d.m.State() != DeskHalting {
		return
	}
	d.mu.Lock()
	all := true
	for _, x := range d.accts {
		if x.ledger.Position() != 0 || len(x.workingOrders()) > 0 {
			all = false
			break
		}
	}
	d.mu.Unlock()
	if all {
		_ = d.m.Fire(EvHalted, "every account flat")
	}
}

// Rearm returns a halted desk to running and its halted accounts to idle
// (trading again where their engines are on). Locked-out and faulted
// accounts stay as they are.
func (d *Desk) Rearm(ctx context.Context, who, why string) error {
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
	d.journal(ctx, Entry{Kind: "rearm", Market: d.nowNs(), Body: map[string]string{"who": who, "why": why}})
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
			d.resumeWorker(a)
		}
	}
	d.alerts.Notify(alerts.Rearmed(d.clock.Now(), who, why))
	return nil
}

// Unlock lifts an account's lockout early (the risk manager, with a reason).
func (d *Desk) Unlock(ctx context.Context, account, who, why string) error {
	if why == "" {
		return deskapi.ErrReasonRequired
	}
	a := d.byID[account]
	if a == nil {
		return fmt.Errorf("%w: %q", deskapi.ErrUnknownAccount, account)
	}
	if a.m.State() != AcctLockedOut {
		return fmt.Errorf("%w: account %s is %s, not locked_out", deskapi.ErrNotAllowed, account, a.m.State())
	}
	d.journal(ctx, Entry{Kind: "unlock", Account: account, Market: d.nowNs(), Body: map[string]string{"who": who, "why": why}})
	d.mu.Lock()
	// The day's allowance starts again from the equity now: with the old
	// line the next trade would breach (and lock out) again at once.
	a.mon.Reset(a.ledger.EquityCents())
	d.mu.Unlock()
	if err := a.m.Fire(EvUnlock, why+" ("+who+")"); err != nil {
		return err
	}
	a.halted.Store(false)
	if !a.spec.EnginesOff {
		// As after a session reset: an unlocked account trades again
		// (left idle, its gate would refuse every entry as halted).
		_ = a.m.Fire(EvStart, "unlocked")
	}
	d.resumeWorker(a)
	d.alerts.Notify(alerts.Unlocked(d.clock.Now(), account, who, why))
	return nil
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
	if strings.TrimSpace(why) == "" {
		return deskapi.ErrReasonRequired
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
	d.mu.Lock()
	breached := a.mon.Breached()
	d.mu.Unlock()
	if breached {
		return fmt.Errorf("%w: account %s is past its drawdown line: it stays faulted until the session reset", deskapi.ErrNotAllowed, account)
	}
	if _, proc := d.hostsOf(a); proc != nil {
		select {
		case <-proc.Done():
			return fmt.Errorf("%w: account %s: its worker crash-looped and has stopped; restart the desk for a new one, then clear", deskapi.ErrNotAllowed, account)
		default:
		}
	}
	if err := d.venueAgrees(ctx, a); err != nil {
		return fmt.Errorf("%w: account %s: %v", deskapi.ErrNotAllowed, account, err)
	}
	d.journal(ctx, Entry{Kind: string(kindClear), Account: account, Market: d.nowNs(), Body: map[string]string{"who": who, "why": why}})
	if err := a.m.Fire(EvClear, why+" ("+who+")"); err != nil {
		return fmt.Errorf("%w: %v", deskapi.ErrNotAllowed, err)
	}
	d.mu.Lock()
	a.dirty = true // stop coverage looked at again on the next settle
	d.mu.Unlock()
	a.halted.Store(false)
	if !a.spec.EnginesOff {
		_ = a.m.Fire(EvStart, "fault cleared")
	}
	d.resumeWorker(a)
	d.alerts.Notify(alerts.FaultCleared(d.clock.Now(), account, who, why))
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
	d.mu.Lock()
	lq := a.ledger.Position()
	d.mu.Unlock()
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
	d.journal(ctx, Entry{Kind: "command", Account: account, Market: d.nowNs(), Body: map[string]any{"who": who, "engines": run}})
	if err := a.m.Fire(ev, "engines by "+who); err != nil {
		return fmt.Errorf("%w: %v", deskapi.ErrNotAllowed, err)
	}
	if run {
		d.resumeWorker(a)
	} else {
		d.haltWorker(a)
	}
	return nil
}

// Press presses the simulated panic button, through the same debounce and
// watcher code as the real one.
func (d *Desk) Press(ctx context.Context, who string) error {
	if d.opt.PressButton == nil {
		return deskapi.ErrNoSimButton
	}
	d.journal(ctx, Entry{Kind: "command", Market: d.nowNs(), Body: map[string]string{"who": who, "command": "press sim button"}})
	return d.opt.PressButton()
}

// Kills returns the timing of every kill so far.
func (d *Desk) Kills() []KillReport {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]KillReport(nil), d.kills...)
}

// LinkHealth records an outside link going down or coming back (the panic
// button's watcher, the broker or the data feed). While any link is down
// the desk is degraded: no new entries, brackets stay at the venue. It
// alerts both ways.
func (d *Desk) LinkHealth(link string, ok bool, why string) {
	d.mu.Lock()
	if d.linksDown == nil {
		d.linksDown = map[string]time.Time{}
	}
	since, wasDown := d.linksDown[link]
	if ok {
		delete(d.linksDown, link)
	} else if !wasDown {
		d.linksDown[link] = time.Now()
	}
	anyDown := len(d.linksDown) > 0
	d.mu.Unlock()
	if ok == !wasDown {
		return // no change
	}
	d.journal(context.Background(), Entry{Kind: "marker", Market: d.nowNs(), Body: map[string]any{"link": link, "ok": ok, "why": why}})
	if !ok {
		d.log.Error("link down", "link", link, "why", why)
		if d.m.Can(EvDegrade) {
			_ = d.m.Fire(EvDegrade, link+": "+why)
		}
		d.alerts.Notify(alerts.LinkLost(d.clock.Now(), link, why))
		return
	}
	d.log.Info("link back", "link", link)
	if !anyDown && d.m.State() == DeskDegraded {
		_ = d.m.Fire(EvRestore, link+" back")
	}
	d.alerts.Notify(alerts.LinkBack(d.clock.Now(), link, time.Since(since)))
}
