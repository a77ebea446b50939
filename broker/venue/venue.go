// Package venue is a local exchange emulator that speaks the subset of
// Tradovate's API the desk uses (REST auth and orders, the user WebSocket
// with user/syncrequest and props pushes, the md WebSocket with tick
// charts) on loopback, from the broker/sim matching engine and a replayed
// data file or synthetic session. It holds brackets itself and keeps
// matching when clients disconnect, so a supervisor can crash and find its
// protective orders still there.
//
// It does the unfriendly parts of the real protocol too, each behind an
// option (Config.Faults, switched on together by Realistic) or a method
// the tests and the drill call: end-of-history packets and history capped
// by size, penalty tickets on REST and in WebSocket replies (p-ticket,
// p-time, p-captcha), `c` close frames, HTTP 429 with an empty body,
// execution reports and ticks out of id order, capped list answers,
// commands pushed after their execution report and after the REST answer
// (and with an empty clOrdId), placements answered with neither an order
// id nor a failure, positions carried from an earlier trade date, trade
// busts and corrections (TradeCancel, TradeCorrect), a silent server
// (half-open sockets), orders placed on the broker's own platform, the
// broker's own auto-liquidation (userAccountAutoLiq) and account risk
// status, and a cash balance that disagrees. docs/tradovate.md lists what
// it reproduces and what it does not.
//
// It may touch broker, broker/sim, market and coder/websocket, and listens only on the address it is
// given (loopback).
package venue

// This file holds the Venue: configuration, construction, serving, the
// replay of the trade feed into the engine, and the fault-injection hooks.

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
	"sync/atomic"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/market"
)

// Config configures a venue.
type Config struct {
	Accounts []string // account names (accountSpec); ids are assigned from 10001 in this order
	User     string   // the demo user name accesstokenrequest accepts (default "demo")
	Password string   // its password (default "demo")
	Symbol   string   // the one contract traded (default "MESZ5")
	// TokenLifetime is an access token's life (default 90 min, Tradovate's).
	TokenLifetime time.Duration
	// Pace replays the feed at this multiple of real time; 0 = as fast as
	// the engine goes.
	Pace float64
	// Manual leaves the feed alone: trades enter only through Step or Trade.
	Manual bool
	// WaitForChart holds the replay until the first md/getChart Tick
	// subscription, so a desk that connects after the venue starts sees
	// the session from its first trade.
	WaitForChart bool
	// QueueAhead is passed to the engine (contracts assumed ahead of a
	// resting limit).
	QueueAhead int64
	// HeartbeatEvery is the server heartbeat ('h') period (default 2.5 s).
	HeartbeatEvery time.Duration
	// Clock times tokens and penalties (default the wall clock).
	Clock market.Clock
	// Faults switches on the real protocol's unfriendly behaviour.
	Faults Faults
	// Carried are positions held from an earlier trade date at start
	// (prevPos, prevPrice), by account name.
	Carried map[string]Carry
	// StartCash is each account's cash balance at start (default 50,000).
	StartCash float64
}

// Carry is a position carried from an earlier trade date.
type Carry struct {
	Qty   int64 // signed
	Price market.Price
}

// Faults are behaviours of the real service the venue reproduces on
// request (the zero value is the friendly venue).
type Faults struct {
	// ListCap bounds every list answer (/list, /deps, /ldeps, /items) to
	// this many entities, the oldest (lowest ids) first, with nothing to
	// say it was cut: Tradovate limits "the number of entities that one
	// request can return" and the limit varies (example-api-faq
	// docs/HowDoesTradovateLimitRequestsAndData.md). 0 = no cap.
	ListCap int
	// HistoryCap bounds one md/getChart history answer to the newest this
	// many ticks (the data-size limit; docs/HowToHandleDataSizeLimits.md).
	// 0 = 10,000.
	HistoryCap int
	// LateCommands pushes a new order's command entity (the only one that
	// carries clOrdId) after its execution report and after the REST
	// answer; nothing in the protocol orders them.
	LateCommands bool
	// EmptyClOrdID leaves clOrdId empty on command entities.
	EmptyClOrdID bool
	// ShuffleReports pushes the execution reports of one engine step in
	// reverse id order and lists them so in the sync snapshot.
	ShuffleReports bool
	// ShuffleTicks sends every other tick after the one that follows it
	// (tick ids out of order; the tutorial sorts them: example-api-js
	// EX-11-Tick-Charts).
	ShuffleTicks bool
	// CloseFrames sends a `c` frame before the venue closes a socket.
	CloseFrames bool
	// NoAutoLiqRisk leaves userAccountAutoLiq unenforced (the settings are
	// stored and read back, but nothing is liquidated).
	NoAutoLiqRisk bool
}

// Realistic is the fault set `deskguard venue` serves by default: every
// behaviour of the real protocol that a correct client must survive in
// normal operation (the injected ones — penalties, 5xx, silence, busts —
// stay off until asked for).
func Realistic() Faults {
	return Faults{ListCap: 50, HistoryCap: 5000, LateCommands: true, ShuffleReports: true, ShuffleTicks: true, CloseFrames: true}
}

// ContractID is the id of the venue's one contract.
const ContractID = 2_000_001

// Venue is the emulator. Its methods are safe for concurrent use.
type Venue struct {
	chartStart chan struct{} // closed by the first tick-chart subscription
	chartOnce  sync.Once
	cfg        Config
	log        *slog.Logger
	feed       market.TradeReader
	sim        *sim.Sim
	clock      market.Clock

	mu        sync.Mutex // the engine, the entities and the subscribers
	st        *store
	history   []broker.Event // every engine event, in order
	ticks     int64
	feedEnd   bool
	tape      []tapeTick // every trade on the md stream, for chart history
	held      *tapeTick  // ShuffleTicks: the tick sent after the next one
	cashSkew  map[string]float64
	flattened map[string]string // account → the flattenTimestamp already applied
	liqN      int
	extN      int

	subsMu sync.Mutex
	conns  map[*conn]struct{}

	faultMu   sync.Mutex
	failN     int
	failCode  int
	failAfter bool
	penN      int
	penSecs   int
	f429N     int
	noIDN     int
	noIDAct   bool
	spenN     int
	spenSecs  int
	spenCapt  bool
	tickets   map[string]time.Time // p-ticket → earliest retry
	tokens    map[string]tokenInfo
	ticketN   int
	stats     Stats
	statsCond *sync.Cond

	refuseWS atomic.Bool
	rec      recorder // every order placement (record.go)

	url     string
	bounces chan bounce
	done    chan struct{}
	ready   chan struct{}
}

// Stats counts what the venue served.
type Stats struct {
	Requests      int // REST requests
	Auths         int // accesstokenrequest answered with a token
	Renewals      int // renewAccessToken answered with a token
	Penalties     int // penalty tickets issued
	Injected5xx   int
	Unauthorized  int // REST requests refused with 401
	SocketsOpened int
	Syncs         int // user/syncrequest answered
	Restarts      int // Bounce
	Trades        int64
	Injected429   int // REST requests answered 429 with an empty body
	NoOrderID     int // placements answered with neither orderId nor failure
	CappedLists   int // list answers cut to Faults.ListCap
	// SocketPenalties counts WebSocket replies that were a penalty ticket.
	SocketPenalties   int
	SocketRetried     int // WebSocket requests that came back with their ticket
	Silenced          int // sockets made silent
	CloseFrames       int // `c` frames sent
	History           int // md/getChart history answers
	RiskWritesIgnored int // userAccountAutoLiq writes ignored (changesLocked)
	AutoLiquidations  int
	ExternalRefused   int // a trader's order on the broker's platform refused: the account liquidate-only or locked
	Busts             int
	Corrections       int
}

type tokenInfo struct {
	expires time.Time
	md      bool
}

// New builds a venue over feed (nil with Manual and Trade-only tests).
func New(cfg Config, feed market.TradeReader, log *slog.Logger) (*Venue, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Accounts) == 0 {
		return nil, errors.New("venue: no accounts")
	}
	if cfg.User == "" {
		cfg.User = "demo"
	}
	if cfg.Password == "" {
		cfg.Password = "demo"
	}
	if cfg.Symbol == "" {
		cfg.Symbol = "MESZ5"
	}
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = 90 * time.Minute
	}
	if cfg.HeartbeatEvery <= 0 {
		cfg.HeartbeatEvery = 2500 * time.Millisecond
	}
	if cfg.Pace < 0 {
		return nil, fmt.Errorf("venue: pace %v is negative", cfg.Pace)
	}
	if cfg.Clock == nil {
		cfg.Clock = market.WallClock{}
	}
	if feed == nil && !cfg.Manual {
		return nil, errors.New("venue: no feed (use Manual for a feed-less venue)")
	}
	if cfg.StartCash == 0 {
		cfg.StartCash = 50000
	}
	if cfg.Faults.HistoryCap <= 0 {
		cfg.Faults.HistoryCap = 10000
	}
	s, err := sim.New(sim.Config{Accounts: cfg.Accounts, Synchronous: true, QueueAhead: cfg.QueueAhead})
	if err != nil {
		return nil, fmt.Errorf("venue: %w", err)
	}
	v := &Venue{cfg: cfg, log: log, feed: feed, sim: s, clock: cfg.Clock, st: newStore(cfg),
		conns: map[*conn]struct{}{}, tickets: map[string]time.Time{}, tokens: map[string]tokenInfo{},
		done: make(chan struct{}), ready: make(chan struct{}), chartStart: make(chan struct{}), bounces: make(chan bounce)}
	v.statsCond = sync.NewCond(&v.faultMu)
	v.cashSkew, v.flattened = map[string]float64{}, map[string]string{}
	v.st.tradeDay = dayOf(cfg.Clock.Now().UnixNano())
	for _, a := range sortedKeys(cfg.Carried) {
		c := cfg.Carried[a]
		if _, ok := v.st.acctID[a]; !ok {
			return nil, fmt.Errorf("venue: carried position of unknown account %q", a)
		}
		if c.Qty == 0 || c.Price <= 0 {
			return nil, fmt.Errorf("venue: carried position of %q: qty %d at %d", a, c.Qty, c.Price)
		}
		v.st.carried[a] = c
		if err := v.rebook(a); err != nil {
			return nil, err
		}
		v.refreshPosition(a)
	}
	return v, nil
}

// Serve serves on ln until ctx ends, replaying the feed unless Manual.
// Bounce closes and reopens the listener in between.
func (v *Venue) Serve(ctx context.Context, ln net.Listener) error {
	v.mu.Lock()
	v.url = "http://" + ln.Addr().String()
	v.mu.Unlock()
	close(v.ready)
	mux := http.NewServeMux()
	v.routes(mux)
	feedDone := make(chan struct{})
	go func() {
		defer close(feedDone)
		if !v.cfg.Manual {
			if v.cfg.WaitForChart {
				select {
				case <-ctx.Done():
					return
				case <-v.chartStart:
				}
			}
			v.replay(ctx)
		}
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
			// A restart: the listener and every connection go, tokens are
			// forgotten; orders, positions and the feed stay.
			addr := ln.Addr().String()
			v.DropWebSockets()
			_ = srv.Close()
			<-errc
			v.faultMu.Lock()
			clear(v.tokens)
			v.stats.Restarts++
			v.faultMu.Unlock()
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
				err = fmt.Errorf("venue: listen again after a restart: %w", lerr)
				break serve
			}
			ln = nl
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	v.DropWebSockets()
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

// Bounce restarts the venue's gateway as a venue restart would look to
// its clients: the listener and every connection close, every token is
// forgotten, connections are refused for down, then it serves again on
// the same address. Orders, positions, brackets and the feed are kept (an
// exchange does not lose them; see RELIABILITY.md). It returns once the
// venue listens again.
func (v *Venue) Bounce(ctx context.Context, down time.Duration) error {
	b := bounce{down: down, done: make(chan error, 1)}
	select {
	case v.bounces <- b:
	case <-ctx.Done():
		return ctx.Err()
	case <-v.done:
		return errors.New("venue: not serving")
	}
	select {
	case err := <-b.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ChartSubscribed is closed at the first tick-chart subscription.
func (v *Venue) ChartSubscribed() <-chan struct{} { return v.chartStart }

// ChartSubscribers counts the connections subscribed to the tick chart now.
func (v *Venue) ChartSubscribers() int {
	v.subsMu.Lock()
	defer v.subsMu.Unlock()
	n := 0
	for c := range v.conns {
		if c.md && len(c.charts) > 0 {
			n++
		}
	}
	return n
}

// Ready is closed once Serve has its address (URL is valid).
func (v *Venue) Ready() <-chan struct{} { return v.ready }

// URL returns the REST root, e.g. http://127.0.0.1:PORT/v1 (empty before Serve).
func (v *Venue) URL() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.url == "" {
		return ""
	}
	return v.url + "/v1"
}

// WSURL returns the user WebSocket URL.
func (v *Venue) WSURL() string { return wsScheme(v.URL()) + "/websocket" }

// MDURL returns the market-data WebSocket URL.
func (v *Venue) MDURL() string { return wsScheme(v.URL()) + "/md/websocket" }

func wsScheme(u string) string {
	if len(u) > 4 && u[:4] == "http" {
		return "ws" + u[4:]
	}
	return u
}

// replay feeds trades at the configured pace until the feed ends or ctx does.
func (v *Venue) replay(ctx context.Context) {
	var t0 int64
	var w0 time.Time
	for ctx.Err() == nil {
		t, err := v.feed.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				v.log.Error("venue: feed", "err", err)
			} else {
				v.log.Info("venue: feed ended; still serving (orders rest, no more trades)")
			}
			v.mu.Lock()
			v.feedEnd = true
			v.mu.Unlock()
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
		return 0, errors.New("venue: no feed")
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

// Trade feeds one trade to the engine and the market-data stream, and
// pushes the resulting order, fill and position changes.
func (v *Venue) Trade(t market.Trade) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.sim.OnTrade(t)
	v.ticks++
	v.applyLocked()
	v.enforceAutoLiqLocked(t)
	v.flushDeferred()
	tk := tapeTick{id: v.ticks, t: t}
	v.tape = append(v.tape, tk)
	v.sendTick(tk)
	v.faultMu.Lock()
	v.stats.Trades++
	v.faultMu.Unlock()
}

// sendTick broadcasts a tick, or with ShuffleTicks holds every other one
// back until the next is sent. Caller holds v.mu.
func (v *Venue) sendTick(tk tapeTick) {
	if !v.cfg.Faults.ShuffleTicks {
		v.broadcastTick(tk.t, tk.id)
		return
	}
	if v.held == nil {
		v.held = &tk
		return
	}
	h := *v.held
	v.held = nil
	v.broadcastTick(tk.t, tk.id)
	v.broadcastTick(h.t, h.id)
}

// OrderID returns the venue's order id of an order by the engine's
// ClientID (0 if none), for tests to name what a client sees.
func (v *Venue) OrderID(account, clientID string) int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.st.byCl[ckey{account, clientID}]
}

// History returns every event the engine emitted so far, in order: the
// venue's own account of what happened, to compare a client's with.
func (v *Venue) History() []broker.Event {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]broker.Event(nil), v.history...)
}

// HistorySince returns the engine's events from index n on (History()[n:]
// without copying the rest).
func (v *Venue) HistorySince(n int) []broker.Event {
	v.mu.Lock()
	defer v.mu.Unlock()
	if n >= len(v.history) {
		return nil
	}
	return append([]broker.Event(nil), v.history[n:]...)
}

// Engine returns the matching engine (read its Position and OpenOrders to
// compare with a client's view; do not submit to it directly).
func (v *Venue) Engine() *sim.Sim { return v.sim }

// Positions returns the engine's positions of every account.
func (v *Venue) Positions() []broker.Position {
	ps, _ := v.sim.Positions(context.Background())
	sort.Slice(ps, func(i, j int) bool { return ps[i].Account < ps[j].Account })
	return ps
}

// DropWebSockets closes every WebSocket at once, as a network cut would
// (with Faults.CloseFrames, as a server closing its sessions: a `c` frame
// first).
func (v *Venue) DropWebSockets() {
	if v.cfg.Faults.CloseFrames {
		v.CloseWebSockets(1001, "venue closing the session")
		return
	}
	v.subsMu.Lock()
	cs := make([]*conn, 0, len(v.conns))
	for c := range v.conns {
		cs = append(cs, c)
	}
	v.subsMu.Unlock()
	for _, c := range cs {
		c.kill()
	}
}

// Fail429Next answers the next n REST requests (auth excluded) with HTTP
// 429 and an empty body, before acting on them.
func (v *Venue) Fail429Next(n int) {
	v.faultMu.Lock()
	v.f429N = n
	v.faultMu.Unlock()
}

// NoOrderIDNext answers the next n placements (placeorder, placeoso) with
// HTTP 200 and neither an orderId nor a failure; with act they are placed
// first, without it they are not.
func (v *Venue) NoOrderIDNext(n int, act bool) {
	v.faultMu.Lock()
	v.noIDN, v.noIDAct = n, act
	v.faultMu.Unlock()
}

// PenalizeSocketNext answers the next n user/syncrequest and md/getChart
// requests with a penalty ticket in the reply's d (p-ticket, p-time
// seconds; p-captcha with captcha): the request is served again when it
// comes back with the ticket after p-time.
func (v *Venue) PenalizeSocketNext(n, seconds int, captcha bool) {
	v.faultMu.Lock()
	v.spenN, v.spenSecs, v.spenCapt = n, seconds, captcha
	v.faultMu.Unlock()
}

// FailNextREST answers the next n REST requests (auth excluded) with
// status before acting on them.
func (v *Venue) FailNextREST(n, status int) {
	v.faultMu.Lock()
	v.failN, v.failCode, v.failAfter = n, status, false
	v.faultMu.Unlock()
}

// FailNextRESTAfter acts on the next n REST requests (auth excluded) and
// then answers them with status: the client cannot know they took effect.
func (v *Venue) FailNextRESTAfter(n, status int) {
	v.faultMu.Lock()
	v.failN, v.failCode, v.failAfter = n, status, true
	v.faultMu.Unlock()
}

// PenalizeNext answers the next n POST requests with a penalty ticket
// (HTTP 200, p-ticket, p-time seconds); a retry carrying the ticket after
// p-time is served.
func (v *Venue) PenalizeNext(n, seconds int) {
	v.faultMu.Lock()
	v.penN, v.penSecs = n, seconds
	v.faultMu.Unlock()
}

// ExpireTokens expires every token issued so far (REST answers 401).
func (v *Venue) ExpireTokens() {
	v.faultMu.Lock()
	for k, t := range v.tokens {
		t.expires = v.clock.Now().Add(-time.Second)
		v.tokens[k] = t
	}
	v.faultMu.Unlock()
}

// Stats returns the counters.
func (v *Venue) Stats() Stats {
	v.faultMu.Lock()
	defer v.faultMu.Unlock()
	return v.stats
}

// WaitStats blocks until cond holds for the counters or ctx ends.
func (v *Venue) WaitStats(ctx context.Context, cond func(Stats) bool) error {
	stop := context.AfterFunc(ctx, func() {
		v.faultMu.Lock()
		v.statsCond.Broadcast()
		v.faultMu.Unlock()
	})
	defer stop()
	v.faultMu.Lock()
	defer v.faultMu.Unlock()
	for !cond(v.stats) {
		if err := ctx.Err(); err != nil {
			return err
		}
		v.statsCond.Wait()
	}
	return nil
}

func (v *Venue) count(f func(*Stats)) {
	v.faultMu.Lock()
	f(&v.stats)
	v.statsCond.Broadcast()
	v.faultMu.Unlock()
}
