package main

// runproc_test.go: one `deskguard run` process for the tests that start a
// real desk and talk to it (metrics, probes, the token file): started with
// its output in lockedBufs, its exit seen by any number of waiters, and
// stopped at the test's end (SIGTERM; SIGKILL only if it has not ended
// after a generous hang guard).

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// runProc is a `deskguard run` started by startRunProc.
type runProc struct {
	cmd            *exec.Cmd
	stdout, stderr *lockedBuf
	exited         chan struct{} // closed when the process has ended
	err            error         // its Wait error, once exited is closed
}

// Hang guards for the tests that start real desks: each bounds a wait on
// a condition the desk reports (it printed a line, it refused, it
// stopped) and only decides how long a broken desk takes to fail. They
// are generous because `go test -race ./...` runs these processes on a
// loaded 2-core machine, where a desk's start alone can take tens of
// seconds.
const (
	startGuard  = 3 * time.Minute // a desk up (its console, token file, first status)
	refuseGuard = 2 * time.Minute // a run refused at start (runIn's limit)
)

// stopGuard bounds how long a test's end waits for a desk to stop on
// SIGTERM before it is killed: a hang guard, not a budget (a desk under
// -race on a loaded machine may take seconds to flush and exit).
const stopGuard = 2 * time.Minute

// startRunProc runs `deskguard run ARGS` (the test binary as deskguard) in dir.
func startRunProc(t *testing.T, dir string, args ...string) *runProc {
	t.Helper()
	p := &runProc{cmd: selfCmd(t, dir, append([]string{"run"}, args...)...), stdout: &lockedBuf{}, stderr: &lockedBuf{},
		exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(stopGuard):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// stop sends SIGTERM and waits for the exit (bounded by stopGuard):
// ended is false if the desk had to be killed; err is its Wait error.
func (p *runProc) stop() (ended bool, err error) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return true, p.err
	case <-time.After(stopGuard):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return false, p.err
	}
}
