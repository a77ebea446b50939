// This file is the market-data feed: md/getChart tick-chart packets from
// the md WebSocket turned into market.Trades, with the aggressor inferred
// from the trade against the bid and ask (the packets carry no aggressor).

package tradovate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskguard/deskguard/market"
)

// tickPacket is one tick-chart packet: price = (bp + p) × ts, time = bt + t.
type tickPacket struct {
	ID  int64     `json:"id"`
	TD  int64     `json:"td"`
	BP  int64     `json:"bp"`
	BT  int64     `json:"bt"`
	TS  float64   `json:"ts"`
	EOH bool      `json:"eoh"`
	Tks []tickRaw `json:"tks"`
}

type tickRaw struct {
	T  int64 `json:"t"`
	P  int64 `json:"p"`
	S  int64 `json:"s"`
	B  int64 `json:"b"`
	A  int64 `json:"a"`
	BS int64 `json:"bs"`
	AS int64 `json:"as"`
	ID int64 `json:"id"`
}

type chartPush struct {
	Charts []tickPacket `json:"charts"`
}

type getChartReq struct {
	Symbol           string         `json:"symbol"`
	ChartDescription map[string]any `json:"chartDescription"`
	TimeRange        map[string]any `json:"timeRange"`
}

// Feed streams the venue's trades. It implements market.TradeReader: Next
// blocks until the next trade, and returns io.EOF after Close.
type Feed struct {
	log    *slog.Logger
	ch     chan market.Trade
	done   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	up atomic.Bool // subscribed to the tick chart

	mu     sync.Mutex
	rule   market.TickRule
	lastID int64
	seq    uint64
	err    error
}

var _ market.TradeReader = (*Feed)(nil)

// Subscribed reports whether the md socket is up and subscribed to the
// tick chart; while it is false the feed is reconnecting and no trades
// arrive.
func (f *Feed) Subscribed() bool { return f.up.Load() }

// NewFeed authenticates on its own and subscribes to the tick chart of the
// configured symbol on the md WebSocket.
func NewFeed(ctx context.Context, cfg Config, creds Credentials, opt Options) (*Feed, error) {
	cfg = cfg.withDefaults()
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Clock == nil {
		opt.Clock = market.WallClock{}
	}
	r := newREST(cfg, creds, opt.Log, opt.Clock)
	if err := r.authenticate(ctx); err != nil {
		return nil, err
	}
	return startFeed(ctx, cfg, r, opt, true)
}

// Feed subscribes to market data with this client's token.
func (c *Client) Feed(ctx context.Context) (*Feed, error) {
	return startFeed(ctx, c.cfg, c.rest, c.opt, false)
}

func startFeed(ctx context.Context, cfg Config, r *rest, opt Options, renew bool) (*Feed, error) {
	if opt.Backoff <= 0 {
		opt.Backoff = 100 * time.Millisecond
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 5 * time.Second
	}
	if opt.HeartbeatEvery <= 0 {
		opt.HeartbeatEvery = 2500 * time.Millisecond
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &Feed{log: opt.Log, ch: make(chan market.Trade, 4096), done: make(chan struct{}), cancel: cancel}
	first := make(chan error, 1)
	if renew {
		f.wg.Add(1)
		go func() { defer f.wg.Done(); r.renewLoop(runCtx) }()
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		backoff := opt.Backoff
		signalled := false
		for runCtx.Err() == nil {
			subscribed, err := f.session(runCtx, cfg, r, opt, func() {
				f.up.Store(true)
				if !signalled {
					signalled = true
					first <- nil
				}
			})
			f.up.Store(false)
			if runCtx.Err() != nil {
				return
			}
			if !signalled {
				signalled = true
				first <- err
				return
			}
			if subscribed {
				backoff = opt.Backoff
			}
			f.log.Warn("tradovate: md socket down; reconnecting", "err", err)
			select {
			case <-runCtx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, opt.MaxBackoff)
		}
	}()
	select {
	case err := <-first:
		if err != nil {
			f.Close()
			return nil, err
		}
	case <-ctx.Done():
		f.Close()
		return nil, ctx.Err()
	}
	return f, nil
}

func (f *Feed) session(ctx context.Context, cfg Config, r *rest, opt Options, ready func()) (bool, error) {
	w, err := openSocket(ctx, cfg.MDURL, r.token().md)
	if err != nil {
		if errors.Is(err, ErrAuth) {
			if rerr := r.renew(ctx); rerr != nil {
				return false, errors.Join(err, rerr)
			}
		}
		return false, err
	}
	defer w.c.CloseNow()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go heartbeat(sctx, w, opt.HeartbeatEvery)
	body, _ := json.Marshal(getChartReq{Symbol: cfg.Symbol,
		ChartDescription: map[string]any{"underlyingType": "Tick", "elementSize": 1, "elementSizeUnit": "UnderlyingUnits", "withHistogram": false},
		TimeRange:        map[string]any{"asMuchAsElements": 1}})
	const chartID = 1
	if err := w.send(sctx, "md/getChart", chartID, body); err != nil {
		return false, err
	}
	subscribed := false
	for {
		kind, msgs, err := w.read(sctx)
		if err != nil {
			return subscribed, err
		}
		if kind == frameClose {
			return subscribed, fmt.Errorf("%w: md server closed", ErrSocket)
		}
		for _, m := range msgs {
			switch {
			case m.I != nil && *m.I == chartID:
				if m.S != 200 {
					return subscribed, fmt.Errorf("%w: md/getChart: status %d: %s", ErrSocket, m.S, string(m.D))
				}
				subscribed = true
				ready()
			case m.E == "chart":
				var cp chartPush
				if err := json.Unmarshal(m.D, &cp); err != nil {
					return subscribed, fmt.Errorf("%w: chart: %v", ErrSocket, err)
				}
				for _, p := range cp.Charts {
					if err := f.packet(ctx, p); err != nil {
						return subscribed, err
					}
				}
			}
		}
	}
}

// ErrTick reports a tick packet that does not decode to MES trades.
var ErrTick = errors.New("tradovate: bad tick packet")

// decodePacket turns a packet into trades with inferred aggressors; ticks
// with ids at or below lastID are skipped (a resubscription repeats them).
func decodePacket(p tickPacket, lastID int64, rule *market.TickRule) ([]market.Trade, int64, error) {
	if p.TS <= 0 || math.Abs(p.TS*market.TicksPerPoint-math.Round(p.TS*market.TicksPerPoint)) > 1e-9 {
		return nil, lastID, fmt.Errorf("%w: tick size %v is not a multiple of 0.25", ErrTick, p.TS)
	}
	mult := int64(math.Round(p.TS * market.TicksPerPoint))
	var out []market.Trade
	for _, t := range p.Tks {
		if t.ID <= lastID {
			continue
		}
		if t.S <= 0 {
			return out, lastID, fmt.Errorf("%w: tick %d size %d", ErrTick, t.ID, t.S)
		}
		lastID = t.ID
		price := market.Price((p.BP + t.P) * mult)
		tr := market.Trade{Time: (p.BT + t.T) * int64(time.Millisecond), Price: price, Size: t.S}
		bid, ask := market.Price((p.BP+t.B)*mult), market.Price((p.BP+t.A)*mult)
		switch {
		case t.A != 0 || t.B != 0 || t.AS != 0 || t.BS != 0:
			if price >= ask && ask > bid {
				tr.Aggressor = market.Buy
			} else if price <= bid && ask > bid {
				tr.Aggressor = market.Sell
			}
		}
		rule.Apply(&tr)
		out = append(out, tr)
	}
	return out, lastID, nil
}

func (f *Feed) packet(ctx context.Context, p tickPacket) error {
	f.mu.Lock()
	trades, last, err := decodePacket(p, f.lastID, &f.rule)
	f.lastID = last
	for i := range trades {
		f.seq++
		trades[i].Seq = f.seq
	}
	f.mu.Unlock()
	for _, t := range trades {
		select {
		case f.ch <- t:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

// Next returns the next trade; io.EOF after Close.
func (f *Feed) Next() (market.Trade, error) {
	select {
	case t := <-f.ch:
		return t, nil
	case <-f.done:
		select {
		case t := <-f.ch:
			return t, nil
		default:
			return market.Trade{}, io.EOF
		}
	}
}

// C returns the trade channel (for select loops); it is not closed.
func (f *Feed) C() <-chan market.Trade { return f.ch }

// Close stops the feed.
func (f *Feed) Close() error {
	f.once.Do(func() {
		f.cancel()
		f.wg.Wait()
		close(f.done)
	})
	return nil
}
