// desks_test.go: three real desks (supervisor.Desk, journal file, the
// asynchronous sim venue, in-process engines, a synthetic session through
// supervisor.RunLive), each with its outbox and firm link, and the firm, on
// a real NATS server. The firm's view equals each desk's own Status; a firm
// kill issued while one desk is partitioned from NATS flattens the two that
// hear it at once, leaves the third trading (NATS being away never
// flattens or halts a desk), and flattens it when it hears again; every
// desk that acknowledged the kill is flat at the desk and at the venue.

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

func startDesk(t *testing.T, name, url string, pub ed25519.PublicKey, seed int64) *firmtest.Desk {
	t.Helper()
	d, err := firmtest.StartDesk(firmtest.DeskOptions{Name: name, NATSURL: url, Pub: pub, Seed: seed, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return d
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func flatAtVenue(t *testing.T, d *firmtest.Desk) func() bool {
	return func() bool {
		ok, err := d.FlatAtVenue()
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
}

func TestFirmViewAndKillDuringPartition(t *testing.T) {
	srv := startNATS(t)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	// The third desk reaches NATS through a proxy the test can cut.
	px, err := natstest.NewProxy(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(px.Close)
	desks := []*firmtest.Desk{
		startDesk(t, "east", srv.URL(), pub, 3),
		startDesk(t, "west", srv.URL(), pub, 5),
		startDesk(t, "north", px.URL(), pub, 7),
	}
	agg := startAgg(t, firm.Options{Conn: connect(t, srv.URL(), "firm"), StateFile: filepath.Join(t.TempDir(), "firm.state"),
		Key: priv, Desks: []string{"east", "west", "north"}, BeatEvery: 50 * time.Millisecond, KillRetry: 50 * time.Millisecond,
		KillWait: time.Second})
	for _, ld := range desks {
		mustOK(t, ld.Open(2))
	}
	mustOK(t, firmtest.SameView(agg.a, desks))
	if v := agg.a.View(); v.Gross < 6 {
		t.Fatalf("firm gross %d with three desks long 2 each", v.Gross)
	}

	// Partition north, then the firm kills.
	north := desks[2]
	px.Cut()
	within(t, "north's outbox to lose the stream", func() bool { return !north.Outbox.Status().Up })
	killID, err := agg.a.Kill(context.Background(), "test-manager", "firm kill during a partition")
	if err != nil {
		t.Fatal(err)
	}
	deskKill := func(name string) firm.DeskKill {
		for _, k := range agg.a.Kills() {
			if k.ID == killID {
				return *k.Desks[name]
			}
		}
		t.Fatalf("kill %s not found", killID)
		return firm.DeskKill{}
	}
	for _, ld := range desks[:2] {
		within(t, ld.Name+" acknowledged flat", func() bool { return deskKill(ld.Name).Flat })
		if flat, why := firmtest.DeskFlat(ld.Status()); !flat {
			t.Fatalf("%s acknowledged the firm kill but is not flat: %s", ld.Name, why)
		}
		within(t, ld.Name+" flat at the venue", flatAtVenue(t, ld))
	}
	// north cannot hear: it trades on, neither flat nor halted.
	if dk := deskKill("north"); dk.Acked || dk.Flat {
		t.Fatalf("north acknowledged through a partition: %+v", dk)
	}
	if st := north.Status(); st.State != "running" {
		t.Fatalf("north is %s while partitioned: NATS being away must never halt a desk", st.State)
	}
	// Heal: north hears a re-issued kill and flattens.
	px.Heal()
	within(t, "north acknowledged flat after the partition", func() bool { return deskKill("north").Flat })
	if flat, why := firmtest.DeskFlat(north.Status()); !flat {
		t.Fatalf("north acknowledged but is not flat: %s", why)
	}
	within(t, "north flat at the venue", flatAtVenue(t, north))
	within(t, "the kill done", func() bool {
		for _, k := range agg.a.Kills() {
			if k.ID == killID {
				return k.Done
			}
		}
		return false
	})
	// Each desk journaled the kill with trigger firm, and the firm saw it.
	for _, ld := range desks {
		var kills []string
		if err := ld.J.Iterate(1, func(r journal.Record) error {
			if r.Kind == journal.KindKill {
				k, _ := r.Kill()
				kills = append(kills, k.Trigger+"/"+k.Who)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(kills) == 0 || kills[0] != "firm/firm:test-manager" {
			t.Fatalf("%s journaled kills %v, want the firm's first", ld.Name, kills)
		}
	}
	mustOK(t, firmtest.SameView(agg.a, desks))
	for _, dv := range agg.a.View().Desks {
		if dv.Gross != 0 || dv.State != "halted" {
			t.Fatalf("firm view of %s after the kill: gross %d state %s", dv.Desk, dv.Gross, dv.State)
		}
	}
}
