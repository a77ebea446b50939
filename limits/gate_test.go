// gate_test.go: one table of every reject reason, each with its boundary
// on both sides, plus the rules that halts and lockouts never block a
// risk-reducing intent.

package limits

import (
	"testing"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

// A Tuesday in New York (EDT).
func et(h, m, s, ns int) int64 {
	return time.Date(2026, 3, 10, h, m, s, ns, market.NewYork).UnixNano()
}

const last = market.Price(20600) // 5150.00

func baseSnapshot() Snapshot {
	return Snapshot{
		NowNs: et(10, 30, 0, 0), LastPrice: last, LastTimeNs: et(10, 30, 0, 0),
		AllowanceCents: 15000_00, FeesRTCents: 120,
	}
}

// A long limit entry at the last trade, 8 ticks of risk, 8 of reward.
// Loss bound: (8 + 2 slippage) × 1 × 125 + 120 = 1370 cents.
func baseEnter() intent.Intent {
	return intent.Intent{Kind: intent.Enter, Account: "a1", Strategy: "orb", Time: et(10, 30, 0, 0), Side: market.Buy,
		Qty: 1, EntryType: market.LimitOrder, Entry: last, Stop: last - 8, Target: last + 8}
}

func short(in *intent.Intent) {
	in.Side, in.Stop, in.Target = market.Sell, in.Entry+8, in.Entry-8
}

// longPos makes the snapshot long qty at avg with a sell stop "s1" at stop.
func longPos(s *Snapshot, qty int64, avg, stop market.Price) {
	s.PositionQty, s.CostTicks = qty, qty*int64(avg)
	s.Orders = append(s.Orders, WorkingOrder{ClientID: "s1", Role: RoleStop, Side: market.Sell, Qty: qty, Type: market.StopOrder, Price: stop})
}

func shortPos(s *Snapshot, qty int64, avg, stop market.Price) {
	s.PositionQty, s.CostTicks = -qty, -qty*int64(avg)
	s.Orders = append(s.Orders, WorkingOrder{ClientID: "s1", Role: RoleStop, Side: market.Buy, Qty: qty, Type: market.StopOrder, Price: stop})
}

type gateCase struct {
	name string
	cfg  Config
	mut  func(s *Snapshot, in *intent.Intent)
	want Reason // OK = allowed
}

func gateCases() []gateCase {
	return append(baseCases(), ruleCases()...)
}

func baseCases() []gateCase {
	return []gateCase{
		{"base long entry passes", Config{}, func(s *Snapshot, in *intent.Intent) {}, OK},
		{"base short entry passes", Config{}, func(s *Snapshot, in *intent.Intent) { short(in) }, OK},

		// Invariant 1: every entry carries its bracket.
		{"no_bracket: no stop", Config{}, func(s *Snapshot, in *intent.Intent) { in.Stop = 0 }, NoBracket},
		{"no_bracket: no target", Config{}, func(s *Snapshot, in *intent.Intent) { in.Target = 0 }, NoBracket},
		{"no_bracket: target at the entry", Config{}, func(s *Snapshot, in *intent.Intent) { in.Target = in.Entry }, NoBracket},
		{"no_bracket: target one tick beyond passes", Config{}, func(s *Snapshot, in *intent.Intent) { in.Target = in.Entry + 1 }, OK},
		{"no_bracket: short target at the entry", Config{}, func(s *Snapshot, in *intent.Intent) { short(in); in.Target = in.Entry }, NoBracket},
		{"no_bracket: add without stop", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 1, last-4, last-10)
			in.Kind, in.Stop = intent.Add, 0
		}, NoBracket},

		{"stop_wrong_side: long stop at entry", Config{}, func(s *Snapshot, in *intent.Intent) { in.Stop = in.Entry }, StopWrongSide},
		{"stop_wrong_side: long stop one tick below passes", Config{}, func(s *Snapshot, in *intent.Intent) { in.Stop = in.Entry - 1 }, OK},
		{"stop_wrong_side: short stop at entry", Config{}, func(s *Snapshot, in *intent.Intent) { short(in); in.Stop = in.Entry }, StopWrongSide},
		{"stop_wrong_side: short stop one tick above passes", Config{}, func(s *Snapshot, in *intent.Intent) { short(in); in.Stop = in.Entry + 1 }, OK},
		{"stop_wrong_side: market long stop at last", Config{}, func(s *Snapshot, in *intent.Intent) {
			in.EntryType, in.Entry, in.Stop = market.MarketOrder, 0, last
		}, StopWrongSide},
		{"stop_wrong_side: stop-limit measured from its limit", Config{}, func(s *Snapshot, in *intent.Intent) {
			in.EntryType, in.Entry, in.Limit, in.Stop, in.Target = market.StopLimitOrder, last+2, last+4, last+4, last+12
		}, StopWrongSide},
		{"stop_wrong_side: move sell stop to the last trade", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 1, last-10, last-20)
			*in = intent.Intent{Kind: intent.MoveStop, Ref: "s1", Stop: last}
		}, StopWrongSide},
		{"stop_wrong_side: move sell stop one tick below last passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 1, last-10, last-20)
			*in = intent.Intent{Kind: intent.MoveStop, Ref: "s1", Stop: last - 1}
		}, OK},
		{"stop_wrong_side: move buy stop to the last trade", Config{}, func(s *Snapshot, in *intent.Intent) {
			shortPos(s, 1, last+10, last+20)
			*in = intent.Intent{Kind: intent.MoveStop, Ref: "s1", Stop: last}
		}, StopWrongSide},
		{"stop_wrong_side: move buy stop one tick above last passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			shortPos(s, 1, last+10, last+20)
			*in = intent.Intent{Kind: intent.MoveStop, Ref: "s1", Stop: last + 1}
		}, OK},

		// Invariant 2: stops only tighten; no cancel of a stop with the position open.
		{"stop_widened: sell stop down one tick", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 1, last, last-8)
			*in = intent.Intent{Kind: intent.MoveStop, Ref: "s1", Stop: last - 9}
		}, StopWidened},
		{"stop_widened: sell stop unchanged passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 1, last, last-8)
			*in = intent.Intent{Kind: intent.MoveStop, Ref: "s1", Stop: last - 8}
		}, OK},
		{"stop_widened: buy stop up one tick", Config{}, func(s *Snapshot, in *intent.Intent) {
			shortPos(s, 1, last, last+8)
			*in = intent.Intent{Kind: intent.MoveStop, Ref: "s1", Stop: last + 9}
		}, StopWidened},
		{"stop_widened: buy stop tightened one tick passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			shortPos(s, 1, last, last+8)
			*in = intent.Intent{Kind: intent.MoveStop, Ref: "s1", Stop: last + 7}
		}, OK},
		{"stop_cancel_open_position: cancel the long's stop", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 2, last, last-8)
			*in = intent.Intent{Kind: intent.Cancel, Ref: "s1"}
		}, StopCancelOpenPosition},
		{"stop_cancel_open_position: same stop when flat passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 2, last, last-8)
			s.PositionQty, s.CostTicks = 0, 0
			*in = intent.Intent{Kind: intent.Cancel, Ref: "s1"}
		}, OK},
		{"stop_cancel_open_position: cancel a working entry passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 2, last, last-8)
			s.Orders = append(s.Orders, WorkingOrder{ClientID: "e2", Role: RoleEntry, Side: market.Buy, Qty: 1, Price: last - 2})
			*in = intent.Intent{Kind: intent.Cancel, Ref: "e2"}
		}, OK},

		// Invariant 3: no averaging down.
		{"averaging_down: long add at breakeven mark", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 2, last, last-8)
			in.Kind = intent.Add
		}, AveragingDown},
		{"averaging_down: long add one tick in profit passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 2, last-1, last-8)
			in.Kind = intent.Add
		}, OK},
		{"averaging_down: long add limit one tick below the market (would rest)", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 2, last-4, last-12)
			in.Kind, in.Entry, in.Stop = intent.Add, last-1, last-12
		}, AveragingDown},
		{"averaging_down: long add limit at the market passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 2, last-4, last-12)
			in.Kind, in.Entry, in.Stop = intent.Add, last, last-12
		}, OK},
		{"averaging_down: short add limit one tick above the market (would rest)", Config{}, func(s *Snapshot, in *intent.Intent) {
			shortPos(s, 2, last+4, last+12)
			in.Kind, in.Entry = intent.Add, last+1
			short(in)
		}, AveragingDown},
		{"averaging_down: long add by buy stop above the market (would rest)", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 2, last-4, last-12)
			in.Kind, in.EntryType, in.Entry, in.Stop, in.Target = intent.Add, market.StopOrder, last+2, last-6, last+10
		}, AveragingDown},
		{"averaging_down: long add at market passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 2, last-4, last-12)
			in.Kind, in.EntryType, in.Entry = intent.Add, market.MarketOrder, 0
		}, OK},
		{"averaging_down: exact fractional average (1 tick in profit needs mark·q − cost ≥ q)", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.PositionQty, s.CostTicks = 3, 3*int64(last)-2 // avg = last − 2/3 tick
			in.Kind = intent.Add
		}, AveragingDown},
		{"averaging_down: short add at breakeven mark", Config{}, func(s *Snapshot, in *intent.Intent) {
			shortPos(s, 2, last, last+8)
			in.Kind = intent.Add
			short(in)
		}, AveragingDown},
		{"averaging_down: short add one tick in profit passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			shortPos(s, 2, last+1, last+8)
			in.Kind = intent.Add
			short(in)
		}, OK},
		{"averaging_down: enter on top of a losing long counts as an add", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 1, last+3, last-8)
		}, AveragingDown},

		// Invariant 4: loss bound and the other pre-trade limits.
		{"loss_bound: exactly the allowance passes", Config{}, func(s *Snapshot, in *intent.Intent) { s.AllowanceCents = 1370 }, OK},
		{"loss_bound: one cent short", Config{}, func(s *Snapshot, in *intent.Intent) { s.AllowanceCents = 1369 }, LossBound},
		{"loss_bound: stop one tick farther", Config{}, func(s *Snapshot, in *intent.Intent) { s.AllowanceCents, in.Stop = 1370, in.Stop-1 }, LossBound},
		{"loss_bound: slippage is counted", Config{SlippageTicks: 3}, func(s *Snapshot, in *intent.Intent) { s.AllowanceCents = 1370 }, LossBound},
		{"loss_bound: qty 3 at exactly 3 × 1370", Config{}, func(s *Snapshot, in *intent.Intent) { s.AllowanceCents, in.Qty = 3*1370, 3 }, OK},
		{"loss_bound: nothing left", Config{}, func(s *Snapshot, in *intent.Intent) { s.AllowanceCents = 0 }, LossBound},
		// Add: long 2 at last−4 with its stop at last−10; the add's stop at last−8.
		// Open 2: (10 far stop + 2) × 2 × 125 + 60 × 2 = 3120; new 1: (8+2)×125 + 120 = 1370.
		{"loss_bound: add counts the whole position, at the allowance passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 2, last-4, last-10)
			in.Kind, s.AllowanceCents = intent.Add, 3120+1370
		}, OK},
		{"loss_bound: add counts the whole position, one cent short", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 2, last-4, last-10)
			in.Kind, s.AllowanceCents = intent.Add, 3120+1369
		}, LossBound},
		{"invalid: entry while an opposite-side entry works", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.Orders = append(s.Orders, WorkingOrder{ClientID: "e0", Role: RoleEntry, Side: market.Sell, Qty: 1, Type: market.LimitOrder, Price: last + 4})
		}, Invalid},

		{"max_order_qty: at the max passes", Config{}, func(s *Snapshot, in *intent.Intent) { in.Qty = DefaultMaxOrderQty }, OK},
		{"max_order_qty: one over", Config{}, func(s *Snapshot, in *intent.Intent) { in.Qty = DefaultMaxOrderQty + 1 }, MaxOrderQty},
		{"max_position: add to exactly the max passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 15, last-4, last-8)
			in.Kind, in.Qty = intent.Add, 5
		}, OK},
		{"max_position: add one over", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 15, last-4, last-8)
			in.Kind, in.Qty = intent.Add, 6
		}, MaxPosition},
		{"averaging_down: second entry on a side while the first works", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.Orders = append(s.Orders, WorkingOrder{ClientID: "e0", Role: RoleEntry, Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: last - 1})
		}, AveragingDown},
		{"averaging_down: add while an add works, even in profit", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 1, last-4, last-8)
			s.Orders = append(s.Orders, WorkingOrder{ClientID: "e0", Role: RoleEntry, Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: last - 2})
			in.Kind = intent.Add
		}, AveragingDown},
		{"averaging_down: a filled (qty 0) entry does not block", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 1, last-4, last-8)
			s.Orders = append(s.Orders, WorkingOrder{ClientID: "e0", Role: RoleEntry, Side: market.Buy, Qty: 0, Type: market.LimitOrder, Price: last - 2})
			in.Kind = intent.Add
		}, OK},

		{"price_band: 40 ticks away passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			in.EntryType, in.Entry, in.Stop, in.Target = market.StopOrder, last+40, last+32, last+48
		}, OK},
		{"price_band: 41 ticks away", Config{}, func(s *Snapshot, in *intent.Intent) {
			in.EntryType, in.Entry, in.Stop, in.Target = market.StopOrder, last+41, last+33, last+49
		}, PriceBand},
		{"price_band: short 41 ticks below", Config{}, func(s *Snapshot, in *intent.Intent) {
			in.Entry = last - 41
			short(in)
		}, PriceBand},

		{"off_tick: limit entry without a price", Config{}, func(s *Snapshot, in *intent.Intent) { in.Entry = 0 }, OffTick},
		{"off_tick: negative stop", Config{}, func(s *Snapshot, in *intent.Intent) { in.Stop = -1 }, OffTick},
		{"off_tick: smallest positive tick passes the tick rule (then the band)", Config{}, func(s *Snapshot, in *intent.Intent) {
			in.Entry, in.Stop, in.Target = 2, 1, 3
		}, PriceBand},
		{"off_tick: a stop beyond any price (overflow guard)", Config{}, func(s *Snapshot, in *intent.Intent) {
			short(in)
			in.Stop = 1 << 62
		}, OffTick},
		{"off_tick: move stop to no price", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 1, last, last-8)
			*in = intent.Intent{Kind: intent.MoveStop, Ref: "s1", Stop: 0}
		}, OffTick},

		{"rate_limited: 5th order in the second", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.Rate = NewRateLimiter(5, 60)
			for i := range 5 {
				s.Rate.Record(s.NowNs - 1e9 + 1 + int64(i))
			}
		}, RateLimited},
		{"rate_limited: oldest exactly one second ago passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.Rate = NewRateLimiter(5, 60)
			for i := range 5 {
				s.Rate.Record(s.NowNs - 1e9 + int64(i)*int64(1e8))
			}
		}, OK},
		{"rate_limited: 60 in the minute", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.Rate = NewRateLimiter(5, 60)
			for i := range 60 {
				s.Rate.Record(s.NowNs - 60e9 + 1 + int64(i)*int64(9e8))
			}
		}, RateLimited},
		{"rate_limited: 60, oldest exactly a minute ago passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.Rate = NewRateLimiter(5, 60)
			for i := range 60 {
				s.Rate.Record(s.NowNs - 60e9 + int64(i)*int64(9e8))
			}
		}, OK},

		{"outside_window: one ns before 15:45 passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.NowNs, s.LastTimeNs = et(15, 44, 59, 999_999_999), et(15, 44, 59, 999_999_999)
		}, OK},
		{"outside_window: 15:45:00", Config{}, func(s *Snapshot, in *intent.Intent) { s.NowNs = et(15, 45, 0, 0) }, OutsideWindow},
		{"outside_window: one ns before 09:30", Config{}, func(s *Snapshot, in *intent.Intent) { s.NowNs = et(9, 29, 59, 999_999_999) }, OutsideWindow},
		{"outside_window: 09:30:00 passes", Config{}, func(s *Snapshot, in *intent.Intent) { s.NowNs = et(9, 30, 0, 0) }, OK},
		{"outside_window: before the strategy's window", Config{Windows: map[string]Window{"orb": {10 * 60, 11*60 + 30}}},
			func(s *Snapshot, in *intent.Intent) { s.NowNs = et(9, 59, 59, 999_999_999) }, OutsideWindow},
		{"outside_window: strategy window opens", Config{Windows: map[string]Window{"orb": {10 * 60, 11*60 + 30}}},
			func(s *Snapshot, in *intent.Intent) { s.NowNs = et(10, 0, 0, 0) }, OK},
		{"outside_window: strategy window closed", Config{Windows: map[string]Window{"orb": {10 * 60, 11*60 + 30}}},
			func(s *Snapshot, in *intent.Intent) { s.NowNs = et(11, 30, 0, 0) }, OutsideWindow},
		{"outside_window: add after 15:45", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 1, last-4, last-8)
			in.Kind, s.NowNs = intent.Add, et(15, 50, 0, 0)
		}, OutsideWindow},

		{"locked_out: entry refused", Config{}, func(s *Snapshot, in *intent.Intent) { s.LockedOut = true }, LockedOut},
		{"halted: account", Config{}, func(s *Snapshot, in *intent.Intent) { s.Halted = true }, Halted},
		{"halted: desk", Config{}, func(s *Snapshot, in *intent.Intent) { s.DeskHalted = true }, Halted},
		{"desk_locked_out: desk past its line", Config{}, func(s *Snapshot, in *intent.Intent) { s.DeskLockedOut = true }, DeskLockedOut},
		{"desk_locked_out: before a desk halt", Config{}, func(s *Snapshot, in *intent.Intent) { s.DeskLockedOut, s.DeskHalted = true, true }, DeskLockedOut},
		{"locked_out: exit still passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 1, last+4, last-8)
			s.LockedOut, s.AllowanceCents = true, -1
			*in = intent.Intent{Kind: intent.Exit}
		}, OK},
		{"locked_out: add to a winner still refused", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 1, last-4, last-8)
			s.LockedOut, in.Kind = true, intent.Add
		}, LockedOut},
		{"halted: tightening stop still passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 1, last, last-8)
			s.Halted, s.DeskHalted = true, true
			*in = intent.Intent{Kind: intent.MoveStop, Ref: "s1", Stop: last - 4}
		}, OK},
		{"halted: cancel of a working entry still passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.Orders = append(s.Orders, WorkingOrder{ClientID: "e0", Role: RoleEntry, Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: last - 2})
			s.DeskHalted = true
			*in = intent.Intent{Kind: intent.Cancel, Ref: "e0"}
		}, OK},

		{"no_reference_price: no trade yet", Config{}, func(s *Snapshot, in *intent.Intent) { s.LastPrice = 0 }, NoReferencePrice},
		{"stale_data: exactly max age passes", Config{MaxDataAge: 5 * time.Second}, func(s *Snapshot, in *intent.Intent) {
			s.LastTimeNs = s.NowNs - int64(5*time.Second)
		}, OK},
		{"stale_data: one ns older", Config{MaxDataAge: 5 * time.Second}, func(s *Snapshot, in *intent.Intent) {
			s.LastTimeNs = s.NowNs - int64(5*time.Second) - 1
		}, StaleData},
		{"stale_data: off in replay (age 0), within reference_max_age passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.LastTimeNs = s.NowNs - int64(DefaultReferenceMaxAge)
		}, OK},
		{"no_reference_price: stale rule off, the band's reference one ns too old", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.LastTimeNs = s.NowNs - int64(DefaultReferenceMaxAge) - 1
		}, NoReferencePrice},

		{"invalid: zero qty", Config{}, func(s *Snapshot, in *intent.Intent) { in.Qty = 0 }, Invalid},
		{"invalid: no side", Config{}, func(s *Snapshot, in *intent.Intent) { in.Side = market.Unknown }, Invalid},
		{"invalid: add while flat", Config{}, func(s *Snapshot, in *intent.Intent) { in.Kind = intent.Add }, Invalid},
		{"invalid: enter against the position", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 1, last-4, last-8)
			short(in)
		}, Invalid},
		{"invalid: move an unknown stop", Config{}, func(s *Snapshot, in *intent.Intent) {
			*in = intent.Intent{Kind: intent.MoveStop, Ref: "nope", Stop: last - 1}
		}, Invalid},
		{"invalid: unknown kind", Config{}, func(s *Snapshot, in *intent.Intent) { in.Kind = 99 }, Invalid},
	}
}

// TestGateReasons guards invariants 1 (no_bracket), 2 (stop_wrong_side,
// stop_widened, stop_cancel_open_position), 3 (averaging_down) and 4
// (loss_bound and the other pre-trade limits): every reason with its
// boundary on both sides.
func TestGateReasons(t *testing.T) {
	seen := map[Reason]bool{}
	for _, tc := range gateCases() {
		t.Run(tc.name, func(t *testing.T) {
			g, err := NewGate(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			g = g.WithCalendar(testCalendar())
			s, in := baseSnapshot(), baseEnter()
			tc.mut(&s, &in)
			d := g.Check(&s, &in)
			if d.Reason != tc.want || d.Allowed != (tc.want == OK) {
				t.Fatalf("got %v, want %q", d, tc.want)
			}
			seen[d.Reason] = true
		})
	}
	for _, r := range Reasons() {
		if !seen[r] {
			t.Errorf("reason %s has no case", r)
		}
	}
}

// TestGateNeverBlocksRiskReduction guards invariant 8's half that lives in
// the gate: halted, locked-out, stale, off-window and rate-limited accounts
// may still exit, cancel working entries and tighten stops.
func TestGateNeverBlocksRiskReduction(t *testing.T) {
	g, err := NewGate(Config{MaxDataAge: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := baseSnapshot()
	longPos(&s, 3, last-4, last-12)
	s.Orders = append(s.Orders, WorkingOrder{ClientID: "e9", Role: RoleEntry, Side: market.Buy, Qty: 1, Price: last - 3},
		WorkingOrder{ClientID: "t1", Role: RoleTarget, Side: market.Sell, Qty: 3, Price: last + 8})
	s.LockedOut, s.Halted, s.DeskHalted, s.DeskLockedOut = true, true, true, true
	s.NowNs = et(15, 58, 0, 0)                // after the cut-off
	s.LastTimeNs = s.NowNs - int64(time.Hour) // stale
	s.AllowanceCents = -50_00                 // beyond the line
	s.Rate = NewRateLimiter(1, 1)
	s.Rate.Record(s.NowNs)
	for _, in := range []intent.Intent{
		{Kind: intent.Exit},
		{Kind: intent.Exit, Qty: 2},
		{Kind: intent.Cancel, Ref: "e9"},
		{Kind: intent.Cancel, Ref: "t1"},
		{Kind: intent.MoveStop, Ref: "s1", Stop: last - 1},
	} {
		if d := g.Check(&s, &in); !d.Allowed {
			t.Errorf("%s refused while halted/locked: %v", in.Kind, d)
		}
	}
}

func TestConfigValidateAndMerge(t *testing.T) {
	bad := []Config{
		{MaxOrderQty: 30}, // over max position 20
		{SlippageTicks: -1},
		{OrdersPerSecond: 100},                // over per minute
		{EntriesFromMin: 16 * 60},             // after 15:45
		{Windows: map[string]Window{"x": {}}}, // empty
		{MaxDataAge: -1},
	}
	for _, c := range bad {
		if _, err := NewGate(c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
	m := Config{MaxPosition: 8, Windows: map[string]Window{"orb": {600, 690}}}.Merge(Config{MaxOrderQty: 2, Windows: map[string]Window{"delta": {600, 900}}})
	if m.MaxPosition != 8 || m.MaxOrderQty != 2 || len(m.Windows) != 2 {
		t.Errorf("merge %+v", m)
	}
}

func TestRateLimiterRecordsAndResets(t *testing.T) {
	r := NewRateLimiter(2, 3)
	now := int64(100e9)
	for i := range 2 {
		if _, _, ok := r.Allow(now + int64(i)); !ok {
			t.Fatalf("order %d refused", i)
		}
		r.Record(now + int64(i))
	}
	if _, _, ok := r.Allow(now + 2); ok {
		t.Fatal("third order in a second allowed")
	}
	if _, _, ok := r.Allow(now + 1e9); !ok {
		t.Fatal("refused a second later")
	}
	r.Record(now + 1e9)
	if n, lim, ok := r.Allow(now + 2e9); ok || n != 3 || lim != 3 {
		t.Fatalf("fourth in a minute: %d %d %v", n, lim, ok)
	}
	r.Reset()
	if _, _, ok := r.Allow(now + 2e9); !ok {
		t.Fatal("refused after reset")
	}
}
