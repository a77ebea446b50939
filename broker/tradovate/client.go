// This file is the Client: a broker.Broker over the REST calls and the user
// WebSocket, with the ClientID ↔ orderId binding that makes submissions
// idempotent, and the placement rules: a placement whose outcome is
// unknown is decided on a fresh, complete user/syncrequest snapshot and is
// never sent again while the venue's own orders may hold it.

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
	// HeartbeatEvery is the client heartbeat period (default 2.5 s, the
	// tutorial's: example-api-js EX-06-Heartbeats).
	HeartbeatEvery time.Duration
	// SilenceTimeout: a socket that brings nothing at all, not even a
	// server heartbeat, for this long is dead: the link is marked down
	// and the connector reconnects (default 5 s: the server heartbeats
	// every 2.5 s in the venue, and the public sources give no period for
	// Tradovate's, so two missed periods of the client's own are
	// assumed).
	SilenceTimeout time.Duration
	// StableAfter: only a session that stayed up this long resets the
	// reconnect backoff (default 10 s).
	StableAfter time.Duration
	// CaptchaWait is how long to wait before trying again after a
	// p-captcha ticket (default 1 h: "try again in an hour",
	// example-api-faq docs/HowToHandleRequestLimits.md).
	CaptchaWait time.Duration

	// wait times reconnect delays (tests in the package record them).
	wait func(time.Duration) <-chan time.Time
}

func (o Options) withDefaults() Options {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = market.WallClock{}
	}
	if o.Backoff <= 0 {
		o.Backoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.HeartbeatEvery <= 0 {
		o.HeartbeatEvery = 2500 * time.Millisecond
	}
	if o.SilenceTimeout <= 0 {
		o.SilenceTimeout = 5 * time.Second
	}
	if o.StableAfter <= 0 {
		o.StableAfter = 10 * time.Second
	}
	if o.CaptchaWait <= 0 {
		o.CaptchaWait = time.Hour
	}
	if o.wait == nil {
		o.wait = time.After
	}
	return o
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
	byClient map[ckey]int64   // (account, name) → orderId
	submits  map[ckey]*submit // submissions made through this client
	meta     map[ckey]pendingMeta
	// inflight counts, per account, our submissions (placements and
	// liquidations) whose REST answer has not come: while it is above
	// zero the events of an order without a ClientID are held.
	inflight map[string]int
	liqOpen  map[string]int // liquidateposition calls in flight
	holding  map[int64]*ord // orders with events held
	// unconfirmed are placements whose outcome could not be decided; an
	// order that turns up later matching one is bound to it.
	unconfirmed map[ckey]pendingMeta
	seenRep     map[int64]bool    // execution report ids turned into events
	trades      map[int64]fillRef // Trade report id → its fill (busts, corrections)
	positions   map[int64]positionEnt
	risk        map[int64]accountRiskStatusEnt
	autoLiq     map[int64]userAccountAutoLiqEnt
	maxOrderID  int64
	lastTime    int64 // venue time of the last event
	seq         uint64
	syncs       int // completed user/syncrequest snapshots (1 + reconnects)
	syncCond    *sync.Cond
	kick        context.CancelFunc // ends the current user session (resync)
	problem     error

	events *queue
	up     atomic.Bool // the user socket is synchronised

	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed bool
}

type ckey struct{ account, clientID string }

type fillRef struct {
	qty   int64
	price market.Price
}

// submit tracks one submission so that the same ClientID is one order.
type submit struct {
	done chan struct{}
	err  error
}

// ord is the connector's view of one Tradovate order.
type ord struct {
	id        int64
	account   string
	clientID  string // the desk's ClientID once known ("" = not bound)
	bound     bool
	external  bool // placed elsewhere (the broker's platform, its auto-liquidation)
	manual    bool // its New command is not automated
	autoCmd   bool // its New command is automated (an API client's)
	admin     bool
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
	filled    int64 // Σ fills (busts taken out)
	cost      int64 // Σ fill qty × price in ticks
	parentID  int64
	verID     int64
	lastRep   int64
	triggered bool
	held      []broker.Event
}

// name is the order's ClientID, or the venue's name for it.
func (o *ord) name() string {
	if o.clientID != "" {
		return o.clientID
	}
	return "tv-" + strconv.FormatInt(o.id, 10)
}

var _ broker.Broker = (*Client)(nil)

// UnconfirmedError: a placement was answered without an order id or a
// failure (or its answer was lost), and the venue's complete order list
// does not show it (Absent), or could not be read to tell. It wraps
// broker.ErrUnconfirmed: for a protective stop or a repair the desk must
// flatten.
type UnconfirmedError struct {
	Account, ClientID, What string
	Absent                  bool  // the venue's snapshot shows no such order
	Err                     error // why it could not be told, if not Absent
}

func (e *UnconfirmedError) Error() string {
	if e.Absent {
		return fmt.Sprintf("tradovate: %s %s/%s: answered with neither an order id nor a failure, and the venue has no such order", e.What, e.Account, e.ClientID)
	}
	return fmt.Sprintf("tradovate: %s %s/%s: outcome unknown: %v", e.What, e.Account, e.ClientID, e.Err)
}

// Unwrap gives broker.ErrUnconfirmed and the cause.
func (e *UnconfirmedError) Unwrap() []error { return []error{broker.ErrUnconfirmed, e.Err} }

// Dial authenticates, resolves the accounts and the contract, starts token
// renewal and the user WebSocket, and returns when the first
// user/syncrequest snapshot is applied.
func Dial(ctx context.Context, cfg Config, creds Credentials, opt Options) (*Client, error) {
	cfg = cfg.withDefaults()
	opt = opt.withDefaults()
	c := &Client{
		cfg: cfg, opt: opt, log: opt.Log,
		rest:        newREST(cfg, creds, opt.Log, opt.Clock),
		acctID:      map[string]int64{},
		acctDesk:    map[int64]string{},
		acctSpec:    map[string]string{},
		orders:      map[int64]*ord{},
		byClient:    map[ckey]int64{},
		submits:     map[ckey]*submit{},
		meta:        map[ckey]pendingMeta{},
		inflight:    map[string]int{},
		liqOpen:     map[string]int{},
		holding:     map[int64]*ord{},
		unconfirmed: map[ckey]pendingMeta{},
		seenRep:     map[int64]bool{},
		trades:      map[int64]fillRef{},
		positions:   map[int64]positionEnt{},
		risk:        map[int64]accountRiskStatusEnt{},
		autoLiq:     map[int64]userAccountAutoLiqEnt{},
		events:      newQueue(),
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
	// The first snapshot, or a problem no retry gets past soon (a captcha).
	err := c.waitFor(ctx, func() bool { return c.syncs >= 1 || c.problem != nil }, "sync 1")
	if err == nil && c.Syncs() == 0 {
		err = c.Problem()
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// resolve maps the configured accounts to Tradovate ids and finds the
// contract. account/list may be cut short (list answers are capped): an
// account it does not show is looked up by name (account/find).
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
			var found account
			err := c.rest.call(ctx, http.MethodGet, "/account/find?name="+name, nil, &found, callOpts{safe: true})
			var ae *APIError
			if err != nil && !(errors.As(err, &ae) && ae.Status == http.StatusNotFound) {
				return fmt.Errorf("tradovate: account/find %s: %w", name, err)
			}
			if found.ID == 0 || found.Name != name {
				return fmt.Errorf("%w: account %q (desk %q) is not one of this user's accounts", broker.ErrUnknownAccount, name, desk)
			}
			a = found
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
	return c.waitFor(ctx, func() bool { return c.syncs >= n }, fmt.Sprintf("sync %d", n))
}

// WaitConnected blocks until Connected() is up or ctx ends.
func (c *Client) WaitConnected(ctx context.Context, up bool) error {
	return c.waitFor(ctx, func() bool { return c.up.Load() == up }, fmt.Sprintf("link up=%v", up))
}

func (c *Client) waitFor(ctx context.Context, cond func() bool, what string) error {
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.syncCond.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for !cond() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("tradovate: waiting for %s: %w", what, err)
		}
		if c.closed {
			return broker.ErrDisconnected
		}
		c.syncCond.Wait()
	}
	return nil
}

func (c *Client) setUp(up bool) {
	c.mu.Lock()
	c.up.Store(up)
	c.syncCond.Broadcast()
	c.mu.Unlock()
}

// Problem is the last condition the connector cannot get past on its own
// (a captcha demanded by a penalty ticket), nil once it is connected
// again: for the console to show.
func (c *Client) Problem() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.problem
}

func (c *Client) setProblem(err error) {
	c.mu.Lock()
	c.problem = err
	c.syncCond.Broadcast()
	c.mu.Unlock()
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
// do), or the submit to complete. A claimed submission counts as in flight
// on its account until finish.
func (c *Client) begin(ctx context.Context, k ckey, m pendingMeta) (*submit, bool, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, false, broker.ErrDisconnected
		}
		if id, ok := c.byClient[k]; ok && c.orders[id].bound && c.orders[id].status != broker.Rejected {
			err := c.sameAs(k, m)
			c.mu.Unlock()
			return nil, false, err
		}
		s, ok := c.submits[k]
		if !ok {
			s = &submit{done: make(chan struct{})}
			c.submits[k] = s
			m.floor = c.maxOrderID
			c.meta[k] = m
			c.inflight[k.account]++
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
	if err != nil {
		// An order of ours that no answer bound: refused (its failure
		// answer names no order), or its outcome unknown (retries given
		// up, an unconfirmed answer). Found by content among the orders no
		// ClientID claims, it is bound now; else one that turns up later
		// is.
		var ue *UnconfirmedError
		absent := errors.As(err, &ue) && ue.Absent
		if id, ok := c.byClient[k]; !ok || !c.orders[id].bound {
			if o := c.matchContent(c.meta[k]); o != nil {
				c.adopt(o, k, c.meta[k])
			} else if !absent {
				c.unconfirmed[k] = c.meta[k]
			}
		}
		// A bracket's legs, the same way: a refused placeoso's stop and
		// target come back rejected, and not always as children of the
		// entry (adopt's binding), nor before the answer.
		if b := c.meta[k].bracket; b != nil {
			for _, leg := range []broker.Order{b.Stop, b.Target} {
				lk := ckey{k.account, leg.ClientID}
				if id, ok := c.byClient[lk]; ok && c.orders[id].bound {
					continue
				}
				lm, ok := c.meta[lk]
				if !ok {
					continue
				}
				if o := c.matchContent(lm); o != nil {
					c.adopt(o, lk, lm)
				} else if !absent {
					c.unconfirmed[lk] = lm
				}
			}
		}
	}
	c.inflight[k.account]--
	if c.inflight[k.account] == 0 {
		c.releaseUnbound(k.account)
	}
	c.mu.Unlock()
	close(s.done)
}

func (c *Client) isBound(k ckey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.byClient[k]
	return ok && c.orders[id].bound
}

// landed reports whether an order with this ClientID exists at the venue.
// It is asked before resending a submission whose outcome is unknown, and
// must never say "absent" while the venue may have it: list answers are
// cut short and the command with the clOrdId may come late or with an
// empty clOrdId, so the answer is taken from a fresh user/syncrequest
// snapshot (complete: "all your current user data", example-api-faq
// example-code/user-sync-request/README.md), where the order is found by
// its clOrdId or, failing that, by its content among the orders no
// ClientID claims.
func (c *Client) landed(ctx context.Context, k ckey) (bool, error) {
	if c.isBound(k) {
		return true, nil
	}
	if err := c.resync(ctx); err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.byClient[k]; ok && c.orders[id].bound {
		return true, nil
	}
	m := c.meta[k]
	if o := c.matchContent(m); o != nil {
		c.adopt(o, k, m)
		return true, nil
	}
	return false, nil
}

// matchContent finds the order a submission made, among the orders that
// no ClientID claims and that appeared after it began: same account, side,
// type, quantity and prices; the oldest wins. Caller holds c.mu.
func (c *Client) matchContent(m pendingMeta) *ord {
	var best *ord
	want := m.order
	for _, o := range c.orders {
		// A bracket's exit may come with no quantity of its own (a refused
		// placeoso's legs: their versions never made): the rest must match.
		legQty := o.qty == 0 && (m.role == broker.StopLeg || m.role == broker.TargetLeg)
		if o.bound || o.external || o.manual || o.account != want.Account || o.id <= m.floor || o.side != want.Side ||
			o.typ != want.Type || o.qty != want.Qty && !legQty {
			continue
		}
		if (o.typ == market.LimitOrder || o.typ == market.StopLimitOrder) && o.price != want.Price ||
			isStopType(o.typ) && o.stop != want.StopPrice {
			continue
		}
		if m.bracket != nil && o.parentID != 0 {
			continue
		}
		if best == nil || o.id < best.id {
			best = o
		}
	}
	return best
}

// matchUnconfirmed finds the undecided placement an unbound order is.
// Caller holds c.mu.
func (c *Client) matchUnconfirmed(o *ord) (ckey, pendingMeta, bool) {
	for k, m := range c.unconfirmed {
		if k.account != o.account {
			continue
		}
		if got := c.matchContent(m); got == o {
			return k, m, true
		}
	}
	return ckey{}, pendingMeta{}, false
}

// adopt binds an order found by content to the submission's ClientID (and
// a bracket's exits, its children, to theirs). Caller holds c.mu.
func (c *Client) adopt(o *ord, k ckey, m pendingMeta) {
	delete(c.unconfirmed, k)
	c.log.Warn("tradovate: order bound by content (no clOrdId echoed, no order id answered)", "client_id", k.clientID, "order", o.id)
	o.clientID = k.clientID
	c.bind(o)
	if m.bracket == nil {
		return
	}
	for _, x := range c.orders {
		if x.parentID != o.id || x.bound {
			continue
		}
		leg := m.bracket.Target
		if isStopType(x.typ) {
			leg = m.bracket.Stop
		}
		x.clientID = leg.ClientID
		c.bind(x)
	}
}

// confirm decides a placement answered without an order id: found at the
// venue (bound), or an UnconfirmedError.
func (c *Client) confirm(ctx context.Context, k ckey, what string) error {
	ok, err := c.landed(ctx, k)
	if ok {
		return nil
	}
	return &UnconfirmedError{Account: k.account, ClientID: k.clientID, What: what, Absent: err == nil, Err: err}
}

func placeErr(what string, r placeResult) error {
	if r.FailureReason != "" && r.FailureReason != "Success" || r.FailureText != "" && r.OrderID == 0 {
		return fmt.Errorf("%w: %s: %s: %s", broker.ErrInvalid, what, r.FailureReason, r.FailureText)
	}
	return nil
}

// SubmitOrder places one order (placeorder). The same ClientID twice is
// one order. An answer with neither an orderId nor a failure is decided on
// the venue's orders: found, it is the order; not found, it is an
// UnconfirmedError (broker.ErrUnconfirmed).
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
	if err == nil {
		if res.OrderID != 0 {
			c.bindID(res.OrderID, k)
		} else {
			err = c.confirm(ctx, k, "placeorder")
		}
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
		Side: o.Side, Reason: err.Error(), Role: role, GroupID: group, Status: broker.Rejected})
	return err
}

// bindID records an orderId from a REST answer (the push may come later,
// or may already have come without a clOrdId).
func (c *Client) bindID(id int64, k ckey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.get(id)
	o.account, o.clientID = k.account, k.clientID
	o.external = false
	c.bind(o)
}

// SubmitBracket places the entry with its stop (bracket1) and target
// (bracket2) as one placeoso: the venue arms the exits with the entry's
// fills and links them OCO. An answer without the stop's id (oso1Id) is
// decided like a placement without an order id: the stop must be found at
// the venue, or the bracket is unconfirmed (broker.ErrUnconfirmed).
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
	c.remember(ks, leg(b.Stop, b.Entry), broker.StopLeg, g)
	c.remember(kt, leg(b.Target, b.Entry), broker.TargetLeg, g)
	var res placeResult
	err = c.rest.call(ctx, http.MethodPost, "/order/placeoso", req, &res,
		callOpts{before: func(ctx context.Context) (bool, error) { return c.landed(ctx, k) }})
	if err == nil {
		err = placeErr("placeoso "+g, res)
	}
	if err == nil {
		if res.OrderID != 0 {
			c.bindID(res.OrderID, k)
		} else {
			err = c.confirm(ctx, k, "placeoso")
		}
	}
	if err == nil {
		if res.OSO1ID != 0 {
			c.bindID(res.OSO1ID, ks)
		}
		if res.OSO2ID != 0 {
			c.bindID(res.OSO2ID, kt)
		}
		if !c.isBound(ks) {
			// The answer did not name the stop: it must be at the venue.
			if ok, lerr := c.landed(ctx, ks); !ok {
				err = &UnconfirmedError{Account: ks.account, ClientID: ks.clientID, What: "placeoso stop", Absent: lerr == nil, Err: lerr}
			}
		}
	}
	c.finish(k, s, err)
	return err
}

func withAccount(o broker.Order, a string) broker.Order { o.Account = a; return o }

// leg is a bracket's exit as the venue holds it: the entry's account, and
// the entry's quantity where the exit names none.
func leg(o, entry broker.Order) broker.Order {
	o.Account = entry.Account
	if o.Qty == 0 {
		o.Qty = entry.Qty
	}
	return o
}

// pendingMeta is what the connector knows of its own submissions before
// the venue has pushed their orders (role and group are not in the
// entities of a plain order).
type pendingMeta struct {
	role    broker.Role
	group   string
	order   broker.Order
	bracket *broker.Bracket
	floor   int64 // the highest order id known when it began
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
	// The floor of the entry's submission: a leg matched by content is
	// one that appeared after the bracket was begun.
	c.meta[k] = pendingMeta{role: role, group: group, order: o, floor: c.meta[ckey{o.Account, group}].floor}
}

// Adopt binds an order the venue knows by its id (an Event's VenueOrder)
// to a ClientID: for a desk that journaled its orders' venue ids and
// restarts against a venue that echoes no clOrdId. Its later events carry
// the ClientID and are not external.
func (c *Client) Adopt(account, clientID, venueOrder string) error {
	id, err := strconv.ParseInt(venueOrder, 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("%w: venue order id %q", broker.ErrInvalid, venueOrder)
	}
	if _, err := c.account(account); err != nil {
		return err
	}
	c.bindID(id, ckey{account, clientID})
	return nil
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

// cancelRounds bounds CancelAll's re-checks.
const cancelRounds = 8

// CancelAll cancels every working order of the account. The API has no
// cancel-all and its lists are cut short, so it is one cancelorder per
// open order, and the open orders are read again until a reading shows
// none it has not already cancelled.
func (c *Client) CancelAll(ctx context.Context, account string) error {
	tried := map[string]bool{}
	var errs []error
	for round := 0; round < cancelRounds; round++ {
		open, err := c.OpenOrders(ctx, account)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		n := 0
		for _, o := range open {
			if tried[o.ClientID] {
				continue
			}
			tried[o.ClientID] = true
			n++
			if err := c.Cancel(ctx, account, o.ClientID); err != nil && !errors.Is(err, broker.ErrOrderDone) {
				errs = append(errs, err)
			}
		}
		if n == 0 {
			return errors.Join(errs...)
		}
	}
	return errors.Join(append(errs, fmt.Errorf("tradovate: cancel all %s: orders still open after %d readings", account, cancelRounds))...)
}

// Liquidate is one liquidateposition: the venue cancels the account's
// orders in the contract and flattens its position at market. The
// flattening order is named liquidate.ACCOUNT.tvID (its id comes in the
// answer; liquidateposition sends no clOrdId).
func (c *Client) Liquidate(ctx context.Context, account string) error {
	id, err := c.account(account)
	if err != nil {
		return c.refuse(broker.Order{Account: account}, broker.Single, "", err)
	}
	c.mu.Lock()
	c.inflight[account]++
	c.liqOpen[account]++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inflight[account]--
		if c.inflight[account] == 0 {
			c.releaseUnbound(account)
		}
		c.liqOpen[account]--
		c.mu.Unlock()
	}()
	var res placeResult
	req := liquidateReq{AccountID: id, ContractID: c.contractID, Admin: false, IsAutomated: true}
	// Liquidating twice is liquidating once: safe to retry.
	if err := c.rest.call(ctx, http.MethodPost, "/order/liquidateposition", req, &res, callOpts{safe: true}); err != nil {
		return fmt.Errorf("tradovate: liquidate %s: %w", account, err)
	}
	if err := placeErr("liquidateposition "+account, res); err != nil {
		return err
	}
	if res.OrderID != 0 {
		c.bindID(res.OrderID, ckey{account, "liquidate." + account + ".tv" + strconv.FormatInt(res.OrderID, 10)})
	}
	return nil
}

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
