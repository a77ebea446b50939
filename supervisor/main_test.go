package supervisor

// main_test.go: this test binary doubles as a worker child process — with
// DESKGUARD_TEST_WORKER=engines it runs workerhost.RunWorker with the real
// engines, as `deskguard worker` does (the rig's Processes desks).

import (
	"log/slog"
	"os"
	"testing"

	"github.com/deskguard/deskguard/supervisor/workerhost"
)

func TestMain(m *testing.M) {
	if os.Getenv("DESKGUARD_TEST_WORKER") == "engines" {
		fault, err := workerhost.ParseFault(os.Getenv("DESKGUARD_WORKER_FAULT"))
		if err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(2)
		}
		log := slog.New(slog.NewTextHandler(os.Stderr, nil))
		if err := workerhost.RunWorker(os.Stdin, os.Stdout, workerhost.NewRunnerHost, fault, log); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
