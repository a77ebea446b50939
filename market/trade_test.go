// Tests of Trade and the tick rule that infers aggressor sides.

package market

import (
	"testing"
	"time"
)

func TestTradeT(t *testing.T) {
	tr := Trade{Time: 1_609_160_400_123_456_789}
	want := time.Date(2020, 12, 28, 13, 0, 0, 123_456_789, time.UTC)
	if !tr.T().Equal(want) || tr.T().Location() != time.UTC {
		t.Errorf("T() = %v, want %v", tr.T(), want)
	}
}

func TestTickRule(t *testing.T) {
	type step struct {
		price    string
		given    Side // from the data; Unknown = to infer
		want     Side
		inferred bool
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"first trade stays unknown, then ticks", []step{
			{"5150.00", Unknown, Unknown, true},
			{"5150.25", Unknown, Buy, true},
			{"5150.25", Unknown, Buy, true}, // zero tick keeps the side
			{"5150.00", Unknown, Sell, true},
			{"5150.00", Unknown, Sell, true},
			{"5150.50", Unknown, Buy, true},
		}},
		{"data sides are kept and remembered", []step{
			{"5150.00", Sell, Sell, false},
			{"5150.00", Unknown, Sell, true},
			{"5150.25", Sell, Sell, false}, // an uptick sold by the data stays sold
			{"5150.25", Unknown, Sell, true},
			{"5150.50", Unknown, Buy, true},
		}},
		{"unknown zero tick after unknown first", []step{
			{"5150.00", Unknown, Unknown, true},
			{"5150.00", Unknown, Unknown, true},
			{"5149.75", Unknown, Sell, true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r TickRule
			for i, s := range tc.steps {
				tr := Trade{Price: MustPrice(s.price), Size: 1, Aggressor: s.given}
				inf := r.Apply(&tr)
				if tr.Aggressor != s.want || inf != s.inferred {
					t.Errorf("step %d (%s %v): got %v inferred=%v, want %v inferred=%v", i, s.price, s.given, tr.Aggressor, inf, s.want, s.inferred)
				}
			}
		})
	}
}
