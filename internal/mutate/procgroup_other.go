//go:build !unix

// procgroup_other.go: elsewhere only the go command itself is ended when a
// run overstays its timeout.

package mutate

import "os/exec"

func setProcessGroup(cmd *exec.Cmd) {}
