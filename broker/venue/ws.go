// This file is the venue's WebSockets: the frames (o, h, a[...], c), the
// authorize handshake, user/syncrequest with props pushes, the md
// socket's md/getChart tick charts (history, end of history, real time)
// and md/subscribeQuote quotes, penalty tickets in replies, silent
// (half-open) sockets and `c` close frames.

package venue

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// silent: the socket stays open but the venue sends nothing on it any
	// more, heartbeats included, and answers nothing (a half-open peer).
	silent atomic.Bool

	// guarded by Venue.mu
	authed   bool
	synced   bool
	accounts map[int64]bool // nil = all
	charts   map[int64]bool // md/getChart real-time subscription ids
	quotes   bool
}

const connQueue = 1 << 14

// tapeTick is one trade as sent on the md stream, with its tick id.
type tapeTick struct {
	id int64
	t  market.Trade
}

func (c *conn) kill() {
	c.once.Do(func() {
		close(c.closed)
		c.c.CloseNow()
	})
}

// closeFrame sends a `c` frame and closes the socket.
func (c *conn) closeFrame(code int, reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	b, _ := json.Marshal([]any{code, reason})
	_ = c.c.Write(ctx, websocket.MessageText, append([]byte{'c'}, b...))
	c.kill()
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

// broadcastTick sends a trade as a one-tick real-time packet to the md
// subscribers, with a one-tick book around it (book). Caller holds v.mu.
func (v *Venue) broadcastTick(t market.Trade, id int64) {
	v.subsMu.Lock()
	defer v.subsMu.Unlock()
	var quote []byte
	for c := range v.conns {
		if !c.md || !c.authed {
			continue
		}
		for _, sub := range sortedIDs(c.charts) {
			c.enqueue(frame(event{E: "chart", D: map[string]any{"charts": []tickPacket{packetOf("rt", sub, []tapeTick{{id, t}})}}}))
		}
		if c.quotes {
			if quote == nil {
				quote = frame(event{E: "md", D: map[string]any{"quotes": []any{quoteOf(t)}}})
			}
			c.enqueue(quote)
		}
	}
}

func sortedIDs(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// book is the one-tick book the venue quotes around a trade. The data
// carry no book, so it is made up: the bid one tick below and the ask one
// tick above the trade, whatever the aggressor (a book built from the
// aggressor would hand the client the answer its inference is tested
// on). The client cannot tell the aggressor from it and falls back to the
// tick rule, as it must for real trades printed inside the spread.
func book(t market.Trade) (bid, ask int64) {
	p := int64(t.Price)
	return p - 1, p + 1
}

// packetOf builds one tick-chart packet (example-api-js
// EX-11-Tick-Charts: price = (bp + p) × ts, time = bt + t).
func packetOf(src string, sub int64, ticks []tapeTick) tickPacket {
	t0 := ticks[0].t
	ms0 := t0.Time / int64(time.Millisecond)
	tt := t0.T()
	td := int64(tt.Year()*10000 + int(tt.Month())*100 + tt.Day())
	p0 := int64(t0.Price)
	pk := tickPacket{ID: sub, S: src, TD: td, BP: p0, BT: ms0, TS: 0.25}
	for _, tk := range ticks {
		bid, ask := book(tk.t)
		p := int64(tk.t.Price)
		pk.Tks = append(pk.Tks, tickRaw{T: tk.t.Time/int64(time.Millisecond) - ms0, P: p - p0, S: tk.t.Size,
			B: bid - p0, A: ask - p0, BS: 1, AS: 1, ID: tk.id})
	}
	return pk
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

// SilenceSockets makes every open socket silent: no heartbeats, no
// pushes, no answers, while it stays open (a half-open connection, a hung
// gateway). Sockets opened later are served normally.
func (v *Venue) SilenceSockets() {
	v.subsMu.Lock()
	n := 0
	for c := range v.conns {
		if !c.silent.Swap(true) {
			n++
		}
	}
	v.subsMu.Unlock()
	v.count(func(s *Stats) { s.Silenced += n })
}

// UserLinked reports whether a push would reach a client now: some user
// socket is open, synchronised (user/syncrequest answered) and not
// silent. A desk with no such socket cannot hear what the venue does
// behind its back (a bust) until it has resynchronised; the drill times
// such a gap from then.
func (v *Venue) UserLinked() bool {
	v.subsMu.Lock()
	defer v.subsMu.Unlock()
	for c := range v.conns {
		if c.md || !c.synced || c.silent.Load() {
			continue
		}
		select {
		case <-c.closed:
		default:
			return true
		}
	}
	return false
}

// CloseWebSockets sends every socket a `c` frame with code and reason and
// closes it (a server shutting its sessions down).
func (v *Venue) CloseWebSockets(code int, reason string) {
	v.subsMu.Lock()
	cs := make([]*conn, 0, len(v.conns))
	for c := range v.conns {
		cs = append(cs, c)
	}
	v.subsMu.Unlock()
	for _, c := range cs {
		c.closeFrame(code, reason)
	}
	v.count(func(s *Stats) { s.CloseFrames += len(cs) })
}

// RefuseSockets makes the venue refuse (or accept again) new WebSocket
// connections, as a network partition of the socket gateway would; with
// DropWebSockets it keeps a client away while trades go on.
func (v *Venue) RefuseSockets(refuse bool) { v.refuseWS.Store(refuse) }

func (v *Venue) serveSocket(w http.ResponseWriter, r *http.Request, md bool) {
	if v.refuseWS.Load() {
		http.Error(w, "socket gateway unavailable", http.StatusServiceUnavailable)
		return
	}
	wc, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		v.log.Warn("venue: websocket accept", "err", err)
		return
	}
	wc.SetReadLimit(1 << 20)
	c := &conn{c: wc, md: md, out: make(chan []byte, connQueue), closed: make(chan struct{}), charts: map[int64]bool{}}
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
			if c.silent.Load() {
				continue
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
		if c.silent.Load() {
			continue // a hung peer reads and answers nothing
		}
		s := string(msg)
		if s == "[]" {
			continue // client heartbeat
		}
		v.request(c, s)
	}
}

// socketPenalty decides whether a socket request is answered with a
// penalty ticket in d (the tutorial's subscribe waits p-time and resends
// the body with the ticket: example-api-faq
// example-code/user-sync-request/src/socket/tvSocket.js, subscribe). A
// request carrying a valid ticket whose wait is over passes.
func (v *Venue) socketPenalty(body string) (map[string]any, bool) {
	var t struct {
		Ticket string `json:"p-ticket"`
	}
	_ = json.Unmarshal([]byte(body), &t)
	v.faultMu.Lock()
	defer v.faultMu.Unlock()
	now := v.clock.Now()
	if t.Ticket != "" {
		if due, ok := v.tickets[t.Ticket]; ok {
			if !now.Before(due) {
				delete(v.tickets, t.Ticket)
				v.stats.SocketRetried++
				v.statsCond.Broadcast()
				return nil, true
			}
			return map[string]any{"p-ticket": t.Ticket, "p-time": math.Ceil(due.Sub(now).Seconds())}, false
		}
	}
	if v.spenN <= 0 {
		return nil, true
	}
	v.spenN--
	v.ticketN++
	tk := fmt.Sprintf("ws-pt-%d-%s", v.ticketN, randHex(6))
	v.tickets[tk] = now.Add(time.Duration(v.spenSecs) * time.Second)
	v.stats.SocketPenalties++
	v.statsCond.Broadcast()
	p := map[string]any{"p-ticket": tk, "p-time": v.spenSecs}
	if v.spenCapt {
		p["p-captcha"] = true
	}
	return p, false
}

// chartRequest is md/getChart's body (example-api-js EX-10/EX-11; the
// time range as example-api-faq large-chart-requests getAllBars.js pages
// it: closestTimestamp, asFarAsTimestamp; asMuchAsElements).
type chartRequest struct {
	Symbol           string `json:"symbol"`
	ChartDescription struct {
		UnderlyingType string `json:"underlyingType"`
	} `json:"chartDescription"`
	TimeRange struct {
		ClosestTimestamp string `json:"closestTimestamp"`
		AsFarAsTimestamp string `json:"asFarAsTimestamp"`
		AsMuchAsElements int    `json:"asMuchAsElements"`
	} `json:"timeRange"`
}

// chartHistory selects the ticks of a chart request's time range, the newest
// first up to asMuchAsElements and Faults.HistoryCap, returned oldest
// first. Caller holds v.mu.
func (v *Venue) chartHistory(req chartRequest) ([]tapeTick, error) {
	closest, far := int64(math.MaxInt64), int64(math.MinInt64)
	if s := req.TimeRange.ClosestTimestamp; s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("closestTimestamp %q: %v", s, err)
		}
		closest = t.UnixNano()
	}
	if s := req.TimeRange.AsFarAsTimestamp; s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("asFarAsTimestamp %q: %v", s, err)
		}
		far = t.UnixNano()
	}
	limit := v.cfg.Faults.HistoryCap
	if n := req.TimeRange.AsMuchAsElements; n > 0 && n < limit && req.TimeRange.AsFarAsTimestamp == "" {
		limit = n
	}
	var out []tapeTick
	for i := len(v.tape) - 1; i >= 0 && len(out) < limit; i-- {
		tk := v.tape[i]
		if v.held != nil && tk.id == v.held.id {
			continue // not sent yet
		}
		if tk.t.Time > closest {
			continue
		}
		if tk.t.Time < far {
			break
		}
		out = append(out, tk)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
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
	subscribing := !c.md && endpoint == "user/syncrequest" || c.md && strings.EqualFold(endpoint, "md/getChart")
	if subscribing {
		if p, ok := v.socketPenalty(body); !ok {
			c.enqueue(frame(reply{S: 200, I: id, D: p}))
			return
		}
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
		snap := v.snapshot(accts, userID)
		v.subsMu.Lock()
		c.accounts = accts
		c.synced = true
		v.subsMu.Unlock()
		v.count(func(s *Stats) { s.Syncs++ })
		c.enqueue(frame(reply{S: 200, I: id, D: snap}))
	case c.md && strings.EqualFold(endpoint, "md/getChart"):
		var req chartRequest
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
		hist, err := v.chartHistory(req)
		if err != nil {
			c.enqueue(frame(reply{S: 400, I: id, D: err.Error()}))
			return
		}
		// History under the historical id, the end-of-history marker and
		// then real time under the real-time id; all under v.mu, so no
		// trade falls between the history and the subscription.
		hid, rid := v.st.id(), v.st.id()
		v.subsMu.Lock()
		c.charts[rid] = true
		v.subsMu.Unlock()
		c.enqueue(frame(reply{S: 200, I: id, D: map[string]int64{"historicalId": hid, "realtimeId": rid}}))
		for len(hist) > 0 {
			n := min(len(hist), 100)
			c.enqueue(frame(event{E: "chart", D: map[string]any{"charts": []tickPacket{packetOf("db", hid, hist[:n])}}}))
			hist = hist[n:]
		}
		v.count(func(s *Stats) { s.History++ })
		c.enqueue(frame(event{E: "chart", D: map[string]any{"charts": []tickPacket{{ID: rid, EOH: true}}}}))
		v.chartOnce.Do(func() { close(v.chartStart) })
	case c.md && strings.EqualFold(endpoint, "md/cancelChart"):
		var req struct {
			SubscriptionID int64 `json:"subscriptionId"`
		}
		_ = json.Unmarshal([]byte(body), &req)
		v.subsMu.Lock()
		if req.SubscriptionID == 0 {
			clear(c.charts)
		} else {
			delete(c.charts, req.SubscriptionID)
		}
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
