// bench_test.go: the sim's speed: orders matched per second, bracket round
// trips per second, and trades processed per second with 100 resting orders.
package sim_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/market"
)

func benchSim(b *testing.B, cfg sim.Config) *sim.Sim {
	b.Helper()
	cfg.Accounts, cfg.Synchronous = []string{"A"}, true
	s, err := sim.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	s.OnTrade(market.Trade{Time: day0, Price: P, Size: 1})
	return s
}

// BenchmarkOrdersMatched submits a market order and prints the trade that
// fills it: one op is one order accepted, matched and reported.
func BenchmarkOrdersMatched(b *testing.B) {
	s := benchSim(b, sim.Config{})
	ctx := context.Background()
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = fmt.Sprintf("o%d", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		side := market.Buy
		if i%2 == 1 {
			side = market.Sell
		}
		if err := s.SubmitOrder(ctx, broker.Order{ClientID: ids[i], Account: "A", Side: side, Qty: 1, Type: market.MarketOrder, TIF: broker.Day}); err != nil {
			b.Fatal(err)
		}
		s.OnTrade(market.Trade{Time: day0 + int64(i+1), Price: P + market.Price(i%4), Size: 1})
		if i%1024 == 0 {
			s.Drain()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
}

// BenchmarkBracketRoundTrip: one op is a bracket submitted, its entry
// filled, its target filled and its stop cancelled.
func BenchmarkBracketRoundTrip(b *testing.B) {
	s := benchSim(b, sim.Config{})
	ctx := context.Background()
	ids := make([][3]string, b.N)
	for i := range ids {
		e := fmt.Sprintf("e%d", i)
		ids[i] = [3]string{e, e + ".stop", e + ".target"}
	}
	b.ReportAllocs()
	b.ResetTimer()
	ts := day0
	for i := range b.N {
		br := broker.Bracket{
			Entry:  broker.Order{ClientID: ids[i][0], Account: "A", Side: market.Buy, Qty: 2, Type: market.LimitOrder, Price: P - 1, TIF: broker.Day},
			Stop:   broker.Order{ClientID: ids[i][1], Account: "A", Side: market.Sell, Qty: 2, Type: market.StopOrder, StopPrice: P - 8, TIF: broker.GTC},
			Target: broker.Order{ClientID: ids[i][2], Account: "A", Side: market.Sell, Qty: 2, Type: market.LimitOrder, Price: P + 4, TIF: broker.GTC},
		}
		if err := s.SubmitBracket(ctx, br); err != nil {
			b.Fatal(err)
		}
		ts++
		s.OnTrade(market.Trade{Time: ts, Price: P - 2, Size: 5})
		ts++
		s.OnTrade(market.Trade{Time: ts, Price: P + 5, Size: 5})
		ts++
		s.OnTrade(market.Trade{Time: ts, Price: P, Size: 1})
		if i%256 == 0 {
			s.Drain()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "brackets/s")
}

// BenchmarkOnTrade100Resting: trades oscillating ±5 ticks around P with
// 100 resting orders (limits, stops, stop-limits on both sides); ten buy
// limits sit at a traded price behind a queue that never clears, so the
// queue bookkeeping runs; nothing fills.
func BenchmarkOnTrade100Resting(b *testing.B) {
	s := benchSim(b, sim.Config{QueueAhead: 1 << 50})
	ctx := context.Background()
	n := 0
	add := func(o broker.Order) {
		n++
		o.ClientID, o.Account, o.TIF = fmt.Sprintf("r%d", n), "A", broker.GTC
		if err := s.SubmitOrder(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	for range 10 {
		add(broker.Order{Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: P - 5})
	}
	for i := range 20 {
		d := market.Price(10 + i)
		add(broker.Order{Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: P - d})
		add(broker.Order{Side: market.Sell, Qty: 1, Type: market.LimitOrder, Price: P + d})
		add(broker.Order{Side: market.Sell, Qty: 1, Type: market.StopOrder, StopPrice: P - d})
	}
	for i := range 30 {
		d := market.Price(10 + i)
		if i%2 == 0 {
			add(broker.Order{Side: market.Buy, Qty: 1, Type: market.StopOrder, StopPrice: P + d})
		} else {
			add(broker.Order{Side: market.Buy, Qty: 1, Type: market.StopLimitOrder, StopPrice: P + d, Price: P + d + 2})
		}
	}
	if n != 100 {
		b.Fatalf("%d resting orders", n)
	}
	s.Drain()
	prices := [...]market.Price{P, P + 1, P + 3, P + 5, P + 2, P - 1, P - 3, P - 5, P - 2, P - 4}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.OnTrade(market.Trade{Time: day0 + int64(i+1), Price: prices[i%len(prices)], Size: 3})
	}
	b.StopTimer()
	if evs := s.Drain(); len(evs) != 0 {
		b.Fatalf("resting orders traded: %v", evs[0])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "trades/s")
}
