package bench

// fsync_linux.go: fdatasync, as bbolt and the journal use it.

import (
	"os"

	"golang.org/x/sys/unix"
)

func fdatasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }
