// worker_test.go: this test binary doubles as `deskguard worker` for the
// worker-fault scenario (TestMain dispatches on workerEnv).
package drill

import (
	"log/slog"
	"os"

	"github.com/deskguard/deskguard/supervisor"
	"github.com/deskguard/deskguard/supervisor/workerhost"
)

const workerEnv = "DESKGUARD_DRILL_WORKER"

func workerMain() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	fault, err := workerhost.ParseFault(os.Getenv("DESKGUARD_WORKER_FAULT"))
	if err != nil {
		return 2
	}
	if err := workerhost.RunWorker(os.Stdin, os.Stdout, workerhost.NewRunnerHost, fault, log); err != nil {
		return 1
	}
	return 0
}

func testWorker() supervisor.ProcConfig {
	exe, _ := os.Executable()
	return supervisor.ProcConfig{Exe: exe, Args: []string{"-test.run=^$"}, Env: []string{workerEnv + "=1"}}
}
