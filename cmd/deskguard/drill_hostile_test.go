package main

// drill_hostile_test.go: the drill's hostile-requests scenario (package
// drill) with this test binary as deskguard: forged, replayed and
// wrong-role console and control-socket requests, and path tricks in the
// binary's file arguments.

import "testing"

func TestDrillHostileRequests(t *testing.T) {
	r := runDrill(t, "hostile-requests", 1)
	if r.Faults < 30 {
		t.Fatalf("only %d hostile requests and invocations in %d rounds", r.Faults, r.Rounds)
	}
}
