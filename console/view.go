package console

// view.go: what a role may see of the desk status.

import (
	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/deskapi"
)

// View returns st as r may see it: the accounts r may see, journal lines
// about them, and the desk-wide money figures only for roles that may see
// the whole desk (a trader sees the desk's state, links and lights, not the
// other accounts' money). st is not modified.
func View(st deskapi.Status, r auth.Role) deskapi.Status {
	if r.CanSee("") {
		return st
	}
	out := st
	out.Trades = 0
	out.Net = ""
	out.Equity = ""
	out.DeskLockout = ""
	out.Accounts = make([]deskapi.AccountStatus, 0, 1)
	for _, a := range st.Accounts {
		if r.CanSee(a.ID) {
			out.Accounts = append(out.Accounts, a)
		}
	}
	out.Journal = nil
	for _, j := range st.Journal {
		if j.Account != "" && r.CanSee(j.Account) {
			out.Journal = append(out.Journal, j)
		}
	}
	return out
}
