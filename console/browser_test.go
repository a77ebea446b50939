// browser_test.go: the browser flow in real headless Chromium against the
// fake desk (see consoletest.RunBrowserFlow to run it against another desk):
// three accounts with a trader, and twenty accounts on one 1920×1080 screen.
package console_test

import (
	"context"
	"testing"

	"github.com/deskguard/deskguard/console/consoletest"
)

// sameRecords checks that what the page shows is the desk's own: every
// journal line and fill by its seq, every rejection count.
func sameRecords(desk *consoletest.FakeDesk) func(*testing.T, consoletest.PageRecords) {
	return func(t *testing.T, r consoletest.PageRecords) {
		st := desk.Status(context.Background())
		seqs := map[uint64]string{}
		for _, j := range st.Journal {
			seqs[j.Seq] = j.Kind
		}
		for _, j := range r.Journal {
			if k, ok := seqs[j.Seq]; !ok || k != j.Kind {
				t.Errorf("journal line #%d %s is not the desk's (%q)", j.Seq, j.Kind, k)
			}
		}
		fills := map[uint64]string{}
		for _, f := range st.Fills {
			fills[f.Seq] = f.Account
		}
		for _, f := range r.Fills {
			if fills[f.Seq] != f.Account {
				t.Errorf("blotter fill #%d of %s is not the desk's", f.Seq, f.Account)
			}
		}
		want := map[string]int{}
		for _, a := range st.Accounts {
			for k, v := range a.Rejections {
				want[k] += v
			}
		}
		if len(want) != len(r.Rejections) {
			t.Errorf("rejections shown %v, desk %v", r.Rejections, want)
		}
		for k, v := range want {
			if r.Rejections[k] != v {
				t.Errorf("rejections %s: shown %d, desk %d", k, r.Rejections[k], v)
			}
		}
	}
}

func TestBrowserFlow(t *testing.T) {
	desk := consoletest.NewFakeDesk()
	consoletest.RunBrowserFlow(t, consoletest.Flow{
		Desk: desk, Tokens: testTokens(), Manager: tokManager,
		Trader: tokTrader2, TraderAccount: "ACC2", Accounts: 3, NearStop: "ACC1", Records: sameRecords(desk), Kills: true,
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
	// The fake's biggest losers are past its $500 trailing line.
	var breached string
	for _, a := range desk.Status(context.Background()).Accounts {
		if a.Risk != nil && a.Risk.TrailingBroken && breached == "" {
			breached = a.ID
		}
	}
	if breached == "" {
		t.Fatal("no account of the fake desk has its trailing line breached")
	}
	consoletest.RunBrowserFlow(t, consoletest.Flow{
		Desk: desk, Tokens: testTokens(), Manager: tokManager, Accounts: 20, NearStop: "ACC07", Records: sameRecords(desk), Kills: true,
		ResetTrailing: breached,
	})
	var got []string
	for _, a := range desk.Actions() {
		if a.Op == "reset_trailing" {
			got = append(got, a.Account+" by "+a.Who+": "+a.Why)
		}
	}
	if want := breached + " by risk: " + consoletest.ResetReason; len(got) != 1 || got[0] != want {
		t.Errorf("trailing resets the desk saw: %q, want [%q]", got, want)
	}
}
