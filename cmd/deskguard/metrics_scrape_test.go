package main

// metrics_scrape_test.go: a real `deskguard run` (the built-in desk's three
// engines against its venue child, pace 120×) scraped at /metrics on the
// console's server: every family issue 23 names is there, and they move
// during the session — intents, orders and fills counted, the gate and the
// journal's commits timed, a console stream client seen, and a SIGUSR1 kill
// timed to sent and to flat.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// scrape fetches url and returns each sample (name{labels} → value) and
// the families named by its TYPE lines.
func scrape(t *testing.T, url string) (map[string]float64, map[string]bool) {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.StatusCode != 200 {
		b, _ := io.ReadAll(r.Body)
		t.Fatalf("GET %s: %d %s", url, r.StatusCode, b)
	}
	samples, families := map[string]float64{}, map[string]bool{}
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if f, ok := strings.CutPrefix(l, "# TYPE "); ok {
			families[strings.Fields(f)[0]] = true
			continue
		}
		if l == "" || l[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", l, err)
		}
		samples[l[:i]] = v
	}
	return samples, families
}

// sum adds the samples of name (every label set).
func sum(samples map[string]float64, name string) float64 {
	s := 0.0
	for k, v := range samples {
		if k == name || strings.HasPrefix(k, name+"{") {
			s += v
		}
	}
	return s
}

func TestRunServesMetrics(t *testing.T) {
	dir := t.TempDir()
	cfg := restartConfig(t, dir) // the built-in desk's three engines, pace 120, venue child
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "[console]\nlisten = \"off\"", "[console]\nlisten = \"127.0.0.1:0\"", 1)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := selfCmd(t, dir, "run", "--config", cfg, "--status-every", "1h")
	stdout, stderr := &lockedBuf{}, &lockedBuf{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	if !stdout.waitFor("deskguard: 3 accounts", 60*time.Second) {
		t.Fatalf("the desk did not start:\n%s\n%s", stdout, stderr)
	}
	var url, base, viewer string
	for _, l := range strings.Split(stdout.String(), "\n") {
		if u, ok := strings.CutPrefix(l, "metrics: "); ok {
			url = strings.TrimSpace(u)
		}
		if u, ok := strings.CutPrefix(l, "console: "); ok {
			base = strings.TrimSpace(u)
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "viewer "); ok {
			viewer = strings.TrimSpace(v)
		}
	}
	if url != base+"/metrics" || viewer == "" {
		t.Fatalf("metrics %q, console %q, viewer token %q:\n%s", url, base, viewer, stdout)
	}
	first, families := scrape(t, url)
	for _, f := range []string{"deskguard_kill_sent_seconds", "deskguard_kill_flat_seconds", "deskguard_gate_check_seconds",
		"deskguard_rejections_total", "deskguard_intents_total", "deskguard_orders_total", "deskguard_fills_total",
		"deskguard_journal_commit_seconds", "deskguard_journal_commit_records", "deskguard_account_equity_dollars",
		"deskguard_account_lockout_line_dollars", "deskguard_account_allowance_used_dollars", "deskguard_account_position_contracts",
		"deskguard_link_up", "deskguard_link_state", "deskguard_worker_restarts_total", "deskguard_console_stream_clients",
		"deskguard_desk_state", "go_goroutines", "process_resident_memory_bytes"} {
		if !families[f] {
			t.Errorf("family %s missing from the scrape", f)
		}
	}
	for _, s := range []string{`deskguard_link_up{link="venue"}`, `deskguard_link_up{link="data"}`, `deskguard_link_up{link="slack"}`,
		`deskguard_link_up{link="panic_button"}`, `deskguard_account_equity_dollars{account="ORB1"}`,
		`deskguard_intents_total{account="DELTA1"}`} {
		if _, ok := first[s]; !ok {
			t.Errorf("sample %s missing", s)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// A console stream client, counted while it is connected.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/events", nil)
	req.Header.Set("Authorization", "Bearer "+viewer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/api/events: %d", resp.StatusCode)
	}

	// The session trades: wait (on the desk's own figures, bounded) for
	// fills booked on the venue's reports.
	var now map[string]float64
	deadline := time.Now().Add(150 * time.Second)
	for {
		now, _ = scrape(t, url)
		if sum(now, "deskguard_fills_total") > 0 && now["deskguard_console_stream_clients"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no fill in the session's first part (intents %v, stream clients %v):\n%s", sum(now, "deskguard_intents_total"),
				now["deskguard_console_stream_clients"], stderr)
		}
		select {
		case err := <-done:
			t.Fatalf("run exited: %v\n%s", err, stderr)
		case <-time.After(200 * time.Millisecond): // an outside scraper's interval
		}
	}
	for _, name := range []string{"deskguard_intents_total", "deskguard_orders_total", "deskguard_gate_check_seconds_count",
		"deskguard_journal_commit_seconds_count", "deskguard_journal_commit_records_sum", "deskguard_feed_trades"} {
		if !(sum(now, name) > sum(first, name)) {
			t.Errorf("%s did not move: %v then %v", name, sum(first, name), sum(now, name))
		}
	}
	if g, o := sum(now, "deskguard_gate_check_seconds_count"), sum(now, "deskguard_intents_total"); g != o {
		t.Errorf("gate checks %v, intents %v: one check an intent", g, o)
	}

	// A kill by SIGUSR1: timed to sent, and each account to flat.
	if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(60 * time.Second)
	for {
		now, _ = scrape(t, url)
		if now[`deskguard_kill_sent_seconds_count{trigger="sigusr1"}`] == 1 && now["deskguard_kill_flat_seconds_count"] == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kill sent %v, flat %v (want 1 and 3: three accounts)\n%s", now[`deskguard_kill_sent_seconds_count{trigger="sigusr1"}`],
				now["deskguard_kill_flat_seconds_count"], stderr)
		}
		select {
		case err := <-done:
			t.Fatalf("run exited: %v\n%s", err, stderr)
		case <-time.After(100 * time.Millisecond): // an outside scraper's interval
		}
	}
	if st := now[`deskguard_desk_state{state="halted"}`] + now[`deskguard_desk_state{state="halting"}`]; st != 1 {
		t.Errorf("desk state after the kill: %v", filterPrefix(now, "deskguard_desk_state"))
	}
	cancel()
}

func filterPrefix(m map[string]float64, p string) string {
	var b strings.Builder
	for k, v := range m {
		if strings.HasPrefix(k, p) {
			fmt.Fprintf(&b, "%s %v; ", k, v)
		}
	}
	return b.String()
}
