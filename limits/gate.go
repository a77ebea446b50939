// gate.go: the risk gate. Gate.Check judges one intent against one
// account snapshot: pure, integer arithmetic in ticks and cents, no
// allocation on the accept path (see BenchmarkGateAccept).

package limits

import (
	"fmt"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

// Reason is why the gate refused an intent. The values are stable strings
// for the journal, the console and reports.
type Reason string

const (
	OK                     Reason = ""
	NoBracket              Reason = "no_bracket"                // entry/add without a stop and a target on the profit side
	StopWrongSide          Reason = "stop_wrong_side"           // stop not on the loss side of the entry / moved through the market
	StopWidened            Reason = "stop_widened"              // a stop moved away from the market
	StopCancelOpenPosition Reason = "stop_cancel_open_position" // cancel of a protective stop while its position is open
	AveragingDown          Reason = "averaging_down"            // add while not in profit ≥ 1 tick, or at a price worse than the average
	LossBound              Reason = "loss_bound"                // worst case to the stop exceeds the day's remaining allowance
	MaxOrderQty            Reason = "max_order_qty"
	MaxPosition            Reason = "max_position"
	PriceBand              Reason = "price_band"     // entry too far from the last trade
	OffTick                Reason = "off_tick"       // a price that is missing or not a positive MES tick
	RateLimited            Reason = "rate_limited"   // orders per second / per minute
	OutsideWindow          Reason = "outside_window" // before the strategy's window or after 15:45 ET
	LockedOut              Reason = "locked_out"     // drawdown lockout
	Halted                 Reason = "halted"         // account or desk halted
	StaleData              Reason = "stale_data"     // the last trade is older than MaxDataAge (the feed is stale)
	Invalid                Reason = "invalid"        // malformed intent (qty ≤ 0, no side, unknown order, enter against a position)

	ReduceOnly         Reason = "reduce_only"          // reduce_only_pct of the day's allowance used (account or desk)
	TrailingDrawdown   Reason = "trailing_drawdown"    // trailing line breached, or the worst case would reach it
	WeeklyLoss         Reason = "weekly_loss"          // weekly line breached, or the worst case would reach it
	DailyTradeLimit    Reason = "daily_trade_limit"    // flat-to-flat trades this session at the cap
	DailyOrderLimit    Reason = "daily_order_limit"    // intents sent this session at the cap
	LossStreakCooldown Reason = "loss_streak_cooldown" // loss_streak losing trades in a row, inside loss_cooldown
	DuplicateOrder     Reason = "duplicate_order"      // same side, quantity, type and price sent within duplicate_window
	NoReferencePrice   Reason = "no_reference_price"   // the price band has no trade to measure from, or it is too old
	SelfMatch          Reason = "self_match"           // could trade against a working order of another sub-account
	NewsBlackout       Reason = "news_blackout"        // inside the blackout of a scheduled release
	ScalingPlan        Reason = "scaling_plan"         // |position| + working entries + order over the tier's max
	DeskLockedOut      Reason = "desk_locked_out"      // the desk-wide drawdown lockout: until the session reset or the manager's unlock of the desk
)

// Reasons lists every reject reason, for tables and metrics.
func Reasons() []Reason {
	return []Reason{NoBracket, StopWrongSide, StopWidened, StopCancelOpenPosition, AveragingDown, LossBound,
		MaxOrderQty, MaxPosition, PriceBand, OffTick, RateLimited, OutsideWindow, LockedOut, Halted, StaleData, Invalid,
		ReduceOnly, TrailingDrawdown, WeeklyLoss, DailyTradeLimit, DailyOrderLimit, LossStreakCooldown, DuplicateOrder,
		NoReferencePrice, SelfMatch, NewsBlackout, ScalingPlan, DeskLockedOut}
}

// Role is a working order's place in a bracket.
type Role uint8

const (
	RoleOther  Role = iota
	RoleEntry       // an entry (or add) not yet (fully) filled
	RoleStop        // a protective stop-market exit
	RoleTarget      // a take-profit limit exit
)

// WorkingOrder is one order working at the venue, as the gate needs it. The
// caller owns the slice and reuses it between checks.
type WorkingOrder struct {
	ClientID string
	Role     Role
	Side     market.Side
	Qty      int64            // remaining (unfilled) quantity
	Type     market.OrderType // entries: how they execute; stops are StopOrder
	Price    market.Price     // the price that matters: limit, or a stop's trigger (stop-limit: its limit)
}

// Snapshot is the account as the gate sees it: plain integers, filled by the
// caller (accounts.Ledger.FillSnapshot does the ledger part) and reused.
type Snapshot struct {
	NowNs       int64        // market time of the check, ns UTC
	LastPrice   market.Price // last trade (the mark); ≤ 0 = no trade yet
	LastTimeNs  int64        // time of the last trade, ns UTC
	PositionQty int64        // signed: long > 0
	CostTicks   int64        // Σ signed qty × price of the open lots; exact average = CostTicks/PositionQty
	// AllowanceCents is what is left of the day's drawdown allowance:
	// equity − lockout line, in cents (≤ 0 means nothing is left).
	AllowanceCents int64
	FeesRTCents    int64          // the account's fees per contract per round turn, in cents
	Orders         []WorkingOrder // working orders (entries, stops, targets); caller-owned
	LockedOut      bool           // account in locked_out
	Halted         bool           // account halting or halted (or any state that takes no new risk)
	DeskHalted     bool           // desk halting/halted or degraded
	DeskLockedOut  bool           // the desk past its desk-wide drawdown line (sticky until reset or unlock)
	Rate           *RateLimiter   // the account's order rate; nil = not limited

	// The ladder: the whole day's allowance (start − lockout line; the
	// ledger fills it from the monitor, ≤ 0 = unknown) and the sticky
	// reduce-only rungs of the account and of the desk.
	AllowanceTotalCents int64
	ReduceOnly          bool
	DeskReduceOnly      bool
	// Trailing and weekly lines (read only when the rule is on): what
	// equity may still lose before each, and whether it was breached.
	TrailingAllowanceCents int64
	TrailingBreached       bool
	WeeklyAllowanceCents   int64
	WeeklyBreached         bool
	// Ledger facts: flat-to-flat trades closed this session, losing trades
	// in a row, and when the latest losing one closed (ns).
	TradesToday int64
	LossStreak  int64
	LastLossNs  int64
	// TierUnits is the scaling plan's tier (plan on; < 1 counts as 1).
	TierUnits int64
	// Activity is what the account sent this session (daily_order_limit,
	// duplicate_order); nil = not tracked.
	Activity *Activity
	// Others are the working orders of the desk's other sub-accounts
	// (self_match); caller-owned and reused.
	Others []WorkingOrder
}

// Decision is the gate's answer. Detail is a constant phrase and Got/Limit
// the numbers behind a refusal (cents, ticks, contracts or minutes), so a
// refusal does not allocate either; String formats it for the journal.
type Decision struct {
	Allowed bool
	Reason  Reason
	Detail  string
	Got     int64
	Limit   int64
}

var allow = Decision{Allowed: true}

// maxPrice bounds every price the gate does arithmetic on: 2^32 ticks is
// about a billion index points, and (2^32 + slippage) × max qty × 125 cents
// stays far inside int64 for any sane max_order_qty.
const maxPrice = market.Price(1) << 32

func reject(r Reason, detail string, got, limit int64) Decision {
	return Decision{Reason: r, Detail: detail, Got: got, Limit: limit}
}

func (d Decision) String() string {
	if d.Allowed {
		return "allowed"
	}
	return fmt.Sprintf("%s: %s (got %d, limit %d)", d.Reason, d.Detail, d.Got, d.Limit)
}

// Gate checks intents against one account's limits. It is immutable after
// NewGate and safe for concurrent use.
type Gate struct {
	cfg       Config
	maxAge    int64
	refAge    int64
	cooldown  int64
	dupWindow int64
	before    int64
	after     int64
	trailing  bool
	weekly    bool
	scaling   bool
	selfMatch bool
	cal       *Calendar
	windows   []namedWindow // cfg.Windows as a slice: a scan of a few strings beats hashing one
}

type namedWindow struct {
	name string
	w    Window
}

// NewGate validates cfg (after defaults) and returns a gate.
func NewGate(cfg Config) (*Gate, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Gate{cfg: cfg, maxAge: int64(cfg.MaxDataAge), refAge: int64(cfg.ReferenceMaxAge), cooldown: int64(cfg.LossCooldown),
		dupWindow: int64(cfg.DuplicateWindow), before: int64(cfg.BlackoutBefore), after: int64(cfg.BlackoutAfter),
		trailing: cfg.TrailingMode != TrailingOff, weekly: !cfg.WeeklyLossPct.IsZero(), scaling: len(cfg.ScalingTiers) > 0,
		selfMatch: cfg.SelfMatch == SelfMatchOn}
	for name, w := range cfg.Windows {
		g.windows = append(g.windows, namedWindow{name, w})
	}
	return g, nil
}

// window returns the strategy's own entry window, if it has one.
func (g *Gate) window(strategy string) (Window, bool) {
	for i := range g.windows {
		if g.windows[i].name == strategy {
			return g.windows[i].w, true
		}
	}
	return Window{}, false
}

// WithCalendar returns a copy of the gate that refuses entries inside the
// blackout of cal's releases (nil: none).
func (g *Gate) WithCalendar(cal *Calendar) *Gate {
	c := *g
	c.cal = cal
	return &c
}

// Calendar is the gate's news calendar (nil: none).
func (g *Gate) Calendar() *Calendar { return g.cal }

// Config returns the effective limits (defaults applied).
func (g *Gate) Config() Config { return g.cfg }

// CooldownUntil is when the loss-streak cooldown in s ends (0: none).
func (g *Gate) CooldownUntil(s *Snapshot) int64 {
	if s.LossStreak < int64(g.cfg.LossStreak) || s.LastLossNs == 0 {
		return 0
	}
	return s.LastLossNs + g.cooldown
}

// MaxPositionNow is the position limit that applies to s: max_position,
// or the scaling plan's tier when that is lower.
func (g *Gate) MaxPositionNow(s *Snapshot) int64 {
	m := g.cfg.MaxPosition
	if g.scaling {
		m = min(m, max(s.TierUnits, 1)*g.cfg.ScalingUnit)
	}
	return m
}

// NewRateLimiter makes the rate limiter for one account under this gate's
// limits.
func (g *Gate) NewRateLimiter() *RateLimiter {
	return NewRateLimiter(g.cfg.OrdersPerSecond, g.cfg.OrdersPerMinute)
}

// Check judges in against s. It never modifies either; the caller records
// an accepted risk-adding order with s.Rate.Record(s.NowNs), and every
// intent it sends with s.Activity.RecordSent, when it is sent.
//
// Exit is always allowed; Cancel unless it cancels a protective stop while
// the position is open; MoveStop unless it widens a stop or moves it through
// the market. Every other rule — halts, lockouts, the ladder, the trailing
// and weekly lines, stale data, windows, blackouts, cooldowns, caps,
// duplicates, tiers, self-match, rates — refuses only Enter and Add:
// nothing that reduces risk is ever blocked by them.
func (g *Gate) Check(s *Snapshot, in *intent.Intent) Decision {
	switch in.Kind {
	case intent.Exit:
		return allow
	case intent.Cancel:
		return g.checkCancel(s, in)
	case intent.MoveStop:
		return g.checkMoveStop(s, in)
	case intent.Enter, intent.Add:
		return g.checkEntry(s, in)
	}
	return reject(Invalid, "unknown intent kind", int64(in.Kind), 0)
}

func (g *Gate) checkCancel(s *Snapshot, in *intent.Intent) Decision {
	o := findOrder(s.Orders, in.Ref)
	if o == nil {
		return allow // nothing to cancel; the broker reports an unknown order
	}
	if o.Role == RoleStop && s.PositionQty != 0 && o.Side.Sign()*s.PositionQty < 0 {
		return reject(StopCancelOpenPosition, "cancel of the protective stop of an open position", s.PositionQty, 0)
	}
	return allow
}

func (g *Gate) checkMoveStop(s *Snapshot, in *intent.Intent) Decision {
	o := findOrder(s.Orders, in.Ref)
	if o == nil || o.Role != RoleStop {
		return reject(Invalid, "move_stop names no working stop", 0, 0)
	}
	if in.Stop <= 0 {
		return reject(OffTick, "stop price missing or not positive", int64(in.Stop), 1)
	}
	// A sell stop protects a long: tighter is higher, and it must stay
	// below the last trade. A buy stop protects a short: mirror.
	if o.Side == market.Sell {
		if in.Stop < o.Price {
			return reject(StopWidened, "sell stop moved down, away from the market", int64(in.Stop), int64(o.Price))
		}
		if s.LastPrice > 0 && in.Stop >= s.LastPrice {
			return reject(StopWrongSide, "sell stop at or above the last trade", int64(in.Stop), int64(s.LastPrice)-1)
		}
		return allow
	}
	if in.Stop > o.Price {
		return reject(StopWidened, "buy stop moved up, away from the market", int64(in.Stop), int64(o.Price))
	}
	if s.LastPrice > 0 && in.Stop <= s.LastPrice {
		return reject(StopWrongSide, "buy stop at or below the last trade", int64(in.Stop), int64(s.LastPrice)+1)
	}
	return allow
}

func (g *Gate) checkEntry(s *Snapshot, in *intent.Intent) Decision {
	c := &g.cfg
	sign := in.Side.Sign()
	if sign == 0 {
		return reject(Invalid, "entry without a side", 0, 0)
	}
	if in.Qty <= 0 {
		return reject(Invalid, "quantity not positive", in.Qty, 1)
	}
	// Account and desk state first: a halt or lockout refuses all new risk.
	if s.DeskLockedOut {
		return reject(DeskLockedOut, "desk locked out (desk-wide drawdown)", 0, 0)
	}
	if s.DeskHalted {
		return reject(Halted, "desk halted", 0, 0)
	}
	if s.LockedOut {
		return reject(LockedOut, "account locked out (drawdown)", 0, 0)
	}
	if s.Halted {
		return reject(Halted, "account halted", 0, 0)
	}
	if g.trailing && s.TrailingBreached {
		return reject(TrailingDrawdown, "trailing line breached: locked until the risk manager resets it", 0, 0)
	}
	if g.weekly && s.WeeklyBreached {
		return reject(WeeklyLoss, "weekly loss line breached: locked until the next week or an unlock", 0, 0)
	}
	// The ladder: reduce-only is sticky in the monitors, and also read off
	// the allowance here so a check between two marks sees it.
	if s.DeskReduceOnly {
		return reject(ReduceOnly, "desk reduce-only: no entries or adds", 0, 0)
	}
	if tot := s.AllowanceTotalCents; s.ReduceOnly || tot > 0 && (tot-s.AllowanceCents)*100 >= int64(c.ReduceOnlyPct)*tot {
		return reject(ReduceOnly, "account reduce-only: allowance used (cents)", s.AllowanceTotalCents-s.AllowanceCents,
			s.AllowanceTotalCents*int64(c.ReduceOnlyPct)/100)
	}
	// The price band's reference fails closed.
	last := s.LastPrice
	if last <= 0 {
		return reject(NoReferencePrice, "no trade seen yet: nothing to measure the price band from", 0, 0)
	}
	if g.maxAge > 0 && s.NowNs-s.LastTimeNs > g.maxAge {
		return reject(StaleData, "last trade older than max_data_age (ns)", s.NowNs-s.LastTimeNs, g.maxAge)
	}
	// Trading window, New York wall clock, to the nanosecond.
	from, until := c.EntriesFromMin, c.EntriesUntilMin
	if w, ok := g.window(in.Strategy); ok {
		from, until = max(from, w.From), min(until, w.Until)
	}
	nsOfDay := nsOfDayET(s.NowNs)
	const minute = int64(time.Minute)
	if nsOfDay < int64(from)*minute {
		return reject(OutsideWindow, "before the entry window (minute ET)", nsOfDay/minute, int64(from))
	}
	if nsOfDay >= int64(until)*minute {
		return reject(OutsideWindow, "at or after the entry cut-off (minute ET)", nsOfDay/minute, int64(until))
	}
	if s.NowNs-s.LastTimeNs > g.refAge {
		return reject(NoReferencePrice, "the price band's reference trade is older than reference_max_age (ns)", s.NowNs-s.LastTimeNs, g.refAge)
	}
	if i, hit := g.cal.Window(s.NowNs, g.before, g.after); hit {
		return reject(NewsBlackout, "inside a scheduled release's blackout (seconds to the release)", (g.cal.at[i]-s.NowNs)/int64(time.Second),
			g.before/int64(time.Second))
	}
	if until := g.CooldownUntil(s); s.NowNs < until {
		return reject(LossStreakCooldown, "losing trades in a row: cooling down (seconds left)", (until-s.NowNs+int64(time.Second)-1)/int64(time.Second),
			g.cooldown/int64(time.Second))
	}
	if s.PositionQty == 0 && s.TradesToday >= int64(c.DailyTradeLimit) {
		return reject(DailyTradeLimit, "trades this session at daily_trade_limit", s.TradesToday, int64(c.DailyTradeLimit))
	}
	if s.Activity != nil && s.Activity.OrdersToday() >= int64(c.DailyOrderLimit) {
		return reject(DailyOrderLimit, "orders sent this session at daily_order_limit", s.Activity.OrdersToday(), int64(c.DailyOrderLimit))
	}
	if in.Qty > c.MaxOrderQty {
		return reject(MaxOrderQty, "order quantity over max_order_qty", in.Qty, c.MaxOrderQty)
	}
	// The bracket.
	if in.Stop == 0 {
		return reject(NoBracket, "no protective stop", 0, 0)
	}
	if in.Target == 0 {
		return reject(NoBracket, "no target", 0, 0)
	}
	var e market.Price // the worst price the entry can fill at, as the gate assumes it
	switch in.EntryType {
	case market.MarketOrder:
		e = last
	case market.LimitOrder, market.StopOrder:
		if in.Entry <= 0 {
			return reject(OffTick, "entry price missing or not positive", int64(in.Entry), 1)
		}
		e = in.Entry
	case market.StopLimitOrder:
		if in.Entry <= 0 || in.Limit <= 0 {
			return reject(OffTick, "stop-limit trigger or limit missing or not positive", int64(min(in.Entry, in.Limit)), 1)
		}
		if (in.Limit-in.Entry)*market.Price(sign) < 0 {
			return reject(Invalid, "stop-limit limit on the wrong side of its trigger", int64(in.Limit), int64(in.Entry))
		}
		e = in.Limit
	default:
		return reject(Invalid, "unknown entry order type", int64(in.EntryType), 0)
	}
	if in.Stop < 0 || in.Target < 0 {
		return reject(OffTick, "stop or target not a positive price", int64(min(in.Stop, in.Target)), 1)
	}
	if e >= maxPrice || in.Stop >= maxPrice || in.Target >= maxPrice || last >= maxPrice {
		// Far beyond any index level; also keeps the cent arithmetic below
		// from overflowing.
		return reject(OffTick, "price out of range (ticks)", int64(max(e, in.Stop, in.Target, last)), int64(maxPrice)-1)
	}
	if int64(e-in.Stop)*sign <= 0 {
		return reject(StopWrongSide, "stop not on the loss side of the entry", int64(in.Stop), int64(e))
	}
	if int64(in.Target-e)*sign <= 0 {
		return reject(NoBracket, "target not on the profit side of the entry", int64(in.Target), int64(e))
	}
	if d := abs(int64(e - last)); d > c.PriceBandTicks {
		return reject(PriceBand, "entry too far from the last trade (ticks)", d, c.PriceBandTicks)
	}
	// Adding to a position (invariant 3).
	pos := s.PositionQty
	risk := int64(0) // cents
	slip := c.SlippageTicks
	if pos != 0 {
		if pos*sign < 0 {
			return reject(Invalid, "entry against the open position: exit first", pos, 0)
		}
		// An add must be marketable now: market, or a limit at or through the
		// last trade. A resting add (a limit on a pullback, a stop beyond the
		// market) could fill after the position turned or after a partial
		// close moved its average.
		if in.EntryType != market.MarketOrder && !(in.EntryType == market.LimitOrder && int64(in.Entry-last)*sign >= 0) {
			return reject(AveragingDown, "an add must be marketable (market, or a limit at or through the last trade)", int64(e), int64(last))
		}
		q, cost := abs(pos), abs(s.CostTicks)
		if sign > 0 { // long: mark − avg ≥ 1 tick ⇔ last·q − cost ≥ q
			if int64(last)*q-cost < q {
				return reject(AveragingDown, "long not in profit by ≥ 1 tick (mark·qty − cost, tick·contracts)", int64(last)*q-cost, q)
			}
			if int64(e)*q < cost {
				return reject(AveragingDown, "add below the long's average entry (price·qty − cost)", int64(e)*q-cost, 0)
			}
		} else { // short: avg − mark ≥ 1 tick ⇔ cost − last·q ≥ q
			if cost-int64(last)*q < q {
				return reject(AveragingDown, "short not in profit by ≥ 1 tick (cost − mark·qty, tick·contracts)", cost-int64(last)*q, q)
			}
			if int64(e)*q > cost {
				return reject(AveragingDown, "add above the short's average entry (price·qty − cost)", int64(e)*q-cost, 0)
			}
		}
		// After the add one stop covers the whole position: count the open
		// quantity from the mark to the farthest of its stops and the new one.
		far := abs(int64(last - in.Stop))
		for i := range s.Orders {
			o := &s.Orders[i]
			if o.Role == RoleStop && o.Side.Sign()*pos < 0 {
				far = max(far, abs(int64(last-o.Price)))
			}
		}
		// Closing the open quantity costs its exit-side fee (the ledger
		// charged the entry side, RT/2 rounded down, when it opened).
		risk += (far+slip)*q*market.TickCents + (s.FeesRTCents-s.FeesRTCents/2)*q
	} else if in.Kind == intent.Add {
		return reject(Invalid, "add with no position", 0, 0)
	}
	if s.Activity != nil {
		if age, dup := s.Activity.Duplicate(s.NowNs, g.dupWindow, in); dup {
			return reject(DuplicateOrder, "the same entry was sent within duplicate_window (ns ago)", age, g.dupWindow)
		}
	}
	// One working entry at a time: a second one on the same side could fill
	// after the position turned (or below the average the first one made),
	// and one on the other side would reduce or reverse what this one opens
	// and arm a bracket for the wrong side.
	for i := range s.Orders {
		o := &s.Orders[i]
		if o.Role != RoleEntry || o.Qty <= 0 {
			continue
		}
		if o.Side != in.Side {
			return reject(Invalid, "an entry on the other side is working: cancel it first", o.Qty, 0)
		}
		return reject(AveragingDown, "another entry on this side is working: it could fill while the position loses", o.Qty, 0)
	}
	// Exposure if every working order that could add on this side filled:
	// entries, and orders of unknown role (found at the venue).
	after := pos*sign + in.Qty
	for i := range s.Orders {
		o := &s.Orders[i]
		if (o.Role == RoleEntry || o.Role == RoleOther) && o.Side == in.Side && o.Qty > 0 {
			after += o.Qty
		}
	}
	if after > c.MaxPosition {
		return reject(MaxPosition, "|position| + working entries + order over max_position", after, c.MaxPosition)
	}
	if tier := g.MaxPositionNow(s); after > tier {
		return reject(ScalingPlan, "|position| + working entries + order over the scaling tier's max", after, tier)
	}
	risk += (abs(int64(e-in.Stop))+slip)*in.Qty*market.TickCents + s.FeesRTCents*in.Qty
	if risk > s.AllowanceCents {
		return reject(LossBound, "worst case to the stop + slippage + fees over the remaining allowance (cents)", risk, s.AllowanceCents)
	}
	if g.trailing && risk > s.TrailingAllowanceCents {
		return reject(TrailingDrawdown, "worst case to the stop over what is left above the trailing line (cents)", risk, s.TrailingAllowanceCents)
	}
	if g.weekly && risk > s.WeeklyAllowanceCents {
		return reject(WeeklyLoss, "worst case to the stop over what is left of the week's allowance (cents)", risk, s.WeeklyAllowanceCents)
	}
	if g.selfMatch && len(s.Others) > 0 {
		if theirs, ours, hit := selfMatch(s.Others, in.Side, in.EntryType, in.Entry, in.Limit, in.Stop, in.Target, last, slip); hit {
			return reject(SelfMatch, "could trade against another sub-account's working order (their price, ours)", int64(theirs), int64(ours))
		}
	}
	if s.Rate != nil {
		if n, lim, ok := s.Rate.Allow(s.NowNs); !ok {
			return reject(RateLimited, "risk-adding orders in the rolling window", int64(n), int64(lim))
		}
	}
	return allow
}

func findOrder(orders []WorkingOrder, id string) *WorkingOrder {
	if id == "" {
		return nil
	}
	for i := range orders {
		if orders[i].ClientID == id {
			return &orders[i]
		}
	}
	return nil
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// nsOfDayET returns nanoseconds since midnight New York (no allocation).
func nsOfDayET(ns int64) int64 {
	t := time.Unix(0, ns).In(market.NewYork)
	h, m, sec := t.Clock()
	return (int64(h)*3600+int64(m)*60+int64(sec))*int64(time.Second) + int64(t.Nanosecond())
}
