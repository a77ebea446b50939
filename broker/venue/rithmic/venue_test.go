// venue_test.go: the venue as a raw R|Protocol client sees it: what it
// answers before a login, to bad logins, unknown templates and garbage;
// idle clients dropped; bracket exits counted from the entry's fill; exit
// position leaving working orders alone; user_tag not deduplicated; a
// restart keeping the orders. FuzzHandle sends it arbitrary frames (with
// and without an RMS limit).

package rithmic

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/rithmic/rpb"
	"github.com/deskguard/deskguard/market"
)

func start(t *testing.T, cfg Config) *Venue {
	t.Helper()
	cfg.Manual = true
	if len(cfg.Accounts) == 0 {
		cfg.Accounts = []string{"A"}
	}
	v, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	<-v.Ready()
	return v
}

// raw is a bare R|Protocol client.
type raw struct {
	t    *testing.T
	ws   *websocket.Conn
	ctx  context.Context
	held []proto.Message // read by nextAny, not yet returned (rms_test.go)
}

func dialRaw(t *testing.T, v *Venue) *raw {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	ws, _, err := websocket.Dial(ctx, v.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return &raw{t: t, ws: ws, ctx: ctx}
}

func (r *raw) send(tpl int32, m proto.Message) {
	r.t.Helper()
	b, err := rpb.Frame(tpl, m)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.ws.Write(r.ctx, websocket.MessageBinary, b); err != nil {
		r.t.Fatal(err)
	}
}

// next reads the next message of template tpl, skipping others.
func (r *raw) next(tpl int32) proto.Message {
	r.t.Helper()
	for {
		_, b, err := r.ws.Read(r.ctx)
		if err != nil {
			r.t.Fatalf("waiting for template %d: %v", tpl, err)
		}
		var got proto.Message
		if err := rpb.Frames(b, func(p []byte) error {
			id, m, err := rpb.Decode(p)
			if err == nil && id == tpl {
				got = m
			}
			return err
		}); err != nil {
			r.t.Fatal(err)
		}
		if got != nil {
			return got
		}
	}
}

func (r *raw) login(plant rpb.InfraType, user, pw, system string) *rpb.ResponseLogin {
	r.t.Helper()
	r.send(rpb.TLoginRequest, &rpb.RequestLogin{UserMsg: []string{"l"}, User: user, Password: pw, SystemName: system, InfraType: plant})
	return r.next(rpb.TLoginResponse).(*rpb.ResponseLogin)
}

func TestBeforeLoginAndBadRequests(t *testing.T) {
	v := start(t, Config{})
	r := dialRaw(t, v)
	r.send(rpb.TSystemInfoRequest, &rpb.RequestRithmicSystemInfo{UserMsg: []string{"s"}})
	if si := r.next(rpb.TSystemInfoResponse).(*rpb.ResponseRithmicSystemInfo); len(si.SystemName) != 1 || si.SystemName[0] != v.SystemName() || si.UserMsg[0] != "s" {
		t.Fatalf("system info %+v", si)
	}
	r.send(rpb.TShowOrdersRequest, &rpb.RequestShowOrders{UserMsg: []string{"q1"}, AccountId: "A"})
	if rj := r.next(rpb.TReject).(*rpb.Reject); rj.UserMsg[0] != "q1" || rj.RpCode[0] == "0" {
		t.Fatalf("request before login: %+v", rj)
	}
	for _, c := range []struct {
		name             string
		plant            rpb.InfraType
		user, pw, system string
	}{
		{"wrong password", Order, "demo", "x", v.SystemName()},
		{"unknown system", Order, "demo", "demo", "Rithmic 01"},
		{"history plant", rpb.InfraType_INFRA_HISTORY_PLANT, "demo", "demo", v.SystemName()},
	} {
		if resp := dialRaw(t, v).login(c.plant, c.user, c.pw, c.system); rpb.RpCodeOK(resp.RpCode) {
			t.Errorf("%s: login accepted: %+v", c.name, resp)
		}
	}
	resp := r.login(Order, "demo", "demo", v.SystemName())
	if !rpb.RpCodeOK(resp.RpCode) || resp.HeartbeatInterval <= 0 || resp.FcmId == "" {
		t.Fatalf("login %+v", resp)
	}
	r.send(rpb.TMarketDataRequest, &rpb.RequestMarketDataUpdate{UserMsg: []string{"m"}, Symbol: "MESZ5", Exchange: "CME"})
	if rj := r.next(rpb.TReject).(*rpb.Reject); rj.UserMsg[0] != "m" {
		t.Fatalf("a ticker request on the order plant: %+v", rj)
	}
	b, _ := rpb.Frame(9999, &rpb.Reject{})
	if err := r.ws.Write(r.ctx, websocket.MessageBinary, b); err != nil {
		t.Fatal(err)
	}
	r.next(rpb.TReject)
	if err := r.ws.Write(r.ctx, websocket.MessageBinary, []byte{0, 0, 0, 2, 0xff, 0xff}); err != nil {
		t.Fatal(err)
	}
	r.next(rpb.TReject)
	r.send(rpb.THeartbeatRequest, &rpb.RequestHeartbeat{UserMsg: []string{"h"}})
	if hb := r.next(rpb.THeartbeatResponse).(*rpb.ResponseHeartbeat); hb.UserMsg[0] != "h" || hb.Ssboe == 0 {
		t.Fatalf("heartbeat %+v", hb)
	}
}

func TestIdleClientDropped(t *testing.T) {
	v := start(t, Config{HeartbeatEvery: 100 * time.Millisecond})
	r := dialRaw(t, v)
	r.login(Order, "demo", "demo", v.SystemName())
	for {
		if _, _, err := r.ws.Read(r.ctx); err != nil {
			break // dropped
		}
	}
	if r.ctx.Err() != nil {
		t.Fatal("an idle client was never dropped")
	}
	if v.Stats().Dropped == 0 {
		t.Fatal("no drop counted")
	}
}

// order logs in to the order plant and subscribes to account A.
func orderClient(t *testing.T, v *Venue) *raw {
	r := dialRaw(t, v)
	r.login(Order, "demo", "demo", v.SystemName())
	r.send(rpb.TOrderUpdatesRequest, &rpb.RequestSubscribeForOrderUpdates{UserMsg: []string{"u"}, AccountId: "A"})
	r.next(rpb.TOrderUpdatesResponse)
	return r
}

func trade(v *Venue, ns *int64, p market.Price, size int64) {
	*ns += int64(time.Millisecond)
	v.Trade(market.Trade{Time: *ns, Price: p, Size: size, Aggressor: market.Sell})
}

const px = market.Price(20000)

func TestBracketExitsCountFromTheFill(t *testing.T) {
	v := start(t, Config{})
	r := orderClient(t, v)
	ns := int64(1_772_463_600_000_000_000)
	trade(v, &ns, px, 1)
	// A marketable buy limit 8 ticks above the market: it fills at the
	// next trade's price, 10 ticks below the limit.
	r.send(rpb.TBracketOrderRequest, &rpb.RequestBracketOrder{UserMsg: []string{"b"}, UserTag: "e1|b", AccountId: "A", Symbol: "MESZ5",
		Exchange: "CME", Quantity: 1, Price: points(px + 8), TransactionType: rpb.TransactionType_TRANSACTION_BUY,
		Duration: rpb.Duration_DURATION_DAY, PriceType: rpb.PriceType_PRICE_LIMIT, TradeRoute: "simulator",
		BracketType: rpb.BracketType_BRACKET_TARGET_AND_STOP_STATIC, StopTicks: 12, TargetTicks: 20})
	if resp := r.next(rpb.TBracketOrderResponse).(*rpb.ResponseBracketOrder); !rpb.RpCodeOK(resp.RpCode) || resp.BasketId == "" {
		t.Fatalf("bracket %+v", resp)
	}
	trade(v, &ns, px-2, 5)
	open, _ := v.Engine().OpenOrders(context.Background(), "A")
	var stop, target market.Price
	for _, o := range open {
		switch o.Role {
		case broker.StopLeg:
			stop = o.StopPrice
		case broker.TargetLeg:
			target = o.Price
		}
	}
	if stop != px-2-12 || target != px-2+20 {
		t.Fatalf("exits stop %s target %s, want %s and %s (from the fill at %s)", stop, target, px-14, px+18, px-2)
	}
	h := v.History()
	if h[len(h)-1].ClientID != "e1.target" {
		t.Fatalf("history ids %+v", h[len(h)-1])
	}
}

func TestExitPositionLeavesWorkingOrders(t *testing.T) {
	v := start(t, Config{})
	r := orderClient(t, v)
	ns := int64(1_772_463_600_000_000_000)
	trade(v, &ns, px, 1)
	newOrder := func(tag string, pt rpb.PriceType, price float64) {
		r.send(rpb.TNewOrderRequest, &rpb.RequestNewOrder{UserMsg: []string{tag}, UserTag: tag, AccountId: "A", Symbol: "MESZ5",
			Exchange: "CME", Quantity: 1, Price: price, TransactionType: rpb.TransactionType_TRANSACTION_BUY,
			Duration: rpb.Duration_DURATION_DAY, PriceType: pt, TradeRoute: "simulator"})
		if resp := r.next(rpb.TNewOrderResponse).(*rpb.ResponseNewOrder); !rpb.RpCodeOK(resp.RpCode) {
			t.Fatalf("%s: %+v", tag, resp)
		}
	}
	newOrder("m1", rpb.PriceType_PRICE_MARKET, 0)
	trade(v, &ns, px, 5)
	newOrder("l1", rpb.PriceType_PRICE_LIMIT, points(px-40))
	newOrder("l1", rpb.PriceType_PRICE_LIMIT, points(px-40)) // the same tag again: a second order
	r.send(rpb.TExitPositionRequest, &rpb.RequestExitPosition{UserMsg: []string{"x"}, AccountId: "A", Symbol: "MESZ5", Exchange: "CME",
		WindowName: "w"})
	if resp := r.next(rpb.TExitPositionResponse).(*rpb.ResponseExitPosition); !rpb.RpCodeOK(resp.RpCode) {
		t.Fatalf("exit %+v", resp)
	}
	trade(v, &ns, px, 5)
	if p := v.Positions()[0]; p.Qty != 0 {
		t.Fatalf("position %+v after exit", p)
	}
	open, _ := v.Engine().OpenOrders(context.Background(), "A")
	if len(open) != 2 {
		t.Fatalf("working orders after exit position: %d, want both limits (it does not cancel)", len(open))
	}
	n := 0
	for _, ev := range v.History() {
		if ev.ClientID == "l1" && ev.Kind == broker.Accepted {
			n++
		}
		if ev.Kind == broker.FilledEv && ev.Side == market.Sell && len(ev.ClientID) < 10 {
			t.Fatalf("exit order named %q", ev.ClientID)
		}
	}
	if n != 2 {
		t.Fatalf("user_tag l1 accepted %d times, want 2: the venue does not deduplicate", n)
	}
}

func TestBounceKeepsOrders(t *testing.T) {
	v := start(t, Config{})
	r := orderClient(t, v)
	ns := int64(1_772_463_600_000_000_000)
	trade(v, &ns, px, 1)
	r.send(rpb.TNewOrderRequest, &rpb.RequestNewOrder{UserMsg: []string{"n"}, UserTag: "l1", AccountId: "A", Symbol: "MESZ5",
		Exchange: "CME", Quantity: 1, Price: points(px - 4), TransactionType: rpb.TransactionType_TRANSACTION_BUY,
		Duration: rpb.Duration_DURATION_GTC, PriceType: rpb.PriceType_PRICE_LIMIT, TradeRoute: "simulator"})
	r.next(rpb.TNewOrderResponse)
	u := v.URL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Bounce(ctx, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if v.URL() != u {
		t.Fatalf("address changed %s → %s", u, v.URL())
	}
	for { // what was written before the restart, then the close
		if _, _, err := r.ws.Read(r.ctx); err != nil {
			break
		}
	}
	if r.ctx.Err() != nil {
		t.Fatal("the old connection survived a restart")
	}
	r2 := orderClient(t, v)
	r2.send(rpb.TShowOrdersRequest, &rpb.RequestShowOrders{UserMsg: []string{"q"}, AccountId: "A"})
	n := r2.next(rpb.TExchangeOrderNotification).(*rpb.ExchangeOrderNotification)
	if !n.IsSnapshot || n.UserTag != "l1" {
		t.Fatalf("snapshot after restart %+v", n)
	}
}

// FuzzHandle: any frame to a logged-in order, ticker or PnL session is
// answered or refused, never a panic.
func FuzzHandle(f *testing.F) {
	for _, m := range []struct {
		tpl int32
		m   proto.Message
	}{
		{rpb.TNewOrderRequest, &rpb.RequestNewOrder{UserTag: "x", AccountId: "A", Symbol: "MESZ5", Exchange: "CME", Quantity: 1,
			PriceType: rpb.PriceType_PRICE_MARKET, TransactionType: rpb.TransactionType_TRANSACTION_BUY, Duration: rpb.Duration_DURATION_DAY,
			TradeRoute: "simulator"}},
		{rpb.TBracketOrderRequest, &rpb.RequestBracketOrder{UserTag: "e|b", AccountId: "A", Symbol: "MESZ5", Exchange: "CME", Quantity: 1,
			Price: 5000, PriceType: rpb.PriceType_PRICE_LIMIT, TransactionType: rpb.TransactionType_TRANSACTION_BUY, TradeRoute: "simulator",
			BracketType: rpb.BracketType_BRACKET_TARGET_AND_STOP_STATIC, StopTicks: 4, TargetTicks: 8, Duration: rpb.Duration_DURATION_DAY}},
		{rpb.TUpdateStopRequest, &rpb.RequestUpdateStopBracketLevel{AccountId: "A", BasketId: "1000001", Level: 4, StopTicks: 2}},
		{rpb.TModifyOrderRequest, &rpb.RequestModifyOrder{AccountId: "A", BasketId: "1000001", Price: 4999}},
		{rpb.TExitPositionRequest, &rpb.RequestExitPosition{AccountId: "A"}},
		{rpb.TReplayExecutionsRequest, &rpb.RequestReplayExecutions{AccountId: "A"}},
		{rpb.TMarketDataRequest, &rpb.RequestMarketDataUpdate{Symbol: "MESZ5", Exchange: "CME", Request: 1, UpdateBits: 3}},
		{rpb.TPnLSnapshotRequest, &rpb.RequestPnLPositionSnapshot{AccountId: "A"}},
		{rpb.TAccountRmsInfoRequest, &rpb.RequestAccountRmsInfo{}},
		{rpb.TAccountRmsUpdatesRequest, &rpb.RequestAccountRmsUpdates{AccountId: "A", Request: "subscribe", UpdateBits: 1}},
	} {
		b, _ := rpb.Frame(m.tpl, m.m)
		f.Add(byte(Order), b[4:])
	}
	f.Fuzz(func(t *testing.T, plant byte, p []byte) {
		v, err := New(Config{Accounts: []string{"A"}, Manual: true}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		v.Trade(market.Trade{Time: 1_772_463_600_000_000_000, Price: 20000, Size: 1})
		c := &conn{v: v, out: make(chan []byte, 1<<16), late: make(chan lateFrame, 16), closed: make(chan struct{}),
			plant: rpb.InfraType(plant%3 + 1), user: "demo", orders: map[string]bool{"A": true}, brackets: map[string]bool{"A": true},
			pnl: map[string]bool{"A": true}, rms: map[string]bool{"A": true}}
		v.conns[c] = struct{}{}
		if plant%2 == 0 {
			// The RMS at 10.00 on A: the second trade can reach it.
			if err := v.SetRMS("A", 10, plant%4 == 0); err != nil {
				t.Fatal(err)
			}
		}
		v.handle(c, p)
		v.handle(c, p) // twice: idempotence paths
		v.Trade(market.Trade{Time: 1_772_463_600_001_000_000, Price: 19990, Size: 10})
		for len(c.out) > 0 {
			if b := <-c.out; b != nil {
				if err := rpb.Frames(b, func([]byte) error { return nil }); err != nil {
					t.Fatalf("venue wrote a bad frame: %v", err)
				}
			}
		}
	})
}
