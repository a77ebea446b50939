package supervisor

// reasons_test.go: the manager's acts on the desk (re-arm, unlock, clear)
// check their reason with authz.Reason, the function every surface uses:
// a reason one surface refuses, the desk refuses too, before anything is
// journaled or changes state.

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/authz"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/journal"
)

func TestManagerActsCheckReasonsWithAuthz(t *testing.T) {
	ctx := ctxT(t, 20*time.Second)
	r := newRig(t, rigOpt{Accounts: lockoutSpec()})
	r.start(ctx, etAt(10, 0, 0))
	r.step(ctx, etAt(10, 0, 1), pts(5000.25))
	// A halted desk, so that a re-arm with a good reason would go through.
	if err := r.d.Flatten(ctx, "", "test", "tester"); err != nil {
		t.Fatal(err)
	}
	if st := r.d.m.State(); st != DeskHalted {
		t.Fatalf("desk %s after a kill with nothing open, want halted", st)
	}
	acts := []struct {
		act authz.Act
		do  func(why string) error
	}{
		{authz.Rearm, func(why string) error { return r.d.Rearm(ctx, "risk", why) }},
		{authz.Unlock, func(why string) error { return r.d.Unlock(ctx, "L1", "risk", why) }},
		{authz.Clear, func(why string) error { return r.d.ClearFault(ctx, "L1", "risk", why) }},
	}
	bad := []string{"", "   ", "\t", "two\nlines", "an \x1b escape", strings.Repeat("x", authz.MaxReason+1), "\xff\xfe"}
	before := len(r.records())
	for _, a := range acts {
		for _, why := range bad {
			_, want := authz.Reason(a.act, why)
			if want == nil {
				t.Fatalf("authz.Reason(%s, %q) accepts it: the test needs a bad reason", a.act, why)
			}
			err := a.do(why)
			switch {
			case errors.Is(want, deskapi.ErrReasonRequired):
				if !errors.Is(err, deskapi.ErrReasonRequired) {
					t.Errorf("%s with reason %q: %v, want %v (as authz.Reason says)", a.act, why, err, want)
				}
			case errors.Is(want, authz.ErrBadReason):
				if !errors.Is(err, authz.ErrBadReason) {
					t.Errorf("%s with reason %q: %v, want %v (as authz.Reason says)", a.act, why, err, want)
				}
			}
		}
	}
	if st := r.d.m.State(); st != DeskHalted {
		t.Errorf("desk %s after re-arms with bad reasons, want still halted", st)
	}
	for _, rec := range r.records()[before:] {
		switch rec.Kind {
		case journal.KindRearm, journal.KindUnlock, journal.KindClear:
			t.Errorf("a refused reason journaled a %s record", rec.Kind)
		}
	}
}
