// rules_test.go: the near-miss rows of the rules added with the ladder
// (appended to the reason table in gate_test.go): each at its threshold,
// just inside and just outside, plus the checks that every reason has both
// a refusing and a passing row.

package limits

import (
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
	"github.com/shopspring/decimal"
)

// The release every table gate knows: 14:00 ET on the table's Tuesday.
var fomcNs = et(14, 0, 0, 0)

func testCalendar() *Calendar {
	return NewCalendar([]Release{{TimeNs: fomcNs, Name: "FOMC statement"}, {TimeNs: et(8, 30, 0, 0), Name: "CPI"}})
}

// at moves the check (and the last trade) to t.
func at(s *Snapshot, t int64) { s.NowNs, s.LastTimeNs = t, t }

// sent records in as sent ageNs before the snapshot's time.
func sent(s *Snapshot, in intent.Intent, ageNs int64) {
	if s.Activity == nil {
		s.Activity = NewActivity()
	}
	s.Activity.RecordSent(s.NowNs-ageNs, &in)
}

// other adds a working order of another sub-account.
func other(s *Snapshot, side market.Side, typ market.OrderType, p market.Price) {
	s.Others = append(s.Others, WorkingOrder{ClientID: "x", Role: RoleEntry, Side: side, Qty: 1, Type: typ, Price: p})
}

func dollars(v string) decimal.Decimal { return decimal.RequireFromString(v) }

var (
	trailingOn = Config{TrailingMode: TrailingIntraday, TrailingDrawdown: dollars("2000")}
	weeklyOn   = Config{WeeklyLossPct: dollars("3")}
	scalingOn  = Config{ScalingTiers: []decimal.Decimal{dollars("1000"), dollars("2500")}}
)

// The day's allowance of a $50,000 account at 1.5%: $750; 90% is $675 used,
// so $75.00 left. The base entry risks 1370 cents.
const dayAllow = 750_00

func ruleCases() []gateCase {
	return []gateCase{
		// The ladder: reduce-only at 90% used (inclusive), sticky flags.
		{"reduce_only: exactly 90% of the allowance used", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.AllowanceTotalCents, s.AllowanceCents = dayAllow, 75_00
		}, ReduceOnly},
		{"reduce_only: one cent under 90% used passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.AllowanceTotalCents, s.AllowanceCents = dayAllow, 75_01
		}, OK},
		{"reduce_only: one cent over 90% used", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.AllowanceTotalCents, s.AllowanceCents = dayAllow, 74_99
		}, ReduceOnly},
		{"reduce_only: configured at 50%", Config{WarnPct: 40, ReduceOnlyPct: 50}, func(s *Snapshot, in *intent.Intent) {
			s.AllowanceTotalCents, s.AllowanceCents = dayAllow, 375_00
		}, ReduceOnly},
		{"reduce_only: configured at 50%, one cent under passes", Config{WarnPct: 40, ReduceOnlyPct: 50}, func(s *Snapshot, in *intent.Intent) {
			s.AllowanceTotalCents, s.AllowanceCents = dayAllow, 375_01
		}, OK},
		{"reduce_only: the monitor's sticky rung refuses with allowance back", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.AllowanceTotalCents, s.AllowanceCents, s.ReduceOnly = dayAllow, dayAllow, true
		}, ReduceOnly},
		{"reduce_only: the desk's rung", Config{}, func(s *Snapshot, in *intent.Intent) { s.DeskReduceOnly = true }, ReduceOnly},
		{"reduce_only: add to a winner refused", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 2, last-4, last-10)
			s.ReduceOnly, in.Kind = true, intent.Add
		}, ReduceOnly},
		{"reduce_only: exit passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 2, last+4, last-10)
			s.ReduceOnly, s.DeskReduceOnly = true, true
			*in = intent.Intent{Kind: intent.Exit, Qty: 2}
		}, OK},
		{"reduce_only: tightening the stop passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 2, last+4, last-10)
			s.ReduceOnly, s.DeskReduceOnly = true, true
			*in = intent.Intent{Kind: intent.MoveStop, Ref: "s1", Stop: last - 2}
		}, OK},

		// Trailing drawdown: breached, and the loss bound against its line.
		{"trailing_drawdown: breached", trailingOn, func(s *Snapshot, in *intent.Intent) {
			s.TrailingBreached, s.TrailingAllowanceCents = true, 0
		}, TrailingDrawdown},
		{"trailing_drawdown: worst case exactly what is left passes", trailingOn, func(s *Snapshot, in *intent.Intent) {
			s.TrailingAllowanceCents = 1370
		}, OK},
		{"trailing_drawdown: worst case one cent over what is left", trailingOn, func(s *Snapshot, in *intent.Intent) {
			s.TrailingAllowanceCents = 1369
		}, TrailingDrawdown},
		{"trailing_drawdown: off ignores the fields (passes)", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.TrailingBreached, s.TrailingAllowanceCents = true, 0
		}, OK},
		{"trailing_drawdown: exit while breached passes", trailingOn, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 1, last+4, last-10)
			s.TrailingBreached = true
			*in = intent.Intent{Kind: intent.Exit}
		}, OK},

		// Weekly loss.
		{"weekly_loss: breached", weeklyOn, func(s *Snapshot, in *intent.Intent) {
			s.WeeklyBreached, s.WeeklyAllowanceCents = true, 1_000_00
		}, WeeklyLoss},
		{"weekly_loss: worst case exactly what is left passes", weeklyOn, func(s *Snapshot, in *intent.Intent) {
			s.WeeklyAllowanceCents = 1370
		}, OK},
		{"weekly_loss: worst case one cent over what is left", weeklyOn, func(s *Snapshot, in *intent.Intent) {
			s.WeeklyAllowanceCents = 1369
		}, WeeklyLoss},

		// Trades per session: the 20th trade may start, the 21st not.
		{"daily_trade_limit: 19 closed, the 20th starts (passes)", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.TradesToday = DefaultDailyTradeLimit - 1
		}, OK},
		{"daily_trade_limit: 20 closed", Config{}, func(s *Snapshot, in *intent.Intent) { s.TradesToday = DefaultDailyTradeLimit }, DailyTradeLimit},
		{"daily_trade_limit: 21 closed", Config{}, func(s *Snapshot, in *intent.Intent) { s.TradesToday = DefaultDailyTradeLimit + 1 }, DailyTradeLimit},
		{"daily_trade_limit: an add continues the open trade (passes)", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 2, last-4, last-10)
			s.TradesToday, in.Kind = DefaultDailyTradeLimit, intent.Add
		}, OK},
		{"daily_trade_limit: configured at 2", Config{DailyTradeLimit: 2}, func(s *Snapshot, in *intent.Intent) { s.TradesToday = 2 }, DailyTradeLimit},

		// Orders per session.
		{"daily_order_limit: 199 sent passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.Activity = NewActivity()
			for range DefaultDailyOrderLimit - 1 {
				s.Activity.RecordSent(s.NowNs-int64(time.Hour), &intent.Intent{Kind: intent.MoveStop})
			}
		}, OK},
		{"daily_order_limit: 200 sent", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.Activity = NewActivity()
			for range DefaultDailyOrderLimit {
				s.Activity.RecordSent(s.NowNs-int64(time.Hour), &intent.Intent{Kind: intent.Cancel})
			}
		}, DailyOrderLimit},
		{"daily_order_limit: exit at the cap passes", Config{DailyOrderLimit: 1}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 1, last, last-8)
			sent(s, intent.Intent{Kind: intent.Cancel}, int64(time.Hour))
			*in = intent.Intent{Kind: intent.Exit}
		}, OK},

		// Loss-streak cooldown: 3 losers, 30 minutes after the last.
		{"loss_streak_cooldown: one ns before the cooldown ends", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.LossStreak, s.LastLossNs = DefaultLossStreak, s.NowNs-int64(DefaultLossCooldown)+1
		}, LossStreakCooldown},
		{"loss_streak_cooldown: exactly when it ends passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.LossStreak, s.LastLossNs = DefaultLossStreak, s.NowNs-int64(DefaultLossCooldown)
		}, OK},
		{"loss_streak_cooldown: two losers in a row pass", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.LossStreak, s.LastLossNs = DefaultLossStreak-1, s.NowNs
		}, OK},
		{"loss_streak_cooldown: a fourth loser starts another", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.LossStreak, s.LastLossNs = DefaultLossStreak+1, s.NowNs-1
		}, LossStreakCooldown},
		{"loss_streak_cooldown: configured 1 loser, 1 minute", Config{LossStreak: 1, LossCooldown: time.Minute}, func(s *Snapshot, in *intent.Intent) {
			s.LossStreak, s.LastLossNs = 1, s.NowNs-int64(time.Minute)+1
		}, LossStreakCooldown},

		// Duplicate entries within 2 s.
		{"duplicate_order: the same entry 1 ns inside the window", Config{}, func(s *Snapshot, in *intent.Intent) {
			sent(s, *in, int64(DefaultDuplicateWindow)-1)
		}, DuplicateOrder},
		{"duplicate_order: the same entry exactly the window ago passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			sent(s, *in, int64(DefaultDuplicateWindow))
		}, OK},
		{"duplicate_order: one contract more passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			d := *in
			d.Qty++
			sent(s, d, 1)
		}, OK},
		{"duplicate_order: one tick away passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			d := *in
			d.Entry++
			sent(s, d, 1)
		}, OK},
		{"duplicate_order: the other side passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			d := *in
			short(&d)
			sent(s, d, 1)
		}, OK},
		{"duplicate_order: behind 15 others still found", Config{}, func(s *Snapshot, in *intent.Intent) {
			sent(s, *in, 100)
			for i := range 15 {
				d := *in
				d.Entry += market.Price(i + 1)
				sent(s, d, int64(99-i))
			}
		}, DuplicateOrder},

		// The price band's reference fails closed (more rows in gate_test.go).
		{"no_reference_price: exactly reference_max_age old passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.LastTimeNs = s.NowNs - int64(DefaultReferenceMaxAge)
		}, OK},
		{"no_reference_price: configured 5 s, 1 ns older", Config{ReferenceMaxAge: 5 * time.Second}, func(s *Snapshot, in *intent.Intent) {
			s.LastTimeNs = s.NowNs - int64(5*time.Second) - 1
		}, NoReferencePrice},
		{"off_tick: the smallest positive prices pass", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.LastPrice, in.Entry, in.Stop, in.Target = 2, 2, 1, 3
		}, OK},

		// Working-order exposure: max position counts what could still fill.
		{"max_position: 15 working (unknown role) + 5 is exactly the max (passes)", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.Orders = append(s.Orders, WorkingOrder{ClientID: "v1", Role: RoleOther, Side: market.Buy, Qty: 15, Type: market.LimitOrder, Price: last - 40})
			in.Qty = 5
		}, OK},
		{"max_position: 15 working (unknown role) + 6 over", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.Orders = append(s.Orders, WorkingOrder{ClientID: "v1", Role: RoleOther, Side: market.Buy, Qty: 15, Type: market.LimitOrder, Price: last - 40})
			in.Qty = 6
		}, MaxPosition},
		{"max_position: working sells do not add to a buy (passes)", Config{}, func(s *Snapshot, in *intent.Intent) {
			s.Orders = append(s.Orders, WorkingOrder{ClientID: "v1", Role: RoleOther, Side: market.Sell, Qty: 15, Type: market.LimitOrder, Price: last + 40})
			in.Qty = 6
		}, OK},

		// Self-match against the other sub-accounts' working orders.
		{"self_match: our buy limit at their resting sell", Config{}, func(s *Snapshot, in *intent.Intent) {
			other(s, market.Sell, market.LimitOrder, last)
		}, SelfMatch},
		{"self_match: their sell one tick above our buy passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			other(s, market.Sell, market.LimitOrder, last+1)
		}, OK},
		{"self_match: our target at their resting buy", Config{}, func(s *Snapshot, in *intent.Intent) {
			other(s, market.Buy, market.LimitOrder, in.Target)
		}, SelfMatch},
		{"self_match: their buy one tick under our target passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			other(s, market.Buy, market.LimitOrder, in.Target-1)
		}, OK},
		{"self_match: our stop sweeps into their buy at stop − slippage", Config{}, func(s *Snapshot, in *intent.Intent) {
			other(s, market.Buy, market.LimitOrder, in.Stop-DefaultSlippageTicks)
		}, SelfMatch},
		{"self_match: their buy one tick beyond the sweep passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			other(s, market.Buy, market.LimitOrder, in.Stop-DefaultSlippageTicks-1)
		}, OK},
		{"self_match: their buy above our stop's trigger passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			other(s, market.Buy, market.LimitOrder, in.Stop+1)
		}, OK},
		{"self_match: our market buy reaches their sell within slippage", Config{}, func(s *Snapshot, in *intent.Intent) {
			in.EntryType, in.Entry = market.MarketOrder, 0
			other(s, market.Sell, market.LimitOrder, last+DefaultSlippageTicks)
		}, SelfMatch},
		{"self_match: our market buy, their sell one tick farther passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			in.EntryType, in.Entry = market.MarketOrder, 0
			other(s, market.Sell, market.LimitOrder, last+DefaultSlippageTicks+1)
		}, OK},
		{"self_match: their sell stop sweeps into our buy limit", Config{}, func(s *Snapshot, in *intent.Intent) {
			other(s, market.Sell, market.StopOrder, last+DefaultSlippageTicks)
		}, SelfMatch},
		{"self_match: their sell stop sweeping to one tick above our buy passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			other(s, market.Sell, market.StopOrder, last+DefaultSlippageTicks+1)
		}, OK},
		{"self_match: two stops never meet (passes)", Config{}, func(s *Snapshot, in *intent.Intent) {
			in.EntryType, in.Entry, in.Stop, in.Target = market.StopOrder, last+4, last-4, last+12
			other(s, market.Sell, market.StopOrder, last+4)
		}, OK},
		{"self_match: our buy stop sweeps into their sell just above its trigger", Config{}, func(s *Snapshot, in *intent.Intent) {
			in.EntryType, in.Entry, in.Stop, in.Target = market.StopOrder, last+4, last-4, last+12
			other(s, market.Sell, market.LimitOrder, last+5)
		}, SelfMatch},
		{"self_match: their sell below our buy stop's trigger fills first (passes)", Config{}, func(s *Snapshot, in *intent.Intent) {
			in.EntryType, in.Entry, in.Stop, in.Target = market.StopOrder, last+4, last-4, last+12
			other(s, market.Sell, market.LimitOrder, last+3)
		}, OK},
		{"self_match: off", Config{SelfMatch: SelfMatchOff}, func(s *Snapshot, in *intent.Intent) {
			other(s, market.Sell, market.LimitOrder, last)
		}, OK},

		// News blackout: [14:00 − 5 min, 14:00 + 5 min).
		{"news_blackout: exactly 5 minutes before", Config{}, func(s *Snapshot, in *intent.Intent) { at(s, et(13, 55, 0, 0)) }, NewsBlackout},
		{"news_blackout: one ns before the window passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			at(s, et(13, 54, 59, 999_999_999))
		}, OK},
		{"news_blackout: at the release", Config{}, func(s *Snapshot, in *intent.Intent) { at(s, fomcNs) }, NewsBlackout},
		{"news_blackout: one ns before it ends", Config{}, func(s *Snapshot, in *intent.Intent) { at(s, et(14, 4, 59, 999_999_999)) }, NewsBlackout},
		{"news_blackout: when it ends passes", Config{}, func(s *Snapshot, in *intent.Intent) { at(s, et(14, 5, 0, 0)) }, OK},
		{"news_blackout: a wider window per account", Config{BlackoutBefore: 30 * time.Minute}, func(s *Snapshot, in *intent.Intent) {
			at(s, et(13, 30, 0, 0))
		}, NewsBlackout},
		{"news_blackout: exit at the release passes", Config{}, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 1, last, last-8)
			at(s, fomcNs)
			*in = intent.Intent{Kind: intent.Exit}
		}, OK},

		// Scaling plan: one unit (5) to start, tiers at $1,000 and $2,500.
		{"scaling_plan: one unit, 5 contracts passes", scalingOn, func(s *Snapshot, in *intent.Intent) { s.TierUnits, in.Qty = 1, 5 }, OK},
		{"scaling_plan: one unit, 6 contracts", scalingOn, func(s *Snapshot, in *intent.Intent) { s.TierUnits, in.Qty = 1, 6 }, ScalingPlan},
		{"scaling_plan: no tier filled counts as one unit", scalingOn, func(s *Snapshot, in *intent.Intent) { s.TierUnits, in.Qty = 0, 6 }, ScalingPlan},
		{"scaling_plan: two units, 6 contracts passes", scalingOn, func(s *Snapshot, in *intent.Intent) { s.TierUnits, in.Qty = 2, 6 }, OK},
		{"scaling_plan: an add to exactly the tier passes", scalingOn, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 4, last-4, last-10)
			s.TierUnits, in.Kind, in.Qty = 1, intent.Add, 1
		}, OK},
		{"scaling_plan: an add one over the tier", scalingOn, func(s *Snapshot, in *intent.Intent) {
			longPos(s, 4, last-4, last-10)
			s.TierUnits, in.Kind, in.Qty = 1, intent.Add, 2
		}, ScalingPlan},
		{"scaling_plan: working orders count against the tier", scalingOn, func(s *Snapshot, in *intent.Intent) {
			s.Orders = append(s.Orders, WorkingOrder{ClientID: "v1", Role: RoleOther, Side: market.Buy, Qty: 3, Type: market.LimitOrder, Price: last - 40})
			s.TierUnits, in.Qty = 1, 3
		}, ScalingPlan},
		{"scaling_plan: off, 10 contracts pass", Config{}, func(s *Snapshot, in *intent.Intent) { s.TierUnits, in.Qty = 1, 10 }, OK},
	}
}

// TestEveryReasonHasNearMisses: each reason has a refusing row and a
// passing row of its own in the table, so a threshold moved by one (a >
// for a >=) fails a row.
func TestEveryReasonHasNearMisses(t *testing.T) {
	refuse, pass := map[Reason]int{}, map[Reason]int{}
	for _, tc := range gateCases() {
		name, _, ok := strings.Cut(tc.name, ":")
		if !ok {
			continue
		}
		if tc.want == OK {
			pass[Reason(name)]++
		} else if Reason(name) == tc.want {
			refuse[tc.want]++
		}
	}
	for _, r := range Reasons() {
		if r == Invalid || r == Halted || r == LockedOut || r == DeskLockedOut {
			continue // states, not thresholds (rows: locked_out:, halted:, invalid:)
		}
		if refuse[r] == 0 || pass[r] == 0 {
			t.Errorf("reason %s: %d refusing and %d passing rows; want both", r, refuse[r], pass[r])
		}
	}
}
