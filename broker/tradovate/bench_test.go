// This file measures, on loopback against the in-process venue: intent →
// venue acknowledgment (SubmitOrder until its Accepted event arrives), and
// liquidate → flat confirmed for 20 accounts (20 liquidateposition calls,
// the next trade, until every liquidation fill has arrived). Both report
// p50/p99 from an HDR histogram.

package tradovate_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/tradovate"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/market"
)

func report(b *testing.B, h *hdrhistogram.Histogram) {
	b.ReportMetric(float64(h.ValueAtQuantile(50))/1e3, "p50_µs")
	b.ReportMetric(float64(h.ValueAtQuantile(99))/1e3, "p99_µs")
}

func BenchmarkIntentToAck(b *testing.B) {
	v, stop := startVenue(b, venue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dial(b, v)
	defer c.Close()
	ctx := context.Background()
	now := int64(1_710_250_200_000_000_000)
	v.Trade(market.Trade{Time: now, Price: market.MustPrice("5100.00"), Size: 1})
	h := hdrhistogram.New(1, int64(10*time.Second), 3)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := fmt.Sprintf("o%d", i)
		start := time.Now()
		if err := c.SubmitOrder(ctx, broker.Order{ClientID: id, Account: "A", Side: market.Buy, Qty: 1,
			Type: market.LimitOrder, Price: market.MustPrice("5090.00"), TIF: broker.Day}); err != nil {
			b.Fatal(err)
		}
		for ev := range c.Events() {
			if ev.ClientID == id && ev.Kind == broker.Accepted {
				break
			}
		}
		_ = h.RecordValue(time.Since(start).Nanoseconds())
	}
	b.StopTimer()
	report(b, h)
}

func BenchmarkLiquidate20Accounts(b *testing.B) {
	accts := make([]string, 20)
	for i := range accts {
		accts[i] = fmt.Sprintf("acct%02d", i)
	}
	v, stop := startVenue(b, venue.Config{Accounts: accts})
	defer stop()
	c := dial(b, v)
	defer c.Close()
	ctx := context.Background()
	now := int64(1_710_250_200_000_000_000)
	px := market.MustPrice("5100.00")
	tick := func() {
		now += int64(time.Millisecond)
		v.Trade(market.Trade{Time: now, Price: px, Size: 1000})
	}
	tick()
	h := hdrhistogram.New(1, int64(60*time.Second), 3)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for _, a := range accts { // every account long 2 with a working bracket
			e := fmt.Sprintf("%s.e%d", a, i)
			if err := c.SubmitBracket(ctx, broker.Bracket{
				Entry: broker.Order{ClientID: e, Account: a, Side: market.Buy, Qty: 2, Type: market.MarketOrder, TIF: broker.Day},
				Stop:  broker.Order{ClientID: e + ".s", Side: market.Sell, Type: market.StopOrder, StopPrice: px - 40, TIF: broker.GTC},
				Target: broker.Order{ClientID: e + ".t", Side: market.Sell, Type: market.LimitOrder, Price: px + 40,
					TIF: broker.GTC},
			}); err != nil {
				b.Fatal(err)
			}
		}
		tick()
		waitFor(b, c, func(ev broker.Event) bool { return ev.Kind == broker.Modified && ev.Role == broker.TargetLeg }, len(accts))
		b.StartTimer()
		start := time.Now()
		var wg sync.WaitGroup
		for _, a := range accts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.Liquidate(ctx, a); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
		tick() // the flattening market orders fill at the next trade
		waitFor(b, c, func(ev broker.Event) bool {
			return ev.Kind == broker.FilledEv && len(ev.ClientID) > 10 && ev.ClientID[:10] == "liquidate."
		}, len(accts))
		_ = h.RecordValue(time.Since(start).Nanoseconds())
	}
	b.StopTimer()
	for _, p := range v.Positions() {
		if p.Qty != 0 {
			b.Fatalf("%s not flat: %+v", p.Account, p)
		}
	}
	report(b, h)
}

// waitFor reads events until n of them match.
func waitFor(b *testing.B, c interface{ Events() <-chan broker.Event }, ok func(broker.Event) bool, n int) {
	b.Helper()
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	for n > 0 {
		select {
		case ev := <-c.Events():
			if ok(ev) {
				n--
			}
		case <-timer.C:
			b.Fatalf("timed out with %d events to go", n)
		}
	}
}

// BenchmarkLiquidateAccounts20 is BenchmarkLiquidate20Accounts with one
// order/liquidatepositions request for the 20 accounts instead of 20
// liquidateposition calls: each account's orders cancelled first (the
// request is not documented to cancel them), then the one request, the
// next trade, until every liquidation fill has arrived.
func BenchmarkLiquidateAccounts20(b *testing.B) {
	accts := make([]string, 20)
	for i := range accts {
		accts[i] = fmt.Sprintf("acct%02d", i)
	}
	v, stop := startVenue(b, venue.Config{Accounts: accts})
	defer stop()
	c := dial(b, v)
	defer c.Close()
	ctx := context.Background()
	now := int64(1_710_250_200_000_000_000)
	px := market.MustPrice("5100.00")
	tick := func() {
		now += int64(time.Millisecond)
		v.Trade(market.Trade{Time: now, Price: px, Size: 1000})
	}
	tick()
	h := hdrhistogram.New(1, int64(60*time.Second), 3)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for _, a := range accts {
			e := fmt.Sprintf("%s.e%d", a, i)
			if err := c.SubmitBracket(ctx, broker.Bracket{
				Entry: broker.Order{ClientID: e, Account: a, Side: market.Buy, Qty: 2, Type: market.MarketOrder, TIF: broker.Day},
				Stop:  broker.Order{ClientID: e + ".s", Side: market.Sell, Type: market.StopOrder, StopPrice: px - 40, TIF: broker.GTC},
				Target: broker.Order{ClientID: e + ".t", Side: market.Sell, Type: market.LimitOrder, Price: px + 40,
					TIF: broker.GTC},
			}); err != nil {
				b.Fatal(err)
			}
		}
		tick()
		waitFor(b, c, func(ev broker.Event) bool { return ev.Kind == broker.Modified && ev.Role == broker.TargetLeg }, len(accts))
		b.StartTimer()
		start := time.Now()
		if err := c.LiquidateAccounts(ctx, accts); err != nil {
			b.Fatal(err)
		}
		tick()
		waitFor(b, c, func(ev broker.Event) bool {
			return ev.Kind == broker.FilledEv && len(ev.ClientID) > 10 && ev.ClientID[:10] == "liquidate."
		}, len(accts))
		_ = h.RecordValue(time.Since(start).Nanoseconds())
	}
	b.StopTimer()
	for _, p := range v.Positions() {
		if p.Qty != 0 {
			b.Fatalf("%s not flat: %+v", p.Account, p)
		}
	}
	report(b, h)
}

// BenchmarkSilenceNoticed: the venue's user socket goes silent (open, but
// nothing on it, heartbeats included); time until the connector has
// marked its link down. The venue heartbeats every 50 ms and the
// connector's silence bound is 250 ms here (defaults: 2.5 s and 5 s): a
// silent server is noticed between bound − heartbeat and bound after it
// fell silent.
func BenchmarkSilenceNoticed(b *testing.B) {
	v, stop := startVenue(b, venue.Config{Accounts: []string{"A"}, HeartbeatEvery: 50 * time.Millisecond})
	defer stop()
	c := dialOpts(b, v, tradovate.Options{SilenceTimeout: 250 * time.Millisecond})
	ctx := context.Background()
	h := hdrhistogram.New(1, int64(60*time.Second), 3)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := c.Syncs()
		start := time.Now()
		v.SilenceSockets()
		if err := c.WaitConnected(ctx, false); err != nil {
			b.Fatal(err)
		}
		_ = h.RecordValue(time.Since(start).Nanoseconds())
		b.StopTimer()
		if err := c.WaitSynced(ctx, n+1); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	report(b, h)
}
