// rules.go: every per-account rule state in one place for the desk.
// AccountRules holds the account's drawdown ladder, trailing and weekly
// lines, scaling tier, sent-order record and blackout flattens; the desk
// marks it on the tick path, fills the gate's snapshot from it, snapshots
// and journals its RulesState, and restores it after a restart. Usage is
// what the console shows per account: how much of each limit is used and
// which rule is nearest to tripping.

package limits

import (
	"fmt"
)

// RulesState is every per-account rule's state, JSON-round-trippable: the
// desk's snapshot records carry it, and RestoreState puts an account back
// in the same state after a restart.
type RulesState struct {
	Drawdown DrawdownState  `json:"drawdown"`
	Trailing *TrailingState `json:"trailing,omitempty"`
	Weekly   *WeeklyState   `json:"weekly,omitempty"`
	Scaling  *ScalingState  `json:"scaling,omitempty"`
	Activity ActivityState  `json:"activity"`
	Blackout BlackoutState  `json:"blackout"`
}

// AccountRules is one account's rule state. Not safe for concurrent use:
// the desk's account lock guards it, as it guards the ledger.
type AccountRules struct {
	cfg      Config
	Drawdown *DrawdownMonitor
	Trailing *TrailingMonitor // nil: trailing_mode off
	Weekly   *WeeklyMonitor   // nil: weekly_loss_pct zero
	Scaling  *ScalingMonitor  // nil: no scaling_tiers
	Activity *Activity
	Blackout *BlackoutMonitor
}

// NewAccountRules starts an account's rules: the session at startCents,
// the trailing line and scaling plan from initialCents (the account's
// first balance), the week holding nowNs, blackouts from cal (nil: none).
func NewAccountRules(cfg Config, initialCents, startCents, nowNs int64, cal *Calendar) (*AccountRules, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &AccountRules{cfg: cfg, Activity: NewActivity(), Blackout: NewBlackoutMonitor(cfg, cal)}
	var err error
	if r.Drawdown, err = NewAccountDrawdown(startCents, cfg); err != nil {
		return nil, err
	}
	if r.Trailing, err = NewTrailingMonitor(cfg, initialCents); err != nil {
		return nil, err
	}
	if r.Weekly, err = NewWeeklyMonitor(cfg, nowNs, startCents); err != nil {
		return nil, err
	}
	if r.Scaling, err = NewScalingMonitor(cfg, initialCents); err != nil {
		return nil, err
	}
	return r, nil
}

// Config is the account's effective limits.
func (r *AccountRules) Config() Config { return r.cfg }

// MarkEvents is what one mark newly tripped; each flag at most once per
// rung, breach or release. A value, so marking does not allocate.
type MarkEvents struct {
	Ladder       LadderEvent // a new rung (warning, reduce-only, lockout)
	LadderNew    bool
	Trailing     Breach // the trailing line breached
	TrailingNew  bool
	Weekly       Breach // the weekly line breached
	WeeklyNew    bool
	Units        int64 // the scaling tier lost units
	UnitsChanged bool
	Flatten      Release // flatten the account ahead of this release
	FlattenDue   bool
}

// Any reports whether anything happened.
func (e MarkEvents) Any() bool {
	return e.LadderNew || e.TrailingNew || e.WeeklyNew || e.UnitsChanged || e.FlattenDue
}

// Mark runs every monitor on one mark of the account's equity (the tick
// path: no allocation).
func (r *AccountRules) Mark(nowNs, equityCents int64) MarkEvents {
	var ev MarkEvents
	ev.Ladder, ev.LadderNew = r.Drawdown.Observe(nowNs, equityCents)
	if r.Trailing != nil {
		ev.Trailing, ev.TrailingNew = r.Trailing.Mark(nowNs, equityCents)
	}
	if r.Weekly != nil {
		ev.Weekly, ev.WeeklyNew = r.Weekly.Mark(nowNs, equityCents)
	}
	if r.Scaling != nil {
		ev.Units, ev.UnitsChanged = r.Scaling.Mark(equityCents)
	}
	ev.Flatten, ev.FlattenDue = r.Blackout.FlattenDue(nowNs)
	return ev
}

// SessionEnd records the session's closing balance (before the reset):
// the end-of-day trailing line and the scaling tier move on it. It returns
// the tier's units and whether they changed.
func (r *AccountRules) SessionEnd(balanceCents int64) (int64, bool) {
	if r.Trailing != nil {
		r.Trailing.SessionEnd(balanceCents)
	}
	if r.Scaling != nil {
		return r.Scaling.SessionEnd(balanceCents)
	}
	return 0, false
}

// SessionReset starts a new session at startCents: the ladder and the
// session's counts start again; the trailing line, the week and the tier
// carry on.
func (r *AccountRules) SessionReset(startCents int64) {
	r.Drawdown.Reset(startCents)
	r.Activity.Reset()
}

// Fill writes the rules' part of the gate's snapshot (the ledger writes
// the rest: accounts.Ledger.FillSnapshot). No allocation.
func (r *AccountRules) Fill(s *Snapshot, equityCents int64) {
	s.AllowanceTotalCents = r.Drawdown.AllowanceTotalCents()
	s.ReduceOnly = r.Drawdown.ReduceOnly()
	s.TrailingAllowanceCents, s.TrailingBreached = 0, false
	if r.Trailing != nil {
		s.TrailingAllowanceCents, s.TrailingBreached = r.Trailing.AllowanceCents(equityCents), r.Trailing.Breached()
	}
	s.WeeklyAllowanceCents, s.WeeklyBreached = 0, false
	if r.Weekly != nil {
		s.WeeklyAllowanceCents, s.WeeklyBreached = r.Weekly.AllowanceCents(equityCents), r.Weekly.BreachedAt(s.NowNs)
	}
	s.TierUnits = 1
	if r.Scaling != nil {
		s.TierUnits = r.Scaling.Units()
	}
	s.Activity = r.Activity
}

// State returns every rule's state for a snapshot.
func (r *AccountRules) State() RulesState {
	st := RulesState{Drawdown: r.Drawdown.State(), Activity: r.Activity.State(), Blackout: r.Blackout.State()}
	if r.Trailing != nil {
		t := r.Trailing.State()
		st.Trailing = &t
	}
	if r.Weekly != nil {
		w := r.Weekly.State()
		st.Weekly = &w
	}
	if r.Scaling != nil {
		sc := r.Scaling.State()
		st.Scaling = &sc
	}
	return st
}

// RestoreState puts the rules back in st. A rule switched on since st was
// taken starts fresh; one switched off is dropped.
func (r *AccountRules) RestoreState(st RulesState) error {
	if err := r.Drawdown.RestoreState(st.Drawdown); err != nil {
		return err
	}
	if r.Trailing != nil && st.Trailing != nil {
		if st.Trailing.Mode != r.Trailing.Mode() {
			return fmt.Errorf("limits: restore trailing: state is %s, config says %s", st.Trailing.Mode, r.Trailing.Mode())
		}
		if err := r.Trailing.RestoreState(*st.Trailing); err != nil {
			return err
		}
	}
	if r.Weekly != nil && st.Weekly != nil {
		if err := r.Weekly.RestoreState(*st.Weekly); err != nil {
			return err
		}
	}
	if r.Scaling != nil && st.Scaling != nil {
		if err := r.Scaling.RestoreState(*st.Scaling); err != nil {
			return err
		}
	}
	a, err := RestoreActivity(st.Activity)
	if err != nil {
		return err
	}
	r.Activity = a
	return r.Blackout.RestoreState(st.Blackout)
}

// Usage is how much of each limit an account has used, for the console
// (sorted by NearestBP, the account nearest a limit on top). Money in
// cents; a rule that is off has zero limits.
type Usage struct {
	Level               Level  `json:"level"`
	AllowanceUsedCents  int64  `json:"allowance_used_cents"` // start − equity (negative: up on the day)
	AllowanceCents      int64  `json:"allowance_cents"`      // start − lockout line
	TrailingLineCents   int64  `json:"trailing_line_cents,omitempty"`
	TrailingLeftCents   int64  `json:"trailing_left_cents,omitempty"` // equity − trailing line
	WeeklyLineCents     int64  `json:"weekly_line_cents,omitempty"`
	TradesToday         int64  `json:"trades_today"`
	TradeLimit          int64  `json:"trade_limit"`
	OrdersToday         int64  `json:"orders_today"`
	OrderLimit          int64  `json:"order_limit"`
	TierUnits           int64  `json:"tier_units,omitempty"`
	TierMaxPosition     int64  `json:"tier_max_position,omitempty"`
	CooldownUntilNs     int64  `json:"cooldown_until_ns,omitempty"`
	NearestRule         Reason `json:"nearest_rule"`
	NearestBP           int64  `json:"nearest_bp"` // basis points of that rule's threshold used; 10000 = at it
	PositionQty         int64  `json:"position_qty"`
	MaxPositionNow      int64  `json:"max_position_now"`
	NextReleaseNs       int64  `json:"next_release_ns,omitempty"`
	NextReleaseName     string `json:"next_release,omitempty"`
	BlackoutWindowStart int64  `json:"blackout_from_ns,omitempty"`
}

func bp(used, limit int64) int64 {
	if limit <= 0 {
		return 0
	}
	if used <= 0 {
		return 0
	}
	return used * 10000 / limit
}

// Usage computes the account's usage from s (filled by the ledger and
// Fill) and the gate g that judges it.
func (r *AccountRules) Usage(g *Gate, s *Snapshot, equityCents int64) Usage {
	c := g.Config()
	u := Usage{Level: r.Drawdown.Level(), AllowanceCents: r.Drawdown.AllowanceTotalCents(),
		AllowanceUsedCents: r.Drawdown.StartCents() - equityCents, TradesToday: s.TradesToday, TradeLimit: int64(c.DailyTradeLimit),
		OrdersToday: r.Activity.OrdersToday(), OrderLimit: int64(c.DailyOrderLimit), PositionQty: s.PositionQty,
		MaxPositionNow: g.MaxPositionNow(s), CooldownUntilNs: g.CooldownUntil(s)}
	if u.CooldownUntilNs <= s.NowNs {
		u.CooldownUntilNs = 0
	}
	consider := func(rule Reason, b int64) {
		if b > u.NearestBP || u.NearestRule == OK {
			u.NearestRule, u.NearestBP = rule, b
		}
	}
	consider(ReduceOnly, bp(u.AllowanceUsedCents, u.AllowanceCents*int64(c.ReduceOnlyPct)/100))
	if r.Trailing != nil {
		u.TrailingLineCents = r.Trailing.LineCents()
		u.TrailingLeftCents = equityCents - r.Trailing.LineCents()
		amount := cents(c.TrailingDrawdown)
		consider(TrailingDrawdown, bp(amount-u.TrailingLeftCents, amount))
	}
	if r.Weekly != nil {
		u.WeeklyLineCents = r.Weekly.LineCents()
		consider(WeeklyLoss, bp(r.Weekly.StartCents()-equityCents, r.Weekly.StartCents()-r.Weekly.LineCents()))
	}
	if r.Scaling != nil {
		u.TierUnits, u.TierMaxPosition = r.Scaling.Units(), r.Scaling.MaxPosition()
	}
	consider(DailyTradeLimit, bp(u.TradesToday, u.TradeLimit))
	consider(DailyOrderLimit, bp(u.OrdersToday, u.OrderLimit))
	consider(LossStreakCooldown, bp(s.LossStreak, int64(c.LossStreak)))
	consider(MaxPosition, bp(abs(s.PositionQty), u.MaxPositionNow))
	if rel, ok := g.Calendar().Next(s.NowNs - int64(c.BlackoutAfter)); ok {
		u.NextReleaseNs, u.NextReleaseName = rel.TimeNs, rel.Name
		u.BlackoutWindowStart = rel.TimeNs - int64(c.BlackoutBefore)
	}
	return u
}
