package supervisor

// replay.go: a whole session through the whole pipeline in one process, as
// fast as the machine allows — engines in-process, the real gate, the real
// journal, a synchronous matching engine — the same Desk code as a live
// run, driven by the data's clock.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor/workerhost"
)

// SyncBroker is a venue that matches in the caller's goroutine and hands
// its events over on request (broker/sim in synchronous mode).
type SyncBroker interface {
	broker.Broker
	OnTrade(t market.Trade)
	Drain() []broker.Event
}

// AccountSummary is one account's line of a replay summary.
type AccountSummary struct {
	ID          string         `json:"id"`
	Strategies  []string       `json:"strategies"`
	Orders      int            `json:"orders"`
	Fills       int            `json:"fills"`
	RoundTrips  int            `json:"round_trips"`
	Wins        int            `json:"wins"`
	Losses      int            `json:"losses"`
	GrossProfit string         `json:"gross_profit"`
	GrossLoss   string         `json:"gross_loss"`
	Fees        string         `json:"fees"`
	Net         string         `json:"net"`
	MaxDrawdown string         `json:"max_drawdown"`
	LockedOut   bool           `json:"locked_out"`
	Position    int64          `json:"position"`
	State       string         `json:"state"`
	Rejections  map[string]int `json:"rejections"`
	StopRepairs int            `json:"stop_repairs"`
}

// Summary is what `deskguard replay --json` prints.
type Summary struct {
	Trades   int64            `json:"trades"`
	Accounts []AccountSummary `json:"accounts"`
	// Rejections counts the gate's refusals over the whole desk by reason
	// (each account's are in its line): what each rule did over the session.
	Rejections map[string]int `json:"rejections"`
	Desk       struct {
		Net       string `json:"net"`
		LockedOut bool   `json:"locked_out"`
		Halted    bool   `json:"halted"`
		State     string `json:"state"`
	} `json:"desk"`
	ElapsedMs int64 `json:"elapsed_ms"`
	Derived   bool  `json:"derived,omitempty"`
}

// Replay runs src through the desk against sb. The desk must have been
// built with clock as its Clock. With Workers: Processes it runs in
// lockstep with the worker processes — after every trade and every venue
// event a barrier (SyncWorkers) waits for the workers' answers — so it
// proposes and sends the same intents as the in-process host, only slower.
func Replay(ctx context.Context, d *Desk, src market.TradeReader, sb SyncBroker, clock *market.ReplayClock) (Summary, error) {
	t0 := d.wall.Now()
	started := false
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return d.Summary(d.wall.Now().Sub(t0)), err
		}
		t, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return d.Summary(d.wall.Now().Sub(t0)), fmt.Errorf("replay: trade %d: %w", n+1, err)
		}
		n++
		clock.Advance(t.Time)
		if !started {
			if err := d.Start(ctx); err != nil {
				return Summary{}, err
			}
			if err := d.WorkersReady(ctx); err != nil {
				return d.Summary(d.wall.Now().Sub(t0)), err
			}
			started = true
		}
		sb.OnTrade(t) // resting orders meet this trade before the engines see it
		if err := d.drainSync(ctx, sb); err != nil {
			return d.Summary(d.wall.Now().Sub(t0)), fmt.Errorf("replay: trade %d: %w", n, err)
		}
		d.OnTrades(ctx, []market.Trade{t})
		if err := d.drainSync(ctx, sb); err != nil {
			return d.Summary(d.wall.Now().Sub(t0)), fmt.Errorf("replay: trade %d: %w", n, err)
		}
	}
	for _, a := range d.accts {
		host, _ := a.hosts()
		if h, ok := host.(*workerhost.RunnerHost); ok {
			for _, in := range h.Flush() {
				d.HandleIntent(ctx, in)
			}
		}
	}
	err := d.drainSync(ctx, sb)
	return d.Summary(d.wall.Now().Sub(t0)), err
}

// drainSync applies every pending venue event, then the settle checks,
// until the venue (and, with worker processes, every worker) is quiet.
func (d *Desk) drainSync(ctx context.Context, sb SyncBroker) error {
	if _, err := d.settleWorkers(ctx); err != nil {
		return err
	}
	for i := 0; i < 1000; i++ {
		evs := sb.Drain()
		for _, ev := range evs {
			d.OnBrokerEvent(ctx, ev)
			// The in-process host answers a fill at once, before the next
			// event: so must the workers.
			if _, err := d.settleWorkers(ctx); err != nil {
				return err
			}
		}
		if len(evs) == 0 {
			d.Settle(ctx)
			w, err := d.settleWorkers(ctx)
			if err != nil {
				return err
			}
			if evs = sb.Drain(); len(evs) == 0 && w == 0 {
				return nil
			}
			for _, ev := range evs {
				d.OnBrokerEvent(ctx, ev)
				if _, err := d.settleWorkers(ctx); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// settleWorkers (worker processes only) waits for the workers' answers to
// every frame sent so far and applies them, accounts in desk order as the
// in-process host does, until the workers are quiet. It returns how many
// worker events it applied.
func (d *Desk) settleWorkers(ctx context.Context) (int, error) {
	if d.opt.Workers != Processes {
		return 0, nil
	}
	total := 0
	for round := 0; round < 1000; round++ {
		if err := d.SyncWorkers(ctx); err != nil {
			return total, err
		}
		var evs []workerhost.WorkerEvent
	drain:
		for {
			select {
			case ev := <-d.events:
				evs = append(evs, ev)
			default:
				break drain
			}
		}
		if len(evs) == 0 {
			return total, nil
		}
		idx := map[string]int{}
		for i, a := range d.accts {
			idx[a.id] = i
		}
		sort.SliceStable(evs, func(i, j int) bool { return idx[evs[i].Account] < idx[evs[j].Account] })
		for _, ev := range evs {
			d.HandleWorkerEvent(ctx, ev)
		}
		total += len(evs)
	}
	return total, errors.New("supervisor: workers never went quiet")
}

// Summary reports the desk's numbers so far.
func (d *Desk) Summary(elapsed time.Duration) Summary {
	s := Summary{Rejections: map[string]int{}}
	d.tick.mu.Lock()
	s.Trades = d.tick.trades
	deskBreached := d.tick.deskMon.Breached()
	d.tick.mu.Unlock()
	var net int64
	for _, a := range d.accts {
		a.mu.Lock()
		l := a.ledger
		as := AccountSummary{ID: a.id, Strategies: a.spec.Config.Strategies, Orders: a.nOrders, Fills: a.nFills,
			LockedOut: a.m.State() == AcctLockedOut || a.rules.Drawdown.Breached(), Position: l.Position(), State: a.m.State(),
			Rejections: map[string]int{}, StopRepairs: a.repairs}
		gp, gl := decimal.Zero, decimal.Zero
		for _, r := range accounts.Trades(append(append([]accounts.RoundTrip(nil), a.pastTrips...), l.RoundTrips()...)) { // one per entry
			as.RoundTrips++
			if r.PnL.IsPositive() {
				as.Wins++
				gp = gp.Add(r.PnL)
			} else {
				as.Losses++
				gl = gl.Add(r.PnL.Neg())
			}
		}
		for k, v := range a.rejects {
			as.Rejections[k] = v
			s.Rejections[k] += v
		}
		as.GrossProfit, as.GrossLoss = gp.StringFixed(2), gl.StringFixed(2)
		as.Fees = accounts.Money(a.pastFees + accounts.Cents(l.Fees())).StringFixed(2)
		start := l.StartCents()
		if a.firstStart != 0 {
			start = a.firstStart
		}
		as.Net = accounts.Money(l.EquityCents() - start).StringFixed(2)
		as.MaxDrawdown = l.MaxDrawdown().StringFixed(2)
		net += l.EquityCents() - start
		a.mu.Unlock()
		if as.LockedOut {
			s.Desk.LockedOut = true
		}
		s.Accounts = append(s.Accounts, as)
	}
	s.Desk.Net = decimal.New(net, -2).StringFixed(2)
	s.Desk.State = d.m.State()
	s.Desk.Halted = s.Desk.State == DeskHalting || s.Desk.State == DeskHalted
	s.Desk.LockedOut = s.Desk.LockedOut || deskBreached
	s.ElapsedMs = elapsed.Milliseconds()
	return s
}
