// client.go: the Client, a broker.Broker over the order plant (orders,
// brackets, cancels, liquidation, notifications) and the PnL plant
// (positions): construction, the requests, and the ClientID ↔ basket map
// that makes submissions idempotent. Notifications and reconciliation are
// in orders.go.

package rithmic

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/proto"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/rithmic/rpb"
	"github.com/deskguard/deskguard/market"
)

// Client is a connected set of Rithmic accounts. It implements
// broker.Broker.
type Client struct {
	cfg    Config
	opt    Options
	log    *slog.Logger
	order  *plant
	pnl    *plant
	cancel context.CancelFunc
	wg     sync.WaitGroup
	symbol string // the contract traded (a product code resolved)

	ref atomic.Int64 // the last trade's price: market entries' brackets count from it

	mu         sync.Mutex
	acctR      map[string]string // desk account → Rithmic account id
	acctD      map[string]string // Rithmic account id → desk account
	fcm, ib    string
	userType   rpb.UserType
	route      string
	orders     map[string]*ord // by basket
	byClient   map[ckey]*ord
	inflight   map[ckey]*submit
	delivered  map[string]bool // venue ids of the events delivered
	seq        uint64
	lastTime   int64
	noteN      uint64 // notifications applied
	syncs      int    // reconciliations done (1 after Dial, one more per reconnect)
	reconciled bool   // a reconciliation done, not yet counted in syncs (countSync, once its session is up)
	syncCond   *sync.Cond
	exitSent   map[string]bool
	liq        map[string]*sync.Mutex
	rms        map[string]RMS // by desk account: the RMS's limits last read (risk.go)
	rmsNotes   []string       // RMS requests the gateway refused at the last login
	rmsKick    chan struct{}  // a 356 came: read 304 again
	closed     bool
	events     *queue
}

type ckey struct{ account, clientID string }

// submit is one submission in flight: the same ClientID waits for it.
type submit struct {
	done chan struct{}
	err  error
}

var _ broker.Broker = (*Client)(nil)

func (o Options) withDefaults() Options {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Backoff <= 0 {
		o.Backoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 10 * time.Second
	}
	return o
}

// Dial checks the system name against the gateway's list, logs in to the
// order and PnL plants, subscribes to the accounts' order and bracket
// updates, reconciles (executions replayed since the session start, then
// the order snapshot), and returns once the order plant is up.
func Dial(ctx context.Context, cfg Config, creds Credentials, opt Options) (*Client, error) {
	cfg = cfg.WithDefaults()
	opt = opt.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !opt.SkipSystemCheck {
		if err := checkSystem(ctx, cfg, opt); err != nil {
			return nil, err
		}
	}
	sym := cfg.Symbol
	if isProductCode(sym) {
		var err error
		if sym, err = frontMonth(ctx, cfg, creds, opt); err != nil {
			return nil, err
		}
	}
	c := &Client{cfg: cfg, opt: opt, log: opt.Log, symbol: sym, acctR: map[string]string{}, acctD: map[string]string{},
		orders: map[string]*ord{}, byClient: map[ckey]*ord{}, inflight: map[ckey]*submit{}, delivered: map[string]bool{},
		exitSent: map[string]bool{}, liq: map[string]*sync.Mutex{}, rms: map[string]RMS{}, rmsKick: make(chan struct{}, 1), events: newQueue()}
	c.syncCond = sync.NewCond(&c.mu)
	c.order = newPlant("order", rpb.InfraType_INFRA_ORDER_PLANT, cfg, creds, opt)
	c.order.setup = c.setupOrder
	c.order.ready = c.countSync
	c.order.push = c.onOrderPush
	c.pnl = newPlant("pnl", rpb.InfraType_INFRA_PNL_PLANT, cfg, creds, opt)
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	c.wg.Add(3)
	go func() { defer c.wg.Done(); c.order.run(runCtx) }()
	go func() { defer c.wg.Done(); c.pnl.run(runCtx) }()
	go func() { defer c.wg.Done(); c.rmsWatch(runCtx) }()
	for _, p := range []*plant{c.order, c.pnl} {
		select {
		case err := <-p.first:
			if err != nil && (p == c.order || errors.Is(err, ErrLogin)) {
				c.Close()
				return nil, fmt.Errorf("rithmic: connect: %w", err)
			}
			if err != nil {
				c.log.Warn("rithmic: PnL plant not up yet; positions wait for it", "err", err)
			}
		case <-ctx.Done():
			c.Close()
			return nil, fmt.Errorf("rithmic: connect: %w", ctx.Err())
		}
	}
	return c, nil
}

// isProductCode reports whether a symbol has no contract month (MES, not
// MESZ5): the ticker plant resolves it.
func isProductCode(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r >= '0' && r <= '9' }) < 0
}

// checkSystem asks the gateway for its systems (16/17) on a connection of
// its own, as a first connection must (async_rithmic/plants/base.py,
// _connect), and refuses a system name it does not list.
func checkSystem(ctx context.Context, cfg Config, opt Options) error {
	p := newPlant("system", 0, cfg, Credentials{}, opt)
	dctx, cancel := context.WithTimeout(ctx, opt.RequestTimeout)
	defer cancel()
	ws, _, err := websocketDial(dctx, cfg.URL)
	if err != nil {
		return fmt.Errorf("rithmic: system list: dial %s: %w", cfg.URL, err)
	}
	s := &session{p: p, ws: ws, calls: map[string]*call{}, ended: make(chan struct{})}
	defer s.end(nil)
	if err := s.write(dctx, rpb.TSystemInfoRequest, &rpb.RequestRithmicSystemInfo{UserMsg: []string{"s"}}); err != nil {
		return err
	}
	for {
		msg, err := readMessage(dctx, ws, nil)
		if err != nil {
			return fmt.Errorf("rithmic: system list: %w", err)
		}
		var names []string
		found := false
		if err := rpb.Frames(msg, func(b []byte) error {
			_, m, err := rpb.Decode(b)
			if r, ok := m.(*rpb.ResponseRithmicSystemInfo); ok && err == nil {
				names, found = r.SystemName, true
			}
			return nil
		}); err != nil {
			return fmt.Errorf("rithmic: system list: %w", err)
		}
		if !found {
			continue
		}
		for _, n := range names {
			if n == cfg.SystemName {
				return nil
			}
		}
		return fmt.Errorf("%w: system %q is not served by %s (it serves %q)", ErrConfig, cfg.SystemName, cfg.URL, names)
	}
}

// frontMonth resolves a product code to its front month contract on a
// ticker plant session of its own (113/114).
func frontMonth(ctx context.Context, cfg Config, creds Credentials, opt Options) (string, error) {
	p := newPlant("ticker", rpb.InfraType_INFRA_TICKER_PLANT, cfg, creds, opt)
	s, err := p.open(ctx)
	if err != nil {
		return "", err
	}
	defer s.end(nil)
	go s.reader()
	parts, err := s.call(ctx, rpb.TFrontMonthRequest, &rpb.RequestFrontMonthContract{Symbol: cfg.Symbol, Exchange: cfg.Exchange})
	if err != nil {
		return "", fmt.Errorf("rithmic: front month of %s: %w", cfg.Symbol, err)
	}
	for _, m := range parts {
		if r, ok := m.(*rpb.ResponseFrontMonthContract); ok && r.TradingSymbol != "" {
			return r.TradingSymbol, nil
		}
	}
	return "", fmt.Errorf("rithmic: no front month for %s.%s (Rithmic answers none during its maintenance window)", cfg.Symbol, cfg.Exchange)
}

// setupOrder runs after each order plant login: login info, accounts,
// trade routes, update subscriptions (orders, brackets, the RMS's), the
// RMS's limits, then reconciliation.
func (c *Client) setupOrder(ctx context.Context, s *session) error {
	// The server's time first (a heartbeat answer carries it): the
	// execution replay's window is counted from it.
	if _, err := s.call(ctx, rpb.THeartbeatRequest, &rpb.RequestHeartbeat{}); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	parts, err := s.call(ctx, rpb.TLoginInfoRequest, &rpb.RequestLoginInfo{})
	if err != nil {
		return fmt.Errorf("login info: %w", err)
	}
	fcm, ib, ut := s.fcm, s.ib, rpb.UserType_USER_TYPE_TRADER
	for _, m := range parts {
		if r, ok := m.(*rpb.ResponseLoginInfo); ok {
			if r.FcmId != "" {
				fcm, ib = r.FcmId, r.IbId
			}
			ut = r.UserType
		}
	}
	if parts, err = s.call(ctx, rpb.TAccountListRequest, &rpb.RequestAccountList{FcmId: fcm, IbId: ib, UserType: ut}); err != nil {
		return fmt.Errorf("account list: %w", err)
	}
	have := map[string]bool{}
	for _, m := range parts {
		if r, ok := m.(*rpb.ResponseAccountList); ok && r.AccountId != "" {
			have[r.AccountId] = true
		}
	}
	want := c.cfg.Accounts
	if len(want) == 0 {
		want = map[string]string{}
		for a := range have {
			want[a] = a
		}
	}
	for desk, acct := range want {
		if !have[acct] {
			return fmt.Errorf("%w: account %q (desk %q) is not one of this user's accounts", broker.ErrUnknownAccount, acct, desk)
		}
	}
	if parts, err = s.call(ctx, rpb.TTradeRoutesRequest, &rpb.RequestTradeRoutes{SubscribeForUpdates: true}); err != nil {
		return fmt.Errorf("trade routes: %w", err)
	}
	route := ""
	for _, m := range parts {
		r, ok := m.(*rpb.ResponseTradeRoutes)
		if !ok || r.Exchange != c.cfg.Exchange || r.TradeRoute == "" {
			continue
		}
		if c.cfg.TradeRoute != "" {
			if r.TradeRoute == c.cfg.TradeRoute {
				route = r.TradeRoute
			}
			continue
		}
		if route == "" || r.IsDefault {
			route = r.TradeRoute
		}
	}
	if route == "" {
		return fmt.Errorf("%w: no trade route %q for %s", ErrConfig, c.cfg.TradeRoute, c.cfg.Exchange)
	}
	c.mu.Lock()
	c.fcm, c.ib, c.userType, c.route = fcm, ib, ut, route
	for desk, acct := range want {
		if c.acctR[desk] != acct { // written once: later logins find the same accounts
			c.acctR[desk], c.acctD[acct] = acct, desk
		}
		if c.liq[desk] == nil {
			c.liq[desk] = &sync.Mutex{}
		}
	}
	accts := c.sortedAccountsLocked()
	c.mu.Unlock()
	for _, desk := range accts {
		ra := want[desk]
		if _, err := s.call(ctx, rpb.TOrderUpdatesRequest, &rpb.RequestSubscribeForOrderUpdates{FcmId: fcm, IbId: ib, AccountId: ra}); err != nil {
			return fmt.Errorf("order updates %s: %w", ra, err)
		}
		if _, err := s.call(ctx, rpb.TBracketUpdatesRequest, &rpb.RequestSubscribeToBracketUpdates{FcmId: fcm, IbId: ib, AccountId: ra}); err != nil {
			return fmt.Errorf("bracket updates %s: %w", ra, err)
		}
	}
	c.setupRMS(ctx, s, accts)
	return c.reconcile(ctx, s, accts)
}

func (c *Client) sortedAccountsLocked() []string {
	out := make([]string, 0, len(c.acctR))
	for a := range c.acctR {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Accounts returns the desk account ids this client trades, sorted.
func (c *Client) Accounts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sortedAccountsLocked()
}

// Symbol is the contract the client trades.
func (c *Client) Symbol() string { return c.symbol }

// Syncs returns how many reconciliations completed (1 after Dial, one
// more per order plant reconnect).
func (c *Client) Syncs() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.syncs
}

// WaitSynced blocks until at least n reconciliations completed or ctx ends.
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
			return fmt.Errorf("rithmic: waiting for reconciliation %d: %w", n, err)
		}
		if c.closed {
			return broker.ErrDisconnected
		}
		c.syncCond.Wait()
	}
	return nil
}

// Connected reports whether the order plant is up and reconciled: order
// notifications are flowing.
func (c *Client) Connected() bool { return c.order.up() }

// PnLConnected reports whether the PnL plant (positions) is up.
func (c *Client) PnLConnected() bool { return c.pnl.up() }

// SetReference records the last trade's price: a market entry's bracket
// is placed in ticks from it (the feed of Client.Feed sets it).
func (c *Client) SetReference(p market.Price) { c.ref.Store(int64(p)) }

func (c *Client) account(a string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ra, ok := c.acctR[a]
	if !ok {
		return "", fmt.Errorf("%w: %q", broker.ErrUnknownAccount, a)
	}
	return ra, nil
}

// refuse turns a request refused before or by the venue into an error and
// a RejectedEv, as a venue would.
func (c *Client) refuse(o broker.Order, role broker.Role, group string, err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.emitLocked(broker.Event{Account: o.Account, ClientID: o.ClientID, Kind: broker.RejectedEv, Side: o.Side, Reason: err.Error(),
		Role: role, GroupID: group}, "")
	return err
}

// refusal maps a venue's refusal to the broker's sentinels by its text
// (R|Protocol's error codes are not public).
func refusal(what string, err error) error {
	var re *RejectError
	if !errors.As(err, &re) {
		return fmt.Errorf("rithmic: %s: %w", what, err)
	}
	text := re.Text()
	l := strings.ToLower(text)
	var base error = broker.ErrInvalid
	switch {
	case strings.Contains(l, "unknown account"):
		base = broker.ErrUnknownAccount
	case strings.Contains(l, "not found"):
		base = broker.ErrUnknownOrder
	case strings.Contains(l, "complete"), strings.Contains(l, "already"):
		base = broker.ErrOrderDone
	}
	return fmt.Errorf("%w: %s: %s", base, what, text)
}

func validID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty client order id", broker.ErrInvalid)
	}
	if strings.Contains(id, "|") {
		return fmt.Errorf("%w: client order id %q contains '|' (the bracket separator in user_tag)", broker.ErrInvalid, id)
	}
	return nil
}

func txOf(s market.Side) (rpb.TransactionType, error) {
	switch s {
	case market.Buy:
		return rpb.TransactionType_TRANSACTION_BUY, nil
	case market.Sell:
		return rpb.TransactionType_TRANSACTION_SELL, nil
	}
	return 0, fmt.Errorf("%w: side %v", broker.ErrInvalid, s)
}

func priceTypeOf(t market.OrderType) (rpb.PriceType, error) {
	switch t {
	case market.LimitOrder:
		return rpb.PriceType_PRICE_LIMIT, nil
	case market.MarketOrder:
		return rpb.PriceType_PRICE_MARKET, nil
	case market.StopOrder:
		return rpb.PriceType_PRICE_STOP_MARKET, nil
	case market.StopLimitOrder:
		return rpb.PriceType_PRICE_STOP_LIMIT, nil
	}
	return 0, fmt.Errorf("%w: order type %v", broker.ErrInvalid, t)
}

func durationOf(t broker.TIF) (rpb.Duration, error) {
	switch t {
	case broker.Day, 0:
		return rpb.Duration_DURATION_DAY, nil
	case broker.GTC:
		return rpb.Duration_DURATION_GTC, nil
	}
	return 0, fmt.Errorf("%w: time in force %v", broker.ErrInvalid, t)
}

func points(p market.Price) float64 { return float64(p) / market.TicksPerPoint }

// orderFields converts the common part of a new order or bracket.
type orderFields struct {
	qty            int32
	price, trigger float64
	tx             rpb.TransactionType
	dur            rpb.Duration
	pt             rpb.PriceType
}

func fieldsOf(o broker.Order) (orderFields, error) {
	var f orderFields
	var err error
	if f.tx, err = txOf(o.Side); err != nil {
		return f, err
	}
	if f.pt, err = priceTypeOf(o.Type); err != nil {
		return f, err
	}
	if f.dur, err = durationOf(o.TIF); err != nil {
		return f, err
	}
	if o.Qty > math.MaxInt32 || o.Qty < math.MinInt32 {
		return f, fmt.Errorf("%w: quantity %d", broker.ErrInvalid, o.Qty)
	}
	f.qty = int32(o.Qty)
	if o.Type == market.LimitOrder || o.Type == market.StopLimitOrder {
		f.price = points(o.Price)
	}
	if o.Type == market.StopOrder || o.Type == market.StopLimitOrder {
		f.trigger = points(o.StopPrice)
	}
	return f, nil
}

// SubmitOrder places one order (312) with the ClientID in user_tag. The
// same ClientID twice is one order.
func (c *Client) SubmitOrder(ctx context.Context, o broker.Order) error {
	ra, err := c.account(o.Account)
	if err != nil {
		return c.refuse(o, broker.Single, "", err)
	}
	if err := validID(o.ClientID); err != nil {
		return c.refuse(o, broker.Single, "", err)
	}
	f, err := fieldsOf(o)
	if err != nil {
		return c.refuse(o, broker.Single, "", err)
	}
	c.mu.Lock()
	req := &rpb.RequestNewOrder{UserTag: o.ClientID, WindowName: OrderWindow, FcmId: c.fcm, IbId: c.ib, AccountId: ra,
		Symbol: c.symbol, Exchange: c.cfg.Exchange, Quantity: f.qty, Price: f.price, TriggerPrice: f.trigger, TransactionType: f.tx,
		Duration: f.dur, PriceType: f.pt, TradeRoute: c.route, ManualOrAuto: rpb.OrderPlacement_PLACEMENT_AUTO}
	c.mu.Unlock()
	k := ckey{o.Account, o.ClientID}
	err = c.place(ctx, k, fmt.Sprint(o), rpb.TNewOrderRequest, req, func() {
		c.placeholderLocked(o, broker.Single, "", nil)
	})
	var re *RejectError
	if errors.As(err, &re) {
		return c.refuse(o, broker.Single, "", refusal("new order "+o.ClientID, err))
	}
	return err
}

// Tag is the user_tag of a bracket: "ENTRY|b" when its legs are
// ENTRY.stop and ENTRY.target, else "ENTRY|STOP|TARGET". The bracket's
// exits carry it too, so that the desk's leg ids survive a restart.
func Tag(entry, stop, target string) string {
	if stop == entry+".stop" && target == entry+".target" {
		return entry + "|b"
	}
	return entry + "|" + stop + "|" + target
}

// SplitTag reads a user_tag: a single order's id (bracket false), or a
// bracket's three ids.
func SplitTag(tag string) (entry, stop, target string, bracket bool) {
	parts := strings.Split(tag, "|")
	switch {
	case len(parts) == 2 && parts[1] == "b":
		return parts[0], parts[0] + ".stop", parts[0] + ".target", true
	case len(parts) == 3:
		return parts[0], parts[1], parts[2], true
	}
	return tag, "", "", false
}

// SubmitBracket places the entry with its stop and target as one bracket
// order (330): Rithmic holds the exits, in ticks from the entry's fill,
// and releases them as the entry fills; they cancel each other. The ticks
// count from the entry's limit (limit orders), trigger (stops) or the last
// trade (market orders). An entry is never sent without its bracket.
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
	ra, err := c.account(b.Entry.Account)
	if err != nil {
		return refuse(err)
	}
	for _, id := range []string{b.Entry.ClientID, b.Stop.ClientID, b.Target.ClientID} {
		if err := validID(id); err != nil {
			return refuse(err)
		}
	}
	if b.Entry.ClientID == b.Stop.ClientID || b.Entry.ClientID == b.Target.ClientID || b.Stop.ClientID == b.Target.ClientID {
		return refuse(fmt.Errorf("%w: a bracket's three client order ids must differ", broker.ErrInvalid))
	}
	if b.Stop.Type != market.StopOrder || b.Target.Type != market.LimitOrder {
		return refuse(fmt.Errorf("%w: a bracket's stop is a stop-market order and its target a limit", broker.ErrInvalid))
	}
	e := b.Entry
	if e.Side != market.Buy && e.Side != market.Sell {
		return refuse(fmt.Errorf("%w: side %v", broker.ErrInvalid, e.Side))
	}
	if b.Stop.Side != e.Side.Opposite() || b.Target.Side != e.Side.Opposite() {
		return refuse(fmt.Errorf("%w: bracket legs must be on the side opposite to the entry", broker.ErrInvalid))
	}
	f, err := fieldsOf(e)
	if err != nil {
		return refuse(err)
	}
	ref := e.Price
	switch e.Type {
	case market.StopOrder, market.StopLimitOrder:
		ref = e.StopPrice
	case market.MarketOrder:
		ref = market.Price(c.ref.Load())
		if ref <= 0 {
			return refuse(fmt.Errorf("%w: no last trade to place a market entry's bracket from (start the feed first)", broker.ErrInvalid))
		}
	}
	dir := e.Side.Sign()
	stopTicks := int64(ref-b.Stop.StopPrice) * dir
	targetTicks := int64(b.Target.Price-ref) * dir
	if stopTicks < 1 || targetTicks < 1 {
		if e.Side == market.Buy {
			return refuse(fmt.Errorf("%w: long bracket needs stop %s < entry %s < target %s", broker.ErrInvalid, b.Stop.StopPrice, ref, b.Target.Price))
		}
		return refuse(fmt.Errorf("%w: short bracket needs target %s < entry %s < stop %s", broker.ErrInvalid, b.Target.Price, ref, b.Stop.StopPrice))
	}
	if stopTicks > math.MaxInt32 || targetTicks > math.MaxInt32 {
		return refuse(fmt.Errorf("%w: bracket levels out of range", broker.ErrInvalid))
	}
	c.mu.Lock()
	req := &rpb.RequestBracketOrder{UserTag: Tag(e.ClientID, b.Stop.ClientID, b.Target.ClientID), WindowName: OrderWindow,
		FcmId: c.fcm, IbId: c.ib, AccountId: ra, Symbol: c.symbol, Exchange: c.cfg.Exchange, Quantity: f.qty, Price: f.price,
		TriggerPrice: f.trigger, TransactionType: f.tx, Duration: f.dur, PriceType: f.pt, TradeRoute: c.route,
		ManualOrAuto: rpb.OrderPlacement_PLACEMENT_AUTO, UserType: c.userType, BracketType: rpb.BracketType_BRACKET_TARGET_AND_STOP_STATIC,
		TargetQuantity: f.qty, TargetTicks: int32(targetTicks), StopQuantity: f.qty, StopTicks: int32(stopTicks)}
	c.mu.Unlock()
	k := ckey{e.Account, g}
	err = c.place(ctx, k, fmt.Sprint(b), rpb.TBracketOrderRequest, req, func() {
		bk := &bkt{stopTicks: int32(stopTicks), targetTicks: int32(targetTicks), ref: ref}
		c.placeholderLocked(e, broker.EntryLeg, g, bk)
		stop, target := b.Stop, b.Target
		stop.Account, target.Account = e.Account, e.Account
		stop.Qty, target.Qty = 0, 0
		bk.stop = c.placeholderLocked(stop, broker.StopLeg, g, bk)
		bk.target = c.placeholderLocked(target, broker.TargetLeg, g, bk)
	})
	var re *RejectError
	if errors.As(err, &re) {
		return refuse(refusal("bracket "+g, err))
	}
	return err
}

// placeholderLocked records an order being submitted (no basket yet).
func (c *Client) placeholderLocked(o broker.Order, role broker.Role, group string, bk *bkt) *ord {
	x := &ord{account: o.Account, clientID: o.ClientID, role: role, group: group, bk: bk, side: o.Side, typ: o.Type, qty: o.Qty,
		price: o.Price, stop: o.StopPrice, tif: o.TIF}
	if role == broker.EntryLeg {
		bk.entry = x
	}
	c.byClient[ckey{o.Account, o.ClientID}] = x
	return x
}

// place sends a new order or bracket for k, once: a second submission of
// the same ClientID waits for the first and returns its outcome (nil when
// it stands). A request whose answer is lost with its connection is not
// sent again until the reconciliation after the reconnect shows it absent
// from the venue (the order snapshot, 320, and the executions, 3506); a
// request never written is not sent at all (ErrDisconnected).
func (c *Client) place(ctx context.Context, k ckey, key string, tpl int32, req proto.Message, register func()) error {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return broker.ErrDisconnected
		}
		if o := c.byClient[k]; o != nil && c.inflight[k] == nil {
			same := o.reqKey == key
			if !same && o.reqKey != "" {
				c.mu.Unlock()
				return fmt.Errorf("%w: client order id %s already used by a different order", broker.ErrInvalid, k.clientID)
			}
			if o.basket != "" || o.unknownAt == 0 {
				c.mu.Unlock()
				return nil // the same order again: one order
			}
			// An earlier submission's outcome is unknown: only a
			// reconciliation since then may say it is absent.
			if c.syncs < o.unknownAt {
				c.mu.Unlock()
				return fmt.Errorf("%w: order %s: the outcome of its earlier submission is unknown until the order plant reconciles", broker.ErrDisconnected, k.clientID)
			}
			c.log.Warn("rithmic: an order whose submission's outcome was unknown is absent after reconciliation; sending it again", "id", k.clientID)
		}
		s := c.inflight[k]
		if s == nil {
			break
		}
		c.mu.Unlock()
		select {
		case <-s.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if s.err == nil {
			return nil
		}
	}
	s := &submit{done: make(chan struct{})}
	c.inflight[k] = s
	register()
	c.byClient[k].reqKey = key
	c.mu.Unlock()
	finish := func(err error, keep bool) error {
		c.mu.Lock()
		if !keep {
			c.dropPlaceholderLocked(k)
		}
		delete(c.inflight, k)
		s.err = err
		c.mu.Unlock()
		close(s.done)
		return err
	}
	for {
		sess, err := c.order.session(ctx, false)
		if err != nil {
			return finish(err, false) // never sent
		}
		n := c.Syncs()
		parts, err := sess.call(ctx, tpl, req)
		switch {
		case err == nil:
			c.mu.Lock()
			for _, m := range parts {
				if r, ok := m.(interface{ GetBasketId() string }); ok && r.GetBasketId() != "" {
					c.bindLocked(c.byClient[k], r.GetBasketId())
				}
			}
			c.mu.Unlock()
			return finish(nil, true)
		case errors.Is(err, errSentLost):
			// Sent, answer lost: the reconciliation after the reconnect
			// says whether it exists.
			c.log.Warn("rithmic: new order sent, answer lost with the connection; waiting for reconciliation", "id", k.clientID)
			wctx, cancel := context.WithTimeout(ctx, 3*c.opt.RequestTimeout)
			werr := c.WaitSynced(wctx, n+1)
			cancel()
			if werr != nil {
				// Unknown: keep the placeholder (its notifications will bind
				// it); a resubmission waits for the reconciliation.
				c.mu.Lock()
				if o := c.byClient[k]; o != nil {
					o.unknownAt = n + 1
				}
				c.mu.Unlock()
				return finish(fmt.Errorf("%w: order %s sent, outcome unknown until the order plant is back: %v", broker.ErrDisconnected, k.clientID, werr), true)
			}
			c.mu.Lock()
			landed := c.byClient[k] != nil && c.byClient[k].basket != ""
			c.mu.Unlock()
			if landed {
				return finish(nil, true)
			}
			c.log.Warn("rithmic: new order absent after reconciliation; sending it again", "id", k.clientID)
		default:
			return finish(err, false)
		}
	}
}

// dropPlaceholderLocked forgets an order that never reached the venue.
func (c *Client) dropPlaceholderLocked(k ckey) {
	o := c.byClient[k]
	if o == nil || o.basket != "" {
		return
	}
	delete(c.byClient, k)
	if o.bk != nil {
		for _, l := range []*ord{o.bk.stop, o.bk.target} {
			if l != nil && l.basket == "" {
				delete(c.byClient, ckey{l.account, l.clientID})
			}
		}
	}
}

func (c *Client) bindLocked(o *ord, basket string) {
	if o == nil || basket == "" {
		return
	}
	if o.basket == "" {
		o.basket = basket
	}
	if c.orders[basket] == nil {
		c.orders[basket] = o
	}
}

// lookup returns a copy of the order with this ClientID.
func (c *Client) lookup(account, clientID string) (ord, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.byClient[ckey{account, clientID}]
	if o == nil {
		return ord{}, false
	}
	cp := *o
	if o.bk != nil {
		b := *o.bk
		cp.bk = &b
		if o.bk.entry != nil {
			e := *o.bk.entry
			cp.bk.entry = &e
		}
	}
	return cp, true
}

func (o *ord) asOrder() broker.Order {
	return broker.Order{ClientID: o.clientID, Account: o.account, Side: o.side, Qty: o.qty, Type: o.typ, Price: o.price,
		StopPrice: o.stop, TIF: o.tif}
}

// Modify changes the limit or stop price of a working order (314). A
// bracket's exits move as the bracket's levels (334 stop, 332 target, in
// ticks from the entry): a stop only ever tightens.
func (c *Client) Modify(ctx context.Context, account, clientID string, price, stopPrice market.Price) error {
	ra, err := c.account(account)
	if err != nil {
		return err
	}
	o, ok := c.lookup(account, clientID)
	if !ok {
		return fmt.Errorf("%w: %s/%s", broker.ErrUnknownOrder, account, clientID)
	}
	if o.done {
		return c.refuse(o.asOrder(), o.role, o.group, fmt.Errorf("%w: modify rejected: order already %s", broker.ErrOrderDone, o.status))
	}
	if o.role == broker.StopLeg || o.role == broker.TargetLeg {
		return c.modifyLeg(ctx, ra, o, price, stopPrice)
	}
	if o.basket == "" {
		return c.refuse(o.asOrder(), o.role, o.group, fmt.Errorf("%w: modify rejected: %s not acknowledged yet", broker.ErrInvalid, clientID))
	}
	pt, err := priceTypeOf(o.typ)
	if err != nil {
		return err
	}
	np, ns := o.price, o.stop
	if price != market.NoPrice {
		np = price
	}
	if stopPrice != market.NoPrice {
		ns = stopPrice
	}
	req := &rpb.RequestModifyOrder{WindowName: OrderWindow, AccountId: ra, BasketId: o.basket, Symbol: c.symbol,
		Exchange: c.cfg.Exchange, Quantity: int32(o.qty), PriceType: pt, ManualOrAuto: rpb.OrderPlacement_PLACEMENT_AUTO}
	c.mu.Lock()
	req.FcmId, req.IbId = c.fcm, c.ib
	c.mu.Unlock()
	if o.typ == market.LimitOrder || o.typ == market.StopLimitOrder {
		req.Price = points(np)
	}
	if o.typ == market.StopOrder || o.typ == market.StopLimitOrder {
		req.TriggerPrice = points(ns)
	}
	// The same prices again is the same modify: safe to repeat.
	if _, err := c.retry(ctx, rpb.TModifyOrderRequest, req, true); err != nil {
		return c.refuse(o.asOrder(), o.role, o.group, refusal("modify "+clientID, err))
	}
	return nil
}

// modifyLeg moves a bracket's stop (334) or target (332). The level named
// is the current distance in ticks; the new one is counted the same way,
// from the current price, so it holds whatever the bracket's anchor (the
// entry's reference, or its fill once filled).
func (c *Client) modifyLeg(ctx context.Context, ra string, o ord, price, stopPrice market.Price) error {
	bk := o.bk
	if bk == nil || bk.entry == nil || bk.entry.basket == "" {
		return c.refuse(o.asOrder(), o.role, o.group, fmt.Errorf("%w: modify rejected: bracket of %s not acknowledged", broker.ErrInvalid, o.clientID))
	}
	if bk.stopTicks == 0 || bk.targetTicks == 0 {
		// Not placed through this connector (a restart): ask for the levels.
		if err := c.levels(ctx, o.account, ra); err != nil {
			return err
		}
		if cp, ok := c.lookup(o.account, o.clientID); ok {
			o, bk = cp, cp.bk
		}
		if bk.stopTicks == 0 || bk.targetTicks == 0 {
			return c.refuse(o.asOrder(), o.role, o.group, fmt.Errorf("%w: modify rejected: the venue does not list the levels of bracket %s", broker.ErrInvalid, o.group))
		}
	}
	dir := int64(bk.entry.side.Sign())
	var cur, next int32
	var req proto.Message
	var tpl int32
	c.mu.Lock()
	fcm, ib := c.fcm, c.ib
	c.mu.Unlock()
	if o.role == broker.StopLeg {
		if stopPrice == market.NoPrice || price != market.NoPrice {
			return c.refuse(o.asOrder(), o.role, o.group, fmt.Errorf("%w: modify rejected: a bracket stop moves by its stop price only", broker.ErrInvalid))
		}
		cur = bk.stopTicks
		n := int64(cur) + dir*int64(o.stop-stopPrice)
		// Only tighter: fewer ticks from the anchor. A stop moved away from
		// the market is refused here even if the gate let it through.
		if n > int64(cur) {
			return c.refuse(o.asOrder(), o.role, o.group, fmt.Errorf("%w: modify rejected: stops only tighten (%s → %s moves it away from the market)", broker.ErrInvalid, o.stop, stopPrice))
		}
		if n < 1 {
			return c.refuse(o.asOrder(), o.role, o.group, fmt.Errorf("%w: modify rejected: stop %s at or through the entry", broker.ErrInvalid, stopPrice))
		}
		next = int32(n)
		tpl = rpb.TUpdateStopRequest
		req = &rpb.RequestUpdateStopBracketLevel{FcmId: fcm, IbId: ib, AccountId: ra, BasketId: bk.entry.basket, Level: cur, StopTicks: next}
	} else {
		if price == market.NoPrice || stopPrice != market.NoPrice {
			return c.refuse(o.asOrder(), o.role, o.group, fmt.Errorf("%w: modify rejected: a bracket target moves by its limit price only", broker.ErrInvalid))
		}
		cur = bk.targetTicks
		n := int64(cur) + dir*int64(price-o.price)
		if n < 1 || n > math.MaxInt32 {
			return c.refuse(o.asOrder(), o.role, o.group, fmt.Errorf("%w: modify rejected: target %s at or through the entry", broker.ErrInvalid, price))
		}
		next = int32(n)
		tpl = rpb.TUpdateTargetRequest
		req = &rpb.RequestUpdateTargetBracketLevel{FcmId: fcm, IbId: ib, AccountId: ra, BasketId: bk.entry.basket, Level: cur, TargetTicks: next}
	}
	if next == cur {
		return nil
	}
	if _, err := c.retry(ctx, tpl, req, false); err != nil {
		return c.refuse(o.asOrder(), o.role, o.group, refusal("modify "+o.clientID, err))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	live := c.byClient[ckey{o.account, o.clientID}]
	if live == nil || live.bk == nil {
		return nil
	}
	if o.role == broker.StopLeg {
		live.bk.stopTicks, live.stop = next, stopPrice
	} else {
		live.bk.targetTicks, live.price = next, price
	}
	if live.basket == "" && !live.done {
		// A pending exit has no order to be notified about.
		c.emitLocked(c.eventLocked(live, broker.Modified, 0, "bracket level "+strconv.Itoa(int(next))+" ticks"), "")
	}
	return nil
}

// levels reads the account's bracket levels from the venue (338 targets,
// 340 stops) into the brackets the connector knows, and prices the exits
// still waiting for their entry from them.
func (c *Client) levels(ctx context.Context, account, ra string) error {
	c.mu.Lock()
	fcm, ib := c.fcm, c.ib
	c.mu.Unlock()
	stops, err := c.retry(ctx, rpb.TShowBracketStopsRequest, &rpb.RequestShowBracketStops{FcmId: fcm, IbId: ib, AccountId: ra}, true)
	if err != nil {
		return refusal("show bracket stops "+account, err)
	}
	targets, err := c.retry(ctx, rpb.TShowBracketsRequest, &rpb.RequestShowBrackets{FcmId: fcm, IbId: ib, AccountId: ra}, true)
	if err != nil {
		return refusal("show brackets "+account, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range stops {
		if r, ok := m.(*rpb.ResponseShowBracketStops); ok {
			if e := c.orders[r.BasketId]; e != nil && e.bk != nil {
				if n, err := strconv.Atoi(r.StopTicks); err == nil && n > 0 {
					e.bk.stopTicks = int32(n)
				}
			}
		}
	}
	for _, m := range targets {
		if r, ok := m.(*rpb.ResponseShowBrackets); ok {
			if e := c.orders[r.BasketId]; e != nil && e.bk != nil {
				if n, err := strconv.Atoi(r.TargetTicks); err == nil && n > 0 {
					e.bk.targetTicks = int32(n)
				}
			}
		}
	}
	for _, o := range c.orders {
		if o.role == broker.EntryLeg && o.bk != nil && o.account == account {
			c.pricePendingLocked(o.bk)
		}
	}
	return nil
}

// pricePendingLocked prices a bracket's exits that wait for their entry
// from its levels and the entry's reference (limit, or trigger).
func (c *Client) pricePendingLocked(bk *bkt) {
	e := bk.entry
	ref := e.price
	if e.typ == market.StopOrder || e.typ == market.StopLimitOrder {
		ref = e.stop
	}
	if ref == 0 {
		return
	}
	d := market.Price(e.side.Sign())
	if l := bk.stop; l != nil && l.basket == "" && l.stop == 0 && bk.stopTicks > 0 {
		l.stop = ref - d*market.Price(bk.stopTicks)
	}
	if l := bk.target; l != nil && l.basket == "" && l.price == 0 && bk.targetTicks > 0 {
		l.price = ref + d*market.Price(bk.targetTicks)
	}
}

// retry sends a request that may be repeated: after a Reject (75) it is
// sent again (up to three times); after a lost answer too when sentLost
// allows (a repeat of it does what one does).
func (c *Client) retry(ctx context.Context, tpl int32, req proto.Message, sentLost bool) ([]proto.Message, error) {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		var s *session
		if s, err = c.order.session(ctx, true); err != nil {
			return nil, err
		}
		var parts []proto.Message
		parts, err = s.call(ctx, tpl, req)
		var re *RejectError
		switch {
		case err == nil:
			return parts, nil
		case errors.As(err, &re) && re.Template == tpl && len(re.Code) > 0 && re.Code[0] == "9":
			// the gateway's "try again" (a 75 Reject)
		case errors.Is(err, errSentLost) && sentLost:
		default:
			return nil, err
		}
		t := time.NewTimer(time.Duration(attempt+1) * 20 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	return nil, err
}

// Cancel cancels one working order (316). A bracket exit still waiting for
// its entry's fill is held by Rithmic with the entry: cancel the entry.
func (c *Client) Cancel(ctx context.Context, account, clientID string) error {
	ra, err := c.account(account)
	if err != nil {
		return err
	}
	o, ok := c.lookup(account, clientID)
	if !ok {
		return fmt.Errorf("%w: %s/%s", broker.ErrUnknownOrder, account, clientID)
	}
	if o.done {
		return c.refuse(o.asOrder(), o.role, o.group, fmt.Errorf("%w: cancel rejected: order already %s", broker.ErrOrderDone, o.status))
	}
	if o.basket == "" {
		return c.refuse(o.asOrder(), o.role, o.group, fmt.Errorf("%w: cancel rejected: %s waits for its entry's fill; cancel the entry", broker.ErrInvalid, clientID))
	}
	c.mu.Lock()
	req := &rpb.RequestCancelOrder{WindowName: OrderWindow, FcmId: c.fcm, IbId: c.ib, AccountId: ra, BasketId: o.basket,
		ManualOrAuto: rpb.OrderPlacement_PLACEMENT_AUTO}
	c.mu.Unlock()
	if _, err := c.retry(ctx, rpb.TCancelOrderRequest, req, true); err != nil {
		return c.refuse(o.asOrder(), o.role, o.group, refusal("cancel "+clientID, err))
	}
	return nil
}

// CancelAll cancels every working order of the account (346).
func (c *Client) CancelAll(ctx context.Context, account string) error {
	ra, err := c.account(account)
	if err != nil {
		return err
	}
	if _, err := c.retry(ctx, rpb.TCancelAllRequest, c.cancelAllReq(ra), true); err != nil {
		return refusal("cancel all "+account, err)
	}
	return nil
}

func (c *Client) cancelAllReq(ra string) *rpb.RequestCancelAllOrders {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &rpb.RequestCancelAllOrders{FcmId: c.fcm, IbId: c.ib, AccountId: ra, UserType: c.userType,
		ManualOrAuto: rpb.OrderPlacement_PLACEMENT_AUTO}
}

// Liquidate cancels every working order of the account (346) and then
// flattens its position at market (3504, for the contract traded). Both
// may be repeated: exit position sizes its order to the position when it
// runs, and every working order — an earlier exit's included — is
// cancelled first, so a repeat never flattens twice. Liquidations of one
// account run one at a time.
func (c *Client) Liquidate(ctx context.Context, account string) error {
	ra, err := c.account(account)
	if err != nil {
		return c.refuse(broker.Order{Account: account}, broker.Single, "", err)
	}
	c.mu.Lock()
	lm := c.liq[account]
	c.mu.Unlock()
	lm.Lock()
	defer lm.Unlock()
	if _, err := c.retry(ctx, rpb.TCancelAllRequest, c.cancelAllReq(ra), true); err != nil {
		return refusal("liquidate "+account+": cancel all", err)
	}
	c.mu.Lock()
	c.exitSent[account] = true
	req := &rpb.RequestExitPosition{WindowName: ExitWindow, FcmId: c.fcm, IbId: c.ib, AccountId: ra, Symbol: c.symbol,
		Exchange: c.cfg.Exchange, ManualOrAuto: rpb.OrderPlacement_PLACEMENT_AUTO}
	c.mu.Unlock()
	for attempt := 0; ; attempt++ {
		_, err := c.retry(ctx, rpb.TExitPositionRequest, req, false)
		if err == nil {
			return nil
		}
		if !errors.Is(err, errSentLost) || attempt >= 3 {
			return refusal("liquidate "+account+": exit position", err)
		}
		// The exit's answer was lost: cancel everything again (its order
		// too, if it is still working) and exit again.
		if _, err := c.retry(ctx, rpb.TCancelAllRequest, c.cancelAllReq(ra), true); err != nil {
			return refusal("liquidate "+account+": cancel all", err)
		}
	}
}

// OpenOrders returns the account's orders that can still trade, read from
// the venue (320), with the bracket exits still waiting for their entry's
// fill (Pending).
func (c *Client) OpenOrders(ctx context.Context, account string) ([]broker.OrderState, error) {
	ra, err := c.account(account)
	if err != nil {
		return nil, err
	}
	s, err := c.order.session(ctx, true)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	req := &rpb.RequestShowOrders{FcmId: c.fcm, IbId: c.ib, AccountId: ra}
	c.mu.Unlock()
	notes, err := s.snapshot(ctx, rpb.TShowOrdersRequest, req)
	if err != nil {
		return nil, refusal("show orders "+account, err)
	}
	if c.unpricedExits(account, ra, notes) {
		if err := c.levels(ctx, account, ra); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []broker.OrderState
	for _, m := range notes {
		n, ok := m.(*rpb.ExchangeOrderNotification)
		if !ok || n.AccountId != ra {
			continue
		}
		f := exchangeFields(n)
		o := c.resolveLocked(f)
		if o == nil {
			continue
		}
		st := broker.OrderState{Order: broker.Order{ClientID: o.clientID, Account: account, Side: f.side, Qty: int64(n.Quantity),
			Type: f.typ, Price: f.price, StopPrice: f.stop, TIF: f.tif}, Status: broker.Working, FilledQty: int64(n.TotalFillSize),
			GroupID: o.group, Role: o.role}
		if n.TotalFillSize > 0 {
			st.AvgPrice = market.Price(math.Round(n.AvgFillPrice * market.TicksPerPoint))
		}
		if f.typ == market.StopLimitOrder && n.Status == "open" {
			st.Status = broker.Triggered
		}
		out = append(out, st)
		if o.role == broker.EntryLeg && o.bk != nil {
			for _, l := range []*ord{o.bk.stop, o.bk.target} {
				if l != nil && l.basket == "" && !l.done {
					out = append(out, broker.OrderState{Order: broker.Order{ClientID: l.clientID, Account: account, Side: l.side,
						Type: l.typ, Price: l.price, StopPrice: l.stop, TIF: broker.GTC}, Status: broker.Pending, GroupID: l.group, Role: l.role})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ClientID < out[j].ClientID })
	return out, nil
}

// unpricedExits reports whether an entry in the snapshot has exits
// waiting for it whose prices the connector does not know (a restart).
func (c *Client) unpricedExits(account, ra string, notes []proto.Message) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range notes {
		n, ok := m.(*rpb.ExchangeOrderNotification)
		if !ok || n.AccountId != ra || n.BracketType == rpb.BracketType_BRACKET_TYPE_UNSPECIFIED {
			continue
		}
		o := c.resolveLocked(exchangeFields(n))
		if o == nil || o.bk == nil {
			continue
		}
		for _, l := range []*ord{o.bk.stop, o.bk.target} {
			if l != nil && l.basket == "" && !l.done && l.stop == 0 && l.price == 0 {
				return true
			}
		}
	}
	return false
}

// Positions returns every account's position in the contract from the PnL
// plant's snapshot (402), sorted by account; an account with none is flat.
func (c *Client) Positions(ctx context.Context) ([]broker.Position, error) {
	s, err := c.pnl.session(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("rithmic: positions: %w", err)
	}
	c.mu.Lock()
	accts := c.sortedAccountsLocked()
	fcm, ib := c.fcm, c.ib
	ras := make(map[string]string, len(accts))
	for _, a := range accts {
		ras[a] = c.acctR[a]
	}
	c.mu.Unlock()
	out := make([]broker.Position, 0, len(accts))
	for _, desk := range accts {
		ra := ras[desk]
		notes, err := s.snapshot(ctx, rpb.TPnLSnapshotRequest, &rpb.RequestPnLPositionSnapshot{FcmId: fcm, IbId: ib, AccountId: ra})
		if err != nil {
			return nil, refusal("positions "+desk, err)
		}
		p := broker.Position{Account: desk}
		for _, m := range notes {
			if n, ok := m.(*rpb.InstrumentPnLPositionUpdate); ok && n.AccountId == ra && n.Symbol == c.symbol {
				p = c.positionOf(desk, n)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// positionOf converts the PnL plant's figures: points to ticks, currency
// to ticks at the configured tick value.
func (c *Client) positionOf(desk string, n *rpb.InstrumentPnLPositionUpdate) broker.Position {
	p := broker.Position{Account: desk, Qty: int64(n.NetQuantity)}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) && math.Abs(x) < 1e15 }
	if p.Qty != 0 && finite(n.AvgOpenFillPrice) {
		p.CostTick = int64(math.Round(n.AvgOpenFillPrice * market.TicksPerPoint * float64(p.Qty)))
		p.AvgPrice = ticks(n.AvgOpenFillPrice)
	}
	if !finite(n.DayClosedPnl) {
		c.log.Warn("rithmic: PnL plant sent a day closed PnL that is not a number", "account", desk)
	} else if !c.cfg.TickValue.IsZero() {
		p.Realized = decimal.NewFromFloat(n.DayClosedPnl).Div(c.cfg.TickValue).Round(0).IntPart()
	}
	return p
}

// Events is the stream of execution events, in Seq order, never dropped.
func (c *Client) Events() <-chan broker.Event { return c.events.out }

// Close logs out of the plants and closes Events.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.syncCond.Broadcast()
	c.mu.Unlock()
	c.order.close()
	c.pnl.close()
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
	c.events.close()
	return nil
}
