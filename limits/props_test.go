// props_test.go: rapid property tests of the invariants behind the new
// rules: no rule state ever blocks a risk-reducing act; a trailing line
// never moves down; exposure never exceeds the position limit even if
// every working entry fills; the ladder's rungs are sticky and refuse new
// risk; the O(log n) blackout lookup agrees with a scan; a rules state
// survives JSON.

package limits

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// drawConfig draws a valid config with any of the new rules on.
func drawConfig(t *rapid.T) Config {
	c := Config{
		MaxPosition:     rapid.Int64Range(5, 20).Draw(t, "maxPos"),
		WarnPct:         rapid.IntRange(1, 50).Draw(t, "warn"),
		ReduceOnlyPct:   rapid.IntRange(50, 100).Draw(t, "reduce"),
		DailyTradeLimit: rapid.IntRange(1, 5).Draw(t, "trades"),
		DailyOrderLimit: rapid.IntRange(1, 5).Draw(t, "orders"),
		LossStreak:      rapid.IntRange(1, 4).Draw(t, "streak"),
	}
	c.MaxOrderQty = rapid.Int64Range(1, c.MaxPosition).Draw(t, "maxQty")
	c.ScalingUnit = rapid.Int64Range(1, c.MaxPosition).Draw(t, "unit")
	if rapid.Bool().Draw(t, "trailing") {
		c.TrailingMode, c.TrailingDrawdown = rapid.SampledFrom([]string{TrailingIntraday, TrailingEOD}).Draw(t, "mode"), dollars("500")
	}
	if rapid.Bool().Draw(t, "weekly") {
		c.WeeklyLossPct = dollars("2")
	}
	if rapid.Bool().Draw(t, "scaling") {
		c.ScalingTiers = []decimal.Decimal{dollars("100"), dollars("200")}
	}
	if rapid.Bool().Draw(t, "selfMatchOff") {
		c.SelfMatch = SelfMatchOff
	}
	return c
}

// TestPropertyRiskReductionNeverBlocked: whatever the rules' state —
// reduce-only (account or desk), trailing or weekly breached, cooldown,
// caps reached, blackout, tier, self-match, halts, lockout, no allowance —
// an exit, a cancel that leaves no open position unprotected, and a stop
// tightened short of the market are always allowed.
func TestPropertyRiskReductionNeverBlocked(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawConfig(t)
		g, err := NewGate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		g = g.WithCalendar(testCalendar())
		s := baseSnapshot()
		at(&s, et(rapid.IntRange(9, 16).Draw(t, "h"), rapid.IntRange(0, 59).Draw(t, "m"), 0, 0))
		s.LastTimeNs -= rapid.Int64Range(0, int64(time.Hour)).Draw(t, "age")
		s.LastPrice = last + market.Price(rapid.IntRange(-30, 30).Draw(t, "drift"))
		pos := rapid.Int64Range(-20, 20).Draw(t, "pos")
		avg := s.LastPrice + market.Price(rapid.IntRange(-20, 20).Draw(t, "avgOff"))
		s.PositionQty, s.CostTicks = pos, pos*int64(avg)
		exit := market.Sell
		if pos < 0 {
			exit = market.Buy
		}
		stopAt := s.LastPrice + market.Price(exit.Sign()*rapid.Int64Range(1, 20).Draw(t, "stopDist")) // loss side of the mark
		s.Orders = []WorkingOrder{
			{ClientID: "s1", Role: RoleStop, Side: exit, Qty: abs(pos), Type: market.StopOrder, Price: stopAt},
			{ClientID: "t1", Role: RoleTarget, Side: exit, Qty: abs(pos), Type: market.LimitOrder, Price: s.LastPrice + market.Price(exit.Sign()*-8)},
			{ClientID: "e1", Role: RoleEntry, Side: exit.Opposite(), Qty: 1, Type: market.LimitOrder, Price: s.LastPrice - 3},
		}
		s.LockedOut, s.Halted, s.DeskHalted = rapid.Bool().Draw(t, "locked"), rapid.Bool().Draw(t, "halted"), rapid.Bool().Draw(t, "deskHalted")
		s.ReduceOnly, s.DeskReduceOnly = rapid.Bool().Draw(t, "ro"), rapid.Bool().Draw(t, "deskRO")
		s.DeskLockedOut = rapid.Bool().Draw(t, "deskLocked")
		s.AllowanceCents = rapid.Int64Range(-1000_00, 1000_00).Draw(t, "allow")
		s.AllowanceTotalCents = rapid.Int64Range(0, 1000_00).Draw(t, "total")
		s.TrailingBreached, s.TrailingAllowanceCents = rapid.Bool().Draw(t, "trailBreach"), rapid.Int64Range(-100_00, 100_00).Draw(t, "trailAllow")
		s.WeeklyBreached, s.WeeklyAllowanceCents = rapid.Bool().Draw(t, "weekBreach"), rapid.Int64Range(-100_00, 100_00).Draw(t, "weekAllow")
		s.TradesToday = rapid.Int64Range(0, 10).Draw(t, "tradesToday")
		s.LossStreak, s.LastLossNs = rapid.Int64Range(0, 6).Draw(t, "lossStreak"), s.NowNs-rapid.Int64Range(0, int64(time.Hour)).Draw(t, "sinceLoss")
		s.TierUnits = rapid.Int64Range(0, 3).Draw(t, "tier")
		s.Activity = NewActivity()
		for range rapid.IntRange(0, 8).Draw(t, "sent") {
			s.Activity.RecordSent(s.NowNs-1, &intent.Intent{Kind: intent.Exit})
		}
		for range rapid.IntRange(0, 4).Draw(t, "others") {
			other(&s, rapid.SampledFrom([]market.Side{market.Buy, market.Sell}).Draw(t, "oSide"),
				rapid.SampledFrom([]market.OrderType{market.LimitOrder, market.StopOrder, market.MarketOrder}).Draw(t, "oType"),
				s.LastPrice+market.Price(rapid.IntRange(-10, 10).Draw(t, "oOff")))
		}
		s.Rate = NewRateLimiter(1, 1)
		s.Rate.Record(s.NowNs)

		reducing := []intent.Intent{
			{Kind: intent.Exit},
			{Kind: intent.Exit, Qty: rapid.Int64Range(0, abs(pos)).Draw(t, "exitQty")},
			{Kind: intent.Cancel, Ref: "e1"},
			{Kind: intent.Cancel, Ref: "t1"},
			{Kind: intent.Cancel, Ref: "nope"},
		}
		if pos == 0 {
			reducing = append(reducing, intent.Intent{Kind: intent.Cancel, Ref: "s1"})
		} else {
			// Tighten: toward the mark, never to it or through it.
			gap := abs(int64(s.LastPrice - stopAt))
			k := rapid.Int64Range(0, gap-1).Draw(t, "tighten")
			reducing = append(reducing, intent.Intent{Kind: intent.MoveStop, Ref: "s1", Stop: stopAt + market.Price(exit.Sign()*-k)})
		}
		for _, in := range reducing {
			if d := g.Check(&s, &in); !d.Allowed {
				t.Fatalf("%s (ref %s, qty %d, stop %d) refused: %v\nposition %d last %d stop %d", in.Kind, in.Ref, in.Qty, in.Stop, d,
					pos, s.LastPrice, stopAt)
			}
		}
	})
}

// TestPropertyTrailingLineNeverDown: over any marks and session ends, in
// either mode, with or without a freeze, the line never moves down, sits
// the amount below the peak (or at the freeze), and a breach is reported
// exactly when equity first reaches it; a restore mid-way changes nothing.
func TestPropertyTrailingLineNeverDown(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := Config{TrailingMode: rapid.SampledFrom([]string{TrailingIntraday, TrailingEOD}).Draw(t, "mode"),
			TrailingDrawdown: decimal.New(rapid.Int64Range(1, 5000_00).Draw(t, "amount"), -2)}
		if rapid.Bool().Draw(t, "freeze") {
			f := decimal.New(rapid.Int64Range(0, 2000_00).Draw(t, "freezeAt"), -2)
			cfg.TrailingFreezeAt = &f
		}
		m, err := NewTrailingMonitor(cfg, 50000_00)
		if err != nil {
			t.Fatal(err)
		}
		eq, line, breached := int64(50000_00), m.LineCents(), false
		for i := range rapid.IntRange(1, 80).Draw(t, "steps") {
			eq += rapid.Int64Range(-800_00, 800_00).Draw(t, "move")
			if rapid.IntRange(0, 5).Draw(t, "kind") == 0 {
				m.SessionEnd(eq)
			} else {
				_, ok := m.Mark(int64(i), eq)
				if want := !breached && eq <= m.LineCents(); ok != want {
					t.Fatalf("step %d: breach %v at equity %d, line %d (breached before: %v)", i, ok, eq, m.LineCents(), breached)
				}
				breached = breached || ok
			}
			if m.LineCents() < line {
				t.Fatalf("step %d: line moved down %d → %d", i, line, m.LineCents())
			}
			line = m.LineCents()
			want := m.PeakCents() - cents(cfg.TrailingDrawdown)
			if cfg.TrailingFreezeAt != nil {
				want = min(want, 50000_00+cents(*cfg.TrailingFreezeAt))
			}
			if line != want { // the peak only rises, so the line is what the peak allows
				t.Fatalf("step %d: line %d, peak %d: want %d", i, line, m.PeakCents(), want)
			}
			if rapid.IntRange(0, 9).Draw(t, "restore") == 0 {
				m2, _ := NewTrailingMonitor(cfg, 50000_00)
				if err := m2.RestoreState(m.State()); err != nil || m2.State() != m.State() {
					t.Fatalf("restore: %v %+v %+v", err, m2.State(), m.State())
				}
				m = m2
			}
		}
	})
}

// TestPropertyExposureNeverExceedsMax: a desk that sends whatever the gate
// accepts, as working entries that later fill, is cancelled or exits, never
// has more exposure on a side than the position limit in force (max
// position, or the tier's), counting every working order that could add.
func TestPropertyExposureNeverExceedsMax(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawConfig(t)
		cfg.DailyTradeLimit, cfg.DailyOrderLimit, cfg.LossStreak = 1000, 1000, 1000
		g, err := NewGate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s := baseSnapshot()
		s.TierUnits = rapid.Int64Range(0, 3).Draw(t, "tier")
		maxNow := g.MaxPositionNow(&s)
		// Orders of unknown role already working, within the limit per side.
		for _, side := range []market.Side{market.Buy, market.Sell} {
			if q := rapid.Int64Range(0, maxNow).Draw(t, "other"); q > 0 {
				s.Orders = append(s.Orders, WorkingOrder{ClientID: "v" + side.String(), Role: RoleOther, Side: side, Qty: q,
					Type: market.LimitOrder, Price: last - market.Price(side.Sign()*40)})
			}
		}
		exposure := func(side market.Side) int64 {
			e := s.PositionQty * side.Sign()
			for _, o := range s.Orders {
				if (o.Role == RoleEntry || o.Role == RoleOther) && o.Side == side {
					e += o.Qty
				}
			}
			return e
		}
		n := 0
		for range rapid.IntRange(1, 60).Draw(t, "steps") {
			s.LastPrice += market.Price(rapid.IntRange(-3, 3).Draw(t, "tick"))
			switch rapid.IntRange(0, 3).Draw(t, "act") {
			case 0, 1: // propose
				side := rapid.SampledFrom([]market.Side{market.Buy, market.Sell}).Draw(t, "side")
				in := intent.Intent{Kind: intent.Enter, Strategy: "orb", Side: side, Qty: rapid.Int64Range(1, cfg.MaxOrderQty+3).Draw(t, "qty"),
					EntryType: market.MarketOrder, Stop: s.LastPrice - market.Price(side.Sign()*8), Target: s.LastPrice + market.Price(side.Sign()*8)}
				if s.PositionQty != 0 {
					in.Kind = intent.Add
				}
				if d := g.Check(&s, &in); d.Allowed {
					n++
					s.Orders = append(s.Orders, WorkingOrder{ClientID: "e", Role: RoleEntry, Side: side, Qty: in.Qty, Type: market.MarketOrder})
					if e := exposure(side); e > maxNow {
						t.Fatalf("accepted %s %d: exposure %d over %d", side, in.Qty, e, maxNow)
					}
				}
			case 2: // the working entry fills
				for i, o := range s.Orders {
					if o.Role == RoleEntry {
						s.PositionQty += o.Side.Sign() * o.Qty
						s.CostTicks += o.Side.Sign() * o.Qty * int64(s.LastPrice)
						s.Orders = append(s.Orders[:i], s.Orders[i+1:]...)
						break
					}
				}
			case 3: // the position exits
				s.PositionQty, s.CostTicks = 0, 0
			}
			for _, side := range []market.Side{market.Buy, market.Sell} {
				if e := exposure(side); e > maxNow {
					t.Fatalf("exposure %s %d over %d", side, e, maxNow)
				}
			}
		}
		_ = n
	})
}

// TestPropertyLadderSticky: on any equity path the rung never goes down
// within a session, is at least the rung equity is on now, and from
// reduce-only on the gate refuses every entry and add with reduce_only or
// locked_out while an exit passes.
func TestPropertyLadderSticky(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		warn := rapid.IntRange(1, 100).Draw(t, "warn")
		red := rapid.IntRange(warn, 100).Draw(t, "reduce")
		cfg := Config{WarnPct: warn, ReduceOnlyPct: red}
		m, err := NewAccountDrawdown(50000_00, cfg)
		if err != nil {
			t.Fatal(err)
		}
		g, _ := NewGate(cfg)
		eq, lvl := int64(50000_00), LevelNormal
		for i := range rapid.IntRange(1, 60).Draw(t, "steps") {
			eq += rapid.Int64Range(-150_00, 150_00).Draw(t, "move")
			ev, ok := m.Observe(int64(i), eq)
			if m.Level() < lvl || ok != (m.Level() > lvl) || ok && ev.Level != m.Level() {
				t.Fatalf("step %d: rung %v → %v (event %v %v)", i, lvl, m.Level(), ev, ok)
			}
			lvl = m.Level()
			now := ladderLevel(50000_00-eq, m.AllowanceTotalCents(), int64(warn), int64(red))
			if eq <= m.LineCents() {
				now = LevelLockedOut
			}
			if lvl < now {
				t.Fatalf("step %d: rung %v below the rung equity is on (%v)", i, lvl, now)
			}
			s := baseSnapshot()
			s.AllowanceCents, s.AllowanceTotalCents, s.ReduceOnly = m.AllowanceCents(eq), m.AllowanceTotalCents(), m.ReduceOnly()
			s.LockedOut = m.Breached()
			in := baseEnter()
			d := g.Check(&s, &in)
			if lvl >= LevelReduceOnly && d.Allowed {
				t.Fatalf("step %d: %v, yet an entry passed", i, lvl)
			}
			if lvl >= LevelReduceOnly && d.Reason != ReduceOnly && d.Reason != LockedOut {
				t.Fatalf("step %d: %v refused as %v", i, lvl, d)
			}
			x := intent.Intent{Kind: intent.Exit}
			if d := g.Check(&s, &x); !d.Allowed {
				t.Fatalf("exit refused at %v", lvl)
			}
		}
	})
}

// TestPropertyCalendarWindowIsAScan: the binary-search lookup agrees with
// a scan of every release.
func TestPropertyCalendarWindowIsAScan(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var rs []Release
		for range rapid.IntRange(0, 30).Draw(t, "n") {
			rs = append(rs, Release{TimeNs: rapid.Int64Range(0, 1000).Draw(t, "at"), Name: "r"})
		}
		c := NewCalendar(rs)
		before, after := rapid.Int64Range(0, 50).Draw(t, "before"), rapid.Int64Range(0, 50).Draw(t, "after")
		now := rapid.Int64Range(-100, 1100).Draw(t, "now")
		i, in := c.Window(now, before, after)
		want := -1
		for k := 0; k < c.Len(); k++ {
			if r := c.Release(k); r.TimeNs-before <= now && now < r.TimeNs+after {
				want = k
				break
			}
		}
		if in != (want >= 0) || in && i != want {
			t.Fatalf("window(%d, %d, %d) = %d %v; scan %d", now, before, after, i, in, want)
		}
	})
}

// TestPropertyRulesStateRoundTrip: after any marks, session ends, resets
// and sends, an account's rules state survives JSON and a rebuild
// exactly, and the rebuilt rules fill the same snapshot.
func TestPropertyRulesStateRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawConfig(t)
		cfg.BlackoutFlatten = time.Minute
		start := et(9, 30, 0, 0)
		r, err := NewAccountRules(cfg, 50000_00, 50000_00, start, testCalendar())
		if err != nil {
			t.Fatal(err)
		}
		eq, now := int64(50000_00), start
		for range rapid.IntRange(1, 40).Draw(t, "steps") {
			now += rapid.Int64Range(0, int64(20*time.Minute)).Draw(t, "dt")
			eq += rapid.Int64Range(-300_00, 300_00).Draw(t, "move")
			switch rapid.IntRange(0, 4).Draw(t, "act") {
			case 0:
				r.SessionEnd(eq)
				r.SessionReset(eq)
			case 1:
				in := baseEnter()
				in.Qty = rapid.Int64Range(1, 5).Draw(t, "qty")
				r.Activity.RecordSent(now, &in)
			default:
				r.Mark(now, eq)
			}
		}
		b, err := json.Marshal(r.State())
		if err != nil {
			t.Fatal(err)
		}
		var st RulesState
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		r2, err := NewAccountRules(cfg, 50000_00, 50000_00, start, testCalendar())
		if err != nil {
			t.Fatal(err)
		}
		if err := r2.RestoreState(st); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r2.State(), r.State()) {
			t.Fatalf("state changed:\n%+v\n%+v", r2.State(), r.State())
		}
		var s1, s2 Snapshot
		s1.NowNs, s2.NowNs = now, now
		r.Fill(&s1, eq)
		r2.Fill(&s2, eq)
		s1.Activity, s2.Activity = nil, nil
		if !reflect.DeepEqual(s1, s2) {
			t.Fatalf("snapshots differ:\n%+v\n%+v", s1, s2)
		}
	})
}
