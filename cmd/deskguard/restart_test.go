package main

// restart_test.go: the built-in venue stopped with a position open, and a
// restart on the same journal (issue 16), with real processes: `deskguard
// run` (the test binary as deskguard) starting its own venue child, stopped
// by SIGTERM while an account holds a position. Its summary says the
// position is not protected (the built-in venue went with it) and that the
// desk has stopped. The second run on the same journal says the position is
// gone, journals it as a reconcile record with both sides, and trades; the
// report then shows a correction row for it, and no round trip pairs the
// first run's open entry with the second run's fills.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/journal"
)

// restartConfig is the built-in desk (its own venue child) with in-process
// engines, fast, without a console.
func restartConfig(t *testing.T, dir string) string {
	t.Helper()
	cfg := fmt.Sprintf(`[desk]
journal = %q
control_socket = %q
workers = "in-process"
log_level = "warn"

[data]
pace = 120.0

[broker]
kind = "venue"

[console]
listen = "off"

[[accounts]]
id = "ORB1"
start_equity = "50000.00"
strategies = ["orb"]

[[accounts]]
id = "VWAP1"
start_equity = "50000.00"
strategies = ["vwapmr"]

[[accounts]]
id = "DELTA1"
start_equity = "50000.00"
strategies = ["delta"]
`, filepath.Join(dir, "desk.db"), filepath.Join(dir, "desk.sock"))
	p := filepath.Join(dir, "desk.toml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// deskProc is one `deskguard run` process.
type deskProc struct {
	t    *testing.T
	dir  string
	wait chan error
	mu   sync.Mutex
	out  strings.Builder
	stop func()
}

func startDeskRun(t *testing.T, dir, cfg string) *deskProc {
	t.Helper()
	cmd := selfCmd(t, dir, "run", "--config", cfg, "--status-every", "1h")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("run-%d.log", time.Now().UnixNano())))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &deskProc{t: t, dir: dir, wait: make(chan error, 1)}
	lines := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
		close(lines)
	}()
	go func() { <-lines; p.wait <- cmd.Wait(); logf.Close() }()
	p.stop = func() { _ = cmd.Process.Signal(syscall.SIGTERM) }
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return p
}

func (p *deskProc) output() string { p.mu.Lock(); defer p.mu.Unlock(); return p.out.String() }

// venuePid is the built-in venue child's pid, from the run's start line
// ("… at the local venue URL (pid N, log …)"); 0 if not found.
func (p *deskProc) venuePid() int {
	out := p.output()
	i := strings.Index(out, "(pid ")
	if i < 0 {
		return 0
	}
	var pid int
	if _, err := fmt.Sscanf(out[i:], "(pid %d,", &pid); err != nil {
		return 0
	}
	return pid
}

// status asks the desk over its socket (false until it answers).
func (p *deskProc) status() (deskapi.Status, bool) {
	tok, err := os.ReadFile(filepath.Join(p.dir, defaultTokenFile))
	if err != nil {
		return deskapi.Status{}, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := deskapi.Call(ctx, filepath.Join(p.dir, "desk.sock"), deskapi.Request{Token: strings.TrimSpace(string(tok)), Op: "status"})
	if err != nil || r.Status == nil {
		return deskapi.Status{}, false
	}
	return *r.Status, true
}

// until polls the desk's status until cond holds (bounded; a failure, not
// a synchronisation: each poll is a real request to the running desk).
func (p *deskProc) until(what string, limit time.Duration, cond func(deskapi.Status) bool) deskapi.Status {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		if st, ok := p.status(); ok && cond(st) {
			return st
		}
		select {
		case err := <-p.wait:
			p.t.Fatalf("the desk ended (%v) before %s:\n%s", err, what, p.output())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no %s within %s:\n%s", what, limit, p.output())
		}
	}
	return deskapi.Status{}
}

func (p *deskProc) end() string {
	p.t.Helper()
	p.stop()
	select {
	case <-p.wait:
	case <-time.After(60 * time.Second):
		p.t.Fatalf("the desk did not stop on SIGTERM:\n%s", p.output())
	}
	return p.output()
}

// positionsOf books the journal's fills and reconciliations.
func positionsOf(t *testing.T, path string) map[string]int64 {
	t.Helper()
	j, err := journal.Open(path, journal.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	jt, err := readJournalTrips(j, sessionRange{})
	if err != nil {
		t.Fatal(err)
	}
	return jt.Positions
}

func TestRestartAfterBuiltInVenueStoppedWithAPosition(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes over a paced session; not in -short")
	}
	dir := t.TempDir()
	cfg := restartConfig(t, dir)
	journalPath := filepath.Join(dir, "desk.db")

	// Run 1: stopped while a position is open. The stop races the desk's
	// own exits, so the journal says whether one was left open; a run that
	// flattened first is tried again on a fresh journal.
	var open string
	var books int64
	var out1 string
	for attempt := 1; open == "" && attempt <= 4; attempt++ {
		_ = os.Remove(journalPath)
		p := startDeskRun(t, dir, cfg)
		st := p.until("an open position", 3*time.Minute, func(st deskapi.Status) bool {
			for _, a := range st.Accounts {
				if a.Position != 0 {
					return true
				}
			}
			return false
		})
		// The venue child is frozen first, so nothing closes the position
		// while the desk stops (its brackets would otherwise go on firing
		// at the replay's pace); it dies with the desk.
		if pid := p.venuePid(); pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGSTOP)
		}
		out1 = p.end()
		for acct, pos := range positionsOf(t, journalPath) {
			if pos != 0 {
				open, books = acct, pos
			}
		}
		t.Logf("attempt %d: status showed %v; the journal leaves %s %d", attempt, positions(st), open, books)
	}
	if open == "" {
		t.Fatal("four runs stopped with every position already flat")
	}
	if !strings.Contains(out1, "the desk has stopped") || !strings.Contains(out1, "is NOT protected: the built-in venue (the desk's own venue process) stopped with the desk") {
		t.Errorf("run 1's summary is not truthful about the built-in venue:\n%s", out1)
	}
	if strings.Contains(out1, "stays protected") {
		t.Errorf("run 1's summary says the position stays protected:\n%s", out1)
	}

	// Run 2 on the same journal: the desk recovers the position from the
	// journal (issue 25.2: recovery always runs), its reconciliation with
	// the new venue at start corrects it to flat without faulting the
	// account, which trades on (its engine's session state is recovered
	// too: the ORB takes one breakout a session, so it need not enter again).
	p := startDeskRun(t, dir, cfg)
	p.until(open+" corrected to flat and trading", 3*time.Minute, func(st deskapi.Status) bool {
		for _, a := range st.Accounts {
			if a.ID == open && st.State == "running" && a.State == "trading" && a.Position == 0 {
				return true
			}
		}
		return false
	})
	out2 := p.end()
	if want := fmt.Sprintf("%s: the journal leaves a position of %d that this new built-in venue (the desk's own venue process) does not hold", open, books); !strings.Contains(out2, want) {
		t.Errorf("run 2 does not say %q:\n%s", want, out2)
	}

	// The report: a correction row, and no trip across the restart.
	code, rout, rerr := runCLI(t, "report", "--db", journalPath, "--json")
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, rerr)
	}
	var rep struct {
		Corrections []struct {
			Seq     uint64 `json:"seq"`
			Account string `json:"account"`
			Books   int64  `json:"books"`
			Venue   int64  `json:"venue"`
			Qty     int64  `json:"qty"`
			Trips   int    `json:"trips"`
			Why     string `json:"why"`
		} `json:"corrections"`
		Trips []struct {
			Account  string `json:"account"`
			ID       string `json:"id"`
			EntrySeq uint64 `json:"entry_seq"`
			ExitSeq  uint64 `json:"exit_seq"`
			Ticks    int64  `json:"tick_qty"`
			Qty      int64  `json:"qty"`
		} `json:"trips"`
	}
	if err := json.Unmarshal([]byte(rout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Corrections) != 1 {
		t.Fatalf("corrections %+v, want one", rep.Corrections)
	}
	c := rep.Corrections[0]
	if c.Account != open || c.Books != books || c.Venue != 0 || c.Qty != max(books, -books) || c.Trips < 1 || !strings.Contains(c.Why, "journal") {
		t.Fatalf("correction %+v, want %s books %d venue 0", c, open, books)
	}
	second := 0
	for _, tr := range rep.Trips {
		if tr.EntrySeq < c.Seq && tr.ExitSeq > c.Seq {
			t.Errorf("a round trip across the restart: %+v (the correction is seq %d)", tr, c.Seq)
		}
		if tr.Account == open && tr.EntrySeq > c.Seq {
			second++
		}
	}
	t.Logf("%s: %d left open by run 1, corrected at seq %d (%q); %d round trips of run 2 after it", open, books, c.Seq, c.Why, second)
	// The text report shows the row too.
	if code, txt, _ := runCLI(t, "report", "--db", journalPath); code != 0 || !strings.Contains(txt, "Corrections (reconciliations that changed a position") {
		t.Errorf("text report without the corrections:\n%s", txt)
	}
}

func positions(st deskapi.Status) map[string]int64 {
	out := map[string]int64{}
	for _, a := range st.Accounts {
		out[a.ID] = a.Position
	}
	return out
}
