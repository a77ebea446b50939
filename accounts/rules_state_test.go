// rules_state_test.go: a restart in the middle of each rule's state comes
// back in the same state. The ledger and the account's rules are driven
// into reduce-only, a trailing breach, a weekly breach, a loss-streak
// cooldown, a news blackout (after its flatten) and a scaling tier; their
// states go through JSON as the desk's snapshot records carry them; the
// rebuilt account gets the same gate decisions and the same state back.

package accounts

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/shopspring/decimal"
)

const p0 = market.Price(20600)

func etAt(h, m int) int64 { return time.Date(2026, 3, 10, h, m, 0, 0, market.NewYork).UnixNano() }

var roundTripCal = limits.NewCalendar([]limits.Release{{TimeNs: etAt(14, 0), Name: "FOMC statement"}})

type acct struct {
	cfg   limits.Config
	led   *Ledger
	rules *limits.AccountRules
	gate  *limits.Gate
}

func newAcct(t *testing.T, cfg limits.Config) *acct {
	t.Helper()
	led, err := NewLedger(Config{ID: "A", StartEquity: decimal.NewFromInt(50000)})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := limits.NewAccountRules(cfg, led.StartCents(), led.StartCents(), etAt(9, 30), roundTripCal)
	if err != nil {
		t.Fatal(err)
	}
	g, err := limits.NewGate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &acct{cfg: cfg, led: led, rules: rules, gate: g.WithCalendar(roundTripCal)}
}

// fill books a fill and marks every rule on it, as the desk does.
func (a *acct) fill(t *testing.T, ns int64, side market.Side, qty int64, p market.Price) {
	t.Helper()
	if err := a.led.ApplyFill(Fill{Time: ns, Side: side, Qty: qty, Price: p}); err != nil {
		t.Fatal(err)
	}
	a.mark(ns, p)
}

func (a *acct) mark(ns int64, p market.Price) limits.MarkEvents {
	a.led.MarkAt(ns, p)
	return a.rules.Mark(ns, a.led.EquityCents())
}

// check judges in at nowNs with extra orders of the account working.
func (a *acct) check(nowNs int64, in intent.Intent, orders ...limits.WorkingOrder) limits.Decision {
	var s limits.Snapshot
	a.led.FillSnapshot(&s, a.rules.Drawdown)
	a.rules.Fill(&s, a.led.EquityCents())
	s.NowNs, s.Orders = nowNs, orders
	return a.gate.Check(&s, &in)
}

// snapshot is what the desk would journal for the account.
type snapshot struct {
	Ledger LedgerState       `json:"ledger"`
	Rules  limits.RulesState `json:"rules"`
}

// restart takes the account's state through JSON and rebuilds it.
func (a *acct) restart(t *testing.T) *acct {
	t.Helper()
	b, err := json.Marshal(snapshot{a.led.State(), a.rules.State()})
	if err != nil {
		t.Fatal(err)
	}
	var st snapshot
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	led, err := Restore(st.Ledger)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := limits.NewAccountRules(a.cfg, 50000_00, st.Rules.Drawdown.StartCents, etAt(9, 30), roundTripCal)
	if err != nil {
		t.Fatal(err)
	}
	if err := rules.RestoreState(st.Rules); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(snapshot{led.State(), rules.State()})
	if string(b) != string(b2) {
		t.Fatalf("state changed across the restart:\nbefore %s\nafter  %s", b, b2)
	}
	return &acct{cfg: a.cfg, led: led, rules: rules, gate: a.gate}
}

func entry(qty int64) intent.Intent {
	return intent.Intent{Kind: intent.Enter, Strategy: "orb", Side: market.Buy, Qty: qty, EntryType: market.LimitOrder,
		Entry: p0, Stop: p0 - 8, Target: p0 + 8}
}

func TestRestartInEachRuleState(t *testing.T) {
	dollars := decimal.RequireFromString
	cases := []struct {
		name  string
		cfg   limits.Config
		drive func(t *testing.T, a *acct) int64 // returns the check time
		in    intent.Intent
		want  limits.Reason
	}{
		{"reduce_only", limits.Config{}, func(t *testing.T, a *acct) int64 {
			// 10 contracts 54 ticks down: 675.00 + 12.00 fees = 687.00 of 750.00 used.
			a.fill(t, etAt(10, 0), market.Buy, 10, p0)
			a.fill(t, etAt(10, 1), market.Sell, 10, p0-54)
			if !a.rules.Drawdown.ReduceOnly() {
				t.Fatal("not reduce-only")
			}
			return etAt(10, 2)
		}, entry(1), limits.ReduceOnly},
		{"trailing_breach", limits.Config{TrailingMode: limits.TrailingIntraday, TrailingDrawdown: dollars("500")}, func(t *testing.T, a *acct) int64 {
			a.fill(t, etAt(10, 0), market.Buy, 5, p0)
			a.mark(etAt(10, 5), p0+40) // +250: line 49,750
			a.fill(t, etAt(10, 6), market.Sell, 5, p0-40)
			if !a.rules.Trailing.Breached() {
				t.Fatalf("no breach: equity %d line %d", a.led.EquityCents(), a.rules.Trailing.LineCents())
			}
			return etAt(10, 7)
		}, entry(1), limits.TrailingDrawdown},
		{"weekly_breach", limits.Config{WeeklyLossPct: dollars("1"), DrawdownPct: dollars("5")}, func(t *testing.T, a *acct) int64 {
			a.fill(t, etAt(10, 0), market.Buy, 10, p0)
			a.fill(t, etAt(10, 1), market.Sell, 10, p0-41) // 512.50 + 12.00 > 500.00
			if !a.rules.Weekly.Breached() {
				t.Fatal("no weekly breach")
			}
			return etAt(10, 2)
		}, entry(1), limits.WeeklyLoss},
		{"cooldown", limits.Config{}, func(t *testing.T, a *acct) int64 {
			for i := range 3 { // three 2-tick losers
				a.fill(t, etAt(10, 2*i), market.Buy, 1, p0)
				a.fill(t, etAt(10, 2*i+1), market.Sell, 1, p0-2)
			}
			if a.led.LossStreak() != 3 || a.led.TradesToday() != 3 {
				t.Fatalf("streak %d trades %d", a.led.LossStreak(), a.led.TradesToday())
			}
			a.mark(etAt(10, 30), p0) // the last loser closed 10:05: cooling down until 10:35
			return etAt(10, 30)
		}, entry(1), limits.LossStreakCooldown},
		{"blackout", limits.Config{BlackoutFlatten: 2 * time.Minute}, func(t *testing.T, a *acct) int64 {
			a.mark(etAt(13, 50), p0)
			if ev := a.mark(etAt(13, 58), p0); !ev.FlattenDue {
				t.Fatal("no flatten at 13:58")
			}
			return etAt(13, 59)
		}, entry(1), limits.NewsBlackout},
		{"tier", limits.Config{ScalingTiers: []decimal.Decimal{dollars("100"), dollars("1000")}}, func(t *testing.T, a *acct) int64 {
			a.fill(t, etAt(10, 0), market.Buy, 5, p0)
			a.fill(t, etAt(10, 1), market.Sell, 5, p0+20) // +125.00 − 6.00
			if u, ch := a.rules.SessionEnd(a.led.EquityCents()); !ch || u != 2 {
				t.Fatalf("tier %d %v", u, ch)
			}
			return etAt(10, 2)
		}, entry(6), limits.ScalingPlan},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := newAcct(t, tc.cfg)
			now := tc.drive(t, a)
			// The tier case refuses with 5 more working; all others the entry alone.
			var work []limits.WorkingOrder
			if tc.want == limits.ScalingPlan {
				work = []limits.WorkingOrder{{ClientID: "v", Role: limits.RoleOther, Side: market.Buy, Qty: 5, Type: market.LimitOrder, Price: p0 - 40}}
			}
			before := a.check(now, tc.in, work...)
			if before.Reason != tc.want {
				t.Fatalf("before the restart: %v, want %s", before, tc.want)
			}
			b := a.restart(t)
			if after := b.check(now, tc.in, work...); !reflect.DeepEqual(after, before) {
				t.Fatalf("after the restart %v, before %v", after, before)
			}
			if tc.want == limits.ScalingPlan {
				if d := b.check(now, entry(5), work...); !d.Allowed {
					t.Fatalf("tier 2 lost across the restart: %v", d)
				}
			}
			if tc.name == "blackout" {
				if ev := b.mark(etAt(14, 0), p0); ev.FlattenDue {
					t.Fatal("flattened again after the restart")
				}
			}
			// Risk-reducing acts stay allowed in every state.
			if d := b.check(now, intent.Intent{Kind: intent.Exit}); !d.Allowed {
				t.Fatalf("exit refused: %v", d)
			}
		})
	}
}

// TestLedgerTradesAndStreak: flat-to-flat trades, a reversal closes one and
// opens the next, a scratch (net of fees a loss) counts as a loser, a
// winner ends the streak, the reset starts the session's counts again.
func TestLedgerTradesAndStreak(t *testing.T) {
	l, err := NewLedger(Config{ID: "A", StartEquity: decimal.NewFromInt(50000)})
	if err != nil {
		t.Fatal(err)
	}
	f := func(ns int64, side market.Side, q int64, p market.Price) {
		if err := l.ApplyFill(Fill{Time: ns, Side: side, Qty: q, Price: p}); err != nil {
			t.Fatal(err)
		}
	}
	f(1, market.Buy, 2, p0)
	f(2, market.Buy, 1, p0+4) // an add: the same trade
	f(3, market.Sell, 1, p0+10)
	if l.TradesToday() != 0 {
		t.Fatal("a partial close counted as a trade")
	}
	f(4, market.Sell, 5, p0-10) // closes 2 (a loss overall) and reverses short 3
	if l.TradesToday() != 1 || l.LossStreak() != 1 || l.LastLossNs() != 4 {
		t.Fatalf("trades %d streak %d last %d", l.TradesToday(), l.LossStreak(), l.LastLossNs())
	}
	f(5, market.Buy, 3, p0-10) // a scratch: −fees
	if l.TradesToday() != 2 || l.LossStreak() != 2 || l.LastLossNs() != 5 {
		t.Fatalf("scratch: trades %d streak %d", l.TradesToday(), l.LossStreak())
	}
	f(6, market.Buy, 1, p0)
	f(7, market.Sell, 1, p0+1) // +1.25 − 1.20: a winner by 5 cents
	if l.TradesToday() != 3 || l.LossStreak() != 0 || l.LastLossNs() != 5 {
		t.Fatalf("winner: trades %d streak %d", l.TradesToday(), l.LossStreak())
	}
	f(8, market.Buy, 1, p0)
	if err := l.ResetSession(l.StartEquity()); err != nil {
		t.Fatal(err)
	}
	if l.TradesToday() != 0 || l.LossStreak() != 0 {
		t.Fatal("reset kept the counts")
	}
	f(9, market.Sell, 1, p0-1) // the trade opened before the reset closes after it
	if l.TradesToday() != 1 || l.LossStreak() != 1 {
		t.Fatalf("carried trade: trades %d streak %d", l.TradesToday(), l.LossStreak())
	}
	st := l.State()
	st.LossStreak = 5
	if _, err := Restore(st); err == nil {
		t.Fatal("a streak longer than the trades accepted")
	}
}
