package main

// config_journal_test.go: `deskguard run` journals its effective config at
// start — exactly one config_change record, with the summary and the
// config's SHA-256, no secret anywhere in the journal file — and `journal
// verify` still passes; `journal dump` prints it on one readable line.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
)

func TestRunJournalsEffectiveConfigOnce(t *testing.T) {
	dir := t.TempDir()
	// A short session as CSV ticks: the run reads it as fast as it can.
	ts, err := synth.Generate(synth.Options{Seed: 5, Regime: synth.Mixed, Scale: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	var csv bytes.Buffer
	if err := market.WriteCSVTicks(&csv, ts[:min(len(ts), 4000)]); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "ticks.csv")
	if err := os.WriteFile(data, csv.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// Every secret the desk can be given, set where the config says to
	// read it (the Slack app token stays unset: no Socket Mode dial-out).
	secrets := map[string]string{
		"DG_RUN_CONSOLE_TOKEN":           "console-token-secret-4711",
		"DESKGUARD_SLACK_BOT_TOKEN":      "xoxb-bot-token-secret-4712",
		"DESKGUARD_SLACK_SIGNING_SECRET": "slack-signing-secret-4713",
		"TRADOVATE_PASSWORD":             "tradovate-password-4714",
		"TRADOVATE_SECRET":               "tradovate-api-secret-4715",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	t.Setenv("DESKGUARD_SLACK_APP_TOKEN", "")
	t.Setenv("DESKGUARD_SLACK_WEBHOOK_URL", "")
	fileToken := "file-token-secret-4716"
	tokenFile := filepath.Join(dir, "viewer.token")
	if err := os.WriteFile(tokenFile, []byte(fileToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	jpath := filepath.Join(dir, "desk.db")
	cfgText := fmt.Sprintf(`[desk]
journal = %q
control_socket = %q
workers = "in-process"
log_level = "error"
stale_data_kill = "30s"

[data]
file = %q
pace = 0.0

[broker]
kind = "sim"

[console]
listen = "off"
[[console.tokens]]
name = "risk"
role = "manager"
env = "DG_RUN_CONSOLE_TOKEN"
[[console.tokens]]
name = "screen"
role = "viewer"
file = %q

[[accounts]]
id = "R1"
start_equity = "40000.00"
strategies = ["vwapmr", "delta"]
[accounts.limits]
max_position = 12

[[accounts]]
id = "R2"
start_equity = "60000.00"
strategies = ["orb"]
`, jpath, filepath.Join(dir, "desk.sock"), data, tokenFile)
	cfgPath := filepath.Join(dir, "desk.toml")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCLI(t, "config", "check", cfgPath); code != 0 {
		t.Fatalf("config check: exit %d %s%s", code, out, errs)
	}

	code, out, errs := runCLI(t, "run", "--config", cfgPath, "--status-every", "1h")
	if code != 0 || !strings.Contains(out, "session ended") {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errs)
	}

	j, err := journal.Open(jpath, journal.Options{Clock: market.WallClock{}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var cfgRecs []journal.Record
	firstTrading := uint64(0) // the first record written once the desk trades
	if err := j.Iterate(1, func(r journal.Record) error {
		switch r.Kind {
		case journal.KindConfigChange:
			cfgRecs = append(cfgRecs, r)
		case journal.KindSessionReset, journal.KindIntent:
			if firstTrading == 0 {
				firstTrading = r.Seq
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	if len(cfgRecs) != 1 {
		t.Fatalf("%d config_change records, want 1", len(cfgRecs))
	}
	if firstTrading == 0 || cfgRecs[0].Seq > firstTrading {
		t.Fatalf("config record at seq %d, the desk started trading at seq %d", cfgRecs[0].Seq, firstTrading)
	}
	cc, err := cfgRecs[0].ConfigChange()
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.SHA256()
	if err != nil {
		t.Fatal(err)
	}
	var sum config.AuditSummary
	if err := json.Unmarshal(cc.Effective, &sum); err != nil {
		t.Fatal(err)
	}
	if cc.Key != "config" || cc.To != "sha256:"+want || sum.SHA256 != want || sum.Source != cfgPath || sum.Broker.Kind != "sim" ||
		sum.StaleDataKill != "30s" || len(sum.Accounts) != 2 || sum.Accounts[0].ID != "R1" || sum.Accounts[0].StartEquity != "40000.00" ||
		sum.Accounts[0].Limits.MaxPosition != 12 || sum.Accounts[1].Limits.MaxPosition != 20 || sum.Limits.DrawdownPct.String() != "1.5" ||
		sum.Schedule["flat_by"] != "55 15 * * 1-5" || len(sum.Console.Tokens) != 2 {
		t.Fatalf("config record %+v\nsummary %+v", cc, sum)
	}

	// No secret anywhere in the journal file, in any record.
	raw, err := os.ReadFile(jpath)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range append([]string{fileToken}, values(secrets)...) {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the journal holds secret %q", s)
		}
	}

	code, out, errs = runCLI(t, "journal", "verify", "--db", jpath)
	var rep journal.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || !rep.OK {
		t.Fatalf("verify: exit %d %s %s %v", code, out, errs, err)
	}
	code, out, _ = runCLI(t, "journal", "dump", "--db", jpath, "--since", fmt.Sprint(cfgRecs[0].Seq))
	line, _, _ := strings.Cut(out, "\n")
	if code != 0 || !strings.Contains(line, "config_change") || !strings.Contains(line, "config sha256:"+want) ||
		!strings.Contains(line, "broker sim, 2 accounts [R1 R2]") || len(line) > 400 {
		t.Fatalf("dump line %q", line)
	}
	t.Logf("dump: %s", line)
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestConfigRecordOfDefaultDesk: the built-in desk's record decodes through
// the journal's accessor and prints on one line.
func TestConfigRecordOfDefaultDesk(t *testing.T) {
	rec, err := configRecord(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	cc, err := rec.ConfigChange()
	if err != nil {
		t.Fatal(err)
	}
	s := summarizeConfig(cc)
	if !strings.Contains(s, "(built-in defaults)") || !strings.Contains(s, "[ORB1 VWAP1 DELTA1]") || !strings.Contains(s, "broker venue") ||
		!strings.Contains(s, "drawdown 1.5% account / 1.5% desk") {
		t.Fatalf("summary line %q", s)
	}
	if got := summarizeConfig(journal.ConfigChange{Who: "rm", Key: "limits.max_position", From: "20", To: "10", Why: "quiet day"}); got != "limits.max_position 20 → 10 by rm (quiet day)" {
		t.Fatalf("change line %q", got)
	}
}
