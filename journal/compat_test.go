// compat_test.go: records written the way the supervisor wrote them up to
// its typed records (schema v1 files of that code: journal.New with its own
// body types — limits.Decision without JSON tags, its Transition struct,
// maps) decode through the typed accessors the supervisor now reads with.

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
		{KindKill, map[string]any{"scope": "desk", "trigger": "cli", "who": "risk", "accounts": []string{"A1", "A2"}}},
		{KindStopRepair, map[string]any{"repair": "place_stop", "qty": 2, "stop": "5147.50", "side": "sell"}},
		{KindReconcile, map[string]any{"mismatches": []string{"position: journal 1, venue 0"}, "faulted": true, "journal_position": 1,
			"venue_position": 0, "closed": []map[string]string{{"id": "A1-9.stop", "role": "stop", "why": "protective stop lost at the venue"}},
			"adopted":    []map[string]any{{"id": "X", "strategy": "desk", "role": 2, "side": -1, "type": 2, "qty": 1, "price": 20580, "status": 2}},
			"correction": map[string]any{"time": 9, "side": "sell", "qty": 1, "price": "5150.00"}}},
		{KindClear, map[string]string{"who": "risk", "why": "checked"}},
		{KindTransition, map[string]string{"refused": "supervisor: account A1: event \"start\" is not allowed in state \"faulted\""}},
		{KindMarker, map[string]any{"link": "venue", "ok": false, "why": "reconnecting"}},
	} {
		r, err := New(e.kind, "A1", "A1-9", 5, e.body)
		if err != nil {
			t.Fatal(err)
		}
		mustAppend(t, j, r)
	}
	recs, err := j.Tail(13)
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
	if w, _ := recs[5].Worker(); w.Event != "crashed" || w.Restart != 2 {
		t.Errorf("worker: %+v", w)
	}
	if k, _ := recs[6].Kill(); k.Scope != "desk" || k.Trigger != "cli" || len(k.Accounts) != 2 {
		t.Errorf("kill: %+v", k)
	}
	if sr, _ := recs[7].StopRepair(); sr.Repair != "place_stop" || sr.Qty != 2 || sr.Stop != 20590 || sr.Side != market.Sell {
		t.Errorf("stop repair: %+v", sr)
	}
	rc, _ := recs[8].Reconcile()
	if !rc.Faulted || rc.JournalPosition != 1 || len(rc.Closed) != 1 || rc.Closed[0].ID != "A1-9.stop" || len(rc.Adopted) != 1 ||
		rc.Adopted[0].Price != 20580 || rc.Correction == nil || rc.Correction.Price != 20600 {
		t.Errorf("reconcile: %+v", rc)
	}
	if a, _ := recs[9].Authorization(); a.Who != "risk" || a.Why != "checked" {
		t.Errorf("clear: %+v", a)
	}
	if tr, _ := recs[10].Transition(); tr.To != "" || tr.Refused == "" {
		t.Errorf("refused transition: %+v", tr)
	}
}

// TestDeskPayloadsRoundTrip: each desk record written with its
// constructor reads back the same through its accessor.
func TestDeskPayloadsRoundTrip(t *testing.T) {
	w := Worker{Event: "faulted", Err: "crash loop"}
	if got, err := NewWorker("A1", 1, w).Worker(); err != nil || got != w {
		t.Errorf("worker %+v %v", got, err)
	}
	sr := StopRepair{Repair: "place_stop", Qty: 3, Stop: 20590, Side: market.Sell}
	r := NewStopRepair("A1", "A1.repair.7", 2, sr)
	if got, err := r.StopRepair(); err != nil || got != sr || r.ClientID != "A1.repair.7" || r.Account != "A1" {
		t.Errorf("stop repair %+v %v (%+v)", got, err, r)
	}
	rk := Risk{Event: "reduce_only", Level: "reduce_only", Detail: "90% used", State: []byte(`{"drawdown":{"start_cents":5}}`)}
	rr := NewRisk("A1", 2, rk)
	if got, err := rr.Risk(); err != nil || got.Event != rk.Event || got.Level != rk.Level || string(got.State) != string(rk.State) ||
		rr.Account != "A1" || rr.Kind != KindRisk || checkPayload(rr) != nil {
		t.Errorf("risk %+v %v (%+v)", got, err, rr)
	}
	l := Link{Link: "venue", OK: true, Why: "back"}
	if got, err := NewLink(3, l).Link(); err != nil || got != l {
		t.Errorf("link %+v %v", got, err)
	}
	if got, err := NewClear("A1", 4, "risk", "checked").Authorization(); err != nil || got.Who != "risk" || got.Why != "checked" {
		t.Errorf("clear %+v %v", got, err)
	}
	rc := Reconcile{Faulted: true, Closed: []ClosedOrder{{ID: "x", Role: "stop", Why: "gone"}}, Adopted: []DeskOrder{{ID: "y", Qty: 1}},
		Correction: &Correction{Time: 1, Side: market.Buy, Qty: 1, Price: 20600}}
	got, err := NewReconcile("A1", 5, rc).Reconcile()
	if err != nil || !got.Faulted || got.Closed[0] != rc.Closed[0] || got.Adopted[0] != rc.Adopted[0] || *got.Correction != *rc.Correction {
		t.Errorf("reconcile %+v %v", got, err)
	}
	k := NewKill(6, Kill{Scope: "accounts", Trigger: "schedule_flat_by", Who: "deskguard", Accounts: []string{"A1", "A2"}})
	if k.Account != "" {
		t.Errorf("a kill of several accounts has account %q", k.Account)
	}
	if one := NewKill(6, Kill{Scope: "A1", Trigger: "cli", Accounts: []string{"A1"}}); one.Account != "A1" {
		t.Errorf("an account kill has account %q", one.Account)
	}
	for _, r := range []Record{NewWorker("A1", 1, w), NewStopRepair("A1", "", 2, sr), NewLink(3, l), NewClear("A1", 4, "r", "w"), NewReconcile("A1", 5, rc)} {
		if err := checkPayload(r); err != nil {
			t.Errorf("%s: %v", r.Kind, err)
		}
	}
}
