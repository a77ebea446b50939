// Package rithmic is the local venue's R|Protocol side: the same matching
// engine as the Tradovate venue (broker/sim) behind Rithmic's protocol —
// protobuf frames over a WebSocket, one login per plant (ticker, order,
// PnL) on its own connection, heartbeats, 75 rejects and 77 forced
// logouts — serving a replayed data file or a synthetic session on
// loopback. It speaks plain ws:// (a real Rithmic gateway is wss:// on
// port 443; the desk's connector speaks both).
//
// It does the unfriendly parts of the real thing: subscriptions are lost
// with the connection; brackets (330) are held in ticks from the entry's
// fill and their exits appear as new orders only when the entry fills; the
// order plant sends the Rithmic-side (351) and exchange-side (352)
// notifications of every change, and 351s can be delivered late, after the
// 352s; only executions can be replayed (3506), so anything else missed
// while disconnected must be read from the order snapshot (320); it does
// not deduplicate user_tag (a client that sends an order twice gets two);
// exit position (3504) flattens without cancelling working orders; clients
// that stop heartbeating are dropped; past the session limit the oldest
// session is forced out. Tests inject dropped sockets, forced logouts,
// rejects, late notifications, silent or down plants, connections dropped
// before or after a new order is acted on, and restarts. Where the public
// sources are silent this venue assumes the worst case; docs/rithmic.md
// lists what it reproduces and what it does not.
//
// Field numbers and template ids come from broker/rithmic/rpb (see its
// .proto files for the sources).
package rithmic

// venue.go: configuration, construction, serving and restarts, the
// replay of the trade feed into the engine, the venue's own records, and
// the fault-injection hooks.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/rithmic/rpb"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/market"
)

// Plants, as a login names them.
const (
	Ticker = rpb.InfraType_INFRA_TICKER_PLANT
	Order  = rpb.InfraType_INFRA_ORDER_PLANT
	PnL    = rpb.InfraType_INFRA_PNL_PLANT
)

// Config configures a venue.
type Config struct {
	Accounts   []string // account ids (Rithmic account_id), in this order
	User       string   // the user a login accepts (default "demo")
	Password   string   // its password (default "demo")
	SystemName string   // the one system served (default "deskguard venue")
	Symbol     string   // the contract traded (default "MESZ5")
	Root       string   // its product code, for front month lookups (default "MES")
	Exchange   string   // default "CME"
	FCM, IB    string   // login info ids (defaults "deskguard-fcm", "deskguard-ib")
	TradeRoute string   // the one trade route (default "simulator")
	// HeartbeatEvery is the interval the login returns (default 5 s); a
	// logged-in client that sends nothing for IdleTimeout (default 3 ×
	// HeartbeatEvery) is dropped.
	HeartbeatEvery, IdleTimeout time.Duration
	// MaxSessions per user and plant (default 4): a login past it forces
	// the oldest session of that plant out (77).
	MaxSessions int
	// TickValue is the currency value of one tick per contract, for the
	// PnL plant (default 1.25, MES).
	TickValue float64
	// StartingBalance is every account's cash at the start of the venue's
	// day, in currency (default 50000): the PnL plant's account balance
	// and cash on hand (451) count from it, and the RMS's threshold.
	StartingBalance float64
	// Pace replays the feed at this multiple of real time; 0 = as fast as
	// the engine goes. Manual leaves the feed alone: trades enter only
	// through Step or Trade. WaitForSubscribe holds the replay until the
	// first market data subscription.
	Pace             float64
	Manual           bool
	WaitForSubscribe bool
	QueueAhead       int64        // passed to the engine
	Clock            market.Clock // the time before the first trade (default the wall clock)
}

func (c Config) withDefaults() Config {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.User, "demo")
	def(&c.Password, "demo")
	def(&c.SystemName, "deskguard venue")
	def(&c.Symbol, "MESZ5")
	def(&c.Root, "MES")
	def(&c.Exchange, "CME")
	def(&c.FCM, "deskguard-fcm")
	def(&c.IB, "deskguard-ib")
	def(&c.TradeRoute, "simulator")
	if c.HeartbeatEvery <= 0 {
		c.HeartbeatEvery = 5 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 3 * c.HeartbeatEvery
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = 4
	}
	if c.TickValue <= 0 {
		c.TickValue = 1.25
	}
	if c.StartingBalance <= 0 {
		c.StartingBalance = 50000
	}
	if c.Clock == nil {
		c.Clock = market.WallClock{}
	}
	return c
}

// Stats counts what the venue served.
type Stats struct {
	SocketsOpened int
	Logins        map[rpb.InfraType]int
	LoginsRefused int
	ForcedLogouts int
	Rejects       int // 75s sent
	Subscriptions int // market data subscriptions
	NewOrders     int // 312 and 330 acted on
	Dropped       int // connections closed by a fault or for idleness
	Restarts      int
	Trades        int64
	RMSRefused    int // new orders the RMS refused (loss limit reached)
	RMSActions    int // accounts whose loss limit the RMS acted on
	RMSUpdates    int // 356s sent (or scheduled, with LateRMS)
}

func (s Stats) clone() Stats {
	m := make(map[rpb.InfraType]int, len(s.Logins))
	for k, v := range s.Logins {
		m[k] = v
	}
	s.Logins = m
	return s
}

// Venue is the emulator. Its methods are safe for concurrent use.
type Venue struct {
	cfg  Config
	log  *slog.Logger
	feed market.TradeReader
	sim  *sim.Sim

	mu       sync.Mutex // everything below, and every conn's guarded fields
	conns    map[*conn]struct{}
	baskets  map[string]*basket // by basket id
	order    []*basket          // in creation order
	bySim    map[simKey]*basket // by the engine's (account, client id)
	legs     map[simKey]*leg    // bracket legs by the engine's id
	history  []broker.Event     // every engine event, with the clients' ids
	fills    map[string][]*rpb.ExchangeOrderNotification
	acct     map[string]*acctStats
	nextID   int64
	nextSeq  int64
	nextFill int64
	last     market.Trade
	hasLast  bool
	pending  []func()             // engine follow-ups after a drain (bracket re-anchoring)
	rms      map[string]*rmsLimit // the RMS's limits by account (rms.go)
	rmsOut   []string             // accounts whose 356 waits for the engine to settle

	subOnce    sync.Once
	subscribed chan struct{}

	// faults (guarded by mu)
	rejectNext int
	dropBefore int
	dropAfter  int
	late       time.Duration
	lateRMS    time.Duration
	refuseRMS  int
	down       map[rpb.InfraType]time.Time
	silent     map[rpb.InfraType]time.Time
	beforeReq  func(plant rpb.InfraType, tpl int32)

	stats     Stats
	statsCond *sync.Cond

	url     string
	ready   chan struct{}
	done    chan struct{}
	bounces chan bounce
}

type simKey struct{ account, id string }

type acctStats struct{ bought, sold int64 }

// New builds a venue over feed (nil with Manual).
func New(cfg Config, feed market.TradeReader, log *slog.Logger) (*Venue, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Accounts) == 0 {
		return nil, errors.New("rithmic venue: no accounts")
	}
	if cfg.Pace < 0 {
		return nil, fmt.Errorf("rithmic venue: pace %v is negative", cfg.Pace)
	}
	if feed == nil && !cfg.Manual {
		return nil, errors.New("rithmic venue: no feed (use Manual for a feed-less venue)")
	}
	cfg = cfg.withDefaults()
	s, err := sim.New(sim.Config{Accounts: cfg.Accounts, Synchronous: true, QueueAhead: cfg.QueueAhead})
	if err != nil {
		return nil, fmt.Errorf("rithmic venue: %w", err)
	}
	v := &Venue{cfg: cfg, log: log, feed: feed, sim: s, conns: map[*conn]struct{}{}, baskets: map[string]*basket{},
		bySim: map[simKey]*basket{}, rms: map[string]*rmsLimit{}, legs: map[simKey]*leg{}, fills: map[string][]*rpb.ExchangeOrderNotification{},
		acct: map[string]*acctStats{}, subscribed: make(chan struct{}), down: map[rpb.InfraType]time.Time{},
		silent: map[rpb.InfraType]time.Time{}, stats: Stats{Logins: map[rpb.InfraType]int{}},
		ready: make(chan struct{}), done: make(chan struct{}), bounces: make(chan bounce)}
	for _, a := range cfg.Accounts {
		v.acct[a] = &acctStats{}
	}
	v.statsCond = sync.NewCond(&v.mu)
	return v, nil
}

// Serve serves on ln until ctx ends, replaying the feed unless Manual.
// Bounce closes and reopens the listener in between.
func (v *Venue) Serve(ctx context.Context, ln net.Listener) error {
	v.mu.Lock()
	v.url = "ws://" + ln.Addr().String()
	v.mu.Unlock()
	close(v.ready)
	mux := http.NewServeMux()
	mux.HandleFunc("/", v.serveWS)
	feedDone := make(chan struct{})
	go func() {
		defer close(feedDone)
		if v.cfg.Manual {
			return
		}
		if v.cfg.WaitForSubscribe {
			select {
			case <-ctx.Done():
				return
			case <-v.subscribed:
			}
		}
		v.replay(ctx)
	}()
	var err error
	var srv *http.Server
serve:
	for {
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
			BaseContext: func(net.Listener) context.Context { return ctx }}
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		select {
		case <-ctx.Done():
			break serve
		case err = <-errc:
			break serve
		case b := <-v.bounces:
			addr := ln.Addr().String()
			v.closeConns(func(*conn) bool { return true })
			_ = srv.Close()
			<-errc
			v.count(func(s *Stats) { s.Restarts++ })
			t := time.NewTimer(b.down) // the outage itself (fault injection)
			select {
			case <-ctx.Done():
				t.Stop()
				b.done <- ctx.Err()
				break serve
			case <-t.C:
			}
			nl, lerr := net.Listen("tcp", addr)
			b.done <- lerr
			if lerr != nil {
				err = fmt.Errorf("rithmic venue: listen again after a restart: %w", lerr)
				break serve
			}
			ln = nl
		}
	}
	v.closeConns(func(*conn) bool { return true })
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	<-feedDone
	v.sim.Close()
	close(v.done)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

type bounce struct {
	down time.Duration
	done chan error
}

// Bounce restarts the gateway as a venue restart looks to its clients:
// the listener and every connection close, connections are refused for
// down, then it serves again on the same address. Orders, positions,
// brackets and the feed are kept. It returns once the venue listens again.
func (v *Venue) Bounce(ctx context.Context, down time.Duration) error {
	b := bounce{down: down, done: make(chan error, 1)}
	select {
	case v.bounces <- b:
	case <-ctx.Done():
		return ctx.Err()
	case <-v.done:
		return errors.New("rithmic venue: not serving")
	}
	select {
	case err := <-b.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Ready is closed once Serve has its address (URL is valid).
func (v *Venue) Ready() <-chan struct{} { return v.ready }

// URL is the gateway's address, e.g. ws://127.0.0.1:PORT (every plant logs
// in there).
func (v *Venue) URL() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.url
}

// SystemName is the one system the venue serves.
func (v *Venue) SystemName() string { return v.cfg.SystemName }

// Subscribed is closed at the first market data subscription.
func (v *Venue) Subscribed() <-chan struct{} { return v.subscribed }

// ChartSubscribed is Subscribed, named as the Tradovate venue's.
func (v *Venue) ChartSubscribed() <-chan struct{} { return v.subscribed }

// Subscribers counts the connections subscribed to market data now.
func (v *Venue) Subscribers() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for c := range v.conns {
		if c.plant == Ticker && c.mdBits != 0 {
			n++
		}
	}
	return n
}

// replay feeds trades at the configured pace until the feed ends or ctx does.
func (v *Venue) replay(ctx context.Context) {
	var t0 int64
	var w0 time.Time
	for ctx.Err() == nil {
		t, err := v.feed.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				v.log.Error("rithmic venue: feed", "err", err)
			} else {
				v.log.Info("rithmic venue: feed ended; still serving (orders rest, no more trades)")
			}
			return
		}
		if v.cfg.Pace > 0 {
			if t0 == 0 {
				t0, w0 = t.Time, time.Now()
			}
			due := w0.Add(time.Duration(float64(t.Time-t0) / v.cfg.Pace))
			if d := time.Until(due); d > 0 {
				timer := time.NewTimer(d)
				select {
				case <-ctx.Done():
					timer.Stop()
					return
				case <-timer.C:
				}
			}
		}
		v.Trade(t)
	}
}

// Step feeds the next n trades of the feed (Manual venues, tests). It
// returns how many it fed; io.EOF when the feed ended first.
func (v *Venue) Step(n int) (int, error) {
	if v.feed == nil {
		return 0, errors.New("rithmic venue: no feed")
	}
	for i := 0; i < n; i++ {
		t, err := v.feed.Next()
		if err != nil {
			return i, err
		}
		v.Trade(t)
	}
	return n, nil
}

// Trade feeds one trade to the engine and the ticker plant, and sends the
// resulting order notifications. It returns once they are queued.
func (v *Venue) Trade(t market.Trade) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.sim.OnTrade(t)
	v.last, v.hasLast = t, true
	v.applyLocked()
	v.broadcastTradeLocked(t)
	v.stats.Trades++
	v.statsCond.Broadcast()
}

// History returns every event the engine emitted so far, in order, with
// the clients' order ids (user_tag) and roles: the venue's own account of
// what happened. Orders the venue made itself (exit position) are
// "liquidate.ACCOUNT.BASKET".
func (v *Venue) History() []broker.Event {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]broker.Event(nil), v.history...)
}

// HistorySince returns History()[n:].
func (v *Venue) HistorySince(n int) []broker.Event {
	v.mu.Lock()
	defer v.mu.Unlock()
	if n >= len(v.history) {
		return nil
	}
	return append([]broker.Event(nil), v.history[n:]...)
}

// Engine returns the matching engine (read its Position and OpenOrders to
// compare with a client's view; its client ids are the venue's basket
// ids, not the clients' user tags; do not submit to it directly).
func (v *Venue) Engine() *sim.Sim { return v.sim }

// Positions returns the engine's positions of every account.
func (v *Venue) Positions() []broker.Position {
	ps, _ := v.sim.Positions(context.Background())
	sort.Slice(ps, func(i, j int) bool { return ps[i].Account < ps[j].Account })
	return ps
}

// Stats returns the counters.
func (v *Venue) Stats() Stats {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.stats.clone()
}

// WaitStats blocks until cond holds for the counters or ctx ends.
func (v *Venue) WaitStats(ctx context.Context, cond func(Stats) bool) error {
	stop := context.AfterFunc(ctx, func() {
		v.mu.Lock()
		v.statsCond.Broadcast()
		v.mu.Unlock()
	})
	defer stop()
	v.mu.Lock()
	defer v.mu.Unlock()
	for !cond(v.stats.clone()) {
		if err := ctx.Err(); err != nil {
			return err
		}
		v.statsCond.Wait()
	}
	return nil
}

func (v *Venue) count(f func(*Stats)) {
	v.mu.Lock()
	f(&v.stats)
	v.statsCond.Broadcast()
	v.mu.Unlock()
}

// countLocked is count with v.mu held.
func (v *Venue) countLocked(f func(*Stats)) {
	f(&v.stats)
	v.statsCond.Broadcast()
}

// now is the venue's time: the last trade's, else its clock's.
func (v *Venue) nowLocked() int64 {
	if v.hasLast {
		return v.last.Time
	}
	return v.cfg.Clock.Now().UnixNano()
}

// closeConns closes every connection pick selects.
func (v *Venue) closeConns(pick func(*conn) bool) int {
	v.mu.Lock()
	var cs []*conn
	for c := range v.conns {
		if pick(c) {
			cs = append(cs, c)
		}
	}
	v.mu.Unlock()
	for _, c := range cs {
		c.kill()
	}
	return len(cs)
}

// DropSockets closes every connection at once, as a network cut would.
func (v *Venue) DropSockets() {
	n := v.closeConns(func(*conn) bool { return true })
	v.count(func(s *Stats) { s.Dropped += n })
}

// DropPlant closes the connections logged in to one plant.
func (v *Venue) DropPlant(p rpb.InfraType) {
	n := v.closeConns(func(c *conn) bool { return c.plant == p })
	v.count(func(s *Stats) { s.Dropped += n })
}

// PlantDown takes one plant down for d while the others stay up: its
// connections close and its logins are refused until d has passed.
func (v *Venue) PlantDown(p rpb.InfraType, d time.Duration) {
	v.RefuseLogins(p, d)
	v.DropPlant(p)
}

// RefuseLogins refuses one plant's logins for d; sessions already logged
// in stay.
func (v *Venue) RefuseLogins(p rpb.InfraType, d time.Duration) {
	v.mu.Lock()
	v.down[p] = time.Now().Add(d)
	v.mu.Unlock()
}

// ForceLogout sends ForcedLogout (77) to every session of one plant and
// closes them.
func (v *Venue) ForceLogout(p rpb.InfraType) {
	v.mu.Lock()
	var cs []*conn
	for c := range v.conns {
		if c.plant == p {
			cs = append(cs, c)
		}
	}
	for _, c := range cs {
		c.forceOutLocked()
	}
	v.mu.Unlock()
}

// Silence makes one plant's sessions silent for d: nothing is written to
// them (no heartbeat answers, no notifications, no responses); what was
// held is written after d if the client is still there.
func (v *Venue) Silence(p rpb.InfraType, d time.Duration) {
	v.mu.Lock()
	v.silent[p] = time.Now().Add(d)
	v.mu.Unlock()
}

// RejectNext answers the next n order plant requests (logins, heartbeats
// and logouts excluded) with a Reject (75) instead of acting on them.
func (v *Venue) RejectNext(n int) {
	v.mu.Lock()
	v.rejectNext = n
	v.mu.Unlock()
}

// BeforeRequest calls f with each request's plant and template on the
// connection that sent it, before the venue answers it (nil removes it).
// Tests use it to make something happen at an exact point of a client's
// sequence — a fill pushed between a reconnect's order subscriptions and
// its execution replay, as can happen at a real gateway. f runs without
// the venue's lock held: it may call Trade and the fault methods.
func (v *Venue) BeforeRequest(f func(plant rpb.InfraType, tpl int32)) {
	v.mu.Lock()
	v.beforeReq = f
	v.mu.Unlock()
}

// DropBeforeActing closes the connection that sends one of the next n new
// orders (312, 330) without acting on it.
func (v *Venue) DropBeforeActing(n int) {
	v.mu.Lock()
	v.dropBefore = n
	v.mu.Unlock()
}

// DropAfterActing acts on each of the next n new orders (312, 330) and
// closes the connection that sent it before answering: the client cannot
// know whether the order exists.
func (v *Venue) DropAfterActing(n int) {
	v.mu.Lock()
	v.dropAfter = n
	v.mu.Unlock()
}

// LateNotifications delays every Rithmic-side order notification (351) by
// d, so that the exchange-side ones (352) and responses overtake them; 0
// ends it.
func (v *Venue) LateNotifications(d time.Duration) {
	v.mu.Lock()
	v.late = d
	v.mu.Unlock()
}
