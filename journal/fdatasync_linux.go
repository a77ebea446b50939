// fdatasync_linux.go: the raw floor Bench compares commits with.

package journal

import (
	"os"

	"golang.org/x/sys/unix"
)

func fdatasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }
