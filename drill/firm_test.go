// firm_test.go: the firm scenario as a Go test.
package drill

import "testing"

func TestFirm(t *testing.T) {
	r := runScenario(t, "firm")
	if r.Faults < 3 || r.Kills < 2 {
		t.Fatalf("faults %d, kills measured %d: the scenario did not inject its outages and partition", r.Faults, r.Kills)
	}
}
