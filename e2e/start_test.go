// start_test.go: the console and the control socket poll Desk.Status from
// the moment `deskguard run` starts, while RunLive starts the desk (Desk.Start)
// when the first trade arrives. The test reads Status in a loop across the
// start: under -race it catches a data race between Start's writes of the
// accounts' worker fields and Status's reads (one was found and fixed), and
// it asserts what the reader saw: no worker before the start, every account's
// in-process worker after it.

package e2e

import (
	"context"
	"sync"
	"testing"

	"github.com/deskguard/deskguard/deskapi"
)

func TestStatusWhileTheDeskStarts(t *testing.T) {
	r := newDesk(t, rigOpt{Accounts: deskSpecs(1)})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	first := make(chan deskapi.Status, 1)
	calls := 0
	go func() { // what the console's status stream does
		defer wg.Done()
		for ctx.Err() == nil {
			st := r.d.Status(ctx)
			if calls++; calls == 1 {
				first <- st
			}
		}
	}()
	before := <-first // read before the desk started: no worker yet
	r.run(rigOpt{Pace: 60})
	cancel()
	wg.Wait()
	if len(before.Accounts) == 0 || len(after(r).Accounts) != len(before.Accounts) {
		t.Fatalf("status before the start lists %d accounts", len(before.Accounts))
	}
	for _, a := range before.Accounts {
		if a.Worker != "" {
			t.Fatalf("status before the start: account %s has worker %q, want none yet", a.ID, a.Worker)
		}
	}
	st := after(r)
	if st.State == "starting" || st.State == "recovering" {
		t.Fatalf("desk %s after the run", st.State)
	}
	for _, a := range st.Accounts {
		if a.Worker != "in-process" {
			t.Fatalf("status after the run: account %s has worker %q, want in-process", a.ID, a.Worker)
		}
	}
	if calls < 2 {
		t.Fatalf("only %d status reads while the desk started", calls)
	}
}

func after(r *rig) deskapi.Status { return r.d.Status(context.Background()) }
