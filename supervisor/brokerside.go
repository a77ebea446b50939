package supervisor

// brokerside.go: what the desk asks of a broker that can do more than the
// Broker interface (broker/optional.go), found by type assertion so that
// any venue offering a capability gets it and none is named here: orders
// rebound by the venue's own ids after a restart (Adopter), positions
// carried from an earlier trade date booked at the broker's price for them
// (Position.PrevQty, PrevPrice), the broker's own risk limits set as a
// second line at start (RiskSetter: daily loss = the account's lockout
// allowance, flatten time = the desk's flat-by), and the ledger checked
// against the broker's cash balance (CashReporter) at start and again each
// time the connection has resynchronised (Syncer's count grew: a
// reconnect). It touches the accounts' books under a.mu (never across a
// broker call), the journal and the alerts.

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

// Risk record events of the broker's side (journal.Risk.Event).
const (
	riskBrokerSet     = "broker_risk_set"
	riskBrokerRefused = "broker_risk_refused"
)

// adoptVenueOrders rebinds each live order the journal names by the
// venue's own id (Event.VenueOrder, journaled with every broker event) to
// its client id at the connection: a venue that does not echo client
// order ids (Tradovate's clOrdId lives only on the command entity, and may
// come back empty) would otherwise list the desk's orders under its own
// names after a restart, and the desk could neither cancel nor move them.
// Runs after recovery, before reconciliation.
func (d *Desk) adoptVenueOrders() {
	ad, ok := d.br.(broker.Adopter)
	if !ok {
		return
	}
	for _, a := range d.accts {
		type bind struct{ id, venue string }
		var bs []bind
		a.mu.Lock()
		for id, o := range a.orders {
			if o.venue != "" && !o.done() {
				bs = append(bs, bind{id, o.venue})
			}
		}
		a.mu.Unlock()
		sort.Slice(bs, func(i, j int) bool { return bs[i].id < bs[j].id })
		for _, b := range bs {
			if err := ad.Adopt(a.id, b.id, b.venue); err != nil {
				d.log.Warn("adopt: the venue's order not rebound", "account", a.id, "id", b.id, "venue_order", b.venue, "err", err)
				continue
			}
			d.log.Info("adopt: order rebound by the venue's id", "account", a.id, "id", b.id, "venue_order", b.venue)
		}
	}
}

// carryPositions books, for each account the desk holds flat with no
// fill this session, the position the venue says was carried from an
// earlier trade date (PrevQty at PrevPrice): as the venue books it, at its
// carried price with no fee, so today's PnL against it is the venue's and
// there is no phantom realized PnL. Journaled as a reconcile record whose
// correction is Carried (recovery books it again). It returns the venue's
// positions by account.
func (d *Desk) carryPositions(ctx context.Context) (map[string]broker.Position, error) {
	pos, err := d.br.Positions(ctx)
	if err != nil {
		return nil, fmt.Errorf("supervisor: carried positions: %w", err)
	}
	venue := map[string]broker.Position{}
	for _, p := range pos {
		venue[p.Account] = p
	}
	for _, a := range d.accts {
		p := venue[a.id]
		if p.PrevQty == 0 || p.PrevPrice <= 0 {
			continue
		}
		side := market.Buy
		if p.PrevQty < 0 {
			side = market.Sell
		}
		c := journal.Correction{Time: d.nowNs(), Side: side, Qty: abs64(p.PrevQty), Price: p.PrevPrice, Carried: true}
		a.mu.Lock()
		if a.ledger.Position() != 0 {
			a.mu.Unlock() // the journal has it already (a restart the same trade date)
			continue
		}
		err := a.ledger.Carry(c.Time, c.Side, c.Qty, c.Price)
		if err == nil {
			// No order of the desk's opened it: its stop is placed within
			// the allowance, as for an external order's (coverage.go).
			a.dirty, a.extOpen = true, true
			a.publish()
		}
		a.mu.Unlock()
		if err != nil {
			// Fills this session already: the position check settles it.
			d.log.Warn("carried position not booked", "account", a.id, "prev_qty", p.PrevQty, "err", err)
			continue
		}
		d.log.Info("carried position booked", "account", a.id, "qty", p.PrevQty, "price", p.PrevPrice.String())
		d.journal(ctx, journal.NewReconcile(a.id, c.Time, journal.Reconcile{JournalPosition: 0, VenuePosition: p.Qty, Correction: &c}))
	}
	return venue, nil
}

// flatBy is the desk's next flat-by time (zero when the job is off).
func (d *Desk) flatBy() time.Time {
	d.tick.mu.Lock()
	defer d.tick.mu.Unlock()
	return d.tick.sched.NextOf(JobFlattenDay)
}

// setBrokerRisk sets, on a broker that holds risk limits of its own, each
// account's daily loss auto-liquidation to its lockout allowance (start
// equity less the lockout line) and, for a day account, its flatten time
// to the desk's flat-by: a desk that dies is still bounded at the broker.
// What the broker holds after (read back) is journaled and shown in
// status; a refusal (changes locked, a read-back that differs, an error)
// is journaled, shown ("broker risk not set: ...") and alerted.
func (d *Desk) setBrokerRisk(ctx context.Context) {
	rs, ok := d.br.(broker.RiskSetter)
	if !ok {
		return
	}
	flat := d.flatBy()
	loc := market.NewYork
	for _, a := range d.accts {
		a.mu.Lock()
		allow := a.ledger.StartCents() - a.rules.Drawdown.LineCents()
		a.mu.Unlock()
		if allow <= 0 {
			continue
		}
		loss := accounts.Money(allow)
		var at time.Time
		if a.spec.DayTrading {
			at = flat
		}
		got, err := rs.SetAutoLiq(ctx, a.id, loss, at)
		now := d.nowNs()
		if err != nil {
			why := "broker risk not set: " + err.Error()
			a.mu.Lock()
			a.brokerRiskSet = why
			a.mu.Unlock()
			d.log.Error("broker risk not set", "account", a.id, "daily_loss", loss.StringFixed(2), "err", err)
			d.journal(ctx, journal.NewRisk(a.id, now, journal.Risk{Event: riskBrokerRefused,
				Detail: fmt.Sprintf("asked daily loss %s, flatten at %s; the broker holds %s", loss.StringFixed(2), fmtFlatten(at, loc),
					autoLiqText(got, loc)), Why: err.Error()}))
			d.alerts.Notify(alert.Broker(d.clock.Now(), a.id, alert.Critical, "broker risk not set",
				fmt.Sprintf("the broker did not take the desk's second line (daily loss %s, flatten at %s): %v; the desk's own limits still hold",
					loss.StringFixed(2), fmtFlatten(at, loc), err)))
			continue
		}
		set := autoLiqText(got, loc)
		a.mu.Lock()
		a.brokerRiskSet = set
		a.mu.Unlock()
		d.log.Info("broker risk set", "account", a.id, "set", set)
		d.journal(ctx, journal.NewRisk(a.id, now, journal.Risk{Event: riskBrokerSet, Detail: set}))
	}
}

// refreshBrokerRisk sets the broker's risk limits again at the session
// reset: the broker's flatten time is a moment (Tradovate's
// userAccountAutoLiq.flattenTimestamp is a date-time, services.swagger.yaml
// in tradovate/example-api-csharp-trading), so the day's flat-by passed
// leaves the broker flattening at nothing from then on, and the allowance
// is measured from the new session's start equity. The broker is called
// in the background (d.later), never on the tick path that runs the
// schedule; before Start's own setting it does nothing.
func (d *Desk) refreshBrokerRisk(ctx context.Context) {
	if _, ok := d.br.(broker.RiskSetter); !ok || !d.brokerStarted.Load() {
		return
	}
	d.later.Add(1)
	go func() {
		defer d.later.Done()
		d.riskMu.Lock() // one setting at a time, in the order asked
		defer d.riskMu.Unlock()
		d.setBrokerRisk(ctx)
	}()
}

func fmtFlatten(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "none"
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// autoLiqText is what the broker holds, for status and the journal.
func autoLiqText(l broker.AutoLiq, loc *time.Location) string {
	if !l.Set {
		return "nothing"
	}
	s := "daily loss " + l.DailyLoss.StringFixed(2) + ", flatten at " + fmtFlatten(l.FlattenAt, loc)
	if l.ChangesLocked {
		s += " (changes locked)"
	}
	return s
}

// cashTolerance is how far apart the ledger and the broker's cash balance
// may be: a cent per contract of the open position, at least a cent. Both
// sides count realized PnL exactly in ticks; only the broker's rounding of
// its figures to the cent parts them.
func cashTolerance(pos int64) decimal.Decimal { return accounts.Money(max(1, abs64(pos))) }

// CashMismatch is an account whose ledger the broker's cash balance did
// not bear out.
type CashMismatch struct {
	Account string
	Check   journal.CashCheck
}

// CheckCash compares each account's ledger with the broker's own cash
// balance snapshot (a CashReporter; nothing otherwise): the realized PnL
// of the trade date, fees excluded. A difference beyond a cent per
// contract of the open position, still there once the reports on their
// way have been booked, is journaled (a reconcile record with both sides
// and both positions; nothing is changed by it), shown in status and
// alerted. Open PnL is recorded beside it but not compared: each side
// marks it to the last trade it has seen. Start runs it; RunLive again
// each time the connection resynchronised (Resynced).
func (d *Desk) CheckCash(ctx context.Context) []CashMismatch {
	cr, ok := d.br.(broker.CashReporter)
	if !ok {
		return nil
	}
	var out []CashMismatch
	for _, a := range d.accts {
		chk, pos, bad, err := d.cashOf(ctx, cr, a)
		if err == nil && bad {
			// Fills the broker has counted may still be on their way here.
			d.awaitEvents(ctx)
			chk, pos, bad, err = d.cashOf(ctx, cr, a)
		}
		if err != nil {
			d.log.Warn("cash check", "account", a.id, "err", err)
			continue
		}
		if !bad {
			a.mu.Lock()
			a.brokerCash = ""
			a.mu.Unlock()
			continue
		}
		vpos := pos
		if ps, err := d.br.Positions(ctx); err == nil {
			vpos = 0
			for _, p := range ps {
				if p.Account == a.id {
					vpos = p.Qty
				}
			}
		}
		what := fmt.Sprintf("cash: realized at the broker %s, in the ledger %s (beyond %s); open at the broker %s, in the ledger %s",
			chk.BrokerRealized, chk.DeskRealized, chk.Tolerance, chk.BrokerOpen, chk.DeskOpen)
		a.mu.Lock()
		a.brokerCash = what
		a.mu.Unlock()
		d.log.Error("cash differs from the broker's", "account", a.id, "broker_realized", chk.BrokerRealized, "desk_realized", chk.DeskRealized)
		c := chk
		d.journal(ctx, journal.NewReconcile(a.id, d.nowNs(), journal.Reconcile{Mismatches: []string{what}, JournalPosition: pos,
			VenuePosition: vpos, Cash: &c}))
		d.alerts.Notify(alert.Broker(d.clock.Now(), a.id, alert.Warning, "cash differs", what+"; journaled, nothing changed"))
		out = append(out, CashMismatch{Account: a.id, Check: chk})
	}
	return out
}

func (d *Desk) cashOf(ctx context.Context, cr broker.CashReporter, a *account) (journal.CashCheck, int64, bool, error) {
	c, err := cr.CashBalance(ctx, a.id)
	if err != nil {
		return journal.CashCheck{}, 0, false, err
	}
	a.mu.Lock()
	real, open, pos := a.ledger.Realized(), a.ledger.Unrealized(), a.ledger.Position()
	a.mu.Unlock()
	tol := cashTolerance(pos)
	chk := journal.CashCheck{BrokerRealized: c.Realized.StringFixed(2), DeskRealized: real.StringFixed(2),
		BrokerOpen: c.Open.StringFixed(2), DeskOpen: open.StringFixed(2), Tolerance: tol.StringFixed(2)}
	return chk, pos, c.Realized.Sub(real).Abs().GreaterThan(tol), nil
}

// Resynced runs the cash check again when the connection has taken a new
// snapshot of the account data since the last check (a Syncer whose count
// grew: it reconnected), and reports whether it did.
func (d *Desk) Resynced(ctx context.Context) bool {
	s, ok := d.br.(broker.Syncer)
	if !ok || !d.brokerStarted.Load() {
		return false // Start checks first, with the carried positions booked
	}
	n := int64(s.Syncs())
	last := d.syncs.Load()
	if n <= last || !d.syncs.CompareAndSwap(last, n) {
		return false
	}
	ms := d.CheckCash(ctx)
	if len(ms) > 0 {
		ids := make([]string, 0, len(ms))
		for _, m := range ms {
			ids = append(ids, m.Account)
		}
		d.log.Warn("after a reconnect the broker's cash differs", "accounts", strings.Join(ids, ","))
	}
	return true
}

// startBrokerSide is Start's part of this file, after recovery and before
// reconciliation: the venue's orders rebound, carried positions booked. It
// reports whether a venue position differs from the books (a desk that
// recovered nothing reconciles then too: the venue is the truth).
func (d *Desk) startBrokerSide(ctx context.Context) bool {
	if d.recovered != nil && d.recovered.Records > 0 {
		d.adoptVenueOrders()
	}
	venue, err := d.carryPositions(ctx)
	if err != nil {
		d.log.Error("start: positions", "err", err)
		return false
	}
	for _, a := range d.accts {
		a.mu.Lock()
		differs := a.ledger.Position() != venue[a.id].Qty
		a.mu.Unlock()
		if differs {
			return true
		}
	}
	return false
}

// finishBrokerSide is Start's last part of this file, once reconciled: the
// broker's own risk limits set, the cash checked.
func (d *Desk) finishBrokerSide(ctx context.Context) {
	if s, ok := d.br.(broker.Syncer); ok {
		d.syncs.Store(int64(s.Syncs()))
	}
	d.setBrokerRisk(ctx)
	d.CheckCash(ctx)
	d.brokerStarted.Store(true)
}
