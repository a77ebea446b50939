package market

// open_special_test.go: paths that are not data files — a directory, a
// FIFO (whose open would block forever), /dev/zero (which never ends), a
// symlink loop — are refused at once with an error naming the path.

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func specialPaths(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "ticks.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop.dbn")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"directory": dir, "fifo": fifo, "dev-zero": "/dev/zero", "symlink-loop": loop,
		"missing": filepath.Join(dir, "nope.dbn")}
}

func TestOpenRefusesSpecialFiles(t *testing.T) {
	for name, p := range specialPaths(t) {
		t.Run(name, func(t *testing.T) {
			f, err := Open(p, OpenOptions{})
			if err == nil {
				f.Close()
				t.Fatalf("Open(%s) accepted it", p)
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error does not name the path: %v", err)
			}
			wantNotRegular := name == "directory" || name == "fifo" || name == "dev-zero"
			if errors.Is(err, ErrNotRegular) != wantNotRegular {
				t.Errorf("errors.Is(ErrNotRegular) = %v for %s: %v", !wantNotRegular, name, err)
			}
			if b, err := OpenBars(p, OpenOptions{}); err == nil {
				b.Close()
				t.Fatalf("OpenBars(%s) accepted it", p)
			}
		})
	}
}
