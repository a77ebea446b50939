package main

// report_zone_test.go: `deskguard report` shows times in the desk's zone
// (issue 19): the zone the journal's effective-config record names, or
// --config FILE's [desk] time_zone, with --zone over both; New York when
// nothing names one; labelled. And `deskguard signals` shows one zone,
// labelled, the same way.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/journal"
)

// zonedJournal is handJournal's journal with a desk start's
// effective-config record of a desk whose time_zone is zone.
func zonedJournal(t *testing.T, zone string) string {
	t.Helper()
	path := handJournal(t)
	c := config.Default()
	c.Desk.TimeZone = zone
	j, err := journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := journalConfig(context.Background(), j, c); err != nil {
		t.Fatal(err)
	}
	return path
}

// zonedConfig writes the example config with its time_zone set to zone.
func zonedConfig(t *testing.T, zone string) string {
	t.Helper()
	code, text, errs := runCLI(t, "config", "example")
	if code != 0 {
		t.Fatalf("config example: exit %d: %s", code, errs)
	}
	old := `time_zone = "` + config.DefaultTimeZone + `"`
	if !strings.Contains(text, old) {
		t.Fatalf("the example has no %s line", old)
	}
	path := filepath.Join(t.TempDir(), "desk.toml")
	if err := os.WriteFile(path, []byte(strings.Replace(text, old, `time_zone = "`+zone+`"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReportZone(t *testing.T) {
	chicago := zonedJournal(t, "America/Chicago")
	plain := handJournal(t)
	london := zonedConfig(t, "Europe/London")
	csv := filepath.Join("..", "..", "report", "testdata", "seed.csv")
	for _, tc := range []struct {
		name string
		args []string
		want string // the page's "Times in" zone
	}{
		{"the journal's desk zone", []string{"--db", chicago}, "America/Chicago"},
		{"--zone over the journal", []string{"--db", chicago, "--zone", "America/New_York"}, "America/New_York"},
		{"--config over the journal", []string{"--db", chicago, "--config", london}, "Europe/London"},
		{"--zone over --config", []string{"--db", chicago, "--config", london, "--zone", "Asia/Tokyo"}, "Asia/Tokyo"},
		{"no config record: New York", []string{"--db", plain}, "America/New_York"},
		{"a trades CSV with --config", []string{"--trades", csv, "--config", london}, "Europe/London"},
	} {
		html := filepath.Join(t.TempDir(), "r.html")
		code, _, errs := runCLI(t, append(append([]string{"report"}, tc.args...), "--html", html)...)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", tc.name, code, errs)
			continue
		}
		b, err := os.ReadFile(html)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "Times in "+tc.want+".") {
			t.Errorf("%s: the page does not say times are in %s", tc.name, tc.want)
		}
	}
	// The journal's record is read, and the chart's axis is labelled as the
	// console labels it (2026-03-10 is daylight time in Chicago).
	b, err := os.ReadFile(func() string {
		html := filepath.Join(t.TempDir(), "c.html")
		if code, _, errs := runCLI(t, "report", "--db", chicago, "--html", html); code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		return html
	}())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "CDT, America/Chicago") {
		t.Error("the chart's time axis is not labelled CDT, America/Chicago")
	}
	for _, args := range [][]string{
		{"report", "--db", chicago, "--zone", "Mars/Olympus"},
		{"report", "--db", chicago, "--zone", "Local"},
		{"report", "--db", chicago, "--config", filepath.Join(t.TempDir(), "missing.toml")},
	} {
		if code, _, errs := runCLI(t, args...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q (want 2 and why)", args, code, errs)
		}
	}
}

// signalsFirstTime is the header and the first intent's time in a
// signals text output.
func signalsFirstTime(t *testing.T, out string) (head string, at time.Time, zone *time.Location) {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "TIME (") || i+1 >= len(lines) {
			continue
		}
		head = l[:strings.Index(l, ")")+1]
		name := head[strings.Index(head, ", ")+2 : len(head)-1]
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatalf("header %q: %v", head, err)
		}
		f := strings.Fields(lines[i+1])
		at, err = time.ParseInLocation("2006-01-02 15:04:05.000", f[0]+" "+f[1], loc)
		if err != nil {
			t.Fatalf("first row %q: %v", lines[i+1], err)
		}
		return head, at, loc
	}
	t.Fatalf("no TIME header in:\n%s", out)
	return
}

func TestSignalsZone(t *testing.T) {
	base := []string{"signals", "--synth", "1", "--regime", "range", "--strategy", "vwapmr"}
	chicago := zonedConfig(t, "America/Chicago")
	var first time.Time
	for i, tc := range []struct {
		name string
		args []string
		head string
	}{
		{"default", nil, "TIME (EDT, America/New_York)"},
		{"--config", []string{"--config", chicago}, "TIME (CDT, America/Chicago)"},
		{"--zone over --config", []string{"--config", chicago, "--zone", "UTC"}, "TIME (UTC, UTC)"},
	} {
		code, out, errs := runCLI(t, append(base[:len(base):len(base)], tc.args...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.name, code, errs)
		}
		if strings.Contains(out, "\tET\t") || strings.Contains(out, "  ET  ") {
			t.Errorf("%s: a second zone's column is still there:\n%s", tc.name, out)
		}
		head, at, _ := signalsFirstTime(t, out)
		if head != tc.head {
			t.Errorf("%s: header %q, want %q", tc.name, head, tc.head)
		}
		// Each zone shows the same instant.
		if i == 0 {
			first = at
		} else if !at.Equal(first) {
			t.Errorf("%s: first intent at %v, the default's at %v: not the same instant", tc.name, at, first)
		}
	}
	if code, _, errs := runCLI(t, append(base[:len(base):len(base)], "--zone", "Nowhere/Land")...); code != 2 || errs == "" {
		t.Errorf("a bad --zone: exit %d, stderr %q", code, errs)
	}
}
