// duplicate_test.go: the duplicate rule at the edge the gate tests leave
// out — the same entry twice in the same nanosecond (a strategy that fires
// twice on one trade: in replay both carry that trade's time) is a
// duplicate, as one a nanosecond later is.

package limits

import (
	"testing"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

func TestDuplicateInTheSameNanosecond(t *testing.T) {
	a := NewActivity()
	in := intent.Intent{Kind: intent.Enter, Side: market.Buy, Qty: 2, EntryType: market.LimitOrder, Entry: 100}
	a.RecordSent(10, &in)
	if age, dup := a.Duplicate(10, 5, &in); !dup || age != 0 {
		t.Fatalf("the same entry in the same ns: dup %v age %d, want a duplicate of age 0", dup, age)
	}
	if age, dup := a.Duplicate(11, 5, &in); !dup || age != 1 {
		t.Fatalf("one ns later: dup %v age %d", dup, age)
	}
	g, err := NewGate(Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := baseSnapshot()
	e := baseEnter()
	sent(&s, e, 0)
	if d := g.Check(&s, &e); d.Reason != DuplicateOrder {
		t.Fatalf("the gate on a same-instant repeat: %s, want %s", d, DuplicateOrder)
	}
}
