package main

// crash_test.go: the crash drill of issue 07 with real processes. A venue
// runs as its own process; a supervisor trades through it over the
// Tradovate protocol or R|Protocol (crashDrill's protocol), is SIGKILLed at
// a random moment while positions are open, and is started again on the
// same journal. The venue keeps holding
// (and firing) the brackets meanwhile; the restarted desk recovers from its
// journal, books the fills it missed, reconciles, and ends the session with
// the venue's positions and realized PnL. From the venue's own record of
// every order placement (`deskguard venue --record`): no client order id
// was placed twice, and every order of the desk's that the venue took was
// in the journal first.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/rithmic"
	"github.com/deskguard/deskguard/broker/tradovate"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/journal/ledgercheck"
	"github.com/deskguard/deskguard/supervisor"
)

// TestMain lets the test binary act as the deskguard binary for the
// processes these tests start (venue, run, worker).
func TestMain(m *testing.M) {
	if os.Getenv("DESKGUARD_TEST_MAIN") == "1" {
		// As main does: SIGINT and SIGTERM end the command cleanly.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := dispatch(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func selfCmd(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DESKGUARD_TEST_MAIN=1", "VENUE_PASSWORD=pw", "DG_VENUE_PW=pw")
	return cmd
}

// startVenue runs `deskguard venue --protocol protocol` as its own process
// and returns its URLs (md is empty for rithmic: one gateway serves every
// plant).
func startVenue(t *testing.T, dir, protocol string, seed int64, pace string) (base, md string, stop func()) {
	t.Helper()
	cmd := selfCmd(t, dir, "venue", "--listen", "127.0.0.1:0", "--synth", fmt.Sprint(seed), "--pace", pace,
		"--accounts", "C1,C2,C3", "--wait-for-chart", "--protocol", protocol)
	if protocol == "tradovate" {
		cmd.Args = append(cmd.Args, "--record", filepath.Join(dir, venueRecord))
	}
	logf, err := os.Create(filepath.Join(dir, "venue.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		logf.Close()
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() && (base == "" || md == "" && protocol != "rithmic") {
		if v, ok := strings.CutPrefix(sc.Text(), "venue: "); ok {
			base = v
		}
		if v, ok := strings.CutPrefix(sc.Text(), "md websocket: "); ok {
			md = v
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if base == "" || md == "" && protocol != "rithmic" {
		stop()
		t.Fatal("venue did not report its URLs")
	}
	return base, md, stop
}

// brokerSection is the desk config's [broker] for a venue process.
func brokerSection(protocol, base, md string) string {
	if protocol == "rithmic" {
		return fmt.Sprintf(`[broker]
kind = "rithmic"

[broker.rithmic]
url = %q
system_name = "deskguard venue"
user = "demo"
password_env = "DG_VENUE_PW"
`, base)
	}
	return fmt.Sprintf(`[broker]
kind = "tradovate"

[broker.tradovate]
base_url = %q
md_url = %q
user = "demo"
password_env = "DG_VENUE_PW"
`, base, md)
}

// dialVenueBroker connects to a venue process over its protocol.
func dialVenueBroker(ctx context.Context, protocol, base, md string) (broker.Broker, error) {
	if protocol == "rithmic" {
		return rithmic.Dial(ctx, rithmic.Config{URL: base, SystemName: "deskguard venue", User: "demo"}, rithmic.Credentials{Password: "pw"}, rithmic.Options{})
	}
	return tradovate.Dial(ctx, tradovate.Config{BaseURL: base, MDURL: md, User: "demo"}, tradovate.Credentials{Password: "pw"}, tradovate.Options{})
}

func writeDeskConfig(t *testing.T, dir, protocol, base, md string) string {
	t.Helper()
	cfg := fmt.Sprintf(`[desk]
journal = %q
control_socket = %q
workers = "in-process"
log_level = "warn"

[data]
pace = 0.0

%s
[console]
listen = "off"

[[accounts]]
id = "C1"
start_equity = "50000.00"
strategies = ["vwapmr"]

[[accounts]]
id = "C2"
start_equity = "50000.00"
strategies = ["delta"]

[[accounts]]
id = "C3"
start_equity = "50000.00"
strategies = ["delta", "vwapmr"]
`, filepath.Join(dir, "desk.db"), filepath.Join(dir, "desk.sock"), brokerSection(protocol, base, md))
	p := filepath.Join(dir, "desk.toml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitOpenPosition polls the desk's status until an account holds a
// position (or the deadline passes).
func waitOpenPosition(ctx context.Context, dir string) bool {
	for ctx.Err() == nil {
		tok, err := os.ReadFile(filepath.Join(dir, defaultTokenFile))
		if err == nil {
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			resp, err := deskapi.Call(cctx, filepath.Join(dir, "desk.sock"), deskapi.Request{Token: strings.TrimSpace(string(tok)), Op: "status"})
			cancel()
			if err == nil {
				for _, a := range resp.Status.Accounts {
					if a.Position != 0 {
						return true
					}
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond): // polling interval of an outside observer, not synchronisation
		}
	}
	return false
}

func TestCrashDrillSupervisorKilledVenueHoldsBrackets(t *testing.T) { crashDrill(t, "tradovate") }

// TestCrashDrillRithmic is the crash drill over R|Protocol.
func TestCrashDrillRithmic(t *testing.T) { crashDrill(t, "rithmic") }

func crashDrill(t *testing.T, protocol string) {
	// wait bounds the first life's wait for an open position: the whole
	// paced session (about 16 s at 1500×, 60 s at 400×) and then some, so
	// that a slow start on a loaded machine does not cost the kill its
	// position; a session with none is killed flat at the bound.
	rounds, pace, wait := 10, "1500", 45*time.Second
	if raceBuild {
		rounds, pace, wait = 2, "400", 2*time.Minute
	}
	if n, err := strconv.Atoi(os.Getenv("DESKGUARD_CRASH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	// The kill moments come from a seed that is printed, so a failing round
	// can be replayed: DESKGUARD_CRASH_SEED=N go test -run TestCrashDrill ./cmd/deskguard
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("DESKGUARD_CRASH_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("crash drill seed %d (replay with DESKGUARD_CRASH_SEED=%d)", seed, seed)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("FAILED with seed %d: replay with DESKGUARD_CRASH_SEED=%d", seed, seed)
		}
	})
	rng := rand.New(rand.NewPCG(seed, 7))
	killedWithPosition := 0
	for round := 0; round < rounds; round++ {
		t.Run(fmt.Sprintf("round%d", round), func(t *testing.T) {
			dir := t.TempDir()
			base, md, stopVenue := startVenue(t, dir, protocol, int64((round+1)%3+1), pace)
			defer stopVenue()
			keepOnFailure(t, dir, fmt.Sprintf("%s-%d-round%d", protocol, seed, round))
			cfg := writeDeskConfig(t, dir, protocol, base, md)

			// First life: killed at a random moment once a position is open.
			first := selfCmd(t, dir, "run", "--config", cfg, "--status-every", "1h")
			first.Stdout, first.Stderr = mustCreate(t, dir, "run1.out"), mustCreate(t, dir, "run1.err")
			if err := first.Start(); err != nil {
				t.Fatal(err)
			}
			// Kill once a position is open (or at the bound).
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			if waitOpenPosition(ctx, dir) {
				killedWithPosition++
			}
			cancel()
			// A little more random time, then SIGKILL: no clean shutdown at all.
			time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond) // the random kill moment (fault injection), not synchronisation
			_ = first.Process.Signal(syscall.SIGKILL)
			_ = first.Wait()

			// Second life on the same journal, against the same venue.
			sumPath := filepath.Join(dir, "summary.json")
			second := selfCmd(t, dir, "run", "--config", cfg, "--status-every", "1h", "--summary", sumPath, "--end-after-idle", "15s")
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
					t.Fatalf("restarted desk: %v\n%s", err, out.String())
				}
			case <-time.After(5 * time.Minute): // a hang guard: the session's rest, then 15 s idle
				_ = second.Process.Kill()
				errs, _ := os.ReadFile(filepath.Join(dir, "run2.err"))
				if len(errs) > 4000 {
					errs = errs[len(errs)-4000:]
				}
				t.Fatalf("restarted desk did not finish the session\n%s\nstderr tail:\n%s", out.String(), errs)
			}
			if !strings.Contains(out.String(), "recovered from the journal") {
				t.Fatalf("the restart did not recover from the journal:\n%s", out.String())
			}

			// The desk ends with the venue's positions and realized PnL.
			var sum supervisor.Summary
			b, err := os.ReadFile(sumPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &sum); err != nil {
				t.Fatal(err)
			}
			cctx, ccancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer ccancel()
			cl, err := dialVenueBroker(cctx, protocol, base, md)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			ps, err := cl.Positions(cctx)
			if err != nil {
				t.Fatal(err)
			}
			atVenue := map[string][2]int64{}
			for _, p := range ps {
				atVenue[p.Account] = [2]int64{p.Qty, p.Realized}
			}
			for _, a := range sum.Accounts {
				v := atVenue[a.ID]
				if a.Position != v[0] {
					t.Errorf("%s: desk position %d, venue %d", a.ID, a.Position, v[0])
				}
				gp, _ := decimal.NewFromString(a.GrossProfit)
				gl, _ := decimal.NewFromString(a.GrossLoss)
				deskRealized := gp.Sub(gl)
				venueRealized := decimal.NewFromInt(v[1]).Mul(decimal.RequireFromString("1.25"))
				if !deskRealized.Equal(venueRealized) {
					t.Errorf("%s: desk realized %s, venue %s", a.ID, deskRealized, venueRealized)
				}
				if a.State == "faulted" {
					t.Logf("%s faulted by reconciliation (journal and venue disagreed at restart)", a.ID)
				}
			}
			// The journal verifies, as `deskguard journal verify` checks it.
			rep, err := journal.Verify(filepath.Join(dir, "desk.db"), journal.VerifyOptions{Timeout: 5 * time.Second, FillOwner: deskOrder, Checkers: []journal.Checker{ledgercheck.New()}})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK {
				t.Fatalf("journal verify after the crash: %d problems: %v", len(rep.Problems), rep.Problems)
			}
			// From the venue's side: no client order id placed twice, and
			// nothing of the desk's reached the venue unjournaled.
			if protocol == "tradovate" {
				checkVenueRecord(t, dir)
			} else {
				// The R|Protocol venue keeps no placement record yet: the
				// desk's own journal is all this round can read.
				checkJournalSentOnce(t, dir)
			}
		})
	}
	t.Logf("%d of %d kills landed while a position was open", killedWithPosition, rounds)
	if killedWithPosition == 0 {
		if raceBuild {
			// Under the race detector the desk may be too slow to open a
			// position in time; the rounds still exercise recovery for races.
			// .ci/run runs the full drill without -race, where this is fatal.
			t.Log("no kill landed while a position was open (race build)")
			return
		}
		t.Fatal("no kill landed while a position was open: the drill proved nothing")
	}
}

// keepOnFailure copies a failing round's directory (journal, logs, the
// venue's record) to $DESKGUARD_CRASH_KEEP/name, so that `deskguard journal
// dump` can be run on what failed; without the variable nothing is kept.
func keepOnFailure(t *testing.T, dir, name string) {
	keep := os.Getenv("DESKGUARD_CRASH_KEEP")
	if keep == "" {
		return
	}
	t.Cleanup(func() { // runs before the TempDir's removal (registered after it)
		if !t.Failed() {
			return
		}
		dst := filepath.Join(keep, name)
		ents, err := os.ReadDir(dir)
		if err == nil {
			err = os.MkdirAll(dst, 0o755)
		}
		for _, e := range ents {
			if err != nil {
				break
			}
			if !e.Type().IsRegular() {
				continue // the control socket
			}
			var b []byte
			if b, err = os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				err = os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644)
			}
		}
		if err != nil {
			t.Logf("keep %s: %v", dst, err)
			return
		}
		t.Logf("the failing round's files are in %s", dst)
	})
}

func mustCreate(t *testing.T, dir, name string) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// venueRecord is the venue's placement record in a round's directory.
const venueRecord = "venue-placements.jsonl"

// checkVenueRecord reads the venue's record of every order placement it
// received and checks it against the desk's journal: every client order id
// reached the venue once (invariant 7: nothing sent twice, across the
// crash), and every order of the desk's the venue took — an allowed
// intent's entry and its bracket legs, a stop repair — was journaled
// before (write-ahead).
func checkVenueRecord(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, venueRecord))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var placed []venue.Placement
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var p venue.Placement
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("venue record line %q: %v", sc.Text(), err)
		}
		placed = append(placed, p)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(filepath.Join(dir, "desk.db"), journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	journaled := map[string]bool{}
	if err := j.Iterate(1, func(r journal.Record) error {
		switch r.Kind {
		case journal.KindIntent:
			body, err := r.IntentBody()
			if err != nil {
				return err
			}
			if body.Decision != nil && body.Decision.Allowed {
				stop, target := journal.LegIDs(body.Intent.ID)
				journaled[body.Intent.ID], journaled[stop], journaled[target] = true, true, true
			}
		case journal.KindStopRepair:
			journaled[r.ClientID] = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	times := map[string]int{}
	taken := 0
	for _, p := range placed {
		times[p.Account+" "+p.ClOrdID]++
		if p.Again {
			t.Errorf("client order id %s (%s, %s) placed at the venue again (placement %d)", p.ClOrdID, p.Account, p.Role, p.Seq)
		}
		if p.OrderID != 0 {
			taken++
			if !journaled[p.ClOrdID] {
				t.Errorf("the venue took %s %s (%s, placement %d) that the desk's journal does not hold", p.Account, p.ClOrdID, p.Role, p.Seq)
			}
		}
	}
	for k, n := range times {
		if n > 1 {
			t.Errorf("client order id %s placed %d times", k, n)
		}
	}
	t.Logf("venue record: %d placements, %d orders taken, every one journaled first and placed once", len(placed), taken)
}

// checkJournalSentOnce: no client order id journaled as allowed twice (the
// desk's own account of itself; checkVenueRecord is the venue's).
func checkJournalSentOnce(t *testing.T, dir string) {
	t.Helper()
	j, err := journal.Open(filepath.Join(dir, "desk.db"), journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	seen := map[string]bool{}
	if err := j.Iterate(1, func(r journal.Record) error {
		if r.Kind != journal.KindIntent {
			return nil
		}
		body, err := r.IntentBody()
		if err != nil {
			return err
		}
		if body.Decision != nil && body.Decision.Allowed {
			if seen[body.Intent.ID] {
				return fmt.Errorf("intent %s journaled as sent twice", body.Intent.ID)
			}
			seen[body.Intent.ID] = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
