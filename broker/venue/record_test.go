// record_test.go: the placement record — each order of a placement request
// once, in order, a repeated client order id marked Again, a refused one
// with its failure, and the JSON lines RecordTo writes equal to Placements.

package venue

import (
	"bufio"
	"bytes"
	"encoding/json"
	"sync"
	"testing"

	"github.com/deskguard/deskguard/market"
)

func TestPlacementRecord(t *testing.T) {
	v := start(t)
	var buf syncBuffer
	v.RecordTo(&buf)
	u := v.URL()
	_, auth := do(t, "POST", u+"/auth/accesstokenrequest", "", `{"name":"demo","password":"demo"}`)
	tok, _ := auth["accessToken"].(string)
	v.Trade(market.Trade{Time: 1_710_250_200_000_000_000, Price: market.MustPrice("5100.00"), Size: 1, Aggressor: market.Buy})
	oso := `{"accountSpec":"A","symbol":"MESZ5","clOrdId":"e1","action":"Buy","orderType":"Limit","price":5099.00,"orderQty":1,` +
		`"bracket1":{"clOrdId":"e1.stop","action":"Sell","orderType":"Stop","stopPrice":5097.00,"timeInForce":"GTC"},` +
		`"bracket2":{"clOrdId":"e1.target","action":"Sell","orderType":"Limit","price":5105.00,"timeInForce":"GTC"}}`
	for i := 0; i < 2; i++ { // the second is an idempotent retry
		if st, m := do(t, "POST", u+"/order/placeoso", tok, oso); st != 200 || m["orderId"] == nil {
			t.Fatalf("placeoso %d: %d %v", i, st, m)
		}
	}
	if st, _ := do(t, "POST", u+"/order/placeorder", tok,
		`{"accountSpec":"A","symbol":"MESZ5","clOrdId":"m1","action":"Buy","orderType":"Market","orderQty":0}`); st != 200 {
		t.Fatalf("placeorder: %d", st)
	}
	// Refused before the handler (malformed): not a placement.
	do(t, "POST", u+"/order/placeorder", tok, `{"action":`)

	got := v.Placements()
	want := []struct {
		role, id string
		again    bool
		placed   bool
	}{
		{"entry", "e1", false, true}, {"stop", "e1.stop", false, true}, {"target", "e1.target", false, true},
		{"entry", "e1", true, true}, {"stop", "e1.stop", true, true}, {"target", "e1.target", true, true},
		{"single", "m1", false, false},
	}
	if len(got) != len(want) {
		t.Fatalf("%d placements, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Seq != i+1 || g.Role != w.role || g.ClOrdID != w.id || g.Again != w.again || g.Account != "A" || (g.OrderID != 0) != w.placed {
			t.Errorf("placement %d: %+v, want %+v", i, g, w)
		}
	}
	if got[0].OrderID != got[3].OrderID {
		t.Errorf("the retry made a second order: %d and %d", got[0].OrderID, got[3].OrderID)
	}
	if got[6].Failure == "" {
		t.Errorf("the refused order has no failure text: %+v", got[6])
	}
	var lines []Placement
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	for sc.Scan() {
		var p Placement
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("record line %q: %v", sc.Text(), err)
		}
		lines = append(lines, p)
	}
	if len(lines) != len(got) {
		t.Fatalf("%d record lines, %d placements", len(lines), len(got))
	}
	for i := range lines {
		if lines[i] != got[i] {
			t.Errorf("line %d %+v, placement %+v", i, lines[i], got[i])
		}
	}
	if err := v.RecordErr(); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a bytes.Buffer safe for the venue's handler goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf.Bytes()...)
}
