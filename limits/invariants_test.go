// invariants_test.go: one test per DESIGN.md risk invariant that the gate
// enforces, each running its rows of the reason table (gate_test.go) with
// the boundary on both sides. docs/risk.md ("Risk rules") names
// these tests.

package limits

import (
	"strings"
	"testing"
)

func runRows(t *testing.T, prefixes ...string) {
	t.Helper()
	n := 0
	for _, tc := range gateCases() {
		match := false
		for _, p := range prefixes {
			match = match || strings.HasPrefix(tc.name, p)
		}
		if !match {
			continue
		}
		n++
		t.Run(tc.name, func(t *testing.T) {
			g, err := NewGate(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			g = g.WithCalendar(testCalendar())
			s, in := baseSnapshot(), baseEnter()
			tc.mut(&s, &in)
			if d := g.Check(&s, &in); d.Reason != tc.want || d.Allowed != (tc.want == OK) {
				t.Fatalf("got %v, want %q", d, tc.want)
			}
		})
	}
	if n < 2*len(prefixes) {
		t.Fatalf("only %d rows for %v", n, prefixes)
	}
}

// Invariant 1: every entry carries its bracket; an entry without a stop (or
// a target on its profit side, or with the stop on the wrong side) is
// rejected.
func TestInvariant1EntryCarriesBracket(t *testing.T) {
	runRows(t, "no_bracket:", "stop_wrong_side: long", "stop_wrong_side: short", "stop_wrong_side: market", "stop_wrong_side: stop-limit")
}

// Invariant 2: stops only tighten, never through the market, and a stop
// cannot be cancelled while its position is open. (Stop-market only:
// TestStopCoverage counts no stop-limit as protection.)
func TestInvariant2StopsOnlyTighten(t *testing.T) {
	runRows(t, "stop_widened:", "stop_cancel_open_position:", "stop_wrong_side: move")
}

// Invariant 3: no averaging down; adds only in profit by ≥ 1 tick, at a
// price no worse than the average, within max position.
func TestInvariant3NoAveragingDown(t *testing.T) {
	runRows(t, "averaging_down:", "max_position:")
}

// Invariant 4: the pre-trade loss bound and the other pre-trade limits.
func TestInvariant4PreTradeLimits(t *testing.T) {
	runRows(t, "loss_bound:", "max_order_qty:", "max_position:", "price_band:", "off_tick:", "rate_limited:",
		"outside_window:", "stale_data:")
}

// Invariant 5 (the gate's half): a locked-out or halted account takes no
// new risk. The monitors' half is TestDrawdownMonitorBreachOnce and
// TestDeskMonitorAggregate.
func TestInvariant5LockedOutTakesNoRisk(t *testing.T) {
	runRows(t, "locked_out:", "halted:")
	TestGateNeverBlocksRiskReduction(t)
}
