// outbox_test.go: the publisher on a real NATS server — a cursor of
// another desk or journal is refused at start; a stream holding another
// journal of the same desk stops the outbox (its ids would collide) while
// nothing is published; a cursor that lags the stream (a SIGKILL before the
// cursor was written) sends nothing twice; a stream holding a later record
// without an earlier one gets the earlier one.

package outbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/deskguard/deskguard/firm/wire"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/outbox"
)

func journalWith(t *testing.T, n int) *journal.Journal {
	t.Helper()
	j, err := journal.Open(filepath.Join(t.TempDir(), "desk.db"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	for i := 0; i < n; i++ {
		if _, err := j.Append(context.Background(), journal.NewCommand("", int64(i), journal.Command{Who: "t", Command: "x"})); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

func run(t *testing.T, o *outbox.Outbox) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	return func() error { cancel(); return <-done }
}

func count(t *testing.T, url, desk string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := wire.CountDesk(ctx, dial(t, url), wire.StreamOptions{}, desk)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCursorOfAnotherDeskRefused(t *testing.T) {
	srv := startServer(t)
	j := journalWith(t, 3)
	cur := filepath.Join(t.TempDir(), "cursor")
	ob, err := outbox.New(outbox.Options{Desk: "east", Journal: j, Conn: dial(t, srv.URL()), CursorFile: cur})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, ob)
	within(t, "published", func() bool { return ob.Published() == 3 })
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if _, err := outbox.New(outbox.Options{Desk: "west", Journal: j, Conn: dial(t, srv.URL()), CursorFile: cur}); err == nil {
		t.Fatal("a cursor of desk east accepted for desk west")
	}
	if _, err := outbox.New(outbox.Options{Desk: "east", Journal: journalWith(t, 5), Conn: dial(t, srv.URL()), CursorFile: cur}); err == nil {
		t.Fatal("a cursor of another journal accepted")
	}
	if _, err := outbox.New(outbox.Options{Desk: "a.b", Journal: j, Conn: dial(t, srv.URL())}); err == nil {
		t.Fatal("a desk name with a subject separator accepted")
	}
}

func TestAnotherJournalOfTheDeskStops(t *testing.T) {
	srv := startServer(t)
	first := journalWith(t, 4)
	ob, err := outbox.New(outbox.Options{Desk: "east", Journal: first, Conn: dial(t, srv.URL())})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, ob)
	within(t, "first journal published", func() bool { return ob.Published() == 4 })
	_ = stop()
	second := journalWith(t, 6)
	ob2, err := outbox.New(outbox.Options{Desk: "east", Journal: second, Conn: dial(t, srv.URL())})
	if err != nil {
		t.Fatal(err)
	}
	stop2 := run(t, ob2)
	within(t, "the outbox to refuse", func() bool { return ob2.Status().Error != "" })
	if err := stop2(); !errors.Is(err, outbox.ErrOtherJournal) {
		t.Fatalf("Run: %v, want ErrOtherJournal", err)
	}
	if n := count(t, srv.URL(), "east"); n != 4 {
		t.Fatalf("the stream holds %d messages of east, want the first journal's 4", n)
	}
}

func TestLaggingCursorSendsNothingTwice(t *testing.T) {
	srv := startServer(t)
	j := journalWith(t, 50)
	cur := filepath.Join(t.TempDir(), "cursor")
	ob, err := outbox.New(outbox.Options{Desk: "east", Journal: j, Conn: dial(t, srv.URL()), CursorFile: cur})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, ob)
	within(t, "published", func() bool { return ob.Published() == 50 })
	_ = stop()
	// As after a SIGKILL before the cursor was written: the file says 10.
	b, _ := os.ReadFile(cur)
	if err := os.WriteFile(cur, []byte(replaceLast(string(b), "50", "10")), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 7; i++ {
		if _, err := j.Append(context.Background(), journal.NewCommand("", 0, journal.Command{Who: "t", Command: "y"})); err != nil {
			t.Fatal(err)
		}
	}
	ob2, err := outbox.New(outbox.Options{Desk: "east", Journal: j, Conn: dial(t, srv.URL()), CursorFile: cur, Stream: wire.StreamOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	if ob2.Published() != 10 || ob2.Lag() != 47 {
		t.Fatalf("from the cursor file: published %d lag %d", ob2.Published(), ob2.Lag())
	}
	stop2 := run(t, ob2)
	within(t, "caught up", func() bool { return ob2.Published() == 57 })
	_ = stop2()
	if st := ob2.Status(); st.Sent != 7 {
		t.Fatalf("the restarted outbox sent %d messages, want only the 7 new records", st.Sent)
	}
	if n := count(t, srv.URL(), "east"); n != 57 {
		t.Fatalf("the stream holds %d messages for 57 records", n)
	}
}

func replaceLast(s, old, repl string) string {
	i := len(s) - len(old) - 1 // before the trailing newline
	if i < 0 || s[i:i+len(old)] != old {
		return s
	}
	return s[:i] + repl + s[i+len(old):]
}

// A stream holding a later record of the desk without an earlier one (a
// publish that failed while later ones were stored, then the connection
// dropped): the outbox must not take the stream's last message for a
// prefix. It resends from what it has acknowledged itself, and the stream
// ends with every record once.
func TestStreamWithAHoleIsFilled(t *testing.T) {
	srv := startServer(t)
	j := journalWith(t, 5)
	epoch, err := j.Created()
	if err != nil {
		t.Fatal(err)
	}
	nc := dial(t, srv.URL())
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := wire.EnsureStream(ctx, js, wire.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.ReadRawAfter(0, 0, func(seq uint64, kind journal.Kind, raw []byte) error {
		if seq == 4 {
			return nil // the hole
		}
		m := nats.NewMsg(wire.JournalSubject("east", string(kind)))
		m.Data = raw
		m.Header.Set(wire.HdrDesk, "east")
		m.Header.Set(wire.HdrSeq, strconv.FormatUint(seq, 10))
		m.Header.Set(wire.HdrJournal, epoch)
		_, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(wire.MsgID("east", seq)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.New(outbox.Options{Desk: "east", Journal: j, Conn: dial(t, srv.URL())})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, ob)
	within(t, "published", func() bool { return ob.Published() == 5 })
	within(t, "the stream holding all five", func() bool { return count(t, srv.URL(), "east") == 5 })
	_ = stop()
	if n := count(t, srv.URL(), "east"); n != 5 {
		t.Fatalf("the stream holds %d messages of east, want 5", n)
	}
}

// TestWaitPublishedSeesTheLastCommit: the desk's exit waits on the
// journal's last committed seq, not on Lag (which reads the committed seq
// Run last saw, and a record appended just before exit is not in it): the
// record appended after the outbox went idle is acknowledged before
// WaitPublished returns, and a seq the journal never reaches times out.
func TestWaitPublishedSeesTheLastCommit(t *testing.T) {
	srv := startServer(t)
	j := journalWith(t, 2)
	ob, err := outbox.New(outbox.Options{Desk: "east", Journal: j, Conn: dial(t, srv.URL())})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, ob)
	defer func() { _ = stop() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ob.WaitPublished(ctx, 2); err != nil {
		t.Fatal(err)
	}
	last, err := j.Append(context.Background(), journal.NewCommand("", 9, journal.Command{Who: "t", Command: "last"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.WaitPublished(ctx, last); err != nil {
		t.Fatal(err)
	}
	if got := count(t, srv.URL(), "east"); got != last {
		t.Fatalf("the stream holds %d records after WaitPublished(%d)", got, last)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	if err := ob.WaitPublished(short, last+1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitPublished for a seq never committed: %v", err)
	}
}
