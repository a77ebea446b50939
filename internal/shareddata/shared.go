// Package shareddata finds the real market data samples in ../shared/data for
// tests. A test that needs them fails when CI is set and they are missing,
// and skips with a clear message otherwise (a fresh clone has no ../shared).
//
// It may touch only the file system under ../shared/data (read-only) and the testing package: tests
// only.
package shareddata

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// SharedData returns the absolute path of ../shared/data relative to the
// repository root, or handles its absence as described in the package doc.
func SharedData(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir := filepath.Join(root, "..", "shared", "data")
	if env := os.Getenv("DESKGUARD_SHARED_DATA"); env != "" {
		dir = env
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared data missing at %s (CI is set, so this is a failure): %v", dir, err)
		}
		t.Skipf("shared data not found at %s; skipping (set CI to make this a failure)", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// File returns the path of a file under the shared data directory.
func File(t testing.TB, rel string) string {
	t.Helper()
	return filepath.Join(SharedData(t), rel)
}
