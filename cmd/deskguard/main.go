// Command deskguard is the risk-first supervisor of an MES trading desk.
// Each subcommand lives in its own file (cmd_NAME.go); see `deskguard help`.
//
// It may touch every package: it is the only place that wires them together, reads the
// environment, files and signals for them, and starts the child processes (workers, the local
// venue). Manual: docs/cli.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
