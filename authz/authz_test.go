package authz

// authz_test.go: the rules written out case by case (not through the code
// under test), the reason rules, and what each role sees of the status.

import (
	"errors"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/deskapi"
)

var (
	manager = auth.Role{Kind: "manager"}
	trader1 = auth.Role{Kind: "trader", Account: "A1"}
	viewer  = auth.Role{Kind: "viewer"}
	nobody  = auth.Role{}
	bogus   = auth.Role{Kind: "admin"}
	traderX = auth.Role{Kind: "trader"} // a trader of no account
)

func TestAllowed(t *testing.T) {
	const (
		ok   = "ok"
		no   = "forbidden"
		acct = "account required"
	)
	cases := []struct {
		role    auth.Role
		act     Act
		account string
		want    string
	}{
		{manager, Status, "", ok},
		{manager, Flatten, "", ok},
		{manager, Flatten, "A2", ok},
		{manager, Press, "", ok},
		{manager, Rearm, "", ok},
		{manager, Unlock, "A1", ok},
		{manager, Unlock, "", acct},
		{manager, UnlockDesk, "", ok},
		{manager, Clear, "A1", ok},
		{manager, Clear, "", acct},
		{manager, ResetTrailing, "A1", ok},
		{manager, ResetTrailing, "", acct},
		{manager, Engines, "A2", ok},
		{manager, Engines, "", acct},

		{trader1, Status, "", ok},
		{trader1, Flatten, "A1", ok},
		{trader1, Flatten, "", no},
		{trader1, Flatten, "A2", no},
		{trader1, Flatten, "a1", no},
		{trader1, Press, "", no},
		{trader1, Rearm, "", no},
		{trader1, Unlock, "A1", no},
		{trader1, UnlockDesk, "", no},
		{trader1, Clear, "A1", no},
		{trader1, ResetTrailing, "A1", no},
		{trader1, Engines, "A1", ok},
		{trader1, Engines, "A2", no},
		{trader1, Engines, "", no},

		{viewer, Status, "", ok},
		{viewer, Flatten, "A1", no},
		{viewer, Flatten, "", no},
		{viewer, Press, "", no},
		{viewer, Rearm, "", no},
		{viewer, Unlock, "A1", no},
		{viewer, UnlockDesk, "", no},
		{viewer, Clear, "A1", no},
		{viewer, ResetTrailing, "A1", no},
		{viewer, Engines, "A1", no},
		{viewer, JournalTail, "", ok},
		{viewer, JournalBackup, "", no},
		{manager, JournalTail, "", ok},
		{manager, JournalBackup, "", ok},
		{trader1, JournalTail, "", no},
		{trader1, JournalBackup, "", no},
		{Slack, JournalTail, "", no},
		{Slack, JournalBackup, "", no},

		{Slack, Status, "", ok},
		{Slack, Flatten, "", ok},
		{Slack, Flatten, "A2", ok},
		{Slack, Press, "", no},
		{Slack, Rearm, "", no},
		{Slack, Unlock, "A1", no},
		{Slack, UnlockDesk, "", no},
		{Slack, Clear, "A1", no},
		{Slack, ResetTrailing, "A1", no},
		{Slack, Engines, "A1", no},
	}
	for _, r := range []auth.Role{nobody, bogus, traderX} {
		for _, a := range Acts {
			if r == traderX && a == Flatten {
				continue // below: a trader of no account flattens nothing
			}
			cases = append(cases, struct {
				role    auth.Role
				act     Act
				account string
				want    string
			}{r, a, "A1", no})
		}
	}
	cases = append(cases, struct {
		role    auth.Role
		act     Act
		account string
		want    string
	}{traderX, Flatten, "", no})
	for _, c := range cases {
		err := Allowed(c.role, c.act, c.account)
		got := ok
		switch {
		case errors.Is(err, ErrForbidden):
			got = no
			var d *Denied
			if !errors.As(err, &d) || !strings.Contains(err.Error(), string(c.act)) {
				t.Errorf("%v %s %q: refusal %q does not name the act", c.role, c.act, c.account, err)
			}
		case errors.Is(err, ErrAccountRequired):
			got = acct
		case err != nil:
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("Allowed(%v, %s, %q) = %s, want %s", c.role, c.act, c.account, got, c.want)
		}
	}
}

func TestReason(t *testing.T) {
	long := strings.Repeat("é", MaxReason)
	cases := []struct {
		act  Act
		why  string
		want string // the trimmed reason, or "ERR:required" / "ERR:bad"
	}{
		{Rearm, "", "ERR:required"},
		{Rearm, "   ", "ERR:required"},
		{Rearm, "\t\n ", "ERR:required"},
		{Unlock, " ", "ERR:required"},
		{Clear, "", "ERR:required"},
		{ResetTrailing, " ", "ERR:required"},
		{Unlock, "  data error on the open  ", "data error on the open"},
		{Rearm, "flat, checked with the venue", "flat, checked with the venue"},
		{Clear, long, long},
		{Clear, long + "x", "ERR:bad"},
		{Rearm, "line one\nline two", "ERR:bad"},
		{Rearm, "bell\a", "ERR:bad"},
		{Rearm, "esc\x1b[31m red", "ERR:bad"},
		{Rearm, "bad \xff utf8", "ERR:bad"},
		{Flatten, "", ""},
		{Flatten, "  panic  ", "panic"},
		{Status, "", ""},
		{Engines, "", ""},
		{Press, "", ""},
	}
	for _, c := range cases {
		got, err := Reason(c.act, c.why)
		switch {
		case errors.Is(err, deskapi.ErrReasonRequired):
			got = "ERR:required"
		case errors.Is(err, ErrBadReason):
			got = "ERR:bad"
		case err != nil:
			got = "ERR:" + err.Error()
		}
		if got != c.want {
			t.Errorf("Reason(%s, %q) = %q, want %q", c.act, c.why, got, c.want)
		}
	}
	for _, a := range Acts {
		want := a == Rearm || a == Unlock || a == UnlockDesk || a == Clear || a == ResetTrailing
		if NeedsReason(a) != want {
			t.Errorf("NeedsReason(%s) = %v", a, !want)
		}
	}
}

func TestCheck(t *testing.T) {
	if _, err := Check(trader1, Unlock, "A1", "fine"); !errors.Is(err, ErrForbidden) {
		t.Errorf("trader unlock: %v", err)
	}
	if _, err := Check(manager, Unlock, "A1", " "); !errors.Is(err, deskapi.ErrReasonRequired) {
		t.Errorf("blank unlock: %v", err)
	}
	if why, err := Check(manager, Unlock, "A1", " ok "); err != nil || why != "ok" {
		t.Errorf("unlock: %q %v", why, err)
	}
}

func desk() deskapi.Status {
	return deskapi.Status{Time: "t", State: "running", Trades: 42, Net: "-900.00", Equity: "149100.00", DeskLockout: "147750.00",
		LastPrice: 5150.25,
		Accounts:  []deskapi.AccountStatus{{ID: "A1", Net: "100.00"}, {ID: "A2", Net: "-1000.00"}, {ID: "A3", Net: "0.00"}},
		Links:     deskapi.Links{Venue: "up", Data: "up"},
		Journal: []deskapi.JournalLine{{Seq: 1, Kind: "kill"}, {Seq: 2, Account: "A1", Kind: "fill"},
			{Seq: 3, Account: "A2", Kind: "lockout"}},
		DrawdownUsed: 0.4,
		Fills:        []deskapi.Fill{{Seq: 5, Account: "A1"}, {Seq: 6, Account: "A2"}},
		Kills:        []deskapi.KillLine{{Scope: "desk"}, {Scope: "A2"}, {Scope: "A1"}}}
}

func TestStatusFor(t *testing.T) {
	full := desk()
	for _, r := range []auth.Role{manager, viewer, Slack} {
		got := StatusFor(r, full)
		if len(got.Accounts) != 3 || got.Net != full.Net || got.DeskLockout != full.DeskLockout || len(got.Journal) != 3 {
			t.Errorf("%v sees %+v", r, got)
		}
	}
	tr := StatusFor(trader1, full)
	if len(tr.Accounts) != 1 || tr.Accounts[0].ID != "A1" {
		t.Errorf("trader accounts %+v", tr.Accounts)
	}
	if tr.Net != "" || tr.Equity != "" || tr.DeskLockout != "" || tr.Trades != 0 {
		t.Errorf("trader sees the desk's money: net %q equity %q lockout %q trades %d", tr.Net, tr.Equity, tr.DeskLockout, tr.Trades)
	}
	if len(tr.Journal) != 1 || tr.Journal[0].Seq != 2 {
		t.Errorf("trader journal %+v", tr.Journal)
	}
	if tr.DrawdownUsed != 0 || len(tr.Fills) != 1 || tr.Fills[0].Account != "A1" {
		t.Errorf("trader sees the desk's allowance %v or others' fills %+v", tr.DrawdownUsed, tr.Fills)
	}
	if len(tr.Kills) != 2 || tr.Kills[0].Scope != "desk" || tr.Kills[1].Scope != "A1" {
		t.Errorf("trader kills %+v, want the desk's and its own", tr.Kills)
	}
	if tr.State != "running" || tr.Links.Venue != "up" || tr.LastPrice != full.LastPrice {
		t.Errorf("trader lost the desk state/links: %+v", tr)
	}
	if len(full.Accounts) != 3 || len(full.Journal) != 3 || full.Net == "" {
		t.Error("StatusFor modified its input")
	}
	for _, r := range []auth.Role{nobody, bogus, traderX} {
		if got := StatusFor(r, full); len(got.Accounts) != 0 || got.Net != "" || len(got.Journal) != 0 || got.State != "" {
			t.Errorf("%v sees %+v", r, got)
		}
	}
}

// A trader's view never holds another account, a desk-wide journal line
// or the desk's money, whatever the status.
func TestPropertyTraderSeesOnlyOwnAccount(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ids := rapid.SliceOfDistinct(rapid.SampledFrom([]string{"A1", "A2", "A3", "a1", "A1 ", ""}), rapid.ID[string]).Draw(rt, "ids")
		st := deskapi.Status{Net: "-1.00", Equity: "1.00", DeskLockout: "0.50", Trades: 9}
		for _, id := range ids {
			st.Accounts = append(st.Accounts, deskapi.AccountStatus{ID: id})
			st.Journal = append(st.Journal, deskapi.JournalLine{Account: id})
			st.Fills = append(st.Fills, deskapi.Fill{Account: id})
		}
		me := rapid.SampledFrom([]string{"A1", "A2"}).Draw(rt, "me")
		v := StatusFor(auth.Role{Kind: "trader", Account: me}, st)
		for _, a := range v.Accounts {
			if a.ID != me {
				rt.Fatalf("trader %s sees account %q", me, a.ID)
			}
		}
		for _, j := range v.Journal {
			if j.Account != me {
				rt.Fatalf("trader %s sees journal line of %q", me, j.Account)
			}
		}
		for _, f := range v.Fills {
			if f.Account != me {
				rt.Fatalf("trader %s sees a fill of %q", me, f.Account)
			}
		}
		if v.Net != "" || v.Equity != "" || v.DeskLockout != "" || v.Trades != 0 {
			rt.Fatalf("trader sees desk money %+v", v)
		}
	})
}

// TestFirmRole: the firm console's acts are the firm role's (the kill its
// alone, the view also a desk manager's and a viewer's); the firm role has
// no act on a desk, and the desk acts do not include the firm's.
func TestFirmRole(t *testing.T) {
	for _, c := range []struct {
		role auth.Role
		act  Act
		ok   bool
	}{
		{Firm, FirmView, true}, {Firm, FirmKill, true},
		{manager, FirmView, true}, {manager, FirmKill, false},
		{viewer, FirmView, true}, {viewer, FirmKill, false},
		{trader1, FirmView, false}, {trader1, FirmKill, false},
		{Slack, FirmView, false}, {Slack, FirmKill, false},
		{auth.Role{}, FirmView, false}, {auth.Role{}, FirmKill, false},
	} {
		err := Allowed(c.role, c.act, "")
		if (err == nil) != c.ok {
			t.Errorf("Allowed(%s, %s) = %v, want ok %v", c.role, c.act, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrForbidden) {
			t.Errorf("Allowed(%s, %s): %v is not a refusal by role", c.role, c.act, err)
		}
	}
	for _, a := range Acts {
		for _, acct := range []string{"", "A1"} {
			if err := Allowed(Firm, a, acct); !errors.Is(err, ErrForbidden) {
				t.Errorf("the firm role may %s %q on a desk: %v", a, acct, err)
			}
		}
		for _, f := range FirmActs {
			if a == f {
				t.Errorf("the firm act %s is a desk act (the control socket would serve it)", f)
			}
		}
	}
	if st := StatusFor(Firm, deskapi.Status{Time: "t", Net: "-100.00", Accounts: []deskapi.AccountStatus{{ID: "A1"}}}); st.Net != "" || len(st.Accounts) != 0 {
		t.Errorf("the firm role sees a desk's status: %+v", st)
	}
}
