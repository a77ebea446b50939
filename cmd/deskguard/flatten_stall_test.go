package main

// flatten_stall_test.go: a flatten with the venue stalled (issue 25.6),
// with real processes: `deskguard run` with its built-in venue child, the
// venue SIGSTOPped (it holds its socket open and answers nothing, as a
// venue hung in a GC pause or a dead network path does), then several
// `deskguard flatten --all` at once. Every caller gets the answer at once —
// accepted, liquidations sent, the accounts the venue has not confirmed —
// and exits 0; `deskguard status` shows the kill's progress and the venue
// link down (the desk's own finding: a liquidation unanswered past its
// bound); once the venue runs again the liquidations are answered and the
// link comes back. Before the fix each caller waited on the venue and got
// an EOF (the control socket's 30 s deadline) or nothing.

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deskguard/deskguard/deskapi"
)

func TestFlattenAnsweredWithTheVenueStalled(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes; not in -short")
	}
	dir := t.TempDir()
	cfg := restartConfig(t, dir)
	p := startDeskRun(t, dir, cfg)
	p.until("the desk running", 3*time.Minute, func(st deskapi.Status) bool {
		return st.State == "running" && st.Trades > 0
	})
	pid := p.venuePid()
	if pid <= 0 {
		t.Fatalf("no venue child pid in the run's output:\n%s", p.output())
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}
	t.Cleanup(resume)

	// Four callers at once, each bounded inside the control socket's 30 s
	// deadline (a hang here is the defect, not a slow machine; 25 s leaves
	// four race-built processes room to start on a loaded machine).
	const callers = 4
	type answer struct {
		code     int
		out, err string
	}
	answers := make([]answer, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
			defer cancel()
			c := selfCmd(t, dir, "flatten", "--all", "--socket", "desk.sock")
			cmd := exec.CommandContext(ctx, c.Path, c.Args[1:]...)
			cmd.Dir, cmd.Env = c.Dir, c.Env
			var so, se bytes.Buffer
			cmd.Stdout, cmd.Stderr = &so, &se
			err := cmd.Run()
			code := 0
			if err != nil {
				code = -1
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				}
			}
			answers[i] = answer{code: code, out: so.String(), err: se.String()}
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if a.code != 0 || !strings.Contains(a.out, "accepted") || !strings.Contains(a.out, "not yet confirmed by the venue") {
			t.Errorf("caller %d: exit %d, stdout %q, stderr %q: want exit 0 and the accepted answer", i, a.code, a.out, a.err)
			continue
		}
		if !strings.Contains(a.out, "the kill goes on") {
			t.Errorf("caller %d: %q does not name an unconfirmed account (the venue is stopped)", i, a.out)
		}
	}

	// Status: the kill under way with liquidations unanswered, and the
	// venue link down once the answer bound has passed.
	st := p.until("the venue link down and the kill unanswered", startGuard, func(st deskapi.Status) bool {
		return st.Links.Venue == "down" && st.LastKill != nil && !st.LastKill.Answered
	})
	if st.LastKill.Scope != "desk" || len(st.LastKill.Accounts) != 3 {
		t.Errorf("last kill %+v, want the desk's three accounts", st.LastKill)
	}
	code, out, errOut := runCLIIn(t, dir, "status", "--socket", "desk.sock")
	if code != 0 || !strings.Contains(out, "liquidations not yet answered by the venue") || !strings.Contains(out, "venue down") {
		t.Errorf("deskguard status: exit %d, stderr %q:\n%s", code, errOut, out)
	}

	// The venue runs again: every liquidation is answered, the link back.
	resume()
	p.until("the liquidations answered and the venue link back", 2*time.Minute, func(st deskapi.Status) bool {
		return st.Links.Venue != "down" && st.LastKill != nil && st.LastKill.Answered
	})
	p.end()
}

// runCLIIn runs the test binary as deskguard with args in dir.
func runCLIIn(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := selfCmd(t, dir, args...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), so.String(), se.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, so.String(), se.String()
}
