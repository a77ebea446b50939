package main

// cmd_journal_test.go: `deskguard journal dump|verify` on a journal written
// through the journal package: text and JSON dump with filters, verify's
// JSON report and exit codes on a good, a damaged and a locked file.

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

func writeJournal(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "desk.journal")
	j, err := journal.Open(path, journal.Options{Clock: market.NewReplayClock(time.Date(2026, 3, 10, 14, 30, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	in := intent.Intent{ID: "A1-1", Kind: intent.Enter, Account: "A1", Strategy: "orb", Side: market.Buy, Qty: 2,
		EntryType: market.LimitOrder, Entry: 20600, Stop: 20590, Target: 20620}
	stop, _ := journal.LegIDs("A1-1")
	for _, r := range []journal.Record{
		journal.NewIntent(in, &journal.Decision{Allowed: true}),
		journal.NewBrokerEvent(broker.Event{Account: "A1", ClientID: "A1-1", Kind: broker.FilledEv, Side: market.Buy, FillQty: 2, FillPrice: 20600, GroupID: "A1-1", Role: broker.EntryLeg}),
		journal.NewBrokerEvent(broker.Event{Account: "A1", ClientID: stop, Kind: broker.FilledEv, Side: market.Sell, FillQty: 2, FillPrice: 20590, GroupID: "A1-1", Role: broker.StopLeg}),
		journal.NewKill(5, journal.Kill{Scope: "desk", Trigger: "cli", Who: "rm", Accounts: []string{"A1", "A2"}}),
		journal.NewLockout("A2", 6, journal.Lockout{Equity: "1", Line: "2", Start: "3"}),
	} {
		if _, err := j.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestJournalDumpAndVerify(t *testing.T) {
	path := writeJournal(t)
	code, out, errs := runCLI(t, "journal", "dump", "--db", path)
	if code != 0 || strings.Count(out, "\n") != 5 || !strings.Contains(out, "A1-1.stop") || !strings.Contains(out, "→ allowed") {
		t.Fatalf("dump exit %d: %s%s", code, out, errs)
	}
	t.Logf("dump:\n%s", out)
	code, out, _ = runCLI(t, "journal", "dump", "--db", path, "--json", "--account", "A1", "--since", "2")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 {
		t.Fatalf("filtered dump exit %d: %q", code, out)
	}
	var r journal.Record
	if err := json.Unmarshal([]byte(lines[0]), &r); err != nil || r.Seq != 2 || r.Kind != journal.KindBrokerEvent {
		t.Fatalf("json line %q: %v", lines[0], err)
	}
	code, out, errs = runCLI(t, "journal", "verify", "--db", path)
	var rep journal.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || !rep.OK || rep.Records != 5 || rep.Intents != 1 ||
		rep.Fills != 2 || rep.Kills != 1 || rep.Lockouts != 1 || rep.First != 1 || rep.Last != 5 {
		t.Fatalf("verify exit %d: %s %s %v", code, out, errs, err)
	}
}

func TestJournalVerifyDamaged(t *testing.T) {
	path := writeJournal(t)
	data, _ := os.ReadFile(path)
	data = []byte(strings.ReplaceAll(string(data), `"rm"`, `"xx"`)) // still JSON, different history
	os.WriteFile(path, data, 0o600)
	code, out, _ := runCLI(t, "journal", "verify", "--db", path)
	var rep journal.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 || rep.OK || len(rep.Problems) == 0 {
		t.Fatalf("verify damaged: exit %d %s", code, out)
	}
	if code, _, errs := runCLI(t, "journal", "dump", "--db", path); code != 1 || !strings.Contains(errs, "checksum") {
		t.Fatalf("dump damaged: exit %d %s", code, errs)
	}
}

func TestJournalLockedAndUsage(t *testing.T) {
	path := writeJournal(t)
	j, err := journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for _, sub := range []string{"dump", "verify"} {
		code, _, errs := runCLI(t, "journal", sub, "--db", path, "--timeout", "50ms")
		if code != 2 || !strings.Contains(errs, "locked") {
			t.Errorf("%s on a live journal: exit %d %s", sub, code, errs)
		}
	}
	for _, args := range [][]string{{"journal"}, {"journal", "nope"}, {"journal", "dump"}, {"journal", "verify", "x"}} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, errs := runCLI(t, "journal", "verify", "--db", filepath.Join(t.TempDir(), "missing")); code != 2 {
		t.Errorf("missing file: exit %d %s", code, errs)
	}
}
