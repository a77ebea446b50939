package supervisor

// status.go: the desk at one instant, for the CLI, the console and Slack.

import (
	"context"
	"sort"
	"time"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// Status implements deskapi.Desk.
func (d *Desk) Status(ctx context.Context) deskapi.Status {
	st := deskapi.Status{State: d.m.State(), DeskLockedOut: d.deskLocked.Load()}
	if s, ok := d.session.Load().(market.Session); ok {
		st.Session = s.String()
	}
	if d.opt.LinkStatus != nil {
		st.Links.Venue, st.Links.Data, st.Links.Slack, st.Links.PanicButton = d.opt.LinkStatus()
	}
	if n, ok := d.br.(broker.Noter); ok {
		st.Links.Notes = n.Notes()
	}
	if d.opt.LinkNotes != nil {
		st.Links.Notes = append(st.Links.Notes, d.opt.LinkNotes()...)
	}
	st.FirmReduceOnly = d.firmReduce.Load()
	if d.opt.FirmStatus != nil {
		st.Firm = d.opt.FirmStatus()
	}
	if d.opt.LightsStatus != nil {
		st.Lights.Green, st.Lights.Red, st.Lights.Blinking, st.Lights.Buzzer = d.opt.LightsStatus()
	}
	st.Time = time.Unix(0, d.nowNs()).UTC().Format(time.RFC3339)
	st.LastPrice = d.last().Points()
	d.tick.mu.Lock()
	st.Trades = d.tick.trades
	deskLine, deskStart := d.tick.deskMon.LineCents(), d.tick.deskMon.StartCents()
	st.DeskLevel = d.tick.deskMon.Level().String()
	d.tick.mu.Unlock()
	st.DeskLockout = accounts.Money(deskLine).StringFixed(2)
	// The journal's side first (its own lock, read transactions only),
	// then each account's books.
	rejects := d.journalStatus(&st)
	var netCents, eqCents int64
	for _, a := range d.accts {
		a.mu.Lock()
		as := a.status(d.last())
		as.Risk = a.usage(d)
		netCents += a.ledger.EquityCents() - a.ledger.StartCents()
		eqCents += a.ledger.EquityCents()
		a.mu.Unlock()
		if rejects != nil {
			// The session's refusals as journaled (they survive a restart
			// on the same journal and start again with the session).
			as.Rejections = rejects[a.id]
			if as.Rejections == nil {
				as.Rejections = map[string]int{}
			}
		}
		st.Accounts = append(st.Accounts, as)
	}
	if run := d.lastKill.Load(); run != nil {
		st.LastKill = run.progress(func(id string) bool {
			for _, as := range st.Accounts {
				if as.ID == id {
					return as.Position == 0 && len(as.Orders) == 0
				}
			}
			return false
		})
	}
	d.links.mu.Lock()
	if _, down := d.links.down["venue"]; down {
		st.Links.Venue = "down" // the desk's own finding: the venue does not answer
	}
	if _, down := d.links.down["data"]; down {
		st.Links.Data = "down"
	}
	d.links.mu.Unlock()
	st.Net = accounts.Money(netCents).StringFixed(2)
	st.Equity = accounts.Money(eqCents).StringFixed(2)
	st.DrawdownUsed = usedOf(deskStart-eqCents, deskStart-deskLine)
	return st
}

// usedOf is used/allowance as a fraction, 0 when nothing is used or there
// is no allowance.
func usedOf(used, allowance int64) float64 {
	if allowance <= 0 || used <= 0 {
		return 0
	}
	return float64(used) / float64(allowance)
}

// status is one account's line (a.mu held).
func (a *account) status(last market.Price) deskapi.AccountStatus {
	l := a.ledger
	trips := accounts.Trades(l.RoundTrips()) // one per entry, not per fill fragment
	as := deskapi.AccountStatus{
		ID: a.id, Owner: a.spec.Config.Owner, State: a.m.State(), Strategies: a.spec.Config.Strategies,
		EnginesOn: a.m.State() == AcctTrading, Position: l.Position(), AvgPrice: avgPoints(l),
		Realized: l.Realized().StringFixed(2), Unrealized: l.Unrealized().StringFixed(2), Fees: l.Fees().StringFixed(2),
		Net:         accounts.Money(l.EquityCents() - l.StartCents()).StringFixed(2),
		StartEquity: l.StartEquity().StringFixed(2), Equity: l.Equity().StringFixed(2),
		LockoutLine: accounts.Money(a.rules.Drawdown.LineCents()).StringFixed(2), DrawdownUsed: drawdownUsed(a),
		MaxDrawdown: l.MaxDrawdown().StringFixed(2), RoundTrips: len(trips), LastSignal: a.signal, Worker: a.worker,
		Rejections: map[string]int{},
	}
	for k, v := range a.rejects {
		as.Rejections[k] = v
	}
	as.AtBroker, as.BrokerRisk, as.BrokerCash = a.brokerRisk, a.brokerRiskSet, a.brokerCash
	as.External, as.Busts = len(a.external), a.busts+a.corrections
	for _, r := range trips {
		if r.Net().IsPositive() {
			as.Wins++
		} else {
			as.Losses++
		}
		as.Trades = append(as.Trades, deskapi.RoundTrip{Strategy: r.Strategy, Side: r.Side.String(), Qty: r.Qty,
			Entry: r.EntryPrice.Points(), Exit: r.ExitPrice.Points(), Ticks: r.Ticks, PnL: r.PnL.StringFixed(2), Fees: r.Fees.StringFixed(2),
			EntryAt: time.Unix(0, r.EntryTime).UTC().Format(time.RFC3339), ExitAt: time.Unix(0, r.ExitTime).UTC().Format(time.RFC3339)})
	}
	covered, _ := limits.StopCoverage(l.Position(), a.workingOrders(), a.lastStop, last)
	as.StopCovered = covered
	a.lossAtStop(&as)
	ids := make([]string, 0, len(a.orders))
	for id, o := range a.orders {
		if !o.done() && o.status != broker.Pending {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		o := a.orders[id]
		as.Orders = append(as.Orders, deskapi.Order{ClientID: o.id, Role: roleName(o.role), Side: o.side.String(), Type: o.typ.String(),
			Qty: o.qty, Filled: o.filled, Price: o.price.Points(), Status: statusName(o.status), Strategy: o.strategy})
	}
	for _, p := range a.curve {
		as.EquityCurve = append(as.EquityCurve, deskapi.Point{Time: p.t, Equity: accounts.Money(p.cents).StringFixed(2)})
	}
	return as
}

func avgPoints(l *accounts.Ledger) float64 {
	if l.Position() == 0 {
		return 0
	}
	f, _ := l.AvgEntry().Float64() // already index points
	return f
}

func roleName(r limits.Role) string {
	switch r {
	case limits.RoleEntry:
		return "entry"
	case limits.RoleStop:
		return "stop"
	case limits.RoleTarget:
		return "target"
	}
	return "single"
}

func statusName(s broker.Status) string {
	if s == 0 {
		return "sending"
	}
	return s.String()
}

// AccountCounts are one account's running counts since the desk started
// (orders also count those recovered from the journal): the metrics'
// counters, read at scrape time (Counts) rather than pushed.
type AccountCounts struct {
	ID         string
	Intents    int            // intents gated (accepted or refused)
	Orders     int            // intents accepted by the gate
	Fills      int            // fills booked
	Rejections map[string]int // the gate's refusals by reason code (bounded: limits' reasons)
	Restarts   int            // worker process restarts
}

// Counts returns every account's counts, in the config's order.
func (d *Desk) Counts() []AccountCounts {
	out := make([]AccountCounts, 0, len(d.accts))
	for _, a := range d.accts {
		a.mu.Lock()
		c := AccountCounts{ID: a.id, Intents: a.nIntents, Orders: a.nOrders, Fills: a.nFills, Restarts: a.nRestarts,
			Rejections: make(map[string]int, len(a.rejects))}
		for k, v := range a.rejects {
			c.Rejections[k] = v
		}
		a.mu.Unlock()
		out = append(out, c)
	}
	return out
}
