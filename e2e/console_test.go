// console_test.go: the console's browser flow (issue 10) in real headless
// Chromium against the real desk — three engine accounts updating live
// during a synthetic run, flattened from the page. Without Chromium the
// test is skipped with a message, or fails when $CI is set
// (consoletest.Chromium).

package e2e

import (
	"testing"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/console/consoletest"
)

func TestConsoleBrowserFlowAgainstTheRealDesk(t *testing.T) {
	consoletest.Chromium(t) // skip (or fail under CI) before building the desk
	r := newDesk(t, rigOpt{Accounts: deskSpecs(0)})
	r.run(rigOpt{Pace: 60})
	// Positions make the desk's figures (and the flatten) mean something.
	r.within("an engine account has traded", func() bool {
		for _, a := range r.status().Accounts {
			if a.Position != 0 || a.RoundTrips > 0 {
				return true
			}
		}
		return r.status().Trades > 20000
	})
	const manager, trader = "e2e-manager-0123456789", "e2e-trader-vwap1-0123456789"
	ts := &auth.Tokens{}
	ts.AddPlain("risk", manager, auth.Role{Kind: "manager"})
	ts.AddPlain("vwap-trader", trader, auth.Role{Kind: "trader", Account: "VWAP1"})
	consoletest.RunBrowserFlow(t, consoletest.Flow{Desk: r.d, Tokens: ts, Manager: manager, Trader: trader,
		TraderAccount: "VWAP1", Accounts: 3})
	r.requireFlattened()
	kills := r.kills()
	if len(kills) != 1 || kills[0].Who != "risk" || kills[0].Scope != "desk" || len(kills[0].Accounts) != 3 {
		t.Fatalf("journaled kills %+v, want one desk kill by the console's manager token", kills)
	}
	t.Logf("console kill: trigger %q by %q", kills[0].Trigger, kills[0].Who)
}
