package accounts

// rebook_test.go: busts, corrections and carried positions booked as the
// venue books them — against the venue's own engine (broker/sim's Rebook,
// which the Tradovate venue emulator uses for TradeCancel/TradeCorrect) and
// against a fresh ledger given the day's fills as they end up.

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/market"
)

func newTestLedger(t interface{ Fatal(...any) }) *Ledger {
	l, err := NewLedger(Config{ID: "A", StartEquity: decimal.NewFromInt(50000), FeesRT: decimal.RequireFromString("1.20")})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestBustRebooksFIFO: buy 1@100, buy 1@104, bust the second. The venue
// holds +1 @100 with nothing realized; an opposite fill booked on top
// (sell 1@104) would close the first lot FIFO: +1 @104 and 4 ticks of
// phantom profit.
func TestBustRebooksFIFO(t *testing.T) {
	l := newTestLedger(t)
	for i, px := range []market.Price{100, 104} {
		if err := l.ApplyFill(Fill{Time: int64(i), Side: market.Buy, Qty: 1, Price: px, Ref: fmt.Sprint("er", i)}); err != nil {
			t.Fatal(err)
		}
	}
	f, err := l.Bust("er1")
	if err != nil || f.Price != 104 {
		t.Fatalf("bust: %+v %v", f, err)
	}
	if l.Position() != 1 || l.CostTicks() != 100 || l.RealizedTicks() != 0 || len(l.RoundTrips()) != 0 {
		t.Fatalf("after the bust: pos %d cost %d realized %d trips %d", l.Position(), l.CostTicks(), l.RealizedTicks(), len(l.RoundTrips()))
	}
	if got, want := l.Fees(), decimal.RequireFromString("0.60"); !got.Equal(want) {
		t.Fatalf("fees %s, want %s (the busted fill's fee is gone)", got, want)
	}
	if _, err := l.Bust("er1"); !errors.Is(err, ErrUnknownFill) {
		t.Fatalf("second bust of the same fill: %v", err)
	}
	if _, err := l.Correct("er0", 1, 98); err != nil {
		t.Fatal(err)
	}
	if l.CostTicks() != 98 {
		t.Fatalf("after the correction: cost %d, want 98", l.CostTicks())
	}
}

// TestCarryIsNotToday: a carried position is booked at its price, with no
// fee and no round trip; closing it today realizes from that price, and a
// bust of today's trade leaves the carried lot as it was.
func TestCarryIsNotToday(t *testing.T) {
	l := newTestLedger(t)
	if err := l.Carry(1, market.Buy, 2, 20001); err != nil {
		t.Fatal(err)
	}
	if l.Position() != 2 || !l.Fees().IsZero() || l.RealizedTicks() != 0 {
		t.Fatalf("carried: pos %d fees %s realized %d", l.Position(), l.Fees(), l.RealizedTicks())
	}
	if err := l.ApplyFill(Fill{Time: 2, Side: market.Sell, Qty: 2, Price: 20005, Ref: "er9"}); err != nil {
		t.Fatal(err)
	}
	if l.RealizedTicks() != 8 || l.Position() != 0 {
		t.Fatalf("closed: realized %d ticks, want 8 (from the carried price); pos %d", l.RealizedTicks(), l.Position())
	}
	if err := l.Carry(3, market.Buy, 1, 20001); err == nil {
		t.Fatal("a carry after the session's fills was taken")
	}
	if _, err := l.Bust("er9"); err != nil {
		t.Fatal(err)
	}
	if l.Position() != 2 || l.CostTicks() != 40002 || l.RealizedTicks() != 0 || !l.Fees().IsZero() {
		t.Fatalf("after the bust: pos %d cost %d realized %d fees %s", l.Position(), l.CostTicks(), l.RealizedTicks(), l.Fees())
	}
}

// TestPropertyBustCorrectAsTheVenue: random fills (with venue ids), busts
// and corrections of random earlier fills, snapshots restored on the way
// and a carried position at the start: the ledger's position, cost and
// realized ticks are what the venue's engine books from the day's fills as
// they end up (sim.Rebook), and the whole ledger equals a fresh one given
// those fills.
func TestPropertyBustCorrectAsTheVenue(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		l := newTestLedger(t)
		type vf struct {
			f     Fill
			alive bool
		}
		var fills []vf
		var carried *sim.Fill
		if rapid.Bool().Draw(t, "carry") {
			side := rapid.SampledFrom([]market.Side{market.Buy, market.Sell}).Draw(t, "carrySide")
			q := rapid.Int64Range(1, 4).Draw(t, "carryQty")
			if err := l.Carry(0, side, q, 20500); err != nil {
				t.Fatal(err)
			}
			carried = &sim.Fill{Side: side, Qty: q, Price: 20500}
		}
		price := market.Price(20600)
		for i := range rapid.IntRange(1, 40).Draw(t, "n") {
			price += market.Price(rapid.IntRange(-6, 6).Draw(t, "move"))
			switch op := rapid.IntRange(0, 9).Draw(t, "op"); {
			case op < 6:
				f := Fill{Time: int64(i + 1), Side: rapid.SampledFrom([]market.Side{market.Buy, market.Sell}).Draw(t, "side"),
					Qty: rapid.Int64Range(1, 5).Draw(t, "qty"), Price: price, Ref: fmt.Sprint("er", i)}
				if err := l.ApplyFill(f); err != nil {
					t.Fatal(err)
				}
				fills = append(fills, vf{f, true})
			case op < 8 && len(fills) > 0:
				k := rapid.IntRange(0, len(fills)-1).Draw(t, "which")
				_, err := l.Bust(fills[k].f.Ref)
				if fills[k].alive != (err == nil) {
					t.Fatalf("bust of %s (alive %v): %v", fills[k].f.Ref, fills[k].alive, err)
				}
				fills[k].alive = false
			case op < 9 && len(fills) > 0:
				k := rapid.IntRange(0, len(fills)-1).Draw(t, "which")
				q, px := rapid.Int64Range(1, 5).Draw(t, "cqty"), price+market.Price(rapid.IntRange(-2, 2).Draw(t, "cpx"))
				_, err := l.Correct(fills[k].f.Ref, q, px)
				if fills[k].alive != (err == nil) {
					t.Fatalf("correction of %s (alive %v): %v", fills[k].f.Ref, fills[k].alive, err)
				}
				if err == nil {
					fills[k].f.Qty, fills[k].f.Price = q, px
				}
			default:
				// A snapshot through JSON, as the journal keeps it.
				b, err := json.Marshal(l.State())
				if err != nil {
					t.Fatal(err)
				}
				var st LedgerState
				if err := json.Unmarshal(b, &st); err != nil {
					t.Fatal(err)
				}
				if l, err = Restore(st); err != nil {
					t.Fatal(err)
				}
			}
			l.Mark(price)
		}
		s, err := sim.New(sim.Config{Accounts: []string{"A"}, Synchronous: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var book []sim.Fill
		fresh := newTestLedger(t)
		if carried != nil {
			book = append(book, *carried)
			_ = fresh.Carry(0, carried.Side, carried.Qty, carried.Price)
		}
		for _, x := range fills {
			if x.alive {
				book = append(book, sim.Fill{Side: x.f.Side, Qty: x.f.Qty, Price: x.f.Price})
				if err := fresh.ApplyFill(x.f); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := s.Rebook("A", book); err != nil {
			t.Fatal(err)
		}
		vp, err := s.Position("A")
		if err != nil {
			t.Fatal(err)
		}
		if l.Position() != vp.Qty || l.CostTicks() != vp.CostTick || l.RealizedTicks() != vp.Realized {
			t.Fatalf("ledger pos %d cost %d realized %d; venue %d %d %d", l.Position(), l.CostTicks(), l.RealizedTicks(),
				vp.Qty, vp.CostTick, vp.Realized)
		}
		fresh.Mark(price)
		if l.Fees().Cmp(fresh.Fees()) != 0 || len(l.RoundTrips()) != len(fresh.RoundTrips()) || l.TradesToday() != fresh.TradesToday() ||
			l.LossStreak() != fresh.LossStreak() || l.EquityCents() != fresh.EquityCents() {
			t.Fatalf("ledger fees %s trips %d trades %d streak %d equity %d; fresh %s %d %d %d %d", l.Fees(), len(l.RoundTrips()),
				l.TradesToday(), l.LossStreak(), l.EquityCents(), fresh.Fees(), len(fresh.RoundTrips()), fresh.TradesToday(),
				fresh.LossStreak(), fresh.EquityCents())
		}
	})
}
