// This file is what the broker does on its own, beside the exchange: the
// account risk status (liquidate-only, trading locked), the
// auto-liquidation settings and their enforcement (daily loss, flatten
// time), the cash balance snapshot, orders placed on the broker's own
// platform (a trader's manual bracket), and trade busts and corrections.

package venue

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

// PointValue is MES's dollar value of one index point.
const PointValue = 5.0

func (v *Venue) riskRoutes(get, post func(string, func(*http.Request, []byte) (int, any))) {
	post("/v1/userAccountAutoLiq/create", v.autoLiqWrite(true))
	post("/v1/userAccountAutoLiq/update", v.autoLiqWrite(false))
	post("/v1/cashBalance/getcashbalancesnapshot", v.cashSnapshot)
}

// autoLiqWrite is userAccountAutoLiq/create and /update: the body is a
// UserAccountAutoLiq whose id is the account's (Risks.cs in
// example-api-csharp-trading: "id should be the same as account's id"),
// the answer the entity as stored. While changesLocked is set (by the
// broker or the firm, LockRiskChanges) a write is answered 200 with the
// stored entity unchanged: the public sources do not say how a refusal
// looks, so the venue assumes the least helpful answer and a client must
// read its settings back.
func (v *Venue) autoLiqWrite(create bool) func(*http.Request, []byte) (int, any) {
	return func(_ *http.Request, body []byte) (int, any) {
		var req userAccountAutoLiqEnt
		if err := decode(body, &req); err != nil {
			return bad(err.Error())
		}
		v.mu.Lock()
		defer v.mu.Unlock()
		acct, ok := v.st.acctName[req.ID]
		if !ok {
			return http.StatusOK, map[string]string{"errorText": "unknown account " + strconv.FormatInt(req.ID, 10)}
		}
		cur := v.st.autoLiq[acct]
		if cur != nil && cur.ChangesLocked {
			v.count(func(s *Stats) { s.RiskWritesIgnored++ })
			return http.StatusOK, *cur
		}
		if create && cur != nil {
			return http.StatusOK, map[string]string{"errorText": "already exists"}
		}
		req.ChangesLocked = false
		v.st.autoLiq[acct] = &req
		v.pushLocked("userAccountAutoLiq", "Updated", req, acct)
		return http.StatusOK, req
	}
}

func (v *Venue) cashSnapshot(_ *http.Request, body []byte) (int, any) {
	var req struct {
		AccountID int64 `json:"accountId"`
	}
	if err := decode(body, &req); err != nil {
		return bad(err.Error())
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	acct, ok := v.st.acctName[req.AccountID]
	if !ok {
		return http.StatusOK, cashBalanceSnapshot{ErrorText: "unknown account"}
	}
	realized, open := v.pnlLocked(acct)
	realized += v.cashSkew[acct]
	total := v.cfg.StartCash + realized
	return http.StatusOK, cashBalanceSnapshot{TotalCashValue: round2(total), RealizedPnL: round2(realized), OpenPnL: round2(open),
		TotalPnL: round2(realized + open), NetLiq: round2(total + open)}
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// pnlLocked is the account's realized and open PnL in dollars, fees
// excluded (the venue charges none), open marked to the last trade.
// Caller holds v.mu.
func (v *Venue) pnlLocked(acct string) (realized, open float64) {
	p, err := v.sim.Position(acct)
	if err != nil {
		return 0, 0
	}
	tick := PointValue / market.TicksPerPoint
	realized = float64(p.Realized) * tick
	if last, ok := v.sim.LastTrade(); ok && p.Qty != 0 {
		open = float64(int64(last.Price)*p.Qty-p.CostTick) * tick
	}
	return realized, open
}

func (v *Venue) cashBalanceLocked(acct string) cashBalanceEnt {
	c := *v.st.cash[acct]
	realized, _ := v.pnlLocked(acct)
	realized += v.cashSkew[acct]
	c.RealizedPnL = round2(realized)
	c.Amount = round2(v.cfg.StartCash + realized)
	c.TradeDate = v.st.tradeDay
	return c
}

// lockedAtBroker reports whether the broker refuses risk-adding orders
// for the account, and the failureReason it gives.
func lockedAtBroker(r *accountRiskStatusEnt) (bool, string) {
	switch r.AdminAction {
	case "LockTradingImmediately":
		return true, "TradingLocked"
	case "LiquidateOnlyModeImmediately", "AgreedOnLiqOnlyModeByAutoLiq", "LiquidateImmediately", "AgreedOnLiquidationByAutoLiq":
		return true, "LiquidationOnly"
	}
	if r.LiquidateOnly != "" {
		return true, "LiquidationOnly"
	}
	return false, ""
}

// refusedByRisk refuses an order that adds to the position of an account
// the broker has made liquidate-only or locked. Caller holds v.mu.
func (v *Venue) refusedByRisk(acct string, side market.Side, qty int64) *placeResult {
	locked, reason := lockedAtBroker(v.st.risk[acct])
	if !locked {
		return nil
	}
	p, _ := v.sim.Position(acct)
	after := p.Qty + side.Sign()*qty
	if reason == "LiquidationOnly" && abs64(after) < abs64(p.Qty) && after*p.Qty >= 0 {
		return nil
	}
	return &placeResult{FailureReason: reason, FailureText: "the account is " + reason + " at the broker"}
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// enforceAutoLiqLocked applies the accounts' auto-liquidation settings
// after a trade: a daily loss at or past dailyLossAutoLiq liquidates the
// account and makes it liquidate-only; a trade at or after
// flattenTimestamp flattens it and cancels its orders. Caller holds v.mu.
func (v *Venue) enforceAutoLiqLocked(t market.Trade) {
	if v.cfg.Faults.NoAutoLiqRisk {
		return
	}
	for _, acct := range sortedKeys(v.st.autoLiq) {
		al := v.st.autoLiq[acct]
		r := v.st.risk[acct]
		if al.DailyLossAutoLiq != nil && *al.DailyLossAutoLiq > 0 && r.LiquidateOnly == "" {
			realized, open := v.pnlLocked(acct)
			if realized+open <= -*al.DailyLossAutoLiq {
				v.autoLiquidateLocked(acct, t.Time, true, "daily loss")
			}
		}
		if al.FlattenTimestamp != "" && v.flattened[acct] != al.FlattenTimestamp {
			if at, err := time.Parse(time.RFC3339Nano, al.FlattenTimestamp); err == nil && t.Time >= at.UnixNano() {
				v.flattened[acct] = al.FlattenTimestamp
				v.autoLiquidateLocked(acct, t.Time, false, "flatten time")
			}
		}
	}
}

// autoLiquidateLocked is the broker's own liquidation of an account: its
// orders are cancelled and its position flattened by an order the desk did
// not place (admin, no clOrdId, isAutomated false). With lock, the account
// becomes liquidate-only. Caller holds v.mu.
func (v *Venue) autoLiquidateLocked(acct string, ns int64, lock bool, why string) {
	v.log.Warn("venue: broker auto-liquidation", "account", acct, "why", why)
	if lock {
		r := v.st.risk[acct]
		r.LiquidateOnly = stamp(ns)
		v.pushLocked("accountRiskStatus", "Updated", *r, acct)
	}
	v.st.externalNext = true
	_ = v.sim.Liquidate(bg, acct)
	v.applyLocked()
	v.st.externalNext = false
	v.count(func(s *Stats) { s.AutoLiquidations++ })
}

// AutoLiquidate liquidates the account as the broker's own risk system
// does (daily loss reached), and makes it liquidate-only.
func (v *Venue) AutoLiquidate(account string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.st.acctID[account]; !ok {
		return fmt.Errorf("venue: auto-liquidate: %w: %q", broker.ErrUnknownAccount, account)
	}
	v.autoLiquidateLocked(account, v.lastNs(), true, "requested")
	v.flushDeferred()
	return nil
}

// SetRiskStatus sets the account's risk status as a broker administrator
// would (adminAction: Normal, LockTradingImmediately,
// LiquidateOnlyModeImmediately, ...; Normal also clears liquidate-only) and
// pushes it.
func (v *Venue) SetRiskStatus(account, adminAction string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.st.risk[account]
	if r == nil {
		return fmt.Errorf("venue: risk status: %w: %q", broker.ErrUnknownAccount, account)
	}
	r.AdminAction = adminAction
	r.AdminTimestamp = stamp(v.lastNs())
	if adminAction == "Normal" {
		r.LiquidateOnly = ""
	}
	v.pushLocked("accountRiskStatus", "Updated", *r, account)
	return nil
}

// RiskStatus returns the account's risk status as the venue holds it:
// whether risk-adding orders are refused, and why.
func (v *Venue) RiskStatus(account string) (locked bool, reason string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if r := v.st.risk[account]; r != nil {
		return lockedAtBroker(r)
	}
	return false, ""
}

// AutoLiqSettings returns the account's stored auto-liquidation settings:
// the daily loss (0 = none) and the flatten time ("" = none).
func (v *Venue) AutoLiqSettings(account string) (dailyLoss float64, flatten string, ok bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	al := v.st.autoLiq[account]
	if al == nil {
		return 0, "", false
	}
	if al.DailyLossAutoLiq != nil {
		dailyLoss = *al.DailyLossAutoLiq
	}
	return dailyLoss, al.FlattenTimestamp, true
}

// LockRiskChanges sets changesLocked on the account's auto-liquidation
// settings (creating empty ones): later writes are ignored.
func (v *Venue) LockRiskChanges(account string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	id, ok := v.st.acctID[account]
	if !ok {
		return fmt.Errorf("venue: lock risk changes: %w: %q", broker.ErrUnknownAccount, account)
	}
	al := v.st.autoLiq[account]
	if al == nil {
		al = &userAccountAutoLiqEnt{ID: id}
		v.st.autoLiq[account] = al
	}
	al.ChangesLocked = true
	v.pushLocked("userAccountAutoLiq", "Updated", *al, account)
	return nil
}

// SkewCash adds amount dollars to the account's cash balance and realized
// PnL as the broker reports them (a fee, an adjustment the desk never saw).
func (v *Venue) SkewCash(account string, amount float64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.cashSkew[account] += amount
}

// ErrRefusedByRisk: PlaceExternal or PlaceExternalOrder was refused, as
// the broker's platform refuses it, because the order adds risk on an
// account the broker has made liquidate-only or locked. The broker's risk
// check is the account's, whatever places the order: a trader on
// Tradovate's own platform gets "Account is set to liquidation only"
// (help.aquafutures.io, "Why are my trades being rejected?": a Tradovate
// account past a loss limit "has been restricted from opening new
// positions"). The refusal creates no order the API reports (as for an
// API placement's failureReason, rest.go).
var ErrRefusedByRisk = errors.New("venue: refused by the broker's risk check")

// refuseExternal refuses an external order that adds risk on a locked
// account (ErrRefusedByRisk). Caller holds v.mu.
func (v *Venue) refuseExternal(o broker.Order) error {
	r := v.refusedByRisk(o.Account, o.Side, o.Qty)
	if r == nil {
		return nil
	}
	v.count(func(s *Stats) { s.ExternalRefused++ })
	return fmt.Errorf("venue: external order %s on %s: %w: %s (%s)", o.ClientID, o.Account, ErrRefusedByRisk, r.FailureText, r.FailureReason)
}

// PlaceExternal places a bracket as a trader would on the broker's own
// platform: the venue holds it like any other, but its command carries no
// clOrdId and isAutomated false. Its ClientIDs are the venue's own names.
// An entry that adds risk on an account the broker has locked is refused
// (ErrRefusedByRisk).
func (v *Venue) PlaceExternal(b broker.Bracket) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.refuseExternal(b.Entry); err != nil {
		return err
	}
	v.st.externalNext = true
	err := v.sim.SubmitBracket(bg, b)
	v.applyLocked()
	v.st.externalNext = false
	v.flushDeferred()
	return err
}

// PlaceExternalOrder places one order as from the broker's own platform
// (refused as PlaceExternal's entry is).
func (v *Venue) PlaceExternalOrder(o broker.Order) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.refuseExternal(o); err != nil {
		return err
	}
	v.st.externalNext = true
	err := v.sim.SubmitOrder(bg, o)
	v.applyLocked()
	v.st.externalNext = false
	v.flushDeferred()
	return err
}

// IsExternal reports whether the account's order clientID (as the venue
// names it) was placed beside the API: on the broker's platform, or by the
// broker's own liquidation.
func (v *Venue) IsExternal(account, clientID string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	id, ok := v.st.byCl[ckey{account, clientID}]
	if !ok {
		return false
	}
	o := v.st.orders[id]
	return o != nil && o.external
}

// ErrNoFill: Bust or Correct found no active fill of the order.
var ErrNoFill = errors.New("venue: no active fill")

// Bust cancels the last active fill of an order, as an exchange busts a
// trade: the fill goes inactive, an execution report with execType
// TradeCancel (execRefId: the report of the trade) is pushed, and the
// position is booked again without it. The order keeps its status and
// the orders it armed are not resized.
func (v *Venue) Bust(account, clientID string) error {
	return v.adjust(account, clientID, market.NoPrice)
}

// Correct changes the price of the last active fill of an order, as an
// exchange corrects a trade (execType TradeCorrect).
func (v *Venue) Correct(account, clientID string, price market.Price) error {
	if price == market.NoPrice || price <= 0 {
		return fmt.Errorf("venue: correct %s/%s: price %d: %w", account, clientID, price, broker.ErrInvalid)
	}
	return v.adjust(account, clientID, price)
}

func (v *Venue) adjust(account, clientID string, price market.Price) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.st
	id, ok := s.byCl[ckey{account, clientID}]
	if !ok {
		return fmt.Errorf("venue: bust %s/%s: %w", account, clientID, broker.ErrUnknownOrder)
	}
	o := s.orders[id]
	idx := -1
	for i := len(s.fills) - 1; i >= 0; i-- {
		if s.fills[i].OrderID == id && s.fills[i].Active {
			idx = i
			break
		}
	}
	if idx < 0 {
		return fmt.Errorf("venue: bust %s/%s: %w", account, clientID, ErrNoFill)
	}
	f := &s.fills[idx]
	ns := v.lastNs()
	rep := execReportEnt{ID: s.id(), AccountID: s.acctID[account], ContractID: ContractID, OrderID: id, Timestamp: stamp(ns),
		ExecRefID: strconv.FormatInt(s.fillRep[f.ID], 10), OrdStatus: o.ord.OrdStatus, Action: o.ord.Action, CumQty: o.cum}
	oldPx, _ := market.PriceFromPoints(f.Price)
	ev := broker.Event{Time: ns, Account: account, ClientID: clientID, Side: sideOf(o.ord.Action), Role: o.role, GroupID: o.group,
		Ref: "er" + rep.ExecRefID}
	if price == market.NoPrice {
		f.Active = false
		rep.ExecType = "TradeCancel"
		rep.LastQty, rep.LastPx = f.Qty, f.Price
		o.cum -= f.Qty
		o.cost -= f.Qty * int64(oldPx)
		rep.CumQty = o.cum
		ev.Kind, ev.FillQty, ev.FillPrice = broker.BustedEv, f.Qty, oldPx
		v.count(func(s *Stats) { s.Busts++ })
	} else {
		o.cost += f.Qty * int64(price-oldPx)
		f.Price = float64(price) / market.TicksPerPoint
		rep.ExecType = "TradeCorrect"
		rep.LastQty, rep.LastPx = f.Qty, f.Price
		ev.Kind, ev.FillQty, ev.FillPrice = broker.CorrectedEv, f.Qty, price
		v.count(func(s *Stats) { s.Corrections++ })
	}
	if o.cum > 0 {
		rep.AvgPx = float64(o.cost) / float64(o.cum) / market.TicksPerPoint
	}
	if err := v.rebook(account); err != nil {
		return err
	}
	s.rebookFills(account)
	s.reports = append(s.reports, rep)
	v.history = append(v.history, ev)
	v.pushLocked("fill", "Updated", *f, account)
	v.pushLocked("executionReport", "Created", rep, account)
	v.refreshPosition(account)
	return nil
}

func sideOf(a string) market.Side {
	if a == "Sell" {
		return market.Sell
	}
	return market.Buy
}

// lastNs is the time of the last trade, or the clock's. Caller holds v.mu.
func (v *Venue) lastNs() int64 {
	if t, ok := v.sim.LastTrade(); ok {
		return t.Time
	}
	return v.clock.Now().UnixNano()
}
