// rms.go: Rithmic's own risk limits (its RMS) as the venue holds and
// enforces them. The firm (or FCM) sets an account's loss limit and
// whether the RMS auto-liquidates it (SetRMS: R|Protocol gives a client no
// message to set them — pbeets/rithmic-rs lists every template of the
// reference guide, and none writes an account's RMS). A client reads them
// with 304 → 305 and subscribes to their updates with 3508 → 3509 (356
// pushed). The venue enforces them as a real RMS would, in the worst case
// where the public sources are silent: once an account's day PnL (closed,
// and open at the last trade) reaches minus its loss limit, every new
// order and bracket of the account is refused (reducing ones too: the
// sources do not say which the RMS lets through), and with
// auto-liquidation the RMS cancels the account's orders and flattens it
// at market, once; the account's 305 status becomes "disabled" for the
// rest of the venue's day. The RMS's own flattening order carries no
// user_tag, the window name RMSWindow and manual_or_auto AUTO, and the
// user id of the account's user: what a real RMS sends in them is not
// public (rithmic_order_notification.proto and
// exchange_order_notification.proto in rundef/async_rithmic have no field
// naming who placed an order beyond user_id, window_name,
// originator_window_name and manual_or_auto, which an automated client's
// order carries too), so a client sees an order it did not place and
// cannot tell it from a trader's (broker/rithmic and the desk infer it).
//
// Its unfriendly parts: the 356 that reports the RMS's action comes after
// the liquidation's own notifications, and later still with LateRMS;
// RefuseRMS answers 304 and 3508 with an error, as a gateway without
// RMS permissions for the user would.

package rithmic

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/rithmic/rpb"
	"github.com/deskguard/deskguard/market"
)

// RMSWindow is the window_name of the orders the venue's RMS places when it
// auto-liquidates an account.
const RMSWindow = "rms-auto-liquidate"

// RMS presence bits (response_account_rms_info.proto, PresenceBits).
const (
	rmsLossLimit = 4
	rmsStatus    = 128
	rmsCurrency  = 256
)

// RMS account statuses in 305 (the values Rithmic uses are not public:
// "active" and "disabled" are the venue's).
const (
	RMSActive   = "active"
	RMSDisabled = "disabled"
)

// rmsLimit is one account's RMS settings and state.
type rmsLimit struct {
	loss    float64 // the day loss, in currency, at which the RMS acts (> 0)
	autoLiq bool    // liquidate at the limit (else: only refuse new orders)
	hit     bool    // the limit was reached: new orders are refused
}

// SetRMS sets an account's loss limit at the RMS (currency, > 0) and
// whether the RMS auto-liquidates the account when its day PnL reaches
// minus that limit; lossLimit 0 removes the limit. A new setting starts
// the account afresh (not hit). The account's RMS subscribers get a 356.
// This is the firm's (or FCM's) side: R|Protocol gives a client no message
// to do it.
func (v *Venue) SetRMS(account string, lossLimit float64, autoLiquidate bool) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, known := v.acct[account]; !known {
		return fmt.Errorf("rithmic venue: rms: unknown account %q", account)
	}
	if lossLimit <= 0 {
		delete(v.rms, account)
		v.rmsPushLocked(account)
		return nil
	}
	v.rms[account] = &rmsLimit{loss: lossLimit, autoLiq: autoLiquidate}
	v.rmsPushLocked(account)
	v.rmsCheckLocked()
	v.applyLocked()
	return nil
}

// LateRMS delays every 356 (AccountRmsUpdates) by d after the change it
// reports; 0 ends it.
func (v *Venue) LateRMS(d time.Duration) {
	v.mu.Lock()
	v.lateRMS = d
	v.mu.Unlock()
}

// RefuseRMS answers the next n RMS requests (304, 3508) with an error.
func (v *Venue) RefuseRMS(n int) {
	v.mu.Lock()
	v.refuseRMS = n
	v.mu.Unlock()
}

// RMSHit reports whether the RMS acted on the account (its loss limit was
// reached).
func (v *Venue) RMSHit(account string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	l := v.rms[account]
	return l != nil && l.hit
}

// dayPnLLocked is the account's day PnL in currency: closed, and open at
// the last trade.
func (v *Venue) dayPnLLocked(account string) float64 {
	p, _ := v.sim.Position(account)
	t := p.Realized
	if p.Qty != 0 && v.hasLast {
		t += p.Qty*int64(v.last.Price) - p.CostTick
	}
	return float64(t) * v.cfg.TickValue
}

// rmsRefusalLocked is the rp_code a new order of the account is refused
// with when the RMS refuses it (its loss limit reached), else nil.
func (v *Venue) rmsRefusalLocked(account string) []string {
	l := v.rms[account]
	if l == nil || !l.hit && v.dayPnLLocked(account) > -l.loss {
		return nil
	}
	v.countLocked(func(s *Stats) { s.RMSRefused++ })
	return fail("3", fmt.Sprintf("rms: account %s is at its loss limit of %.2f", account, l.loss))
}

// rmsCheckLocked acts on every account whose day PnL reached minus its loss
// limit: marks it hit, and with auto-liquidation cancels its orders and
// flattens it; then a 356 (after the liquidation's own notifications,
// which the caller's applyLocked sends first). It reports whether it acted
// on any account (the caller runs v.pending and drains the engine again).
func (v *Venue) rmsCheckLocked() bool {
	acted := false
	for _, a := range v.cfg.Accounts {
		l := v.rms[a]
		if l == nil || l.hit || v.dayPnLLocked(a) > -l.loss {
			continue
		}
		l.hit = true
		acted = true
		v.countLocked(func(s *Stats) { s.RMSActions++ })
		v.log.Warn("rithmic venue: rms: loss limit reached", "account", a, "limit", l.loss, "auto_liquidate", l.autoLiq)
		if l.autoLiq {
			if err := v.sim.CancelAll(bg, a); err != nil {
				v.log.Warn("rithmic venue: rms: cancel all", "account", a, "err", err)
			}
			if err := v.flattenLocked(a, RMSWindow, "", rpb.OrderPlacement_PLACEMENT_AUTO); err != nil {
				v.log.Warn("rithmic venue: rms: flatten", "account", a, "err", err)
			}
		}
		v.rmsOut = append(v.rmsOut, a)
	}
	return acted
}

// rmsFlushLocked sends the 356s of the accounts the RMS acted on, once
// the engine has nothing more to say about the action.
func (v *Venue) rmsFlushLocked() {
	for _, a := range v.rmsOut {
		v.rmsPushLocked(a)
	}
	v.rmsOut = nil
}

// threshold is the account balance at which the RMS acts (356's
// auto_liq_threshold_current_value: the public sources give its name, not
// its meaning; the venue sends the day's starting balance less the loss
// limit), "" without a limit.
func (v *Venue) thresholdLocked(account string) string {
	l := v.rms[account]
	if l == nil {
		return ""
	}
	return strconv.FormatFloat(v.cfg.StartingBalance-l.loss, 'f', 2, 64)
}

// rmsPushLocked sends a 356 for the account to its RMS update
// subscribers (3508), LateRMS late.
func (v *Venue) rmsPushLocked(account string) {
	ns := v.nowLocked()
	m := &rpb.AccountRmsUpdates{UpdateBits: 1, FcmId: v.cfg.FCM, IbId: v.cfg.IB, AccountId: account,
		AutoLiqThresholdCurrentValue:   v.thresholdLocked(account),
		AutoLiqPeakAccountBalance:      strconv.FormatFloat(v.cfg.StartingBalance, 'f', 2, 64),
		AutoLiqPeakAccountBalanceSsboe: strconv.FormatInt(ns/1e9, 10)}
	b, err := rpb.Frame(rpb.TAccountRmsUpdates, m)
	if err != nil {
		return
	}
	for c := range v.conns {
		if c.plant != Order || !c.rms[account] {
			continue
		}
		if d := v.lateRMS; d > 0 {
			time.AfterFunc(d, func() { c.send(b) })
			continue
		}
		c.send(b)
	}
	v.countLocked(func(s *Stats) { s.RMSUpdates++ })
}

// rmsRefusedLocked applies RefuseRMS to one RMS request.
func (v *Venue) rmsRefusedLocked() bool {
	if v.refuseRMS <= 0 {
		return false
	}
	v.refuseRMS--
	return true
}

// rmsInfo answers 304: one 305 per account of the user, then the closing
// 305.
func (v *Venue) rmsInfo(c *conn, um []string) {
	if v.rmsRefusedLocked() {
		c.reply(rpb.TAccountRmsInfoResponse, &rpb.ResponseAccountRmsInfo{UserMsg: um, RpCode: fail("3", "permission denied: rms info")})
		return
	}
	for _, a := range v.cfg.Accounts {
		r := &rpb.ResponseAccountRmsInfo{UserMsg: um, RqHandlerRpCode: ok, FcmId: v.cfg.FCM, IbId: v.cfg.IB, AccountId: a,
			Currency: "USD", PresenceBits: rmsStatus | rmsCurrency, Status: RMSActive,
			AutoLiquidate: rpb.AutoLiquidateFlag_AUTO_LIQUIDATE_DISABLED, DisableOnAutoLiquidate: rpb.AutoLiquidateFlag_AUTO_LIQUIDATE_DISABLED}
		if l := v.rms[a]; l != nil {
			r.PresenceBits |= rmsLossLimit
			r.LossLimit = l.loss
			if l.autoLiq {
				r.AutoLiquidate = rpb.AutoLiquidateFlag_AUTO_LIQUIDATE_ENABLED
				r.DisableOnAutoLiquidate = rpb.AutoLiquidateFlag_AUTO_LIQUIDATE_ENABLED
				r.AutoLiquidateThreshold = l.loss
			}
			if l.hit {
				r.Status = RMSDisabled
			}
		}
		c.reply(rpb.TAccountRmsInfoResponse, r)
	}
	c.reply(rpb.TAccountRmsInfoResponse, &rpb.ResponseAccountRmsInfo{UserMsg: um, RpCode: ok})
}

// rmsUpdates answers 3508: (un)subscribes the connection to the account's
// 356s, lost with the connection.
func (v *Venue) rmsUpdates(c *conn, r *rpb.RequestAccountRmsUpdates, um []string) {
	answer := func(rp []string) {
		c.reply(rpb.TAccountRmsUpdatesResponse, &rpb.ResponseAccountRmsUpdates{UserMsg: um, RpCode: rp})
	}
	switch {
	case v.rmsRefusedLocked():
		answer(fail("3", "permission denied: rms updates"))
	case v.acct[r.AccountId] == nil:
		answer(fail("3", "unknown account"))
	case strings.EqualFold(r.Request, "subscribe"):
		c.rms[r.AccountId] = true
		answer(ok)
	case strings.EqualFold(r.Request, "unsubscribe"):
		delete(c.rms, r.AccountId)
		answer(ok)
	default:
		answer(fail("3", fmt.Sprintf("request %q: want subscribe or unsubscribe", r.Request)))
	}
}

// flattenLocked puts a market order for the account's whole position into
// the engine, named by window and userTag and marked manual or automated
// as placement says (exit position, the RMS).
func (v *Venue) flattenLocked(account, window, userTag string, placement rpb.OrderPlacement) error {
	pos, err := v.sim.Position(account)
	if err != nil || pos.Qty == 0 {
		return err
	}
	side, qty := market.Sell, pos.Qty
	if qty < 0 {
		side, qty = market.Buy, -qty
	}
	b := v.newBasket(account, userTag, window, broker.Single)
	b.placement = placement
	o := broker.Order{ClientID: b.simID, Account: account, Side: side, Qty: qty, Type: market.MarketOrder, TIF: broker.Day}
	b.order, b.qty, b.ts = o, qty, v.nowLocked()
	if err := v.sim.SubmitOrder(bg, o); err != nil {
		v.applyLocked()
		v.dropBasket(b)
		return err
	}
	return nil
}
