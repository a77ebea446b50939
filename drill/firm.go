package drill

// firm.go: the firm scenario — three real desks (supervisor, journal file,
// sim venue, engines) publishing their journals to a real NATS server
// (nats-server/v2 on loopback, JetStream in the round's directory) and the
// firm aggregator, with positions open. Faults, in a seeded order and at
// seeded moments: NATS killed and restarted, the aggregator killed and
// restarted, and one desk partitioned from NATS while the firm kills every
// desk (the partition heals a seeded moment later). Checked: every desk
// that acknowledged the kill is flat at the desk and the venue; the
// partitioned desk keeps trading until it hears (NATS away never halts a
// desk); every journal record reached the firm exactly once (folded once,
// no gap, the stream holds each once); the firm's view equals each desk's
// Status.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"time"

	"github.com/deskguard/deskguard/firm"
	"github.com/deskguard/deskguard/firm/firmtest"
	"github.com/deskguard/deskguard/firm/natstest"
	"github.com/deskguard/deskguard/firm/wire"
	"github.com/deskguard/deskguard/outbox"
	"github.com/deskguard/deskguard/supervisor"
)

func runFirmScenario(ctx context.Context, o *Options, seed int64, dir string) (rd round, err error) {
	rng := newRand(seed)
	srv, err := natstest.Start(filepath.Join(dir, "nats"))
	if err != nil {
		return rd, err
	}
	defer srv.Stop()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return rd, err
	}
	cut := rng.IntN(3)
	px, err := natstest.NewProxy(srv.Addr())
	if err != nil {
		return rd, err
	}
	defer px.Close()
	names := []string{"east", "west", "north"}
	var desks []*firmtest.Desk
	defer func() {
		for _, d := range desks {
			if cerr := d.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	}()
	for i, n := range names {
		url := srv.URL()
		if i == cut {
			url = px.URL()
		}
		d, err := firmtest.StartDesk(firmtest.DeskOptions{Name: n, NATSURL: url, Pub: pub, Seed: seed + int64(i), Dir: dir, Scale: 0.2})
		if err != nil {
			return rd, err
		}
		desks = append(desks, d)
	}
	state := filepath.Join(dir, "firm.state")
	startAgg := func() (*firm.Aggregator, func(), error) {
		nc, err := outbox.Connect(srv.URL(), "firm")
		if err != nil {
			return nil, nil, err
		}
		a, err := firm.New(firm.Options{Conn: nc, StateFile: state, Key: priv, Desks: names, BeatEvery: 50 * time.Millisecond,
			KillRetry: 50 * time.Millisecond, KillWait: time.Second, Log: o.Log})
		if err != nil {
			nc.Close()
			return nil, nil, err
		}
		actx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = a.Run(actx) }()
		return a, func() { cancel(); <-done; nc.Close() }, nil
	}
	agg, stopAgg, err := startAgg()
	if err != nil {
		return rd, err
	}
	defer func() { stopAgg() }()
	viol := func(format string, args ...any) { rd.viol = append(rd.viol, fmt.Sprintf(format, args...)) }
	for _, d := range desks {
		if err := d.Open(int64(1 + rng.IntN(3))); err != nil {
			return rd, err
		}
	}
	pause := func(max int) {
		t := time.NewTimer(time.Duration(rng.IntN(max)) * time.Millisecond) // a seeded fault moment, not synchronisation
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	// The outage faults, in a seeded order.
	faults := []func() error{
		func() error { // NATS killed and restarted
			srv.Stop()
			pause(400)
			return srv.Restart()
		},
		func() error { // the aggregator killed and restarted
			stopAgg()
			pause(400)
			var err error
			agg, stopAgg, err = startAgg()
			return err
		},
	}
	if rng.IntN(2) == 0 {
		faults[0], faults[1] = faults[1], faults[0]
	}
	for _, f := range faults {
		pause(300)
		if err := f(); err != nil {
			return rd, err
		}
		rd.faults++
	}
	if err := firmtest.SameView(agg, desks); err != nil {
		viol("after the outages: %v", err)
	}
	// A firm kill while one desk is partitioned.
	px.Cut()
	rd.faults++
	if err := firmtest.Within("the partitioned desk's outbox down", func() bool { return !desks[cut].Outbox.Status().Up }); err != nil {
		return rd, err
	}
	t0 := time.Now()
	killID, err := agg.Kill(ctx, "drill", "firm kill during a partition")
	if err != nil {
		return rd, err
	}
	deskKill := func(n string) firm.DeskKill {
		for _, k := range agg.Kills() {
			if k.ID == killID && k.Desks[n] != nil {
				return *k.Desks[n]
			}
		}
		return firm.DeskKill{}
	}
	checkFlat := func(d *firmtest.Desk) {
		if err := firmtest.Within(d.Name+" acknowledged flat", func() bool { return deskKill(d.Name).Flat }); err != nil {
			viol("%v", err)
			return
		}
		if flat, why := firmtest.DeskFlat(d.Status()); !flat {
			viol("%s acknowledged the firm kill but is not flat: %s", d.Name, why)
		}
		if err := firmtest.Within(d.Name+" flat at the venue", func() bool { ok, _ := d.FlatAtVenue(); return ok }); err != nil {
			viol("%s acknowledged the firm kill: %v", d.Name, err)
		}
	}
	for i, d := range desks {
		if i == cut {
			continue
		}
		checkFlat(d)
		rd.kills = append(rd.kills, supervisor.KillReport{Trigger: "firm", TotalNs: time.Since(t0)})
	}
	if st := desks[cut].Status(); st.State != "running" {
		viol("%s is %s while partitioned: NATS being away must never halt a desk", names[cut], st.State)
	}
	if dk := deskKill(names[cut]); dk.Acked {
		viol("%s acknowledged through its partition", names[cut])
	}
	pause(500)
	px.Heal()
	checkFlat(desks[cut])
	// Exactly once, and the firm's view the desks' own.
	if err := firmtest.SameView(agg, desks); err != nil {
		viol("after the kill: %v", err)
	}
	nc, err := outbox.Connect(srv.URL(), "drill-check")
	if err != nil {
		return rd, err
	}
	defer nc.Close()
	for _, d := range desks {
		c, _ := d.J.Committed()
		bk, _ := agg.Book(d.Name)
		if bk.Records != c || bk.LastSeq != c || len(bk.Gaps) > 0 {
			viol("%s: %d records committed; the firm folded %d to seq %d, gaps %v", d.Name, c, bk.Records, bk.LastSeq, bk.Gaps)
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, err := wire.CountDesk(cctx, nc, wire.StreamOptions{}, d.Name)
		cancel()
		if err != nil {
			return rd, err
		}
		if n != c {
			viol("%s: the stream holds %d messages for %d records", d.Name, n, c)
		}
	}
	return rd, nil
}
