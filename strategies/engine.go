// engine.go: the Engine interface, fills and order outcomes reported back
// to engines, the HM (New York wall clock) config type, and the position
// book every engine keeps (working entry, position, add-on units).

package strategies

import (
	"fmt"
	"math"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

// Engine is one strategy. A Runner calls Attach once, then, per session,
// OnSessionStart, and for each trade OnBar (for each bar the trade closed:
// the 1-minute bar first, then the 5-minute bar) followed by OnTrade.
// OnFill and OnOrderDone report what happened to the engine's orders.
// Engines emit intents only through the emit function given to Attach.
// Every method is called from one goroutine.
type Engine interface {
	Name() string
	Attach(ind *Indicators, emit func(intent.Intent))
	OnSessionStart(s market.Session)
	OnTrade(t market.Trade)
	OnBar(b market.Bar)
	OnFill(f Fill)
	OnOrderDone(clientID string, filled bool)
}

// Fill is an execution of one of the engine's orders (entry, add, stop or
// target): Side is the order's side, Qty > 0 contracts at Price.
type Fill struct {
	ClientID string
	Side     market.Side
	Qty      int64
	Price    market.Price
	Time     int64 // ns UTC
}

// HM is a New York wall-clock time of day in minutes after midnight. In
// TOML it is written "HH:MM".
type HM int

// ParseHM parses "HH:MM".
func ParseHM(s string) (HM, error) {
	bad := fmt.Errorf("strategies: time of day %q: want HH:MM", s)
	if len(s) != 5 || s[2] != ':' {
		return 0, bad
	}
	d := [4]int{}
	for i, j := range [4]int{0, 1, 3, 4} {
		c := s[j]
		if c < '0' || c > '9' {
			return 0, bad
		}
		d[i] = int(c - '0')
	}
	h, m := d[0]*10+d[1], d[2]*10+d[3]
	if h > 23 || m > 59 {
		return 0, bad
	}
	return HM(h*60 + m), nil
}

func (h HM) String() string { return fmt.Sprintf("%02d:%02d", int(h)/60, int(h)%60) }

// MarshalText writes "HH:MM".
func (h HM) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads "HH:MM".
func (h *HM) UnmarshalText(b []byte) error {
	v, err := ParseHM(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// Scale is the sizing every engine shares: a starter unit and, only when
// AddMax > 0, add-on units placed while the position is in profit.
//
// An add-on is a limit order for AddQty at the position's average entry
// (rounded to the position's favour: down for a long, up for a short, so it
// is never worse than the average), proposed once the last trade is at
// least AddAfterTicks in the position's favour, with the position's stop
// and target, cancelled after AddExpireMin minutes. At most one add-on works
// at a time, at most AddMax per position.
type Scale struct {
	Qty           int64 `toml:"qty"`             // starter unit, contracts
	AddMax        int   `toml:"add_max"`         // add-on units per position; 0 = never add
	AddQty        int64 `toml:"add_qty"`         // contracts per add-on unit
	AddAfterTicks int64 `toml:"add_after_ticks"` // profit needed before an add-on, ticks
	AddExpireMin  int   `toml:"add_expire_min"`  // an unfilled add-on is cancelled after this, minutes
}

// DefaultScale is a 5-contract starter unit and no add-ons.
func DefaultScale() Scale {
	return Scale{Qty: 5, AddMax: 0, AddQty: 5, AddAfterTicks: 4, AddExpireMin: 5}
}

func (s Scale) validate(name string) error {
	switch {
	case s.Qty <= 0:
		return fmt.Errorf("strategies: %s.qty = %d: must be > 0", name, s.Qty)
	case s.AddMax < 0:
		return fmt.Errorf("strategies: %s.add_max = %d: must be ≥ 0", name, s.AddMax)
	case s.AddMax > 0 && (s.AddQty <= 0 || s.AddAfterTicks < 1 || s.AddExpireMin < 1):
		return fmt.Errorf("strategies: %s: add_qty, add_after_ticks and add_expire_min must be ≥ 1 when add_max > 0", name)
	}
	return nil
}

// book is an engine's view of its own orders and position, built from the
// intents it emitted and the fills and outcomes reported back. With no
// venue (signals), a working entry ends when its expiry passes.
type book struct {
	working      bool // an entry is working
	workingQty   int64
	workingUntil int64
	addWorking   bool
	addQty       int64
	addUntil     int64
	pos          int64 // signed contracts
	cost         int64 // Σ qty × price (ticks) of the open position
	stop, target market.Price
	adds         int
}

// canEnter reports whether a new entry may be proposed.
func (b *book) canEnter() bool { return b.pos == 0 && !b.working && !b.addWorking }

func (b *book) entered(in *intent.Intent) {
	b.working, b.workingQty, b.workingUntil = true, in.Qty, in.Time+in.ExpireNs
	b.stop, b.target = in.Stop, in.Target
}

// tick expires working orders whose time has passed.
func (b *book) tick(now int64) {
	if b.working && b.workingUntil > 0 && now >= b.workingUntil {
		b.working = false
	}
	if b.addWorking && b.addUntil > 0 && now >= b.addUntil {
		b.addWorking = false
	}
}

func (b *book) fill(f Fill) {
	if f.Qty <= 0 || f.Side == market.Unknown {
		return
	}
	signed := f.Side.Sign() * f.Qty
	if b.pos == 0 || (b.pos > 0) == (signed > 0) {
		b.pos += signed
		b.cost += f.Qty * int64(f.Price)
		switch {
		case b.working:
			b.workingQty -= f.Qty
			if b.workingQty <= 0 {
				b.working = false
			}
		case b.addWorking:
			b.addQty -= f.Qty
			if b.addQty <= 0 {
				b.addWorking = false
			}
			b.adds++
		}
		return
	}
	// reducing (stop, target or exit)
	avg := float64(b.cost) / float64(abs64(b.pos))
	b.pos += signed
	if b.pos == 0 || (b.pos > 0) != (b.pos-signed > 0) {
		// flat (a reversal through zero is treated as flat: engines never reverse)
		*b = book{}
		return
	}
	b.cost = int64(math.Round(avg * float64(abs64(b.pos))))
}

func (b *book) done(filled bool) {
	// The engine has at most one entry and one add-on working; an outcome
	// closes the add-on first if one works (it is the most recent order).
	if b.addWorking {
		b.addWorking = false
		return
	}
	b.working = false
}

// addOn proposes an add-on unit when the scale config allows it and the
// position is in profit; it returns false otherwise.
func (b *book) addOn(sc Scale, strategy string, t market.Trade, emit func(intent.Intent)) bool {
	if sc.AddMax <= 0 || b.adds >= sc.AddMax || b.pos == 0 || b.working || b.addWorking {
		return false
	}
	n := abs64(b.pos)
	side := market.Buy
	if b.pos < 0 {
		side = market.Sell
	}
	// in profit by AddAfterTicks: (price − avg) × side ≥ AddAfterTicks, all in integers
	if (int64(t.Price)*n-b.cost)*side.Sign() < sc.AddAfterTicks*n {
		return false
	}
	var px market.Price
	if side == market.Buy {
		px = market.Price(floorDiv(b.cost, n))
		if b.stop >= px || b.target <= px {
			return false
		}
	} else {
		px = market.Price(-floorDiv(-b.cost, n))
		if b.stop <= px || b.target >= px {
			return false
		}
	}
	in := intent.Intent{
		Kind: intent.Add, Strategy: strategy, Time: t.Time, Side: side, Qty: sc.AddQty,
		EntryType: market.LimitOrder, Entry: px, Stop: b.stop, Target: b.target,
		ExpireNs: int64(sc.AddExpireMin) * int64(time.Minute),
		Reason: fmt.Sprintf("%s.add: %d in profit, last %s, limit at avg entry %s, add %d of %d",
			strategy, n, t.Price, px, b.adds+1, sc.AddMax),
	}
	b.addWorking, b.addQty, b.addUntil = true, sc.AddQty, t.Time+in.ExpireNs
	emit(in)
	return true
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Validate checks that an intent is well formed as engines must emit it:
// a known kind, a strategy and a reason; for Enter and Add a side, Qty > 0,
// an entry price, the stop on the loss side and the target on the profit
// side of the entry (and of a stop-limit's limit).
func Validate(in intent.Intent) error {
	if in.Strategy == "" || in.Reason == "" {
		return fmt.Errorf("strategies: intent without strategy or reason: %v", &in)
	}
	switch in.Kind {
	case intent.Enter, intent.Add:
	case intent.MoveStop, intent.Cancel, intent.Exit:
		return nil
	default:
		return fmt.Errorf("strategies: intent kind %d unknown", in.Kind)
	}
	if in.Qty <= 0 {
		return fmt.Errorf("strategies: %v: qty must be > 0", &in)
	}
	if in.Entry <= 0 || in.Stop <= 0 || in.Target <= 0 {
		return fmt.Errorf("strategies: %v: entry, stop and target are required", &in)
	}
	worst := in.Entry
	if in.EntryType == market.StopLimitOrder {
		worst = in.Limit
		if in.Limit == 0 || (in.Limit-in.Entry)*market.Price(in.Side.Sign()) < 0 {
			return fmt.Errorf("strategies: %v: stop-limit's limit must be at or beyond its trigger", &in)
		}
	}
	switch in.Side {
	case market.Buy:
		if in.Stop >= in.Entry || in.Stop >= worst || in.Target <= in.Entry || in.Target <= worst {
			return fmt.Errorf("strategies: %v: long needs stop < entry < target", &in)
		}
	case market.Sell:
		if in.Stop <= in.Entry || in.Stop <= worst || in.Target >= in.Entry || in.Target >= worst {
			return fmt.Errorf("strategies: %v: short needs target < entry < stop", &in)
		}
	default:
		return fmt.Errorf("strategies: %v: side required", &in)
	}
	return nil
}
