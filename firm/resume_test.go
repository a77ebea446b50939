// resume_test.go: a firm restarted in the middle of a kill resumes it from
// its state file. One desk is partitioned when the firm kills, so the kill
// is still in progress when the firm stops; the stopped firm issues
// nothing more (its kill loops end with Run), the desk trades on after the
// partition heals with no firm running, and the restarted firm issues the
// kill to that desk alone (the desk that already acknowledged flat is not
// sent it again) and records it flat. Each desk journaled the firm's kill
// once.

package firm_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/deskguard/deskguard/firm"
	"github.com/deskguard/deskguard/firm/firmtest"
	"github.com/deskguard/deskguard/firm/natstest"
	"github.com/deskguard/deskguard/journal"
)

func TestRestartedFirmResumesAKill(t *testing.T) {
	srv := startNATS(t)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	px, err := natstest.NewProxy(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(px.Close)
	east := startDesk(t, "east", srv.URL(), pub, 3)
	north := startDesk(t, "north", px.URL(), pub, 7)
	state := filepath.Join(t.TempDir(), "firm.state")
	opts := func(name string) firm.Options {
		return firm.Options{Conn: connect(t, srv.URL(), name), StateFile: state, Key: priv, Desks: []string{"east", "north"},
			BeatEvery: 50 * time.Millisecond, KillRetry: 20 * time.Millisecond, KillWait: 500 * time.Millisecond}
	}
	first := startAgg(t, opts("firm-1"))
	mustOK(t, east.Open(1))
	mustOK(t, north.Open(1))

	px.Cut()
	within(t, "north's outbox to lose the stream", func() bool { return !north.Outbox.Status().Up })
	killID, err := first.a.Kill(context.Background(), "test-manager", "firm kill, then the firm restarts")
	if err != nil {
		t.Fatal(err)
	}
	killOf := func(a *firm.Aggregator) firm.KillState {
		for _, k := range a.Kills() {
			if k.ID == killID {
				return k
			}
		}
		t.Fatalf("kill %s not in the firm's kills", killID)
		return firm.KillState{}
	}
	within(t, "east acknowledged flat", func() bool { return killOf(first.a).Desks["east"].Flat })
	within(t, "the kill re-issued to the partitioned north", func() bool { return killOf(first.a).Desks["north"].Sent >= 2 })
	first.stop()
	atStop := killOf(first.a)
	if atStop.Done || atStop.Desks["north"].Flat {
		t.Fatalf("the kill finished through a partition: %+v", atStop.Desks["north"])
	}

	// No firm runs: north hears again and is not killed by anyone.
	px.Heal()
	within(t, "north's outbox back on the stream", func() bool { return north.Outbox.Status().Up })
	if st := north.Status(); st.State != "running" {
		t.Fatalf("north is %s with no firm running", st.State)
	}

	second := startAgg(t, opts("firm-2"))
	loaded := killOf(second.a)
	if loaded.Done || !loaded.Desks["east"].Flat || loaded.Desks["north"].Flat {
		t.Fatalf("the restarted firm loaded the kill as %+v", loaded)
	}
	wctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if k, err := second.a.WaitKill(wctx, killID); err != nil || !k.Done || !k.Desks["north"].Flat {
		t.Fatalf("waiting for the resumed kill: %+v, %v", k, err)
	}
	if _, err := first.a.WaitKill(context.Background(), "no-such-kill"); err == nil {
		t.Fatal("WaitKill of an unknown kill returned no error")
	}
	if flat, why := firmtest.DeskFlat(north.Status()); !flat {
		t.Fatalf("north acknowledged but is not flat: %s", why)
	}
	within(t, "north flat at the venue", flatAtVenue(t, north))
	done := killOf(second.a)
	if s := done.Desks["east"].Sent; s != atStop.Desks["east"].Sent {
		t.Fatalf("the restarted firm sent the kill to east again (sent %d, %d before the restart)", s, atStop.Desks["east"].Sent)
	}
	if s := killOf(first.a).Desks["north"].Sent; s != atStop.Desks["north"].Sent {
		t.Fatalf("the stopped firm kept issuing the kill to north: sent %d, %d when it stopped", s, atStop.Desks["north"].Sent)
	}
	for _, d := range []*firmtest.Desk{east, north} {
		n := 0
		if err := d.J.Iterate(1, func(r journal.Record) error {
			if r.Kind == journal.KindKill {
				if k, _ := r.Kill(); k.Trigger == "firm" {
					n++
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("%s journaled %d firm kills, want 1", d.Name, n)
		}
	}
}
