// desks_test.go: three real desks (supervisor.Desk, journal file, the
// asynchronous sim venue, in-process engines, a synthetic session through
// supervisor.RunLive), each with its outbox and firm link, and the firm, on
// a real NATS server. The firm's view equals each desk's own Status; a firm
// kill issued while one desk is partitioned from NATS flattens the two that
// hear it at once, leaves the third trading (NATS being away never
// flattens or halts a desk), and flattens it when it hears again; every
// desk that acknowledged the kill is flat at the desk and at the venue.

package firm_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/firm"
	"github.com/deskguard/deskguard/firm/natstest"
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

// pauseGate is the venue's view of the market with a switch: paused, no
// trade reaches the venue (and RunLive, which shows the venue each trade
// first, stops the desk's tick path with it).
type pauseGate struct {
	sim *sim.Sim
	ctx context.Context
	mu  sync.Mutex
	p   chan struct{}
	n   int64
}

func (g *pauseGate) OnTrade(t market.Trade) {
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

func (g *pauseGate) pause() {
	g.mu.Lock()
	if g.p == nil {
		g.p = make(chan struct{})
	}
	g.mu.Unlock()
}

func (g *pauseGate) resume() {
	g.mu.Lock()
	if g.p != nil {
		close(g.p)
		g.p = nil
	}
	g.mu.Unlock()
}

func (g *pauseGate) trades() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// liveDesk is one real desk with its firm link.
type liveDesk struct {
	name  string
	j     *journal.Journal
	sim   *sim.Sim
	d     *supervisor.Desk
	gate  *pauseGate
	ob    *outbox.Outbox
	link  *outbox.Link
	clock *market.ReplayClock
	ids   []string
}

func startLiveDesk(t *testing.T, name, natsURL string, pub ed25519.PublicKey, seed int64) *liveDesk {
	t.Helper()
	ld := &liveDesk{name: name, clock: market.NewReplayClock(time.Unix(0, 0))}
	var specs []supervisor.AccountSpec
	for _, a := range []struct{ id, eng string }{{"ORB1", "orb"}, {"VWAP1", "vwapmr"}, {"DELTA1", "delta"}, {"MAN1", ""}} {
		cfg := accounts.Config{ID: a.id, StartEquity: decimal.NewFromInt(50000), FeesRT: decimal.RequireFromString("1.20")}
		if a.eng != "" {
			cfg.Strategies = []string{a.eng}
		}
		specs = append(specs, supervisor.AccountSpec{DayTrading: true, Config: cfg})
		ld.ids = append(ld.ids, a.id)
	}
	j, err := journal.Open(filepath.Join(t.TempDir(), name+".db"), journal.Options{Clock: ld.clock, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ld.j = j
	t.Cleanup(func() { _ = j.Close() })
	s, err := sim.New(sim.Config{Accounts: ld.ids})
	if err != nil {
		t.Fatal(err)
	}
	ld.sim = s
	t.Cleanup(func() { _ = s.Close() })
	lim := limits.Config{}.WithDefaults()
	lim.MaxDataAge = 0
	ld.d, err = supervisor.New(supervisor.Options{Clock: ld.clock, Log: slog.New(slog.DiscardHandler), Journal: supervisor.JournalOf(j),
		Broker: s, Limits: lim, Accounts: specs, Engines: strategies.DefaultConfig(), Schedule: supervisor.DefaultSchedule(),
		Workers: supervisor.InProcess, CoverageGrace: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	nc := connect(t, natsURL, "desk-"+name)
	ld.ob, err = outbox.New(outbox.Options{Desk: name, Journal: j, Conn: nc})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = ld.ob.Run(ctx) }()
	ld.link, err = outbox.StartLink(ctx, outbox.LinkOptions{Desk: name, Conn: nc, Target: ld.d, Outbox: ld.ob, Journal: j,
		Verifier: &wire.Verifier{Desk: name, Key: pub}, BeatEvery: 50 * time.Millisecond, FlatTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := synth.NewReader(synth.Options{Seed: seed, Scale: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	ld.gate = &pauseGate{sim: s, ctx: ctx}
	done := make(chan error, 1)
	go func() {
		defer wg.Done()
		done <- supervisor.RunLive(ctx, ld.d, supervisor.LiveOptions{Feed: &holdFeed{r: rd, ctx: ctx}, Pace: 30, Matcher: ld.gate,
			Clock: ld.clock, MaxBatch: 64})
	}()
	t.Cleanup(func() {
		cancel()
		ld.gate.resume()
		wg.Wait()
		ld.link.Wait()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("%s RunLive: %v", name, err)
		}
	})
	within(t, name+" running with trades flowing", func() bool { return ld.gate.trades() > 100 && ld.status().State == "running" })
	return ld
}

func (ld *liveDesk) status() deskapi.Status { return ld.d.Status(context.Background()) }

// open gives MAN1 a long position through the real intent path.
func (ld *liveDesk) open(t *testing.T) {
	t.Helper()
	last, ok := ld.sim.LastTrade()
	if !ok {
		t.Fatal("no trade at the venue")
	}
	res := ld.d.HandleIntent(context.Background(), intent.Intent{Kind: intent.Enter, Account: "MAN1", Strategy: "test",
		Time: ld.clock.Now().UnixNano(), Side: market.Buy, Qty: 2, EntryType: market.MarketOrder,
		Stop: last.Price - 40, Target: last.Price + 80, Reason: "firm test"})
	if !res.Sent || res.Err != nil {
		t.Fatalf("%s open: %+v", ld.name, res)
	}
	within(t, ld.name+" MAN1 long", func() bool {
		for _, a := range ld.status().Accounts {
			if a.ID == "MAN1" {
				return a.Position == 2
			}
		}
		return false
	})
}

// flatAtVenue: every account flat with nothing working at the venue.
func (ld *liveDesk) flatAtVenue(t *testing.T) bool {
	for _, id := range ld.ids {
		p, err := ld.sim.Position(id)
		if err != nil {
			t.Fatal(err)
		}
		open, err := ld.sim.OpenOrders(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Qty != 0 || len(open) != 0 {
			return false
		}
	}
	return true
}

// diffView compares the firm's view of a desk with the desk's Status:
// accounts, states, positions, average cost, realized, fees, start
// equity, equity (marked at the desk's last price) and working orders.
func diffView(fv firm.DeskView, st deskapi.Status) []string {
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

// sameView waits until the firm's view of every desk equals the desk's
// own (the desks' tick paths paused, so the records stop).
func sameView(t *testing.T, agg *firm.Aggregator, desks []*liveDesk, what string) {
	t.Helper()
	for _, ld := range desks {
		ld.gate.pause()
	}
	defer func() {
		for _, ld := range desks {
			ld.gate.resume()
		}
	}()
	var last []string
	deadline := time.Now().Add(waitFor)
	for {
		last = nil
		v := agg.View()
		for _, ld := range desks {
			var fv *firm.DeskView
			for i := range v.Desks {
				if v.Desks[i].Desk == ld.name {
					fv = &v.Desks[i]
				}
			}
			st := ld.status()
			c, _ := ld.j.Committed()
			switch {
			case fv == nil:
				last = append(last, ld.name+": not in the firm's view")
			case fv.LastSeq != c:
				last = append(last, fmt.Sprintf("%s: firm at seq %d, journal at %d", ld.name, fv.LastSeq, c))
			case fv.Mark != st.LastPrice:
				last = append(last, fmt.Sprintf("%s: firm mark %.2f, desk last %.2f", ld.name, fv.Mark, st.LastPrice))
			default:
				for _, d := range diffView(*fv, st) {
					last = append(last, ld.name+": "+d)
				}
				if len(fv.Gaps) > 0 || len(fv.Errors) > 0 {
					last = append(last, fmt.Sprintf("%s: gaps %v errors %v", ld.name, fv.Gaps, fv.Errors))
				}
			}
		}
		if len(last) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the firm's view never equalled the desks':\n  %s", what, strings.Join(last, "\n  "))
		}
		time.Sleep(5 * time.Millisecond) // poll interval of a condition wait (within's ticker)
	}
}

func TestFirmViewAndKillDuringPartition(t *testing.T) {
	srv := startNATS(t)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	// The third desk reaches NATS through a proxy the test can cut.
	px, err := natstest.NewProxy(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(px.Close)
	desks := []*liveDesk{
		startLiveDesk(t, "east", srv.URL(), pub, 3),
		startLiveDesk(t, "west", srv.URL(), pub, 5),
		startLiveDesk(t, "north", px.URL(), pub, 7),
	}
	agg := startAgg(t, firm.Options{Conn: connect(t, srv.URL(), "firm"), StateFile: filepath.Join(t.TempDir(), "firm.state"),
		Key: priv, Desks: []string{"east", "west", "north"}, BeatEvery: 50 * time.Millisecond, KillRetry: 50 * time.Millisecond,
		KillWait: time.Second})
	for _, ld := range desks {
		ld.open(t)
	}
	sameView(t, agg.a, desks, "with positions open")
	if v := agg.a.View(); v.Gross < 6 {
		t.Fatalf("firm gross %d with three desks long 2 each", v.Gross)
	}

	// Partition north, then the firm kills.
	north := desks[2]
	px.Cut()
	t.Logf("cut at %s", time.Now().Format("15:04:05.000"))
	within(t, "north's outbox to lose the stream", func() bool { return !north.ob.Status().Up })
	t.Logf("north lost the stream at %s", time.Now().Format("15:04:05.000"))
	killID, err := agg.a.Kill(context.Background(), "test-manager", "firm kill during a partition")
	if err != nil {
		t.Fatal(err)
	}
	deskKill := func(name string) firm.DeskKill {
		for _, k := range agg.a.Kills() {
			if k.ID == killID {
				return *k.Desks[name]
			}
		}
		t.Fatalf("kill %s not found", killID)
		return firm.DeskKill{}
	}
	for _, ld := range desks[:2] {
		within(t, ld.name+" acknowledged flat", func() bool { return deskKill(ld.name).Flat })
		st := ld.status()
		if flat, why := deskFlat(st); !flat {
			t.Fatalf("%s acknowledged the firm kill but is not flat: %s", ld.name, why)
		}
		within(t, ld.name+" flat at the venue", func() bool { return ld.flatAtVenue(t) })
		t.Logf("%s flat at %s %+v", ld.name, time.Now().Format("15:04:05.000"), deskKill(ld.name))
	}
	// north cannot hear: it trades on, neither flat nor halted.
	if dk := deskKill("north"); dk.Acked || dk.Flat {
		t.Fatalf("north acknowledged through a partition: %+v", dk)
	}
	if st := north.status(); st.State != "running" {
		t.Fatalf("north is %s while partitioned: NATS being away must never halt a desk", st.State)
	}
	// Heal: north hears a re-issued kill and flattens.
	px.Heal()
	t.Logf("partition healed at %s %+v", time.Now().Format("15:04:05.000"), deskKill("north"))
	within(t, "north acknowledged flat after the partition", func() bool { return deskKill("north").Flat })
	if flat, why := deskFlat(north.status()); !flat {
		t.Fatalf("north acknowledged but is not flat: %s", why)
	}
	within(t, "north flat at the venue", func() bool { return north.flatAtVenue(t) })
	within(t, "the kill done", func() bool {
		for _, k := range agg.a.Kills() {
			if k.ID == killID {
				return k.Done
			}
		}
		return false
	})
	// Each desk journaled the kill with trigger firm, and the firm saw it.
	for _, ld := range desks {
		var kills []string
		if err := ld.j.Iterate(1, func(r journal.Record) error {
			if r.Kind == journal.KindKill {
				k, _ := r.Kill()
				kills = append(kills, k.Trigger+"/"+k.Who)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(kills) == 0 || kills[0] != "firm/firm:test-manager" {
			t.Fatalf("%s journaled kills %v, want the firm's first", ld.name, kills)
		}
	}
	t.Logf("north flat at %s %+v", time.Now().Format("15:04:05.000"), deskKill("north"))
	sameView(t, agg.a, desks, "after the kill")
	for _, dv := range agg.a.View().Desks {
		if dv.Gross != 0 || dv.State != "halted" {
			t.Fatalf("firm view of %s after the kill: gross %d state %s", dv.Desk, dv.Gross, dv.State)
		}
	}
}

func deskFlat(st deskapi.Status) (bool, string) {
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
