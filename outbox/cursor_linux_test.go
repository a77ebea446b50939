//go:build linux

// cursor_linux_test.go: a cursor write that hangs holds up no publish. The
// cursor's temporary file is a FIFO nobody reads, so opening it for
// writing blocks as a write to a disk that does not answer would: the
// records committed meanwhile must still reach the stream, because the
// cursor is written off the publishing goroutine. Once the "disk" answers,
// the cursor file catches up with what the stream acknowledged.

package outbox_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/outbox"
)

func TestHungCursorWriteHoldsUpNoPublish(t *testing.T) {
	srv := startServer(t)
	j := journalWith(t, 3)
	cur := filepath.Join(t.TempDir(), "cursor")
	fifo := cur + ".tmp"
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	var reader *os.File
	release := func() { // a reader lets the blocked open through; the name goes so later writes are plain files
		if reader == nil {
			var err error
			if reader, err = os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err != nil {
				t.Fatal(err)
			}
			_ = os.Remove(fifo)
		}
	}
	t.Cleanup(func() {
		release()
		reader.Close()
	})
	ob, err := outbox.New(outbox.Options{Desk: "east", Journal: j, Conn: dial(t, srv.URL()), CursorFile: cur})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, ob)
	within(t, "the first records published", func() bool { return ob.Published() == 3 })
	// Caught up: the cursor write is due now, and hangs on the FIFO.
	for i := 0; i < 5; i++ {
		if _, err := j.Append(context.Background(), journal.NewCommand("", 0, journal.Command{Who: "t", Command: "y"})); err != nil {
			t.Fatal(err)
		}
	}
	within(t, "records committed while the cursor write hangs published", func() bool { return ob.Published() == 8 })
	release()
	_ = stop()
	b, err := os.ReadFile(cur)
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(string(b)); len(f) != 5 || f[4] != "8" {
		t.Fatalf("cursor file %q after stop, want seq 8", b)
	}
}
