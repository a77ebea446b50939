// rebook_test.go: Rebook books a fill list from flat (FIFO) and leaves
// orders alone.
package sim

import (
	"context"
	"errors"
	"testing"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

func TestRebook(t *testing.T) {
	s, err := New(Config{Accounts: []string{"A"}, Synchronous: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s.OnTrade(market.Trade{Time: 1, Price: 20000, Size: 1})
	if err := s.SubmitOrder(ctx, broker.Order{ClientID: "l", Account: "A", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: 19990, TIF: broker.GTC}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		fills      []Fill
		qty, cost  int64
		realized   int64
		wantErr    error
		wantUnchgd bool
	}{
		{name: "carried long", fills: []Fill{{market.Buy, 2, 20000}}, qty: 2, cost: 40000},
		{name: "carried then a partial close", fills: []Fill{{market.Buy, 2, 20000}, {market.Sell, 1, 20010}}, qty: 1, cost: 20000, realized: 10},
		{name: "busted close: the close removed", fills: []Fill{{market.Buy, 2, 20000}}, qty: 2, cost: 40000},
		{name: "short through flat", fills: []Fill{{market.Sell, 1, 20000}, {market.Buy, 3, 19996}}, qty: 2, cost: 39992, realized: 4},
		{name: "flat", fills: nil},
		{name: "bad fill refused, position kept", fills: []Fill{{market.Buy, 0, 20000}}, wantErr: broker.ErrInvalid, wantUnchgd: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, _ := s.Position("A")
			err := s.Rebook("A", c.fills)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
			p, _ := s.Position("A")
			if c.wantUnchgd {
				if p != before {
					t.Fatalf("position changed by a refused rebook: %+v → %+v", before, p)
				}
				return
			}
			if p.Qty != c.qty || p.CostTick != c.cost || p.Realized != c.realized {
				t.Fatalf("position %+v, want qty %d cost %d realized %d", p, c.qty, c.cost, c.realized)
			}
		})
	}
	if err := s.Rebook("Z", nil); !errors.Is(err, broker.ErrUnknownAccount) {
		t.Fatalf("unknown account: %v", err)
	}
	open, _ := s.OpenOrders(ctx, "A")
	if len(open) != 1 || open[0].ClientID != "l" {
		t.Fatalf("orders touched by rebook: %+v", open)
	}
}
