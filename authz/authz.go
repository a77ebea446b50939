// Package authz is the one place deskguard decides who may do what to the
// desk, with which reason, and what each caller may see of it. Every
// surface asks it: the console, the control socket (the CLI), Slack, and
// the supervisor itself for the reason of a re-arm, an unlock or a clear.
// It holds rules only: it knows roles (auth.Role), acts and the desk's
// plain status type (deskapi.Status); it never touches the desk.
//
// The rules (DESIGN.md "Users and their surfaces"):
//
//	act       manager        trader:ID              viewer  slack (allowed user)
//	status    everything     own account, no desk   all     all
//	                         money, own journal
//	flatten   desk, any acct own account only       no      desk, any account
//	press     yes            no                     no      no
//	rearm     yes, reason    no                     no      no
//	unlock    yes, reason    no                     no      no
//	unlock_desk yes, reason  no                     no      no
//	clear     yes, reason    no                     no      no
//	reset_trailing yes, reason no                   no      no
//	engines   any account    own account only       no      no
//	journal_tail   yes       no                     yes     no
//	journal_backup yes       no                     no      no
//
// The firm's risk manager has the role firm (Firm): on the firm console
// (package firm) it sees the firm and may kill it (firm_view, firm_kill);
// a desk's manager and a viewer may see the firm, nobody else. On a desk
// the firm role may do nothing at all: a desk hears the firm only through
// the firm's signed command on its firm link (docs/firm.md), never
// through a token, so a firm token that reaches a desk's token file opens
// no act there.
//
//	act        firm  manager  viewer  trader, slack
//	firm_view  yes   yes      yes     no
//	firm_kill  yes   no       no      no
//
// The journal holds every account's records, so only the roles that see
// the whole desk may read it; a backup writes a file on the desk's
// machine, so only the manager may ask for one.
//
// A reason is trimmed of surrounding white space, required (non-blank) for
// rearm, unlock, unlock_desk, clear and reset_trailing, at most MaxReason
// characters and free of control characters, on every surface alike.
//
// It may touch auth and deskapi (their types), nothing else: no file,
// network or clock.
package authz

// authz.go: acts, Allowed, Reason and StatusFor.

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/deskapi"
)

// Act is something a caller asks the desk to do.
type Act string

// Acts.
const (
	Status  Act = "status"
	Flatten Act = "flatten" // account "" = the whole desk
	Press   Act = "press"   // the simulated panic button: flattens the desk
	Rearm   Act = "rearm"
	Unlock  Act = "unlock"
	// UnlockDesk lifts the desk-wide drawdown lockout (deskapi.Desk.Unlock
	// with account ""); an account is never given.
	UnlockDesk Act = "unlock_desk"
	Clear      Act = "clear" // clear a faulted account
	Engines    Act = "engines"
	// JournalTail reads the journal's latest records (and follows it).
	JournalTail Act = "journal_tail"
	// JournalBackup writes a consistent copy of the journal to a new file.
	JournalBackup Act = "journal_backup"
	// ResetTrailing resets an account's breached trailing drawdown line
	// (the risk manager's act, with a reason).
	ResetTrailing Act = "reset_trailing"
)

// The firm console's acts (FirmActs): not a desk's, so not in Acts (the
// control socket serves only Acts).
const (
	FirmView Act = "firm_view" // the firm-wide view: exposure, loss, each desk
	FirmKill Act = "firm_kill" // flatten every desk of the firm
)

// Acts lists every act on a desk (tests, docs and the control socket
// iterate it).
var Acts = []Act{Status, Flatten, Press, Rearm, Unlock, UnlockDesk, Clear, Engines, ResetTrailing, JournalTail, JournalBackup}

// FirmActs lists the firm console's acts.
var FirmActs = []Act{FirmView, FirmKill}

// Firm is the role of the firm's risk manager (the firm console's tokens).
var Firm = auth.Role{Kind: "firm"}

// Slack is the role of a Slack user named in [slack] allowed_users: it may
// ask for the status and flatten the desk or any account, nothing else.
// Users not in the list have no role (the zero auth.Role): every act is
// refused.
var Slack = auth.Role{Kind: "slack"}

// MaxReason bounds a reason, in characters: it is journaled, alerted and
// shown on every console.
const MaxReason = 500

// Errors. A refusal by role is a *Denied (errors.Is(err, ErrForbidden)); a
// missing reason wraps deskapi.ErrReasonRequired, a malformed one
// ErrBadReason.
var (
	ErrForbidden       = errors.New("not allowed")
	ErrAccountRequired = errors.New("an account is required")
	ErrBadReason       = errors.New("bad reason")
)

// Denied is a refusal by role.
type Denied struct {
	Role    auth.Role
	Act     Act
	Account string
}

func (d *Denied) Error() string {
	role := d.Role.String()
	if role == "" {
		role = "no role"
	}
	what := string(d.Act)
	switch {
	case d.Act == Flatten && d.Account == "":
		what += " the desk"
	case d.Account != "":
		what += " " + d.Account
	}
	return fmt.Sprintf("%s may not %s", role, what)
}

// Is makes errors.Is(err, ErrForbidden) true.
func (d *Denied) Is(target error) bool { return target == ErrForbidden }

// Allowed returns nil if role may do act to account ("" = the whole desk;
// ignored for status, press, rearm, unlock_desk and the journal acts), a
// *Denied if the role may not, or ErrAccountRequired when the role may but
// the act needs an account (unlock, clear, engines, reset_trailing).
func Allowed(r auth.Role, act Act, account string) error {
	deny := &Denied{Role: r, Act: act, Account: account}
	switch act {
	case Status, Press, Rearm, UnlockDesk, JournalTail, JournalBackup, FirmView, FirmKill:
		deny.Account = ""
	}
	ok := false
	if act == FirmView || act == FirmKill {
		switch r.Kind {
		case Firm.Kind:
			ok = true
		case "manager", "viewer":
			ok = act == FirmView
		}
		if !ok {
			return deny
		}
		return nil
	}
	switch r.Kind {
	case "manager":
		switch act {
		case Status, Flatten, Press, Rearm, Unlock, UnlockDesk, Clear, Engines, ResetTrailing, JournalTail, JournalBackup:
			ok = true
		}
	case "trader":
		switch act {
		case Status:
			ok = r.Account != ""
		case Flatten, Engines:
			ok = r.Account != "" && account == r.Account
		}
	case "viewer":
		ok = act == Status || act == JournalTail
	case "slack":
		ok = act == Status || act == Flatten
	}
	if !ok {
		return deny
	}
	switch act {
	case Unlock, Clear, Engines, ResetTrailing:
		if account == "" {
			return ErrAccountRequired
		}
	}
	return nil
}

// NeedsReason reports whether act must carry a reason.
func NeedsReason(act Act) bool {
	return act == Rearm || act == Unlock || act == UnlockDesk || act == Clear || act == ResetTrailing
}

// Reason returns why trimmed, or an error: deskapi.ErrReasonRequired
// (wrapped) when act needs a reason and why is blank, ErrBadReason when it
// is longer than MaxReason characters, not UTF-8 or holds a control
// character (a line break, an escape). The supervisor checks its reasons
// with it too, so a reason refused on one surface is refused on all.
func Reason(act Act, why string) (string, error) {
	why = strings.TrimSpace(why)
	if why == "" {
		if NeedsReason(act) {
			return "", fmt.Errorf("%w (%s)", deskapi.ErrReasonRequired, act)
		}
		return "", nil
	}
	if !utf8.ValidString(why) {
		return "", fmt.Errorf("%w: not UTF-8", ErrBadReason)
	}
	if n := utf8.RuneCountInString(why); n > MaxReason {
		return "", fmt.Errorf("%w: %d characters, at most %d", ErrBadReason, n, MaxReason)
	}
	if strings.IndexFunc(why, unicode.IsControl) >= 0 {
		return "", fmt.Errorf("%w: a control character (line break, tab, escape)", ErrBadReason)
	}
	return why, nil
}

// Check is Allowed then Reason: the whole decision for one request. It
// returns the reason to pass to the desk.
func Check(r auth.Role, act Act, account, why string) (string, error) {
	if err := Allowed(r, act, account); err != nil {
		return "", err
	}
	return Reason(act, why)
}

// StatusFor returns st as role r may see it: the whole of it for roles
// that see the desk (manager, viewer, slack); for a trader, its own
// account, the journal lines about it, and the desk's state, links and
// lights, but not the desk-wide money (net, equity, lockout line, trade
// count), which would show the other accounts' losses; for no role,
// nothing but the time. st is not modified.
func StatusFor(r auth.Role, st deskapi.Status) deskapi.Status {
	switch r.Kind {
	case "manager", "viewer", "slack":
		return st
	case "trader":
		if r.Account != "" {
			break
		}
		fallthrough
	default:
		return deskapi.Status{Time: st.Time}
	}
	out := st
	out.Trades = 0
	out.Net = ""
	out.Equity = ""
	out.DeskLockout = ""
	out.Accounts = make([]deskapi.AccountStatus, 0, 1)
	for _, a := range st.Accounts {
		if a.ID == r.Account {
			out.Accounts = append(out.Accounts, a)
		}
	}
	out.Journal = nil
	for _, j := range st.Journal {
		if j.Account == r.Account {
			out.Journal = append(out.Journal, j)
		}
	}
	out.DrawdownUsed = 0
	out.Fills = nil
	for _, f := range st.Fills {
		if f.Account == r.Account {
			out.Fills = append(out.Fills, f)
		}
	}
	out.Kills = nil
	for _, k := range st.Kills {
		if k.Scope == "desk" || k.Scope == r.Account {
			out.Kills = append(out.Kills, k)
		}
	}
	return out
}
