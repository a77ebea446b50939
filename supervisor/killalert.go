package supervisor

// killalert.go: the kill's alert to the risk manager, as its trigger says
// (a kill, a lockout, a trailing or weekly breach, a fault; none for a
// flatten only). Built after the liquidations are out: it reads the books
// without waiting for them (TryLock), or once the tick path lets go.

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/alert"
)

// killAlert tells the risk manager, as the trigger says. The positions
// it reports are read without waiting: if the tick path holds an account's
// books, the alert is built and sent once it lets go.
func (d *Desk) killAlert(k killOrder, eff effect, scope []*account, ids []string) {
	if eff != effHalt {
		d.sendKillAlert(k, eff, scope, ids, killFacts{})
		return
	}
	if f, ok := readKillFacts(scope, true); ok {
		d.sendKillAlert(k, eff, scope, ids, f)
		return
	}
	d.later.Add(1)
	go func() {
		defer d.later.Done()
		f, _ := readKillFacts(scope, false)
		d.sendKillAlert(k, eff, scope, ids, f)
	}()
}

// killFacts are the positions being flattened and the net PnL of the scope.
type killFacts struct {
	flattened []alert.Position
	net       int64
}

// killFacts reads them; with try, only if no account's books are held
// (ok false otherwise).
func readKillFacts(scope []*account, try bool) (killFacts, bool) {
	var f killFacts
	for _, a := range scope {
		if try {
			if !a.mu.TryLock() {
				return killFacts{}, false
			}
		} else {
			a.mu.Lock()
		}
		if p := a.ledger.Position(); p != 0 {
			f.flattened = append(f.flattened, alert.Position{Account: a.id, Qty: p})
		}
		f.net += a.ledger.EquityCents() - a.ledger.StartCents()
		a.mu.Unlock()
	}
	return f, true
}

func (d *Desk) sendKillAlert(k killOrder, eff effect, scope []*account, ids []string, kf killFacts) {
	now := d.clock.Now()
	switch eff {
	case effHalt:
		acct := ""
		if !k.scope.IsDesk() {
			acct = k.scope.String()
		}
		d.alerts.Notify(alert.Kill(now, alert.KillFacts{Scope: acct, Trigger: string(k.trigger), Who: k.who, Accounts: ids,
			Flattened: kf.flattened, NetPnL: accounts.Money(kf.net)}))
	case effLockout:
		if b := k.breach; b != nil {
			a := scope[0]
			at := time.Unix(0, b.TimeNs)
			rf := alert.RiskFacts{Equity: accounts.Money(b.EquityCents), Line: accounts.Money(b.LineCents), From: accounts.Money(b.StartCents)}
			switch k.trigger {
			case TriggerTrailing:
				d.alerts.Notify(alert.TrailingBreach(at, a.id, rf))
			case TriggerWeekly:
				d.alerts.Notify(alert.WeeklyBreach(at, a.id, rf))
			default:
				d.alerts.Notify(alert.Lockout(at, a.id, alert.LockoutFacts{Equity: accounts.Money(b.EquityCents),
					StartEquity: accounts.Money(b.StartCents), Limit: a.gate.Config().DrawdownPct.Div(decimal.NewFromInt(100))}))
			}
		}
	case effFault:
		for _, a := range scope {
			d.alerts.Notify(alert.WorkerFault(now, a.id, k.why))
		}
	}
}
