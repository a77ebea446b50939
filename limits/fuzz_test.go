// fuzz_test.go: the gate over arbitrary intents and snapshots never
// panics, never refuses an Exit, and accepts no entry without a bracket
// on the right sides that fits the allowance, nor any entry while a
// lockout, a breached line, reduce-only or a cooldown holds.

package limits

import (
	"testing"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

func FuzzGateCheck(f *testing.F) {
	f.Add(uint8(1), int8(1), int64(1), uint8(2), int64(20600), int64(20592), int64(20608), int64(0), int64(0), int64(100000), false, int64(0))
	f.Add(uint8(2), int8(-1), int64(3), uint8(1), int64(0), int64(20610), int64(20590), int64(-2), int64(-41202), int64(500), false, int64(20610))
	f.Add(uint8(3), int8(0), int64(0), uint8(0), int64(0), int64(20599), int64(0), int64(2), int64(41190), int64(0), true, int64(20590))
	f.Add(uint8(4), int8(1), int64(0), uint8(0), int64(0), int64(0), int64(0), int64(1), int64(20600), int64(-5), true, int64(20590))
	f.Add(uint8(5), int8(1), int64(0), uint8(0), int64(0), int64(0), int64(0), int64(1), int64(20600), int64(-5), true, int64(20590))
	g, err := NewGate(Config{TrailingMode: TrailingIntraday, TrailingDrawdown: dollars("1000"), WeeklyLossPct: dollars("2")})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, kind uint8, side int8, qty int64, etype uint8, entry, stop, target, pos, cost, allowance int64,
		locked bool, stopAt int64) {
		s := baseSnapshot()
		s.PositionQty, s.CostTicks, s.AllowanceCents, s.LockedOut = pos, cost, allowance, locked
		// The other locks, from the bits of stopAt and allowance.
		bits := uint64(stopAt) ^ uint64(allowance)>>3
		s.ReduceOnly, s.DeskReduceOnly = bits&1 != 0, bits&2 != 0
		s.TrailingBreached, s.WeeklyBreached = bits&4 != 0, bits&8 != 0
		s.TrailingAllowanceCents, s.WeeklyAllowanceCents = allowance, allowance
		if bits&16 != 0 {
			s.LossStreak, s.LastLossNs = DefaultLossStreak, s.NowNs-1
		}
		held := s.ReduceOnly || s.DeskReduceOnly || s.TrailingBreached || s.WeeklyBreached || bits&16 != 0
		exit := market.Sell
		if pos < 0 {
			exit = market.Buy
		}
		s.Orders = []WorkingOrder{{ClientID: "s1", Role: RoleStop, Side: exit, Qty: max(pos, -pos), Type: market.StopOrder, Price: market.Price(stopAt)}}
		in := intent.Intent{Kind: intent.Kind(kind % 7), Side: market.Side(side % 2), Qty: qty, EntryType: market.OrderType(etype % 6),
			Entry: market.Price(entry), Stop: market.Price(stop), Target: market.Price(target), Ref: "s1", Strategy: "x"}
		d := g.Check(&s, &in)
		if in.Kind == intent.Exit && !d.Allowed {
			t.Fatalf("exit refused: %v", d)
		}
		if d.Allowed && (in.Kind == intent.Enter || in.Kind == intent.Add) {
			if locked || held || in.Stop <= 0 || in.Target <= 0 || in.Qty <= 0 {
				t.Fatalf("accepted %v with locked=%v: %v", &in, locked, d)
			}
			if in.RiskTicks(s.LastPrice)*in.Qty*market.TickCents > allowance {
				t.Fatalf("accepted %v over the allowance %d", &in, allowance)
			}
		}
		if !d.Allowed && d.Reason == OK {
			t.Fatal("refusal without a reason")
		}
	})
}
