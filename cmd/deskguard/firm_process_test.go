// firm_process_test.go: real `deskguard run` processes publishing to the
// firm over a real NATS server (nats-server/v2 in this test process, on
// loopback, JetStream in t.TempDir()): one desk is SIGKILLed mid-session
// and started again on its journal, the other runs through. Every journal
// record of both reaches the firm exactly once (folded once, no gap, the
// stream holds each once), and the firm's books are each desk's own at the
// end of its session (its --summary).

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/firm"
	"github.com/deskguard/deskguard/firm/natstest"
	"github.com/deskguard/deskguard/firm/wire"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/outbox"
	"github.com/deskguard/deskguard/supervisor"
)

func firmDeskConfig(t *testing.T, dir, desk, base, md, natsURL, pub string) string {
	t.Helper()
	p := writeDeskConfig(t, dir, "tradovate", base, md)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "[desk]\n", fmt.Sprintf("[desk]\nname = %q\n", desk), 1)
	cfg += fmt.Sprintf("\n[firm]\nurl = %q\ncommand_key = %q\n", natsURL, pub)
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFirmDeskKilledAndRestarted(t *testing.T) {
	pace, lifeWait := "1500", 6*time.Second
	if raceBuild {
		pace, lifeWait = "400", 15*time.Second
	}
	srv, err := natstest.Start(filepath.Join(t.TempDir(), "nats"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	keyDir := t.TempDir()
	priv, pub := filepath.Join(keyDir, "firm.key"), filepath.Join(keyDir, "firm.pub")
	if _, err := wire.GenerateKey(priv, pub); err != nil {
		t.Fatal(err)
	}
	key, err := wire.LoadPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := outbox.Connect(srv.URL(), "firm")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	agg, err := firm.New(firm.Options{Conn: nc, StateFile: filepath.Join(keyDir, "firm.state"), Key: key, Desks: []string{"east", "west"}})
	if err != nil {
		t.Fatal(err)
	}
	actx, acancel := context.WithCancel(context.Background())
	aggDone := make(chan error, 1)
	go func() { aggDone <- agg.Run(actx) }()
	defer func() { acancel(); <-aggDone }()

	type desk struct {
		name, dir, cfg, sum string
		done                chan error
		out                 *strings.Builder
		cmd                 *exec.Cmd
	}
	start := func(d *desk, life int, extra ...string) {
		args := append([]string{"run", "--config", d.cfg, "--status-every", "1h"}, extra...)
		d.cmd = selfCmd(t, d.dir, args...)
		d.out = &strings.Builder{}
		d.cmd.Stdout, d.cmd.Stderr = d.out, mustCreate(t, d.dir, fmt.Sprintf("run%d.err", life))
		if err := d.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		d.done = make(chan error, 1)
		go func(c *exec.Cmd, ch chan error) { ch <- c.Wait() }(d.cmd, d.done)
	}
	var desks []*desk
	for i, name := range []string{"east", "west"} {
		d := &desk{name: name, dir: t.TempDir()}
		base, md, stopVenue := startVenue(t, d.dir, "tradovate", int64(i+1), pace)
		defer stopVenue()
		d.cfg = firmDeskConfig(t, d.dir, name, base, md, srv.URL(), pub)
		d.sum = filepath.Join(d.dir, "summary.json")
		desks = append(desks, d)
	}
	east, west := desks[0], desks[1]
	start(west, 1, "--summary", west.sum, "--end-after-idle", "10s")
	start(east, 1)
	ctx, cancel := context.WithTimeout(context.Background(), lifeWait)
	waitOpenPosition(ctx, east.dir)
	cancel()
	// SIGKILL: no clean shutdown, the outbox's cursor file as it was.
	_ = east.cmd.Process.Signal(syscall.SIGKILL)
	<-east.done
	start(east, 2, "--summary", east.sum, "--end-after-idle", "10s")
	for _, d := range desks {
		select {
		case err := <-d.done:
			if err != nil {
				t.Fatalf("%s: %v\n%s", d.name, err, d.out.String())
			}
		case <-time.After(180 * time.Second):
			_ = d.cmd.Process.Kill()
			t.Fatalf("%s did not finish its session\n%s", d.name, d.out.String())
		}
	}
	if !strings.Contains(east.out.String(), "recovered from the journal") {
		t.Fatalf("east's restart did not recover:\n%s", east.out.String())
	}
	for _, d := range desks {
		j, err := journal.Open(filepath.Join(d.dir, "desk.db"), journal.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		last, _ := j.Committed()
		j.Close()
		deadline := time.Now().Add(30 * time.Second)
		for agg.LastSeq(d.name) != last && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond) // polling the firm's progress (an outside observer)
		}
		bk, ok := agg.Book(d.name)
		if !ok || bk.LastSeq != last || bk.Records != last || len(bk.Gaps) > 0 || len(bk.Errors) > 0 {
			t.Fatalf("%s: journal ends at %d; firm folded to %d, %d records, gaps %v errors %v", d.name, last, bk.LastSeq, bk.Records, bk.Gaps, bk.Errors)
		}
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		n, err := wire.CountDesk(cctx, nc, wire.StreamOptions{}, d.name)
		ccancel()
		if err != nil || n != last {
			t.Fatalf("%s: the stream holds %d messages for %d records (%v)", d.name, n, last, err)
		}
		var sum supervisor.Summary
		b, err := os.ReadFile(d.sum)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &sum); err != nil {
			t.Fatal(err)
		}
		view := map[string]firm.AccountView{}
		for _, dv := range agg.View().Desks {
			if dv.Desk == d.name {
				for _, a := range dv.Accounts {
					view[a.ID] = a
				}
			}
		}
		for _, a := range sum.Accounts {
			f, ok := view[a.ID]
			if !ok {
				t.Errorf("%s %s: not in the firm's view", d.name, a.ID)
				continue
			}
			if f.Position != a.Position || f.Fees != a.Fees {
				t.Errorf("%s %s: firm position %d fees %s, desk %d %s", d.name, a.ID, f.Position, f.Fees, a.Position, a.Fees)
			}
			gp, _ := decimal.NewFromString(a.GrossProfit)
			gl, _ := decimal.NewFromString(a.GrossLoss)
			if r := gp.Sub(gl).StringFixed(2); r != f.Realized {
				t.Errorf("%s %s: firm realized %s, desk %s", d.name, a.ID, f.Realized, r)
			}
		}
	}
}
