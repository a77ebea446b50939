// fdatasync_linux.go: fdatasync (the urgent log's flush; the raw floor the
// benchmarks compare commits with).

package journal

import (
	"os"

	"golang.org/x/sys/unix"
)

func fdatasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }
