//go:build !linux

package bench

// fsync_other.go: fsync where fdatasync is not available.

import "os"

func fdatasync(f *os.File) error { return f.Sync() }
