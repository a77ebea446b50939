// ledger_test.go: the ledger against hand-computed cases, including the
// seed's unit economics, crossing fills, partial closes and the JSON
// snapshot round trip.

package accounts

import (
	"encoding/json"
	"testing"

	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/shopspring/decimal"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func newLedger(t *testing.T, start, fees string) *Ledger {
	t.Helper()
	cfg := Config{ID: "a1", StartEquity: dec(start)}
	if fees != "" {
		cfg.FeesRT = dec(fees)
	}
	l, err := NewLedger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func fill(t *testing.T, l *Ledger, ns int64, side market.Side, qty int64, price string, strat string) {
	t.Helper()
	if err := l.ApplyFill(Fill{Time: ns, Side: side, Qty: qty, Price: market.MustPrice(price), Strategy: strat}); err != nil {
		t.Fatal(err)
	}
}

func wantMoney(t *testing.T, what string, got decimal.Decimal, want string) {
	t.Helper()
	if !got.Equal(dec(want)) {
		t.Errorf("%s = %s, want %s", what, got.StringFixed(2), want)
	}
}

// The seed's unit economics (DESIGN.md "Domain facts"): 20 one-contract
// trades, 12 wins of 8 ticks and 8 losses of 5 ticks, $1.20 fees each →
// gross +$120.00, −$50.00, fees $24.00, net $46.00 exactly.
func TestLedgerSeedUnitEconomics(t *testing.T) {
	l := newLedger(t, "10000", "")
	ns := int64(0)
	for i := range 20 {
		entry := market.Price(20600 + i) // 5150.00 + i ticks
		exit := entry + 8
		side := market.Buy
		if i%5 >= 3 { // 8 losers spread over the day
			exit = entry - 5
		}
		if i%2 == 1 { // shorts too: a short wins when the exit is below
			side = market.Sell
			exit = entry - (exit - entry)
		}
		ns += 1e9
		if err := l.ApplyFill(Fill{Time: ns, Side: side, Qty: 1, Price: entry, Strategy: "seed"}); err != nil {
			t.Fatal(err)
		}
		ns += 1e9
		if err := l.ApplyFill(Fill{Time: ns, Side: side.Opposite(), Qty: 1, Price: exit, Strategy: "seed"}); err != nil {
			t.Fatal(err)
		}
	}
	var win, loss, fees decimal.Decimal
	wins := 0
	for _, rt := range l.RoundTrips() {
		if rt.PnL.Sign() > 0 {
			win, wins = win.Add(rt.PnL), wins+1
			if rt.Ticks != 8 {
				t.Errorf("win of %d ticks", rt.Ticks)
			}
		} else {
			loss = loss.Add(rt.PnL)
			if rt.Ticks != -5 {
				t.Errorf("loss of %d ticks", rt.Ticks)
			}
		}
		fees = fees.Add(rt.Fees)
	}
	if n := len(l.RoundTrips()); n != 20 || wins != 12 {
		t.Fatalf("%d round trips, %d wins; want 20 and 12", n, wins)
	}
	wantMoney(t, "gross wins", win, "120.00")
	wantMoney(t, "gross losses", loss, "-50.00")
	wantMoney(t, "round-trip fees", fees, "24.00")
	wantMoney(t, "ledger fees", l.Fees(), "24.00")
	wantMoney(t, "realized", l.Realized(), "70.00")
	wantMoney(t, "net", l.Realized().Sub(l.Fees()), "46.00")
	wantMoney(t, "equity", l.Equity(), "10046.00")
	if l.Position() != 0 || l.Unrealized().Sign() != 0 {
		t.Errorf("position %d, unrealized %s; want flat", l.Position(), l.Unrealized())
	}
}

func TestLedgerCrossingFill(t *testing.T) {
	l := newLedger(t, "10000", "1.20")
	fill(t, l, 1, market.Buy, 3, "5150.00", "orb")
	wantMoney(t, "fees after open", l.Fees(), "1.80") // 3 × $0.60
	fill(t, l, 2, market.Sell, 5, "5151.00", "vwapmr")
	// Closes 3 long at +4 ticks (3 × 4 × 1.25 = 15.00), opens 2 short at 5151.00.
	if l.Position() != -2 || l.CostTicks() != -2*int64(market.MustPrice("5151.00")) {
		t.Fatalf("position %d cost %d", l.Position(), l.CostTicks())
	}
	wantMoney(t, "realized", l.Realized(), "15.00")
	wantMoney(t, "fees", l.Fees(), "4.80") // 8 contract-sides × 0.60
	wantMoney(t, "avg entry", l.AvgEntry(), "5151")
	rts := l.RoundTrips()
	if len(rts) != 1 || rts[0].Qty != 3 || rts[0].Side != market.Buy || rts[0].Ticks != 4 || rts[0].Strategy != "orb" {
		t.Fatalf("round trips %+v", rts)
	}
	wantMoney(t, "rt fees", rts[0].Fees, "3.60")
	l.Mark(market.MustPrice("5150.50")) // short 2 from 5151.00: +2 ticks × 2 = 5.00
	wantMoney(t, "unrealized", l.Unrealized(), "5.00")
	wantMoney(t, "equity", l.Equity(), "10015.20") // 10000 + 15 − 4.80 + 5
	fill(t, l, 3, market.Buy, 2, "5150.50", "")
	rts = l.RoundTrips()
	if len(rts) != 2 || rts[1].Side != market.Sell || rts[1].Strategy != "vwapmr" || rts[1].Ticks != 2 {
		t.Fatalf("second round trip %+v", rts[1])
	}
	// Flat: 10000 + (15 + 5) realized − 10 contract-sides × 0.60 fees.
	wantMoney(t, "equity flat", l.Equity(), "10014.00")
	wantMoney(t, "fees flat", l.Fees(), "6.00")
}

func TestLedgerPartialClosesFIFO(t *testing.T) {
	l := newLedger(t, "5000", "1.25") // odd cents: 62 on opening, 63 on closing
	fill(t, l, 1, market.Buy, 2, "5150.00", "a")
	fill(t, l, 2, market.Buy, 1, "5151.00", "b") // avg (2×20600 + 20604)/3 = 20601.333 ticks
	if got := l.AvgEntryTick(); got != 20601 {
		t.Errorf("avg tick %d", got)
	}
	wantMoney(t, "avg", l.AvgEntry(), "5150.3333333333333333")
	if l.CostTicks() != 2*20600+20604 {
		t.Errorf("cost %d", l.CostTicks())
	}
	wantMoney(t, "fees", l.Fees(), "1.86")
	fill(t, l, 3, market.Sell, 1, "5152.00", "") // closes 1 of lot a: +8 ticks
	fill(t, l, 4, market.Sell, 1, "5149.00", "") // closes the rest of lot a: −4 ticks
	if l.Position() != 1 || l.CostTicks() != 20604 {
		t.Fatalf("position %d cost %d", l.Position(), l.CostTicks())
	}
	wantMoney(t, "realized", l.Realized(), "5.00") // (8 − 4) × 1.25
	wantMoney(t, "fees", l.Fees(), "3.12")         // 3 × 0.62 + 2 × 0.63
	fill(t, l, 5, market.Sell, 1, "5151.00", "")   // lot b flat: 0 ticks
	rts := l.RoundTrips()
	if len(rts) != 3 || rts[2].Strategy != "b" || rts[2].Ticks != 0 || rts[0].EntryTime != 1 || rts[1].ExitTime != 4 {
		t.Fatalf("round trips %+v", rts)
	}
	for _, rt := range rts {
		wantMoney(t, "rt fees", rt.Fees, "1.25")
	}
	wantMoney(t, "fees", l.Fees(), "3.75") // exactly 3 round turns
	wantMoney(t, "equity", l.Equity(), "5001.25")
}

func TestLedgerHighWaterAndDrawdown(t *testing.T) {
	l := newLedger(t, "10000", "0") // zero → default fees; use the default
	fill(t, l, 1, market.Buy, 1, "5150.00", "")
	l.Mark(market.MustPrice("5152.00")) // +8 ticks = +10.00, less 0.60 fee
	wantMoney(t, "hwm", l.HighWater(), "10009.40")
	l.Mark(market.MustPrice("5149.00")) // −4 ticks = −5.00 → 9994.40
	wantMoney(t, "max dd", l.MaxDrawdown(), "15.00")
	l.Mark(market.MustPrice("5151.00"))
	wantMoney(t, "max dd keeps the worst", l.MaxDrawdown(), "15.00")
	if err := l.ResetSession(dec("9999.40")); err != nil {
		t.Fatal(err)
	}
	if l.Fees().Sign() != 0 || l.Realized().Sign() != 0 || len(l.RoundTrips()) != 0 || l.MaxDrawdown().Sign() != 0 {
		t.Errorf("reset left fees %s realized %s trips %d dd %s", l.Fees(), l.Realized(), len(l.RoundTrips()), l.MaxDrawdown())
	}
	wantMoney(t, "equity after reset", l.Equity(), "10004.40") // position carries: +4 ticks
	if err := l.ResetSession(dec("1.001")); err == nil {
		t.Error("reset at a fraction of a cent accepted")
	}
}

func TestLedgerRejectsBadFills(t *testing.T) {
	l := newLedger(t, "10000", "")
	for _, f := range []Fill{{Side: market.Unknown, Qty: 1, Price: 1}, {Side: market.Buy, Qty: 0, Price: 1},
		{Side: market.Buy, Qty: 1, Price: 0}} {
		if err := l.ApplyFill(f); err == nil {
			t.Errorf("fill %+v accepted", f)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{}, {ID: "x"}, {ID: "x", StartEquity: dec("100.001")},
		{ID: "x", StartEquity: dec("100"), FeesRT: dec("-1")}, {ID: "x", StartEquity: dec("100"), Strategies: []string{"a", "a"}}} {
		if err := c.WithDefaults().Validate(); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
	c := Config{ID: "x", StartEquity: dec("100"), Strategies: []string{"orb"}, Limits: limits.Config{MaxPosition: 4}}.WithDefaults()
	if err := c.Validate(); err != nil || !c.FeesRT.Equal(dec("1.20")) || !c.Enabled("orb") || c.Enabled("delta") {
		t.Errorf("defaults: %v %+v", err, c)
	}
	g := c.GateConfig(limits.Config{MaxPosition: 10, MaxOrderQty: 3})
	if g.MaxPosition != 4 || g.MaxOrderQty != 3 || g.SlippageTicks != limits.DefaultSlippageTicks {
		t.Errorf("gate config %+v", g)
	}
}

func TestLedgerStateRoundTrip(t *testing.T) {
	l := newLedger(t, "25000.55", "1.25")
	fill(t, l, 10, market.Buy, 3, "5150.25", "orb")
	fill(t, l, 20, market.Sell, 1, "5151.75", "")
	fill(t, l, 30, market.Buy, 2, "5152.00", "delta")
	l.MarkAt(40, market.MustPrice("5149.50"))
	b1, err := json.Marshal(l.State())
	if err != nil {
		t.Fatal(err)
	}
	var st LedgerState
	if err := json.Unmarshal(b1, &st); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(st)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(r.State())
	if string(b1) != string(b2) {
		t.Fatalf("round trip differs:\n%s\n%s", b1, b2)
	}
	for _, p := range [][2]decimal.Decimal{{l.Equity(), r.Equity()}, {l.Realized(), r.Realized()}, {l.Fees(), r.Fees()},
		{l.AvgEntry(), r.AvgEntry()}, {l.MaxDrawdown(), r.MaxDrawdown()}} {
		if !p[0].Equal(p[1]) {
			t.Errorf("restored %s, want %s", p[1], p[0])
		}
	}
	// Both keep working identically.
	fill(t, l, 50, market.Sell, 4, "5153.00", "")
	fill(t, r, 50, market.Sell, 4, "5153.00", "")
	b1, _ = json.Marshal(l.State())
	b2, _ = json.Marshal(r.State())
	if string(b1) != string(b2) {
		t.Fatalf("diverged after restore:\n%s\n%s", b1, b2)
	}
	st.CostTicks++
	if _, err := Restore(st); err == nil {
		t.Error("inconsistent state restored")
	}
}
