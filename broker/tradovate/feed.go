// This file is the market-data feed: md/getChart tick-chart packets from
// the md WebSocket turned into market.Trades, with the aggressor inferred
// from the trade against the bid and ask (the packets carry no aggressor)
// or by the tick rule. It handles the end-of-history packet, penalty
// tickets in the getChart reply, ticks out of id order, a silent server,
// and backfills the trades missed while it was down from the chart's
// history, saying when data had a gap.

package tradovate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskguard/deskguard/market"
)

// tickPacket is one tick-chart packet: price = (bp + p) × ts, time = bt +
// t (example-api-js tutorial/WebSockets/EX-11-Tick-Charts/README.md). The
// end of history is a packet {id, eoh: true} with nothing else
// (example-api-faq docs/HowToHandleDataSizeLimits.md).
type tickPacket struct {
	ID  int64     `json:"id"`
	S   string    `json:"s"`
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

// chartReply is md/getChart's answer: the subscription's ids.
type chartReply struct {
	HistoricalID int64 `json:"historicalId"`
	RealtimeID   int64 `json:"realtimeId"`
}

// Gap is an md outage: the trades between From and To (ns) that the feed
// did not see live. Backfilled of them came from the chart history;
// Complete says the history reached back to the last trade seen before
// the outage (no trade is missing); otherwise some may be.
type Gap struct {
	From, To   int64
	Backfilled int
	Complete   bool
}

// FeedStats counts what the feed did.
type FeedStats struct {
	Trades     uint64 // delivered
	Duplicates int    // ticks seen again (resubscriptions, history overlap) and dropped
	Late       int    // ticks that came after a later one and were delivered with its time
	Backfilled int    // trades delivered from history after an outage
	Sessions   int    // md sessions that subscribed
	Penalties  int    // getChart replies that were penalty tickets
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

	mu       sync.Mutex
	rule     market.TickRule
	seen     map[int64]bool // tick ids delivered (or skipped as history)
	maxID    int64          // highest tick id delivered
	lastTime int64          // time of the last trade delivered (ns)
	started  bool           // a first session subscribed
	seq      uint64
	stats    FeedStats
	gaps     []Gap
	problem  error
	cond     *sync.Cond // broadcast when up changes
	closed   bool
}

var _ market.TradeReader = (*Feed)(nil)

// Subscribed reports whether the md socket is up and subscribed to the
// tick chart; while it is false the feed is reconnecting and no trades
// arrive.
func (f *Feed) Subscribed() bool { return f.up.Load() }

func (f *Feed) setUp(up bool) {
	f.mu.Lock()
	f.up.Store(up)
	f.cond.Broadcast()
	f.mu.Unlock()
}

// WaitSubscribed blocks until Subscribed() is up or ctx ends.
func (f *Feed) WaitSubscribed(ctx context.Context, up bool) error {
	stop := context.AfterFunc(ctx, func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.up.Load() != up {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("tradovate: waiting for the md link up=%v: %w", up, err)
		}
		if f.closed {
			return io.EOF
		}
		f.cond.Wait()
	}
	return nil
}

// Gaps returns the md outages so far, oldest first.
func (f *Feed) Gaps() []Gap {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Gap(nil), f.gaps...)
}

// DataGap reports whether data had a gap in this session: an md outage,
// and whether some trades of one may be missing (not backfilled): for the
// console's status.
func (f *Feed) DataGap() (hadGap, incomplete bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range f.gaps {
		hadGap = true
		incomplete = incomplete || !g.Complete
	}
	return hadGap, incomplete
}

// Stats returns the feed's counters.
func (f *Feed) Stats() FeedStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Problem is the last condition the feed cannot get past on its own (a
// captcha), nil once it subscribes again.
func (f *Feed) Problem() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.problem
}

// NewFeed authenticates on its own and subscribes to the tick chart of the
// configured symbol on the md WebSocket.
func NewFeed(ctx context.Context, cfg Config, creds Credentials, opt Options) (*Feed, error) {
	cfg = cfg.withDefaults()
	opt = opt.withDefaults()
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
	opt = opt.withDefaults()
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &Feed{log: opt.Log, ch: make(chan market.Trade, 4096), done: make(chan struct{}), cancel: cancel, seen: map[int64]bool{}}
	f.cond = sync.NewCond(&f.mu)
	first := make(chan error, 1)
	if renew {
		f.wg.Add(1)
		go func() { defer f.wg.Done(); r.renewLoop(runCtx) }()
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		signalled := false
		backoffLoop(runCtx, opt.Backoff, opt.MaxBackoff, opt.StableAfter, opt.wait, time.Now,
			func() (time.Duration, error) {
				err := f.session(runCtx, cfg, r, opt, func() {
					f.setUp(true)
					if !signalled {
						signalled = true
						first <- nil
					}
				})
				f.setUp(false)
				if !signalled && runCtx.Err() == nil {
					signalled = true
					first <- err
					cancel()
				}
				if errors.Is(err, ErrCaptcha) {
					return opt.CaptchaWait, err
				}
				return 0, err
			},
			func(err error, d time.Duration) {
				f.log.Warn("tradovate: md socket down; reconnecting", "err", err, "backoff", d)
			})
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

type subKind uint8

const (
	subHistory subKind = iota + 1
	subRealtime
)

// backfillPages bounds the history requests one reconnect makes.
const backfillPages = 4

// chartBody builds md/getChart's body for a time range.
func chartBody(cfg Config, timeRange map[string]any, ticket string) []byte {
	req := getChartReq{Symbol: cfg.Symbol,
		ChartDescription: map[string]any{"underlyingType": "Tick", "elementSize": 1, "elementSizeUnit": "UnderlyingUnits", "withHistogram": false},
		TimeRange:        timeRange}
	b, _ := json.Marshal(req)
	if ticket != "" {
		b = withTicket(b, ticket)
	}
	return b
}

func rfc(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// session runs one md connection: subscribe (waiting out a penalty
// ticket), take the history up to the end-of-history packet — on a
// reconnect, from the last trade seen, paging back while the history
// does not reach it — deliver what was missed, then real time.
func (f *Feed) session(ctx context.Context, cfg Config, r *rest, opt Options, ready func()) error {
	w, err := openAuthorized(ctx, cfg.MDURL, func() string { return r.token().md }, opt.SilenceTimeout, r)
	if err != nil {
		return err
	}
	defer w.c.CloseNow()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go heartbeat(sctx, w, opt.HeartbeatEvery)

	f.mu.Lock()
	resume := f.started
	from, lastID := f.lastTime, f.maxID
	f.mu.Unlock()
	// The first session takes one tick of history (dropped: it is before
	// the desk's start); a reconnect asks from the last trade it saw.
	tr := map[string]any{"asMuchAsElements": 1}
	if resume {
		tr = map[string]any{"asFarAsTimestamp": rfc(from)}
	}
	reqID := int64(1)
	body := chartBody(cfg, tr, "")
	if err := w.send(sctx, "md/getChart", reqID, body); err != nil {
		return err
	}
	var (
		subs       = map[int64]subKind{} // ids of our subscriptions
		realtime   int64                 // the first subscription's real-time id
		history    []tickPacket          // history packets so far
		pending    []tickPacket          // real-time packets held while backfilling
		pages      = 1
		backfilled = false
		resend     = make(chan struct{}, 1)
		ticket     string
	)
	finish := func() error {
		trades, complete := f.mergeHistory(history, resume, lastID)
		backfilled = true
		if resume {
			f.noteGap(from, trades, complete)
		}
		for _, p := range pending {
			trades = append(trades, f.decode(p)...)
		}
		pending = nil
		return f.send(sctx, trades)
	}
	for {
		select {
		case <-resend:
			reqID++
			body = chartBody(cfg, tr, ticket)
			if err := w.send(sctx, "md/getChart", reqID, body); err != nil {
				return err
			}
		default:
		}
		kind, msgs, raw, err := w.read(sctx)
		if err != nil {
			return err
		}
		if kind == frameClose {
			return fmt.Errorf("%w: md server closed: %s", ErrSocket, closeReason(raw))
		}
		for _, m := range msgs {
			switch {
			case m.I != nil && *m.I == reqID:
				if m.S != 200 {
					return fmt.Errorf("%w: md/getChart: status %d: %s", ErrSocket, m.S, string(m.D))
				}
				if p, ok := penaltyOf(m.D); ok {
					// A penalty is not a subscription (it used to be read as
					// one: "subscribed" with nothing coming).
					f.mu.Lock()
					f.stats.Penalties++
					f.mu.Unlock()
					if p.Captcha {
						f.mu.Lock()
						f.problem = fmt.Errorf("%w: md/getChart", ErrCaptcha)
						f.mu.Unlock()
						return fmt.Errorf("%w: md/getChart", ErrCaptcha)
					}
					f.log.Warn("tradovate: penalty ticket on md/getChart", "wait_s", p.Time)
					ticket = p.Ticket
					time.AfterFunc(time.Duration(p.Time*float64(time.Second)), func() {
						select {
						case resend <- struct{}{}:
						default:
						}
					})
					continue
				}
				var cr chartReply
				_ = json.Unmarshal(m.D, &cr)
				subs[cr.HistoricalID], subs[cr.RealtimeID] = subHistory, subRealtime
				if realtime == 0 {
					realtime = cr.RealtimeID
				}
			case m.E == "chart":
				var cp chartPush
				if err := json.Unmarshal(m.D, &cp); err != nil {
					return fmt.Errorf("%w: chart: %v", ErrSocket, err)
				}
				for _, p := range cp.Charts {
					kind, ours := subs[p.ID]
					switch {
					case !ours:
						// not ours (a cancelled paging subscription)
					case p.EOH && backfilled:
					case p.EOH:
						if p.ID != realtime {
							// A paging request's end: it is cancelled.
							_ = w.send(sctx, "md/cancelChart", 0, []byte(fmt.Sprintf(`{"subscriptionId":%d}`, p.ID)))
							delete(subs, p.ID)
						}
						if resume && !reaches(history, lastID) && pages < backfillPages && len(history) > 0 {
							// The history was cut (the data-size limit): ask
							// for the older part, as the FAQ pages charts
							// (closestTimestamp = the oldest tick received).
							pages++
							reqID++
							tr = map[string]any{"closestTimestamp": rfc(oldest(history)), "asFarAsTimestamp": rfc(from)}
							if err := w.send(sctx, "md/getChart", reqID, chartBody(cfg, tr, "")); err != nil {
								return err
							}
							continue
						}
						if err := finish(); err != nil {
							return err
						}
						f.mu.Lock()
						f.started = true
						f.problem = nil
						f.stats.Sessions++
						f.mu.Unlock()
						ready()
					case backfilled:
						if err := f.send(sctx, f.decode(p)); err != nil {
							return err
						}
					case kind == subHistory || p.S == "db":
						history = append(history, p)
					default:
						pending = append(pending, p)
					}
				}
			}
		}
	}
}

// reaches reports whether the history packets contain the tick id.
func reaches(history []tickPacket, id int64) bool {
	for _, p := range history {
		for _, t := range p.Tks {
			if t.ID == id {
				return true
			}
		}
	}
	return false
}

// oldest is the time (ns) of the oldest tick in the history.
func oldest(history []tickPacket) int64 {
	o := int64(math.MaxInt64)
	for _, p := range history {
		for _, t := range p.Tks {
			o = min(o, (p.BT+t.T)*int64(time.Millisecond))
		}
	}
	return o
}

// mergeHistory turns the history into the trades to deliver: none on a
// first session (the ticks are marked seen: they are before the start);
// on a reconnect the ones not seen yet, in id order. complete says the
// history reached back to the last tick delivered before the outage.
func (f *Feed) mergeHistory(history []tickPacket, resume bool, lastID int64) ([]market.Trade, bool) {
	if !resume {
		f.mu.Lock()
		for _, p := range history {
			for _, t := range p.Tks {
				f.seen[t.ID] = true
				f.maxID = max(f.maxID, t.ID)
				f.lastTime = max(f.lastTime, (p.BT+t.T)*int64(time.Millisecond))
			}
		}
		f.mu.Unlock()
		return nil, true
	}
	complete := lastID == 0 || reaches(history, lastID)
	var all []tickPacket
	for _, p := range history {
		for _, t := range p.Tks {
			q := p
			q.Tks = []tickRaw{t}
			all = append(all, q)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Tks[0].ID < all[j].Tks[0].ID })
	var out []market.Trade
	for _, p := range all {
		ts := f.decode(p)
		out = append(out, ts...)
	}
	f.mu.Lock()
	f.stats.Backfilled += len(out)
	f.mu.Unlock()
	return out, complete
}

func (f *Feed) noteGap(from int64, got []market.Trade, complete bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := Gap{From: from, To: f.lastTime, Backfilled: len(got), Complete: complete}
	if len(got) > 0 {
		g.To = got[len(got)-1].Time
	}
	f.gaps = append(f.gaps, g)
	if !complete {
		f.log.Warn("tradovate: market data had a gap the history did not fill", "from", rfc(from))
	}
}

// ErrTick reports a tick packet that does not decode to MES trades.
var ErrTick = errors.New("tradovate: bad tick packet")

// decodePacket turns a packet into trades with inferred aggressors, in
// the packet's order; it skips nothing (the feed deduplicates). An
// end-of-history packet has no trades.
func decodePacket(p tickPacket, rule *market.TickRule) ([]market.Trade, []int64, error) {
	if p.EOH {
		return nil, nil, nil
	}
	if p.TS <= 0 || math.Abs(p.TS*market.TicksPerPoint-math.Round(p.TS*market.TicksPerPoint)) > 1e-9 {
		return nil, nil, fmt.Errorf("%w: tick size %v is not a multiple of 0.25", ErrTick, p.TS)
	}
	mult := int64(math.Round(p.TS * market.TicksPerPoint))
	var out []market.Trade
	var ids []int64
	for _, t := range p.Tks {
		if t.S <= 0 {
			return out, ids, fmt.Errorf("%w: tick %d size %d", ErrTick, t.ID, t.S)
		}
		price := market.Price((p.BP + t.P) * mult)
		tr := market.Trade{Time: (p.BT + t.T) * int64(time.Millisecond), Price: price, Size: t.S}
		bid, ask := market.Price((p.BP+t.B)*mult), market.Price((p.BP+t.A)*mult)
		if t.A != 0 || t.B != 0 || t.AS != 0 || t.BS != 0 {
			if price >= ask && ask > bid {
				tr.Aggressor = market.Buy
			} else if price <= bid && ask > bid {
				tr.Aggressor = market.Sell
			}
		}
		rule.Apply(&tr)
		out = append(out, tr)
		ids = append(ids, t.ID)
	}
	return out, ids, nil
}

// decode turns a packet into the trades to deliver: ticks already seen
// are dropped (by id, not by a high-water mark: ticks come out of id
// order, example-api-js EX-11 "sometimes we will get our ticks out of
// order"); a tick older than one delivered is delivered with that one's
// time, so the stream's times never go back (every market.TradeReader
// keeps them monotonic). Ticks are taken in id order within a packet.
func (f *Feed) decode(p tickPacket) []market.Trade {
	if p.EOH {
		return nil
	}
	sort.SliceStable(p.Tks, func(i, j int) bool { return p.Tks[i].ID < p.Tks[j].ID })
	f.mu.Lock()
	defer f.mu.Unlock()
	trades, ids, err := decodePacket(p, &f.rule)
	if err != nil && f.log != nil {
		f.log.Warn("tradovate: bad tick packet", "err", err)
	}
	out := trades[:0]
	for i, t := range trades {
		id := ids[i]
		if f.seen[id] {
			f.stats.Duplicates++
			continue
		}
		f.seen[id] = true
		if id < f.maxID {
			f.stats.Late++
		}
		f.maxID = max(f.maxID, id)
		if t.Time < f.lastTime {
			t.Time = f.lastTime
		}
		f.lastTime = t.Time
		f.seq++
		t.Seq = f.seq
		out = append(out, t)
	}
	if len(f.seen) > 1<<20 { // forget ids far below the newest
		for id := range f.seen {
			if id < f.maxID-1<<19 {
				delete(f.seen, id)
			}
		}
	}
	f.stats.Trades += uint64(len(out))
	return out
}

func (f *Feed) send(ctx context.Context, trades []market.Trade) error {
	for _, t := range trades {
		select {
		case f.ch <- t:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
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
		f.mu.Lock()
		f.closed = true
		f.cond.Broadcast()
		f.mu.Unlock()
		close(f.done)
	})
	return nil
}
