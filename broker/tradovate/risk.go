// This file is the broker's own risk, as a second line behind the desk's:
// the account's auto-liquidation settings (userAccountAutoLiq: daily loss,
// flatten time), written and read back; the account risk status the
// broker holds (liquidate-only, trading locked), from the user sync; the
// cash balance snapshot for the desk to reconcile its ledger with; and a
// kill of several accounts in one order/liquidatepositions request.

package tradovate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

// ErrRiskRefused is wrapped when the broker does not take the desk's risk
// settings for an account (changesLocked, or a read-back that differs):
// broker.ErrRiskRefused.
var ErrRiskRefused = broker.ErrRiskRefused

// AutoLiq is an account's auto-liquidation settings at the broker
// (broker.AutoLiq: the desk sets them through broker.RiskSetter).
type AutoLiq = broker.AutoLiq

var (
	_ broker.RiskSetter   = (*Client)(nil)
	_ broker.CashReporter = (*Client)(nil)
	_ broker.Adopter      = (*Client)(nil)
	_ broker.Syncer       = (*Client)(nil)
)

func autoLiqOf(e userAccountAutoLiqEnt) AutoLiq {
	a := AutoLiq{Set: true, ChangesLocked: e.ChangesLocked}
	if e.DailyLossAutoLiq != nil {
		a.DailyLoss, _ = decimal.NewFromString(e.DailyLossAutoLiq.String())
	}
	if e.FlattenTimestamp != "" {
		a.FlattenAt, _ = time.Parse(time.RFC3339Nano, e.FlattenTimestamp)
	}
	return a
}

// AutoLiq reads the account's auto-liquidation settings
// (userAccountAutoLiq/item; the entity's id is the account's).
func (c *Client) AutoLiq(ctx context.Context, account string) (AutoLiq, error) {
	id, err := c.account(account)
	if err != nil {
		return AutoLiq{}, err
	}
	var e userAccountAutoLiqEnt
	err = c.rest.call(ctx, http.MethodGet, "/userAccountAutoLiq/item?id="+strconv.FormatInt(id, 10), nil, &e, callOpts{safe: true})
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return AutoLiq{}, nil
	}
	if err != nil {
		return AutoLiq{}, fmt.Errorf("tradovate: auto-liq %s: %w", account, err)
	}
	if e.ID == 0 {
		return AutoLiq{}, nil
	}
	return autoLiqOf(e), nil
}

// SetAutoLiq sets the account's broker-side daily loss auto-liquidation
// to dailyLoss dollars and its flatten time to flattenAt (zero: leave
// none), as userAccountAutoLiq/create or /update (Risks.cs
// SetDailyLossLimit in example-api-csharp-trading), then reads them back.
// What comes back is returned; if it is not what was asked (changesLocked,
// or a write the broker silently ignored) the error wraps ErrRiskRefused.
func (c *Client) SetAutoLiq(ctx context.Context, account string, dailyLoss decimal.Decimal, flattenAt time.Time) (AutoLiq, error) {
	id, err := c.account(account)
	if err != nil {
		return AutoLiq{}, err
	}
	cur, err := c.AutoLiq(ctx, account)
	if err != nil {
		return AutoLiq{}, err
	}
	if cur.ChangesLocked {
		return cur, fmt.Errorf("%w: %s: changes are locked at the broker", ErrRiskRefused, account)
	}
	n := json.Number(dailyLoss.String())
	e := userAccountAutoLiqEnt{ID: id, DailyLossAutoLiq: &n}
	if !flattenAt.IsZero() {
		e.FlattenTimestamp = flattenAt.UTC().Format(time.RFC3339)
	}
	path := "/userAccountAutoLiq/update"
	if !cur.Set {
		path = "/userAccountAutoLiq/create"
	}
	var res struct {
		userAccountAutoLiqEnt
		ErrorText string `json:"errorText"`
	}
	if err := c.rest.call(ctx, http.MethodPost, path, e, &res, callOpts{safe: true}); err != nil {
		return AutoLiq{}, fmt.Errorf("tradovate: set auto-liq %s: %w", account, err)
	}
	if res.ErrorText != "" {
		return cur, fmt.Errorf("%w: %s: %s", ErrRiskRefused, account, res.ErrorText)
	}
	got, err := c.AutoLiq(ctx, account)
	if err != nil {
		return AutoLiq{}, fmt.Errorf("tradovate: read back auto-liq %s: %w", account, err)
	}
	if !got.DailyLoss.Equal(dailyLoss) || !flattenAt.IsZero() && !got.FlattenAt.Equal(flattenAt.UTC().Truncate(time.Second)) {
		return got, fmt.Errorf("%w: %s: asked daily loss %s flatten %s, the broker holds %s flatten %s (locked %v)", ErrRiskRefused, account,
			dailyLoss, fmtTime(flattenAt), got.DailyLoss, fmtTime(got.FlattenAt), got.ChangesLocked)
	}
	return got, nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format(time.RFC3339)
}

// RiskStatus is the broker's own risk state of an account.
type RiskStatus struct {
	AdminAction   string // Normal, LockTradingImmediately, LiquidateOnlyModeImmediately, ...
	LiquidateOnly string // since when the account is liquidate-only ("" = not)
	Locked        bool   // the broker refuses orders that add risk ("locked at broker")
}

func (r RiskStatus) String() string {
	if !r.Locked {
		return "normal at broker"
	}
	parts := []string{"locked at broker"}
	if r.AdminAction != "" && r.AdminAction != "Normal" {
		parts = append(parts, r.AdminAction)
	}
	if r.LiquidateOnly != "" {
		parts = append(parts, "liquidate-only since "+r.LiquidateOnly)
	}
	return strings.Join(parts, ": ")
}

func riskOf(e accountRiskStatusEnt) RiskStatus {
	r := RiskStatus{AdminAction: e.AdminAction, LiquidateOnly: e.LiquidateOnly}
	switch e.AdminAction {
	case "", "Normal", "DisableAutoLiq", "PlaceAutoLiqOnHold":
	default:
		r.Locked = true
	}
	if e.LiquidateOnly != "" || e.UserTriggeredLiqOnly {
		r.Locked = true
	}
	return r
}

// RiskStatus returns the account's risk status as the user sync last
// pushed it (accountRiskStatus entities). Its changes come as
// broker.RiskStatusEv events.
func (c *Client) RiskStatus(account string) (RiskStatus, error) {
	id, err := c.account(account)
	if err != nil {
		return RiskStatus{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return riskOf(c.risk[id]), nil
}

// Cash is an account's cash balance snapshot at the broker, in dollars
// (broker.Cash).
type Cash = broker.Cash

func dec(n json.Number) decimal.Decimal {
	if n == "" {
		return decimal.Zero
	}
	d, err := decimal.NewFromString(n.String())
	if err != nil {
		return decimal.Zero
	}
	return d
}

// CashBalance reads the account's cash balance snapshot
// (cashBalance/getcashbalancesnapshot: totalCashValue, realizedPnL,
// openPnL, netLiq), for the desk to reconcile its ledger with.
func (c *Client) CashBalance(ctx context.Context, account string) (Cash, error) {
	id, err := c.account(account)
	if err != nil {
		return Cash{}, err
	}
	var s cashBalanceSnapshot
	if err := c.rest.call(ctx, http.MethodPost, "/cashBalance/getcashbalancesnapshot", map[string]int64{"accountId": id}, &s, callOpts{safe: true}); err != nil {
		return Cash{}, fmt.Errorf("tradovate: cash balance %s: %w", account, err)
	}
	if s.ErrorText != "" {
		return Cash{}, fmt.Errorf("tradovate: cash balance %s: %s", account, s.ErrorText)
	}
	return Cash{TotalCash: dec(s.TotalCashValue), Realized: dec(s.RealizedPnL), Open: dec(s.OpenPnL), NetLiq: dec(s.NetLiq)}, nil
}

// LiquidateAccounts flattens several accounts with one
// order/liquidatepositions request (position ids, answered {ok,
// errorText}: partner API reference, Orders, Liquidate Positions). The
// reference does not say it cancels working orders as liquidateposition
// does, so the worst case is assumed: each account's orders are cancelled
// first (CancelAll, in parallel), then the positions the user sync holds
// are flattened in the one request. A desk kill uses Liquidate per account
// (one venue operation each, cancel and flatten together); this is the
// alternative BenchmarkLiquidateAccounts20 measures.
func (c *Client) LiquidateAccounts(ctx context.Context, accounts []string) error {
	ids := make([]int64, 0, len(accounts))
	for _, a := range accounts {
		id, err := c.account(a)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(accounts))
	for i, a := range accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.CancelAll(ctx, a)
		}()
	}
	wg.Wait()
	c.mu.Lock()
	var pos []int64
	flat := map[string]bool{}
	for i, id := range ids {
		if p, ok := c.positions[id]; ok && p.NetPos != 0 {
			pos = append(pos, p.ID)
		} else {
			flat[accounts[i]] = true
		}
		c.inflight[accounts[i]]++
		c.liqOpen[accounts[i]]++
	}
	floor := c.maxOrderID
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		in := map[string]bool{}
		for _, a := range accounts {
			in[a] = true
		}
		for id, o := range c.orders {
			if id > floor && in[o.account] && !o.bound && !o.external && o.typ == market.MarketOrder && !o.manual && !o.admin {
				o.clientID = "liquidate." + o.account + ".tv" + strconv.FormatInt(id, 10)
				c.bind(o)
			}
		}
		for _, a := range accounts {
			c.inflight[a]--
			if c.inflight[a] == 0 {
				c.releaseUnbound(a)
			}
			c.liqOpen[a]--
		}
		c.mu.Unlock()
	}()
	if len(pos) > 0 {
		var res simpleResponse
		req := liquidatePositionsReq{Positions: pos, IsAutomated: true}
		if err := c.rest.call(ctx, http.MethodPost, "/order/liquidatepositions", req, &res, callOpts{safe: true}); err != nil {
			errs = append(errs, fmt.Errorf("tradovate: liquidatepositions: %w", err))
		} else if !res.OK {
			errs = append(errs, fmt.Errorf("%w: liquidatepositions: %s", broker.ErrInvalid, res.ErrorText))
		} else {
			// The answer names no orders: wait (a little) for each
			// account's flattening order to be pushed, so that it is
			// named ours (liquidate.ACCOUNT.tvID), not external.
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_ = c.waitFor(wctx, func() bool {
				for _, a := range accounts {
					if flat[a] {
						continue
					}
					found := false
					for id, o := range c.orders {
						if id > floor && o.account == a && o.typ == market.MarketOrder {
							found = true
							break
						}
					}
					if !found {
						return false
					}
				}
				return true
			}, "the liquidation orders")
			cancel()
		}
	}
	return errors.Join(errs...)
}
