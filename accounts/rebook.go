// rebook.go: trade busts and corrections, and positions carried from an
// earlier trade date. A venue books a bust (or a correction) by taking the
// trade out of the day's fills (or changing it) and booking the day again
// from its opening position, FIFO: the ledger does the same (its session
// base and the fills since), so its position, lots, realized PnL, fees and
// round trips are the venue's, not those of an opposite fill booked on top.

package accounts

import (
	"errors"
	"fmt"

	"github.com/deskguard/deskguard/market"
)

// ErrUnknownFill: a bust or correction names a fill the ledger did not
// book this session (or booked without the venue's id).
var ErrUnknownFill = errors.New("accounts: no fill with that venue id this session")

// openDay makes the ledger as it is now the session's base, with no fills
// since.
func (l *Ledger) openDay() {
	l.base = l.State()
	l.base.Base, l.base.Day = nil, nil
	l.day = nil
}

func (l *Ledger) baseCopy() *LedgerState {
	b := l.base
	b.Lots = append([]Lot(nil), b.Lots...)
	b.RoundTrips = append([]RoundTrip(nil), b.RoundTrips...)
	return &b
}

// find returns the index of the day's fill with venue id ref, or -1.
func (l *Ledger) find(ref string) int {
	if ref == "" {
		return -1
	}
	for i := len(l.day) - 1; i >= 0; i-- {
		if l.day[i].Ref == ref {
			return i
		}
	}
	return -1
}

// Bust takes the fill with venue id ref out of the session and books the
// session again without it. ErrUnknownFill (nothing changed) when no such
// fill was booked this session.
func (l *Ledger) Bust(ref string) (Fill, error) {
	i := l.find(ref)
	if i < 0 {
		return Fill{}, fmt.Errorf("%w: %s: bust of %q", ErrUnknownFill, l.id, ref)
	}
	f := l.day[i]
	day := append(append([]Fill(nil), l.day[:i]...), l.day[i+1:]...)
	return f, l.rebook(day)
}

// Correct changes the fill with venue id ref to qty at price and books the
// session again. ErrUnknownFill (nothing changed) when no such fill was
// booked this session.
func (l *Ledger) Correct(ref string, qty int64, price market.Price) (Fill, error) {
	i := l.find(ref)
	if i < 0 {
		return Fill{}, fmt.Errorf("%w: %s: correction of %q", ErrUnknownFill, l.id, ref)
	}
	if qty <= 0 || price <= 0 {
		return Fill{}, fmt.Errorf("accounts: %s: correction of %q to %d @ %d ticks: want both > 0", l.id, ref, qty, price)
	}
	old := l.day[i]
	day := append([]Fill(nil), l.day...)
	day[i].Qty, day[i].Price = qty, price
	return old, l.rebook(day)
}

// rebook books day again from the session's base. The mark, its time,
// the high-water mark and the largest drawdown so far are kept (the marks
// between fills are not replayed); the rest is what the fills make.
func (l *Ledger) rebook(day []Fill) error {
	n, err := Restore(l.base)
	if err != nil {
		return fmt.Errorf("accounts: %s: rebook: %w", l.id, err)
	}
	for _, f := range day {
		if err := n.ApplyFill(f); err != nil {
			return fmt.Errorf("accounts: %s: rebook: %w", l.id, err)
		}
	}
	base := l.base
	mark, markTime, hwm, maxDD := l.mark, l.markTime, l.hwm, l.maxDD
	*l = *n
	l.base = base
	l.mark, l.markTime = mark, markTime
	if n.mark > 0 && l.mark <= 0 {
		l.mark, l.markTime = n.mark, n.markTime
	}
	l.hwm, l.maxDD = max(hwm, l.hwm), maxDD
	l.track()
	return nil
}

// Carry books a position carried from an earlier trade date: qty
// contracts on side at price (the venue's price for the carried part, a
// settlement or an average), as lots the session opened with — no fee
// (it was paid the day it was opened) and no round trip today. It is part
// of the session's base, so a rebook keeps it. It is booked before any of
// the session's fills, and only on the position's side (or from flat).
func (l *Ledger) Carry(time int64, side market.Side, qty int64, price market.Price) error {
	switch {
	case len(l.day) > 0:
		return fmt.Errorf("accounts: %s: carry after %d fills this session: a carried position is booked first", l.id, len(l.day))
	case side.Sign() == 0 || qty <= 0 || price <= 0:
		return fmt.Errorf("accounts: %s: carry %v %d @ %d ticks: want a side and qty, price > 0", l.id, side, qty, price)
	case l.pos*side.Sign() < 0:
		return fmt.Errorf("accounts: %s: carry %v %d against a position of %d", l.id, side, qty, l.pos)
	}
	lot := Lot{Time: time, Qty: qty, Price: price, Strategy: "carried", ClientID: "carried"}
	l.lots = append(l.lots, lot)
	l.pos += side.Sign() * qty
	l.cost += side.Sign() * qty * int64(price)
	l.base.Lots = append(append([]Lot(nil), l.base.Lots...), lot)
	l.base.Position += side.Sign() * qty
	l.base.CostTicks += side.Sign() * qty * int64(price)
	if l.mark <= 0 {
		l.mark, l.markTime = price, time
	}
	l.track()
	return nil
}

// Adjustment is a venue's bust (or, with Correct, correction) of a fill:
// Ref is the venue's id of the fill; Side is the fill's side; Qty and
// Price are the busted fill's (a bust) or the corrected values.
type Adjustment struct {
	Ref      string
	Correct  bool
	Time     int64
	Side     market.Side
	Qty      int64
	Price    market.Price
	Strategy string
	ClientID string
	VenueID  string // the bust's own id (the opposite fill's Ref, below)
}

// Adjust books a bust or a correction, as the desk and the journal's
// ledger check both do: the session rebooked without the fill, or with it
// corrected (exact). A bust of a fill this ledger does not know by its
// venue id (booked before the ledger kept the day's fills, or in an earlier
// session) is booked as an opposite fill at its price (not exact); a
// correction of one is ErrUnknownFill, nothing booked. It returns the fill
// as it was before (zero when not known).
func (l *Ledger) Adjust(a Adjustment) (old Fill, exact bool, err error) {
	if a.Correct {
		old, err = l.Correct(a.Ref, a.Qty, a.Price)
		return old, err == nil, err
	}
	old, err = l.Bust(a.Ref)
	if err == nil || !errors.Is(err, ErrUnknownFill) || a.Qty <= 0 || a.Price <= 0 {
		return old, err == nil, err
	}
	return Fill{}, false, l.ApplyFill(Fill{Time: a.Time, Side: a.Side.Opposite(), Qty: a.Qty, Price: a.Price, Strategy: a.Strategy,
		ClientID: a.ClientID, Ref: a.VenueID})
}
