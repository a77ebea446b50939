// browser_test.go: the browser flow in real headless Chromium against the
// fake desk (see consoletest.RunBrowserFlow to run it against another desk):
// three accounts with a trader, and twenty accounts on one 1920×1080 screen.
package console_test

import (
	"testing"

	"github.com/deskguard/deskguard/console/consoletest"
)

func TestBrowserFlow(t *testing.T) {
	desk := consoletest.NewFakeDesk()
	consoletest.RunBrowserFlow(t, consoletest.Flow{
		Desk: desk, Tokens: testTokens(), Manager: tokManager,
		Trader: tokTrader2, TraderAccount: "ACC2", Accounts: 3, NearStop: "ACC1",
	})
	var flattened bool
	for _, a := range desk.Actions() {
		if a.Op == "flatten" && a.Account == "" && a.Who == "risk" && a.Why == "console" {
			flattened = true
		}
	}
	if !flattened {
		t.Errorf("the desk saw no flatten by the manager: %+v", desk.Actions())
	}
}

func TestBrowserTwentyAccountsOnOneScreen(t *testing.T) {
	desk := consoletest.NewFakeDeskOf(20)
	desk.SetZone("America/Chicago")
	consoletest.RunBrowserFlow(t, consoletest.Flow{
		Desk: desk, Tokens: testTokens(), Manager: tokManager, Accounts: 20, NearStop: "ACC07",
	})
}
