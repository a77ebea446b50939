// This file measures a desk kill end to end over the real protocol: a
// supervisor.Desk (journal on disk, the risk gate, the kill path) trading
// 20 accounts through this connector with the in-process venue on
// loopback; every account long 1 with its bracket at the venue; from
// Desk.Flatten until the desk has seen every liquidation fill arrive over
// the WebSocket and gone halting → halted (its "all flat confirmed").

package tradovate_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/strategies"
	"github.com/deskguard/deskguard/supervisor"
)

// deskKill runs n desk kills over 20 accounts and returns their
// durations (Flatten → the desk halted with every account flat).
func deskKill(tb testing.TB, n int, timed func(start bool)) *hdrhistogram.Histogram {
	const accountsN = 20
	var ids []string
	var specs []supervisor.AccountSpec
	for i := 0; i < accountsN; i++ {
		id := fmt.Sprintf("K%02d", i)
		ids = append(ids, id)
		specs = append(specs, supervisor.AccountSpec{Config: accounts.Config{ID: id,
			StartEquity: decimal.NewFromInt(50000), Strategies: []string{"orb"}}})
	}
	v, stop := startVenue(tb, venue.Config{Accounts: ids})
	defer stop()
	c := dial(tb, v)
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := market.NewReplayClock(time.Date(2024, 3, 12, 10, 0, 0, 0, market.NewYork))
	j, err := journal.Open(filepath.Join(tb.TempDir(), "desk.db"), journal.Options{Clock: clock})
	if err != nil {
		tb.Fatal(err)
	}
	defer j.Close()
	halted := make(chan struct{}, 1)
	d, err := supervisor.New(supervisor.Options{Clock: clock, Journal: supervisor.JournalOf(j), Broker: c, Accounts: specs,
		Engines: strategies.DefaultConfig(),
		// The same round trip every kill, as many as b.N asks: the day's
		// trade and order counts and the losing streak (each trip is
		// flat, a loss to the rules) stay out of the way.
		Limits:   limits.Config{DailyTradeLimit: 1 << 30, DailyOrderLimit: 1 << 30, LossStreak: 1 << 30},
		Schedule: supervisor.ScheduleConfig{SessionReset: "off", NoNewEntries: "off", FlattenDay: "off", DailySummary: "off"},
		OnStateChange: func(st string, _ bool) {
			if st == supervisor.DeskHalted {
				select {
				case halted <- struct{}{}:
				default:
				}
			}
		}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := d.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	// The venue's events into the desk, as supervisor.RunLive pumps them
	// (what has arrived together in one journal commit); entry fills are
	// counted for the set-up.
	entryFills := make(chan struct{}, 4*accountsN)
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		evs := c.Events()
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-evs:
				batch := []broker.Event{ev}
				for len(evs) > 0 && len(batch) < 256 {
					batch = append(batch, <-evs)
				}
				d.OnBrokerEvents(ctx, batch)
				for _, ev := range batch {
					if ev.Kind == broker.FilledEv && ev.Role == broker.EntryLeg {
						entryFills <- struct{}{}
					}
				}
				if len(evs) == 0 {
					d.Settle(ctx)
				}
			}
		}
	}()
	defer func() { cancel(); <-pumped }()
	now := clock.Now().UnixNano()
	px := market.MustPrice("5100.00")
	trade := func() {
		now += int64(5 * time.Second) // clear of the per-second order limits
		tr := market.Trade{Time: now, Price: px + 1, Size: 1000, Aggressor: market.Buy}
		clock.Advance(now)
		v.Trade(tr)
		d.OnTrades(ctx, []market.Trade{tr})
	}
	wait := func(ch <-chan struct{}, what string) {
		t := time.NewTimer(30 * time.Second)
		defer t.Stop()
		select {
		case <-ch:
		case <-t.C:
			tb.Fatalf("timed out waiting for %s", what)
		}
	}
	h := hdrhistogram.New(1, int64(60*time.Second), 3)
	for i := 0; i < n; i++ {
		trade()
		for _, id := range ids {
			res := d.HandleIntent(ctx, intent.Intent{Kind: intent.Enter, Account: id, Strategy: "bench", Side: market.Buy, Qty: 1,
				EntryType: market.LimitOrder, Entry: px + 1, Stop: px - 3, Target: px + 9, Reason: "bench"})
			if !res.Sent {
				tb.Fatalf("entry %s refused: %s", id, res.Decision.Reason)
			}
		}
		trade() // fills every entry at the venue; the OSO arms the exits
		for range ids {
			wait(entryFills, "the entry fills")
		}
		timed(true)
		start := time.Now()
		if err := d.Flatten(ctx, "", "bench", "bench"); err != nil {
			tb.Fatal(err)
		}
		trade() // the flattening market orders fill at the next trade
		wait(halted, "the desk to confirm every account flat")
		_ = h.RecordValue(time.Since(start).Nanoseconds())
		timed(false)
		st := d.Status(ctx)
		for _, a := range st.Accounts {
			if a.Position != 0 {
				tb.Fatalf("%s: position %d after the kill", a.ID, a.Position)
			}
		}
		for _, p := range v.Positions() {
			if p.Qty != 0 {
				tb.Fatalf("%s: venue position %d after the kill", p.Account, p.Qty)
			}
		}
		if err := d.Rearm(ctx, "bench", "bench"); err != nil {
			tb.Fatal(err)
		}
	}
	return h
}

// BenchmarkDeskKillFlat20: Desk.Flatten → every account flat, confirmed by
// the venue's fills reaching the desk (p50/p99).
func BenchmarkDeskKillFlat20(b *testing.B) {
	b.StopTimer()
	h := deskKill(b, b.N, func(start bool) {
		if start {
			b.StartTimer()
		} else {
			b.StopTimer()
		}
	})
	report(b, h)
}

// TestDeskKillFlat20 runs the benchmark's body more times than the
// default limits' losing streak and day's trades allow, so it keeps
// working for any b.N.
func TestDeskKillFlat20(t *testing.T) {
	const n = limits.DefaultLossStreak + 2
	h := deskKill(t, n, func(bool) {})
	if h.TotalCount() != n {
		t.Fatalf("%d kills measured", h.TotalCount())
	}
}
