// drawdown_test.go: the lockout line, its once-per-session breach, the
// desk-level aggregate, and stop coverage repairs.

package limits

import (
	"strings"
	"testing"

	"github.com/deskguard/deskguard/market"
	"github.com/shopspring/decimal"
)

// TestDrawdownMonitorBreachOnce guards invariant 5: equity at or below
// start × (1 − 1.5%) is a breach, reported exactly once per session, kept
// across a restore, and cleared by the session reset or an early unlock.
func TestDrawdownMonitorBreachOnce(t *testing.T) {
	m, err := NewDrawdownMonitor(10000_00, decimal.Zero) // default 1.5%
	if err != nil {
		t.Fatal(err)
	}
	if m.LineCents() != 9850_00 {
		t.Fatalf("line %d", m.LineCents())
	}
	if _, ok := m.Mark(1, 9850_01); ok {
		t.Fatal("breach a cent above the line")
	}
	if a := m.AllowanceCents(9850_01); a != 1 {
		t.Fatalf("allowance %d", a)
	}
	b, ok := m.Mark(2, 9850_00)
	if !ok || b.EquityCents != 9850_00 || b.LineCents != 9850_00 || b.TimeNs != 2 {
		t.Fatalf("no breach at the line: %+v %v", b, ok)
	}
	for i, eq := range []int64{9000_00, 9850_00, 11000_00} {
		if _, ok := m.Mark(int64(3+i), eq); ok {
			t.Fatalf("second breach reported at %d", eq)
		}
	}
	if a := m.AllowanceCents(11000_00); a > 0 {
		t.Fatalf("allowance %d after a breach", a)
	}
	m2, _ := NewDrawdownMonitor(10000_00, decimal.Zero)
	m2.Restore(true)
	if _, ok := m2.Mark(1, 9000_00); ok || !m2.Breached() {
		t.Fatal("restored lockout reported again or lost")
	}
	m.Reset(9000_00)
	if m.Breached() || m.LineCents() != 8865_00 {
		t.Fatalf("reset: breached %v line %d", m.Breached(), m.LineCents())
	}
	if _, ok := m.Mark(9, 8865_00); !ok {
		t.Fatal("no breach in the new session")
	}
	m.Unlock()
	if _, ok := m.Mark(10, 8800_00); !ok {
		t.Fatal("no breach after an early unlock")
	}
	if LineCents(333_33, decimal.RequireFromString("1.5")) != 328_34 { // 32833.005 → up
		t.Fatalf("line rounding %d", LineCents(333_33, decimal.RequireFromString("1.5")))
	}
	if _, err := NewDrawdownMonitor(100, decimal.NewFromInt(100)); err == nil {
		t.Fatal("100% accepted")
	}
}

// TestDeskMonitorAggregate guards invariant 5's desk-level limit: the sum
// of the accounts against Σ start × (1 − pct), once per session.
func TestDeskMonitorAggregate(t *testing.T) {
	d, err := NewDeskMonitor(decimal.RequireFromString("1"))
	if err != nil {
		t.Fatal(err)
	}
	d.SetAccount("a", 10000_00)
	d.SetAccount("b", 20000_00)
	if d.LineCents() != 29700_00 {
		t.Fatalf("line %d", d.LineCents())
	}
	if _, ok := d.Mark(1, "a", 9800_00); ok { // −200: one account alone under 1% is not the desk
		t.Fatal("early breach")
	}
	if _, ok := d.Mark(2, "b", 19900_01); ok { // sum 29700.01
		t.Fatal("breach above the line")
	}
	b, ok := d.Mark(3, "b", 19900_00)
	if !ok || b.EquityCents != 29700_00 {
		t.Fatalf("no breach at the line: %+v", b)
	}
	if _, ok := d.Mark(4, "a", 5000_00); ok {
		t.Fatal("second breach")
	}
	d.Mark(5, "ghost", 1) // unknown accounts are ignored
	d.Reset(map[string]int64{"a": 10000_00})
	if d.Breached() || d.EquityCents() != 10000_00 || d.LineCents() != 9900_00 {
		t.Fatalf("reset: %v %d %d", d.Breached(), d.EquityCents(), d.LineCents())
	}
}

// TestStopCoverage guards invariant 6: the working stops must cover the
// whole position; a gap is repaired with a stop for the missing quantity,
// or a flatten when no sensible stop price exists.
func TestStopCoverage(t *testing.T) {
	stop := func(side market.Side, qty int64, p market.Price) WorkingOrder {
		return WorkingOrder{Role: RoleStop, Side: side, Qty: qty, Type: market.StopOrder, Price: p}
	}
	cases := []struct {
		name    string
		pos     int64
		orders  []WorkingOrder
		stopAt  market.Price
		covered bool
		want    RepairAction
	}{
		{"flat", 0, nil, 0, true, RepairAction{}},
		{"long covered", 3, []WorkingOrder{stop(market.Sell, 2, last-8), stop(market.Sell, 1, last-6)}, last - 8, true, RepairAction{}},
		{"long one short (partial fill)", 3, []WorkingOrder{stop(market.Sell, 2, last-8)}, last - 8, false,
			RepairAction{Kind: RepairPlaceStop, Side: market.Sell, Qty: 1, StopPrice: last - 8}},
		{"wrong-side stop does not count", 2, []WorkingOrder{stop(market.Buy, 2, last+8)}, last - 8, false,
			RepairAction{Kind: RepairPlaceStop, Side: market.Sell, Qty: 2, StopPrice: last - 8}},
		{"a stop-limit does not count", 2, []WorkingOrder{{Role: RoleStop, Side: market.Sell, Qty: 2, Type: market.StopLimitOrder, Price: last - 8}}, last - 8, false,
			RepairAction{Kind: RepairPlaceStop, Side: market.Sell, Qty: 2, StopPrice: last - 8}},
		{"targets do not count", -2, []WorkingOrder{{Role: RoleTarget, Side: market.Buy, Qty: 2, Price: last - 8}}, last + 8, false,
			RepairAction{Kind: RepairPlaceStop, Side: market.Buy, Qty: 2, StopPrice: last + 8}},
		{"no stop price: flatten", 2, nil, 0, false, RepairAction{Kind: RepairFlatten, Side: market.Sell, Qty: 2}},
		{"stop price through the market: flatten", 2, nil, last, false, RepairAction{Kind: RepairFlatten, Side: market.Sell, Qty: 2}},
		{"short stop price through the market: flatten", -2, nil, last, false, RepairAction{Kind: RepairFlatten, Side: market.Buy, Qty: 2}},
		{"over-covered: trim", 1, []WorkingOrder{stop(market.Sell, 3, last-8)}, last - 8, true,
			RepairAction{Kind: RepairTrimStops, Side: market.Sell, Qty: 2}},
	}
	for _, tc := range cases {
		cov, rep := StopCoverage(tc.pos, tc.orders, tc.stopAt, last)
		if cov != tc.covered || rep != tc.want {
			t.Errorf("%s: got %v %+v, want %v %+v", tc.name, cov, rep, tc.covered, tc.want)
		}
	}
}

// TestLooseStops: the stops of a position past the loss line's stop price
// (a trader's bracket the desk adopts) are listed for tightening — a
// long's below it, a short's above it — and never one at or inside it
// (moving that would loosen it), a target, the wrong side's, or any when
// flat or with no stop price.
func TestLooseStops(t *testing.T) {
	o := func(id string, role Role, side market.Side, p market.Price) WorkingOrder {
		return WorkingOrder{ClientID: id, Role: role, Side: side, Qty: 1, Type: market.StopOrder, Price: p}
	}
	cases := []struct {
		name   string
		pos    int64
		orders []WorkingOrder
		stopAt market.Price
		want   string
	}{
		{"long: below the line", 1, []WorkingOrder{o("s", RoleStop, market.Sell, last-30)}, last - 20, "s"},
		{"long: at the line", 1, []WorkingOrder{o("s", RoleStop, market.Sell, last-20)}, last - 20, ""},
		{"long: inside the line", 1, []WorkingOrder{o("s", RoleStop, market.Sell, last-10)}, last - 20, ""},
		{"short: above the line", -1, []WorkingOrder{o("s", RoleStop, market.Buy, last+30)}, last + 20, "s"},
		{"short: inside the line", -1, []WorkingOrder{o("s", RoleStop, market.Buy, last+10)}, last + 20, ""},
		{"a target is not a stop", 1, []WorkingOrder{o("t", RoleTarget, market.Sell, last-30)}, last - 20, ""},
		{"the wrong side", 1, []WorkingOrder{o("b", RoleStop, market.Buy, last-30)}, last - 20, ""},
		{"two of three", 3, []WorkingOrder{o("a", RoleStop, market.Sell, last-30), o("b", RoleStop, market.Sell, last-5),
			o("c", RoleStop, market.Sell, last-21)}, last - 20, "a,c"},
		{"flat", 0, []WorkingOrder{o("s", RoleStop, market.Sell, last-30)}, last - 20, ""},
		{"no stop price", 1, []WorkingOrder{o("s", RoleStop, market.Sell, last-30)}, 0, ""},
	}
	for _, tc := range cases {
		if got := strings.Join(LooseStops(tc.pos, tc.orders, tc.stopAt), ","); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
