// This file is the venue's WebSockets: the frames (o, h, a[...], c), the
// authorize handshake, user/syncrequest with props pushes, and the md
// socket's md/getChart tick charts and md/subscribeQuote quotes.

package venue

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/deskguard/deskguard/market"
)

// conn is one client socket. Writes go through a queue drained by one
// goroutine, so the venue never blocks on a slow client; a client that
// falls too far behind is dropped (it resynchronises on reconnect).
type conn struct {
	c      *websocket.Conn
	md     bool
	out    chan []byte
	once   sync.Once
	closed chan struct{}

	// guarded by Venue.mu
	authed   bool
	synced   bool
	accounts map[int64]bool // nil = all
	chartID  int64          // md/getChart subscription (0 = none)
	quotes   bool
}

const connQueue = 1 << 14

func (c *conn) kill() {
	c.once.Do(func() {
		close(c.closed)
		c.c.CloseNow()
	})
}

func (c *conn) enqueue(b []byte) {
	select {
	case c.out <- b:
	case <-c.closed:
	default:
		c.kill() // too slow: drop it; the client resyncs
	}
}

func frame(msgs ...any) []byte {
	b, _ := json.Marshal(msgs)
	return append([]byte{'a'}, b...)
}

type reply struct {
	S int   `json:"s"`
	I int64 `json:"i"`
	D any   `json:"d,omitempty"`
}

type event struct {
	E string `json:"e"`
	D any    `json:"d"`
}

type props struct {
	EntityType string `json:"entityType"`
	EventType  string `json:"eventType"`
	Entity     any    `json:"entity"`
}

// pushLocked sends one props event to every synced user socket that
// subscribed to the account. Caller holds v.mu.
func (v *Venue) pushLocked(entityType, eventType string, entity any, account string) {
	id := v.st.acctID[account]
	var b []byte
	v.subsMu.Lock()
	defer v.subsMu.Unlock()
	for c := range v.conns {
		if c.md || !c.synced || (c.accounts != nil && !c.accounts[id]) {
			continue
		}
		if b == nil {
			b = frame(event{E: "props", D: props{EntityType: entityType, EventType: eventType, Entity: entity}})
		}
		c.enqueue(b)
	}
}

// broadcastTick sends a trade as a one-tick packet to the md subscribers,
// with a one-tick book around it: a buy aggressor printed at the ask, a
// sell aggressor at the bid; an unknown side gets a book one tick either
// side (the client then falls back to the tick rule). Caller holds v.mu.
func (v *Venue) broadcastTick(t market.Trade, id int64) {
	v.subsMu.Lock()
	defer v.subsMu.Unlock()
	var chart, quote []byte
	for c := range v.conns {
		if !c.md || !c.authed {
			continue
		}
		if c.chartID != 0 {
			if chart == nil {
				chart = frame(event{E: "chart", D: map[string]any{"charts": []tickPacket{tickOf(t, id, c.chartID)}}})
			}
			c.enqueue(chart)
		}
		if c.quotes {
			if quote == nil {
				quote = frame(event{E: "md", D: map[string]any{"quotes": []any{quoteOf(t)}}})
			}
			c.enqueue(quote)
		}
	}
}

func book(t market.Trade) (bid, ask int64) {
	p := int64(t.Price)
	switch t.Aggressor {
	case market.Buy:
		return p - 1, p
	case market.Sell:
		return p, p + 1
	}
	return p - 1, p + 1
}

func tickOf(t market.Trade, id, sub int64) tickPacket {
	bid, ask := book(t)
	ms := t.Time / int64(time.Millisecond)
	tt := t.T()
	td := int64(tt.Year()*10000 + int(tt.Month())*100 + tt.Day())
	p := int64(t.Price)
	return tickPacket{ID: sub, S: "rt", TD: td, BP: p, BT: ms, TS: 0.25,
		Tks: []tickRaw{{T: 0, P: 0, S: t.Size, B: bid - p, A: ask - p, BS: 1, AS: 1, ID: id}}}
}

func quoteOf(t market.Trade) map[string]any {
	bid, ask := book(t)
	f := func(x int64) float64 { return float64(x) / market.TicksPerPoint }
	return map[string]any{"timestamp": t.T().Format(time.RFC3339Nano), "contractId": ContractID,
		"entries": map[string]any{
			"Bid":   map[string]any{"price": f(bid), "size": 1},
			"Offer": map[string]any{"price": f(ask), "size": 1},
			"Trade": map[string]any{"price": t.Price.Points(), "size": t.Size},
		}}
}

func (v *Venue) serveSocket(w http.ResponseWriter, r *http.Request, md bool) {
	wc, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		v.log.Warn("venue: websocket accept", "err", err)
		return
	}
	wc.SetReadLimit(1 << 20)
	c := &conn{c: wc, md: md, out: make(chan []byte, connQueue), closed: make(chan struct{})}
	v.subsMu.Lock()
	v.conns[c] = struct{}{}
	v.subsMu.Unlock()
	v.count(func(s *Stats) { s.SocketsOpened++ })
	kind := "user"
	if md {
		kind = "md"
	}
	v.log.Info("venue: socket open", "kind", kind, "remote", r.RemoteAddr)
	defer func() {
		v.subsMu.Lock()
		delete(v.conns, c)
		v.subsMu.Unlock()
		c.kill()
		v.log.Info("venue: socket closed", "kind", kind, "remote", r.RemoteAddr)
	}()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() { // writer
		hb := time.NewTicker(v.cfg.HeartbeatEvery)
		defer hb.Stop()
		for {
			var b []byte
			select {
			case <-c.closed:
				return
			case <-ctx.Done():
				return
			case b = <-c.out:
			case <-hb.C:
				b = []byte("h")
			}
			if err := wc.Write(ctx, websocket.MessageText, b); err != nil {
				c.kill()
				return
			}
		}
	}()
	c.enqueue([]byte("o"))
	for {
		_, msg, err := wc.Read(ctx)
		if err != nil {
			return
		}
		s := string(msg)
		if s == "[]" {
			continue // client heartbeat
		}
		v.request(c, s)
	}
}

// request answers one text request endpoint\nid\nquery\nbody.
func (v *Venue) request(c *conn, s string) {
	parts := strings.SplitN(s, "\n", 4)
	if len(parts) < 2 {
		c.enqueue(frame(reply{S: 400, I: -1, D: "malformed request: want endpoint\\nid\\nquery\\nbody"}))
		return
	}
	endpoint := parts[0]
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		c.enqueue(frame(reply{S: 400, I: -1, D: "malformed request id " + strconv.Quote(parts[1])}))
		return
	}
	body := ""
	if len(parts) == 4 {
		body = parts[3]
	}
	v.log.Info("venue: socket request", "endpoint", endpoint, "id", id, "md", c.md)
	if endpoint == "authorize" {
		tok := strings.TrimSpace(body)
		if !v.tokenValid(tok, c.md) {
			c.enqueue(frame(reply{S: 401, I: id, D: "Access is denied"}))
			return
		}
		v.mu.Lock()
		c.authed = true
		v.mu.Unlock()
		c.enqueue(frame(reply{S: 200, I: id}))
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if !c.authed {
		c.enqueue(frame(reply{S: 401, I: id, D: "authorize first"}))
		return
	}
	switch {
	case !c.md && endpoint == "user/syncrequest":
		var req syncRequest
		if body != "" {
			if err := json.Unmarshal([]byte(body), &req); err != nil {
				c.enqueue(frame(reply{S: 400, I: id, D: "malformed body: " + err.Error()}))
				return
			}
		}
		var accts map[int64]bool
		if len(req.Accounts) > 0 {
			accts = map[int64]bool{}
			for _, a := range req.Accounts {
				accts[a] = true
			}
		}
		snap := v.st.snapshot(accts, userID)
		snap.Contracts[0].Name = v.cfg.Symbol
		v.subsMu.Lock()
		c.accounts = accts
		c.synced = true
		v.subsMu.Unlock()
		c.enqueue(frame(reply{S: 200, I: id, D: snap}))
		v.count(func(s *Stats) { s.Syncs++ })
	case c.md && endpoint == "md/getchart" || c.md && endpoint == "md/getChart":
		var req struct {
			Symbol           string `json:"symbol"`
			ChartDescription struct {
				UnderlyingType string `json:"underlyingType"`
			} `json:"chartDescription"`
		}
		if err := json.Unmarshal([]byte(body), &req); err != nil {
			c.enqueue(frame(reply{S: 400, I: id, D: "malformed body: " + err.Error()}))
			return
		}
		if req.Symbol != v.cfg.Symbol {
			c.enqueue(frame(reply{S: 404, I: id, D: "unknown symbol " + req.Symbol}))
			return
		}
		if req.ChartDescription.UnderlyingType != "Tick" {
			c.enqueue(frame(reply{S: 400, I: id, D: "this venue serves Tick charts only"}))
			return
		}
		v.subsMu.Lock()
		c.chartID = v.st.id()
		sub := c.chartID
		v.subsMu.Unlock()
		c.enqueue(frame(reply{S: 200, I: id, D: map[string]int64{"historicalId": sub, "realtimeId": sub}}))
		v.chartOnce.Do(func() { close(v.chartStart) })
	case c.md && (endpoint == "md/cancelchart" || endpoint == "md/cancelChart"):
		v.subsMu.Lock()
		c.chartID = 0
		v.subsMu.Unlock()
		c.enqueue(frame(reply{S: 200, I: id}))
	case c.md && endpoint == "md/subscribeQuote":
		v.subsMu.Lock()
		c.quotes = true
		v.subsMu.Unlock()
		c.enqueue(frame(reply{S: 200, I: id}))
	case c.md && endpoint == "md/unsubscribeQuote":
		v.subsMu.Lock()
		c.quotes = false
		v.subsMu.Unlock()
		c.enqueue(frame(reply{S: 200, I: id}))
	default:
		c.enqueue(frame(reply{S: 404, I: id, D: "unknown endpoint " + endpoint}))
	}
}
