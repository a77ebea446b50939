// This file checks the connector's wire types against the recorded
// payloads in testdata/wire (the oracle the venue is checked against too):
// every field the connector reads is a field of the published payload,
// and the payloads decode to the values the tutorials give.

package tradovate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/deskguard/deskguard/market"
)

func readWire(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "wire", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keysOf merges the keys of JSON objects (nested objects under their key).
func keysOf(t *testing.T, into map[string]any, b []byte) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	merge(into, m)
}

func merge(into, m map[string]any) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			cur, _ := into[k].(map[string]any)
			if cur == nil {
				cur = map[string]any{}
			}
			merge(cur, sub)
			into[k] = cur
			continue
		}
		into[k] = v
	}
}

// checkTags fails for every json field of typ that the payload keys lack.
func checkTags(t *testing.T, typ reflect.Type, keys map[string]any, path string) {
	t.Helper()
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if f.Anonymous {
			checkTags(t, f.Type, keys, path)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		v, ok := keys[name]
		if !ok {
			t.Errorf("%s%s: the connector reads %q, which the published payload does not have", path, typ.Name(), name)
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if sub, isObj := v.(map[string]any); isObj && ft.Kind() == reflect.Struct {
			checkTags(t, ft, sub, path+typ.Name()+"."+name+".")
		}
	}
}

func TestWireOracle(t *testing.T) {
	cases := []struct {
		typ   any
		files []string
	}{
		{accessTokenResponse{}, []string{"accessTokenResponse.json"}},
		{account{}, []string{"account.json"}},
		{orderEnt{}, []string{"order.json"}},
		{orderVersionEnt{}, []string{"orderVersion.json"}},
		{commandEnt{}, []string{"command.json"}},
		{fillEnt{}, []string{"fill.json"}},
		{positionEnt{}, []string{"position.json"}},
		{execReportEnt{}, []string{"executionReport.json", "executionReport_bust.json"}},
		{placeResult{}, []string{"placeOrderResult.json", "placeOsoResult.json"}},
		{commandResult{}, []string{"commandResult.json"}},
		{userAccountAutoLiqEnt{}, []string{"userAccountAutoLiq.json"}},
		{cashBalanceSnapshot{}, []string{"cashBalanceSnapshot.json"}},
		{accountRiskStatusEnt{}, []string{"accountRiskStatus.json"}},
		{simpleResponse{}, []string{"simpleResponse.json"}},
		{penalty{}, []string{"penalty.json"}},
	}
	for _, c := range cases {
		typ := reflect.TypeOf(c.typ)
		t.Run(typ.Name(), func(t *testing.T) {
			keys := map[string]any{}
			for _, f := range c.files {
				b := readWire(t, f)
				keysOf(t, keys, b)
				v := reflect.New(typ).Interface()
				if err := json.Unmarshal(b, v); err != nil {
					t.Fatalf("%s does not decode into %s: %v", f, typ.Name(), err)
				}
			}
			checkTags(t, typ, keys, "")
		})
	}
	// The tick chart: the packet fields and the tick fields.
	var raw struct {
		Charts []map[string]any `json:"charts"`
	}
	if err := json.Unmarshal(readWire(t, "tick_chart.json"), &raw); err != nil {
		t.Fatal(err)
	}
	pk := map[string]any{}
	for _, c := range raw.Charts {
		merge(pk, c)
	}
	checkTags(t, reflect.TypeOf(tickPacket{}), pk, "")
	tks, _ := raw.Charts[0]["tks"].([]any)
	checkTags(t, reflect.TypeOf(tickRaw{}), tks[0].(map[string]any), "")
}

// TestTutorialPayloads decodes the recorded payloads to the values their
// sources give.
func TestTutorialPayloads(t *testing.T) {
	var cp chartPush
	if err := json.Unmarshal(readWire(t, "tick_chart.json"), &cp); err != nil {
		t.Fatal(err)
	}
	if len(cp.Charts) != 2 || !cp.Charts[1].EOH || cp.Charts[1].ID != 16335 {
		t.Fatalf("charts %+v", cp.Charts)
	}
	var rule market.TickRule
	trades, ids, err := decodePacket(cp.Charts[0], &rule)
	if err != nil {
		t.Fatal(err)
	}
	// (bp + p) × ts = 11917 × 0.25 = 2979.25; bt + t = 1563421179735 ms;
	// at the ask (a = 0 above bp, bid one tick below): a buy.
	want := market.Trade{Time: 1563421179735 * 1e6, Price: market.MustPrice("2979.25"), Size: 3, Aggressor: market.Buy}
	if len(trades) != 1 || trades[0] != want || ids[0] != 11768401 {
		t.Fatalf("got %+v %v, want %+v", trades, ids, want)
	}
	if tr, _, err := decodePacket(cp.Charts[1], &rule); err != nil || tr != nil {
		t.Fatalf("eoh packet decoded to %v, %v; want nothing, no error", tr, err)
	}
	var p positionEnt
	if err := json.Unmarshal(readWire(t, "position.json"), &p); err != nil {
		t.Fatal(err)
	}
	// 2 carried at 5099.125, 1 bought today at 5100.25: net 3 at 5099.5
	// and nothing realized today.
	got := positionOf("A", p)
	if got.Qty != 3 || got.PrevQty != 2 || got.PrevPrice != ticksOf(5099.125) || got.CostTick != 3*20398 || got.Realized != 0 {
		t.Fatalf("position %+v", got)
	}
	var pen penalty
	if err := json.Unmarshal(readWire(t, "penalty.json"), &pen); err != nil || pen.Ticket == "" || pen.Time != 5 || pen.Captcha {
		t.Fatalf("penalty %+v %v", pen, err)
	}
}
