// stream_test.go: three desks and the firm on a real NATS server. NATS is
// killed and restarted mid-session, the aggregator is killed and
// restarted; the desks write on throughout. Every journal record reaches
// the firm exactly once (each seq folded once, no gap, the stream holds
// each record once), the firm's books equal a fold of each desk's own
// journal, and the restarted aggregator's state equals a fresh rebuild
// from the stream.

package firm_test

import (
	"path/filepath"
	"testing"

	"github.com/deskguard/deskguard/firm"
)

func TestThreeDesksThroughOutagesExactlyOnce(t *testing.T) {
	srv := startNATS(t)
	url := srv.URL()
	var desks []*scriptDesk
	for i, name := range []string{"east", "west", "north"} {
		desks = append(desks, newScriptDesk(t, name, url, uint64(i+1)))
	}
	stateFile := filepath.Join(t.TempDir(), "firm.state")
	aggOpt := func() firm.Options {
		return firm.Options{Conn: connect(t, url, "firm"), StateFile: stateFile, Desks: []string{"east", "west", "north"}}
	}
	agg := startAgg(t, aggOpt())
	trade := func(n int) {
		for range n {
			for _, d := range desks {
				d.trade(t)
			}
		}
	}
	caughtUp := func(a *firm.Aggregator, what string) {
		t.Helper()
		for _, d := range desks {
			within(t, what+": "+d.name+" folded to its last commit", func() bool { return a.LastSeq(d.name) == d.committed(t) })
		}
	}

	// 1. Records flow as they are committed.
	trade(40)
	caughtUp(agg.a, "flowing")

	// 2. NATS killed mid-session: the desks trade on (their appends do not
	// wait for NATS), the outboxes fall behind, then catch up.
	srv.Stop()
	trade(40)
	for _, d := range desks {
		if d.ob.Lag() == 0 {
			t.Fatalf("%s: no outbox lag while NATS is down (committed %d, published %d)", d.name, d.committed(t), d.ob.Published())
		}
	}
	within(t, "the outboxes to see the stream gone", func() bool {
		for _, d := range desks {
			if d.ob.Status().Up {
				return false
			}
		}
		return true
	})
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	trade(10)
	caughtUp(agg.a, "after the NATS restart")
	for _, d := range desks {
		// The stream's acks can reach the outbox after the firm has folded.
		within(t, d.name+" outbox caught up", func() bool { st := d.ob.Status(); return st.Lag == 0 && st.Up })
	}

	// 3. The aggregator killed while the desks write, and started again
	// from its state file and consumer position.
	agg.stop()
	trade(30)
	agg2 := startAgg(t, aggOpt())
	trade(10)
	caughtUp(agg2.a, "after the aggregator restart")

	// 4. An outbox restarted (a desk restart): its cursor and the stream's
	// last message say what is published; nothing is sent again.
	desks[0].stop()
	desks[0].stop = nil
	trade(5)
	desks[0].startOutbox(t, url)
	trade(5)
	caughtUp(agg2.a, "after an outbox restart")

	// Exactly once, and equal to the desks' own journals.
	nc := connect(t, url, "check")
	for _, d := range desks {
		c := d.committed(t)
		if n := streamCount(t, nc, d.name); n != c {
			t.Errorf("%s: the stream holds %d messages for %d records: something was stored twice or lost", d.name, n, c)
		}
		bk, ok := agg2.a.Book(d.name)
		if !ok {
			t.Fatalf("%s: no book", d.name)
		}
		if bk.Records != c || len(bk.Gaps) != 0 {
			t.Errorf("%s: %d records folded for %d committed, gaps %v", d.name, bk.Records, c, bk.Gaps)
		}
		if len(bk.Errors) != 0 {
			t.Errorf("%s: fold errors %v", d.name, bk.Errors)
		}
		if got, want := bookJSON(t, &bk), d.journalBook(t); got != want {
			t.Errorf("%s: the firm's book differs from the desk's journal:\n firm    %s\n journal %s", d.name, got, want)
		}
	}
	if s := agg2.a.Stats(); s.Applied == 0 {
		t.Fatalf("restarted aggregator applied nothing: %+v", s)
	}

	// A fresh rebuild from the stream (another durable, no state file)
	// equals the restarted aggregator.
	fresh := startAgg(t, firm.Options{Conn: connect(t, url, "fresh"), Durable: "fresh-rebuild"})
	caughtUp(fresh.a, "fresh rebuild")
	for _, d := range desks {
		a, _ := agg2.a.Book(d.name)
		b, _ := fresh.a.Book(d.name)
		if ja, jb := bookJSON(t, &a), bookJSON(t, &b); ja != jb {
			t.Errorf("%s: restarted aggregator differs from a fresh rebuild:\n restarted %s\n fresh     %s", d.name, ja, jb)
		}
	}
}
