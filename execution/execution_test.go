package execution

// execution_test.go: the names journaled and printed for each kind and
// role, and an event's JSON round trip (the journal stores it as is).

import (
	"encoding/json"
	"testing"

	"github.com/deskguard/deskguard/market"
)

func TestNames(t *testing.T) {
	for k, want := range map[EventKind]string{Accepted: "accepted", RejectedEv: "rejected", PartiallyFilled: "partially_filled",
		FilledEv: "filled", CancelledEv: "cancelled", TriggeredEv: "triggered", ExpiredEv: "expired", Modified: "modified",
		StatusEv: "status", BustedEv: "busted", CorrectedEv: "corrected", RiskStatusEv: "risk_status", 0: "event(0)", 99: "event(99)"} {
		if got := k.String(); got != want {
			t.Errorf("EventKind(%d) = %q, want %q", k, got, want)
		}
	}
	for r, want := range map[Role]string{Single: "single", EntryLeg: "entry", StopLeg: "stop", TargetLeg: "target"} {
		if got := r.String(); got != want {
			t.Errorf("Role(%d) = %q, want %q", r, got, want)
		}
	}
}

func TestStatusDone(t *testing.T) {
	for s, done := range map[Status]bool{Pending: false, Working: false, Triggered: false, Filled: true, Cancelled: true,
		Rejected: true, Expired: true} {
		if s.Done() != done {
			t.Errorf("%s.Done() = %v", s, !done)
		}
	}
}

func TestEventJSON(t *testing.T) {
	ev := Event{Seq: 7, Time: 1_700_000_000_000_000_000, Account: "A1", ClientID: "A1.1", Kind: PartiallyFilled, Side: market.Sell,
		FillQty: 2, FillPrice: 20601, LeavesQty: 3, Slippage: 1, Reason: "r", Role: StopLeg, GroupID: "A1.0", VenueID: "v9",
		Status: Working, External: true, Ref: "v8", VenueOrder: "o1",
		OrderType: market.StopLimitOrder, Price: 20600, StopPrice: 20602}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var got Event
	if err := json.Unmarshal(b, &got); err != nil || got != ev {
		t.Fatalf("round trip %s: %+v (%v)", b, got, err)
	}
}
