// orders.go: the order plant. Requests (login info, accounts, trade
// routes, update subscriptions, new orders and brackets, modify, cancel,
// bracket levels, show orders and brackets, cancel all, exit position,
// replay executions) act on the engine; the engine's events become
// notifications: 351 (Rithmic side) and 352 (exchange side) for orders,
// 353 for bracket levels, to every order plant session subscribed to the
// account.
//
// Baskets: every order the venue accepts gets a basket id, and the engine
// knows it by that id (user_tag is the client's and is not unique). A
// bracket's entry is one basket; its stop and target become baskets of
// their own (children: original_basket_id is the entry's, user_tag the
// entry's) when the entry's first fill arms them. The bracket holds its
// exits in ticks from the entry: from the entry's price (limit), trigger
// (stop) or the last trade (market) until the first fill, then from that
// fill's price.

package rithmic

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/rithmic/rpb"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/market"
)

// basket is one order at the venue.
type basket struct {
	id      string
	account string
	simID   string // the engine's client id
	userTag string
	window  string
	// placement is what the placing client said of the order
	// (manual_or_auto); the RMS's own orders say automated.
	placement rpb.OrderPlacement
	role      broker.Role
	grp       *group // bracket entry and children
	order     broker.Order
	qty       int64 // total quantity (filled + working)
	filled    int64
	cost      int64 // Σ fill qty × price
	status    string
	done      bool
	ts        int64 // time of the last change
}

// group is a bracket held by the venue.
type group struct {
	entry                  *basket
	stopTicks, targetTicks int32
	anchor                 market.Price
	anchored               bool // the first fill set the anchor
	stop, target           *basket
	stopSimID, targetSimID string
	stopDone, targetDone   bool
	stopArmed, targetArmed int64 // quantities released
	closed                 bool
}

// leg is a bracket exit as the engine knows it.
type leg struct {
	g    *group
	role broker.Role
}

func (g *group) child(r broker.Role) *basket {
	if r == broker.StopLeg {
		return g.stop
	}
	return g.target
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

func txOf(s market.Side) rpb.TransactionType {
	if s == market.Sell {
		return rpb.TransactionType_TRANSACTION_SELL
	}
	return rpb.TransactionType_TRANSACTION_BUY
}

func priceTypeOf(t market.OrderType) rpb.PriceType {
	switch t {
	case market.LimitOrder:
		return rpb.PriceType_PRICE_LIMIT
	case market.MarketOrder:
		return rpb.PriceType_PRICE_MARKET
	case market.StopOrder:
		return rpb.PriceType_PRICE_STOP_MARKET
	case market.StopLimitOrder:
		return rpb.PriceType_PRICE_STOP_LIMIT
	}
	return rpb.PriceType_PRICE_TYPE_UNSPECIFIED
}

func durationOf(t broker.TIF) rpb.Duration {
	if t == broker.GTC {
		return rpb.Duration_DURATION_GTC
	}
	return rpb.Duration_DURATION_DAY
}

func points(p market.Price) float64 { return float64(p) / market.TicksPerPoint }

// orderFields is what a new order and a bracket have in common.
type orderFields struct {
	account, symbol, exchange, route string
	qty                              int32
	price, trigger                   float64
	tx                               rpb.TransactionType
	dur                              rpb.Duration
	pt                               rpb.PriceType
}

// toOrder validates what the gateway itself checks and converts it; the
// engine judges the rest (prices against the market, quantities).
func (v *Venue) toOrder(f orderFields) (broker.Order, string) {
	o := broker.Order{Account: f.account, Qty: int64(f.qty)}
	if _, known := v.acct[f.account]; !known {
		return o, fmt.Sprintf("unknown account %q", f.account)
	}
	if f.symbol != v.cfg.Symbol || f.exchange != v.cfg.Exchange {
		return o, fmt.Sprintf("instrument %s.%s is not traded here (%s.%s)", f.symbol, f.exchange, v.cfg.Symbol, v.cfg.Exchange)
	}
	if f.route != v.cfg.TradeRoute {
		return o, fmt.Sprintf("trade route %q unknown (want %q, from 310)", f.route, v.cfg.TradeRoute)
	}
	if o.Side = sideOf(f.tx); o.Side == market.Unknown {
		return o, "transaction_type: want BUY or SELL"
	}
	switch f.pt {
	case rpb.PriceType_PRICE_LIMIT:
		o.Type = market.LimitOrder
	case rpb.PriceType_PRICE_MARKET:
		o.Type = market.MarketOrder
	case rpb.PriceType_PRICE_STOP_MARKET:
		o.Type = market.StopOrder
	case rpb.PriceType_PRICE_STOP_LIMIT:
		o.Type = market.StopLimitOrder
	default:
		return o, fmt.Sprintf("price_type %s is not supported here", f.pt)
	}
	switch f.dur {
	case rpb.Duration_DURATION_DAY:
		o.TIF = broker.Day
	case rpb.Duration_DURATION_GTC:
		o.TIF = broker.GTC
	default:
		return o, fmt.Sprintf("duration %s is not supported here", f.dur)
	}
	var err error
	if o.Type == market.LimitOrder || o.Type == market.StopLimitOrder {
		if o.Price, err = market.PriceFromPoints(f.price); err != nil {
			return o, "price: " + err.Error()
		}
	}
	if o.Type == market.StopOrder || o.Type == market.StopLimitOrder {
		if o.StopPrice, err = market.PriceFromPoints(f.trigger); err != nil {
			return o, "trigger_price: " + err.Error()
		}
	}
	return o, ""
}

// rpOf turns an engine refusal into an rp_code.
func rpOf(err error) []string {
	text := err.Error()
	var re *sim.RejectError
	if errors.As(err, &re) {
		text = re.Reason
	}
	switch {
	case errors.Is(err, broker.ErrOrderDone):
		return fail("6", "order is complete: "+text)
	case errors.Is(err, broker.ErrUnknownOrder):
		return fail("5", "basket not found")
	}
	return fail("3", text)
}

func (v *Venue) newBasket(account, userTag, window string, role broker.Role) *basket {
	v.nextID++
	b := &basket{id: strconv.FormatInt(v.nextID+1_000_000, 10), account: account, userTag: userTag, window: window, role: role}
	b.simID = b.id
	v.baskets[b.id] = b
	v.order = append(v.order, b)
	v.bySim[simKey{account, b.simID}] = b
	return b
}

func (v *Venue) dropBasket(b *basket) {
	delete(v.baskets, b.id)
	delete(v.bySim, simKey{b.account, b.simID})
	for i, x := range v.order {
		if x == b {
			v.order = append(v.order[:i], v.order[i+1:]...)
			break
		}
	}
}

// orderRequest serves the order plant. Caller holds v.mu.
func (v *Venue) orderRequest(c *conn, tpl int32, m proto.Message, um []string) {
	switch r := m.(type) {
	case *rpb.RequestLoginInfo:
		c.reply(rpb.TLoginInfoResponse, &rpb.ResponseLoginInfo{UserMsg: um, RpCode: ok, FcmId: v.cfg.FCM, IbId: v.cfg.IB,
			User: c.user, UserType: rpb.UserType_USER_TYPE_TRADER, OpMaxSessionCount: int32(v.cfg.MaxSessions),
			TpMaxSessionCount: int32(v.cfg.MaxSessions)})
	case *rpb.RequestAccountList:
		for _, a := range v.cfg.Accounts {
			c.reply(rpb.TAccountListResponse, &rpb.ResponseAccountList{UserMsg: um, RqHandlerRpCode: ok, FcmId: v.cfg.FCM,
				IbId: v.cfg.IB, AccountId: a, AccountName: a})
		}
		c.reply(rpb.TAccountListResponse, &rpb.ResponseAccountList{UserMsg: um, RpCode: ok})
	case *rpb.RequestTradeRoutes:
		c.reply(rpb.TTradeRoutesResponse, &rpb.ResponseTradeRoutes{UserMsg: um, RqHandlerRpCode: ok, FcmId: v.cfg.FCM, IbId: v.cfg.IB,
			Exchange: v.cfg.Exchange, TradeRoute: v.cfg.TradeRoute, Status: "UP", IsDefault: true})
		c.reply(rpb.TTradeRoutesResponse, &rpb.ResponseTradeRoutes{UserMsg: um, RpCode: ok})
	case *rpb.RequestSubscribeForOrderUpdates:
		if _, known := v.acct[r.AccountId]; !known {
			c.reply(rpb.TOrderUpdatesResponse, &rpb.ResponseSubscribeForOrderUpdates{UserMsg: um, RpCode: fail("3", "unknown account")})
			return
		}
		c.orders[r.AccountId] = true
		c.reply(rpb.TOrderUpdatesResponse, &rpb.ResponseSubscribeForOrderUpdates{UserMsg: um, RpCode: ok})
	case *rpb.RequestSubscribeToBracketUpdates:
		if _, known := v.acct[r.AccountId]; !known {
			c.reply(rpb.TBracketUpdatesResponse, &rpb.ResponseSubscribeToBracketUpdates{UserMsg: um, RpCode: fail("3", "unknown account")})
			return
		}
		c.brackets[r.AccountId] = true
		c.reply(rpb.TBracketUpdatesResponse, &rpb.ResponseSubscribeToBracketUpdates{UserMsg: um, RpCode: ok})
	case *rpb.RequestNewOrder:
		v.newOrder(c, r, um)
	case *rpb.RequestBracketOrder:
		v.bracketOrder(c, r, um)
	case *rpb.RequestModifyOrder:
		v.modifyOrder(c, r, um)
	case *rpb.RequestCancelOrder:
		v.cancelOrder(c, r, um)
	case *rpb.RequestUpdateStopBracketLevel:
		rp := v.updateLevel(r.AccountId, r.BasketId, r.Level, r.StopTicks, broker.StopLeg)
		c.reply(rpb.TUpdateStopResponse, &rpb.ResponseUpdateStopBracketLevel{UserMsg: um, RpCode: rp})
		v.applyLocked()
	case *rpb.RequestUpdateTargetBracketLevel:
		rp := v.updateLevel(r.AccountId, r.BasketId, r.Level, r.TargetTicks, broker.TargetLeg)
		c.reply(rpb.TUpdateTargetResponse, &rpb.ResponseUpdateTargetBracketLevel{UserMsg: um, RpCode: rp})
		v.applyLocked()
	case *rpb.RequestShowOrders:
		if _, known := v.acct[r.AccountId]; !known {
			c.reply(rpb.TShowOrdersResponse, &rpb.ResponseShowOrders{UserMsg: um, RpCode: fail("3", "unknown account")})
			return
		}
		for _, b := range v.order {
			if b.account == r.AccountId && !b.done {
				n := v.exchangeNote(b, rpb.ExchangeNotifyType_EXCH_STATUS, b.ts)
				n.IsSnapshot = true
				c.reply(rpb.TExchangeOrderNotification, n)
			}
		}
		c.reply(rpb.TShowOrdersResponse, &rpb.ResponseShowOrders{UserMsg: um, RpCode: ok})
	case *rpb.RequestShowBrackets:
		for _, g := range v.liveGroups(r.AccountId) {
			c.reply(rpb.TShowBracketsResponse, &rpb.ResponseShowBrackets{UserMsg: um, RqHandlerRpCode: ok, BasketId: g.entry.id,
				TargetQuantity: strconv.FormatInt(g.entry.order.Qty, 10), TargetQuantityReleased: strconv.FormatInt(g.targetArmed, 10),
				TargetTicks: strconv.Itoa(int(g.targetTicks))})
		}
		c.reply(rpb.TShowBracketsResponse, &rpb.ResponseShowBrackets{UserMsg: um, RpCode: ok})
	case *rpb.RequestShowBracketStops:
		for _, g := range v.liveGroups(r.AccountId) {
			c.reply(rpb.TShowBracketStopsResponse, &rpb.ResponseShowBracketStops{UserMsg: um, RqHandlerRpCode: ok, BasketId: g.entry.id,
				StopQuantity: strconv.FormatInt(g.entry.order.Qty, 10), StopQuantityReleased: strconv.FormatInt(g.stopArmed, 10),
				StopTicks: strconv.Itoa(int(g.stopTicks))})
		}
		c.reply(rpb.TShowBracketStopsResponse, &rpb.ResponseShowBracketStops{UserMsg: um, RpCode: ok})
	case *rpb.RequestCancelAllOrders:
		if _, known := v.acct[r.AccountId]; !known {
			c.reply(rpb.TCancelAllResponse, &rpb.ResponseCancelAllOrders{UserMsg: um, RpCode: fail("3", "unknown account")})
			return
		}
		err := v.sim.CancelAll(bg, r.AccountId)
		rp := ok
		if err != nil {
			rp = rpOf(err)
		}
		c.reply(rpb.TCancelAllResponse, &rpb.ResponseCancelAllOrders{UserMsg: um, RpCode: rp})
		v.applyLocked()
	case *rpb.RequestExitPosition:
		v.exitPosition(c, r, um)
	case *rpb.RequestAccountRmsInfo:
		v.rmsInfo(c, um)
	case *rpb.RequestAccountRmsUpdates:
		v.rmsUpdates(c, r, um)
	case *rpb.RequestReplayExecutions:
		if _, known := v.acct[r.AccountId]; !known {
			c.reply(rpb.TReplayExecutionsResponse, &rpb.ResponseReplayExecutions{UserMsg: um, RpCode: fail("3", "unknown account")})
			return
		}
		for _, f := range v.fills[r.AccountId] {
			if f.Ssboe >= r.StartIndex && (r.FinishIndex == 0 || f.Ssboe <= r.FinishIndex) {
				n := proto.Clone(f).(*rpb.ExchangeOrderNotification)
				n.IsSnapshot = true
				c.reply(rpb.TExchangeOrderNotification, n)
			}
		}
		c.reply(rpb.TReplayExecutionsResponse, &rpb.ResponseReplayExecutions{UserMsg: um, RpCode: ok})
	default:
		c.reply(rpb.TReject, &rpb.Reject{UserMsg: um, RpCode: fail("3", fmt.Sprintf("template %d is not served here", tpl))})
		v.countLocked(func(s *Stats) { s.Rejects++ })
	}
}

func (v *Venue) liveGroups(account string) []*group {
	var out []*group
	for _, b := range v.order {
		if b.account == account && b.role == broker.EntryLeg && b.grp != nil && !b.grp.closed {
			out = append(out, b.grp)
		}
	}
	return out
}

// newOrderFault applies the drop faults to a new order. It reports
// whether the request is to be ignored (the connection is gone before
// the venue acted).
func (v *Venue) newOrderFault(c *conn) (skip bool) {
	if v.dropBefore > 0 {
		v.dropBefore--
		v.countLocked(func(s *Stats) { s.Dropped++ })
		c.plant = 0
		c.kill()
		return true
	}
	if v.dropAfter > 0 {
		v.dropAfter--
		v.countLocked(func(s *Stats) { s.Dropped++ })
		c.plant = 0 // nothing more is sent to it, the answer included
		c.kill()
	}
	return false
}

func (v *Venue) newOrder(c *conn, r *rpb.RequestNewOrder, um []string) {
	if v.newOrderFault(c) {
		return
	}
	answer := func(rp []string, basketID string) {
		ns := v.nowLocked()
		c.reply(rpb.TNewOrderResponse, &rpb.ResponseNewOrder{UserMsg: um, UserTag: r.UserTag, RpCode: rp, BasketId: basketID,
			Ssboe: int32(ns / 1e9), Usecs: int32(ns % 1e9 / 1e3)})
	}
	o, bad := v.toOrder(orderFields{account: r.AccountId, symbol: r.Symbol, exchange: r.Exchange, route: r.TradeRoute,
		qty: r.Quantity, price: r.Price, trigger: r.TriggerPrice, tx: r.TransactionType, dur: r.Duration, pt: r.PriceType})
	if bad != "" {
		answer(fail("3", bad), "")
		return
	}
	if rp := v.rmsRefusalLocked(o.Account); rp != nil {
		answer(rp, "")
		return
	}
	b := v.newBasket(o.Account, r.UserTag, r.WindowName, broker.Single)
	b.placement = r.ManualOrAuto
	o.ClientID = b.simID
	b.order, b.qty, b.ts = o, o.Qty, v.nowLocked()
	v.countLocked(func(s *Stats) { s.NewOrders++ })
	if err := v.sim.SubmitOrder(bg, o); err != nil {
		v.applyLocked() // the engine's rejection, for the records
		v.dropBasket(b)
		answer(rpOf(err), "")
		return
	}
	answer(ok, b.id)
	v.applyLocked()
}

// reference is the price a bracket's ticks count from until its entry
// fills.
func (v *Venue) reference(o broker.Order) (market.Price, bool) {
	switch o.Type {
	case market.LimitOrder:
		return o.Price, true
	case market.StopOrder, market.StopLimitOrder:
		return o.StopPrice, true
	}
	t, ok := v.sim.LastTrade()
	return t.Price, ok
}

// exits returns a bracket's stop and target prices from an anchor.
func exits(side market.Side, anchor market.Price, stopTicks, targetTicks int32) (stop, target market.Price) {
	if side == market.Buy {
		return anchor - market.Price(stopTicks), anchor + market.Price(targetTicks)
	}
	return anchor + market.Price(stopTicks), anchor - market.Price(targetTicks)
}

func (v *Venue) bracketOrder(c *conn, r *rpb.RequestBracketOrder, um []string) {
	if v.newOrderFault(c) {
		return
	}
	answer := func(rp []string, basketID string) {
		ns := v.nowLocked()
		c.reply(rpb.TBracketOrderResponse, &rpb.ResponseBracketOrder{UserMsg: um, UserTag: r.UserTag, RpCode: rp, BasketId: basketID,
			Ssboe: int32(ns / 1e9), Usecs: int32(ns % 1e9 / 1e3)})
	}
	o, bad := v.toOrder(orderFields{account: r.AccountId, symbol: r.Symbol, exchange: r.Exchange, route: r.TradeRoute,
		qty: r.Quantity, price: r.Price, trigger: r.TriggerPrice, tx: r.TransactionType, dur: r.Duration, pt: r.PriceType})
	switch {
	case bad != "":
	case r.BracketType != rpb.BracketType_BRACKET_TARGET_AND_STOP && r.BracketType != rpb.BracketType_BRACKET_TARGET_AND_STOP_STATIC:
		bad = fmt.Sprintf("bracket_type %s: this venue holds target-and-stop brackets", r.BracketType)
	case r.StopTicks <= 0 || r.TargetTicks <= 0:
		bad = fmt.Sprintf("stop_ticks %d and target_ticks %d must be positive", r.StopTicks, r.TargetTicks)
	case r.StopQuantity != 0 && r.StopQuantity != r.Quantity || r.TargetQuantity != 0 && r.TargetQuantity != r.Quantity:
		bad = "stop_quantity and target_quantity must be the order's quantity"
	}
	if bad != "" {
		answer(fail("3", bad), "")
		return
	}
	if rp := v.rmsRefusalLocked(o.Account); rp != nil {
		answer(rp, "")
		return
	}
	ref, known := v.reference(o)
	if !known {
		answer(fail("3", "no last trade to place a market entry's bracket from"), "")
		return
	}
	b := v.newBasket(o.Account, r.UserTag, r.WindowName, broker.EntryLeg)
	b.placement = r.ManualOrAuto
	o.ClientID = b.simID
	b.order, b.qty, b.ts = o, o.Qty, v.nowLocked()
	g := &group{entry: b, stopTicks: r.StopTicks, targetTicks: r.TargetTicks, anchor: ref,
		stopSimID: b.simID + ".s", targetSimID: b.simID + ".t"}
	b.grp = g
	stop, target := exits(o.Side, ref, r.StopTicks, r.TargetTicks)
	exit := o.Side.Opposite()
	br := broker.Bracket{Entry: o,
		Stop:   broker.Order{ClientID: g.stopSimID, Account: o.Account, Side: exit, Type: market.StopOrder, StopPrice: stop, TIF: broker.GTC},
		Target: broker.Order{ClientID: g.targetSimID, Account: o.Account, Side: exit, Type: market.LimitOrder, Price: target, TIF: broker.GTC}}
	v.legs[simKey{o.Account, g.stopSimID}] = &leg{g: g, role: broker.StopLeg}
	v.legs[simKey{o.Account, g.targetSimID}] = &leg{g: g, role: broker.TargetLeg}
	v.countLocked(func(s *Stats) { s.NewOrders++ })
	if err := v.sim.SubmitBracket(bg, br); err != nil {
		v.applyLocked()
		v.dropBasket(b)
		delete(v.legs, simKey{o.Account, g.stopSimID})
		delete(v.legs, simKey{o.Account, g.targetSimID})
		answer(rpOf(err), "")
		return
	}
	answer(ok, b.id)
	v.applyLocked()
}

// basketOf finds a live basket of an account.
func (v *Venue) basketOf(account, id string) (*basket, []string) {
	b := v.baskets[id]
	if b == nil || b.account != account {
		return nil, fail("5", "basket not found")
	}
	return b, nil
}

func (v *Venue) modifyOrder(c *conn, r *rpb.RequestModifyOrder, um []string) {
	answer := func(rp []string) {
		ns := v.nowLocked()
		c.reply(rpb.TModifyOrderResponse, &rpb.ResponseModifyOrder{UserMsg: um, RpCode: rp, BasketId: r.BasketId,
			Ssboe: int32(ns / 1e9), Usecs: int32(ns % 1e9 / 1e3)})
	}
	b, rp := v.basketOf(r.AccountId, r.BasketId)
	if b == nil {
		answer(rp)
		return
	}
	st, err := v.sim.Order(b.account, b.simID)
	if err != nil {
		answer(rpOf(err))
		return
	}
	if st.Status.Done() {
		answer(fail("6", "order is complete: already "+st.Status.String()))
		return
	}
	if r.Quantity != 0 && int64(r.Quantity) != st.Qty {
		answer(fail("3", "quantity changes are not supported by this venue"))
		return
	}
	if r.PriceType != priceTypeOf(st.Type) {
		answer(fail("3", "price_type changes are not supported by this venue"))
		return
	}
	np, ns := market.NoPrice, market.NoPrice
	if st.Type == market.LimitOrder || st.Type == market.StopLimitOrder {
		p, err := market.PriceFromPoints(r.Price)
		if err != nil {
			answer(fail("3", "price: "+err.Error()))
			return
		}
		if p != st.Price {
			np = p
		}
	}
	if st.Type == market.StopOrder || st.Type == market.StopLimitOrder {
		p, err := market.PriceFromPoints(r.TriggerPrice)
		if err != nil {
			answer(fail("3", "trigger_price: "+err.Error()))
			return
		}
		if p != st.StopPrice {
			ns = p
		}
	}
	if np == market.NoPrice && ns == market.NoPrice {
		answer(ok) // nothing changes: a repeated modify is done
		return
	}
	if err := v.sim.Modify(bg, b.account, b.simID, np, ns); err != nil {
		v.applyLocked()
		answer(rpOf(err))
		return
	}
	answer(ok)
	v.applyLocked()
}

func (v *Venue) cancelOrder(c *conn, r *rpb.RequestCancelOrder, um []string) {
	answer := func(rp []string) {
		ns := v.nowLocked()
		c.reply(rpb.TCancelOrderResponse, &rpb.ResponseCancelOrder{UserMsg: um, RpCode: rp, BasketId: r.BasketId,
			Ssboe: int32(ns / 1e9), Usecs: int32(ns % 1e9 / 1e3)})
	}
	b, rp := v.basketOf(r.AccountId, r.BasketId)
	if b == nil {
		answer(rp)
		return
	}
	if err := v.sim.Cancel(bg, b.account, b.simID); err != nil {
		v.applyLocked()
		answer(rpOf(err))
		return
	}
	answer(ok)
	v.applyLocked()
}

// updateLevel moves a bracket's stop or target (334, 332): level must be
// its current distance in ticks.
func (v *Venue) updateLevel(account, basketID string, level, ticks int32, role broker.Role) []string {
	b, rp := v.basketOf(account, basketID)
	if b == nil {
		return rp
	}
	g := b.grp
	if g == nil || b.role != broker.EntryLeg {
		return fail("3", "basket "+basketID+" is not a bracket order")
	}
	if g.closed {
		return fail("6", "bracket is complete")
	}
	cur, simID, done := g.stopTicks, g.stopSimID, g.stopDone
	if role == broker.TargetLeg {
		cur, simID, done = g.targetTicks, g.targetSimID, g.targetDone
	}
	if done {
		return fail("6", "bracket "+role.String()+" is complete")
	}
	if level != cur {
		return fail("3", fmt.Sprintf("level %d is not the bracket's %s level (%d)", level, role, cur))
	}
	if ticks <= 0 {
		return fail("3", "ticks must be positive")
	}
	stop, target := exits(b.order.Side, g.anchor, ticks, ticks)
	var err error
	if role == broker.StopLeg {
		err = v.sim.Modify(bg, account, simID, market.NoPrice, stop)
	} else {
		err = v.sim.Modify(bg, account, simID, target, market.NoPrice)
	}
	if err != nil {
		return rpOf(err)
	}
	if role == broker.StopLeg {
		g.stopTicks = ticks
	} else {
		g.targetTicks = ticks
	}
	v.bracketNote(g)
	return ok
}

func (v *Venue) exitPosition(c *conn, r *rpb.RequestExitPosition, um []string) {
	answer := func(rp []string) {
		c.reply(rpb.TExitPositionResponse, &rpb.ResponseExitPosition{UserMsg: um, RpCode: rp, Symbol: r.Symbol, Exchange: r.Exchange})
	}
	if _, known := v.acct[r.AccountId]; !known {
		answer(fail("3", "unknown account"))
		return
	}
	if (r.Symbol != "" || r.Exchange != "") && (r.Symbol != v.cfg.Symbol || r.Exchange != v.cfg.Exchange) {
		answer(fail("3", fmt.Sprintf("instrument %s.%s is not traded here", r.Symbol, r.Exchange)))
		return
	}
	// Exit position flattens at market; it does not cancel working orders
	// (the public sources do not say it does: assume it does not).
	if err := v.flattenLocked(r.AccountId, r.WindowName, "", r.ManualOrAuto); err != nil {
		answer(rpOf(err))
		return
	}
	answer(ok)
	v.applyLocked()
}

// deskID is the id a client knows an engine order by: its user tag (for
// bracket exits the leg's id in the entry's tag), or "liquidate.ACCOUNT.
// BASKET" for an order the venue made itself.
func deskID(b *basket, role broker.Role) (id, group string) {
	if b == nil {
		return "", ""
	}
	if b.userTag == "" && b.window == RMSWindow {
		return "rms." + b.account + "." + b.id, ""
	}
	if b.userTag == "" {
		return "liquidate." + b.account + "." + b.id, ""
	}
	entry, stop, target := SplitTag(b.userTag)
	switch role {
	case broker.StopLeg:
		return stop, entry
	case broker.TargetLeg:
		return target, entry
	case broker.EntryLeg:
		return entry, entry
	}
	return entry, ""
}

// SplitTag reads a user_tag as the desk's connector writes it: a single
// order's id, or a bracket's "ENTRY|STOP|TARGET" ("ENTRY|b" when the legs
// are ENTRY.stop and ENTRY.target). It is here so that the venue can say
// what happened in the clients' terms; the venue itself never relies on
// it.
func SplitTag(tag string) (entry, stop, target string) {
	parts := strings.Split(tag, "|")
	switch {
	case len(parts) == 2 && parts[1] == "b":
		return parts[0], parts[0] + ".stop", parts[0] + ".target"
	case len(parts) == 3:
		return parts[0], parts[1], parts[2]
	}
	return tag, tag + ".stop", tag + ".target"
}

// applyLocked drains the engine and turns each event into records and
// notifications, then runs the follow-ups the events asked for.
func (v *Venue) applyLocked() {
	for {
		evs := v.sim.Drain()
		if len(evs) == 0 {
			if len(v.pending) == 0 {
				if v.rmsCheckLocked() {
					continue // its cancels and flattening orders
				}
				v.rmsFlushLocked()
				return
			}
			fs := v.pending
			v.pending = nil
			for _, f := range fs {
				f()
			}
			continue
		}
		touched := map[string]bool{}
		for _, ev := range evs {
			if v.apply(ev) {
				touched[ev.Account] = true
			}
		}
		for _, a := range sortedKeys(touched) {
			v.pnlPushLocked(a)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// apply records one engine event and sends its notifications. It reports
// whether a fill changed the account's position.
func (v *Venue) apply(ev broker.Event) (filled bool) {
	k := simKey{ev.Account, ev.ClientID}
	b := v.bySim[k]
	l := v.legs[k]
	if l != nil {
		b = l.g.child(l.role)
	}
	// The record, in the clients' terms.
	rec := ev
	switch {
	case l != nil:
		rec.ClientID, rec.GroupID = deskID(l.g.entry, l.role)
	case b != nil:
		rec.ClientID, rec.GroupID = deskID(b, b.role)
	}
	v.history = append(v.history, rec)

	switch ev.Kind {
	case broker.Accepted:
		if l != nil || b == nil {
			return false // a pending exit: it exists only as the bracket's level (353)
		}
		b.status, b.ts = statusOf(b, false), ev.Time
		v.rithmicNoteLocked(b, rpb.RithmicNotifyType_ORDER_RCVD_FROM_CLNT, ev.Time, "")
		v.rithmicNoteLocked(b, rpb.RithmicNotifyType_OPEN_PENDING, ev.Time, "")
		v.rithmicNoteLocked(b, rpb.RithmicNotifyType_OPEN, ev.Time, "")
		v.exchangeNoteLocked(b, rpb.ExchangeNotifyType_EXCH_STATUS, ev.Time, "")
		if b.grp != nil {
			v.bracketNote(b.grp)
		}
	case broker.Modified:
		if l != nil && b == nil {
			b = v.armLocked(l, ev)
			return false
		}
		if b == nil {
			return false
		}
		v.refreshLocked(b, ev.Time)
		v.exchangeNoteLocked(b, rpb.ExchangeNotifyType_EXCH_MODIFY, ev.Time, ev.Reason)
		v.rithmicNoteLocked(b, rpb.RithmicNotifyType_MODIFIED, ev.Time, ev.Reason)
		if l != nil {
			v.released(l, ev)
		}
	case broker.TriggeredEv:
		if b == nil {
			return false
		}
		b.status, b.ts = "open", ev.Time
		v.exchangeNoteLocked(b, rpb.ExchangeNotifyType_EXCH_TRIGGER, ev.Time, ev.Reason)
	case broker.PartiallyFilled, broker.FilledEv:
		if b == nil {
			return false
		}
		b.filled += ev.FillQty
		b.cost += ev.FillQty * int64(ev.FillPrice)
		b.ts = ev.Time
		a := v.acct[ev.Account]
		if ev.Side == market.Buy {
			a.bought += ev.FillQty
		} else {
			a.sold += ev.FillQty
		}
		v.nextFill++
		n := v.exchangeNote(b, rpb.ExchangeNotifyType_EXCH_FILL, ev.Time)
		n.FillPrice, n.FillSize, n.FillId = points(ev.FillPrice), int32(ev.FillQty), "F"+strconv.FormatInt(v.nextFill, 10)
		n.ReportType, n.Status = "fill", "open"
		if ev.Kind == broker.FilledEv {
			b.status, b.done = "complete", true
			n.Status = "complete"
		}
		n.TotalFillSize, n.TotalUnfilledSize = int32(b.filled), int32(max(0, b.qty-b.filled))
		n.AvgFillPrice = float64(b.cost) / float64(b.filled) / market.TicksPerPoint
		v.fills[b.account] = append(v.fills[b.account], proto.Clone(n).(*rpb.ExchangeOrderNotification))
		v.pushOrderLocked(b.account, rpb.TExchangeOrderNotification, n, false)
		if ev.Kind == broker.FilledEv {
			v.rithmicNoteLocked(b, rpb.RithmicNotifyType_COMPLETE, ev.Time, "Fill")
		}
		if g := b.grp; g != nil && b.role == broker.EntryLeg && !g.anchored {
			g.anchored = true
			if ev.FillPrice != g.anchor {
				g.anchor = ev.FillPrice
				v.pending = append(v.pending, func() { v.reanchorLocked(g) })
			}
		}
		filled = true
	case broker.CancelledEv, broker.ExpiredEv:
		if l != nil && b == nil {
			// A pending exit ends with its entry.
			if l.role == broker.StopLeg {
				l.g.stopDone = true
			} else {
				l.g.targetDone = true
			}
			v.closeGroup(l.g)
			return false
		}
		if b == nil {
			return false
		}
		reason := "Cancel"
		b.status = "cancelled"
		if ev.Kind == broker.ExpiredEv {
			reason, b.status = "Expire", "expired"
		}
		b.done, b.ts = true, ev.Time
		v.exchangeNoteLocked(b, rpb.ExchangeNotifyType_EXCH_CANCEL, ev.Time, ev.Reason)
		v.rithmicNoteLocked(b, rpb.RithmicNotifyType_COMPLETE, ev.Time, reason)
	}
	if l != nil && b != nil && b.done {
		if l.role == broker.StopLeg {
			l.g.stopDone = true
		} else {
			l.g.targetDone = true
		}
		v.closeGroup(l.g)
	}
	return filled
}

// closeGroup marks a bracket complete once both exits are.
func (v *Venue) closeGroup(g *group) {
	if g.stopDone && g.targetDone && !g.closed {
		g.closed = true
		v.bracketNote(g)
	}
}

// armLocked makes a bracket exit an order of its own: the entry's first
// fill releases it.
func (v *Venue) armLocked(l *leg, ev broker.Event) *basket {
	g := l.g
	simID := g.stopSimID
	if l.role == broker.TargetLeg {
		simID = g.targetSimID
	}
	st, err := v.sim.Order(ev.Account, simID)
	if err != nil {
		v.log.Error("rithmic venue: bracket exit", "err", err)
		return nil
	}
	v.nextID++
	b := &basket{id: strconv.FormatInt(v.nextID+1_000_000, 10), account: ev.Account, simID: simID, userTag: g.entry.userTag,
		window: g.entry.window, role: l.role, grp: g, order: st.Order, qty: st.Qty, ts: ev.Time}
	b.status = statusOf(b, false)
	v.baskets[b.id] = b
	v.order = append(v.order, b)
	if l.role == broker.StopLeg {
		g.stop = b
	} else {
		g.target = b
	}
	v.rithmicNoteLocked(b, rpb.RithmicNotifyType_OPEN, ev.Time, "")
	v.exchangeNoteLocked(b, rpb.ExchangeNotifyType_EXCH_STATUS, ev.Time, "")
	v.released(l, ev)
	return b
}

func (v *Venue) released(l *leg, ev broker.Event) {
	b := l.g.child(l.role)
	if b == nil {
		return
	}
	if l.role == broker.StopLeg {
		l.g.stopArmed = b.qty
	} else {
		l.g.targetArmed = b.qty
	}
	v.bracketNote(l.g)
}

// refreshLocked takes an order's quantity and prices from the engine.
func (v *Venue) refreshLocked(b *basket, ts int64) {
	st, err := v.sim.Order(b.account, b.simID)
	if err != nil {
		return
	}
	b.order.Price, b.order.StopPrice, b.qty, b.ts = st.Price, st.StopPrice, st.Qty, ts
}

// reanchorLocked moves a bracket's exits to its ticks from the entry's
// first fill price.
func (v *Venue) reanchorLocked(g *group) {
	stop, target := exits(g.entry.order.Side, g.anchor, g.stopTicks, g.targetTicks)
	if !g.stopDone {
		if err := v.sim.Modify(bg, g.entry.account, g.stopSimID, market.NoPrice, stop); err != nil {
			v.log.Warn("rithmic venue: bracket stop re-anchor", "err", err)
		}
	}
	if !g.targetDone {
		if err := v.sim.Modify(bg, g.entry.account, g.targetSimID, target, market.NoPrice); err != nil {
			v.log.Warn("rithmic venue: bracket target re-anchor", "err", err)
		}
	}
}

func statusOf(b *basket, triggered bool) string {
	if (b.order.Type == market.StopOrder || b.order.Type == market.StopLimitOrder) && !triggered {
		return "trigger pending"
	}
	return "open"
}

// note fields every order notification has.
func (v *Venue) exchangeNote(b *basket, kind rpb.ExchangeNotifyType, ts int64) *rpb.ExchangeOrderNotification {
	v.nextSeq++
	n := &rpb.ExchangeOrderNotification{UserTag: b.userTag, NotifyType: kind, Status: b.status, BasketId: b.id,
		FcmId: v.cfg.FCM, IbId: v.cfg.IB, UserId: v.cfg.User, AccountId: b.account, Symbol: v.cfg.Symbol, Exchange: v.cfg.Exchange,
		TradeRoute: v.cfg.TradeRoute, ExchangeOrderId: "X" + b.id, Quantity: int32(b.qty), TransactionType: txOf(b.order.Side),
		Duration: durationOf(b.order.TIF), PriceType: priceTypeOf(b.order.Type), TotalFillSize: int32(b.filled),
		TotalUnfilledSize: int32(max(0, b.qty-b.filled)), SequenceNumber: strconv.FormatInt(v.nextSeq, 10),
		WindowName: b.window, OriginatorWindowName: b.window, Ssboe: int32(ts / 1e9), Usecs: int32(ts % 1e9 / 1e3),
		SourceSsboe: int32(ts / 1e9), SourceUsecs: int32(ts % 1e9 / 1e3), SourceNsecs: int32(ts % 1e9)}
	n.ManualOrAuto = b.placement
	if b.grp != nil && b.grp.entry != nil && b.grp.entry != b {
		n.ManualOrAuto = b.grp.entry.placement // a bracket's exits: as their entry
	}
	if b.done {
		n.TotalUnfilledSize = 0
	}
	if b.order.Type == market.LimitOrder || b.order.Type == market.StopLimitOrder {
		n.Price = points(b.order.Price)
	}
	if b.order.Type == market.StopOrder || b.order.Type == market.StopLimitOrder {
		n.TriggerPrice = points(b.order.StopPrice)
	}
	if b.filled > 0 {
		n.AvgFillPrice = float64(b.cost) / float64(b.filled) / market.TicksPerPoint
	}
	switch {
	case b.role == broker.EntryLeg:
		n.BracketType = rpb.BracketType_BRACKET_TARGET_AND_STOP_STATIC
		n.LinkedBasketIds = linked(b.grp.stop, b.grp.target)
	case b.grp != nil:
		n.OriginalBasketId = b.grp.entry.id
		if sib := b.grp.child(other(b.role)); sib != nil {
			n.LinkedBasketIds = sib.id
		}
	}
	return n
}

func other(r broker.Role) broker.Role {
	if r == broker.StopLeg {
		return broker.TargetLeg
	}
	return broker.StopLeg
}

func linked(bs ...*basket) string {
	var ids []string
	for _, b := range bs {
		if b != nil {
			ids = append(ids, b.id)
		}
	}
	return strings.Join(ids, ",")
}

func (v *Venue) exchangeNoteLocked(b *basket, kind rpb.ExchangeNotifyType, ts int64, text string) {
	n := v.exchangeNote(b, kind, ts)
	n.Text = text
	switch kind {
	case rpb.ExchangeNotifyType_EXCH_STATUS:
		n.ReportType, n.ConfirmedSize = "status", int32(b.qty)
	case rpb.ExchangeNotifyType_EXCH_MODIFY:
		n.ReportType = "modify"
	case rpb.ExchangeNotifyType_EXCH_CANCEL:
		n.ReportType, n.CancelledSize = "cancel", int32(max(0, b.qty-b.filled))
	case rpb.ExchangeNotifyType_EXCH_TRIGGER:
		n.ReportType = "trigger"
	}
	v.pushOrderLocked(b.account, rpb.TExchangeOrderNotification, n, false)
}

func (v *Venue) rithmicNoteLocked(b *basket, kind rpb.RithmicNotifyType, ts int64, reason string) {
	x := v.exchangeNote(b, 0, ts)
	n := &rpb.RithmicOrderNotification{UserTag: x.UserTag, NotifyType: kind, Status: x.Status, BasketId: x.BasketId,
		OriginalBasketId: x.OriginalBasketId, LinkedBasketIds: x.LinkedBasketIds, FcmId: x.FcmId, IbId: x.IbId, UserId: x.UserId,
		AccountId: x.AccountId, Symbol: x.Symbol, Exchange: x.Exchange, TradeRoute: x.TradeRoute, ExchangeOrderId: x.ExchangeOrderId,
		Quantity: x.Quantity, Price: x.Price, TriggerPrice: x.TriggerPrice, TransactionType: x.TransactionType, Duration: x.Duration,
		PriceType: x.PriceType, BracketType: x.BracketType, AvgFillPrice: x.AvgFillPrice, TotalFillSize: x.TotalFillSize,
		TotalUnfilledSize: x.TotalUnfilledSize, SequenceNumber: x.SequenceNumber, WindowName: x.WindowName,
		OriginatorWindowName: x.OriginatorWindowName, ManualOrAuto: x.ManualOrAuto, Ssboe: x.Ssboe, Usecs: x.Usecs}
	switch kind {
	case rpb.RithmicNotifyType_ORDER_RCVD_FROM_CLNT, rpb.RithmicNotifyType_OPEN_PENDING:
		n.Status = "open pending"
	case rpb.RithmicNotifyType_COMPLETE:
		n.Status, n.CompletionReason = "complete", reason
	case rpb.RithmicNotifyType_MODIFIED:
		n.Text = reason
	}
	v.pushOrderLocked(b.account, rpb.TRithmicOrderNotification, n, true)
}

// bracketNote sends a bracket's levels (353) to the account's bracket
// update subscribers.
func (v *Venue) bracketNote(g *group) {
	n := &rpb.BracketUpdates{FcmId: v.cfg.FCM, IbId: v.cfg.IB, AccountId: g.entry.account, BasketId: g.entry.id,
		StopTicks: g.stopTicks, StopQuantity: int32(g.entry.order.Qty), StopQuantityReleased: int32(g.stopArmed),
		TargetTicks: g.targetTicks, TargetQuantity: int32(g.entry.order.Qty), TargetQuantityReleased: int32(g.targetArmed)}
	if g.closed {
		n.StopQuantity, n.TargetQuantity = 0, 0
	}
	b, err := rpb.Frame(rpb.TBracketUpdates, n)
	if err != nil {
		return
	}
	for c := range v.conns {
		if c.plant == Order && c.brackets[g.entry.account] {
			c.send(b)
		}
	}
}

// pushOrderLocked sends one notification to every order plant session
// subscribed to the account; late: a 351, subject to LateNotifications.
func (v *Venue) pushOrderLocked(account string, tpl int32, m proto.Message, late bool) {
	var b []byte
	for c := range v.conns {
		if c.plant != Order || !c.orders[account] {
			continue
		}
		if b == nil {
			var err error
			if b, err = rpb.Frame(tpl, m); err != nil {
				v.log.Error("rithmic venue: encode", "template", tpl, "err", err)
				return
			}
		}
		if late {
			c.sendLateLocked(b)
		} else {
			c.send(b)
		}
	}
}
