// rms_test.go: the venue's RMS as a raw R|Protocol client sees it: 304
// reads the limits, 3508 subscribes to 356s; at the loss limit the RMS
// cancels the account's orders and flattens it, its 356 after the
// liquidation's notifications, and refuses new orders from then on; a
// limit without auto-liquidation only refuses; LateRMS and RefuseRMS.

package rithmic

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/deskguard/deskguard/broker/rithmic/rpb"
)

// rmsClient is an order plant client subscribed to A's order and RMS
// updates.
func rmsClient(t *testing.T, v *Venue) *raw {
	r := orderClient(t, v)
	r.send(rpb.TAccountRmsUpdatesRequest, &rpb.RequestAccountRmsUpdates{UserMsg: []string{"r"}, AccountId: "A", Request: "subscribe", UpdateBits: 1})
	if resp := r.next(rpb.TAccountRmsUpdatesResponse).(*rpb.ResponseAccountRmsUpdates); !rpb.RpCodeOK(resp.RpCode) {
		t.Fatalf("3508: %+v", resp)
	}
	return r
}

// rmsInfo asks 304 and returns A's 305.
func (r *raw) rmsInfo() *rpb.ResponseAccountRmsInfo {
	r.t.Helper()
	r.send(rpb.TAccountRmsInfoRequest, &rpb.RequestAccountRmsInfo{UserMsg: []string{"i"}})
	var a *rpb.ResponseAccountRmsInfo
	for {
		m := r.next(rpb.TAccountRmsInfoResponse).(*rpb.ResponseAccountRmsInfo)
		if len(m.RpCode) > 0 {
			if !rpb.RpCodeOK(m.RpCode) {
				r.t.Fatalf("304 refused: %v", m.RpCode)
			}
			return a
		}
		if m.AccountId == "A" {
			a = m
		}
	}
}

func (r *raw) market(tag string, side rpb.TransactionType, qty int32) *rpb.ResponseNewOrder {
	r.send(rpb.TNewOrderRequest, &rpb.RequestNewOrder{UserMsg: []string{tag}, UserTag: tag, AccountId: "A", Symbol: "MESZ5", Exchange: "CME",
		Quantity: qty, TransactionType: side, Duration: rpb.Duration_DURATION_DAY, PriceType: rpb.PriceType_PRICE_MARKET, TradeRoute: "simulator"})
	return r.next(rpb.TNewOrderResponse).(*rpb.ResponseNewOrder)
}

func TestRMSAutoLiquidatesAtTheLossLimit(t *testing.T) {
	v := start(t, Config{})
	r := rmsClient(t, v)
	if a := r.rmsInfo(); a.PresenceBits&rmsLossLimit != 0 || a.Status != RMSActive {
		t.Fatalf("no limit set yet: %+v", a)
	}
	if err := v.SetRMS("A", 50, true); err != nil {
		t.Fatal(err)
	}
	if u := r.next(rpb.TAccountRmsUpdates).(*rpb.AccountRmsUpdates); u.AccountId != "A" || u.AutoLiqThresholdCurrentValue != "49950.00" {
		t.Fatalf("356 on the setting: %+v", u)
	}
	a := r.rmsInfo()
	if a.PresenceBits&rmsLossLimit == 0 || a.LossLimit != 50 || a.AutoLiquidate != rpb.AutoLiquidateFlag_AUTO_LIQUIDATE_ENABLED || a.Status != RMSActive {
		t.Fatalf("305 %+v", a)
	}
	ns := int64(1_772_463_600_000_000_000)
	trade(v, &ns, px, 1)
	if resp := r.market("m1", rpb.TransactionType_TRANSACTION_BUY, 2); !rpb.RpCodeOK(resp.RpCode) {
		t.Fatalf("m1 %+v", resp)
	}
	trade(v, &ns, px, 5) // m1 fills: long 2 at px
	// A resting buy the RMS must cancel.
	r.send(rpb.TNewOrderRequest, &rpb.RequestNewOrder{UserMsg: []string{"l1"}, UserTag: "l1", AccountId: "A", Symbol: "MESZ5", Exchange: "CME",
		Quantity: 1, Price: points(px - 40), TransactionType: rpb.TransactionType_TRANSACTION_BUY, Duration: rpb.Duration_DURATION_DAY,
		PriceType: rpb.PriceType_PRICE_LIMIT, TradeRoute: "simulator"})
	if resp := r.next(rpb.TNewOrderResponse).(*rpb.ResponseNewOrder); !rpb.RpCodeOK(resp.RpCode) {
		t.Fatalf("l1 %+v", resp)
	}
	// 19 ticks down on 2 contracts: -47.50, inside the limit.
	trade(v, &ns, px-19, 1)
	if v.RMSHit("A") {
		t.Fatal("the RMS acted at -47.50 with a 50.00 limit")
	}
	// 20 ticks: -50.00, at the limit (not past it): the RMS acts.
	trade(v, &ns, px-20, 1)
	if !v.RMSHit("A") {
		t.Fatal("the RMS did not act at -50.00 with a 50.00 limit")
	}
	// Its notifications: l1 cancelled and the RMS's market sell working,
	// both before the 356 that says so.
	cancelled, placed := false, false
	for {
		m := r.nextAny()
		if n, ok := m.(*rpb.ExchangeOrderNotification); ok {
			if n.UserTag == "l1" && n.NotifyType == rpb.ExchangeNotifyType_EXCH_CANCEL {
				cancelled = true
			}
			if n.UserTag == "" && n.WindowName == RMSWindow && n.TransactionType == rpb.TransactionType_TRANSACTION_SELL && n.Quantity == 2 {
				placed = true
			}
		}
		if _, ok := m.(*rpb.AccountRmsUpdates); ok {
			break
		}
	}
	if !cancelled || !placed {
		t.Fatalf("before the 356: l1 cancelled %v, the RMS's sell placed %v", cancelled, placed)
	}
	trade(v, &ns, px-20, 5) // the RMS's market sell fills
	if p := v.Positions()[0]; p.Qty != 0 {
		t.Fatalf("not flattened: %+v", p)
	}
	if a := r.rmsInfo(); a.Status != RMSDisabled {
		t.Fatalf("305 after the action: %+v", a)
	}
	// Every new order is refused now, a reducing one too.
	if resp := r.market("m2", rpb.TransactionType_TRANSACTION_SELL, 1); rpb.RpCodeOK(resp.RpCode) || !strings.Contains(strings.Join(resp.RpCode, " "), "loss limit") {
		t.Fatalf("m2 after the RMS acted: %+v", resp)
	}
	if s := v.Stats(); s.RMSActions != 1 || s.RMSRefused != 1 {
		t.Fatalf("stats %+v", s)
	}
	// The RMS acts once: more losses do not liquidate again.
	trade(v, &ns, px-60, 1)
	if s := v.Stats(); s.RMSActions != 1 {
		t.Fatalf("acted twice: %+v", s)
	}
}

func TestRMSWithoutAutoLiquidationOnlyRefuses(t *testing.T) {
	v := start(t, Config{})
	r := rmsClient(t, v)
	if err := v.SetRMS("A", 10, false); err != nil {
		t.Fatal(err)
	}
	ns := int64(1_772_463_600_000_000_000)
	trade(v, &ns, px, 1)
	r.market("m1", rpb.TransactionType_TRANSACTION_BUY, 1)
	trade(v, &ns, px, 5)
	trade(v, &ns, px-8, 1) // -10.00
	if !v.RMSHit("A") {
		t.Fatal("not hit at the limit")
	}
	if p := v.Positions()[0]; p.Qty != 1 {
		t.Fatalf("flattened without auto-liquidation: %+v", p)
	}
	if resp := r.market("m2", rpb.TransactionType_TRANSACTION_BUY, 1); rpb.RpCodeOK(resp.RpCode) {
		t.Fatalf("m2 accepted past the limit: %+v", resp)
	}
	// Exit position still flattens (the desk's own liquidation).
	r.send(rpb.TExitPositionRequest, &rpb.RequestExitPosition{UserMsg: []string{"x"}, AccountId: "A", Symbol: "MESZ5", Exchange: "CME"})
	if resp := r.next(rpb.TExitPositionResponse).(*rpb.ResponseExitPosition); !rpb.RpCodeOK(resp.RpCode) {
		t.Fatalf("exit position refused: %+v", resp)
	}
	trade(v, &ns, px-8, 5)
	if p := v.Positions()[0]; p.Qty != 0 {
		t.Fatalf("exit position did not flatten: %+v", p)
	}
}

func TestRMSLateAndRefused(t *testing.T) {
	v := start(t, Config{})
	r := rmsClient(t, v)
	v.LateRMS(200 * time.Millisecond)
	if err := v.SetRMS("A", 50, true); err != nil {
		t.Fatal(err)
	}
	// A heartbeat asked after the change is answered before its 356.
	r.send(rpb.THeartbeatRequest, &rpb.RequestHeartbeat{UserMsg: []string{"h"}})
	first := r.nextOf(rpb.THeartbeatResponse, rpb.TAccountRmsUpdates)
	if _, ok := first.(*rpb.ResponseHeartbeat); !ok {
		t.Fatalf("the late 356 came first: %T", first)
	}
	r.next(rpb.TAccountRmsUpdates)
	v.RefuseRMS(1)
	r.send(rpb.TAccountRmsInfoRequest, &rpb.RequestAccountRmsInfo{UserMsg: []string{"i"}})
	if m := r.next(rpb.TAccountRmsInfoResponse).(*rpb.ResponseAccountRmsInfo); rpb.RpCodeOK(m.RpCode) {
		t.Fatalf("304 not refused: %+v", m)
	}
	if a := r.rmsInfo(); a.LossLimit != 50 {
		t.Fatalf("after the refusal: %+v", a)
	}
	r.send(rpb.TAccountRmsUpdatesRequest, &rpb.RequestAccountRmsUpdates{UserMsg: []string{"r"}, AccountId: "A", Request: "sideways"})
	if resp := r.next(rpb.TAccountRmsUpdatesResponse).(*rpb.ResponseAccountRmsUpdates); rpb.RpCodeOK(resp.RpCode) {
		t.Fatalf("a request neither subscribe nor unsubscribe: %+v", resp)
	}
}

// nextAny reads the next message, whatever its template (a WebSocket
// message may carry several frames: the rest wait in r.held).
func (r *raw) nextAny() proto.Message {
	r.t.Helper()
	for len(r.held) == 0 {
		_, b, err := r.ws.Read(r.ctx)
		if err != nil {
			r.t.Fatal(err)
		}
		if err := rpb.Frames(b, func(p []byte) error {
			_, m, err := rpb.Decode(p)
			if err == nil && m != nil {
				r.held = append(r.held, m)
			}
			return err
		}); err != nil {
			r.t.Fatal(err)
		}
	}
	m := r.held[0]
	r.held = r.held[1:]
	return m
}

// nextOf reads until a message of one of the templates.
func (r *raw) nextOf(tpls ...int32) proto.Message {
	r.t.Helper()
	for {
		m := r.nextAny()
		for _, tpl := range tpls {
			if rpb.GetTemplate(m) == tpl {
				return m
			}
		}
	}
}
