// account.go: one account at the venue: its orders, its position as FIFO
// lots, and realized PnL in ticks×contracts.
package sim

import (
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

type account struct {
	id       string
	orders   map[string]*order
	list     []*order // submission order, for deterministic CancelAll/Liquidate
	pos      int64    // signed
	lots     []lot    // open lots, oldest first, all on the side of pos
	cost     int64    // Σ signed qty × price over lots
	realized int64
	liqN     int
}

type lot struct {
	qty   int64
	price market.Price
}

func newAccount(id string) *account {
	return &account{id: id, orders: make(map[string]*order)}
}

// apply books one fill: it closes open lots FIFO, then opens the rest.
func (a *account) apply(side market.Side, qty int64, price market.Price) {
	sg := side.Sign()
	for qty > 0 && a.pos != 0 && (a.pos > 0) != (sg > 0) {
		l := &a.lots[0]
		n := min(qty, l.qty)
		// Closing a long by selling: (price - open) per contract; a short: (open - price).
		a.realized += int64(price-l.price) * n * -sg
		a.cost -= int64(l.price) * n * -sg
		a.pos += sg * n
		l.qty -= n
		qty -= n
		if l.qty == 0 {
			a.lots = a.lots[1:]
		}
	}
	if qty > 0 {
		a.lots = append(a.lots, lot{qty, price})
		a.pos += sg * qty
		a.cost += int64(price) * qty * sg
	}
	if a.pos == 0 {
		a.lots = a.lots[:0]
	}
}

func (a *account) position() broker.Position {
	p := broker.Position{Account: a.id, Qty: a.pos, CostTick: a.cost, Realized: a.realized}
	if a.pos != 0 {
		p.AvgPrice = roundDiv(a.cost, a.pos)
	}
	return p
}

// roundDiv returns num/den rounded half away from zero, as a price.
func roundDiv(num, den int64) market.Price {
	if den < 0 {
		num, den = -num, -den
	}
	if num >= 0 {
		return market.Price((num + den/2) / den)
	}
	return market.Price(-((-num + den/2) / den))
}
