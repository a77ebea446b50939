package bench

// kill.go: the kill path. kill_liquidate_sent_20: a desk of 20 accounts,
// each long one contract on the in-process matching engine, flattened with
// supervisor.Desk.FlattenReport; the figure is its TotalNs (trigger → the
// kill's record durable → every liquidate request returned); the floor is
// one durable append plus 20 goroutines spawned and joined around a no-op
// liquidate. kill_liquidate_sent_20_busy: the same kills while trades flow
// through the tick path and intents sit in their journal fsync; its floor
// is the idle figure, so its ratio is busy / idle. kill_flat_confirmed_20: the local venue emulator (package
// venue) on loopback and the desk's real connector (broker/tradovate): 20
// accounts each long 2 with a working bracket, liquidated in parallel,
// until every liquidation fill has come back over the WebSocket; the floor
// is the same 20 parallel liquidations of accounts already flat (the
// protocol's round trips, nothing to fill).

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/broker/tradovate"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
	"github.com/deskguard/deskguard/strategies"
	"github.com/deskguard/deskguard/supervisor"
)

const killAccounts = 20

func accountIDs() []string {
	ids := make([]string, killAccounts)
	for i := range ids {
		ids[i] = fmt.Sprintf("K%02d", i+1)
	}
	return ids
}

func benchKillSent(ctx context.Context, opt Options, dir string) (Figure, error) {
	ids := accountIDs()
	at := time.Date(2026, 3, 10, 10, 30, 0, 0, market.NewYork)
	clock := market.NewReplayClock(at)
	path := filepath.Join(dir, "kill.journal")
	defer os.Remove(path)
	j, err := journal.Open(path, journal.Options{Clock: clock})
	if err != nil {
		return Figure{}, err
	}
	defer j.Close()
	venue, err := sim.New(sim.Config{Accounts: ids, Synchronous: true})
	if err != nil {
		return Figure{}, err
	}
	defer venue.Close()
	var specs []supervisor.AccountSpec
	for _, id := range ids {
		specs = append(specs, supervisor.AccountSpec{Config: accounts.Config{ID: id, StartEquity: decimal.NewFromInt(50000)}, EnginesOff: true})
	}
	lim := limits.Config{}.WithDefaults()
	lim.MaxDataAge = 0
	d, err := supervisor.New(supervisor.Options{Clock: clock, Log: opt.Log, Journal: supervisor.JournalOf(j), Broker: venue,
		Limits: lim, Accounts: specs, Engines: strategies.DefaultConfig(), Schedule: supervisor.DefaultSchedule(),
		Workers: supervisor.InProcess})
	if err != nil {
		return Figure{}, err
	}
	if err := d.Start(ctx); err != nil {
		return Figure{}, err
	}
	px := market.MustPrice("5150.00")
	var mu sync.Mutex // the venue's trades and the bench's own steps, in order
	trade := func() {
		mu.Lock()
		defer mu.Unlock()
		now := clock.Now().Add(time.Millisecond)
		clock.Advance(now.UnixNano())
		t := market.Trade{Time: now.UnixNano(), Price: px, Size: 1000, Aggressor: market.Buy}
		venue.OnTrade(t)
		d.OnTrades(ctx, []market.Trade{t})
		for _, ev := range venue.Drain() {
			d.OnBrokerEvent(ctx, ev)
		}
	}
	trade()
	n := pick(opt.Short, 3, 60)
	round := 0
	// kills runs n kills of a desk whose accounts are each long 1, and
	// returns trigger → every liquidate request answered, the kill's
	// journal commit included, and the part after the commit.
	kills := func() (total, sent []float64, err error) {
		for i := 0; i < n; i++ {
			round++
			for _, id := range ids { // every account long 1
				if err := venue.SubmitOrder(ctx, broker.Order{ClientID: fmt.Sprintf("%s.b%d", id, round), Account: id, Side: market.Buy,
					Qty: 1, Type: market.MarketOrder, TIF: broker.Day}); err != nil {
					return nil, nil, err
				}
			}
			trade()
			rep, err := d.FlattenReport(ctx, "", "bench", "deskguard bench")
			if err != nil {
				return nil, nil, err
			}
			if rep.Accounts != killAccounts || len(rep.Failed) > 0 || rep.JournalErr != nil {
				return nil, nil, fmt.Errorf("kill reached %d accounts, want %d (failed %v, journal %v)", rep.Accounts, killAccounts, rep.Failed, rep.JournalErr)
			}
			total = append(total, float64(rep.TotalNs)/float64(time.Microsecond))
			sent = append(sent, float64(rep.SentNs)/float64(time.Microsecond))
			trade() // the liquidations fill; the desk sees every account flat
			if err := d.Rearm(ctx, "deskguard bench", "next round"); err != nil {
				return nil, nil, fmt.Errorf("round %d: re-arm: %w", round, err)
			}
		}
		return total, sent, nil
	}
	idle, idleSent, err := kills()
	if err != nil {
		return Figure{}, err
	}
	// The same kills with the tick path busy: trades flowing through the
	// desk's mark loop and engines at 10,000 a second (batches of 50 every
	// 5 ms: twice a heavy MES minute's peak), and intents in their journal
	// fsync all the time (four appenders of intents the gate refuses: each
	// is journaled durably, then returned).
	bctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var ticks, intents atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		batch := make([]market.Trade, 50)
		for {
			select {
			case <-bctx.Done():
				return
			case <-tk.C:
			}
			now := clock.Now().UnixNano()
			for i := range batch {
				batch[i] = market.Trade{Time: now, Price: px, Size: 1, Aggressor: market.Sell}
			}
			d.OnTrades(bctx, batch)
			ticks.Add(int64(len(batch)))
		}
	}()
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; bctx.Err() == nil; i++ {
				d.HandleIntent(bctx, intent.Intent{Kind: intent.Enter, Account: ids[(w*5+i)%len(ids)], Strategy: "bench-load",
					Side: market.Buy, Qty: 0, EntryType: market.MarketOrder, Reason: "bench: busy intent path"})
				intents.Add(1)
			}
		}()
	}
	t0 := time.Now()
	busy, busySent, err := kills()
	el := time.Since(t0)
	stop()
	wg.Wait()
	if err != nil {
		return Figure{}, err
	}
	if ticks.Load() == 0 || intents.Load() == 0 {
		return Figure{}, fmt.Errorf("the busy load did not run (%d trades, %d intents)", ticks.Load(), intents.Load())
	}
	// The floor: the kill's own parts with nothing to liquidate and no
	// desk — one durable journal append on the same journal, then 20
	// goroutines spawned and joined around a no-op liquidate.
	noop := func(context.Context, string) error { return nil }
	floor := make([]float64, 0, n)
	for i := 0; i < max(n, 50); i++ {
		t := time.Now()
		if _, err := j.AppendUrgent(ctx, journal.NewCommand("", clock.Now().UnixNano(), journal.Command{Who: "bench", Command: "floor"})); err != nil {
			return Figure{}, err
		}
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Add(1)
			go func() { defer wg.Done(); _ = noop(ctx, id) }()
		}
		wg.Wait()
		floor = append(floor, float64(time.Since(t))/float64(time.Microsecond))
	}
	f := figure("µs", idle, floor, false)
	sp50, sp99 := quantiles(idleSent, false)
	f.What = "supervisor.Desk.FlattenReport over 20 accounts each long 1 on the in-process matching engine, the tick path idle: " +
		"trigger → the kill's journal record durable → every liquidate request answered (TotalNs: the record made durable included — one write and fdatasync of the journal's urgent log; its bbolt commit follows)"
	f.Floor = "one durable journal append (the urgent lane, same journal) + 20 goroutines spawned and joined around a no-op liquidate"
	f.Note = fmt.Sprintf("after the record is durable (SentNs): p50 %s µs, p99 %s µs", num(sp50), num(sp99))
	b := figure("µs", busy, idle, false)
	bp50, bp99 := quantiles(busySent, false)
	b.What = "the same kills with the tick path busy: 10,000 trades/s through the desk's mark loop and in-process engines, and four " +
		"appenders keeping intents in their journal fsync (TotalNs, the record made durable included)"
	b.Floor = "the same kills with the tick path idle (" + KillSent + "): ratio = busy / idle"
	b.Note = fmt.Sprintf("after the record is durable: p50 %s µs, p99 %s µs; during the busy kills %.0f trades/s and %.0f intents/s went through the desk",
		num(bp50), num(bp99), float64(ticks.Load())/el.Seconds(), float64(intents.Load())/el.Seconds())
	f.also = map[string]Figure{KillSentBusy: b}
	return f, nil
}

func benchKillFlat(ctx context.Context, opt Options, _ string) (Figure, error) {
	ids := accountIDs()
	feed, err := synth.NewReader(synth.Options{Seed: 7, Regime: synth.Range})
	if err != nil {
		return Figure{}, err
	}
	v, err := venue.New(venue.Config{Accounts: ids, Manual: true}, feed, opt.Log)
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
	c, err := tradovate.Dial(dctx, tradovate.Config{BaseURL: v.URL(), MDURL: v.MDURL(), User: "demo", Symbol: "MESZ5", CID: 8,
		AppID: "deskguard-bench"}, tradovate.Credentials{Password: "demo"}, tradovate.Options{Log: opt.Log})
	dcancel()
	if err != nil {
		return Figure{}, fmt.Errorf("connect to the local venue: %w", err)
	}
	defer c.Close()
	now := time.Date(2026, 3, 10, 10, 30, 0, 0, market.NewYork).UnixNano()
	px := market.MustPrice("5150.00")
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
		// Floor: the same liquidations of flat accounts.
		t := time.Now()
		if err := liquidateAll(); err != nil {
			return Figure{}, err
		}
		floor = append(floor, float64(time.Since(t))/float64(time.Millisecond))
		for _, a := range ids { // every account long 2 with a working bracket
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
		if err := waitEvents(ctx, c, func(ev broker.Event) bool { return ev.Kind == broker.Modified && ev.Role == broker.TargetLeg }, len(ids)); err != nil {
			return Figure{}, fmt.Errorf("brackets armed: %w", err)
		}
		t = time.Now()
		if err := liquidateAll(); err != nil {
			return Figure{}, err
		}
		tick() // the flattening market orders fill at the next trade
		if err := waitEvents(ctx, c, func(ev broker.Event) bool {
			return ev.Kind == broker.FilledEv && strings.HasPrefix(ev.ClientID, "liquidate.")
		}, len(ids)); err != nil {
			return Figure{}, fmt.Errorf("flat confirmed: %w", err)
		}
		samples = append(samples, float64(time.Since(t))/float64(time.Millisecond))
		drainEvents(c)
	}
	for _, p := range v.Positions() {
		if p.Qty != 0 {
			return Figure{}, fmt.Errorf("%s not flat after the kill: %+v", p.Account, p)
		}
	}
	f := figure("ms", samples, floor, false)
	f.What = "local venue emulator (package venue) on loopback via the desk's Tradovate connector: 20 accounts long 2 with brackets, " +
		"20 parallel liquidateposition calls + the next trade, until every liquidation fill arrived over the WebSocket"
	f.Floor = "the same 20 parallel liquidations of accounts already flat (REST round trips, nothing to fill)"
	f.Note = "measured at the connector (broker/tradovate.Client), not through a running desk"
	return f, nil
}

// waitEvents reads the client's events until n match (30 s at most).
func waitEvents(ctx context.Context, c *tradovate.Client, ok func(broker.Event) bool, n int) error {
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

// drainEvents discards what is already queued (cancels of the bracket legs).
func drainEvents(c *tradovate.Client) {
	for {
		select {
		case <-c.Events():
		default:
			return
		}
	}
}
