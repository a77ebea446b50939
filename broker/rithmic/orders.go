// orders.go: the order table and the notifications that drive it. Each
// notification — Rithmic-side (351), exchange-side (352), bracket levels
// (353) — is resolved to an order (by basket id, else by the user_tag the
// connector wrote: a single order's ClientID, or a bracket's three ids,
// which the bracket's exits carry too), and becomes at most one event,
// delivered once: every event has a venue id (fills by fill_id, the rest
// by basket and kind or by the notification's sequence number) and an id
// already delivered is dropped. The two kinds of notification may arrive
// in either order (351s late): whichever comes first makes the order
// exist and be accepted (an order that fills was accepted; an exit that
// exists was armed). Fills come only from 352s; cancels from either.
//
// Reconciliation (at start and after every reconnect of the order plant):
// the executions since the session start (3506) are replayed as fills;
// then the order snapshot (320): an order that appears is accepted (an
// exit armed), and one the connector knew as working that does not appear
// — and that no fill explains — ended while the connector was away: it is
// cancelled. Only fills can be replayed in R|Protocol, so cancels, moves
// and triggers missed while disconnected are read from the snapshot.

package rithmic

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/rithmic/rpb"
	"github.com/deskguard/deskguard/market"
)

// ord is the connector's view of one order.
type ord struct {
	basket    string // "" until the venue has named it (an exit waiting for its entry's fill)
	account   string // desk account
	clientID  string
	role      broker.Role
	group     string // the bracket's entry ClientID
	bk        *bkt
	side      market.Side
	typ       market.OrderType
	qty       int64 // total quantity
	price     market.Price
	stop      market.Price
	tif       broker.TIF
	filled    int64
	cost      int64
	status    broker.Status
	accepted  bool   // Accepted delivered (an exit: its arming)
	acceptN   uint64 // the notification count when it was accepted
	done      bool
	triggered bool
	window    string
	external  bool   // not placed by the desk (no user_tag, not our exit position)
	byBroker  bool   // external, and taken for the RMS's own liquidation (resolveLocked)
	reqKey    string // the desk's request, for idempotency
	unknownAt int    // a submission's outcome was lost: the reconciliation that settles it
}

// bkt is a bracket: its entry, its exits, and their levels in ticks.
type bkt struct {
	entry, stop, target    *ord
	stopTicks, targetTicks int32
	ref                    market.Price
}

// note is what the connector reads of a 351 or 352.
type note struct {
	basket, original, tag, account, window, status, seq, text string
	side                                                      market.Side
	typ                                                       market.OrderType
	tif                                                       broker.TIF
	qty, totalFill, unfilled                                  int64
	price, stop                                               market.Price
	bracket                                                   bool
	ts                                                        int64
}

func orderTypeOf(p rpb.PriceType) market.OrderType {
	switch p {
	case rpb.PriceType_PRICE_LIMIT:
		return market.LimitOrder
	case rpb.PriceType_PRICE_MARKET:
		return market.MarketOrder
	case rpb.PriceType_PRICE_STOP_MARKET:
		return market.StopOrder
	case rpb.PriceType_PRICE_STOP_LIMIT:
		return market.StopLimitOrder
	}
	return 0
}

func sideOf(t rpb.TransactionType) market.Side {
	switch t {
	case rpb.TransactionType_TRANSACTION_BUY:
		return market.Buy
	case rpb.TransactionType_TRANSACTION_SELL, rpb.TransactionType_TRANSACTION_SS:
		return market.Sell
	}
	return market.Unknown
}

func tifOf(d rpb.Duration) broker.TIF {
	if d == rpb.Duration_DURATION_GTC {
		return broker.GTC
	}
	return broker.Day
}

func ticks(points float64) market.Price {
	if math.IsNaN(points) || math.IsInf(points, 0) || math.Abs(points) > 1<<48 {
		return 0
	}
	return market.Price(math.Round(points * market.TicksPerPoint))
}

func timeOf(ssboe, usecs, srcSsboe, srcNsecs int32) int64 {
	if srcSsboe != 0 {
		return int64(srcSsboe)*1e9 + int64(srcNsecs)
	}
	return int64(ssboe)*1e9 + int64(usecs)*1e3
}

func exchangeFields(n *rpb.ExchangeOrderNotification) note {
	return note{basket: n.BasketId, original: n.OriginalBasketId, tag: n.UserTag, account: n.AccountId,
		window: n.WindowName + n.OriginatorWindowName, status: strings.ToLower(n.Status), seq: n.SequenceNumber,
		text: firstOf(n.Text, n.ReportText), side: sideOf(n.TransactionType), typ: orderTypeOf(n.PriceType), tif: tifOf(n.Duration),
		qty: int64(n.Quantity), totalFill: int64(n.TotalFillSize), unfilled: int64(n.TotalUnfilledSize), price: ticks(n.Price),
		stop: ticks(n.TriggerPrice), bracket: n.BracketType != rpb.BracketType_BRACKET_TYPE_UNSPECIFIED,
		ts: timeOf(n.Ssboe, n.Usecs, n.SourceSsboe, n.SourceNsecs)}
}

func rithmicFields(n *rpb.RithmicOrderNotification) note {
	return note{basket: n.BasketId, original: n.OriginalBasketId, tag: n.UserTag, account: n.AccountId,
		window: n.WindowName + n.OriginatorWindowName, status: strings.ToLower(n.Status), seq: n.SequenceNumber,
		text: firstOf(n.Text, n.CompletionReason), side: sideOf(n.TransactionType), typ: orderTypeOf(n.PriceType), tif: tifOf(n.Duration),
		qty: int64(n.Quantity), totalFill: int64(n.TotalFillSize), unfilled: int64(n.TotalUnfilledSize), price: ticks(n.Price),
		stop: ticks(n.TriggerPrice), bracket: n.BracketType != rpb.BracketType_BRACKET_TYPE_UNSPECIFIED,
		ts: timeOf(n.Ssboe, n.Usecs, 0, 0)}
}

func firstOf(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// onOrderPush applies one notification from the order plant.
func (c *Client) onOrderPush(tpl int32, m proto.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.noteN++
	switch n := m.(type) {
	case *rpb.RithmicOrderNotification:
		c.applyRithmicLocked(n)
	case *rpb.ExchangeOrderNotification:
		c.applyExchangeLocked(n)
	case *rpb.BracketUpdates:
		c.applyBracketLocked(n)
	case *rpb.AccountRmsUpdates:
		c.onRMSUpdateLocked(n)
	}
}

// resolveLocked finds or makes the order a notification is about.
func (c *Client) resolveLocked(f note) *ord {
	if f.basket == "" {
		return nil
	}
	if o := c.orders[f.basket]; o != nil {
		c.updateLocked(o, f)
		return o
	}
	desk, ok := c.acctD[f.account]
	if !ok {
		return nil
	}
	entry, stopID, targetID, isBracket := SplitTag(f.tag)
	var o *ord
	switch {
	case isBracket && f.original != "" && f.original != f.basket:
		// A bracket's exit: it carries its entry's tag.
		bk := c.bracketLocked(desk, entry, stopID, targetID, f.original)
		if f.typ == market.StopOrder || f.typ == market.StopLimitOrder {
			o = bk.stop
		} else {
			o = bk.target
		}
		if o.basket != "" && o.basket != f.basket {
			c.log.Warn("rithmic: a second order for one bracket exit; tracking it as the same leg", "leg", o.clientID, "basket", f.basket)
		}
	case isBracket:
		bk := c.bracketLocked(desk, entry, stopID, targetID, f.basket)
		o = bk.entry
	case f.tag == "":
		// An order the desk did not place: the venue's flattening order
		// for an exit position (named by our window, or while one is
		// pending), else someone else's — a trader's, or the RMS's own
		// liquidation. 351 and 352 do not say which: their only fields
		// about who placed an order are user_id, window_name,
		// originator_window_name and manual_or_auto
		// (rithmic_order_notification.proto, exchange_order_notification.proto
		// in rundef/async_rithmic), and what the RMS puts in them is not
		// public. So an untagged market order is taken for the RMS's when
		// the RMS already reports the account locked (305 status); else
		// the desk infers it (supervisor/brokerliq.go).
		id := "rithmic." + desk + "." + f.basket
		o = &ord{account: desk, clientID: id, role: broker.Single}
		if strings.Contains(f.window, ExitWindow) || c.exitSent[desk] {
			o.clientID = "liquidate." + desk + "." + f.basket
		} else {
			o.external = true
			o.byBroker = f.typ == market.MarketOrder && c.rms[desk].Locked()
		}
		c.byClient[ckey{desk, o.clientID}] = o
	default:
		o = c.byClient[ckey{desk, f.tag}]
		if o == nil || o.basket != "" && o.basket != f.basket {
			o = &ord{account: desk, clientID: f.tag, role: broker.Single}
			c.byClient[ckey{desk, f.tag}] = o
		}
	}
	if o.basket == "" || o.basket == f.basket {
		c.updateLocked(o, f)
	}
	o.window = f.window
	c.bindLocked(o, f.basket)
	return o
}

// updateLocked takes an order's side, type, quantity and prices from a
// notification.
func (c *Client) updateLocked(o *ord, f note) {
	if f.side != market.Unknown {
		o.side = f.side
	}
	if f.typ != 0 {
		o.typ, o.tif = f.typ, f.tif
	}
	if f.qty > 0 {
		o.qty = f.qty
	}
	if f.typ == market.LimitOrder || f.typ == market.StopLimitOrder {
		o.price = f.price
	}
	if f.typ == market.StopOrder || f.typ == market.StopLimitOrder {
		o.stop = f.stop
	}
}

// bracketLocked finds or makes the bracket whose entry is the desk's
// entry id (its basket, when known, is entryBasket).
func (c *Client) bracketLocked(desk, entry, stopID, targetID, entryBasket string) *bkt {
	e := c.byClient[ckey{desk, entry}]
	if e == nil || e.bk == nil {
		if eb := c.orders[entryBasket]; eb != nil && eb.bk != nil {
			e = eb
		}
	}
	if e != nil && e.bk != nil {
		if e.basket == "" && entryBasket != "" {
			c.bindLocked(e, entryBasket)
		}
		return e.bk
	}
	// Not submitted through this connector (a restart): rebuilt from the tag.
	bk := &bkt{}
	bk.entry = &ord{account: desk, clientID: entry, role: broker.EntryLeg, group: entry, bk: bk}
	c.byClient[ckey{desk, entry}] = bk.entry
	if entryBasket != "" {
		c.bindLocked(bk.entry, entryBasket)
	}
	bk.stop = &ord{account: desk, clientID: stopID, role: broker.StopLeg, group: entry, bk: bk, typ: market.StopOrder, tif: broker.GTC}
	bk.target = &ord{account: desk, clientID: targetID, role: broker.TargetLeg, group: entry, bk: bk, typ: market.LimitOrder, tif: broker.GTC}
	c.byClient[ckey{desk, stopID}] = bk.stop
	c.byClient[ckey{desk, targetID}] = bk.target
	return bk
}

// eventLocked is an event about o.
func (c *Client) eventLocked(o *ord, kind broker.EventKind, leaves int64, reason string) broker.Event {
	ev := broker.Event{Account: o.account, ClientID: o.clientID, Kind: kind, Side: o.side, LeavesQty: leaves, Reason: reason,
		Role: o.role, GroupID: o.group, External: o.external, ByBroker: o.byBroker}
	if o.external {
		// All the desk knows of an order it did not place.
		ev.OrderType = o.typ
		if o.typ == market.LimitOrder || o.typ == market.StopLimitOrder {
			ev.Price = o.price
		}
		if o.typ == market.StopOrder || o.typ == market.StopLimitOrder {
			ev.StopPrice = o.stop
		}
	}
	return ev
}

// emitLocked delivers one event, once per venue id.
func (c *Client) emitLocked(ev broker.Event, venueID string) {
	if venueID != "" {
		if c.delivered[venueID] {
			return
		}
		c.delivered[venueID] = true
	}
	if ev.Time == 0 {
		ev.Time = c.lastTime
	} else if ev.Time > c.lastTime {
		c.lastTime = ev.Time
	}
	c.seq++
	ev.Seq = c.seq
	ev.VenueID = venueID
	c.events.push(ev)
}

// acceptLocked delivers o's acceptance once: Accepted for an order (and
// its bracket's exits, pending), the arming Modified for an exit.
func (c *Client) acceptLocked(o *ord, leaves int64, ts int64) {
	if o.accepted || o.done {
		return
	}
	o.accepted, o.acceptN = true, c.noteN
	switch o.role {
	case broker.StopLeg, broker.TargetLeg:
		if bk := o.bk; bk != nil && bk.entry != nil {
			c.pendingExitLocked(bk, o, ts)
		}
		o.status = broker.Working
		ev := c.eventLocked(o, broker.Modified, leaves, "armed by the entry's fill")
		ev.Time = ts
		c.emitLocked(ev, "b"+o.basket+":open")
	default:
		o.status = broker.Working
		ev := c.eventLocked(o, broker.Accepted, leaves, "")
		ev.Time = ts
		c.emitLocked(ev, "b"+o.basket+":open")
		if bk := o.bk; bk != nil && o.role == broker.EntryLeg {
			for _, l := range []*ord{bk.stop, bk.target} {
				c.pendingExitLocked(bk, l, ts)
			}
		}
	}
}

// pendingExitLocked delivers an exit's acceptance as pending (it exists
// only as its bracket's level until the entry fills).
func (c *Client) pendingExitLocked(bk *bkt, l *ord, ts int64) {
	if l == nil || bk.entry == nil || bk.entry.basket == "" {
		return
	}
	id := "b" + bk.entry.basket + ":" + l.role.String() + ":open"
	if c.delivered[id] {
		return
	}
	if l.status == 0 {
		l.status = broker.Pending
	}
	ev := c.eventLocked(l, broker.Accepted, 0, "pending entry fill")
	ev.Time = ts
	c.emitLocked(ev, id)
}

// finishLocked ends o (cancelled, expired, rejected) once; an entry that
// ends before any fill takes its pending exits with it.
func (c *Client) finishLocked(o *ord, kind broker.EventKind, reason string, ts int64, venueID string) {
	if o.done {
		return
	}
	o.done = true
	switch kind {
	case broker.CancelledEv:
		o.status = broker.Cancelled
	case broker.ExpiredEv:
		o.status = broker.Expired
	case broker.RejectedEv:
		o.status = broker.Rejected
	}
	if reason == "" {
		reason = o.status.String()
	}
	ev := c.eventLocked(o, kind, 0, reason)
	ev.Time = ts
	c.emitLocked(ev, venueID)
	if o.role == broker.EntryLeg && o.filled == 0 && o.bk != nil {
		for _, l := range []*ord{o.bk.stop, o.bk.target} {
			if l == nil || l.done || l.basket != "" {
				continue
			}
			l.done, l.status = true, broker.Cancelled
			ev := c.eventLocked(l, broker.CancelledEv, 0, fmt.Sprintf("bracket entry %s %s before any fill", o.clientID, o.status))
			ev.Time = ts
			c.emitLocked(ev, "b"+o.basket+":"+l.role.String()+":done")
		}
	}
}

func (c *Client) applyRithmicLocked(n *rpb.RithmicOrderNotification) {
	f := rithmicFields(n)
	o := c.resolveLocked(f)
	if o == nil {
		return
	}
	switch n.NotifyType {
	case rpb.RithmicNotifyType_OPEN:
		c.acceptLocked(o, max(0, f.qty-f.totalFill), f.ts)
	case rpb.RithmicNotifyType_COMPLETE:
		switch r := strings.ToLower(n.CompletionReason); {
		case strings.HasPrefix(r, "fill"):
			// the fill itself comes as a 352
		case strings.HasPrefix(r, "reject"):
			if !o.accepted {
				c.finishLocked(o, broker.RejectedEv, firstOf(n.Text, "rejected"), f.ts, "b"+o.basket+":done")
			}
		case strings.HasPrefix(r, "expire"):
			c.acceptLocked(o, max(0, f.qty-f.totalFill), f.ts)
			c.finishLocked(o, broker.ExpiredEv, firstOf(n.Text, "expired"), f.ts, "b"+o.basket+":done")
		default:
			c.acceptLocked(o, max(0, f.qty-f.totalFill), f.ts)
			c.finishLocked(o, broker.CancelledEv, firstOf(n.Text, n.CompletionReason, "cancelled"), f.ts, "b"+o.basket+":done")
		}
	case rpb.RithmicNotifyType_MODIFICATION_FAILED, rpb.RithmicNotifyType_CANCELLATION_FAILED:
		ev := c.eventLocked(o, broker.RejectedEv, max(0, f.qty-f.totalFill), firstOf(n.Text, n.NotifyType.String()))
		ev.Time = f.ts
		c.emitLocked(ev, "n"+f.seq)
	}
}

func (c *Client) applyExchangeLocked(n *rpb.ExchangeOrderNotification) {
	f := exchangeFields(n)
	o := c.resolveLocked(f)
	if o == nil {
		return
	}
	switch n.NotifyType {
	case rpb.ExchangeNotifyType_EXCH_STATUS:
		switch f.status {
		case "complete", "cancelled", "canceled", "expired", "rejected":
		default:
			c.acceptLocked(o, max(0, f.qty-f.totalFill), f.ts)
		}
	case rpb.ExchangeNotifyType_EXCH_MODIFY:
		c.acceptLocked(o, max(0, f.qty-f.totalFill), f.ts)
		ev := c.eventLocked(o, broker.Modified, f.unfilled, f.text)
		ev.Time = f.ts
		c.emitLocked(ev, "n"+f.seq)
	case rpb.ExchangeNotifyType_EXCH_CANCEL:
		c.acceptLocked(o, max(0, f.qty-f.totalFill), f.ts)
		kind := broker.CancelledEv
		if f.status == "expired" {
			kind = broker.ExpiredEv
		}
		c.finishLocked(o, kind, f.text, f.ts, "b"+o.basket+":done")
	case rpb.ExchangeNotifyType_EXCH_TRIGGER:
		c.acceptLocked(o, max(0, f.qty-f.totalFill), f.ts)
		if !o.triggered {
			o.triggered = true
			if o.typ == market.StopLimitOrder {
				o.status = broker.Triggered
			}
			ev := c.eventLocked(o, broker.TriggeredEv, max(0, f.qty-f.totalFill), f.text)
			ev.Time = f.ts
			c.emitLocked(ev, "b"+o.basket+":trig")
		}
	case rpb.ExchangeNotifyType_EXCH_FILL:
		c.fillLocked(o, n, f)
	case rpb.ExchangeNotifyType_EXCH_REJECT:
		if !o.accepted {
			o.accepted = true
			c.finishLocked(o, broker.RejectedEv, firstOf(f.text, "rejected by the exchange"), f.ts, "b"+o.basket+":done")
			return
		}
		fallthrough
	case rpb.ExchangeNotifyType_EXCH_NOT_MODIFIED, rpb.ExchangeNotifyType_EXCH_NOT_CANCELLED:
		ev := c.eventLocked(o, broker.RejectedEv, f.unfilled, firstOf(f.text, n.NotifyType.String()))
		ev.Time = f.ts
		c.emitLocked(ev, "n"+f.seq)
	}
}

// fillLocked books one fill, once per fill id.
func (c *Client) fillLocked(o *ord, n *rpb.ExchangeOrderNotification, f note) {
	id := "F" + n.FillId
	if n.FillId == "" {
		id = "F" + f.basket + ":" + strconv.FormatInt(f.totalFill, 10)
	}
	if c.delivered[id] || n.FillSize <= 0 {
		return
	}
	size := int64(n.FillSize)
	c.acceptLocked(o, max(0, f.qty-(f.totalFill-size)), f.ts)
	price := ticks(n.FillPrice)
	o.filled += size
	o.cost += size * int64(price)
	kind := broker.PartiallyFilled
	leaves := f.unfilled
	if leaves <= 0 || f.status == "complete" {
		kind, leaves = broker.FilledEv, 0
		o.done, o.status = true, broker.Filled
	}
	ev := c.eventLocked(o, kind, leaves, "")
	ev.FillQty, ev.FillPrice, ev.Time = size, price, f.ts
	if o.typ == market.StopOrder || o.typ == market.StopLimitOrder {
		ev.Slippage = int64(price-o.stop) * o.side.Sign()
	}
	if o.role == broker.Single && strings.HasPrefix(o.clientID, "liquidate.") && o.done {
		c.exitSent[o.account] = false
	}
	c.emitLocked(ev, id)
}

// applyBracketLocked takes a bracket's levels (353).
func (c *Client) applyBracketLocked(n *rpb.BracketUpdates) {
	e := c.orders[n.BasketId]
	if e == nil || e.bk == nil {
		return
	}
	if n.StopTicks > 0 {
		e.bk.stopTicks = n.StopTicks
	}
	if n.TargetTicks > 0 {
		e.bk.targetTicks = n.TargetTicks
	}
}

// reconcile brings the table level with the venue after a (re)login:
// executions replayed since the session start, then the order snapshot.
func (c *Client) reconcile(ctx context.Context, s *session, accts []string) error {
	c.mu.Lock()
	before := c.noteN
	fcm, ib := c.fcm, c.ib
	c.mu.Unlock()
	// The whole session's executions, at every reconciliation: fills
	// already booked are dropped by fill id. A window counted back from
	// the latest fill seen misses fills: the new session is subscribed
	// before the replay, so a fill pushed live on it (an exit) moves that
	// mark past fills made while the plant was away (its entry).
	now := s.p.server.Load() / 1e9
	start := int64(0)
	if now > 0 {
		start = now - 86400
	}
	finish := int64(0)
	if now > 0 {
		finish = now + 3600
	}
	for _, desk := range accts {
		c.mu.Lock()
		ra := c.acctR[desk]
		c.mu.Unlock()
		fills, err := s.snapshot(ctx, rpb.TReplayExecutionsRequest, &rpb.RequestReplayExecutions{FcmId: fcm, IbId: ib, AccountId: ra,
			StartIndex: clamp32(start), FinishIndex: clamp32(finish)})
		if err != nil {
			return fmt.Errorf("replay executions %s: %w", ra, err)
		}
		c.mu.Lock()
		for _, m := range fills {
			if n, ok := m.(*rpb.ExchangeOrderNotification); ok && n.NotifyType == rpb.ExchangeNotifyType_EXCH_FILL {
				c.noteN++
				c.applyExchangeLocked(n)
			}
		}
		c.mu.Unlock()
		snap, err := s.snapshot(ctx, rpb.TShowOrdersRequest, &rpb.RequestShowOrders{FcmId: fcm, IbId: ib, AccountId: ra})
		if err != nil {
			return fmt.Errorf("show orders %s: %w", ra, err)
		}
		c.mu.Lock()
		c.mergeLocked(desk, ra, snap, before)
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.reconciled = true // counted once the session is the plant's (countSync)
	c.mu.Unlock()
	return nil
}

// countSync counts a reconciliation once its session is the order plant's
// current one (plant.ready): WaitSynced and Syncs never report a
// reconciliation while the plant is still down — before, a SubmitOrder
// right after WaitSynced could find it so ("order plant is down", seen in
// TestReconnectResubscribes under load).
func (c *Client) countSync() {
	c.mu.Lock()
	if !c.reconciled {
		c.mu.Unlock()
		return
	}
	c.reconciled = false
	c.syncs++
	c.syncCond.Broadcast()
	n := c.syncs
	c.mu.Unlock()
	c.log.Info("rithmic: reconciled", "sync", n)
}

func clamp32(x int64) int32 {
	if x > math.MaxInt32 {
		return math.MaxInt32
	}
	if x < 0 {
		return 0
	}
	return int32(x)
}

// mergeLocked applies one account's order snapshot: what appears is
// accepted (exits armed), moved or triggered as the snapshot says; what
// the connector knew as working before the snapshot was asked for and does
// not appear ended while it was away.
func (c *Client) mergeLocked(desk, ra string, snap []proto.Message, before uint64) {
	seen := map[*ord]bool{}
	for _, m := range snap {
		n, ok := m.(*rpb.ExchangeOrderNotification)
		if !ok || n.AccountId != ra {
			continue
		}
		f := exchangeFields(n)
		c.noteN++
		o := c.resolveLocked(f)
		if o == nil {
			continue
		}
		seen[o] = true
		c.acceptLocked(o, max(0, f.qty-f.totalFill), f.ts)
		if f.typ == market.StopLimitOrder && f.status == "open" && !o.triggered {
			o.triggered, o.status = true, broker.Triggered
			ev := c.eventLocked(o, broker.TriggeredEv, f.unfilled, "triggered while disconnected")
			ev.Time = f.ts
			c.emitLocked(ev, "b"+o.basket+":trig")
		}
		if int64(n.TotalFillSize) > o.filled {
			c.log.Warn("rithmic: the order snapshot shows fills the execution replay did not", "id", o.clientID,
				"snapshot", n.TotalFillSize, "booked", o.filled)
		}
		if f.unfilled != o.qty-o.filled && !o.done {
			ev := c.eventLocked(o, broker.Modified, f.unfilled, "changed while disconnected")
			ev.Time = f.ts
			c.emitLocked(ev, "")
		}
	}
	for _, o := range c.orders {
		if o.account != desk || o.done || !o.accepted || o.acceptN > before || seen[o] {
			continue
		}
		c.finishLocked(o, broker.CancelledEv, "not among the working orders after a reconnect: ended while disconnected", c.lastTime,
			"b"+o.basket+":done")
	}
	// Exits that never showed up here, whose entry filled and is no longer
	// working: they were armed and ended while the connector was away.
	for _, o := range c.byClient {
		if o.account != desk || o.done || o.basket != "" || o.bk == nil || (o.role != broker.StopLeg && o.role != broker.TargetLeg) {
			continue
		}
		if e := o.bk.entry; e != nil && e.done && e.filled > 0 {
			o.done, o.status = true, broker.Cancelled
			ev := c.eventLocked(o, broker.CancelledEv, 0, "bracket exit ended while disconnected")
			c.emitLocked(ev, "b"+e.basket+":"+o.role.String()+":done")
		}
	}
}
