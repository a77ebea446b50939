// ledger.go: fills → position, FIFO lots, PnL, fees, equity, round trips.
//
// Fees: each fill is charged per contract, the opening side FeesRT/2
// rounded down to a cent and the closing side the rest, so a round turn
// costs exactly FeesRT and equity carries the entry fee while the position
// is open ($1.20: $0.60 + $0.60). A fill that crosses zero pays the closing
// side on the quantity it closes and the opening side on the rest.

package accounts

import (
	"fmt"

	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/shopspring/decimal"
)

// Fill is one execution for the account.
type Fill struct {
	Time     int64 // ns UTC
	Side     market.Side
	Qty      int64
	Price    market.Price
	Strategy string
	ClientID string
	// Ref is the venue's own id of the execution (a bust or a correction
	// names the fill it applies to by it); "" where the venue has none.
	Ref string `json:",omitempty"`
}

// Lot is an open piece of the position, FIFO.
type Lot struct {
	Time     int64        `json:"time"`
	Qty      int64        `json:"qty"` // unsigned; the position's sign gives the side
	Price    market.Price `json:"price"`
	Strategy string       `json:"strategy,omitempty"`
	ClientID string       `json:"client_id,omitempty"`
}

// RoundTrip is one closed trade: a lot (or part of one) and the fill that
// closed it.
type RoundTrip struct {
	Strategy   string          `json:"strategy"`
	Side       market.Side     `json:"side"` // the position's side: buy = long
	Qty        int64           `json:"qty"`
	EntryTime  int64           `json:"entry_time"`
	EntryPrice market.Price    `json:"entry_price"`
	ExitTime   int64           `json:"exit_time"`
	ExitPrice  market.Price    `json:"exit_price"`
	Ticks      int64           `json:"ticks"` // per contract, in the position's favour
	PnL        decimal.Decimal `json:"pnl"`   // gross: ticks × qty × $1.25
	Fees       decimal.Decimal `json:"fees"`  // FeesRT × qty
	// EntryID is the client id of the fill that opened the lot (the
	// entry; "" for a lot with none, such as a carried position).
	EntryID string `json:"entry_id,omitempty"`
}

// Net is PnL − Fees.
func (r RoundTrip) Net() decimal.Decimal { return r.PnL.Sub(r.Fees) }

// Ledger is one account's books for a session. Not safe for concurrent
// use: the supervisor's account goroutine owns it.
type Ledger struct {
	id          string
	feesRTCents int64
	openFee     int64 // cents per contract on the opening side
	closeFee    int64 // cents per contract on the closing side
	startCents  int64
	pos         int64 // signed
	cost        int64 // Σ signed qty × price of the lots, ticks
	lots        []Lot
	realTicks   int64 // Σ realized ticks × contracts
	feesCents   int64
	mark        market.Price
	markTime    int64
	hwm         int64 // session high-water mark of equity, cents
	maxDD       int64 // largest hwm − equity this session, cents
	trips       []RoundTrip
	// Flat-to-flat trades (the limits' daily_trade_limit and loss streak):
	// closed this session, losing ones in a row, when the latest loser
	// closed, and the open trade's net so far (its PnL less both sides'
	// fees; it carries over a session reset with the position).
	trades     int64
	lossStreak int64
	lastLossNs int64
	cycleNet   int64
	// base is the ledger as the session opened (or as it was restored from
	// a snapshot that did not carry the session's fills), and day the fills
	// booked since, in order: a bust or a correction rebooks the session
	// from base with the fill taken out or changed (rebook.go), as the
	// venue books it.
	base LedgerState
	day  []Fill
}

// NewLedger starts a ledger at cfg's start equity (cfg is defaulted and
// validated).
func NewLedger(cfg Config) (*Ledger, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	fees := Cents(cfg.FeesRT)
	l := &Ledger{id: cfg.ID, feesRTCents: fees, openFee: fees / 2, closeFee: fees - fees/2}
	l.reset(Cents(cfg.StartEquity))
	l.openDay()
	return l, nil
}

func (l *Ledger) reset(startCents int64) {
	l.startCents, l.realTicks, l.feesCents, l.trips = startCents, 0, 0, nil
	l.hwm, l.maxDD = l.equityCents(), 0
	l.trades, l.lossStreak = 0, 0
}

// ResetSession starts a new session at startEquity (whole cents): realized
// PnL, fees, round trips, high-water mark and drawdown start again. An open
// position carries over with its lots, and its unrealized PnL still counts
// from its entry, so pass the cash balance, not an equity that includes it.
func (l *Ledger) ResetSession(startEquity decimal.Decimal) error {
	if startEquity.Sign() <= 0 || !wholeCents(startEquity) {
		return fmt.Errorf("accounts: %s: reset at %s: want > 0 in whole cents", l.id, startEquity)
	}
	l.reset(Cents(startEquity))
	l.openDay()
	return nil
}

// ApplyFill books one execution. A fill against the position closes lots
// FIFO (one round trip per lot piece); what is left opens the other way.
func (l *Ledger) ApplyFill(f Fill) error {
	sign := f.Side.Sign()
	switch {
	case sign == 0:
		return fmt.Errorf("accounts: %s: fill %s without a side", l.id, f.ClientID)
	case f.Qty <= 0:
		return fmt.Errorf("accounts: %s: fill %s qty %d: want > 0", l.id, f.ClientID, f.Qty)
	case f.Price <= 0:
		return fmt.Errorf("accounts: %s: fill %s price %d ticks: want > 0", l.id, f.ClientID, f.Price)
	}
	left := f.Qty
	for left > 0 && l.pos*sign < 0 { // closing
		lot := &l.lots[0]
		q := min(left, lot.Qty)
		posSide := market.Side(-sign)
		ticks := int64(f.Price-lot.Price) * posSide.Sign()
		l.realTicks += ticks * q
		l.feesCents += l.closeFee * q
		l.pos += sign * q
		l.cost += sign * q * int64(lot.Price)
		l.trips = append(l.trips, RoundTrip{
			Strategy: lot.Strategy, Side: posSide, Qty: q,
			EntryTime: lot.Time, EntryPrice: lot.Price, ExitTime: f.Time, ExitPrice: f.Price,
			Ticks: ticks, PnL: Money(ticks * q * market.TickCents), Fees: Money(l.feesRTCents * q), EntryID: lot.ClientID,
		})
		lot.Qty -= q
		left -= q
		if lot.Qty == 0 {
			l.lots = l.lots[1:]
		}
		l.cycleNet += ticks*q*market.TickCents - l.closeFee*q
		if l.pos == 0 { // a flat-to-flat trade closed
			l.trades++
			if l.cycleNet < 0 {
				l.lossStreak++
				l.lastLossNs = f.Time
			} else {
				l.lossStreak = 0
			}
			l.cycleNet = 0
		}
	}
	if left > 0 { // opening (or adding)
		l.lots = append(l.lots, Lot{Time: f.Time, Qty: left, Price: f.Price, Strategy: f.Strategy, ClientID: f.ClientID})
		l.pos += sign * left
		l.cost += sign * left * int64(f.Price)
		l.feesCents += l.openFee * left
		l.cycleNet -= l.openFee * left
	}
	if l.pos == 0 {
		l.lots = l.lots[:0]
	}
	if l.mark <= 0 { // no trade seen yet: the fill is the first mark
		l.mark, l.markTime = f.Price, f.Time
	}
	l.day = append(l.day, f)
	l.track()
	return nil
}

// Mark marks the position to the last trade price.
func (l *Ledger) Mark(price market.Price) {
	if price <= 0 {
		return
	}
	l.mark = price
	l.track()
}

// MarkAt marks to a trade at time ns (the gate's stale-data rule reads it).
func (l *Ledger) MarkAt(ns int64, price market.Price) {
	if price <= 0 {
		return
	}
	l.mark, l.markTime = price, ns
	l.track()
}

func (l *Ledger) track() {
	eq := l.equityCents()
	if eq > l.hwm {
		l.hwm = eq
	}
	if dd := l.hwm - eq; dd > l.maxDD {
		l.maxDD = dd
	}
}

func (l *Ledger) unrealTicks() int64 {
	if l.pos == 0 || l.mark <= 0 {
		return 0
	}
	return l.pos*int64(l.mark) - l.cost
}

func (l *Ledger) equityCents() int64 {
	return l.startCents + (l.realTicks+l.unrealTicks())*market.TickCents - l.feesCents
}

// ID is the account id.
func (l *Ledger) ID() string { return l.id }

// Position is the signed quantity: long > 0.
func (l *Ledger) Position() int64 { return l.pos }

// CostTicks is Σ signed qty × price of the open lots (exact average entry
// = CostTicks / Position).
func (l *Ledger) CostTicks() int64 { return l.cost }

// AvgEntry is the exact average entry in index points (zero when flat).
func (l *Ledger) AvgEntry() decimal.Decimal {
	if l.pos == 0 {
		return decimal.Zero
	}
	// cost/pos ticks ÷ 4 ticks per point; exact to 16 places, and exact
	// outright whenever the average is a terminating decimal.
	return decimal.NewFromInt(l.cost).Div(decimal.NewFromInt(l.pos * market.TicksPerPoint))
}

// AvgEntryTick is the average entry rounded to the nearest tick (half away
// from zero), for display and for venue-style positions.
func (l *Ledger) AvgEntryTick() market.Price {
	if l.pos == 0 {
		return 0
	}
	c, q := l.cost, l.pos
	if q < 0 {
		c, q = -c, -q
	}
	return market.Price((2*c + q) / (2 * q))
}

// MarkPrice and MarkTime are the last mark.
func (l *Ledger) MarkPrice() market.Price { return l.mark }

// MarkTime is the time of the last MarkAt (ns), or of the first fill.
func (l *Ledger) MarkTime() int64 { return l.markTime }

// Lots returns a copy of the open FIFO lots.
func (l *Ledger) Lots() []Lot { return append([]Lot(nil), l.lots...) }

// StartEquity is the session's start equity.
func (l *Ledger) StartEquity() decimal.Decimal { return Money(l.startCents) }

// Realized is the session's realized PnL before fees.
func (l *Ledger) Realized() decimal.Decimal { return Money(l.realTicks * market.TickCents) }

// RealizedTicks is Σ realized ticks × contracts.
func (l *Ledger) RealizedTicks() int64 { return l.realTicks }

// Fees is the session's fees.
func (l *Ledger) Fees() decimal.Decimal { return Money(l.feesCents) }

// Unrealized is the open position marked to the last trade.
func (l *Ledger) Unrealized() decimal.Decimal { return Money(l.unrealTicks() * market.TickCents) }

// Equity = start + realized − fees + unrealized.
func (l *Ledger) Equity() decimal.Decimal { return Money(l.equityCents()) }

// EquityCents is Equity in cents (the monitors' and gate's unit).
func (l *Ledger) EquityCents() int64 { return l.equityCents() }

// StartCents is the session's start equity in cents.
func (l *Ledger) StartCents() int64 { return l.startCents }

// FeesRTCents is the account's round-turn fee per contract in cents.
func (l *Ledger) FeesRTCents() int64 { return l.feesRTCents }

// HighWater is the session's highest equity.
func (l *Ledger) HighWater() decimal.Decimal { return Money(l.hwm) }

// MaxDrawdown is the session's largest fall from its high-water mark.
func (l *Ledger) MaxDrawdown() decimal.Decimal { return Money(l.maxDD) }

// TradesToday is the number of flat-to-flat trades closed this session (a
// reversal through zero closes one and opens the next).
func (l *Ledger) TradesToday() int64 { return l.trades }

// LossStreak is the number of losing trades in a row (net of fees < 0;
// a trade that is not a loss ends the streak). Zero at the session reset.
func (l *Ledger) LossStreak() int64 { return l.lossStreak }

// LastLossNs is when the latest losing trade closed.
func (l *Ledger) LastLossNs() int64 { return l.lastLossNs }

// RoundTrips returns a copy of the session's closed trades, in order.
func (l *Ledger) RoundTrips() []RoundTrip { return append([]RoundTrip(nil), l.trips...) }

// FillSnapshot writes the ledger's part of the gate's snapshot: position,
// cost, mark and its time, fees, the allowance left before mon's lockout
// line and the whole day's allowance (the gate reads reduce-only off the
// two), and the session's trades and loss streak. The caller sets NowNs,
// Orders, the state flags, Rate and the other rules' fields, the sticky
// rungs among them (limits.AccountRules.Fill: mon's rungs follow the
// account's configured ladder only when it was made by
// limits.NewAccountDrawdown, so they are not read here). It does not
// allocate.
func (l *Ledger) FillSnapshot(s *limits.Snapshot, mon *limits.DrawdownMonitor) {
	s.PositionQty, s.CostTicks = l.pos, l.cost
	s.LastPrice, s.LastTimeNs = l.mark, l.markTime
	s.FeesRTCents = l.feesRTCents
	s.AllowanceCents = mon.AllowanceCents(l.equityCents())
	s.AllowanceTotalCents = mon.AllowanceTotalCents()
	s.LockedOut = s.LockedOut || mon.Breached()
	s.TradesToday, s.LossStreak, s.LastLossNs = l.trades, l.lossStreak, l.lastLossNs
}

// Trades groups round trips into trades, one per entry: every lot piece an
// entry opened (its fill fragments) and every exit fill that closed one
// (the stop's, the target's, a liquidation's) is one trade, in the order
// of its first piece — "11 entries shown as 38 trades" is counting pieces.
// A trade's Qty and PnL, Fees and Ticks (per contract, rounded toward
// zero) are the pieces' sums; its prices are their quantity-weighted
// averages, rounded to the nearest tick; its times the first entry and the
// last exit. A piece with no EntryID is a trade of its own.
func Trades(trips []RoundTrip) []RoundTrip {
	var out []RoundTrip
	var sums []struct{ entry, exit, ticks int64 } // Σ price×qty, Σ ticks×qty
	at := map[string]int{}
	for _, r := range trips {
		i, ok := at[r.EntryID]
		if !ok || r.EntryID == "" {
			i = len(out)
			if r.EntryID != "" {
				at[r.EntryID] = i
			}
			out = append(out, RoundTrip{Strategy: r.Strategy, Side: r.Side, EntryTime: r.EntryTime, ExitTime: r.ExitTime,
				PnL: decimal.Zero, Fees: decimal.Zero, EntryID: r.EntryID})
			sums = append(sums, struct{ entry, exit, ticks int64 }{})
		}
		t := &out[i]
		t.Qty += r.Qty
		t.PnL, t.Fees = t.PnL.Add(r.PnL), t.Fees.Add(r.Fees)
		t.EntryTime, t.ExitTime = min(t.EntryTime, r.EntryTime), max(t.ExitTime, r.ExitTime)
		sums[i].entry += int64(r.EntryPrice) * r.Qty
		sums[i].exit += int64(r.ExitPrice) * r.Qty
		sums[i].ticks += r.Ticks * r.Qty
	}
	for i := range out {
		q := out[i].Qty
		if q == 0 {
			continue
		}
		out[i].EntryPrice = market.Price(roundDiv(sums[i].entry, q))
		out[i].ExitPrice = market.Price(roundDiv(sums[i].exit, q))
		out[i].Ticks = sums[i].ticks / q
	}
	return out
}

// roundDiv is a/b rounded to the nearest integer, halves away from zero
// (b > 0).
func roundDiv(a, b int64) int64 {
	if a >= 0 {
		return (a + b/2) / b
	}
	return -((-a + b/2) / b)
}
