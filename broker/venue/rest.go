// This file is the venue's REST API: authentication, accounts, contracts,
// order placement and management, the request log, and the injected
// faults (5xx, 429 with an empty body, penalty tickets, expired tokens,
// placements answered with neither an order id nor a failure). The list
// endpoints are in lists.go, the broker's own risk in brokerrisk.go.

package venue

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/market"
)

func (v *Venue) routes(mux *http.ServeMux) {
	mux.HandleFunc("/v1/websocket", func(w http.ResponseWriter, r *http.Request) { v.serveSocket(w, r, false) })
	mux.HandleFunc("/v1/md/websocket", func(w http.ResponseWriter, r *http.Request) { v.serveSocket(w, r, true) })
	post := func(path string, h func(*http.Request, []byte) (int, any)) {
		mux.HandleFunc(path, v.wrap(http.MethodPost, path, h))
	}
	get := func(path string, h func(*http.Request, []byte) (int, any)) {
		mux.HandleFunc(path, v.wrap(http.MethodGet, path, h))
	}
	post("/v1/auth/accesstokenrequest", v.accessToken)
	get("/v1/auth/renewAccessToken", v.renewToken)
	get("/v1/contract/find", v.contractFind)
	get("/v1/contract/item", v.contractItem)
	post("/v1/order/placeorder", v.recorded("placeorder", v.placeOrder))
	post("/v1/order/placeoso", v.recorded("placeoso", v.placeOSO))
	post("/v1/order/placeoco", v.recorded("placeoco", v.placeOCO))
	post("/v1/order/modifyorder", v.modifyOrder)
	post("/v1/order/cancelorder", v.cancelOrder)
	post("/v1/order/liquidateposition", v.liquidate)
	post("/v1/order/liquidatepositions", v.liquidatePositions)
	v.listRoutes(get)
	v.riskRoutes(get, post)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		v.log.Info("venue: request", "method", r.Method, "path", r.URL.Path, "status", http.StatusNotFound)
		writeJSON(w, http.StatusNotFound, map[string]string{"errorText": "unknown endpoint " + r.URL.Path})
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(c int) { s.status = c; s.ResponseWriter.WriteHeader(c) }

// wrap adds the method check, the request log, the injected faults, the
// bearer-token check and the penalty protocol to a handler.
func (v *Venue) wrap(method, path string, h func(*http.Request, []byte) (int, any)) http.HandlerFunc {
	auth := strings.HasPrefix(path, "/v1/auth/accesstokenrequest")
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		note := ""
		defer func() {
			v.log.Info("venue: request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
				"ms", float64(time.Since(start).Microseconds())/1000, "note", note)
		}()
		v.count(func(s *Stats) { s.Requests++ })
		if r.Method != method {
			writeJSON(rec, http.StatusMethodNotAllowed, map[string]string{"errorText": "method not allowed"})
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			writeJSON(rec, http.StatusBadRequest, map[string]string{"errorText": "cannot read body"})
			return
		}
		// Injected 5xx (auth endpoints excluded).
		failAfter, failCode := false, 0
		if !auth && !strings.HasPrefix(path, "/v1/auth/") {
			v.faultMu.Lock()
			if v.failN > 0 {
				v.failN--
				failCode, failAfter = v.failCode, v.failAfter
				v.stats.Injected5xx++
				v.statsCond.Broadcast()
			}
			v.faultMu.Unlock()
		}
		if failCode != 0 && !failAfter {
			note = "injected failure"
			writeJSON(rec, failCode, map[string]string{"errorText": "injected failure"})
			return
		}
		// HTTP 429 with an empty body: the request-rate limit answered by
		// the HTTP layer rather than with a penalty ticket (the sources
		// only document tickets, example-api-faq
		// docs/HowToHandleRequestLimits.md; a bare 429 is assumed too).
		if !strings.HasPrefix(path, "/v1/auth/") && v.take429() {
			note = "injected 429"
			rec.WriteHeader(http.StatusTooManyRequests)
			return
		}
		if !auth {
			if ok, expired := v.authorized(r); !ok {
				v.count(func(s *Stats) { s.Unauthorized++ })
				note = "unauthorized"
				if expired {
					note = "expired token"
				}
				writeJSON(rec, http.StatusUnauthorized, map[string]string{"errorText": "Access is denied"})
				return
			}
		}
		if method == http.MethodPost {
			if p, ok := v.penalty(body); !ok {
				note = "penalty ticket"
				writeJSON(rec, http.StatusOK, p)
				return
			}
		}
		status, out := h(r, body)
		// LateCommands: what was held back is pushed only once the answer
		// is out.
		defer func() {
			v.mu.Lock()
			late := len(v.st.deferred) > 0
			v.mu.Unlock()
			if !late {
				return
			}
			if f, ok := w.(http.Flusher); ok {
				f.Flush() // the answer goes out first (its length is set: one write)
			}
			v.mu.Lock()
			v.flushDeferred()
			v.mu.Unlock()
		}()
		if failCode != 0 {
			note = "injected failure after acting"
			writeJSON(rec, failCode, map[string]string{"errorText": "injected failure"})
			return
		}
		writeJSON(rec, status, out)
	}
}

func (v *Venue) take429() bool {
	v.faultMu.Lock()
	defer v.faultMu.Unlock()
	if v.f429N <= 0 {
		return false
	}
	v.f429N--
	v.stats.Injected429++
	v.statsCond.Broadcast()
	return true
}

// takeNoOrderID reports whether this placement is answered with neither
// an order id nor a failure, and whether it acts first.
func (v *Venue) takeNoOrderID() (silent, act bool) {
	v.faultMu.Lock()
	defer v.faultMu.Unlock()
	if v.noIDN <= 0 {
		return false, false
	}
	v.noIDN--
	v.stats.NoOrderID++
	v.statsCond.Broadcast()
	return true, v.noIDAct
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	var b []byte
	if v != nil {
		b, _ = json.Marshal(v)
		b = append(b, '\n')
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (v *Venue) authorized(r *http.Request) (ok, expired bool) {
	h := r.Header.Get("Authorization")
	tok, found := strings.CutPrefix(h, "Bearer ")
	if !found || tok == "" {
		return false, false
	}
	v.faultMu.Lock()
	defer v.faultMu.Unlock()
	t, known := v.tokens[tok]
	if !known || t.md {
		return false, false
	}
	if !v.clock.Now().Before(t.expires) {
		return false, true
	}
	return true, false
}

// tokenValid checks a WebSocket authorize token.
func (v *Venue) tokenValid(tok string, md bool) bool {
	v.faultMu.Lock()
	defer v.faultMu.Unlock()
	t, ok := v.tokens[tok]
	return ok && t.md == md && v.clock.Now().Before(t.expires)
}

// penalty decides whether a POST is penalized: a request carrying a valid
// ticket whose wait is over passes; otherwise, while PenalizeNext has
// requests left, a ticket is issued.
func (v *Venue) penalty(body []byte) (map[string]any, bool) {
	var t struct {
		Ticket string `json:"p-ticket"`
	}
	_ = json.Unmarshal(body, &t)
	v.faultMu.Lock()
	defer v.faultMu.Unlock()
	now := v.clock.Now()
	if t.Ticket != "" {
		if due, ok := v.tickets[t.Ticket]; ok {
			if !now.Before(due) {
				delete(v.tickets, t.Ticket)
				return nil, true
			}
			wait := math.Ceil(due.Sub(now).Seconds())
			return map[string]any{"p-ticket": t.Ticket, "p-time": wait, "p-captcha": false}, false
		}
	}
	if v.penN <= 0 {
		return nil, true
	}
	v.penN--
	v.ticketN++
	tk := fmt.Sprintf("pt-%d-%s", v.ticketN, randHex(6))
	v.tickets[tk] = now.Add(time.Duration(v.penSecs) * time.Second)
	v.stats.Penalties++
	v.statsCond.Broadcast()
	return map[string]any{"p-ticket": tk, "p-time": v.penSecs, "p-captcha": false}, false
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func decode(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("malformed JSON body: %v", err)
	}
	return nil
}

func bad(msg string) (int, any) {
	return http.StatusBadRequest, map[string]string{"errorText": msg}
}

func (v *Venue) issue() accessTokenResponse {
	v.faultMu.Lock()
	defer v.faultMu.Unlock()
	exp := v.clock.Now().Add(v.cfg.TokenLifetime)
	acc, md := randHex(24), randHex(24)
	v.tokens[acc] = tokenInfo{expires: exp}
	v.tokens[md] = tokenInfo{expires: exp, md: true}
	return accessTokenResponse{AccessToken: acc, MDAccessToken: md, ExpirationTime: exp.UTC().Format(time.RFC3339Nano),
		UserID: userID, Name: v.cfg.User, UserStatus: "Active"}
}

func (v *Venue) accessToken(r *http.Request, body []byte) (int, any) {
	var req accessTokenRequest
	if err := decode(body, &req); err != nil {
		return bad(err.Error())
	}
	if req.Name == "" || req.Password == "" {
		return bad("name and password are required")
	}
	if req.Name != v.cfg.User || req.Password != v.cfg.Password {
		return http.StatusOK, accessTokenResponse{ErrorText: "Incorrect username or password. Please try again, noting that passwords are case-sensitive."}
	}
	resp := v.issue()
	v.count(func(s *Stats) { s.Auths++ })
	return http.StatusOK, resp
}

func (v *Venue) renewToken(r *http.Request, _ []byte) (int, any) {
	// The old token stays valid until it expires.
	resp := v.issue()
	v.count(func(s *Stats) { s.Renewals++ })
	return http.StatusOK, resp
}

func (v *Venue) contractFind(r *http.Request, _ []byte) (int, any) {
	if name := r.URL.Query().Get("name"); name != v.cfg.Symbol {
		return http.StatusNotFound, map[string]string{"errorText": fmt.Sprintf("contract %q not found", name)}
	}
	return http.StatusOK, contractEnt{ID: ContractID, Name: v.cfg.Symbol}
}

func (v *Venue) contractItem(r *http.Request, _ []byte) (int, any) {
	if r.URL.Query().Get("id") != strconv.Itoa(ContractID) {
		return http.StatusNotFound, map[string]string{"errorText": "contract not found"}
	}
	return http.StatusOK, contractEnt{ID: ContractID, Name: v.cfg.Symbol}
}

// failure maps an engine error to a PlaceOrderResult/CommandResult failure.
func failure(err error) (string, string) {
	text := err.Error()
	var re *sim.RejectError
	if errors.As(err, &re) {
		text = re.Reason
	}
	switch {
	case errors.Is(err, broker.ErrOrderDone):
		return "TooLate", text
	case errors.Is(err, broker.ErrUnknownOrder):
		return "UnknownReason", "unknown order"
	case errors.Is(err, broker.ErrDisconnected):
		return "ExecutionProviderUnavailable", text
	}
	return "UnknownReason", text
}

func parseType(s string) (market.OrderType, bool) {
	switch s {
	case "Market":
		return market.MarketOrder, true
	case "Limit":
		return market.LimitOrder, true
	case "Stop":
		return market.StopOrder, true
	case "StopLimit":
		return market.StopLimitOrder, true
	}
	return 0, false
}

func parsePx(p *float64) (market.Price, error) {
	if p == nil {
		return market.NoPrice, nil
	}
	return market.PriceFromPoints(*p)
}

// toOrder validates the request fields the API itself checks (its 400s)
// and converts them; the engine judges the rest (prices, sides).
func (v *Venue) toOrder(req *orderReq, account string, qty int64) (broker.Order, string) {
	o := broker.Order{ClientID: req.ClOrdID, Account: account, Qty: qty}
	switch req.Action {
	case "Buy":
		o.Side = market.Buy
	case "Sell":
		o.Side = market.Sell
	default:
		return o, fmt.Sprintf("action %q: want Buy or Sell", req.Action)
	}
	t, ok := parseType(req.OrderType)
	if !ok {
		return o, fmt.Sprintf("orderType %q: want Market, Limit, Stop or StopLimit", req.OrderType)
	}
	o.Type = t
	var err error
	if o.Price, err = parsePx(req.Price); err != nil {
		return o, "price: " + err.Error()
	}
	if o.StopPrice, err = parsePx(req.StopPrice); err != nil {
		return o, "stopPrice: " + err.Error()
	}
	switch req.TimeInForce {
	case "", "Day":
		o.TIF = broker.Day
	case "GTC":
		o.TIF = broker.GTC
	default:
		return o, fmt.Sprintf("timeInForce %q: want Day or GTC", req.TimeInForce)
	}
	return o, ""
}

// accountOf resolves accountId/accountSpec.
func (v *Venue) accountOf(req *orderReq) (string, bool) {
	if req.AccountID != 0 {
		n, ok := v.st.acctName[req.AccountID]
		if ok && (req.AccountSpec == "" || req.AccountSpec == n) {
			return n, true
		}
		return "", false
	}
	_, ok := v.st.acctID[req.AccountSpec]
	return req.AccountSpec, ok
}

// clientID gives an order without clOrdId a venue id (real clients need
// not send one).
func (v *Venue) clientID(req *orderReq) {
	if req != nil && req.ClOrdID == "" {
		req.ClOrdID = "venue-" + strconv.FormatInt(v.st.id(), 10)
	}
}

func (v *Venue) placeOrder(_ *http.Request, body []byte) (int, any) {
	var req orderReq
	if err := decode(body, &req); err != nil {
		return bad(err.Error())
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	acct, ok := v.accountOf(&req)
	if !ok {
		return http.StatusOK, placeResult{FailureReason: "UnknownReason", FailureText: "unknown account"}
	}
	if req.Symbol != v.cfg.Symbol {
		return http.StatusOK, placeResult{FailureReason: "InvalidContract", FailureText: fmt.Sprintf("symbol %q is not traded here", req.Symbol)}
	}
	v.clientID(&req)
	o, msg := v.toOrder(&req, acct, req.OrderQty)
	if msg != "" {
		return bad(msg)
	}
	if r := v.refusedByRisk(acct, o.Side, o.Qty); r != nil {
		return http.StatusOK, *r
	}
	silent, act := v.takeNoOrderID()
	if silent && !act {
		return http.StatusOK, placeResult{}
	}
	k := ckey{acct, o.ClientID}
	v.st.pend[k] = pendingOrder{o: o, role: broker.Single}
	err := v.sim.SubmitOrder(bg, o)
	v.applyLocked()
	delete(v.st.pend, k)
	if silent {
		return http.StatusOK, placeResult{}
	}
	if err != nil {
		r, t := failure(err)
		return http.StatusOK, placeResult{FailureReason: r, FailureText: t}
	}
	o2 := v.st.live(acct, o.ClientID)
	if o2 == nil {
		return http.StatusOK, placeResult{FailureReason: "UnknownReason", FailureText: "order not accepted"}
	}
	return http.StatusOK, placeResult{OrderID: o2.ord.ID}
}

func (v *Venue) placeOSO(_ *http.Request, body []byte) (int, any) {
	var req orderReq
	if err := decode(body, &req); err != nil {
		return bad(err.Error())
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	acct, ok := v.accountOf(&req)
	if !ok {
		return http.StatusOK, placeResult{FailureReason: "UnknownReason", FailureText: "unknown account"}
	}
	if req.Symbol != v.cfg.Symbol {
		return http.StatusOK, placeResult{FailureReason: "InvalidContract", FailureText: fmt.Sprintf("symbol %q is not traded here", req.Symbol)}
	}
	if req.Bracket1 == nil || req.Bracket2 == nil {
		// A one-exit OSO is valid Tradovate; the engine's brackets need both.
		return http.StatusOK, placeResult{FailureReason: "Unsupported", FailureText: "this venue needs bracket1 (stop) and bracket2 (target)"}
	}
	v.clientID(&req)
	v.clientID(req.Bracket1)
	v.clientID(req.Bracket2)
	e, msg := v.toOrder(&req, acct, req.OrderQty)
	if msg != "" {
		return bad(msg)
	}
	st, msg := v.toOrder(req.Bracket1, acct, 0)
	if msg != "" {
		return bad("bracket1: " + msg)
	}
	tg, msg := v.toOrder(req.Bracket2, acct, 0)
	if msg != "" {
		return bad("bracket2: " + msg)
	}
	if st.TIF == broker.Day && req.Bracket1.TimeInForce == "" {
		st.TIF = broker.GTC
	}
	if tg.TIF == broker.Day && req.Bracket2.TimeInForce == "" {
		tg.TIF = broker.GTC
	}
	b := broker.Bracket{Entry: e, Stop: st, Target: tg}
	if r := v.refusedByRisk(acct, e.Side, e.Qty); r != nil {
		return http.StatusOK, *r
	}
	silent, act := v.takeNoOrderID()
	if silent && !act {
		return http.StatusOK, placeResult{}
	}
	keys := []ckey{{acct, e.ClientID}, {acct, st.ClientID}, {acct, tg.ClientID}}
	v.st.pend[keys[0]] = pendingOrder{o: e, role: broker.EntryLeg, group: e.ClientID}
	v.st.pend[keys[1]] = pendingOrder{o: st, role: broker.StopLeg, group: e.ClientID}
	v.st.pend[keys[2]] = pendingOrder{o: tg, role: broker.TargetLeg, group: e.ClientID}
	err := v.sim.SubmitBracket(bg, b)
	v.applyLocked()
	for _, k := range keys {
		delete(v.st.pend, k)
	}
	if silent {
		return http.StatusOK, placeResult{}
	}
	if err != nil {
		r, t := failure(err)
		return http.StatusOK, placeResult{FailureReason: r, FailureText: t}
	}
	eo, so, to := v.st.live(acct, e.ClientID), v.st.live(acct, st.ClientID), v.st.live(acct, tg.ClientID)
	if eo == nil || so == nil || to == nil {
		return http.StatusOK, placeResult{FailureReason: "UnknownReason", FailureText: "bracket not accepted"}
	}
	return http.StatusOK, placeResult{OrderID: eo.ord.ID, OSO1ID: so.ord.ID, OSO2ID: to.ord.ID}
}

// placeOCO places two orders that cancel each other: the first fill of
// either cancels the other (the venue does this itself; the engine has no
// stand-alone OCO).
func (v *Venue) placeOCO(_ *http.Request, body []byte) (int, any) {
	var req orderReq
	if err := decode(body, &req); err != nil {
		return bad(err.Error())
	}
	if req.Other == nil {
		return bad("other is required")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	acct, ok := v.accountOf(&req)
	if !ok {
		return http.StatusOK, placeResult{FailureReason: "UnknownReason", FailureText: "unknown account"}
	}
	v.clientID(&req)
	v.clientID(req.Other)
	a, msg := v.toOrder(&req, acct, req.OrderQty)
	if msg != "" {
		return bad(msg)
	}
	b, msg := v.toOrder(req.Other, acct, req.OrderQty)
	if msg != "" {
		return bad("other: " + msg)
	}
	var ids []int64
	for _, o := range []broker.Order{a, b} {
		k := ckey{acct, o.ClientID}
		v.st.pend[k] = pendingOrder{o: o, role: broker.Single}
		err := v.sim.SubmitOrder(bg, o)
		v.applyLocked()
		delete(v.st.pend, k)
		if err != nil {
			for _, id := range ids {
				_ = v.sim.Cancel(bg, acct, v.st.orders[id].clOrd)
			}
			v.applyLocked()
			r, t := failure(err)
			return http.StatusOK, placeResult{FailureReason: r, FailureText: t}
		}
		ids = append(ids, v.st.live(acct, o.ClientID).ord.ID)
	}
	v.st.orders[ids[0]].ocoPeer, v.st.orders[ids[1]].ocoPeer = ids[1], ids[0]
	return http.StatusOK, placeResult{OrderID: ids[0], OCOID: ids[1]}
}

func (v *Venue) orderByID(id int64) (*vOrder, func() (int, any)) {
	o := v.st.orders[id]
	if o == nil {
		return nil, func() (int, any) {
			return http.StatusOK, commandResult{FailureReason: "UnknownReason", FailureText: "unknown order"}
		}
	}
	return o, nil
}

func (v *Venue) modifyOrder(_ *http.Request, body []byte) (int, any) {
	var req modifyReq
	if err := decode(body, &req); err != nil {
		return bad(err.Error())
	}
	if req.OrderID == 0 {
		return bad("orderId is required")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	o, fail := v.orderByID(req.OrderID)
	if fail != nil {
		return fail()
	}
	np, err := parsePx(req.Price)
	if err != nil {
		return bad("price: " + err.Error())
	}
	ns, err := parsePx(req.StopPrice)
	if err != nil {
		return bad("stopPrice: " + err.Error())
	}
	cur, _ := parsePx(o.ver.Price)
	curStop, _ := parsePx(o.ver.StopPrice)
	if np == cur {
		np = market.NoPrice
	}
	if ns == curStop {
		ns = market.NoPrice
	}
	if np == market.NoPrice && ns == market.NoPrice && !done(o.ord.OrdStatus) {
		// Nothing changes: a repeated modify is answered as done.
		return http.StatusOK, commandResult{CommandID: v.command(o, "Modify")}
	}
	err = v.sim.Modify(bg, o.account, o.clOrd, np, ns)
	v.applyLocked()
	if err != nil {
		r, t := failure(err)
		return http.StatusOK, commandResult{FailureReason: r, FailureText: t}
	}
	return http.StatusOK, commandResult{CommandID: v.command(o, "Modify")}
}

// command records a Modify/Cancel command entity. Caller holds v.mu.
func (v *Venue) command(o *vOrder, kind string) int64 {
	c := commandEnt{ID: v.st.id(), OrderID: o.ord.ID, Timestamp: o.ord.Timestamp, CommandType: kind,
		CommandStatus: "RiskPassed", IsAutomated: true}
	v.st.commands = append(v.st.commands, c)
	v.pushLocked("command", "Created", c, o.account)
	return c.ID
}

func (v *Venue) cancelOrder(_ *http.Request, body []byte) (int, any) {
	var req cancelReq
	if err := decode(body, &req); err != nil {
		return bad(err.Error())
	}
	if req.OrderID == 0 {
		return bad("orderId is required")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	o, fail := v.orderByID(req.OrderID)
	if fail != nil {
		return fail()
	}
	err := v.sim.Cancel(bg, o.account, o.clOrd)
	v.applyLocked()
	if err != nil {
		r, t := failure(err)
		return http.StatusOK, commandResult{FailureReason: r, FailureText: t}
	}
	return http.StatusOK, commandResult{CommandID: v.command(o, "Cancel")}
}

func (v *Venue) liquidate(_ *http.Request, body []byte) (int, any) {
	var req liquidateReq
	if err := decode(body, &req); err != nil {
		return bad(err.Error())
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	acct, ok := v.st.acctName[req.AccountID]
	if !ok {
		return http.StatusOK, placeResult{FailureReason: "UnknownReason", FailureText: "unknown account"}
	}
	if req.ContractID != ContractID {
		return http.StatusOK, placeResult{FailureReason: "InvalidContract", FailureText: "unknown contract"}
	}
	before := len(v.st.order)
	err := v.sim.Liquidate(bg, acct)
	v.applyLocked()
	if err != nil {
		r, t := failure(err)
		return http.StatusOK, placeResult{FailureReason: r, FailureText: t}
	}
	res := placeResult{}
	for _, id := range v.st.order[before:] {
		if o := v.st.orders[id]; o.account == acct && strings.HasPrefix(o.clOrd, "liquidate.") {
			res.OrderID = id
		}
	}
	return http.StatusOK, res
}

// liquidatePositions is order/liquidatepositions: a list of position ids,
// possibly of several accounts, answered with SimpleResponse {ok,
// errorText} (partner API reference, Orders, Liquidate Positions). The
// reference does not say that it cancels working orders, as
// liquidateposition does; the venue assumes the worst and only flattens:
// one market order per position, named liquidate.ACCOUNT.pN.
func (v *Venue) liquidatePositions(_ *http.Request, body []byte) (int, any) {
	var req liquidatePositionsReq
	if err := decode(body, &req); err != nil {
		return bad(err.Error())
	}
	if len(req.Positions) == 0 {
		return http.StatusOK, simpleResponse{ErrorText: "no positions"}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	var accts []string
	for _, id := range req.Positions {
		found := ""
		for a, p := range v.st.positions {
			if p.ID == id {
				found = a
			}
		}
		if found == "" {
			return http.StatusOK, simpleResponse{ErrorText: fmt.Sprintf("unknown position %d", id)}
		}
		accts = append(accts, found)
	}
	for _, a := range accts {
		ep, err := v.sim.Position(a)
		if err != nil || ep.Qty == 0 {
			continue
		}
		side, q := market.Sell, ep.Qty
		if q < 0 {
			side, q = market.Buy, -q
		}
		v.liqN++
		o := broker.Order{ClientID: fmt.Sprintf("liquidate.%s.p%d", a, v.liqN), Account: a, Side: side, Qty: q, Type: market.MarketOrder, TIF: broker.Day}
		if err := v.sim.SubmitOrder(bg, o); err != nil {
			v.applyLocked()
			r, t := failure(err)
			return http.StatusOK, simpleResponse{ErrorText: r + ": " + t}
		}
	}
	v.applyLocked()
	return http.StatusOK, simpleResponse{OK: true}
}
