package alert

// alert_test.go: every constructor fills its kind, severity and facts, and
// the vocabulary does not pull in the Slack transport.

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestConstructors(t *testing.T) {
	at := time.Date(2026, 3, 16, 14, 0, 0, 0, time.UTC)
	cases := []struct {
		a    Alert
		kind Kind
		sev  Severity
		acct string
		has  bool // the kind's facts are set
	}{
		{Kill(at, KillFacts{Scope: "A1", Trigger: "cli"}), KindKill, Critical, "A1", true},
		{Lockout(at, "A1", LockoutFacts{}), KindLockout, Critical, "A1", true},
		{WorkerCrash(at, "A1", "exit 2"), KindWorkerCrash, Warning, "A1", true},
		{WorkerRestart(at, "A1", 2, time.Second), KindWorkerRestart, Warning, "A1", true},
		{WorkerFault(at, "A1", "crash loop"), KindWorkerFault, Critical, "A1", true},
		{StopRepaired(at, "A1", StopFacts{}), KindStopRepaired, Warning, "A1", true},
		{LinkLost(at, "broker", "eof"), KindLinkLost, Warning, "", true},
		{LinkBack(at, "broker", time.Second), KindLinkBack, Info, "", true},
		{ReconcileMismatch(at, "A1", ReconcileFacts{}), KindReconcileMismatch, Critical, "A1", true},
		{Rearmed(at, "risk", "checked"), KindRearmed, Info, "", true},
		{Unlocked(at, "A1", "risk", "data error"), KindUnlocked, Warning, "A1", true},
		{FaultCleared(at, "A1", "risk", "stop restored"), KindFaultCleared, Warning, "A1", true},
		{DailySummary(at, SummaryFacts{}), KindDailySummary, Info, "", true},
		{JournalFailed(at, "ENOSPC"), KindJournalFailed, Critical, "", false},
		{RiskWarning(at, "", RiskFacts{}), KindRiskWarning, Warning, "", true},
		{ReduceOnly(at, "A1", RiskFacts{}), KindReduceOnly, Critical, "A1", true},
		{TrailingBreach(at, "A1", RiskFacts{}), KindTrailingBreach, Critical, "A1", true},
		{WeeklyBreach(at, "A1", RiskFacts{}), KindWeeklyBreach, Critical, "A1", true},
		{BlackoutFlatten(at, "A1", RiskFacts{Release: "CPI"}), KindBlackoutFlatten, Warning, "A1", true},
		{TrailingReset(at, "A1", "risk", "new evaluation"), KindTrailingReset, Warning, "A1", true},
		{Broker(at, "A1", Critical, "locked at broker", "LiquidateOnly"), KindBroker, Critical, "A1", true},
	}
	seen := map[Kind]bool{}
	for _, c := range cases {
		a := c.a
		facts := a.Kill != nil || a.Lockout != nil || a.Worker != nil || a.Stop != nil || a.Link != nil ||
			a.Reconcile != nil || a.Rearm != nil || a.Summary != nil || a.Risk != nil || a.Broker != nil
		if a.Kind != c.kind || a.Severity != c.sev || a.Account != c.acct || !a.At.Equal(at) || facts != c.has {
			t.Errorf("%s: %+v", c.kind, a)
		}
		seen[a.Kind] = true
	}
	for _, k := range Kinds {
		if !seen[k] {
			t.Errorf("kind %s has no constructor case", k)
		}
	}
	if len(seen) != len(Kinds) {
		t.Errorf("%d kinds constructed, Kinds lists %d", len(seen), len(Kinds))
	}
	for s, want := range map[Severity]string{Info: "info", Warning: "warning", Critical: "critical", 9: "unknown"} {
		if s.String() != want {
			t.Errorf("%d: %q", s, s.String())
		}
	}
}

// TestNoSlackDependency: a package that builds alerts with this one never
// links slack-go (issue 18 item 6).
func TestNoSlackDependency(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v: %s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "slack-go") || strings.HasSuffix(dep, "/deskguard/alerts") {
			t.Errorf("package alert depends on %s", dep)
		}
	}
}
