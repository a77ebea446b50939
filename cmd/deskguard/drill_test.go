package main

// drill_test.go: the drill's scenarios that run the deskguard binary
// itself (supervisor, workers, venue as processes). This test binary acts
// as deskguard (TestMain, DESKGUARD_TEST_MAIN); short in CI, longer with
// -drill.rounds N.

import (
	"context"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/drill"
	"github.com/deskguard/deskguard/supervisor"
)

var drillRounds = flag.Int("drill.rounds", 1, "rounds per process scenario")

// runDrill runs one drill scenario with this test binary as deskguard and
// fails the test on any violation or a round that could not run.
func runDrill(t *testing.T, name string, rounds int) drill.Result {
	t.Helper()
	if *drillRounds > rounds {
		rounds = *drillRounds
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"DESKGUARD_TEST_MAIN=1"}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	rs, err := drill.Run(ctx, drill.Options{Rounds: rounds, Seed: 1, Scenarios: []string{name},
		Worker: supervisor.ProcConfig{Exe: exe, Args: []string{"worker"}, Env: env},
		Exe:    exe, Env: env, FuzzDir: "../../market/testdata/fuzz"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	_ = drill.WriteTable(&b, rs)
	t.Log("\n" + b.String())
	r := rs[0]
	if r.Err != "" {
		t.Fatalf("%s could not run: %s", name, r.Err)
	}
	if r.Violations != 0 {
		t.Fatalf("%s: %d invariant violations", name, r.Violations)
	}
	if r.Rounds != rounds {
		t.Fatalf("%s ran %d of %d rounds", name, r.Rounds, rounds)
	}
	return r
}
