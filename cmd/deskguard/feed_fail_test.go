package main

// feed_fail_test.go: a data file truncated mid-record (issue 25.7), with a
// real `deskguard run`. With the built-in venue child the venue replays the
// file and, when it fails, keeps serving its orders with no more trades:
// the desk used to sit on the silent data saying "running, data up" with
// no alert. Now the child says its data failed, the desk takes the data
// link down (journaled, alerted, the desk degraded: no new entries) and
// status says so. With the in-process sim the run's own feed fails: the
// data link goes down in the journal and the run exits 1 with the error.

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
)

// truncatedCSV writes the first n trades of a synthetic session as CSV
// ticks, then half a record (the file cut mid-line, fewer fields).
func truncatedCSV(t *testing.T, dir string, n int) string {
	t.Helper()
	ts, err := synth.Generate(synth.Options{Seed: 32, Scale: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := market.WriteCSVTicks(&b, ts[:n]); err != nil {
		t.Fatal(err)
	}
	b.WriteString(time.Unix(0, ts[n].Time).UTC().Format(time.RFC3339Nano) + ",51\n")
	p := filepath.Join(dir, "cut.csv")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// withData points restartConfig's desk at a data file and a broker kind.
func withData(t *testing.T, cfg, data, kind string) {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "pace = 120.0", "pace = 600.0\nfile = \""+data+"\"", 1)
	s = strings.Replace(s, `kind = "venue"`, `kind = "`+kind+`"`, 1)
	if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// dataLinks is the journal's data link records.
func dataLinks(t *testing.T, path string) []journal.Link {
	t.Helper()
	j, err := journal.Open(path, journal.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var out []journal.Link
	err = j.Iterate(0, func(r journal.Record) error {
		if r.Kind == journal.KindLink {
			l, err := r.Link()
			if err != nil {
				return err
			}
			if l.Link == "data" {
				out = append(out, l)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTruncatedDataTakesTheDataLinkDown(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes; not in -short")
	}
	t.Run("venue child", func(t *testing.T) {
		dir := t.TempDir()
		cfg := restartConfig(t, dir)
		withData(t, cfg, truncatedCSV(t, dir, 2000), "venue")
		p := startDeskRun(t, dir, cfg)
		// The link record and the desk's degraded state land one after the
		// other: wait on both (the hang guard names what was last seen).
		p.until("the data link down and the desk degraded", 3*time.Minute, func(st deskapi.Status) bool {
			return st.Links.Data == "down" && st.State == "degraded"
		})
		p.end()
		links := dataLinks(t, filepath.Join(dir, "desk.db"))
		if len(links) == 0 || links[0].OK || !strings.Contains(links[0].Why, "wrong number of fields") {
			t.Fatalf("journaled data links %+v, want the link down with the venue's error", links)
		}
	})
	t.Run("sim", func(t *testing.T) {
		dir := t.TempDir()
		cfg := restartConfig(t, dir)
		withData(t, cfg, truncatedCSV(t, dir, 2000), "sim")
		cmd := selfCmd(t, dir, "run", "--config", cfg, "--status-every", "1h")
		out, err := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); err == nil || code != 1 || !strings.Contains(string(out), "wrong number of fields") {
			t.Fatalf("run on a truncated file: exit %d (%v), want 1 with the feed's error:\n%s", code, err, out)
		}
		links := dataLinks(t, filepath.Join(dir, "desk.db"))
		if len(links) != 1 || links[0].OK {
			t.Fatalf("journaled data links %+v, want the link down", links)
		}
	})
}
