package main

// drill_rithmic_test.go: the drill's process scenarios over R|Protocol
// (package drill, process-crash-rithmic and venue-faults-rithmic) with
// this test binary as deskguard.

import "testing"

func TestDrillProcessCrashRithmic(t *testing.T) {
	r := runDrill(t, "process-crash-rithmic", 1)
	if r.Faults == 0 {
		t.Fatal("no SIGKILL was injected")
	}
	if r.Kills != r.Rounds {
		t.Fatalf("%d closing kills in %d rounds", r.Kills, r.Rounds)
	}
}

func TestDrillVenueFaultsRithmic(t *testing.T) {
	r := runDrill(t, "venue-faults-rithmic", 1)
	if r.Faults < 4 {
		t.Fatalf("only %d venue faults injected", r.Faults)
	}
}
