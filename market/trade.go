package market

import "time"

// Trade is one printed trade. Time is nanoseconds since the Unix epoch, UTC.
type Trade struct {
	Time      int64
	Price     Price
	Size      int64
	Aggressor Side
	Seq       uint64
}

// T returns the trade time as a time.Time in UTC.
func (t Trade) T() time.Time { return time.Unix(0, t.Time).UTC() }

// TradeReader streams trades. Next returns io.EOF after the last trade.
// Readers hold constant memory however long the file.
type TradeReader interface {
	Next() (Trade, error)
}

// TickRule infers aggressor sides where the data has none: an uptick is a
// buy, a downtick a sell, an unchanged price keeps the previous side.
type TickRule struct {
	last     Price
	lastSide Side
	started  bool
}

// Apply fills in t.Aggressor if it is Unknown and reports whether it did.
func (r *TickRule) Apply(t *Trade) bool {
	inferred := false
	if t.Aggressor == Unknown {
		switch {
		case !r.started:
			t.Aggressor = Unknown
		case t.Price > r.last:
			t.Aggressor = Buy
		case t.Price < r.last:
			t.Aggressor = Sell
		default:
			t.Aggressor = r.lastSide
		}
		inferred = true
	}
	r.last, r.started = t.Price, true
	if t.Aggressor != Unknown {
		r.lastSide = t.Aggressor
	}
	return inferred
}
