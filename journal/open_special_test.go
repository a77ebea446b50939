package journal

// open_special_test.go: a path that is not a journal file — a directory,
// a FIFO (whose open would block), a device, an empty file for reading, a
// file that is not a journal — is refused, and a non-journal file is never
// changed by the attempt.

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestOpenRefusesWhatIsNotAJournal(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "j.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "other-app.db")
	db, err := bolt.Open(foreign, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("sessions"))
		if err != nil {
			return err
		}
		return b.Put([]byte("user:1"), []byte("alice"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	foreignBytes, err := os.ReadFile(foreign)
	if err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "desk.toml")
	content := []byte("[desk]\njournal = \"desk.db\"\n")
	if err := os.WriteFile(text, content, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		path     string
		readOnly bool
	}{
		{"directory", dir, false},
		{"directory read-only", dir, true},
		{"fifo", fifo, false},
		{"fifo read-only", fifo, true},
		{"dev-zero", "/dev/zero", false},
		{"dev-null read-only", "/dev/null", true},
		{"empty read-only", empty, true},
		{"empty", empty, false},
		{"another application's bbolt file", foreign, false},
		{"another application's bbolt file read-only", foreign, true},
		{"config file", text, false},
		{"config file read-only", text, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j, err := Open(c.path, Options{ReadOnly: c.readOnly, Timeout: 1e9})
			if err == nil {
				j.Close()
				t.Fatalf("Open(%s) accepted it", c.path)
			}
			// Verify refuses what it cannot examine, and reports a file it
			// can read but is no journal as damaged.
			if rep, err := Verify(c.path, VerifyOptions{}); err == nil && rep.OK {
				t.Fatalf("Verify(%s) passed it", c.path)
			}
		})
	}
	if b, _ := os.ReadFile(text); !bytes.Equal(b, content) {
		t.Fatalf("the config file was changed by the attempts: %q", b)
	}
	if b, _ := os.ReadFile(foreign); !bytes.Equal(b, foreignBytes) {
		t.Fatalf("the other application's bbolt file was changed by the attempts (%d → %d bytes)", len(foreignBytes), len(b))
	}
	if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the empty file was changed by the attempts: %v %v", fi.Size(), err)
	}
}

// TestNewJournalIsPrivate: a journal Open creates is mode 0600 whatever
// the umask allows (it holds every account's trades).
func TestNewJournalIsPrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	p := filepath.Join(t.TempDir(), "new.db")
	j, err := Open(p, Options{Timeout: 1e9})
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new journal mode %v %v, want 0600", fi.Mode().Perm(), err)
	}
}
