package supervisor

// killfold_test.go: recovery's view of the kills in force (recover.go's
// killFold), folded from journal kill records.

import (
	"testing"

	"github.com/deskguard/deskguard/journal"
)

// TestKillFoldFlattenKeepsStrongerKill: a flatten-only kill (effFlat: an
// external order on a locked-out account, a flat-by) on an account whose
// lockout, fault or halt is in force does not replace it, so after a
// restart the kill in force is still the lockout, lifted only by an unlock
// — not dropped when the account is next halted or at the session reset.
func TestKillFoldFlattenKeepsStrongerKill(t *testing.T) {
	for _, first := range []Trigger{TriggerLockout, TriggerFault, TriggerConsole} {
		for _, then := range []Trigger{TriggerExternalNoRisk, TriggerSchedule} {
			f := &killFold{owed: map[string]Trigger{}}
			f.kill(journal.Kill{Scope: "A", Trigger: string(first), Accounts: []string{"A"}})
			f.kill(journal.Kill{Scope: "A", Trigger: string(then), Accounts: []string{"A"}})
			if got := f.owed["A"]; got != first {
				t.Errorf("%s then %s: owed %q, want %q", first, then, got, first)
			}
		}
	}
	// A flatten alone is owed, and a stronger kill after it replaces it.
	f := &killFold{owed: map[string]Trigger{}}
	f.kill(journal.Kill{Scope: "A", Trigger: string(TriggerExternalNoRisk), Accounts: []string{"A"}})
	if got := f.owed["A"]; got != TriggerExternalNoRisk {
		t.Errorf("flatten alone: owed %q", got)
	}
	f.kill(journal.Kill{Scope: "A", Trigger: string(TriggerLockout), Accounts: []string{"A"}})
	if got := f.owed["A"]; got != TriggerLockout {
		t.Errorf("flatten then lockout: owed %q", got)
	}
}
