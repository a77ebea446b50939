// This file reads the venue's orders and positions over REST. List
// answers are cut to a number of entities that the server chooses and
// changes ("there is no 'hard-cap' on request rate or data size limits",
// example-api-faq docs/HowDoesTradovateLimitRequestsAndData.md) and say
// nothing when they are cut, so no answer is taken as complete: every
// entity the user sync says exists is asked for by id (/items, in chunks,
// again for what a chunk left out), and the narrower /deps and /ldeps
// are used where the swagger has them (orders and positions by account,
// versions by order).

package tradovate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

// itemsChunk is how many ids one /items request asks for.
const itemsChunk = 50

func joinIDs(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}

// fetchItems gets the entities with these ids from /ENTITY/items, asking
// again, in halves, for the ids an answer left out, down to single
// /ENTITY/item requests; an id the venue answers 404 for is gone.
func fetchItems[T any](ctx context.Context, c *Client, entity string, ids []int64, idOf func(T) int64) ([]T, error) {
	var out []T
	todo := append([]int64(nil), ids...)
	chunk := itemsChunk
	for len(todo) > 0 {
		n := min(chunk, len(todo))
		part := todo[:n]
		if n == 1 {
			var one T
			err := c.rest.call(ctx, http.MethodGet, "/"+entity+"/item?id="+strconv.FormatInt(part[0], 10), nil, &one, callOpts{safe: true})
			var ae *APIError
			switch {
			case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
			case err != nil:
				return nil, fmt.Errorf("tradovate: %s/item: %w", entity, err)
			default:
				out = append(out, one)
			}
			todo = todo[1:]
			continue
		}
		var got []T
		if err := c.rest.call(ctx, http.MethodGet, "/"+entity+"/items?ids="+joinIDs(part), nil, &got, callOpts{safe: true}); err != nil {
			return nil, fmt.Errorf("tradovate: %s/items: %w", entity, err)
		}
		have := map[int64]bool{}
		for _, g := range got {
			have[idOf(g)] = true
		}
		out = append(out, got...)
		var left []int64
		for _, id := range part {
			if !have[id] {
				left = append(left, id)
			}
		}
		todo = append(left, todo[n:]...)
		if len(left) > 0 {
			chunk = max(1, len(left)/2) // the answer was cut: ask for less
		}
	}
	return out, nil
}

// OpenOrders returns the account's orders that can still trade, read from
// the venue: order/deps (the account's orders, maybe cut short)
// completed by order/items for every order the user sync knows to be
// open, and the latest version of each (orderVersion/ldeps, completed by
// orderVersion/deps). ClientIDs, roles and fills are the connector's.
func (c *Client) OpenOrders(ctx context.Context, account string) ([]broker.OrderState, error) {
	id, err := c.account(account)
	if err != nil {
		return nil, err
	}
	var listed []orderEnt
	if err := c.rest.call(ctx, http.MethodGet, "/order/deps?masterid="+strconv.FormatInt(id, 10), nil, &listed, callOpts{safe: true}); err != nil {
		return nil, fmt.Errorf("tradovate: open orders: order/deps: %w", err)
	}
	byID := map[int64]orderEnt{}
	for _, o := range listed {
		if o.AccountID == id {
			byID[o.ID] = o
		}
	}
	c.mu.Lock()
	var missing []int64
	for oid, o := range c.orders {
		if o.account == account && !o.status.Done() {
			if _, ok := byID[oid]; !ok {
				missing = append(missing, oid)
			}
		}
	}
	c.mu.Unlock()
	sort.Slice(missing, func(i, j int) bool { return missing[i] < missing[j] })
	more, err := fetchItems(ctx, c, "order", missing, func(o orderEnt) int64 { return o.ID })
	if err != nil {
		return nil, fmt.Errorf("tradovate: open orders: %w", err)
	}
	for _, o := range more {
		if o.AccountID == id {
			byID[o.ID] = o
		}
	}
	var open []int64
	for oid, o := range byID {
		if st := statusOf(o.OrdStatus); st != 0 && !st.Done() {
			open = append(open, oid)
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i] < open[j] })
	vers, err := c.versions(ctx, open)
	if err != nil {
		return nil, fmt.Errorf("tradovate: open orders: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]broker.OrderState, 0, len(open))
	for _, oid := range open {
		e := byID[oid]
		v := vers[oid]
		o := c.get(oid)
		if o.account == "" {
			o.account = account
			o.parentID = e.ParentID
			c.bind(o)
		}
		if !o.bound && !o.external && c.inflight[account] == 0 {
			c.settle(o) // named as its events will be
		}
		s := broker.OrderState{Order: broker.Order{ClientID: o.name(), Account: account, Side: sideOf(e.Action),
			Qty: v.OrderQty, Type: orderTypeOf(v.OrderType), TIF: tifOf(v.TimeInForce)}, Status: statusOf(e.OrdStatus),
			Role: o.role, GroupID: c.groupOf(o)}
		if s.Role == broker.Single && e.ParentID != 0 {
			s.Role = broker.StopLeg
			if s.Type == market.LimitOrder {
				s.Role = broker.TargetLeg
			}
		}
		if v.Price != nil {
			s.Price = ticksOf(*v.Price)
		}
		if v.StopPrice != nil {
			s.StopPrice = ticksOf(*v.StopPrice)
		}
		if o.filled > 0 {
			s.FilledQty = o.filled
			s.AvgPrice = market.Price((o.cost + o.filled/2) / o.filled)
		}
		if o.triggered && s.Status == broker.Working {
			s.Status = broker.Triggered
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ClientID < out[j].ClientID })
	return out, nil
}

// versions returns the latest order version of each order.
func (c *Client) versions(ctx context.Context, orders []int64) (map[int64]orderVersionEnt, error) {
	out := map[int64]orderVersionEnt{}
	if len(orders) == 0 {
		return out, nil
	}
	take := func(vs []orderVersionEnt) {
		for _, v := range vs {
			if cur, ok := out[v.OrderID]; !ok || v.ID >= cur.ID {
				out[v.OrderID] = v
			}
		}
	}
	for i := 0; i < len(orders); i += itemsChunk {
		var vs []orderVersionEnt
		part := orders[i:min(i+itemsChunk, len(orders))]
		if err := c.rest.call(ctx, http.MethodGet, "/orderVersion/ldeps?masterids="+joinIDs(part), nil, &vs, callOpts{safe: true}); err != nil {
			return nil, fmt.Errorf("orderVersion/ldeps: %w", err)
		}
		take(vs)
	}
	for _, id := range orders {
		if _, ok := out[id]; ok {
			continue
		}
		var vs []orderVersionEnt
		if err := c.rest.call(ctx, http.MethodGet, "/orderVersion/deps?masterid="+strconv.FormatInt(id, 10), nil, &vs, callOpts{safe: true}); err != nil {
			return nil, fmt.Errorf("orderVersion/deps: %w", err)
		}
		take(vs)
	}
	return out, nil
}

// Positions returns every configured account's position in the contract
// (an account with none is flat), sorted by account: position/list,
// completed by position/ldeps for the accounts it left out and by
// position/items for every position the user sync knows that both left
// out.
func (c *Client) Positions(ctx context.Context) ([]broker.Position, error) {
	var ps []positionEnt
	if err := c.rest.call(ctx, http.MethodGet, "/position/list", nil, &ps, callOpts{safe: true}); err != nil {
		return nil, fmt.Errorf("tradovate: positions: %w", err)
	}
	byDesk := map[string]positionEnt{}
	for _, p := range ps {
		desk, ok := c.acctDesk[p.AccountID]
		if !ok || p.ContractID != c.contractID {
			continue
		}
		byDesk[desk] = p
	}
	// The accounts the list left out, by account (position/ldeps), then
	// by id what the user sync knows and both left out.
	var absent []int64
	for desk, aid := range c.acctID {
		if _, ok := byDesk[desk]; !ok {
			absent = append(absent, aid)
		}
	}
	sort.Slice(absent, func(i, j int) bool { return absent[i] < absent[j] })
	for i := 0; i < len(absent); i += itemsChunk {
		var more []positionEnt
		part := absent[i:min(i+itemsChunk, len(absent))]
		if err := c.rest.call(ctx, http.MethodGet, "/position/ldeps?masterids="+joinIDs(part), nil, &more, callOpts{safe: true}); err != nil {
			return nil, fmt.Errorf("tradovate: positions: position/ldeps: %w", err)
		}
		for _, p := range more {
			if desk, ok := c.acctDesk[p.AccountID]; ok && p.ContractID == c.contractID {
				byDesk[desk] = p
			}
		}
	}
	c.mu.Lock()
	var missing []int64
	for aid, p := range c.positions {
		if _, ok := byDesk[c.acctDesk[aid]]; !ok {
			missing = append(missing, p.ID)
		}
	}
	c.mu.Unlock()
	sort.Slice(missing, func(i, j int) bool { return missing[i] < missing[j] })
	more, err := fetchItems(ctx, c, "position", missing, func(p positionEnt) int64 { return p.ID })
	if err != nil {
		return nil, fmt.Errorf("tradovate: positions: %w", err)
	}
	for _, p := range more {
		if desk, ok := c.acctDesk[p.AccountID]; ok && p.ContractID == c.contractID {
			byDesk[desk] = p
		}
	}
	out := make([]broker.Position, 0, len(c.acctID))
	for desk := range c.acctID {
		p, ok := byDesk[desk]
		if !ok {
			out = append(out, broker.Position{Account: desk})
			continue
		}
		out = append(out, positionOf(desk, p))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out, nil
}

// positionOf converts a position entity. The trade date's realized PnL is
// soldValue − boughtValue + netPos × netPrice − prevPos × prevPrice: what
// was carried in at prevPrice is not today's profit (leaving it out gave
// a carried position phantom realized PnL). netPrice, absent while only
// the carried part is held, is then prevPrice.
func positionOf(desk string, p positionEnt) broker.Position {
	prev, _ := pointsPtr(p.PrevPrice)
	price, ok := pointsPtr(p.NetPrice)
	netPts := 0.0
	switch {
	case ok:
		netPts = *p.NetPrice
	case p.PrevPrice != nil:
		netPts = *p.PrevPrice
		price = prev
	}
	cost := int64(0)
	if p.NetPos != 0 {
		cost = int64(ticksOf(float64(p.NetPos) * netPts))
	}
	prevCost := int64(0)
	if p.PrevPos != 0 && p.PrevPrice != nil {
		prevCost = int64(ticksOf(float64(p.PrevPos) * *p.PrevPrice))
	}
	realized := int64(ticksOf(p.SoldValue-p.BoughtValue)) + cost - prevCost
	out := broker.Position{Account: desk, Qty: p.NetPos, CostTick: cost, Realized: realized, PrevQty: p.PrevPos, PrevPrice: prev}
	if p.NetPos != 0 {
		out.AvgPrice = price
	}
	return out
}
