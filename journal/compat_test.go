// compat_test.go: records written the way the supervisor writes them today
// (journal.New with its own body types: limits.Decision without JSON tags,
// its Transition struct, maps) decode through the typed accessors.

package journal

import (
	"testing"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

func TestSupervisorBodiesDecode(t *testing.T) {
	type intentBody struct {
		Intent   intent.Intent   `json:"intent"`
		Decision limits.Decision `json:"decision"`
	}
	type transition struct{ Machine, ID, From, To, Event, Why string }
	in := enter("A1", "A1-9", market.Sell, 3, 20700, 5)
	j, _ := openTemp(t, Options{})
	for _, e := range []struct {
		kind Kind
		body any
	}{
		{KindIntent, intentBody{in, limits.Decision{Reason: limits.Reason("max_qty"), Detail: "3 > 2", Got: 3, Limit: 2}}},
		{KindTransition, transition{"account", "A1", "idle", "trading", "start", "engines on"}},
		{KindLockout, map[string]any{"equity": "49000.00", "line": "49250.00", "start": "50000.00"}},
		{KindSessionReset, map[string]any{"session": "2026-03-10", "why": "desk start", "accounts": map[string]string{"A1": "50000.00"}}},
		{KindBrokerError, map[string]string{"op": "liquidate", "err": "disconnected"}},
		{KindWorker, map[string]any{"event": "crashed", "restart": 2}},
	} {
		r, err := New(e.kind, "A1", "A1-9", 5, e.body)
		if err != nil {
			t.Fatal(err)
		}
		mustAppend(t, j, r)
	}
	recs, err := j.Tail(6)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := checkPayload(r); err != nil {
			t.Errorf("%s: %v", r.Kind, err)
		}
	}
	b, _ := recs[0].IntentBody()
	if b.Intent != in || b.Decision == nil || b.Decision.Allowed || b.Decision.Reason != "max_qty" || b.Decision.Limit != 2 {
		t.Errorf("intent body: %+v %+v", b.Intent, b.Decision)
	}
	if tr, _ := recs[1].Transition(); tr.Machine != "account" || tr.To != "trading" || tr.Why != "engines on" {
		t.Errorf("transition: %+v", tr)
	}
	if s, _ := recs[3].SessionReset(); s.Accounts["A1"] != "50000.00" {
		t.Errorf("session reset: %+v", s)
	}
}
