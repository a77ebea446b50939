//go:build unix

// procgroup_unix.go: go test and its test binaries run in a process group
// of their own, so a run that overstays its timeout is ended whole (a test
// binary left behind would hold a core for the next mutant).

package mutate

import (
	"os/exec"
	"syscall"
)

func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		// The negative pid names the group this command leads.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
