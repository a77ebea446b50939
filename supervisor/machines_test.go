package supervisor

import (
	"errors"
	"strings"
	"testing"
)

func TestDeskMachinePaths(t *testing.T) {
	var got []Transition
	m := NewDeskMachine(func(tr Transition) { got = append(got, tr) }, nil)
	steps := []struct{ ev, want string }{
		{EvRecover, DeskRecovering}, {EvReady, DeskRunning}, {EvDegrade, DeskDegraded},
		{EvRestore, DeskRunning}, {EvHalt, DeskHalting}, {EvHalted, DeskHalted}, {EvRearm, DeskRunning},
		{EvDegrade, DeskDegraded}, {EvHalt, DeskHalting},
	}
	for _, s := range steps {
		if err := m.Fire(s.ev, "test"); err != nil {
			t.Fatalf("%s: %v", s.ev, err)
		}
		if m.State() != s.want {
			t.Fatalf("after %s: state %s, want %s", s.ev, m.State(), s.want)
		}
	}
	if len(got) != len(steps) {
		t.Fatalf("hook saw %d transitions, want %d", len(got), len(steps))
	}
	if got[0].From != DeskStarting || got[0].To != DeskRecovering || got[0].Machine != "desk" {
		t.Fatalf("first transition %+v", got[0])
	}
}

func TestIllegalTransitionsRefused(t *testing.T) {
	var refused []*TransitionError
	m := NewDeskMachine(nil, func(e *TransitionError) { refused = append(refused, e) })
	cases := []string{EvReady, EvRearm, EvHalted, EvRestore}
	for _, ev := range cases {
		err := m.Fire(ev, "")
		var te *TransitionError
		if !errors.As(err, &te) {
			t.Fatalf("%s from starting: err %v, want *TransitionError", ev, err)
		}
		if m.State() != DeskStarting {
			t.Fatalf("state moved to %s", m.State())
		}
	}
	if len(refused) != len(cases) {
		t.Fatalf("illegal hook saw %d, want %d", len(refused), len(cases))
	}
	// Re-arming is only possible from halted: never from halting.
	_ = m.Fire(EvRecover, "")
	_ = m.Fire(EvReady, "")
	_ = m.Fire(EvHalt, "")
	if err := m.Fire(EvRearm, ""); err == nil {
		t.Fatal("rearm while halting was accepted")
	}
}

func TestAccountMachine(t *testing.T) {
	tests := []struct {
		name  string
		start string
		evs   []string
		want  string
		fail  bool
	}{
		{"trade and stop", AcctIdle, []string{EvStart, EvStop, EvStart}, AcctTrading, false},
		{"kill then rearm", AcctIdle, []string{EvStart, EvHalt, EvHalted, EvRearm}, AcctIdle, false},
		{"lockout from trading", AcctIdle, []string{EvStart, EvLockout}, AcctLockedOut, false},
		{"lockout while halting", AcctIdle, []string{EvStart, EvHalt, EvLockout}, AcctLockedOut, false},
		{"locked out cannot start", AcctLockedOut, []string{EvStart}, AcctLockedOut, true},
		{"locked out cannot rearm", AcctLockedOut, []string{EvRearm}, AcctLockedOut, true},
		{"unlock", AcctLockedOut, []string{EvUnlock, EvStart}, AcctTrading, false},
		{"fault and clear", AcctTrading, []string{EvFault, EvClear}, AcctIdle, false},
		{"faulted cannot start", AcctFaulted, []string{EvStart}, AcctFaulted, true},
		{"disable trading refused", AcctTrading, []string{EvDisable}, AcctTrading, true},
		{"disabled enable", AcctDisabled, []string{EvEnable}, AcctIdle, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewAccountMachine("A1", tc.start, nil, nil)
			var err error
			for _, ev := range tc.evs {
				if err = m.Fire(ev, ""); err != nil {
					break
				}
			}
			if (err != nil) != tc.fail {
				t.Fatalf("err = %v, want fail %v", err, tc.fail)
			}
			if m.State() != tc.want {
				t.Fatalf("state %s, want %s", m.State(), tc.want)
			}
		})
	}
}

func TestMermaidFromLiveDefinition(t *testing.T) {
	d, err := DeskMermaid()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"stateDiagram-v2", "starting --> recovering", "halted --> running", "degraded --> halting"} {
		if !strings.Contains(d, s) {
			t.Errorf("desk diagram lacks %q:\n%s", s, d)
		}
	}
	a, err := AccountMermaid()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"locked_out --> idle", "trading --> halting", "faulted --> idle"} {
		if !strings.Contains(a, s) {
			t.Errorf("account diagram lacks %q:\n%s", s, a)
		}
	}
}
