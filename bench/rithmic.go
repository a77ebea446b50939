package bench

// rithmic.go: R|Protocol. kill_flat_confirmed_20_rithmic is
// kill_flat_confirmed_20 over the R|Protocol venue (package
// broker/venue/rithmic) and the desk's Rithmic connector (broker/rithmic):
// 20 accounts each long 2 with a bracket held by the venue, liquidated in
// parallel (cancel all, then exit position), until every liquidation fill
// has come back over the order plant; the floor is the same liquidations
// of accounts already flat. rithmic_decode_last_trade is the feed's
// decoder: LastTrade frames (one per WebSocket message) to market.Trades
// with their aggressor, per second; the floor is one pass over the same
// frames' bytes.

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/rithmic"
	"github.com/deskguard/deskguard/broker/rithmic/rpb"
	rvenue "github.com/deskguard/deskguard/broker/venue/rithmic"
	"github.com/deskguard/deskguard/market"
)

func benchKillFlatRithmic(ctx context.Context, opt Options, _ string) (Figure, error) {
	ids := accountIDs()
	v, err := rvenue.New(rvenue.Config{Accounts: ids, Manual: true}, nil, opt.Log)
	if err != nil {
		return Figure{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Figure{}, err
	}
	vctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- v.Serve(vctx, ln) }()
	defer func() { cancel(); <-served }()
	select {
	case <-v.Ready():
	case err := <-served:
		return Figure{}, fmt.Errorf("venue stopped: %w", err)
	}
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	cfg := rithmic.Config{URL: v.URL(), SystemName: v.SystemName(), User: "demo", Symbol: "MESZ5"}
	creds := rithmic.Credentials{Password: "demo"}
	c, err := rithmic.Dial(dctx, cfg, creds, rithmic.Options{Log: opt.Log})
	if err != nil {
		return Figure{}, fmt.Errorf("connect to the local venue: %w", err)
	}
	defer c.Close()
	now := time.Date(2026, 3, 10, 10, 30, 0, 0, market.NewYork).UnixNano()
	px := market.MustPrice("5150.00")
	c.SetReference(px) // the market entries' brackets count from it (the feed would set it)
	tick := func() {
		now += int64(time.Millisecond)
		v.Trade(market.Trade{Time: now, Price: px, Size: 1000})
	}
	tick()
	liquidateAll := func() error {
		var wg sync.WaitGroup
		errs := make(chan error, len(ids))
		for _, a := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.Liquidate(ctx, a); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		return <-errs
	}
	n := pick(opt.Short, 2, 30)
	var samples, floor []float64
	for i := 0; i < n; i++ {
		t := time.Now()
		if err := liquidateAll(); err != nil {
			return Figure{}, err
		}
		floor = append(floor, float64(time.Since(t))/float64(time.Millisecond))
		for _, a := range ids {
			e := fmt.Sprintf("%s.e%d", a, i)
			if err := c.SubmitBracket(ctx, broker.Bracket{
				Entry:  broker.Order{ClientID: e, Account: a, Side: market.Buy, Qty: 2, Type: market.MarketOrder, TIF: broker.Day},
				Stop:   broker.Order{ClientID: e + ".s", Side: market.Sell, Type: market.StopOrder, StopPrice: px - 40, TIF: broker.GTC},
				Target: broker.Order{ClientID: e + ".t", Side: market.Sell, Type: market.LimitOrder, Price: px + 40, TIF: broker.GTC},
			}); err != nil {
				return Figure{}, err
			}
		}
		tick()
		if err := waitBrokerEvents(ctx, c, func(ev broker.Event) bool { return ev.Kind == broker.Modified && ev.Role == broker.TargetLeg }, len(ids)); err != nil {
			return Figure{}, fmt.Errorf("brackets armed: %w", err)
		}
		t = time.Now()
		if err := liquidateAll(); err != nil {
			return Figure{}, err
		}
		tick()
		if err := waitBrokerEvents(ctx, c, func(ev broker.Event) bool {
			return ev.Kind == broker.FilledEv && strings.HasPrefix(ev.ClientID, "liquidate.")
		}, len(ids)); err != nil {
			return Figure{}, fmt.Errorf("flat confirmed: %w", err)
		}
		samples = append(samples, float64(time.Since(t))/float64(time.Millisecond))
		drainBrokerEvents(c)
	}
	for _, p := range v.Positions() {
		if p.Qty != 0 {
			return Figure{}, fmt.Errorf("%s not flat after the kill: %+v", p.Account, p)
		}
	}
	f := figure("ms", samples, floor, false)
	f.What = "R|Protocol venue (package broker/venue/rithmic) on loopback via the desk's Rithmic connector: 20 accounts long 2 with brackets, " +
		"20 parallel liquidations (cancel all 346, exit position 3504) + the next trade, until every liquidation fill arrived on the order plant"
	f.Floor = "the same 20 parallel liquidations of accounts already flat (the order plant's round trips, nothing to fill)"
	f.Note = "measured at the connector (broker/rithmic.Client), not through a running desk"
	return f, nil
}

func benchDecodeRithmic(ctx context.Context, opt Options, _ string) (Figure, error) {
	const batch = 100_000
	frames := make([][]byte, 64)
	for i := range frames {
		m := &rpb.LastTrade{Symbol: "MESZ5", Exchange: "CME", PresenceBits: 9, TradePrice: 5123.75 + float64(i%8)/4,
			TradeSize: int32(1 + i%5), Aggressor: rpb.TransactionType(1 + i%2), Volume: uint64(100000 + i), Ssboe: 1772463600,
			Usecs: int32(i), SourceSsboe: 1772463600, SourceUsecs: int32(i), SourceNsecs: int32(i * 1000)}
		b, err := rpb.Frame(rpb.TLastTrade, m)
		if err != nil {
			return Figure{}, err
		}
		frames[i] = b
	}
	sym := []byte("MESZ5")
	var v rpb.TradeView
	var sink int64
	runs := pick(opt.Short, 3, 40)
	var samples, floor []float64
	var ms0, ms1 runtime.MemStats
	decoded := 0
	runtime.ReadMemStats(&ms0)
	for r := 0; r < runs; r++ {
		if err := ctx.Err(); err != nil {
			return Figure{}, err
		}
		t := time.Now()
		for i := 0; i < batch; i++ {
			tr, ok, err := rithmic.DecodeTradeFrame(frames[i&63], &v, sym)
			if err != nil || !ok {
				return Figure{}, fmt.Errorf("decode: %v", err)
			}
			sink += tr.Size
		}
		samples = append(samples, batch/time.Since(t).Seconds())
		decoded += batch
		t = time.Now()
		for i := 0; i < batch; i++ {
			for _, c := range frames[i&63] {
				sink += int64(c)
			}
		}
		floor = append(floor, batch/time.Since(t).Seconds())
	}
	runtime.ReadMemStats(&ms1)
	if sink == 0 {
		return Figure{}, fmt.Errorf("nothing decoded")
	}
	f := figure("frames/s", samples, floor, true)
	f.What = fmt.Sprintf("the Rithmic feed's decoder: one LastTrade frame (%d bytes, as one WebSocket message carries it) to a market.Trade "+
		"with its aggressor, %d frames a run", len(frames[0]), batch)
	f.Floor = "one pass summing the same frames' bytes"
	f.Note = fmt.Sprintf("%.4f heap allocations per frame over the runs (runtime.MemStats, both loops)", float64(ms1.Mallocs-ms0.Mallocs)/float64(decoded))
	return f, nil
}

// waitBrokerEvents reads a broker's events until n match (30 s at most).
func waitBrokerEvents(ctx context.Context, c broker.Broker, ok func(broker.Event) bool, n int) error {
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	for n > 0 {
		select {
		case ev, open := <-c.Events():
			if !open {
				return fmt.Errorf("event stream closed with %d to go", n)
			}
			if ok(ev) {
				n--
			}
		case <-timer.C:
			return fmt.Errorf("timed out with %d events to go", n)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func drainBrokerEvents(c broker.Broker) {
	for {
		select {
		case <-c.Events():
		default:
			return
		}
	}
}
