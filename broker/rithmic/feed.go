// feed.go: the market data feed: a ticker plant session of its own,
// subscribed (100) to the contract's LastTrade updates, each decoded on the
// hot path without allocating into a market.Trade whose aggressor is the
// one the data carries (150: BUY/SELL; absent = Unknown, never inferred).
// The subscription is made again after every reconnect (it is lost with
// the connection); the snapshot LastTrade a subscription answers with
// repeats the last trade and is skipped.

package rithmic

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/deskguard/deskguard/broker/rithmic/rpb"
	"github.com/deskguard/deskguard/market"
)

// ErrTrade reports a LastTrade that is not an MES trade (off the tick
// grid, no size).
var ErrTrade = errors.New("rithmic: bad trade")

// Feed streams the ticker plant's trades. It implements
// market.TradeReader: Next blocks until the next trade, and returns io.EOF
// after Close.
type Feed struct {
	p      *plant
	ch     chan market.Trade
	done   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	symbol string
	sym    []byte
	up     atomic.Bool
	ref    func(market.Price)

	// the reader goroutine's
	view rpb.TradeView
	seq  uint64

	Skipped atomic.Int64 // snapshot trades skipped
	Bad     atomic.Int64 // LastTrades that did not decode
}

var _ market.TradeReader = (*Feed)(nil)

// NewFeed logs in to the ticker plant and subscribes to the contract's
// trades (a product code is resolved to its front month first).
func NewFeed(ctx context.Context, cfg Config, creds Credentials, opt Options) (*Feed, error) {
	return newFeed(ctx, cfg, creds, opt, nil)
}

// Feed starts a feed with this client's connection settings; its trades
// also set the client's reference price (market entries' brackets).
func (c *Client) Feed(ctx context.Context) (*Feed, error) {
	creds := c.order.creds
	cfg := c.cfg
	cfg.Symbol = c.symbol
	o := c.opt
	o.SkipSystemCheck = true
	return newFeed(ctx, cfg, creds, o, c.SetReference)
}

func newFeed(ctx context.Context, cfg Config, creds Credentials, opt Options, ref func(market.Price)) (*Feed, error) {
	cfg = cfg.WithDefaults()
	opt = opt.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !opt.SkipSystemCheck {
		if err := checkSystem(ctx, cfg, opt); err != nil {
			return nil, err
		}
	}
	sym := cfg.Symbol
	if isProductCode(sym) {
		var err error
		if sym, err = frontMonth(ctx, cfg, creds, opt); err != nil {
			return nil, err
		}
	}
	f := &Feed{ch: make(chan market.Trade, 4096), done: make(chan struct{}), symbol: sym, sym: []byte(sym), ref: ref}
	f.p = newPlant("ticker", rpb.InfraType_INFRA_TICKER_PLANT, cfg, creds, opt)
	f.p.raw = f.frame
	f.p.setup = func(ctx context.Context, s *session) error {
		_, err := s.call(ctx, rpb.TMarketDataRequest, &rpb.RequestMarketDataUpdate{Symbol: sym, Exchange: cfg.Exchange,
			Request: rpb.SubscribeRequest_SUBSCRIBE, UpdateBits: uint32(rpb.UpdateBits_UPDATE_LAST_TRADE)})
		if err != nil {
			return fmt.Errorf("market data %s.%s: %w", sym, cfg.Exchange, err)
		}
		f.up.Store(true)
		return nil
	}
	f.p.down = func() { f.up.Store(false) }
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f.cancel = cancel
	f.wg.Add(1)
	go func() { defer f.wg.Done(); f.p.run(runCtx) }()
	select {
	case err := <-f.p.first:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("rithmic: market data: %w", err)
		}
	case <-ctx.Done():
		f.Close()
		return nil, ctx.Err()
	}
	return f, nil
}

// Symbol is the contract the feed is subscribed to.
func (f *Feed) Symbol() string { return f.symbol }

// Subscribed reports whether the ticker plant is up and subscribed; while
// it is false the feed is reconnecting and no trades arrive.
func (f *Feed) Subscribed() bool { return f.up.Load() }

// frame is the ticker plant's fast path: a LastTrade is decoded here,
// anything else goes to the generic decoder.
func (f *Feed) frame(p []byte) bool {
	tpl, err := rpb.TemplateID(p)
	if err != nil || tpl != rpb.TLastTrade {
		return false
	}
	t, ok, err := decodeTrade(p, &f.view, f.sym)
	if err != nil {
		f.Bad.Add(1)
		f.p.log.Warn("rithmic: bad LastTrade", "err", err)
		return true
	}
	if !ok {
		f.Skipped.Add(1)
		return true
	}
	f.seq++
	t.Seq = f.seq
	if f.ref != nil {
		f.ref(t.Price)
	}
	select {
	case f.ch <- t:
	case <-f.done:
	}
	return true
}

// decodeTrade turns one LastTrade payload into a trade. ok is false for a
// snapshot (the subscription's repeat of the last trade) or another
// contract's trade. It allocates nothing.
func decodeTrade(p []byte, v *rpb.TradeView, sym []byte) (t market.Trade, ok bool, err error) {
	if err := rpb.DecodeLastTrade(p, v); err != nil {
		return t, false, err
	}
	if v.IsSnapshot || !bytes.Equal(v.Symbol, sym) {
		return t, false, nil
	}
	if v.Size <= 0 {
		return t, false, fmt.Errorf("%w: size %d", ErrTrade, v.Size)
	}
	price, err := market.PriceFromPoints(v.Price)
	if err != nil || price <= 0 {
		return t, false, fmt.Errorf("%w: price %v", ErrTrade, v.Price)
	}
	t = market.Trade{Time: v.TimeNs(), Price: price, Size: int64(v.Size)}
	switch v.Aggressor {
	case rpb.TransactionType_TRANSACTION_BUY:
		t.Aggressor = market.Buy
	case rpb.TransactionType_TRANSACTION_SELL:
		t.Aggressor = market.Sell
	}
	return t, true, nil
}

// DecodeTradeFrame is the feed's decoder on one whole LastTrade frame
// (length prefix included), as one WebSocket message carries it: ok is
// false for a snapshot or another symbol's trade. It allocates nothing (v
// is reused). deskguard bench times it.
func DecodeTradeFrame(msg []byte, v *rpb.TradeView, sym []byte) (t market.Trade, ok bool, err error) {
	return decodeTradeFrame(msg, v, sym)
}

func decodeTradeFrame(msg []byte, v *rpb.TradeView, sym []byte) (market.Trade, bool, error) {
	if len(msg) < 4 || int(binary.BigEndian.Uint32(msg)) != len(msg)-4 {
		return market.Trade{}, false, fmt.Errorf("%w: not one whole frame", rpb.ErrFrame)
	}
	return decodeTrade(msg[4:], v, sym)
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
		close(f.done)
		f.p.close()
		if f.cancel != nil {
			f.cancel()
		}
		f.wg.Wait()
	})
	return nil
}
