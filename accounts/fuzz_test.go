// fuzz_test.go: LedgerState decoding: arbitrary JSON never panics, and
// whatever Restore accepts survives State → JSON → Restore unchanged.

package accounts

import (
	"encoding/json"
	"testing"
)

func FuzzRestore(f *testing.F) {
	f.Add([]byte(`{"id":"a","fees_rt_cents":120,"start_cents":1000000,"position":2,"cost_ticks":41200,` +
		`"lots":[{"time":1,"qty":2,"price":"5150.00"}],"realized_ticks":8,"fees_cents":180,"mark":"5151.00"}`))
	f.Add([]byte(`{"id":"b","fees_rt_cents":125,"start_cents":1,"position":-1,"cost_ticks":-3,"lots":[{"qty":1,"price":"0.75"}]}`))
	f.Add([]byte(`{"position":1}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var st LedgerState
		if json.Unmarshal(b, &st) != nil {
			return
		}
		l, err := Restore(st)
		if err != nil {
			return
		}
		b1, err := json.Marshal(l.State())
		if err != nil {
			t.Fatal(err)
		}
		var st2 LedgerState
		if err := json.Unmarshal(b1, &st2); err != nil {
			t.Fatal(err)
		}
		l2, err := Restore(st2)
		if err != nil {
			t.Fatalf("restored state does not restore: %v\n%s", err, b1)
		}
		b2, _ := json.Marshal(l2.State())
		if string(b1) != string(b2) {
			t.Fatalf("not a fixed point:\n%s\n%s", b1, b2)
		}
	})
}
