// start_test.go: the console and the control socket poll Desk.Status from
// the moment `deskguard run` starts, while RunLive starts the desk (Desk.Start)
// when the first trade arrives. Under -race this test reports the data race
// between Start's writes of each account's worker/host fields
// (supervisor/desk.go, Start: a.host, a.worker = "in-process" / "starting",
// written without d.mu) and Status's reads of them (supervisor/status.go,
// accountStatus). It fails with -race until Start takes the desk's lock for
// those writes; without -race it passes.

package e2e

import (
	"context"
	"sync"
	"testing"
)

func TestStatusWhileTheDeskStarts(t *testing.T) {
	r := newDesk(t, rigOpt{Accounts: deskSpecs(1)})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // what the console's status stream does
		defer wg.Done()
		for ctx.Err() == nil {
			_ = r.d.Status(ctx)
		}
	}()
	r.run(rigOpt{Pace: 60})
	cancel()
	wg.Wait()
}
