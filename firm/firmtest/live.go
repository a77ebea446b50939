// Package firmtest is the firm layer's test rig, shared by the firm
// package's tests, the drill's firm scenario and the benchmarks: a real
// desk (supervisor.Desk over a journal file, the asynchronous sim venue,
// in-process engines, a synthetic session through supervisor.RunLive) with
// its outbox and firm link on a NATS connection, and the comparison of the
// firm's view of a desk with the desk's own Status.
package firmtest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/firm"
	"github.com/deskguard/deskguard/firm/wire"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
	"github.com/deskguard/deskguard/outbox"
	"github.com/deskguard/deskguard/strategies"
	"github.com/deskguard/deskguard/supervisor"
)

// Wait bounds every wait of the rig (a failure, never a synchronisation).
var Wait = 60 * time.Second

// Within polls cond until it holds, or returns an error after Wait.
func Within(what string, cond func() bool) error {
	deadline := time.Now().Add(Wait)
	tk := time.NewTicker(2 * time.Millisecond)
	defer tk.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v: %s", Wait, what)
		}
		<-tk.C
	}
	return nil
}

// holdFeed is a synthetic session held open at its end.
type holdFeed struct {
	r   market.TradeReader
	ctx context.Context
}

func (f *holdFeed) Next() (market.Trade, error) {
	t, err := f.r.Next()
	if errors.Is(err, io.EOF) {
		<-f.ctx.Done()
		return market.Trade{}, f.ctx.Err()
	}
	return t, err
}

// PauseGate is the venue's view of the market with a switch: paused, no
// trade reaches the venue (and RunLive, which shows the venue each trade
// first, stops the desk's tick path with it).
type PauseGate struct {
	sim *sim.Sim
	ctx context.Context
	mu  sync.Mutex
	p   chan struct{}
	n   int64
}

// OnTrade implements RunLive's Matcher.
func (g *PauseGate) OnTrade(t market.Trade) {
	for {
		g.mu.Lock()
		p := g.p
		if p == nil {
			g.sim.OnTrade(t)
			g.n++
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		select {
		case <-p:
		case <-g.ctx.Done():
			return
		}
	}
}

// Pause stops trades reaching the venue (and the desk) until resumed.
func (g *PauseGate) Pause() {
	g.mu.Lock()
	if g.p == nil {
		g.p = make(chan struct{})
	}
	g.mu.Unlock()
}

func (g *PauseGate) resume() {
	g.mu.Lock()
	if g.p != nil {
		close(g.p)
		g.p = nil
	}
	g.mu.Unlock()
}

// Trades is how many trades the venue has seen.
func (g *PauseGate) Trades() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// DeskOptions say what desk to start.
type DeskOptions struct {
	Name    string
	NATSURL string
	Pub     ed25519.PublicKey // the firm's command key
	Seed    int64             // the synthetic session's seed
	Dir     string            // where its journal goes
	Pace    float64           // × real time (default 30)
	Scale   float64           // synthetic volume (default 0.2)
	// BeatEvery is the desk's heartbeat (default 50ms).
	BeatEvery time.Duration
	// NoFeed: no session runs (benchmarks drive the journal themselves).
	NoFeed bool
	// Steady, when set, replaces the synthetic session with one trade
	// every Steady of real time, one second of market time apart (a walk
	// of ±1 tick from 5100.00 at 10:00 ET, clear of per-minute order limits):
	// a liquidation then fills within one interval, so kill timings do not
	// depend on the session's quiet spells.
	Steady time.Duration
}

// steadyFeed is a trade every interval of real time.
type steadyFeed struct {
	ctx  context.Context
	tk   *time.Ticker
	ns   int64
	step int64
	px   market.Price
	n    uint64
}

func (f *steadyFeed) Next() (market.Trade, error) {
	select {
	case <-f.ctx.Done():
		f.tk.Stop()
		return market.Trade{}, f.ctx.Err()
	case <-f.tk.C:
	}
	f.n++
	f.ns += f.step
	// A deterministic walk of ±1 tick: up, up, down, down, ...
	if f.n%4 < 2 {
		f.px++
	} else {
		f.px--
	}
	side := market.Buy
	if f.n%2 == 0 {
		side = market.Sell
	}
	return market.Trade{Time: f.ns, Price: f.px, Size: 1 + int64(f.n%5), Aggressor: side}, nil
}

// Desk is one real desk with its firm link.
type Desk struct {
	Name   string
	J      *journal.Journal
	Sim    *sim.Sim
	D      *supervisor.Desk
	Gate   *PauseGate
	Outbox *outbox.Outbox
	Link   *outbox.Link
	Clock  *market.ReplayClock
	IDs    []string

	closeFn func() error
}

// StartDesk starts a desk (accounts ORB1, VWAP1, DELTA1 with their engines
// and MAN1 without) and waits until it is running with trades flowing.
func StartDesk(o DeskOptions) (*Desk, error) {
	if o.Pace == 0 {
		o.Pace = 30
	}
	if o.Scale == 0 {
		o.Scale = 0.2
	}
	if o.BeatEvery == 0 {
		o.BeatEvery = 50 * time.Millisecond
	}
	ld := &Desk{Name: o.Name, Clock: market.NewReplayClock(time.Unix(0, 0))}
	var specs []supervisor.AccountSpec
	for _, a := range []struct{ id, eng string }{{"ORB1", "orb"}, {"VWAP1", "vwapmr"}, {"DELTA1", "delta"}, {"MAN1", ""}} {
		cfg := accounts.Config{ID: a.id, StartEquity: decimal.NewFromInt(50000), FeesRT: decimal.RequireFromString("1.20")}
		if a.eng != "" {
			cfg.Strategies = []string{a.eng}
		}
		specs = append(specs, supervisor.AccountSpec{DayTrading: true, Config: cfg})
		ld.IDs = append(ld.IDs, a.id)
	}
	var closers []func() error
	fail := func(err error) (*Desk, error) {
		for i := len(closers) - 1; i >= 0; i-- {
			_ = closers[i]()
		}
		return nil, err
	}
	j, err := journal.Open(filepath.Join(o.Dir, o.Name+".db"), journal.Options{Clock: ld.Clock, Timeout: 5 * time.Second})
	if err != nil {
		return fail(err)
	}
	ld.J = j
	closers = append(closers, j.Close)
	s, err := sim.New(sim.Config{Accounts: ld.IDs})
	if err != nil {
		return fail(err)
	}
	ld.Sim = s
	closers = append(closers, s.Close)
	// The rig opens and flattens MAN1 hundreds of times a session (the kill
	// benchmark, the drill): the per-session caps, the loss-streak cooldown
	// and the duplicate window (issue 20, tested in limits) would refuse
	// those opens, so they are set out of its way.
	lim := limits.Config{DailyTradeLimit: 1 << 30, DailyOrderLimit: 1 << 30, LossStreak: 1 << 30, DuplicateWindow: time.Nanosecond}.WithDefaults()
	lim.MaxDataAge = 0
	ld.D, err = supervisor.New(supervisor.Options{Clock: ld.Clock, Log: slog.New(slog.DiscardHandler), Journal: supervisor.JournalOf(j),
		Broker: s, Limits: lim, Accounts: specs, Engines: strategies.DefaultConfig(), Schedule: supervisor.DefaultSchedule(),
		Workers: supervisor.InProcess, CoverageGrace: 250 * time.Millisecond})
	if err != nil {
		return fail(err)
	}
	nc, err := outbox.Connect(o.NATSURL, "desk-"+o.Name)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, func() error { nc.Close(); return nil })
	ld.Outbox, err = outbox.New(outbox.Options{Desk: o.Name, Journal: j, Conn: nc, CursorFile: filepath.Join(o.Dir, o.Name+".db.outbox")})
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = ld.Outbox.Run(ctx) }()
	ld.Link, err = outbox.StartLink(ctx, outbox.LinkOptions{Desk: o.Name, Conn: nc, Target: ld.D, Outbox: ld.Outbox, Journal: j,
		Verifier: &wire.Verifier{Desk: o.Name, Key: o.Pub}, BeatEvery: o.BeatEvery, FlatTimeout: 20 * time.Second})
	if err != nil {
		cancel()
		wg.Wait()
		return fail(err)
	}
	ld.Gate = &PauseGate{sim: s, ctx: ctx}
	done := make(chan error, 1)
	if o.NoFeed {
		done <- nil
	} else if o.Steady > 0 {
		start := time.Date(2024, 3, 12, 10, 0, 0, 0, market.NewYork)
		feed := &steadyFeed{ctx: ctx, tk: time.NewTicker(o.Steady), ns: start.UnixNano(), step: int64(time.Second), px: market.MustPrice("5100.00")}
		wg.Add(1)
		go func() {
			defer wg.Done()
			done <- supervisor.RunLive(ctx, ld.D, supervisor.LiveOptions{Feed: feed, Matcher: ld.Gate, Clock: ld.Clock, MaxBatch: 64})
		}()
	} else {
		rd, err := synth.NewReader(synth.Options{Seed: o.Seed, Scale: o.Scale})
		if err != nil {
			cancel()
			wg.Wait()
			return fail(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			done <- supervisor.RunLive(ctx, ld.D, supervisor.LiveOptions{Feed: &holdFeed{r: rd, ctx: ctx}, Pace: o.Pace, Matcher: ld.Gate,
				Clock: ld.Clock, MaxBatch: 64})
		}()
	}
	ld.closeFn = func() error {
		cancel()
		ld.Gate.resume()
		wg.Wait()
		ld.Link.Wait()
		err := <-done
		for i := len(closers) - 1; i >= 0; i-- {
			_ = closers[i]()
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("%s: RunLive: %w", o.Name, err)
		}
		return nil
	}
	if !o.NoFeed {
		if err := Within(o.Name+" running with trades flowing", func() bool { return ld.Gate.Trades() > 100 && ld.Status().State == "running" }); err != nil {
			_ = ld.closeFn()
			return nil, err
		}
	}
	return ld, nil
}

// Close stops the desk and its link.
func (ld *Desk) Close() error { return ld.closeFn() }

// Status is the desk's own Status.
func (ld *Desk) Status() deskapi.Status { return ld.D.Status(context.Background()) }

// Open gives MAN1 a long position of qty through the real intent path and
// waits until the desk books it.
func (ld *Desk) Open(qty int64) error {
	last, ok := ld.Sim.LastTrade()
	if !ok {
		return errors.New("no trade at the venue")
	}
	var before int64
	for _, a := range ld.Status().Accounts {
		if a.ID == "MAN1" {
			before = a.Position
		}
	}
	res := ld.D.HandleIntent(context.Background(), intent.Intent{Kind: intent.Enter, Account: "MAN1", Strategy: "firmtest",
		Time: ld.Clock.Now().UnixNano(), Side: market.Buy, Qty: qty, EntryType: market.MarketOrder,
		Stop: last.Price - 40, Target: last.Price + 80, Reason: "firm test"})
	if !res.Sent || res.Err != nil {
		return fmt.Errorf("%s open: %+v", ld.Name, res)
	}
	return Within(ld.Name+" MAN1 long", func() bool {
		for _, a := range ld.Status().Accounts {
			if a.ID == "MAN1" {
				return a.Position == before+qty
			}
		}
		return false
	})
}

// FlatAtVenue reports whether every account is flat with nothing working
// at the venue.
func (ld *Desk) FlatAtVenue() (bool, error) {
	for _, id := range ld.IDs {
		p, err := ld.Sim.Position(id)
		if err != nil {
			return false, err
		}
		open, err := ld.Sim.OpenOrders(context.Background(), id)
		if err != nil {
			return false, err
		}
		if p.Qty != 0 || len(open) != 0 {
			return false, nil
		}
	}
	return true, nil
}

// DiffView compares the firm's view of a desk with the desk's Status:
// accounts, states, positions, average cost, realized, fees, start
// equity, equity (marked at the desk's last price) and working orders.
func DiffView(fv firm.DeskView, st deskapi.Status) []string {
	var out []string
	byID := map[string]firm.AccountView{}
	for _, a := range fv.Accounts {
		byID[a.ID] = a
	}
	if len(fv.Accounts) != len(st.Accounts) {
		out = append(out, fmt.Sprintf("%d accounts at the firm, %d at the desk", len(fv.Accounts), len(st.Accounts)))
	}
	for _, a := range st.Accounts {
		f, ok := byID[a.ID]
		if !ok {
			out = append(out, a.ID+": missing at the firm")
			continue
		}
		cmp := func(what string, firmV, deskV any) {
			if fmt.Sprint(firmV) != fmt.Sprint(deskV) {
				out = append(out, fmt.Sprintf("%s %s: firm %v, desk %v", a.ID, what, firmV, deskV))
			}
		}
		cmp("state", f.State, a.State)
		cmp("position", f.Position, a.Position)
		cmp("realized", f.Realized, a.Realized)
		cmp("fees", f.Fees, a.Fees)
		cmp("start equity", f.StartEquity, a.StartEquity)
		cmp("equity", f.Equity, a.Equity)
		avg := 0.0
		if f.Position != 0 {
			avg = float64(f.CostTicks) / float64(f.Position) / market.TicksPerPoint
		}
		cmp("avg price", fmt.Sprintf("%.4f", avg), fmt.Sprintf("%.4f", a.AvgPrice))
		var fo, do []string
		for _, o := range f.Orders {
			fo = append(fo, fmt.Sprintf("%s/%s/%d/%s", o.ID, o.Role, o.Qty, o.Status))
		}
		for _, o := range a.Orders {
			do = append(do, fmt.Sprintf("%s/%s/%d/%s", o.ClientID, o.Role, o.Qty, o.Status))
		}
		sort.Strings(fo)
		sort.Strings(do)
		cmp("orders", strings.Join(fo, " "), strings.Join(do, " "))
	}
	return out
}

// SameView waits until the firm's view of every desk equals the desk's
// own (the desks' tick paths paused meanwhile, so their records stop), or
// returns the differences left after Wait.
func SameView(agg *firm.Aggregator, desks []*Desk) error {
	for _, ld := range desks {
		ld.Gate.Pause()
	}
	defer func() {
		for _, ld := range desks {
			ld.Gate.resume()
		}
	}()
	var last []string
	err := Within("the firm's view equal to the desks'", func() bool {
		last = nil
		v := agg.View()
		for _, ld := range desks {
			var fv *firm.DeskView
			for i := range v.Desks {
				if v.Desks[i].Desk == ld.Name {
					fv = &v.Desks[i]
				}
			}
			st := ld.Status()
			c, _ := ld.J.Committed()
			switch {
			case fv == nil:
				last = append(last, ld.Name+": not in the firm's view")
			case fv.LastSeq != c:
				last = append(last, fmt.Sprintf("%s: firm at seq %d, journal at %d", ld.Name, fv.LastSeq, c))
			case fv.Mark != st.LastPrice:
				last = append(last, fmt.Sprintf("%s: firm mark %.2f, desk last %.2f", ld.Name, fv.Mark, st.LastPrice))
			default:
				for _, d := range DiffView(*fv, st) {
					last = append(last, ld.Name+": "+d)
				}
				if len(fv.Gaps) > 0 || len(fv.Errors) > 0 {
					last = append(last, fmt.Sprintf("%s: gaps %v errors %v", ld.Name, fv.Gaps, fv.Errors))
				}
			}
		}
		return len(last) == 0
	})
	if err != nil {
		return fmt.Errorf("%w:\n  %s", err, strings.Join(last, "\n  "))
	}
	return nil
}

// DeskFlat: the desk halted, every account at zero with nothing working.
func DeskFlat(st deskapi.Status) (bool, string) {
	if st.State != "halted" {
		return false, "state " + st.State
	}
	for _, a := range st.Accounts {
		if a.Position != 0 || len(a.Orders) != 0 {
			return false, fmt.Sprintf("%s position %d orders %d", a.ID, a.Position, len(a.Orders))
		}
	}
	return true, ""
}
