// This file is the user WebSocket: connect, authorize, user/syncrequest
// (and its penalty tickets), heartbeats and the silence watchdog,
// reconnect with backoff, and the application of the snapshot and of
// props pushes to the connector's orders, positions, risk status and event
// stream.

package tradovate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

// ErrSocket wraps WebSocket protocol failures (a session ends with it and
// the connector reconnects).
var ErrSocket = errors.New("tradovate: websocket")

// errResync ends a session the connector closed itself to take a fresh
// snapshot: it reconnects at once.
var errResync = fmt.Errorf("%w: resynchronising", ErrSocket)

// ErrSilent is wrapped when a socket carried nothing, not even a server
// heartbeat, for Options.SilenceTimeout: the link is taken as dead.
var ErrSilent = errors.New("tradovate: server silent")

// backoffLoop runs sessions until ctx ends, waiting between them: the
// delay doubles from first to max, and goes back to first only after a
// session that stayed up for stable (a session that subscribed and then
// failed at once does not reset it: no reconnect storm). A session may ask
// for a longer wait (a captcha), or, with a negative one, for none at all
// (it was ended on purpose, to resynchronise).
func backoffLoop(ctx context.Context, first, max, stable time.Duration, wait func(time.Duration) <-chan time.Time,
	clock func() time.Time, session func() (longer time.Duration, err error), down func(err error, backoff time.Duration)) {
	backoff := first
	for ctx.Err() == nil {
		start := clock()
		longer, err := session()
		if ctx.Err() != nil {
			return
		}
		if longer < 0 {
			continue
		}
		if clock().Sub(start) >= stable {
			backoff = first
		}
		d := max2(backoff, longer)
		down(err, d)
		select {
		case <-ctx.Done():
			return
		case <-wait(d):
		}
		backoff = min(backoff*2, max)
	}
}

func max2(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

func (c *Client) socketLoop(ctx context.Context) {
	backoffLoop(ctx, c.opt.Backoff, c.opt.MaxBackoff, c.opt.StableAfter, c.opt.wait, time.Now,
		func() (time.Duration, error) {
			err := c.session(ctx)
			c.setUp(false)
			switch {
			case errors.Is(err, ErrCaptcha):
				return c.opt.CaptchaWait, err
			case errors.Is(err, errResync):
				return -1, err
			}
			return 0, err
		},
		func(err error, d time.Duration) {
			c.log.Warn("tradovate: user socket down; reconnecting", "err", err, "backoff", d)
		})
}

// wsConn wraps a connection with frame reading under a silence deadline.
type wsConn struct {
	c       *websocket.Conn
	silence time.Duration
}

// read returns the next frame; nothing for w.silence ends the session
// with ErrSilent (coder/websocket closes a connection whose Read context
// ends, so a half-open socket is closed too).
func (w wsConn) read(ctx context.Context) (byte, []wsMsg, []byte, error) {
	rctx, cancel := context.WithTimeout(ctx, w.silence)
	defer cancel()
	_, b, err := w.c.Read(rctx)
	if err != nil {
		if ctx.Err() == nil && errors.Is(rctx.Err(), context.DeadlineExceeded) {
			return 0, nil, nil, fmt.Errorf("%w: nothing for %v: %w", ErrSocket, w.silence, ErrSilent)
		}
		return 0, nil, nil, fmt.Errorf("%w: read: %v", ErrSocket, err)
	}
	kind, msgs, err := parseFrame(b)
	return kind, msgs, b, err
}

func (w wsConn) send(ctx context.Context, endpoint string, id int64, body []byte) error {
	if err := w.c.Write(ctx, websocket.MessageText, encodeRequest(endpoint, id, "", body)); err != nil {
		return fmt.Errorf("%w: write %s: %v", ErrSocket, endpoint, err)
	}
	return nil
}

// openSocket dials, waits for 'o' and authorizes with tok.
func openSocket(ctx context.Context, url, tok string, silence time.Duration) (wsConn, error) {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, url, nil)
	if err != nil {
		return wsConn{}, fmt.Errorf("%w: dial: %v", ErrSocket, err)
	}
	conn.SetReadLimit(256 << 20)
	w := wsConn{conn, silence}
	kind, _, _, err := w.read(dctx)
	if err != nil {
		conn.CloseNow()
		return wsConn{}, err
	}
	if kind != frameOpen {
		conn.CloseNow()
		return wsConn{}, fmt.Errorf("%w: first frame %q, want o", ErrSocket, kind)
	}
	if err := w.c.Write(dctx, websocket.MessageText, []byte("authorize\n0\n\n"+tok)); err != nil {
		conn.CloseNow()
		return wsConn{}, fmt.Errorf("%w: authorize: %v", ErrSocket, err)
	}
	for {
		kind, msgs, raw, err := w.read(dctx)
		if err != nil {
			conn.CloseNow()
			return wsConn{}, err
		}
		if kind == frameClose {
			conn.CloseNow()
			return wsConn{}, fmt.Errorf("%w: closed during authorize: %s", ErrSocket, closeReason(raw))
		}
		for _, m := range msgs {
			if m.I != nil && *m.I == 0 {
				if m.S != 200 {
					conn.CloseNow()
					return wsConn{}, fmt.Errorf("%w: authorize: status %d: %s", ErrAuth, m.S, string(m.D))
				}
				return w, nil
			}
		}
	}
}

// openAuthorized opens a socket authorized with tok() (the access token
// for the user socket, the md token for market data). An authorize refused
// (a token the venue no longer accepts: expired, or forgotten by a
// restart) renews the token and tries once more at once with the new one:
// the refusal was the old token's, and waiting the reconnect backoff
// before using the fresh one only made the outage longer (drill
// venue-faults, seed 37: 3.2 s more with the link down). A second refusal
// goes to the backoff like any other failure.
func openAuthorized(ctx context.Context, url string, tok func() string, silence time.Duration, r *rest) (wsConn, error) {
	w, err := openSocket(ctx, url, tok(), silence)
	if err == nil || !errors.Is(err, ErrAuth) {
		return w, err
	}
	if rerr := r.renew(ctx); rerr != nil {
		return wsConn{}, errors.Join(err, rerr)
	}
	return openSocket(ctx, url, tok(), silence)
}

// heartbeat sends "[]" every period until ctx ends (the client's side of
// the heartbeats: example-api-js tutorial/WebSockets/EX-06-Heartbeats,
// "About every 2.5s, we should broadcast a heartbeat frame").
func heartbeat(ctx context.Context, w wsConn, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := w.c.Write(ctx, websocket.MessageText, []byte("[]")); err != nil {
				return
			}
		}
	}
}

// penaltyOf reads a penalty ticket from a reply's d, if it is one.
func penaltyOf(d json.RawMessage) (penalty, bool) {
	var p penalty
	if len(d) == 0 || d[0] != '{' || json.Unmarshal(d, &p) != nil || p.Ticket == "" && !p.Captcha {
		return penalty{}, false
	}
	return p, true
}

// withTicket adds p-ticket to a request body.
func withTicket(body []byte, ticket string) []byte {
	m := map[string]any{}
	_ = json.Unmarshal(body, &m)
	m["p-ticket"] = ticket
	b, _ := json.Marshal(m)
	return b
}

// session runs one connection to its end. The link is up once the
// snapshot is applied.
func (c *Client) session(ctx context.Context) error {
	w, err := openAuthorized(ctx, c.cfg.WSURL, func() string { return c.rest.token().access }, c.opt.SilenceTimeout, c.rest)
	if err != nil {
		return err
	}
	defer w.c.CloseNow()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.mu.Lock()
	c.kick = cancel
	c.mu.Unlock()
	go heartbeat(sctx, w, c.opt.HeartbeatEvery)

	ids := make([]int64, 0, len(c.acctDesk))
	for id := range c.acctDesk {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	req := syncRequest{Accounts: ids}
	if len(c.cfg.Accounts) == 0 {
		// Every account of the user: ask by user (as the tutorials do,
		// body {users: [userId]}); account/list may have been cut short.
		req = syncRequest{Users: []int64{c.rest.token().userID}}
	}
	body, _ := json.Marshal(syncRequest{SplitResponses: false, Users: req.Users, Accounts: req.Accounts,
		EntityTypes: []string{"account", "accountRiskStatus", "userAccountAutoLiq", "order", "orderVersion", "command", "fill",
			"position", "executionReport"}})
	reqID := int64(1)
	if err := w.send(sctx, "user/syncrequest", reqID, body); err != nil {
		return err
	}
	resend := make(chan int64, 1)
	for {
		select {
		case id := <-resend:
			reqID = id
			if err := w.send(sctx, "user/syncrequest", reqID, body); err != nil {
				return err
			}
		default:
		}
		kind, msgs, raw, err := w.read(sctx)
		if err != nil {
			if sctx.Err() != nil && ctx.Err() == nil {
				return errResync
			}
			return err
		}
		switch kind {
		case frameClose:
			return fmt.Errorf("%w: server closed: %s", ErrSocket, closeReason(raw))
		case frameArray:
			for _, m := range msgs {
				switch {
				case m.I != nil && *m.I == reqID:
					if m.S != 200 {
						return fmt.Errorf("%w: user/syncrequest: status %d: %s", ErrSocket, m.S, string(m.D))
					}
					if p, ok := penaltyOf(m.D); ok {
						// A penalty in the reply is not a snapshot: the link
						// stays down until the request, sent again with
						// the ticket after p-time, is answered.
						if p.Captcha {
							c.setProblem(fmt.Errorf("%w: user/syncrequest", ErrCaptcha))
							return fmt.Errorf("%w: user/syncrequest", ErrCaptcha)
						}
						c.log.Warn("tradovate: penalty ticket on user/syncrequest", "wait_s", p.Time)
						body = withTicket(body, p.Ticket)
						next := reqID + 1
						time.AfterFunc(time.Duration(p.Time*float64(time.Second)), func() {
							select {
							case resend <- next:
							default:
							}
						})
						continue
					}
					var snap syncSnapshot
					if err := json.Unmarshal(m.D, &snap); err != nil {
						return fmt.Errorf("%w: user/syncrequest snapshot: %v", ErrSocket, err)
					}
					c.setProblem(nil)
					c.applySnapshot(snap) // and the link is up
				case m.E == "props":
					var p propsEvent
					if err := json.Unmarshal(m.D, &p); err != nil {
						return fmt.Errorf("%w: props: %v", ErrSocket, err)
					}
					if err := c.applyProps(p); err != nil {
						return err
					}
				}
			}
		}
	}
}

// resync ends the current user session and waits for the snapshot of the
// next one: the complete view of the venue's orders that a placement
// whose outcome is unknown is decided on.
func (c *Client) resync(ctx context.Context) error {
	c.mu.Lock()
	n := c.syncs
	if kick := c.kick; kick != nil && c.up.Load() {
		kick()
	}
	c.mu.Unlock()
	return c.WaitSynced(ctx, n+1)
}

func (c *Client) applySnapshot(s syncSnapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.syncs == 0 && len(c.cfg.Accounts) == 0 {
		// The snapshot has every account; account/list may not have.
		// Only the first snapshot, before Dial returns, adds accounts.
		for _, a := range s.Accounts {
			if _, ok := c.acctDesk[a.ID]; !ok && a.Name != "" {
				c.acctID[a.Name], c.acctDesk[a.ID], c.acctSpec[a.Name] = a.ID, a.Name, a.Name
			}
		}
	}
	for _, r := range s.AccountRiskStatuses {
		c.applyRisk(r)
	}
	for _, a := range s.UserAccountAutoLiqs {
		c.autoLiq[a.ID] = a
	}
	for _, p := range s.Positions {
		c.applyPosition(p)
	}
	for _, o := range s.Orders {
		c.applyOrder(o)
	}
	for _, v := range s.OrderVersions {
		c.applyVersion(v)
	}
	for _, cm := range s.Commands {
		c.applyCommand(cm)
	}
	// Reports may come in any order (their ids are not sorted in the
	// snapshot); they are applied in id order, each once.
	reps := append([]execReportEnt(nil), s.ExecutionReports...)
	sort.Slice(reps, func(i, j int) bool { return reps[i].ID < reps[j].ID })
	n := 0
	for _, r := range reps {
		if c.applyReport(r) {
			n++
		}
	}
	// Orders no submission of ours can own are external now.
	for a := range c.acctID {
		if c.inflight[a] == 0 {
			c.releaseUnbound(a)
		}
	}
	c.syncs++
	c.up.Store(true) // with syncs, under c.mu: resync sees both or neither
	c.syncCond.Broadcast()
	c.log.Info("tradovate: synchronised", "sync", c.syncs, "orders", len(s.Orders), "replayed_events", n)
}

func (c *Client) applyProps(p propsEvent) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	switch p.EntityType {
	case "command":
		var e commandEnt
		if err = json.Unmarshal(p.Entity, &e); err == nil {
			c.applyCommand(e)
		}
	case "order":
		var e orderEnt
		if err = json.Unmarshal(p.Entity, &e); err == nil {
			c.applyOrder(e)
		}
	case "orderVersion":
		var e orderVersionEnt
		if err = json.Unmarshal(p.Entity, &e); err == nil {
			c.applyVersion(e)
		}
	case "executionReport":
		var e execReportEnt
		if err = json.Unmarshal(p.Entity, &e); err == nil {
			c.applyReport(e)
		}
	case "position":
		var e positionEnt
		if err = json.Unmarshal(p.Entity, &e); err == nil {
			c.applyPosition(e)
		}
	case "accountRiskStatus":
		var e accountRiskStatusEnt
		if err = json.Unmarshal(p.Entity, &e); err == nil {
			c.applyRisk(e)
		}
	case "userAccountAutoLiq":
		var e userAccountAutoLiqEnt
		if err = json.Unmarshal(p.Entity, &e); err == nil {
			c.autoLiq[e.ID] = e
		}
	}
	if err != nil {
		return fmt.Errorf("%w: props %s: %v", ErrSocket, p.EntityType, err)
	}
	return nil
}

// get returns the order with this id, creating it. Caller holds c.mu.
func (c *Client) get(id int64) *ord {
	o := c.orders[id]
	if o == nil {
		o = &ord{id: id, role: broker.Single}
		c.orders[id] = o
		if id > c.maxOrderID {
			c.maxOrderID = id
		}
	}
	return o
}

// applyCommand binds an order to the clOrdId of its New command. An empty
// clOrdId binds nothing (the order is bound by the REST answer, by content
// after a resync, or becomes external). Caller holds c.mu.
func (c *Client) applyCommand(cm commandEnt) {
	if cm.CommandType != "New" {
		return
	}
	o := c.get(cm.OrderID)
	if !cm.IsAutomated {
		o.manual = true
	} else {
		o.autoCmd = true
	}
	if cm.ClOrdID == "" || o.bound {
		return
	}
	o.clientID = cm.ClOrdID
	c.bind(o)
}

// bind indexes an order by (account, name) once its account is known,
// takes the role and group of our own submission, and, once its ClientID
// is known, delivers the events held for it. Caller holds c.mu.
func (c *Client) bind(o *ord) {
	if o.account == "" {
		return
	}
	c.byClient[ckey{o.account, o.name()}] = o.id
	if o.clientID == "" {
		return
	}
	o.bound = true
	k := ckey{o.account, o.clientID}
	if m, ok := c.meta[k]; ok {
		o.role, o.group = m.role, m.group
		if o.qty == 0 {
			o.qty, o.typ, o.price, o.stop, o.tif, o.side = m.order.Qty, m.order.Type, m.order.Price, m.order.StopPrice, m.order.TIF, m.order.Side
		}
	}
	c.release(o)
}

// release delivers an order's held events. Caller holds c.mu.
func (c *Client) release(o *ord) {
	held := o.held
	o.held = nil
	delete(c.holding, o.id)
	for _, ev := range held {
		c.deliver(o, ev)
	}
}

func (c *Client) applyOrder(e orderEnt) {
	desk, ok := c.acctDesk[e.AccountID]
	if !ok {
		return
	}
	o := c.get(e.ID)
	o.account = desk
	o.side = sideOf(e.Action)
	if st := statusOf(e.OrdStatus); st != 0 {
		o.status = st
	}
	o.parentID = e.ParentID
	o.admin = o.admin || e.Admin
	c.bind(o)
	c.syncCond.Broadcast() // LiquidateAccounts waits for its orders
}

func (c *Client) applyVersion(v orderVersionEnt) {
	o := c.get(v.OrderID)
	if v.ID < o.verID {
		return // an older version pushed late
	}
	o.verID = v.ID
	o.qty = v.OrderQty
	o.typ = orderTypeOf(v.OrderType)
	o.tif = tifOf(v.TimeInForce)
	if v.Price != nil {
		o.price = ticksOf(*v.Price)
	}
	if v.StopPrice != nil {
		o.stop = ticksOf(*v.StopPrice)
	}
	c.syncCond.Broadcast()
}

func (c *Client) applyPosition(p positionEnt) {
	if _, ok := c.acctDesk[p.AccountID]; !ok || p.ContractID != c.contractID {
		return
	}
	c.positions[p.AccountID] = p
}

func isStopType(t market.OrderType) bool { return t == market.StopOrder || t == market.StopLimitOrder }

// applyReport turns one execution report into its events, once: the
// report ids already seen are skipped, whatever order they come in
// (execution reports are not pushed or listed in id order). The order's
// status and cumulative quantity follow only a report newer than the one
// they came from. Caller holds c.mu.
func (c *Client) applyReport(r execReportEnt) bool {
	if c.seenRep[r.ID] {
		return false
	}
	c.seenRep[r.ID] = true
	desk, ok := c.acctDesk[r.AccountID]
	if !ok {
		return false
	}
	o := c.get(r.OrderID)
	if o.account == "" {
		o.account = desk
		c.bind(o)
	}
	if o.role == broker.Single && o.parentID != 0 {
		if p := c.orders[o.parentID]; p != nil {
			if o.typ == market.LimitOrder {
				o.role = broker.TargetLeg
			} else {
				o.role = broker.StopLeg
			}
			if p.role == broker.Single {
				p.role = broker.EntryLeg
			}
		}
	}
	st := statusOf(r.OrdStatus)
	ev := broker.Event{Account: desk, Side: sideOf(r.Action), Reason: reasonOf(r), VenueID: "er" + strconv.FormatInt(r.ID, 10), Status: st}
	if t, err := time.Parse(time.RFC3339Nano, r.Timestamp); err == nil {
		ev.Time = t.UnixNano()
	}
	var pre *broker.Event // a trigger inferred before a stop's first fill
	// The swagger's execType enum (ExecutionReport.execType): Canceled,
	// Completed, DoneForDay, Expired, New, OrderStatus, PendingCancel,
	// PendingNew, PendingReplace, Rejected, Replaced, Stopped, Suspended,
	// Trade, TradeCancel, TradeCorrect. It has no trigger: a stop's
	// trigger is inferred from a status report on a working, untriggered
	// stop, or from its first fill.
	switch r.ExecType {
	case "New":
		ev.Kind = broker.Accepted
	case "Rejected":
		ev.Kind = broker.RejectedEv
	case "Trade":
		ev.Kind = broker.PartiallyFilled
		if r.OrdStatus == "Filled" {
			ev.Kind = broker.FilledEv
		}
		ev.FillQty = r.LastQty
		ev.FillPrice = ticksOf(r.LastPx)
		if isStopType(o.typ) {
			ev.Slippage = int64(ev.FillPrice-o.stop) * ev.Side.Sign()
			if !o.triggered {
				o.triggered = true
				t := ev
				t.Kind, t.FillQty, t.FillPrice, t.Slippage, t.VenueID = broker.TriggeredEv, 0, 0, 0, ev.VenueID+".trigger"
				t.Status = broker.Working
				pre = &t
			}
		}
		c.trades[r.ID] = fillRef{qty: r.LastQty, price: ev.FillPrice}
		o.filled += r.LastQty
		o.cost += r.LastQty * int64(ev.FillPrice)
	case "Canceled":
		ev.Kind = broker.CancelledEv
	case "Expired", "DoneForDay":
		ev.Kind = broker.ExpiredEv
	case "Replaced":
		ev.Kind = broker.Modified
	case "OrderStatus", "Stopped":
		ev.Kind = broker.StatusEv
		if isStopType(o.typ) && !o.triggered && st == broker.Working && o.lastRep != 0 {
			ev.Kind = broker.TriggeredEv
			o.triggered = true
		}
	case "PendingNew", "PendingCancel", "PendingReplace", "Suspended", "Completed":
		ev.Kind = broker.StatusEv
	case "TradeCancel", "TradeCorrect":
		ev.Kind = broker.BustedEv
		if r.ExecType == "TradeCorrect" {
			ev.Kind = broker.CorrectedEv
		}
		ev.Ref = "er" + r.ExecRefID
		ev.FillQty, ev.FillPrice = r.LastQty, ticksOf(r.LastPx)
		ref, _ := strconv.ParseInt(r.ExecRefID, 10, 64)
		orig, known := c.trades[ref]
		if ev.FillQty == 0 && known { // worst case: the report does not repeat the trade
			ev.FillQty, ev.FillPrice = orig.qty, orig.price
		}
		if known {
			switch ev.Kind {
			case broker.BustedEv:
				o.filled -= orig.qty
				o.cost -= orig.qty * int64(orig.price)
				delete(c.trades, ref)
			case broker.CorrectedEv:
				o.filled += ev.FillQty - orig.qty
				o.cost += ev.FillQty*int64(ev.FillPrice) - orig.qty*int64(orig.price)
				c.trades[ref] = fillRef{qty: ev.FillQty, price: ev.FillPrice}
			}
		}
	default:
		c.log.Warn("tradovate: execution report of an unknown execType", "execType", r.ExecType, "report", r.ID)
		ev.Kind = broker.StatusEv
	}
	cum := r.CumQty
	if r.ID > o.lastRep {
		o.lastRep = r.ID
		if st != 0 {
			o.status = st
		}
		o.cumQty = r.CumQty
	} else {
		// A report older than one already applied tells the past: the
		// event says what the order is now.
		st, cum = o.status, o.cumQty
	}
	ev.Status = o.status
	if st != 0 && !st.Done() && st != broker.Pending && o.qty > cum {
		// The swagger's report has no leavesQty: derived from the latest
		// order version (exact live; a report replayed after a reconnect
		// sees the order's current quantity). A Suspended exit (an OSO leg
		// waiting for its entry) has nothing working.
		ev.LeavesQty = o.qty - cum
	}
	if pre != nil {
		pre.LeavesQty = ev.LeavesQty + ev.FillQty
		c.emit(o, *pre)
	}
	c.emit(o, ev)
	return true
}

// emit delivers an event, or holds it while its order is not bound to a
// ClientID and a submission of ours on the account may still own it (its
// REST answer or command has not come yet). Caller holds c.mu.
func (c *Client) emit(o *ord, ev broker.Event) {
	if !o.bound && !o.external && c.inflight[o.account] > 0 {
		o.held = append(o.held, ev)
		c.holding[o.id] = o
		return
	}
	if !o.bound && !o.external {
		c.settle(o)
	}
	c.deliver(o, ev)
}

// settle decides, once no submission of ours can own it, what an order
// without a ClientID is: a placement of ours whose answer was lost
// (matched by content), the liquidation order of our liquidateposition,
// or an external order. Caller holds c.mu.
func (c *Client) settle(o *ord) {
	if k, m, ok := c.matchUnconfirmed(o); ok {
		c.adopt(o, k, m)
		return
	}
	// The flattening order of a liquidateposition has no clOrdId (the
	// request has none). It is ours while one of our liquidations is in
	// flight, and — after a restart, when no answer can say so — when its
	// New command is automated (ours: we never place a market order
	// without a clOrdId otherwise; another API client on the account doing
	// so would be taken for ours). The name is the same in every life.
	if o.typ == market.MarketOrder && !o.manual && !o.admin && (c.liqOpen[o.account] > 0 || o.autoCmd) {
		o.clientID = "liquidate." + o.account + ".tv" + strconv.FormatInt(o.id, 10)
		c.bind(o)
		return
	}
	o.external = true
}

// releaseUnbound settles every unbound order of the account that has
// events held and delivers them (an order with none yet is settled at its
// first event, when what it is is known). Caller holds c.mu.
func (c *Client) releaseUnbound(account string) {
	var ids []int64
	for id, o := range c.holding {
		if o.account == account && !o.bound && !o.external && len(o.held) > 0 {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		o := c.orders[id]
		c.settle(o)
		c.release(o)
	}
}

// deliver numbers an event and queues it, named as the order is now.
// Caller holds c.mu.
func (c *Client) deliver(o *ord, ev broker.Event) {
	ev.ClientID, ev.Role, ev.GroupID, ev.External = o.name(), o.role, c.groupOf(o), o.external
	// The broker's own liquidation: an external order whose Order entity
	// says admin. The swagger (services.swagger.yaml in
	// tradovate/example-api-csharp-trading) requires Order.admin and the
	// admin of a LiquidatePosition request (ours sends false) but does not
	// describe it, and nothing in Order or its Command (senderId,
	// isAutomated) names the auto-liquidation: admin is taken to mark an
	// order the broker's risk system (or its risk desk) placed. Without
	// it the desk infers (supervisor/brokerliq.go).
	ev.ByBroker = o.external && o.admin
	ev.VenueOrder = strconv.FormatInt(o.id, 10)
	// What the order is, as its latest version says: all the desk knows
	// of an order it did not place (a trader's bracket on the broker's
	// platform: its stop counts as stop coverage only as a stop order).
	ev.OrderType = o.typ
	if o.typ == market.LimitOrder || o.typ == market.StopLimitOrder {
		ev.Price = o.price
	}
	if isStopType(o.typ) {
		ev.StopPrice = o.stop
	}
	c.seq++
	ev.Seq = c.seq
	if ev.Time > c.lastTime {
		c.lastTime = ev.Time
	}
	c.events.push(ev)
}

// groupOf is a bracket leg's group: our submission's, else the entry's
// name. Caller holds c.mu.
func (c *Client) groupOf(o *ord) string {
	if o.group != "" {
		return o.group
	}
	switch o.role {
	case broker.EntryLeg:
		return o.name()
	case broker.StopLeg, broker.TargetLeg:
		if p := c.orders[o.parentID]; p != nil {
			return p.name()
		}
	}
	return ""
}

// applyRisk records the account's risk status and, when it changes (or
// is locked at the first sync), emits a RiskStatusEv. Caller holds c.mu.
func (c *Client) applyRisk(r accountRiskStatusEnt) {
	desk, ok := c.acctDesk[r.ID]
	if !ok {
		return
	}
	old, had := c.risk[r.ID]
	c.risk[r.ID] = r
	now := riskOf(r)
	if had && riskOf(old) == now || !had && !now.Locked {
		return
	}
	// The event's id is the status it reports (a desk deduplicates events
	// by it): two changes at the same admin timestamp are two events.
	ev := broker.Event{Account: desk, Kind: broker.RiskStatusEv, Reason: now.String(), Status: broker.Working, Time: c.lastTime,
		VenueID: "rs" + strconv.FormatInt(r.ID, 10) + "." + r.AdminAction + "." + r.AdminTimestamp + "." + r.LiquidateOnly}
	if now.Locked {
		ev.Status = broker.Rejected
	}
	c.seq++
	ev.Seq = c.seq
	c.events.push(ev)
}

func reasonOf(r execReportEnt) string {
	if r.Text != "" {
		return r.Text
	}
	return r.RejectReason
}
