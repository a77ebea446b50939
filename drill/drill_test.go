// drill_test.go: the drill's scenarios as Go tests — short by default (CI),
// long with -drill.rounds N.
package drill

import (
	"context"
	"flag"
	"os"
	"strings"
	"testing"
	"time"
)

var rounds = flag.Int("drill.rounds", 1, "rounds per scenario")
var seed = flag.Int64("drill.seed", 1, "base seed")

func runScenario(t *testing.T, name string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	rs, err := Run(ctx, Options{Rounds: *rounds, Seed: *seed, Scenarios: []string{name}, Worker: testWorker(),
		FuzzDir: "../market/testdata/fuzz"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	_ = WriteTable(&b, rs)
	t.Log("\n" + b.String())
	r := rs[0]
	if r.Err != "" {
		t.Fatalf("%s could not run: %s", name, r.Err)
	}
	if r.Violations != 0 {
		t.Fatalf("%s: %d invariant violations", name, r.Violations)
	}
	want := *rounds
	for _, s := range scenarios() {
		if s.name == name {
			want = max(want, s.modes) // every mode runs, whatever -drill.rounds says
			if s.modes > 0 && len(r.Modes) != s.modes {
				t.Fatalf("%s ran modes %v, want all %d", name, r.Modes, s.modes)
			}
		}
	}
	if r.Rounds != want {
		t.Fatalf("%s ran %d of %d rounds", name, r.Rounds, want)
	}
	return r
}

func TestCrashRestart(t *testing.T) {
	r := runScenario(t, "crash-restart")
	if r.Faults == 0 {
		t.Fatal("no crash was injected")
	}
}

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) != "" {
		os.Exit(workerMain())
	}
	os.Exit(m.Run())
}

func TestWorkerFaults(t *testing.T) {
	r := runScenario(t, "worker-faults")
	if r.Faults == 0 {
		t.Fatal("no worker fault was injected")
	}
}

func TestJournalFaults(t *testing.T) {
	r := runScenario(t, "journal-faults")
	if r.Faults != r.Rounds {
		t.Fatalf("the journal failed in %d of %d rounds", r.Faults, r.Rounds)
	}
}

func TestSlackOutage(t *testing.T) {
	r := runScenario(t, "slack-outage")
	if r.Kills < 4*r.Rounds {
		t.Fatalf("%d kills in %d rounds", r.Kills, r.Rounds)
	}
}

func TestSessionEdge(t *testing.T) {
	r := runScenario(t, "session-edge")
	if r.Breaches == 0 {
		t.Fatal("no account crossed its lockout line")
	}
}

func TestButton(t *testing.T) {
	runScenario(t, "button")
}

func TestBadInput(t *testing.T) {
	r := runScenario(t, "bad-input")
	if r.Faults < 50 {
		t.Fatalf("only %d hostile inputs", r.Faults)
	}
}
