package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/deskguard/deskguard/supervisor/workerhost"
)

// cmdWorker is a strategy worker child process: frames on stdin/stdout,
// logs on stderr. The supervisor starts it; people do not.
func cmdWorker(e *env) int {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: deskguard worker (no flags): a strategy worker child; the supervisor starts it and speaks frames on its stdin and stdout")
	}
	if !parseFlags(e, fs) {
		return 2
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	fault, err := workerhost.ParseFault(os.Getenv("DESKGUARD_WORKER_FAULT"))
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard worker:", err)
		return 2
	}
	if err := workerhost.RunWorker(e.stdin, e.stdout, workerhost.NewRunnerHost, fault, log); err != nil {
		fmt.Fprintln(e.stderr, "deskguard worker:", err)
		return 1
	}
	return 0
}
