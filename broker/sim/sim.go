// sim.go: the simulated venue's construction, accounts, event delivery
// (channel pump or synchronous Drain) and the venue-view accessors.

// Package sim is a deterministic MES matching engine that implements
// broker.Broker against a stream of printed trades (market.Trade). It holds
// brackets at the venue (entry fills arm the stop and target, which are OCO),
// keeps each account's position and realized PnL in ticks (the venue's own
// view, for reconciliation) and has no wall clock: every event carries the
// time of the trade that caused it, or of the last trade for requests made
// between trades.
//
// Fill rules (see docs/broker.md for the plain statement):
//   - a resting limit fills at its own price when a trade prints through it,
//     or at its price once Config.QueueAhead contracts have traded there since
//     it rested; a limit that is marketable when it arrives fills at the
//     trade price of the next trade that reaches it;
//   - a stop triggers on the first trade at or through its stop price and
//     fills at that trade's price (Event.Slippage reports the ticks past the
//     stop); a stop-limit triggers the same way and then acts as a limit;
//   - market orders fill at the next trade's price;
//   - a trade's size is shared by all orders it can fill, in time priority.
//
// A Sim delivers events in one of two ways, chosen at construction: through
// Events() (an unbounded internal queue pumped into the channel by one
// goroutine, so the engine never blocks and never drops), or, with
// Config.Synchronous, through Drain() for in-process replay.
//
// It may touch broker and market only: no I/O, no clock, no goroutine but the Events pump.
package sim

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

// DefaultPriceBand is the sanity band used when Config.PriceBand is zero:
// prices further than 1000 index points from the last trade are refused.
const DefaultPriceBand market.Price = 1000 * market.TicksPerPoint

// Config configures a Sim.
type Config struct {
	// Accounts known to the venue at start; AddAccount adds more.
	Accounts []string
	// Synchronous selects Drain as the way events leave the venue: Events()
	// then returns a closed channel. When false a goroutine pumps events into
	// Events() and Drain returns nil.
	Synchronous bool
	// QueueAhead is the number of contracts assumed to rest ahead of each
	// limit order when it joins the queue at its price (the venue cannot see
	// the book). Zero is optimistic: the first trade at the price fills it.
	QueueAhead int64
	// PriceBand refuses limit and stop prices further than this from the
	// last trade; zero means DefaultPriceBand.
	PriceBand market.Price
}

// Sim is the simulated venue. It is safe for concurrent use; OnTrade is
// the hot path.
type Sim struct {
	mu  sync.Mutex
	cfg Config

	accts   map[string]*account
	active  []slot // live orders in time priority, with stale slots to skip
	stale   int
	nTrade  uint64 // trades seen; an order matches from trade liveFrom on
	prio    uint64
	seq     uint64
	last    market.Trade
	hasLast bool
	session market.Session
	sessEnd int64 // ns; a trade at or after it may start a new session
	ignored int64

	pending []broker.Event
	closed  bool

	out      chan broker.Event
	signal   chan struct{}
	done     chan struct{}
	pumpDone chan struct{}
	once     sync.Once
}

type slot struct {
	o    *order
	prio uint64
}

var _ broker.Broker = (*Sim)(nil)

// New builds a venue with the configured accounts. An empty or repeated
// account id is an error.
func New(cfg Config) (*Sim, error) {
	if cfg.QueueAhead < 0 {
		return nil, fmt.Errorf("sim: QueueAhead %d is negative", cfg.QueueAhead)
	}
	if cfg.PriceBand < 0 {
		return nil, fmt.Errorf("sim: PriceBand %d is negative", cfg.PriceBand)
	}
	if cfg.PriceBand == 0 {
		cfg.PriceBand = DefaultPriceBand
	}
	s := &Sim{cfg: cfg, accts: make(map[string]*account), done: make(chan struct{})}
	seen := make(map[string]bool, len(cfg.Accounts))
	for _, id := range cfg.Accounts {
		if id == "" {
			return nil, errors.New("sim: empty account id")
		}
		if seen[id] {
			return nil, fmt.Errorf("sim: account %q listed twice", id)
		}
		seen[id] = true
		s.accts[id] = newAccount(id)
	}
	s.out = make(chan broker.Event, 256)
	if cfg.Synchronous {
		close(s.out)
	} else {
		s.signal = make(chan struct{}, 1)
		s.pumpDone = make(chan struct{})
		go s.pump()
	}
	return s, nil
}

// AddAccount makes an account known to the venue. Adding a known account is
// a no-op; an empty id is an error.
func (s *Sim) AddAccount(id string) error {
	if id == "" {
		return errors.New("sim: empty account id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accts[id] == nil {
		s.accts[id] = newAccount(id)
	}
	return nil
}

// Events returns the event stream (Seq order, never dropped). With
// Config.Synchronous it is a closed channel: use Drain.
func (s *Sim) Events() <-chan broker.Event { return s.out }

// Drain returns and removes the pending events in Seq order. It is the way
// events leave a Synchronous venue; on an asynchronous one it returns nil
// (the pump owns the queue).
func (s *Sim) Drain() []broker.Event {
	if !s.cfg.Synchronous {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	evs := s.pending
	s.pending = nil
	return evs
}

// Close stops the venue: later requests fail with broker.ErrDisconnected,
// later trades are ignored and the Events channel is closed. Events not yet
// received when Close is called are discarded. Close is idempotent.
func (s *Sim) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.done)
		if s.pumpDone != nil {
			<-s.pumpDone
		}
	})
	return nil
}

// pump moves queued events into the channel; the engine only appends to
// the queue, so it never blocks on a slow reader.
func (s *Sim) pump() {
	defer close(s.pumpDone)
	defer close(s.out)
	for {
		s.mu.Lock()
		batch := s.pending
		s.pending = nil
		s.mu.Unlock()
		for _, ev := range batch {
			select {
			case s.out <- ev:
			case <-s.done:
				return
			}
		}
		if len(batch) == 0 {
			select {
			case <-s.signal:
			case <-s.done:
				return
			}
		}
	}
}

// emit stamps and queues one event. Caller holds s.mu.
func (s *Sim) emit(ev broker.Event) {
	s.seq++
	ev.Seq = s.seq
	ev.Time = s.last.Time
	s.pending = append(s.pending, ev)
	if s.signal != nil {
		select {
		case s.signal <- struct{}{}:
		default:
		}
	}
}

// LastTrade returns the last trade the venue processed.
func (s *Sim) LastTrade() (market.Trade, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, s.hasLast
}

// IgnoredTrades counts trades OnTrade refused (size or price not positive).
func (s *Sim) IgnoredTrades() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ignored
}

// Position returns the venue's view of one account's position.
func (s *Sim) Position(account string) (broker.Position, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accts[account]
	if a == nil {
		return broker.Position{}, fmt.Errorf("sim: position %q: %w", account, broker.ErrUnknownAccount)
	}
	return a.position(), nil
}

// Order returns the venue's view of one order, working or done.
func (s *Sim) Order(account, clientID string) (broker.OrderState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accts[account]
	if a == nil {
		return broker.OrderState{}, fmt.Errorf("sim: order %q: %w", account, broker.ErrUnknownAccount)
	}
	o := a.orders[clientID]
	if o == nil {
		return broker.OrderState{}, fmt.Errorf("sim: order %s/%s: %w", account, clientID, broker.ErrUnknownOrder)
	}
	return o.st, nil
}

// OpenOrders returns the account's orders that can still trade (working,
// triggered, and bracket legs pending their entry's fill), in submission
// order.
func (s *Sim) OpenOrders(ctx context.Context, account string) ([]broker.OrderState, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sim: open orders %q: %w", account, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("sim: open orders %q: %w", account, broker.ErrDisconnected)
	}
	a := s.accts[account]
	if a == nil {
		return nil, fmt.Errorf("sim: open orders %q: %w", account, broker.ErrUnknownAccount)
	}
	var out []broker.OrderState
	for _, o := range a.list {
		if !o.st.Status.Done() {
			out = append(out, o.st)
		}
	}
	return out, nil
}

// Positions returns every account's position, flat ones included, sorted by
// account id.
func (s *Sim) Positions(ctx context.Context) ([]broker.Position, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sim: positions: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("sim: positions: %w", broker.ErrDisconnected)
	}
	out := make([]broker.Position, 0, len(s.accts))
	for _, a := range s.accts {
		out = append(out, a.position())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out, nil
}

// sessionEndOf returns the Globex close of the session a trade at ns belongs to.
func sessionOf(ns int64) (market.Session, int64) {
	ss := market.SessionOf(time.Unix(0, ns))
	return ss, ss.GlobexClose().UnixNano()
}
