package supervisor

// tradovate_rig_test.go: the desk over the real protocol — a supervisor
// Desk (journal on disk, engines off) trading through the Tradovate
// connector with the in-process venue on loopback (broker/venue doing the
// real protocol's unfriendly parts), the venue's events pumped into the
// desk as RunLive pumps them. The desk-side tests of issue 24 run on it.

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/tradovate"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
	"github.com/deskguard/deskguard/strategies"
)

// tvRig is one desk over the Tradovate protocol.
type tvRig struct {
	t      *testing.T
	v      *venue.Venue
	c      *tradovate.Client
	d      *Desk
	j      *journal.Journal
	path   string
	clock  *market.ReplayClock
	alerts *recAlerts
	ids    []string
	now    int64
	px     market.Price

	ctx      context.Context
	cancel   context.CancelFunc
	pumped   chan struct{}
	settling chan struct{}
	stopV    func()
	booked   sync.Mutex // held while a batch is booked or the desk settles (within waits on it)
	settles  int        // Settle calls of the coverage ticker (under booked)
}

// pastGrace waits until the coverage ticker has settled the desk at least
// twice after the coverage grace ran out from now: a gap that opened
// before this call has been looked at past its grace.
func (r *tvRig) pastGrace() {
	r.t.Helper()
	until := time.Now().Add(r.d.opt.CoverageGrace)
	n1 := -1
	r.within("the coverage grace to run out", func() bool {
		if n1 < 0 && time.Now().After(until) {
			n1 = r.settles
		}
		return n1 >= 0 && r.settles >= n1+2
	})
}

// tvOpt says what rig to build.
type tvOpt struct {
	Venue   venue.Config // Accounts default A, B
	Desk    func(*Options)
	Path    string // journal; default a new file
	NoStart bool   // build only (Recover before Start)
	Venue0  *venue.Venue
	// REST, if set, is the base URL the connector's REST calls go to (a
	// proxy in front of the venue); its WebSockets go to the venue.
	REST string
}

func tvLog(t testing.TB) *slog.Logger {
	if os.Getenv("DESKGUARD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startTVVenue runs a Manual venue on loopback.
func startTVVenue(t *testing.T, vcfg venue.Config) (*venue.Venue, func()) {
	t.Helper()
	feed, err := synth.NewReader(synth.Options{Seed: 7, Regime: synth.Range})
	if err != nil {
		t.Fatal(err)
	}
	vcfg.Manual = true
	v, err := venue.New(vcfg, feed, tvLog(t))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- v.Serve(ctx, ln) }()
	select {
	case <-v.Ready():
	case err := <-served:
		t.Fatalf("venue stopped: %v", err)
	}
	var once sync.Once
	return v, func() {
		once.Do(func() {
			cancel()
			if err := <-served; err != nil {
				t.Errorf("venue: %v", err)
			}
		})
	}
}

func tvDial(t *testing.T, v *venue.Venue) *tradovate.Client { return tvDialVia(t, v, v.URL()) }

// tvDialVia dials the venue with REST calls to base.
func tvDialVia(t *testing.T, v *venue.Venue, base string) *tradovate.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws := "ws" + strings.TrimPrefix(v.URL(), "http") + "/websocket"
	c, err := tradovate.Dial(ctx, tradovate.Config{BaseURL: base, WSURL: ws, MDURL: v.MDURL(), User: "demo", Symbol: "MESZ5", CID: 8,
		AppID: "deskguard-test"}, tradovate.Credentials{Password: "demo"},
		tradovate.Options{Log: tvLog(t), Backoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func tvSpecs(ids ...string) []AccountSpec {
	var out []AccountSpec
	for _, id := range ids {
		out = append(out, AccountSpec{EnginesOff: true, Config: accounts.Config{ID: id, StartEquity: decimal.NewFromInt(50000),
			FeesRT: decimal.RequireFromString("1.20"), Strategies: []string{"orb"}}})
	}
	return out
}

// newTVRig builds the venue, the connector and the desk, and starts the
// desk (unless NoStart) with its event pump.
func newTVRig(t *testing.T, o tvOpt) *tvRig {
	t.Helper()
	if len(o.Venue.Accounts) == 0 {
		o.Venue.Accounts = []string{"A", "B"}
	}
	r := &tvRig{t: t, ids: o.Venue.Accounts, alerts: &recAlerts{}, px: market.MustPrice("5100.00")}
	if o.Venue0 != nil {
		r.v, r.stopV = o.Venue0, func() {}
	} else {
		r.v, r.stopV = startTVVenue(t, o.Venue)
	}
	if o.REST != "" {
		r.c = tvDialVia(t, r.v, o.REST)
	} else {
		r.c = tvDial(t, r.v)
	}
	r.path = o.Path
	if r.path == "" {
		r.path = filepath.Join(t.TempDir(), "desk.db")
	}
	r.clock = market.NewReplayClock(time.Date(2024, 3, 12, 10, 0, 0, 0, market.NewYork))
	r.now = r.clock.Now().UnixNano()
	j, err := journal.Open(r.path, journal.Options{Clock: r.clock, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r.j = j
	opt := Options{Clock: r.clock, Log: tvLog(t), Journal: JournalOf(j), Broker: r.c, Accounts: tvSpecs(r.ids...),
		Engines: strategies.DefaultConfig(), Alerts: r.alerts, CoverageGrace: 100 * time.Millisecond,
		Schedule: ScheduleConfig{SessionReset: "off", NoNewEntries: "off", FlattenDay: "off", DailySummary: "off"}}
	if o.Desk != nil {
		o.Desk(&opt)
	}
	d, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	r.d = d
	r.ctx, r.cancel = context.WithCancel(context.Background())
	t.Cleanup(r.close)
	if !o.NoStart {
		r.start()
	}
	return r
}

// start starts the desk and pumps the venue's events into it.
func (r *tvRig) start() {
	r.t.Helper()
	if err := r.d.Start(r.ctx); err != nil {
		r.t.Fatal(err)
	}
	r.pumped = make(chan struct{})
	go func() {
		defer close(r.pumped)
		evs := r.c.Events()
		for {
			select {
			case <-r.ctx.Done():
				return
			case ev, ok := <-evs:
				if !ok {
					return
				}
				r.booked.Lock()
				batch := []broker.Event{ev}
				for len(evs) > 0 && len(batch) < maxEventBatch {
					batch = append(batch, <-evs)
				}
				r.d.OnBrokerEvents(r.ctx, batch)
				if len(evs) == 0 {
					r.d.Settle(r.ctx)
				}
				r.booked.Unlock()
			}
		}
	}()
	if g := r.d.opt.CoverageGrace; g > 0 {
		// As RunLive: a gap is looked at again as its grace runs out.
		r.settling = make(chan struct{})
		go func() {
			defer close(r.settling)
			tk := time.NewTicker(g / 2)
			defer tk.Stop()
			for {
				select {
				case <-r.ctx.Done():
					return
				case <-tk.C:
					r.booked.Lock()
					r.d.Settle(r.ctx)
					r.settles++
					r.booked.Unlock()
				}
			}
		}()
	}
}

// close stops the pump, the connector, the journal and the venue.
func (r *tvRig) close() {
	r.cancel()
	if r.pumped != nil {
		<-r.pumped
		r.pumped = nil
	}
	if r.settling != nil {
		<-r.settling
		r.settling = nil
	}
	r.d.chases.Wait()
	r.d.later.Wait()
	if r.c != nil {
		_ = r.c.Close()
		r.c = nil
	}
	if r.j != nil {
		_ = r.j.Close()
		r.j = nil
	}
	r.stopV()
}

// trade sends one trade at price px to the venue and the desk.
func (r *tvRig) trade(px market.Price) {
	r.now += int64(5 * time.Second) // clear of the per-second order limits
	tr := market.Trade{Time: r.now, Price: px, Size: 1000, Aggressor: market.Buy}
	r.clock.Advance(r.now)
	r.v.Trade(tr)
	r.d.OnTrades(r.ctx, []market.Trade{tr})
}

// enter sends an entry with its bracket through the intent path.
func (r *tvRig) enter(account string, side market.Side, qty int64) IntentResult {
	r.t.Helper()
	s := side.Sign()
	in := intent.Intent{Kind: intent.Enter, Account: account, Strategy: "orb", Side: side, Qty: qty,
		EntryType: market.LimitOrder, Entry: r.px + market.Price(s), Stop: r.px - market.Price(8*s), Target: r.px + market.Price(12*s),
		Reason: "test"}
	res := r.d.HandleIntent(r.ctx, in)
	return res
}

// position is the desk's position of account.
func (r *tvRig) position(account string) int64 {
	a := r.d.byID[account]
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ledger.Position()
}

// venuePos is the venue's position of account.
func (r *tvRig) venuePos(account string) broker.Position {
	p, err := r.v.Engine().Position(account)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

// settled waits until the desk has booked every event the venue has
// pushed so far that cond needs, re-checking as batches are booked.
func (r *tvRig) within(what string, cond func() bool) {
	r.t.Helper()
	withinOr(r.t, 10*time.Second, what, func() bool {
		r.booked.Lock()
		defer r.booked.Unlock()
		return cond()
	}, r.dump)
}

func (r *tvRig) dump() {
	st := r.d.Status(context.Background())
	r.t.Logf("desk %s", st.State)
	for _, a := range st.Accounts {
		p, _ := r.v.Engine().Position(a.ID)
		r.t.Logf("  %s %s pos %d (venue %d) realized %s orders %+v", a.ID, a.State, a.Position, p.Qty, a.Realized, a.Orders)
	}
}

// records reads the journal so far.
func (r *tvRig) records() []journal.Record {
	r.t.Helper()
	var out []journal.Record
	if err := r.j.Iterate(1, func(rec journal.Record) error { out = append(out, rec); return nil }); err != nil {
		r.t.Fatal(err)
	}
	return out
}
