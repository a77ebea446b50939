package supervisor

// live.go: the live driver — a feed paced in real time (or a venue's
// market-data stream), the broker's event stream, and the workers' events,
// each in its own goroutine so that none can hold up the others. Intents
// from different accounts are handled concurrently so their journal
// appends share commits.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor/workerhost"
)

// LiveOptions configures RunLive.
type LiveOptions struct {
	Feed market.TradeReader
	// Pace replays Feed at Pace × real time; 0 = as fast as possible (a
	// venue's market-data stream paces itself: use 0).
	Pace float64
	// Matcher, when set, sees every trade before the desk (an in-process
	// asynchronous sim venue).
	Matcher interface{ OnTrade(market.Trade) }
	// Clock is advanced by the data (a replayed session); nil for a wall clock.
	Clock *market.ReplayClock
	// StaleAfter flattens the desk (a kill with trigger "stale_data",
	// journaled like any kill) when, once the desk has started, the feed
	// sends no trade for this long of real time without having ended; it
	// fires once per stale spell. 0 = off. Real time, not the desk's
	// Clock: a desk whose clock the trades advance (Clock above) has a
	// clock that stands still exactly when the trades stop.
	StaleAfter time.Duration
	// Wall is real time: the stale-data check, the pace, the periodic
	// settle and snapshot; nil = the desk's Options.Wall (tests inject one
	// they move).
	Wall market.Clock
	// MaxBatch bounds the trades sent to workers in one frame (default 512).
	MaxBatch int
	// OnTrade is called after each batch (status lines, tests).
	OnBatch func(last market.Trade)
}

// ErrFeedEnded is returned when the feed is exhausted.
var ErrFeedEnded = errors.New("supervisor: feed ended")

// RunLive starts the desk and runs it until ctx ends or the feed ends.
func RunLive(ctx context.Context, d *Desk, opt LiveOptions) error {
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 512
	}
	if opt.Wall == nil {
		opt.Wall = d.wall
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	// Broker events.
	wg.Add(1)
	go func() {
		defer wg.Done()
		evs := d.br.Events()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-evs:
				if !ok {
					return
				}
				// What has arrived with it goes in the same journal commit.
				batch := append(make([]broker.Event, 0, 16), ev)
			more:
				for len(batch) < maxEventBatch {
					select {
					case ev, ok := <-evs:
						if !ok {
							break more
						}
						batch = append(batch, ev)
					default:
						break more
					}
				}
				d.OnBrokerEvents(ctx, batch)
				if len(evs) == 0 {
					d.Settle(ctx)
				}
			}
		}
	}()
	// Worker events, one goroutine per account.
	perAcct := map[string]chan workerhost.WorkerEvent{}
	for _, a := range d.accts {
		ch := make(chan workerhost.WorkerEvent, 1024)
		perAcct[a.id] = ch
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case ev := <-ch:
					d.HandleWorkerEvent(ctx, ev)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-d.events:
				if ch := perAcct[ev.Account]; ch != nil {
					if ev.Kind != workerhost.WorkerIntent {
						// A crash, restart or crash-loop fault is never dropped:
						// a lost fault would leave the account unprotected.
						select {
						case ch <- ev:
						case <-ctx.Done():
							return
						}
						continue
					}
					select {
					case ch <- ev:
					default:
						// An account flooding intents: drop and say so; its gate
						// rate limit would refuse them anyway.
						d.floodDropped.Add(1)
					}
				}
			}
		}
	}()

	if d.opt.CoverageGrace > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk := opt.Wall.NewTicker(d.opt.CoverageGrace / 2)
			defer tk.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tk.C():
					d.Settle(ctx)
				}
			}
		}()
	}
	if _, ok := d.br.(broker.Syncer); ok {
		// After a reconnect (the connection took a new snapshot of the
		// account data) the ledger is checked against the broker's cash
		// again (brokerside.go); off the event path, which it waits on.
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk := opt.Wall.NewTicker(time.Second)
			defer tk.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tk.C():
					d.Resynced(ctx)
				}
			}
		}()
	}
	// A snapshot now and then shortens recovery (snapshot + tail = whole log).
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := opt.Wall.NewTicker(30 * time.Second)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C():
				if err := d.Snapshot(ctx); err != nil {
					d.log.Warn("snapshot", "err", err)
				}
			}
		}
	}()
	// lastTrade is the real time (opt.Wall) of the last trade, 0 until the
	// desk has started: before its first trade the desk trades nothing
	// (and a kill could not move its state machine out of "starting").
	var lastTrade atomic.Int64
	if opt.StaleAfter > 0 {
		tick := opt.Wall.NewTicker(max(opt.StaleAfter/4, time.Millisecond))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer tick.Stop()
			fired := false
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C():
					last := lastTrade.Load()
					if last == 0 {
						continue
					}
					age := opt.Wall.Now().Sub(time.Unix(0, last))
					if age <= opt.StaleAfter {
						fired = false
						continue
					}
					if !fired {
						fired = true
						d.log.Error("market data stale: flattening the desk", "age", age, "limit", opt.StaleAfter)
						if _, err := d.Kill(ctx, DeskScope, TriggerStaleData, "deskguard"); err != nil {
							d.log.Error("stale data kill", "err", err)
						}
					}
				}
			}
		}()
	}

	err := d.feedLoop(ctx, opt, &lastTrade)
	cancel()
	wg.Wait()
	return err
}

func (d *Desk) feedLoop(ctx context.Context, opt LiveOptions, lastTrade *atomic.Int64) error {
	// The feed is read in its own goroutine so that a batch is flushed as
	// soon as the feed has nothing more to give at once: a live stream that
	// blocks between trades must not hold trades back until MaxBatch of them
	// have arrived (marks, drawdown checks and engines would lag by up to
	// MaxBatch trades). A feed faster than the desk still fills batches.
	type item struct {
		t   market.Trade
		err error
	}
	items := make(chan item, opt.MaxBatch)
	readCtx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	go func() {
		for {
			t, err := opt.Feed.Next()
			select {
			case items <- item{t, err}:
			case <-readCtx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	started := false
	var first int64
	wall0 := opt.Wall.Now()
	batch := make([]market.Trade, 0, opt.MaxBatch)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		d.OnTrades(ctx, batch)
		if opt.OnBatch != nil {
			opt.OnBatch(batch[len(batch)-1])
		}
		batch = batch[:0]
	}
	for {
		var it item
		select {
		case it = <-items:
		default:
			flush() // nothing waiting: send what we have before blocking
			select {
			case it = <-items:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if ctx.Err() != nil {
			flush()
			return ctx.Err()
		}
		t, err := it.t, it.err
		if err == io.EOF {
			flush()
			return ErrFeedEnded
		}
		if err != nil {
			flush()
			// A feed that fails (a file truncated mid-record, a stream that
			// breaks) is not a session that ended: the data link goes down
			// — journaled, alerted, the desk degraded (no new entries) —
			// before RunLive returns, so status never says "data up" on a
			// desk whose data has stopped (issue 25.7).
			d.LinkHealth("data", false, "the feed failed: "+err.Error())
			return fmt.Errorf("supervisor: feed: %w", err)
		}
		if opt.Clock != nil {
			opt.Clock.Advance(t.Time)
		}
		if !started {
			if err := d.Start(ctx); err != nil {
				return err
			}
			started, first = true, t.Time
		}
		lastTrade.Store(opt.Wall.Now().UnixNano())
		if opt.Pace > 0 {
			due := wall0.Add(time.Duration(float64(t.Time-first) / opt.Pace))
			if wait := due.Sub(opt.Wall.Now()); wait > time.Millisecond {
				flush() // send what is due before waiting
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-opt.Wall.After(wait):
				}
			}
		}
		if opt.Matcher != nil {
			opt.Matcher.OnTrade(t)
		}
		batch = append(batch, t)
		if len(batch) >= opt.MaxBatch {
			flush()
		}
	}
}
