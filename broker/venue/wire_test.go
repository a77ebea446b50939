// This file checks the venue's wire types against the recorded payloads
// in broker/tradovate/testdata/wire (the oracle the connector is checked
// against too): every field the venue writes is a field of the published
// payload, of the same JSON type, and its execution reports use only the
// published execType enum.

package venue

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

const wireDir = "../tradovate/testdata/wire"

func sample(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(wireDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func jsonKind(v any) string {
	switch v.(type) {
	case float64:
		return "number"
	case string:
		return "string"
	case bool:
		return "bool"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case nil:
		return "null"
	}
	return "?"
}

// within fails for every key of got that want lacks or has with another
// JSON type.
func within(t *testing.T, what string, got, want map[string]any) {
	t.Helper()
	for k, v := range got {
		w, ok := want[k]
		if !ok {
			t.Errorf("%s: the venue writes %q, which the published payload does not have", what, k)
			continue
		}
		if jsonKind(v) != jsonKind(w) {
			t.Errorf("%s: %q is a %s, the published payload's a %s", what, k, jsonKind(v), jsonKind(w))
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			within(t, what+"."+k, sub, w.(map[string]any))
		}
	}
}

func roundTrip(t *testing.T, v any, from map[string]any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(from)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%T: %v", v, err)
	}
	out, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(out, &m)
	return m
}

func TestWireOracle(t *testing.T) {
	cases := []struct {
		v     any
		files []string
	}{
		{&accessTokenResponse{}, []string{"accessTokenResponse.json"}},
		{&accountEnt{}, []string{"account.json"}},
		{&orderEnt{}, []string{"order.json"}},
		{&orderVersionEnt{}, []string{"orderVersion.json"}},
		{&commandEnt{}, []string{"command.json"}},
		{&fillEnt{}, []string{"fill.json"}},
		{&positionEnt{}, []string{"position.json"}},
		{&execReportEnt{}, []string{"executionReport.json", "executionReport_bust.json"}},
		{&placeResult{}, []string{"placeOrderResult.json", "placeOsoResult.json"}},
		{&commandResult{}, []string{"commandResult.json"}},
		{&userAccountAutoLiqEnt{}, []string{"userAccountAutoLiq.json"}},
		{&cashBalanceEnt{}, []string{"cashBalance.json"}},
		{&cashBalanceSnapshot{}, []string{"cashBalanceSnapshot.json"}},
		{&accountRiskStatusEnt{}, []string{"accountRiskStatus.json"}},
		{&simpleResponse{}, []string{"simpleResponse.json"}},
	}
	for _, c := range cases {
		name := reflect.TypeOf(c.v).Elem().Name()
		t.Run(name, func(t *testing.T) {
			for _, f := range c.files {
				s := sample(t, f)
				within(t, name+" ("+f+")", roundTrip(t, c.v, s), s)
			}
		})
	}
	// Tick packets, the eoh packet and their ticks.
	tc := sample(t, "tick_chart.json")
	charts := tc["charts"].([]any)
	pk, eoh := charts[0].(map[string]any), charts[1].(map[string]any)
	got := roundTrip(t, &tickPacket{}, pk)
	tks := got["tks"].([]any)
	delete(got, "tks")
	within(t, "tick packet", got, pk)
	within(t, "tick", tks[0].(map[string]any), pk["tks"].([]any)[0].(map[string]any))
	within(t, "eoh packet", roundTrip(t, &tickPacket{}, eoh), eoh)
	// The venue's own penalty tickets.
	v, err := New(Config{Accounts: []string{"A"}, Manual: true}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	v.PenalizeNext(1, 1)
	p, _ := v.penalty(nil)
	b, _ := json.Marshal(p)
	var pm map[string]any
	_ = json.Unmarshal(b, &pm)
	within(t, "penalty", pm, sample(t, "penalty.json"))
}

// execTypes is the swagger's ExecutionReport.execType enum.
var execTypes = map[string]bool{"Canceled": true, "Completed": true, "DoneForDay": true, "Expired": true, "New": true,
	"OrderStatus": true, "PendingCancel": true, "PendingNew": true, "PendingReplace": true, "Rejected": true, "Replaced": true,
	"Stopped": true, "Suspended": true, "Trade": true, "TradeCancel": true, "TradeCorrect": true}

// TestOnlyRealExecTypes runs a session that makes the engine emit every
// event kind it has (a stop-limit's trigger included) plus a bust and a
// correction, and checks that every execution report the venue keeps and
// pushes has an execType of the published enum (no "Triggered").
func TestOnlyRealExecTypes(t *testing.T) {
	v := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, auth := do(t, "POST", v.URL()+"/auth/accesstokenrequest", "", `{"name":"demo","password":"demo"}`)
	ws, _, err := websocket.Dial(ctx, v.WSURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	_ = ws.Write(ctx, websocket.MessageText, []byte("authorize\n0\n\n"+auth["accessToken"].(string)))
	_ = ws.Write(ctx, websocket.MessageText, []byte("user/syncrequest\n1\n\n{}"))
	base := int64(1_710_250_200_000_000_000)
	v.Trade(market.Trade{Time: base, Price: 20000, Size: 1})
	submit := func(o broker.Order) {
		v.mu.Lock()
		if err := v.sim.SubmitOrder(bg, o); err != nil {
			t.Fatal(err)
		}
		v.applyLocked()
		v.mu.Unlock()
	}
	submit(broker.Order{ClientID: "sl", Account: "A", Side: market.Buy, Qty: 1, Type: market.StopLimitOrder, StopPrice: 20004, Price: 20005, TIF: broker.Day})
	submit(broker.Order{ClientID: "l", Account: "A", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: 19990, TIF: broker.Day})
	v.Trade(market.Trade{Time: base + 1e9, Price: 20008, Size: 1}) // triggers sl beyond its limit: rests
	v.Trade(market.Trade{Time: base + 2e9, Price: 20005, Size: 1}) // fills sl
	if err := v.Correct("A", "sl", 20004); err != nil {
		t.Fatal(err)
	}
	if err := v.Bust("A", "sl"); err != nil {
		t.Fatal(err)
	}
	v.mu.Lock()
	_ = v.sim.Cancel(bg, "A", "l")
	v.applyLocked()
	reports := append([]execReportEnt(nil), v.st.reports...)
	v.mu.Unlock()
	seen := map[string]bool{}
	for _, r := range reports {
		if !execTypes[r.ExecType] {
			t.Errorf("report %d has execType %q, not in the published enum", r.ID, r.ExecType)
		}
		seen[r.ExecType] = true
	}
	for _, want := range []string{"New", "OrderStatus", "Trade", "TradeCorrect", "TradeCancel", "Canceled"} {
		if !seen[want] {
			t.Errorf("no %s report in the session (saw %v)", want, seen)
		}
	}
	// And what went out on the socket.
	for {
		rctx, rcancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, b, err := ws.Read(rctx)
		rcancel()
		if err != nil {
			break
		}
		if i := strings.Index(string(b), `"execType":"`); i >= 0 {
			rest := string(b)[i+len(`"execType":"`):]
			et := rest[:strings.IndexByte(rest, '"')]
			if !execTypes[et] {
				t.Errorf("pushed execType %q", et)
			}
		}
	}
}
