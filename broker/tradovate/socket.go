// This file is the user WebSocket: connect, authorize, user/syncrequest,
// heartbeats, reconnect with backoff, and the application of the snapshot
// and of props pushes to the connector's order map and event stream.

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

func (c *Client) socketLoop(ctx context.Context) {
	backoff := c.opt.Backoff
	for ctx.Err() == nil {
		synced, err := c.session(ctx)
		c.up.Store(false)
		if ctx.Err() != nil {
			return
		}
		if synced {
			backoff = c.opt.Backoff
		}
		c.log.Warn("tradovate: user socket down; reconnecting", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff *= 2
		if backoff > c.opt.MaxBackoff {
			backoff = c.opt.MaxBackoff
		}
	}
}

// wsConn wraps a connection with frame reading.
type wsConn struct {
	c *websocket.Conn
}

func (w wsConn) read(ctx context.Context) (byte, []wsMsg, error) {
	_, b, err := w.c.Read(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: read: %v", ErrSocket, err)
	}
	return parseFrame(b)
}

func (w wsConn) send(ctx context.Context, endpoint string, id int64, body []byte) error {
	if err := w.c.Write(ctx, websocket.MessageText, encodeRequest(endpoint, id, "", body)); err != nil {
		return fmt.Errorf("%w: write %s: %v", ErrSocket, endpoint, err)
	}
	return nil
}

// openSocket dials, waits for 'o' and authorizes with tok.
func openSocket(ctx context.Context, url, tok string) (wsConn, error) {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, url, nil)
	if err != nil {
		return wsConn{}, fmt.Errorf("%w: dial: %v", ErrSocket, err)
	}
	conn.SetReadLimit(256 << 20)
	w := wsConn{conn}
	kind, _, err := w.read(dctx)
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
		kind, msgs, err := w.read(dctx)
		if err != nil {
			conn.CloseNow()
			return wsConn{}, err
		}
		if kind == frameClose {
			conn.CloseNow()
			return wsConn{}, fmt.Errorf("%w: closed during authorize", ErrSocket)
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

// heartbeat sends "[]" every period until ctx ends.
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

// session runs one connection to its end. synced reports whether it got
// as far as applying the snapshot.
func (c *Client) session(ctx context.Context) (synced bool, err error) {
	w, err := openSocket(ctx, c.cfg.WSURL, c.rest.token().access)
	if err != nil {
		if errors.Is(err, ErrAuth) {
			if rerr := c.rest.renew(ctx); rerr != nil {
				return false, errors.Join(err, rerr)
			}
		}
		return false, err
	}
	defer w.c.CloseNow()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go heartbeat(sctx, w, c.opt.HeartbeatEvery)

	ids := make([]int64, 0, len(c.acctDesk))
	for id := range c.acctDesk {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	body, _ := json.Marshal(syncRequest{SplitResponses: false, Accounts: ids,
		EntityTypes: []string{"account", "order", "orderVersion", "command", "fill", "position", "executionReport"}})
	const syncID = 1
	if err := w.send(sctx, "user/syncrequest", syncID, body); err != nil {
		return false, err
	}
	for {
		kind, msgs, err := w.read(sctx)
		if err != nil {
			return synced, err
		}
		switch kind {
		case frameClose:
			return synced, fmt.Errorf("%w: server closed", ErrSocket)
		case frameArray:
			for _, m := range msgs {
				switch {
				case m.I != nil && *m.I == syncID:
					if m.S != 200 {
						return synced, fmt.Errorf("%w: user/syncrequest: status %d: %s", ErrSocket, m.S, string(m.D))
					}
					var snap syncSnapshot
					if err := json.Unmarshal(m.D, &snap); err != nil {
						return synced, fmt.Errorf("%w: user/syncrequest snapshot: %v", ErrSocket, err)
					}
					c.applySnapshot(snap)
					synced = true
					c.up.Store(true)
				case m.E == "props":
					var p propsEvent
					if err := json.Unmarshal(m.D, &p); err != nil {
						return synced, fmt.Errorf("%w: props: %v", ErrSocket, err)
					}
					if err := c.applyProps(p); err != nil {
						return synced, err
					}
				}
			}
		}
	}
}

func (c *Client) applySnapshot(s syncSnapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cm := range s.Commands {
		c.applyCommand(cm)
	}
	for _, o := range s.Orders {
		c.applyOrder(o)
	}
	for _, v := range s.OrderVersions {
		c.applyVersion(v)
	}
	reps := append([]execReportEnt(nil), s.ExecutionReports...)
	sort.Slice(reps, func(i, j int) bool { return reps[i].ID < reps[j].ID })
	n := 0
	for _, r := range reps {
		if c.applyReport(r) {
			n++
		}
	}
	c.syncs++
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
		o = &ord{id: id, clientID: "tv-" + strconv.FormatInt(id, 10), role: broker.Single}
		c.orders[id] = o
	}
	return o
}

func (c *Client) applyCommand(cm commandEnt) {
	if cm.CommandType != "New" || cm.ClOrdID == "" {
		return
	}
	o := c.get(cm.OrderID)
	o.clientID = cm.ClOrdID
	c.bind(o)
}

// bind indexes an order by (account, ClientID) once both are known and
// takes the role and group of our own submission. Caller holds c.mu.
func (c *Client) bind(o *ord) {
	if o.account == "" || o.clientID == "" {
		return
	}
	k := ckey{o.account, o.clientID}
	c.byClient[k] = o.id
	if m, ok := c.meta[k]; ok {
		o.role, o.group = m.role, m.group
		if o.qty == 0 {
			o.qty, o.typ, o.price, o.stop, o.tif, o.side = m.order.Qty, m.order.Type, m.order.Price, m.order.StopPrice, m.order.TIF, m.order.Side
		}
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
	o.status = statusOf(e.OrdStatus)
	o.parentID = e.ParentID
	c.bind(o)
}

func (c *Client) applyVersion(v orderVersionEnt) {
	o := c.get(v.OrderID)
	o.qty = v.OrderQty
	o.typ = orderTypeOf(v.OrderType)
	o.tif = tifOf(v.TimeInForce)
	if v.Price != nil {
		o.price = ticksOf(*v.Price)
	}
	if v.StopPrice != nil {
		o.stop = ticksOf(*v.StopPrice)
	}
}

// applyReport turns one execution report into one event, once: reports at
// or below the high-water mark were already delivered. Caller holds c.mu.
func (c *Client) applyReport(r execReportEnt) bool {
	if r.ID <= c.lastRep {
		return false
	}
	c.lastRep = r.ID
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
			o.group = p.clientID
			if o.typ == market.LimitOrder {
				o.role = broker.TargetLeg
			} else {
				o.role = broker.StopLeg
			}
			if p.role == broker.Single {
				p.role, p.group = broker.EntryLeg, p.clientID
			}
		}
	}
	ev := broker.Event{Account: desk, ClientID: o.clientID, Side: sideOf(r.Action), Role: o.role, GroupID: o.group,
		Reason: reasonOf(r), VenueID: "er" + strconv.FormatInt(r.ID, 10)}
	if t, err := time.Parse(time.RFC3339Nano, r.Timestamp); err == nil {
		ev.Time = t.UnixNano()
	}
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
		if o.typ == market.StopOrder || o.typ == market.StopLimitOrder {
			ev.Slippage = int64(ev.FillPrice-o.stop) * ev.Side.Sign()
		}
	case "Canceled":
		ev.Kind = broker.CancelledEv
	case "Triggered":
		ev.Kind = broker.TriggeredEv
		o.triggered = true
	case "Expired":
		ev.Kind = broker.ExpiredEv
	case "Replaced":
		ev.Kind = broker.Modified
	default:
		return false
	}
	o.status = statusOf(r.OrdStatus)
	o.cumQty = r.CumQty
	switch {
	case r.LeavesQty != nil:
		ev.LeavesQty = *r.LeavesQty
	case !o.status.Done() && o.qty > r.CumQty:
		// Derived from the latest order version: exact live, but a report
		// replayed after a reconnect sees the order's current quantity.
		ev.LeavesQty = o.qty - r.CumQty
	}
	c.seq++
	ev.Seq = c.seq
	if ev.Time > c.lastTime {
		c.lastTime = ev.Time
	}
	c.events.push(ev)
	return true
}

func reasonOf(r execReportEnt) string {
	if r.Text != "" {
		return r.Text
	}
	return r.RejectReason
}
