// risk.go: the broker's own risk as a second line behind the desk's, over
// Rithmic's RMS: an account's limits read with 304 → 305 (the desk's
// daily loss checked against what the RMS holds: R|Protocol has no message
// for a client to set them), their updates subscribed with 3508 after
// every order plant login (356 pushed, re-read with 304) and turned into
// broker.RiskStatusEv when the RMS disables an account or enables it
// again; the account's cash from the PnL plant (451); and what the
// connection cannot get past on its own, for the desk's links (Notes).

package rithmic

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/rithmic/rpb"
)

var (
	_ broker.RiskSetter   = (*Client)(nil)
	_ broker.CashReporter = (*Client)(nil)
	_ broker.Syncer       = (*Client)(nil)
	_ broker.Noter        = (*Client)(nil)
)

// RMS presence bits of 305 (response_account_rms_info.proto in
// rundef/async_rithmic, PresenceBits).
const (
	rmsBitLossLimit = 4
	rmsBitStatus    = 128
)

// RMS is one account's limits at Rithmic's RMS, as 305 gives them.
type RMS struct {
	Limited       bool            // a loss limit is set (presence bit 4)
	LossLimit     decimal.Decimal // the day loss at which the RMS acts, in the account's currency
	AutoLiquidate bool            // the RMS liquidates at its threshold
	Threshold     decimal.Decimal // auto_liquidate_threshold
	Status        string          // the account's status ("" when 305 has none)
	Currency      string
}

// Locked reports whether the status says the RMS refuses the account's
// orders. Rithmic's status values are not public: anything but "active"
// (or no status) is taken as locked — the worst case.
func (r RMS) Locked() bool { return r.Status != "" && !strings.EqualFold(r.Status, "active") }

func (r RMS) String() string {
	s := "rithmic RMS: status " + r.Status
	if r.Status == "" {
		s = "rithmic RMS: no status"
	}
	if !r.Limited {
		return s + ", no loss limit"
	}
	s += ", loss limit " + r.LossLimit.StringFixed(2)
	if r.AutoLiquidate {
		s += ", auto-liquidates at " + r.Threshold.StringFixed(2)
	}
	return s
}

// rmsOf reads one 305.
func rmsOf(m *rpb.ResponseAccountRmsInfo) RMS {
	r := RMS{Currency: m.Currency, AutoLiquidate: m.AutoLiquidate == rpb.AutoLiquidateFlag_AUTO_LIQUIDATE_ENABLED}
	if m.PresenceBits&rmsBitStatus != 0 {
		r.Status = m.Status
	}
	money := func(x float64) decimal.Decimal {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return decimal.Zero
		}
		return decimal.NewFromFloat(x).Round(2)
	}
	if m.PresenceBits&rmsBitLossLimit != 0 {
		r.Limited, r.LossLimit = true, money(m.LossLimit)
	}
	r.Threshold = money(m.AutoLiquidateThreshold)
	if r.AutoLiquidate && r.Threshold.IsZero() {
		r.Threshold = r.LossLimit
	}
	return r
}

// rmsRead asks 304 on session s and returns the limits of every account
// the answer names, by Rithmic account id.
func (c *Client) rmsRead(ctx context.Context, s *session) (map[string]RMS, error) {
	c.mu.Lock()
	req := &rpb.RequestAccountRmsInfo{FcmId: c.fcm, IbId: c.ib, UserType: c.userType}
	c.mu.Unlock()
	parts, err := s.call(ctx, rpb.TAccountRmsInfoRequest, req)
	if err != nil {
		return nil, refusal("rms info", err)
	}
	out := map[string]RMS{}
	for _, m := range parts {
		if r, ok := m.(*rpb.ResponseAccountRmsInfo); ok && r.AccountId != "" {
			out[r.AccountId] = rmsOf(r)
		}
	}
	return out, nil
}

// RMS reads the account's limits at Rithmic's RMS (304). An account the
// answer does not name has none (RMS{}).
func (c *Client) RMS(ctx context.Context, account string) (RMS, error) {
	ra, err := c.account(account)
	if err != nil {
		return RMS{}, err
	}
	s, err := c.order.session(ctx, true)
	if err != nil {
		return RMS{}, err
	}
	all, err := c.rmsRead(ctx, s)
	if err != nil {
		return RMS{}, err
	}
	c.mu.Lock()
	c.applyRMSLocked(all)
	c.mu.Unlock()
	return all[ra], nil
}

// AutoLiq reads the account's auto-liquidation at the RMS as the desk's
// broker.AutoLiq: the daily loss that liquidates (the RMS's threshold
// when it auto-liquidates; zero when it only refuses orders), no flatten
// time (the public 305 has none), and ChangesLocked always: a client
// cannot change them.
func (c *Client) AutoLiq(ctx context.Context, account string) (broker.AutoLiq, error) {
	r, err := c.RMS(ctx, account)
	if err != nil {
		return broker.AutoLiq{}, err
	}
	return autoLiqOf(r), nil
}

func autoLiqOf(r RMS) broker.AutoLiq {
	a := broker.AutoLiq{Set: r.Limited, ChangesLocked: true}
	if r.Limited && r.AutoLiquidate {
		a.DailyLoss = r.Threshold
	}
	return a
}

// SetAutoLiq is the desk's ask for a broker-side daily loss (and flatten
// time) as a second line. R|Protocol gives a client no message to set an
// account's RMS limits (pbeets/rithmic-rs implements every template of
// the reference guide; none writes them): the firm or FCM sets them in
// Rithmic's own tools. So this only reads them back (304): when the RMS
// auto-liquidates at exactly dailyLoss and no flatten time is asked, that
// is returned; otherwise what the RMS holds is returned with an error
// wrapping broker.ErrRiskRefused that says what differs.
func (c *Client) SetAutoLiq(ctx context.Context, account string, dailyLoss decimal.Decimal, flattenAt time.Time) (broker.AutoLiq, error) {
	r, err := c.RMS(ctx, account)
	if err != nil {
		return broker.AutoLiq{}, err
	}
	got := autoLiqOf(r)
	var why []string
	switch {
	case !r.Limited:
		why = append(why, "the RMS holds no loss limit")
	case !r.AutoLiquidate:
		why = append(why, "the RMS's loss limit "+r.LossLimit.StringFixed(2)+" does not auto-liquidate")
	case !got.DailyLoss.Equal(dailyLoss):
		why = append(why, "the RMS auto-liquidates at "+got.DailyLoss.StringFixed(2))
	}
	if !flattenAt.IsZero() {
		why = append(why, "the RMS has no flatten time")
	}
	if len(why) == 0 {
		return got, nil
	}
	return got, fmt.Errorf("%w: %s: asked daily loss %s flatten %s; %s (R|Protocol cannot set the RMS's limits: the firm sets them at Rithmic)",
		broker.ErrRiskRefused, account, dailyLoss.StringFixed(2), fmtTime(flattenAt), strings.Join(why, "; "))
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format(time.RFC3339)
}

// applyRMSLocked records the accounts' RMS state and emits a RiskStatusEv
// for each account whose lock changed (or that is locked when first seen).
func (c *Client) applyRMSLocked(all map[string]RMS) {
	for ra, r := range all {
		desk, ok := c.acctD[ra]
		if !ok {
			continue
		}
		old, had := c.rms[desk]
		c.rms[desk] = r
		if had && old.Locked() == r.Locked() || !had && !r.Locked() {
			continue
		}
		ev := broker.Event{Account: desk, Kind: broker.RiskStatusEv, Reason: r.String(), Status: broker.Working}
		if r.Locked() {
			ev.Status = broker.Rejected
		}
		c.emitLocked(ev, fmt.Sprintf("rms.%s.%s.%d", ra, strings.ToLower(r.Status), c.lastTime))
	}
}

// setupRMS subscribes to the accounts' RMS updates (3508, lost with the
// connection) and reads their limits on a new order plant session. A
// gateway that refuses either does not stop the session: the refusal is
// logged and shown in Notes.
func (c *Client) setupRMS(ctx context.Context, s *session, accts []string) {
	c.mu.Lock()
	fcm, ib := c.fcm, c.ib
	ras := make([]string, len(accts))
	for i, d := range accts {
		ras[i] = c.acctR[d]
	}
	c.mu.Unlock()
	var notes []string
	for _, ra := range ras {
		// request is a string in 3508 (not the SubscribeRequest enum).
		if _, err := s.call(ctx, rpb.TAccountRmsUpdatesRequest, &rpb.RequestAccountRmsUpdates{FcmId: fcm, IbId: ib, AccountId: ra,
			Request: "subscribe", UpdateBits: 1}); err != nil {
			c.log.Warn("rithmic: RMS updates not subscribed: the RMS's changes are seen only when the desk asks", "account", ra, "err", err)
			notes = append(notes, fmt.Sprintf("rithmic: RMS updates of %s refused: %v", ra, err))
		}
	}
	all, err := c.rmsRead(ctx, s)
	if err != nil {
		c.log.Warn("rithmic: RMS limits not read", "err", err)
		notes = append(notes, fmt.Sprintf("rithmic: RMS limits not read: %v", err))
	}
	c.mu.Lock()
	c.rmsNotes = notes
	if all != nil {
		c.applyRMSLocked(all)
	}
	c.mu.Unlock()
}

// onRMSUpdateLocked takes a 356: it says the RMS's figures for the account
// changed (update_bits 1: the auto-liquidation threshold's current value),
// not the account's status, so the watcher reads 304 again.
func (c *Client) onRMSUpdateLocked(n *rpb.AccountRmsUpdates) {
	c.log.Info("rithmic: RMS update (356)", "account", n.AccountId, "threshold_now", n.AutoLiqThresholdCurrentValue,
		"peak_balance", n.AutoLiqPeakAccountBalance)
	select {
	case c.rmsKick <- struct{}{}:
	default: // a read is already due
	}
}

// rmsWatch reads 304 after each 356 (coalesced) until ctx ends.
func (c *Client) rmsWatch(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.rmsKick:
		}
		s, err := c.order.session(ctx, true)
		if err != nil {
			continue // the next login's setup reads them
		}
		all, err := c.rmsRead(ctx, s)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				c.log.Warn("rithmic: RMS limits not read after an update", "err", err)
			}
			continue
		}
		c.mu.Lock()
		c.applyRMSLocked(all)
		c.mu.Unlock()
	}
}

// CashBalance reads the account's cash at the broker from the PnL plant's
// snapshot (402 → 451): cash_on_hand (the cash), day_closed_pnl (the trade
// date's realized PnL), open_position_pnl (the open PnL) and
// account_balance (the cash with the open PnL: the net liquidation
// value), in the account's currency. With the PnL plant down it waits for
// it (up to the request timeout), then fails as disconnected.
func (c *Client) CashBalance(ctx context.Context, account string) (broker.Cash, error) {
	ra, err := c.account(account)
	if err != nil {
		return broker.Cash{}, err
	}
	s, err := c.pnl.session(ctx, true)
	if err != nil {
		return broker.Cash{}, fmt.Errorf("rithmic: cash balance %s: %w", account, err)
	}
	c.mu.Lock()
	req := &rpb.RequestPnLPositionSnapshot{FcmId: c.fcm, IbId: c.ib, AccountId: ra}
	c.mu.Unlock()
	notes, err := s.snapshot(ctx, rpb.TPnLSnapshotRequest, req)
	if err != nil {
		return broker.Cash{}, refusal("cash balance "+account, err)
	}
	for _, m := range notes {
		n, ok := m.(*rpb.AccountPnLPositionUpdate)
		if !ok || n.AccountId != ra {
			continue
		}
		return cashOf(account, n)
	}
	return broker.Cash{}, fmt.Errorf("rithmic: cash balance %s: the PnL plant's snapshot has no account update (451)", account)
}

// cashOf converts a 451's currency strings. An absent or malformed cash
// or balance is an error (the desk must not reconcile against a zero);
// an absent PnL figure is zero.
func cashOf(account string, n *rpb.AccountPnLPositionUpdate) (broker.Cash, error) {
	num := func(field, s string, required bool) (decimal.Decimal, error) {
		if s == "" && !required {
			return decimal.Zero, nil
		}
		d, err := decimal.NewFromString(s)
		if err != nil {
			return decimal.Zero, fmt.Errorf("rithmic: cash balance %s: %s %q is not a number", account, field, s)
		}
		return d, nil
	}
	var out broker.Cash
	var err error
	if out.TotalCash, err = num("cash_on_hand", n.CashOnHand, true); err != nil {
		return broker.Cash{}, err
	}
	if out.NetLiq, err = num("account_balance", n.AccountBalance, true); err != nil {
		return broker.Cash{}, err
	}
	if out.Realized, err = num("day_closed_pnl", n.DayClosedPnl, false); err != nil {
		return broker.Cash{}, err
	}
	if out.Open, err = num("open_position_pnl", n.OpenPositionPnl, false); err != nil {
		return broker.Cash{}, err
	}
	return out, nil
}

// Notes says what the connection cannot get past on its own, for the
// desk's links: a plant down (the PnL plant: positions and cash wait for
// it; the order plant: orders), and RMS requests the gateway refused. Nil
// when nothing.
func (c *Client) Notes() []string {
	var out []string
	if !c.order.up() {
		out = append(out, "rithmic: order plant down: orders wait for it to come back")
	}
	if !c.pnl.up() {
		out = append(out, "rithmic: PnL plant down: positions and cash balances wait for it")
	}
	c.mu.Lock()
	out = append(out, c.rmsNotes...)
	c.mu.Unlock()
	return out
}

// WaitPnL blocks until the PnL plant is up (up true) or down (up false),
// or ctx ends.
func (c *Client) WaitPnL(ctx context.Context, up bool) error {
	return c.pnl.wait(ctx, up)
}
