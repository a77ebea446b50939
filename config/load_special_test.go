package config

// load_special_test.go: Load refuses what is not a config file — a
// directory, a FIFO (whose open would block), /dev/zero (which never
// ends), a file larger than any config — with a message naming the path.

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestLoadRefusesWhatIsNotAConfig(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "desk.toml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, []byte(strings.Repeat("# padding\n", 200_000)), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]string{"directory": dir, "fifo": fifo, "dev-zero": "/dev/zero", "too big": big} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(p)
			if err == nil {
				t.Fatalf("Load(%s) accepted it", p)
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error does not name the path: %v", err)
			}
		})
	}
}
