package main

// drill_process_test.go: the process scenarios of the drill (package
// drill) with this test binary as deskguard.

import "testing"

func TestDrillProcessCrash(t *testing.T) {
	r := runDrill(t, "process-crash", 1)
	if r.Faults == 0 {
		t.Fatal("no SIGKILL was injected")
	}
	if r.Kills != r.Rounds {
		t.Fatalf("%d closing kills in %d rounds", r.Kills, r.Rounds)
	}
}

func TestDrillVenueFaults(t *testing.T) {
	r := runDrill(t, "venue-faults", 1)
	if r.Faults < 4 {
		t.Fatalf("only %d venue faults injected", r.Faults)
	}
}
