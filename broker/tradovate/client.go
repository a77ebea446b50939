// This file is the Client: a broker.Broker over the REST calls and the user
// WebSocket, with the ClientID ↔ orderId map that makes submissions
// idempotent.

package tradovate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

// Options are the connector's collaborators.
type Options struct {
	Log   *slog.Logger // nil = discard
	Clock market.Clock // nil = wall clock (token renewal timing only)
	// Backoff is the first reconnect delay (default 100 ms, doubling to
	// MaxBackoff, default 5 s).
	Backoff, MaxBackoff time.Duration
	// HeartbeatEvery is the client heartbeat period (default 2.5 s).
	HeartbeatEvery time.Duration
}

// Client is a connected Tradovate account set. It implements broker.Broker.
type Client struct {
	cfg  Config
	opt  Options
	log  *slog.Logger
	rest *rest

	contractID int64
	acctID     map[string]int64 // desk account → Tradovate account id
	acctDesk   map[int64]string // Tradovate account id → desk account
	acctSpec   map[string]string

	mu       sync.Mutex
	orders   map[int64]*ord   // by Tradovate orderId
	byClient map[ckey]int64   // (account, ClientID) → orderId
	submits  map[ckey]*submit // submissions made through this client
	lastRep  int64            // highest executionReport id turned into an event
	lastTime int64            // venue time of the last event
	seq      uint64
	syncs    int // completed user/syncrequest snapshots (1 + reconnects)
	syncCond *sync.Cond
	meta     map[ckey]pendingMeta // our submissions: role, group, order

	events *queue
	up     atomic.Bool // the user socket is synchronised

	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed bool
}

type ckey struct{ account, clientID string }

// submit tracks one submission so that the same ClientID is one order.
type submit struct {
	done chan struct{}
	err  error
}

// ord is the connector's view of one Tradovate order.
type ord struct {
	id        int64
	account   string
	clientID  string
	role      broker.Role
	group     string
	side      market.Side
	typ       market.OrderType
	qty       int64
	price     market.Price
	stop      market.Price
	tif       broker.TIF
	status    broker.Status
	cumQty    int64
	parentID  int64
	triggered bool
}

var _ broker.Broker = (*Client)(nil)

// Dial authenticates, resolves the accounts and the contract, starts token
// renewal and the user WebSocket, and returns when the first
// user/syncrequest snapshot is applied.
func Dial(ctx context.Context, cfg Config, creds Credentials, opt Options) (*Client, error) {
	cfg = cfg.withDefaults()
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Clock == nil {
		opt.Clock = market.WallClock{}
	}
	if opt.Backoff <= 0 {
		opt.Backoff = 100 * time.Millisecond
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 5 * time.Second
	}
	if opt.HeartbeatEvery <= 0 {
		opt.HeartbeatEvery = 2500 * time.Millisecond
	}
	c := &Client{
		cfg: cfg, opt: opt, log: opt.Log,
		rest:     newREST(cfg, creds, opt.Log, opt.Clock),
		acctID:   map[string]int64{},
		acctDesk: map[int64]string{},
		acctSpec: map[string]string{},
		orders:   map[int64]*ord{},
		byClient: map[ckey]int64{},
		submits:  map[ckey]*submit{},
		events:   newQueue(),
	}
	c.syncCond = sync.NewCond(&c.mu)
	if err := c.rest.authenticate(ctx); err != nil {
		return nil, err
	}
	if err := c.resolve(ctx); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	c.wg.Add(2)
	go func() { defer c.wg.Done(); c.rest.renewLoop(runCtx) }()
	go func() { defer c.wg.Done(); c.socketLoop(runCtx) }()
	if err := c.WaitSynced(ctx, 1); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// resolve maps the configured accounts to Tradovate ids and finds the contract.
func (c *Client) resolve(ctx context.Context) error {
	var accts []account
	if err := c.rest.call(ctx, http.MethodGet, "/account/list", nil, &accts, callOpts{safe: true}); err != nil {
		return fmt.Errorf("tradovate: account/list: %w", err)
	}
	byName := map[string]account{}
	for _, a := range accts {
		byName[a.Name] = a
	}
	want := c.cfg.Accounts
	if len(want) == 0 {
		want = map[string]string{}
		for _, a := range accts {
			want[a.Name] = a.Name
		}
	}
	for desk, name := range want {
		a, ok := byName[name]
		if !ok {
			return fmt.Errorf("%w: account %q (desk %q) is not one of this user's accounts", broker.ErrUnknownAccount, name, desk)
		}
		c.acctID[desk] = a.ID
		c.acctDesk[a.ID] = desk
		c.acctSpec[desk] = a.Name
	}
	var ct contract
	if err := c.rest.call(ctx, http.MethodGet, "/contract/find?name="+c.cfg.Symbol, nil, &ct, callOpts{safe: true}); err != nil {
		return fmt.Errorf("tradovate: contract/find %s: %w", c.cfg.Symbol, err)
	}
	if ct.ID == 0 {
		return fmt.Errorf("tradovate: contract %s not found", c.cfg.Symbol)
	}
	c.contractID = ct.ID
	return nil
}

// Accounts returns the desk account ids this client trades, sorted.
func (c *Client) Accounts() []string {
	out := make([]string, 0, len(c.acctID))
	for a := range c.acctID {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Syncs returns how many user/syncrequest snapshots were applied (1 after
// Dial, one more per reconnect).
func (c *Client) Syncs() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.syncs
}

// WaitSynced blocks until at least n snapshots were applied or ctx ends.
func (c *Client) WaitSynced(ctx context.Context, n int) error {
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.syncCond.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.syncs < n {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("tradovate: waiting for sync %d: %w", n, err)
		}
		if c.closed {
			return broker.ErrDisconnected
		}
		c.syncCond.Wait()
	}
	return nil
}

func (c *Client) account(a string) (int64, error) {
	id, ok := c.acctID[a]
	if !ok {
		return 0, fmt.Errorf("%w: %q", broker.ErrUnknownAccount, a)
	}
	return id, nil
}

func (c *Client) orderReq(o broker.Order, withAccount bool) (orderReq, error) {
	typ, err := orderTypeName(o.Type)
	if err != nil {
		return orderReq{}, err
	}
	if o.Side != market.Buy && o.Side != market.Sell {
		return orderReq{}, fmt.Errorf("%w: side %v", broker.ErrInvalid, o.Side)
	}
	r := orderReq{ClOrdID: o.ClientID, Action: actionOf(o.Side), OrderType: typ, TimeInForce: tifName(o.TIF),
		IsAutomated: true}
	if withAccount {
		r.AccountSpec = c.acctSpec[o.Account]
		r.AccountID = c.acctID[o.Account]
		r.Symbol = c.cfg.Symbol
		r.OrderQty = o.Qty
	}
	if o.Type == market.LimitOrder || o.Type == market.StopLimitOrder {
		r.Price = points(o.Price)
	}
	if o.Type == market.StopOrder || o.Type == market.StopLimitOrder {
		r.StopPrice = points(o.StopPrice)
	}
	return r, nil
}

// begin claims a ClientID for submission. It returns (nil, false) when the
// ClientID is already an order (the submission is a duplicate: nothing to
// do), or the submit to complete.
func (c *Client) begin(ctx context.Context, k ckey, m pendingMeta) (*submit, bool, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, false, broker.ErrDisconnected
		}
		if id, ok := c.byClient[k]; ok && c.orders[id].status != broker.Rejected {
			err := c.sameAs(k, m)
			c.mu.Unlock()
			return nil, false, err
		}
		s, ok := c.submits[k]
		if !ok {
			s = &submit{done: make(chan struct{})}
			c.submits[k] = s
			if c.meta == nil {
				c.meta = map[ckey]pendingMeta{}
			}
			c.meta[k] = m
			c.mu.Unlock()
			return s, true, nil
		}
		if err := c.sameAs(k, m); err != nil {
			c.mu.Unlock()
			return nil, false, err
		}
		c.mu.Unlock()
		select {
		case <-s.done:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		if s.err == nil {
			return nil, false, nil
		}
		// The earlier attempt failed: it is ours to retry, if nobody else
		// claimed it meanwhile.
		c.mu.Lock()
		if c.submits[k] == s {
			delete(c.submits, k)
		}
		c.mu.Unlock()
	}
}

func (c *Client) finish(k ckey, s *submit, err error) {
	c.mu.Lock()
	s.err = err
	if err != nil && c.submits[k] == s {
		delete(c.submits, k)
	}
	c.mu.Unlock()
	close(s.done)
}

// landed reports whether an order with this ClientID exists at the venue:
// from the pushed map, else from command/list (clOrdId). It is asked before
// resending a submission whose outcome is unknown.
func (c *Client) landed(ctx context.Context, k ckey) (bool, error) {
	c.mu.Lock()
	_, ok := c.byClient[k]
	c.mu.Unlock()
	if ok {
		return true, nil
	}
	var cmds []commandEnt
	if err := c.rest.call(ctx, http.MethodGet, "/command/list", nil, &cmds, callOpts{safe: true}); err != nil {
		return false, err
	}
	for _, cm := range cmds {
		if cm.ClOrdID == k.clientID && cm.CommandType == "New" {
			return true, nil
		}
	}
	return false, nil
}

func placeErr(what string, r placeResult) error {
	if r.FailureReason != "" && r.FailureReason != "Success" || r.FailureText != "" && r.OrderID == 0 {
		return fmt.Errorf("%w: %s: %s: %s", broker.ErrInvalid, what, r.FailureReason, r.FailureText)
	}
	return nil
}

// SubmitOrder places one order (placeorder). The same ClientID twice is
// one order.
func (c *Client) SubmitOrder(ctx context.Context, o broker.Order) error {
	if _, err := c.account(o.Account); err != nil {
		return c.refuse(o, broker.Single, "", err)
	}
	if o.ClientID == "" {
		return c.refuse(o, broker.Single, "", fmt.Errorf("%w: empty client order id", broker.ErrInvalid))
	}
	req, err := c.orderReq(o, true)
	if err != nil {
		return c.refuse(o, broker.Single, "", err)
	}
	k := ckey{o.Account, o.ClientID}
	s, mine, err := c.begin(ctx, k, pendingMeta{role: broker.Single, order: o})
	if err != nil || !mine {
		return err
	}
	var res placeResult
	err = c.rest.call(ctx, http.MethodPost, "/order/placeorder", req, &res,
		callOpts{before: func(ctx context.Context) (bool, error) { return c.landed(ctx, k) }})
	if err == nil {
		err = placeErr("placeorder "+o.ClientID, res)
	}
	if err == nil && res.OrderID != 0 {
		c.bindID(res.OrderID, k)
	}
	c.finish(k, s, err)
	return err
}

// refuse turns a request the connector refuses before the venue sees it
// into an error and a RejectedEv in the event stream, as a venue would.
func (c *Client) refuse(o broker.Order, role broker.Role, group string, err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.events.push(broker.Event{Seq: c.seq, Time: c.lastTime, Account: o.Account, ClientID: o.ClientID, Kind: broker.RejectedEv,
		Side: o.Side, Reason: err.Error(), Role: role, GroupID: group})
	return err
}

// bindID records an orderId from a REST answer (the push may come later).
func (c *Client) bindID(id int64, k ckey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.get(id)
	o.account, o.clientID = k.account, k.clientID
	c.bind(o)
}

// SubmitBracket places the entry with its stop (bracket1) and target
// (bracket2) as one placeoso: the venue arms the exits with the entry's
// fills and links them OCO.
func (c *Client) SubmitBracket(ctx context.Context, b broker.Bracket) error {
	g := b.Entry.ClientID
	refuse := func(err error) error {
		seen := map[string]bool{}
		for i, o := range []broker.Order{b.Entry, b.Stop, b.Target} {
			if o.ClientID == "" || seen[o.ClientID] {
				continue
			}
			seen[o.ClientID] = true
			o.Account = b.Entry.Account
			c.refuse(o, broker.Role(i+1), g, err)
		}
		if len(seen) == 0 {
			c.refuse(broker.Order{Account: b.Entry.Account}, broker.EntryLeg, "", err)
		}
		return err
	}
	if _, err := c.account(b.Entry.Account); err != nil {
		return refuse(err)
	}
	if b.Entry.ClientID == "" || b.Stop.ClientID == "" || b.Target.ClientID == "" {
		return refuse(fmt.Errorf("%w: a bracket needs three client order ids", broker.ErrInvalid))
	}
	req, err := c.orderReq(b.Entry, true)
	if err != nil {
		return refuse(err)
	}
	b1, err := c.orderReq(b.Stop, false)
	if err != nil {
		return refuse(err)
	}
	b2, err := c.orderReq(b.Target, false)
	if err != nil {
		return refuse(err)
	}
	req.Bracket1, req.Bracket2 = &b1, &b2
	k := ckey{b.Entry.Account, g}
	s, mine, err := c.begin(ctx, k, pendingMeta{role: broker.EntryLeg, group: g, order: b.Entry, bracket: &b})
	if err != nil || !mine {
		return err
	}
	ks, kt := ckey{b.Entry.Account, b.Stop.ClientID}, ckey{b.Entry.Account, b.Target.ClientID}
	c.remember(ks, withAccount(b.Stop, b.Entry.Account), broker.StopLeg, g)
	c.remember(kt, withAccount(b.Target, b.Entry.Account), broker.TargetLeg, g)
	var res placeResult
	err = c.rest.call(ctx, http.MethodPost, "/order/placeoso", req, &res,
		callOpts{before: func(ctx context.Context) (bool, error) { return c.landed(ctx, k) }})
	if err == nil {
		err = placeErr("placeoso "+g, res)
	}
	if err == nil && res.OrderID != 0 {
		c.bindID(res.OrderID, k)
		if res.OSO1ID != 0 {
			c.bindID(res.OSO1ID, ks)
		}
		if res.OSO2ID != 0 {
			c.bindID(res.OSO2ID, kt)
		}
	}
	c.finish(k, s, err)
	return err
}

func withAccount(o broker.Order, a string) broker.Order { o.Account = a; return o }

// pendingMeta is what the connector knows of its own submissions before
// the venue has pushed their orders (role and group are not in the
// entities of a plain order).
type pendingMeta struct {
	role    broker.Role
	group   string
	order   broker.Order
	bracket *broker.Bracket
}

// sameAs refuses a ClientID reused for a different order. Caller holds c.mu.
func (c *Client) sameAs(k ckey, m pendingMeta) error {
	old, ok := c.meta[k]
	if !ok {
		return nil // known from the venue only (after a restart): trust the id
	}
	same := old.order == m.order
	if old.bracket != nil || m.bracket != nil {
		same = old.bracket != nil && m.bracket != nil && *old.bracket == *m.bracket
	}
	if !same {
		return fmt.Errorf("%w: client order id %s already used by a different order", broker.ErrInvalid, k.clientID)
	}
	return nil
}

func (c *Client) remember(k ckey, o broker.Order, role broker.Role, group string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.meta == nil {
		c.meta = map[ckey]pendingMeta{}
	}
	c.meta[k] = pendingMeta{role: role, group: group, order: o}
}

func (c *Client) lookup(account, clientID string) (*ord, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.byClient[ckey{account, clientID}]
	if !ok {
		return nil, fmt.Errorf("%w: %s/%s", broker.ErrUnknownOrder, account, clientID)
	}
	o := *c.orders[id]
	return &o, nil
}

// Modify changes the limit price or stop price of a working order.
func (c *Client) Modify(ctx context.Context, account, clientID string, price, stopPrice market.Price) error {
	if _, err := c.account(account); err != nil {
		return err
	}
	o, err := c.lookup(account, clientID)
	if err != nil {
		return err
	}
	typ, err := orderTypeName(o.typ)
	if err != nil {
		return err
	}
	req := modifyReq{OrderID: o.id, OrderQty: o.qty, OrderType: typ, TimeInForce: tifName(o.tif), IsAutomated: true}
	if price != market.NoPrice {
		req.Price = points(price)
	} else if o.typ == market.LimitOrder || o.typ == market.StopLimitOrder {
		req.Price = points(o.price)
	}
	if stopPrice != market.NoPrice {
		req.StopPrice = points(stopPrice)
	} else if o.typ == market.StopOrder || o.typ == market.StopLimitOrder {
		req.StopPrice = points(o.stop)
	}
	var res commandResult
	// A modify to the same prices is idempotent: safe to retry.
	if err := c.rest.call(ctx, http.MethodPost, "/order/modifyorder", req, &res, callOpts{safe: true}); err != nil {
		return fmt.Errorf("tradovate: modify %s: %w", clientID, err)
	}
	return commandErr("modify "+clientID, res)
}

func commandErr(what string, r commandResult) error {
	if r.FailureReason == "" || r.FailureReason == "Success" {
		return nil
	}
	var base error = broker.ErrInvalid
	switch r.FailureReason {
	case "TooLate":
		base = broker.ErrOrderDone
	case "UnknownReason":
		if r.FailureText == "unknown order" {
			base = broker.ErrUnknownOrder
		}
	}
	return fmt.Errorf("%w: %s: %s: %s", base, what, r.FailureReason, r.FailureText)
}

// Cancel cancels one working order.
func (c *Client) Cancel(ctx context.Context, account, clientID string) error {
	if _, err := c.account(account); err != nil {
		return err
	}
	o, err := c.lookup(account, clientID)
	if err != nil {
		return err
	}
	var res commandResult
	if err := c.rest.call(ctx, http.MethodPost, "/order/cancelorder", cancelReq{OrderID: o.id, IsAutomated: true}, &res, callOpts{safe: true}); err != nil {
		return fmt.Errorf("tradovate: cancel %s: %w", clientID, err)
	}
	return commandErr("cancel "+clientID, res)
}

// CancelAll cancels every working order of the account (the API has no
// cancel-all: one cancelorder per order of order/list).
func (c *Client) CancelAll(ctx context.Context, account string) error {
	open, err := c.OpenOrders(ctx, account)
	if err != nil {
		return err
	}
	var errs []error
	for _, o := range open {
		if err := c.Cancel(ctx, account, o.ClientID); err != nil && !errors.Is(err, broker.ErrOrderDone) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Liquidate is one liquidateposition: the venue cancels the account's
// orders in the contract and flattens its position at market.
func (c *Client) Liquidate(ctx context.Context, account string) error {
	id, err := c.account(account)
	if err != nil {
		return c.refuse(broker.Order{Account: account}, broker.Single, "", err)
	}
	var res placeResult
	req := liquidateReq{AccountID: id, ContractID: c.contractID, Admin: false, IsAutomated: true}
	// Liquidating twice is liquidating once: safe to retry.
	if err := c.rest.call(ctx, http.MethodPost, "/order/liquidateposition", req, &res, callOpts{safe: true}); err != nil {
		return fmt.Errorf("tradovate: liquidate %s: %w", account, err)
	}
	if err := placeErr("liquidateposition "+account, res); err != nil {
		return err
	}
	return nil
}

// OpenOrders returns the account's orders that can still trade, read from
// the venue (order/list, orderVersion/list, command/list).
func (c *Client) OpenOrders(ctx context.Context, account string) ([]broker.OrderState, error) {
	id, err := c.account(account)
	if err != nil {
		return nil, err
	}
	var (
		orders []orderEnt
		vers   []orderVersionEnt
		cmds   []commandEnt
		fills  []fillEnt
	)
	for _, q := range []struct {
		path string
		out  any
	}{{"/order/list", &orders}, {"/orderVersion/list", &vers}, {"/command/list", &cmds}, {"/fill/list", &fills}} {
		if err := c.rest.call(ctx, http.MethodGet, q.path, nil, q.out, callOpts{safe: true}); err != nil {
			return nil, fmt.Errorf("tradovate: open orders: %w", err)
		}
	}
	ver := map[int64]orderVersionEnt{}
	for _, v := range vers {
		if v.ID >= ver[v.OrderID].ID {
			ver[v.OrderID] = v
		}
	}
	cl := map[int64]string{}
	for _, cm := range cmds {
		if cm.CommandType == "New" {
			cl[cm.OrderID] = cm.ClOrdID
		}
	}
	type agg struct{ qty, cost int64 }
	fa := map[int64]agg{}
	for _, f := range fills {
		a := fa[f.OrderID]
		a.qty += f.Qty
		a.cost += f.Qty * int64(ticksOf(f.Price))
		fa[f.OrderID] = a
	}
	byID := map[int64]orderEnt{}
	for _, o := range orders {
		byID[o.ID] = o
	}
	var out []broker.OrderState
	for _, o := range orders {
		st := statusOf(o.OrdStatus)
		if o.AccountID != id || st.Done() {
			continue
		}
		v := ver[o.ID]
		s := broker.OrderState{Order: broker.Order{ClientID: clientIDOf(cl, o.ID), Account: account, Side: sideOf(o.Action),
			Qty: v.OrderQty, Type: orderTypeOf(v.OrderType), TIF: tifOf(v.TimeInForce)}, Status: st}
		if v.Price != nil {
			s.Price = ticksOf(*v.Price)
		}
		if v.StopPrice != nil {
			s.StopPrice = ticksOf(*v.StopPrice)
		}
		if a := fa[o.ID]; a.qty > 0 {
			s.FilledQty = a.qty
			s.AvgPrice = market.Price((a.cost + a.qty/2) / a.qty)
		}
		s.Role, s.GroupID = c.roleOf(o, s.Type, byID, cl)
		c.mu.Lock()
		if co := c.orders[o.ID]; co != nil && co.triggered && st == broker.Working {
			s.Status = broker.Triggered
		}
		c.mu.Unlock()
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ClientID < out[j].ClientID })
	return out, nil
}

func clientIDOf(cl map[int64]string, id int64) string {
	if s := cl[id]; s != "" {
		return s
	}
	return "tv-" + strconv.FormatInt(id, 10)
}

// roleOf derives a bracket role from the entities: an OSO exit has a
// parentId (its entry); a stop-type exit is the stop, a limit the target.
func (c *Client) roleOf(o orderEnt, typ market.OrderType, byID map[int64]orderEnt, cl map[int64]string) (broker.Role, string) {
	c.mu.Lock()
	if co := c.orders[o.ID]; co != nil && co.role != broker.Single {
		defer c.mu.Unlock()
		return co.role, co.group
	}
	c.mu.Unlock()
	if o.ParentID != 0 {
		if typ == market.LimitOrder {
			return broker.TargetLeg, clientIDOf(cl, o.ParentID)
		}
		return broker.StopLeg, clientIDOf(cl, o.ParentID)
	}
	for _, x := range byID {
		if x.ParentID == o.ID {
			return broker.EntryLeg, clientIDOf(cl, o.ID)
		}
	}
	return broker.Single, ""
}

// Positions returns every configured account's position in the contract
// (position/list; an account that never traded is flat), sorted by account.
func (c *Client) Positions(ctx context.Context) ([]broker.Position, error) {
	var ps []positionEnt
	if err := c.rest.call(ctx, http.MethodGet, "/position/list", nil, &ps, callOpts{safe: true}); err != nil {
		return nil, fmt.Errorf("tradovate: positions: %w", err)
	}
	byDesk := map[string]broker.Position{}
	for _, p := range ps {
		desk, ok := c.acctDesk[p.AccountID]
		if !ok || p.ContractID != c.contractID {
			continue
		}
		byDesk[desk] = positionOf(desk, p)
	}
	out := make([]broker.Position, 0, len(c.acctID))
	for desk := range c.acctID {
		p, ok := byDesk[desk]
		if !ok {
			p = broker.Position{Account: desk}
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out, nil
}

// positionOf converts a position entity: CostTick is netPos × netPrice in
// ticks; realized = soldValue − boughtValue + the open lots' cost.
func positionOf(desk string, p positionEnt) broker.Position {
	cost := int64(0)
	if p.NetPos != 0 {
		cost = int64(ticksOfExact(float64(p.NetPos) * p.NetPrice))
	}
	realized := int64(ticksOfExact(p.SoldValue-p.BoughtValue)) + cost
	return broker.Position{Account: desk, Qty: p.NetPos, AvgPrice: ticksOf(p.NetPrice), CostTick: cost, Realized: realized}
}

func ticksOfExact(points float64) market.Price { return ticksOf(points) }

// Events is the stream of execution events, in Seq order, never dropped.
func (c *Client) Events() <-chan broker.Event { return c.events.out }

// Connected reports whether the user socket is up and synchronised: order
// and fill events are flowing. While it is false the connector is
// reconnecting.
func (c *Client) Connected() bool { return c.up.Load() }

// Close stops the WebSocket and token renewal and closes Events.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.syncCond.Broadcast()
	c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
	c.events.close()
	return nil
}
