package main

// restart_lockout_test.go: issue 25.2 with real processes. `deskguard run`
// on the built-in desk — the venue child (`[broker] kind = "venue"`) or
// the in-process sim — trades a data file in which the ORB's long gaps
// through its stop: the account is locked out. The desk is SIGKILLed (its
// venue dies with it) and started again on the same journal: it recovers
// (as with an external venue), reconciles with the new, empty venue, and
// the account is still locked out — the replayed breakout of the second
// life is refused, not sent.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/drill"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/supervisor"
)

// gapSessionCSV writes the drill's gap session (drill.GapSession): the
// ORB takes an opening-range breakout long, the market hovers below the
// entry's trigger long enough (at drill.GapPace) for the entry to reach
// the venue before the market trades through it, then gaps 46 points
// through its stop: far past a $10,000 account's 1.5% line. A quiet tail
// follows, so that a paced desk is still running when the lockout is seen.
func gapSessionCSV(t *testing.T, path string) {
	t.Helper()
	if _, _, err := drill.GapSession(path); err != nil {
		t.Fatal(err)
	}
}

func writeLockoutConfig(t *testing.T, dir, kind, data string) string {
	t.Helper()
	cfg := fmt.Sprintf(`[desk]
journal = %q
control_socket = %q
workers = "in-process"
log_level = "warn"

[data]
file = %q
pace = %d.0

[broker]
kind = %q

[console]
listen = "off"

[[accounts]]
id = "L1"
start_equity = "10000.00"
strategies = ["orb"]

[[accounts]]
id = "BIG"
start_equity = "100000.00"
strategies = ["vwapmr"]
`, filepath.Join(dir, "desk.db"), filepath.Join(dir, "desk.sock"), data, drill.GapPace, kind)
	p := filepath.Join(dir, "desk.toml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitStatus polls the desk's control socket until cond holds (or ctx ends).
func waitStatus(ctx context.Context, dir string, cond func(deskapi.Status) bool) (deskapi.Status, bool) {
	var last deskapi.Status
	for ctx.Err() == nil {
		if tok, err := os.ReadFile(filepath.Join(dir, defaultTokenFile)); err == nil {
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			resp, err := deskapi.Call(cctx, filepath.Join(dir, "desk.sock"), deskapi.Request{Token: strings.TrimSpace(string(tok)), Op: "status"})
			cancel()
			if err == nil && resp.Status != nil {
				last = *resp.Status
				if cond(last) {
					return last, true
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond): // an outside observer's polling interval, not synchronisation
		}
	}
	return last, false
}

func accountState(st deskapi.Status, id string) string {
	for _, a := range st.Accounts {
		if a.ID == id {
			return a.State
		}
	}
	return ""
}

func TestLockoutSurvivesRestartOfBuiltinDesk(t *testing.T) {
	for _, kind := range []string{"venue", "sim"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "gap.csv")
			gapSessionCSV(t, data)
			cfg := writeLockoutConfig(t, dir, kind, data)

			// First life: trades until L1 is locked out, then SIGKILL.
			first := selfCmd(t, dir, "run", "--config", cfg, "--status-every", "1h")
			first.Stdout, first.Stderr = mustCreate(t, dir, "run1.out"), mustCreate(t, dir, "run1.err")
			if err := first.Start(); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), startGuard) // a hang guard on the desk's status
			st, ok := waitStatus(ctx, dir, func(st deskapi.Status) bool { return accountState(st, "L1") == supervisor.AcctLockedOut })
			cancel()
			if !ok {
				_ = first.Process.Kill()
				_ = first.Wait()
				errs, _ := os.ReadFile(filepath.Join(dir, "run1.err"))
				t.Fatalf("L1 never locked out in the first life (last status: L1 %s, %d trades)\n%s", accountState(st, "L1"), st.Trades, errs)
			}
			_ = first.Process.Signal(syscall.SIGKILL)
			_ = first.Wait()

			// Second life on the same journal: a new, empty venue; the whole
			// file again at once (the breakout comes again).
			sum := filepath.Join(dir, "summary.json")
			second := selfCmd(t, dir, "run", "--config", cfg, "--status-every", "1h", "--pace", "0", "--summary", sum,
				"--end-after-idle", "3s")
			var out strings.Builder
			second.Stdout, second.Stderr = &out, mustCreate(t, dir, "run2.err")
			done := make(chan error, 1)
			if err := second.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- second.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("second life: %v\n%s", err, out.String())
				}
			case <-time.After(5 * time.Minute): // a hang guard: the whole file at once, then 3 s idle
				_ = second.Process.Kill()
				t.Fatalf("the second life did not end\n%s", out.String())
			}
			if !strings.Contains(out.String(), "recovered from the journal") {
				t.Errorf("the second life did not recover from the journal:\n%s", out.String())
			}
			var s supervisor.Summary
			b, err := os.ReadFile(sum)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatal(err)
			}
			for _, a := range s.Accounts {
				if a.ID == "L1" && (!a.LockedOut || a.State != supervisor.AcctLockedOut) {
					t.Errorf("L1 after the restart: state %s, locked out %v; want still locked_out\n%s", a.State, a.LockedOut, out.String())
				}
			}
			// Nothing of L1's was sent in the second life: its breakout was refused.
			j, err := journal.Open(filepath.Join(dir, "desk.db"), journal.Options{ReadOnly: true, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			starts, sent, refused := 0, 0, 0
			if err := j.Iterate(1, func(r journal.Record) error {
				switch r.Kind {
				case journal.KindSessionReset:
					if sr, err := r.SessionReset(); err == nil && sr.Why == "desk start" {
						starts++
					}
				case journal.KindIntent:
					body, err := r.IntentBody()
					if err != nil || starts < 2 || r.Account != "L1" || body.Decision == nil {
						return err
					}
					if body.Decision.Allowed {
						sent++
						t.Errorf("second life: L1 intent %s %s allowed while it should be locked out", body.Intent.ID, body.Intent.Kind)
					} else {
						refused++
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if starts != 2 {
				t.Fatalf("%d desk starts journaled, want 2", starts)
			}
			t.Logf("second life: L1 sent %d, refused %d", sent, refused)
		})
	}
}
