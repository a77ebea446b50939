//go:build !linux

// fdatasync_other.go: fsync where fdatasync is not available.

package journal

import "os"

func fdatasync(f *os.File) error { return f.Sync() }
