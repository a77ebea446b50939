package config

// rules_test.go: [risk] and the rule keys of [limits]: a bad calendar file
// refuses the config with its own file and line, a good one reaches the
// gates, the desk ladder resolves to [limits], and per-account overrides
// of the new keys are validated merged.

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const oneAccount = "[[accounts]]\nid = \"A\"\nstart_equity = \"1000\"\nstrategies = [\"orb\"]\n"

func TestRiskCalendar(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "news.csv")
	if err := os.WriteFile(bad, []byte("date,time,name\n2026-01-28,14:00,FOMC\n2026-01-29,2pm,oops\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	text := "[desk]\nname = \"x\"\n[risk]\ncalendar = \"" + bad + "\"\n" + oneAccount
	_, err := Parse("desk.toml", text)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Line != 4 || ce.Key != "risk.calendar" {
		t.Fatalf("bad calendar: %v", err)
	}
	// The config's file, line and key, then the calendar's.
	if !strings.Contains(err.Error(), "desk.toml:4: risk.calendar: calendar: "+bad+":3: ") || !strings.Contains(err.Error(), "want HH:MM") {
		t.Fatalf("the error does not name the calendar's line and fault: %v", err)
	}
	if _, err := Parse("desk.toml", "[risk]\ncalendar = \""+filepath.Join(dir, "none.ics")+"\"\n"+oneAccount); err == nil {
		t.Fatal("missing calendar accepted")
	}
	ex, err := filepath.Abs("../limits/calendar/testdata/news-2026.ics")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("desk.toml", "[risk]\ncalendar = \""+ex+"\"\n"+oneAccount)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := c.NewsCalendar()
	if err != nil || cal.Len() != 21 {
		t.Fatalf("calendar %v %v", cal, err)
	}
	if cal, err := Default().NewsCalendar(); cal != nil || err != nil {
		t.Fatal("the built-in desk has a calendar")
	}
}

func TestRiskDeskLadder(t *testing.T) {
	c, err := Parse("desk.toml", "[limits]\nwarn_pct = 70\n[risk]\ndesk_reduce_only_pct = 85\n"+oneAccount)
	if err != nil {
		t.Fatal(err)
	}
	if w, r := c.DeskLadder(); w != 70 || r != 85 {
		t.Fatalf("ladder %d %d", w, r)
	}
	if w, r := Default().DeskLadder(); w != 80 || r != 90 {
		t.Fatalf("default ladder %d %d", w, r)
	}
	_, err = Parse("desk.toml", "[risk]\ndesk_warn_pct = 95\n"+oneAccount)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Key != "risk.desk_warn_pct" || ce.Line != 2 {
		t.Fatalf("warn above reduce-only: %v", err)
	}
}

func TestRuleKeysValidatedPerAccount(t *testing.T) {
	for _, tc := range []struct{ text, key string }{
		{"[limits]\ntrailing_mode = \"eod\"\n" + oneAccount, "limits"},
		{"[limits]\nself_match = \"maybe\"\n" + oneAccount, "limits"},
		{oneAccount + "[accounts.limits]\nreduce_only_pct = 70\n", "accounts[0].limits"}, // under the desk's warn 80
		{oneAccount + "[accounts.limits]\nblackout_flatten = \"10m\"\n", "accounts[0].limits"},
		{oneAccount + "[accounts.limits]\nscaling_tiers = [\"2000\", \"1000\"]\n", "accounts[0].limits"},
	} {
		_, err := Parse("desk.toml", tc.text)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%q: %v, want an error at %s", tc.text, err, tc.key)
		}
	}
	c, err := Parse("desk.toml", "[limits]\ndaily_trade_limit = 8\n"+oneAccount+
		"[accounts.limits]\ntrailing_mode = \"intraday\"\ntrailing_drawdown = \"500\"\ntrailing_freeze_at = \"0\"\nloss_cooldown = \"45m\"\n")
	if err != nil {
		t.Fatal(err)
	}
	g := c.Accounts[0].AccountsConfig().GateConfig(c.Limits)
	if g.DailyTradeLimit != 8 || g.TrailingMode != "intraday" || g.TrailingFreezeAt == nil || g.LossCooldown.Minutes() != 45 || g.LossStreak != 3 {
		t.Fatalf("effective %+v", g)
	}
}
