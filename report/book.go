package report

// book.go: fills → round trips, one per entry. An entry order and all its
// exits are one round trip whatever the fill fragments (a 5-lot entry
// filled 2 + 3 and closed by a 4-lot stop fill and a 1-lot target fill is
// one trade of 5 contracts); lots close FIFO; a fill that crosses zero
// closes what is open and opens a new trip of its own. A reconciliation
// that finds the venue's position different from the books closes (or
// opens) the difference as a correction, never as a trade: a position the
// venue no longer has is not paired with later fills.

import (
	"fmt"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/market"
)

// Fill is one execution as the book takes it.
type Fill struct {
	Seq      uint64 // the journal record (0: none)
	Account  string
	Strategy string
	ClientID string // the order it filled; an opening fill's id names its round trip
	Side     market.Side
	Qty      int64
	Price    market.Price
	Time     int64 // ns UTC
}

// Correction is a difference between the books and the venue, found by a
// reconciliation and booked as the venue has it: not a trade.
type Correction struct {
	Seq     uint64      `json:"seq"`
	Account string      `json:"account"`
	Time    int64       `json:"time"`          // ns UTC
	Books   int64       `json:"books"`         // the position the fills left
	Venue   int64       `json:"venue"`         // the venue's position
	Side    market.Side `json:"side"`          // the side of the position that went (or came)
	Qty     int64       `json:"qty"`           // contracts that went (or came)
	Entry   float64     `json:"entry"`         // their average entry, index points (0: came)
	Price   float64     `json:"price"`         // the price the desk booked them at (0: none; no PnL is invented)
	PnL     string      `json:"pnl,omitempty"` // gross at that price, when there is one
	Why     string      `json:"why,omitempty"`
	Trips   int         `json:"trips"` // round trips it ended (not counted as trades)
}

// lot is an open piece of a position, FIFO.
type lot struct {
	trip  *openTrip
	qty   int64
	price market.Price
}

// openTrip accumulates one round trip.
type openTrip struct {
	t        Trip
	open     int64 // contracts still open
	entryQty int64 // contracts opened
	entrySum int64 // Σ qty × price, ticks
	exitSum  int64
	exitQty  int64
	gone     bool // ended by a correction
	lastFill int  // the book's number of the last fill counted in t.Fills
}

type bookAcct struct {
	pos  int64 // signed
	lots []lot
	fee  decimal.Decimal // per contract per round turn
}

// Book books fills into round trips per entry. Not safe for concurrent use.
type Book struct {
	fees   func(account string) decimal.Decimal
	accts  map[string]*bookAcct
	corr   []Correction
	closed []*openTrip // in the order they closed
	nfill  int
}

// NewBook returns an empty book; fees gives an account's fee per contract
// per round turn (nil: $1.20 for every account).
func NewBook(fees func(account string) decimal.Decimal) *Book {
	if fees == nil {
		fees = func(string) decimal.Decimal { return market.MES().FeesRT }
	}
	return &Book{fees: fees, accts: map[string]*bookAcct{}}
}

func (b *Book) acct(id string) *bookAcct {
	a := b.accts[id]
	if a == nil {
		a = &bookAcct{fee: b.fees(id)}
		b.accts[id] = a
	}
	return a
}

// Fill books one execution.
func (b *Book) Fill(f Fill) error {
	sign := f.Side.Sign()
	switch {
	case sign == 0:
		return fmt.Errorf("report: fill %s of %s without a side", f.ClientID, f.Account)
	case f.Qty <= 0:
		return fmt.Errorf("report: fill %s of %s: qty %d", f.ClientID, f.Account, f.Qty)
	case f.Price <= 0:
		return fmt.Errorf("report: fill %s of %s: price %d ticks", f.ClientID, f.Account, f.Price)
	}
	a := b.acct(f.Account)
	b.nfill++
	count := func(ot *openTrip) {
		if ot.lastFill != b.nfill {
			ot.lastFill = b.nfill
			ot.t.Fills++
		}
	}
	left := f.Qty
	for left > 0 && a.pos*sign < 0 { // closing, FIFO
		if len(a.lots) == 0 {
			return fmt.Errorf("report: fill %s of %s: position %d with no open lot", f.ClientID, f.Account, a.pos)
		}
		l := &a.lots[0]
		q := min(left, l.qty)
		ot := l.trip
		if ot == nil {
			// Contracts an unpriced correction opened (Reconcile with no
			// price): they close with no trip of their own.
			l.qty -= q
			a.pos += sign * q
			left -= q
			if l.qty == 0 {
				a.lots = a.lots[1:]
			}
			continue
		}
		ot.t.TickQty += int64(f.Price-l.price) * ot.t.Side.Sign() * q
		ot.exitSum += q * int64(f.Price)
		ot.exitQty += q
		ot.open -= q
		count(ot)
		ot.t.ExitTime, ot.t.ExitSeq = f.Time, f.Seq
		l.qty -= q
		a.pos += sign * q
		left -= q
		if l.qty == 0 {
			a.lots = a.lots[1:]
		}
		if ot.open == 0 {
			b.finish(ot)
		}
	}
	if left > 0 { // opening or adding: the trip of this order
		ot := b.tripFor(f)
		ot.open += left
		ot.entryQty += left
		ot.entrySum += left * int64(f.Price)
		ot.t.Qty = ot.entryQty
		count(ot)
		a.lots = append(a.lots, lot{trip: ot, qty: left, price: f.Price})
		a.pos += sign * left
	}
	return nil
}

// tripFor returns the open trip of f's order, or starts one.
func (b *Book) tripFor(f Fill) *openTrip {
	for _, l := range b.acct(f.Account).lots {
		if l.trip != nil && l.trip.t.ID == f.ClientID && l.trip.open > 0 {
			return l.trip
		}
	}
	return &openTrip{t: Trip{Account: f.Account, Strategy: f.Strategy, ID: f.ClientID, Side: f.Side, EntryTime: f.Time, EntrySeq: f.Seq}}
}

func (b *Book) finish(ot *openTrip) {
	t := ot.t
	t.Entry = avgPrice(ot.entrySum, ot.entryQty)
	t.Exit = avgPrice(ot.exitSum, ot.exitQty)
	t.Fees = b.acct(t.Account).fee.Mul(decimal.NewFromInt(t.Qty))
	ot.t = t
	b.closed = append(b.closed, ot)
}

// avgPrice is sum/qty to the nearest tick (halves away from zero).
func avgPrice(sum, qty int64) market.Price {
	if qty == 0 {
		return 0
	}
	return market.Price((2*sum + qty) / (2 * qty))
}

// Reconcile books a reconciliation of account: the venue holds venuePos.
// A difference from the books is a Correction: the contracts the venue no
// longer has leave the books (FIFO, their round trips end without an exit
// and are not trades), contracts the venue has and the books do not come
// in at price. price is what the desk booked the difference at (0: no
// price, and then no PnL is computed).
func (b *Book) Reconcile(seq uint64, at int64, account string, venuePos int64, price market.Price, why string) *Correction {
	a := b.acct(account)
	if a.pos == venuePos {
		return nil
	}
	c := Correction{Seq: seq, Account: account, Time: at, Books: a.pos, Venue: venuePos, Why: why, Price: price.Points()}
	diff := venuePos - a.pos // contracts to add (signed)
	// Closing part: the books' position moves toward zero.
	if a.pos != 0 && diff*a.pos < 0 {
		q := min(abs64(diff), abs64(a.pos))
		c.Side = market.Buy
		if a.pos < 0 {
			c.Side = market.Sell
		}
		c.Qty = q
		var sum, ticks int64
		ended := map[*openTrip]bool{}
		left := q
		for left > 0 && len(a.lots) > 0 {
			l := &a.lots[0]
			n := min(left, l.qty)
			sum += n * int64(l.price)
			if price > 0 && l.trip != nil {
				ticks += int64(price-l.price) * c.Side.Sign() * n
			}
			l.qty -= n
			if l.trip != nil {
				l.trip.open -= n
				l.trip.gone = true
				if l.trip.open == 0 {
					ended[l.trip] = true
				}
			}
			left -= n
			if l.qty == 0 {
				a.lots = a.lots[1:]
			}
		}
		c.Trips = len(ended)
		c.Entry = decimal.NewFromInt(sum).Div(decimal.NewFromInt(q)).Mul(decimal.RequireFromString("0.25")).InexactFloat64()
		if price > 0 {
			c.PnL = market.MES().TicksValue(ticks, 1).StringFixed(2)
		}
		a.pos += -c.Side.Sign() * q
		diff = venuePos - a.pos
	}
	// Opening part: the venue holds contracts the books never saw.
	if diff != 0 {
		side := market.Buy
		if diff < 0 {
			side = market.Sell
		}
		if c.Qty == 0 {
			c.Side, c.Qty = side, abs64(diff)
		}
		if price > 0 {
			ot := &openTrip{t: Trip{Account: account, Strategy: "reconcile", ID: fmt.Sprintf("reconcile.%d", seq), Side: side, EntryTime: at, EntrySeq: seq}}
			q := abs64(diff)
			ot.open, ot.entryQty, ot.entrySum, ot.t.Qty = q, q, q*int64(price), q
			a.lots = append(a.lots, lot{trip: ot, qty: q, price: price})
		} else {
			// No price: the contracts are held, with no trip (Fill and a
			// later correction close them without PnL).
			a.lots = append(a.lots, lot{qty: abs64(diff)})
		}
		a.pos = venuePos
	}
	b.corr = append(b.corr, c)
	return &b.corr[len(b.corr)-1]
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// Trips returns the round trips closed so far, in the order they closed.
// A trip a correction ended in part (some contracts exited, the rest gone)
// is not among them: its exits are not a whole trade.
func (b *Book) Trips() []Trip {
	out := make([]Trip, 0, len(b.closed))
	for _, ot := range b.closed {
		if !ot.gone {
			out = append(out, ot.t)
		}
	}
	return out
}

// Corrections returns the corrections booked so far, in order.
func (b *Book) Corrections() []Correction { return append([]Correction(nil), b.corr...) }

// Positions returns each account's position as the book has it.
func (b *Book) Positions() map[string]int64 {
	out := make(map[string]int64, len(b.accts))
	for id, a := range b.accts {
		out[id] = a.pos
	}
	return out
}

// Accounts returns the accounts the book has seen, sorted.
func (b *Book) Accounts() []string {
	out := make([]string, 0, len(b.accts))
	for id := range b.accts {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
