// rebook.go: Rebook, which replaces an account's position with the one a
// given list of fills makes. It touches only the account's position, lots
// and realized PnL; orders are left as they are.
package sim

import (
	"fmt"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

// Fill is one fill as Rebook books it.
type Fill struct {
	Side  market.Side
	Qty   int64
	Price market.Price
}

// Rebook sets the account's position, open lots and realized PnL to what
// the fills make when booked in order (FIFO, as every fill is booked),
// from flat. Working orders are untouched: an exchange that busts or
// corrects a trade does not resize the orders it armed. A venue emulator
// uses it for a position carried from an earlier trade date (one fill at
// the carry price) and for trade busts and corrections (the day's fills
// without the busted one, or with the corrected one).
func (s *Sim) Rebook(account string, fills []Fill) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accts[account]
	if a == nil {
		return fmt.Errorf("sim: rebook %q: %w", account, broker.ErrUnknownAccount)
	}
	for i, f := range fills {
		if f.Qty <= 0 || f.Price <= 0 || (f.Side != market.Buy && f.Side != market.Sell) {
			return fmt.Errorf("sim: rebook %q: fill %d (%v %d @ %d): %w", account, i, f.Side, f.Qty, f.Price, broker.ErrInvalid)
		}
	}
	a.pos, a.lots, a.cost, a.realized = 0, nil, 0, 0
	for _, f := range fills {
		a.apply(f.Side, f.Qty, f.Price)
	}
	return nil
}
