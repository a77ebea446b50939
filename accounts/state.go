// state.go: the ledger as a JSON snapshot for the journal's snapshot
// records, and back, exactly.

package accounts

import (
	"fmt"

	"github.com/deskguard/deskguard/market"
)

// LedgerState is a complete, exact, JSON-serializable copy of a ledger.
// Money is integer cents and ticks, so a round trip through JSON is exact.
type LedgerState struct {
	ID            string       `json:"id"`
	FeesRTCents   int64        `json:"fees_rt_cents"`
	StartCents    int64        `json:"start_cents"`
	Position      int64        `json:"position"`
	CostTicks     int64        `json:"cost_ticks"`
	Lots          []Lot        `json:"lots"`
	RealizedTicks int64        `json:"realized_ticks"`
	FeesCents     int64        `json:"fees_cents"`
	Mark          market.Price `json:"mark"`
	MarkTime      int64        `json:"mark_time"`
	HighWater     int64        `json:"high_water_cents"`
	MaxDrawdown   int64        `json:"max_drawdown_cents"`
	RoundTrips    []RoundTrip  `json:"round_trips"`
	// Flat-to-flat trades (absent in snapshots from before they were
	// kept: zero).
	Trades        int64 `json:"trades,omitempty"`
	LossStreak    int64 `json:"loss_streak,omitempty"`
	LastLossNs    int64 `json:"last_loss_ns,omitempty"`
	CycleNetCents int64 `json:"cycle_net_cents,omitempty"`
	// Base is the ledger as the session opened and Day the fills booked
	// since, so that a restored ledger can rebook the session after a bust
	// or a correction (absent in older snapshots: the ledger then rebooks
	// from the snapshot itself).
	Base *LedgerState `json:"base,omitempty"`
	Day  []Fill       `json:"day,omitempty"`
}

// State returns the ledger's snapshot (copies; the ledger stays usable).
func (l *Ledger) State() LedgerState {
	return LedgerState{
		ID: l.id, FeesRTCents: l.feesRTCents, StartCents: l.startCents, Position: l.pos, CostTicks: l.cost,
		Lots: l.Lots(), RealizedTicks: l.realTicks, FeesCents: l.feesCents, Mark: l.mark, MarkTime: l.markTime,
		HighWater: l.hwm, MaxDrawdown: l.maxDD, RoundTrips: l.RoundTrips(),
		Trades: l.trades, LossStreak: l.lossStreak, LastLossNs: l.lastLossNs, CycleNetCents: l.cycleNet,
		Base: l.baseCopy(), Day: append([]Fill(nil), l.day...),
	}
}

// Restore rebuilds a ledger from a snapshot, checking that its lots agree
// with its position and cost.
func Restore(st LedgerState) (*Ledger, error) {
	var q, c int64
	sign := int64(1)
	if st.Position < 0 {
		sign = -1
	}
	for _, lot := range st.Lots {
		if lot.Qty <= 0 || lot.Price <= 0 {
			return nil, fmt.Errorf("accounts: restore %s: lot %+v: want qty and price > 0", st.ID, lot)
		}
		q += lot.Qty
		c += lot.Qty * int64(lot.Price)
	}
	if q*sign != st.Position || c*sign != st.CostTicks {
		return nil, fmt.Errorf("accounts: restore %s: lots hold %d contracts costing %d ticks, state says %d and %d",
			st.ID, q*sign, c*sign, st.Position, st.CostTicks)
	}
	if st.FeesRTCents < 0 || st.StartCents <= 0 {
		return nil, fmt.Errorf("accounts: restore %s: fees %d / start %d cents out of range", st.ID, st.FeesRTCents, st.StartCents)
	}
	if st.Trades < 0 || st.LossStreak < 0 || st.LossStreak > st.Trades || st.Position == 0 && st.CycleNetCents != 0 {
		return nil, fmt.Errorf("accounts: restore %s: %d trades, loss streak %d, open trade net %d cents with position %d: inconsistent",
			st.ID, st.Trades, st.LossStreak, st.CycleNetCents, st.Position)
	}
	l := &Ledger{
		id: st.ID, feesRTCents: st.FeesRTCents, openFee: st.FeesRTCents / 2, closeFee: st.FeesRTCents - st.FeesRTCents/2,
		startCents: st.StartCents, pos: st.Position, cost: st.CostTicks, lots: append([]Lot(nil), st.Lots...),
		realTicks: st.RealizedTicks, feesCents: st.FeesCents, mark: st.Mark, markTime: st.MarkTime,
		hwm: st.HighWater, maxDD: st.MaxDrawdown, trips: append([]RoundTrip(nil), st.RoundTrips...),
		trades: st.Trades, lossStreak: st.LossStreak, lastLossNs: st.LastLossNs, cycleNet: st.CycleNetCents,
	}
	if st.Base != nil {
		b := *st.Base
		b.Base, b.Day = nil, nil
		if _, err := Restore(b); err != nil {
			return nil, fmt.Errorf("accounts: restore %s: session base: %w", st.ID, err)
		}
		l.base, l.day = b, append([]Fill(nil), st.Day...)
	} else {
		l.openDay() // an older snapshot: the session is rebooked from here
	}
	return l, nil
}
