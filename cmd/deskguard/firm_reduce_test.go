package main

// firm_reduce_test.go: a real `deskguard run` with a firm link to a real
// NATS server (loopback, JetStream in t.TempDir()) and no firm heard: its
// link's reduce-only hook makes the desk reduce-only (status, journal);
// the firm's heartbeat lifts it; the outbox's progress and lag are in
// `deskguard status`.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/firm/natstest"
	"github.com/deskguard/deskguard/firm/wire"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/outbox"
)

func TestFirmLinkReduceOnlyWired(t *testing.T) {
	srv, err := natstest.Start(filepath.Join(t.TempDir(), "nats"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	keyDir := t.TempDir()
	if _, err := wire.GenerateKey(filepath.Join(keyDir, "firm.key"), filepath.Join(keyDir, "firm.pub")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	base, md, stopVenue := startVenue(t, dir, "tradovate", 7, "200")
	defer stopVenue()
	cfg := firmDeskConfig(t, dir, "east", base, md, srv.URL(), filepath.Join(keyDir, "firm.pub"))
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, append(b, "firm_timeout = \"300ms\"\nreduce_only_after = \"300ms\"\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startDeskRun(t, dir, cfg)
	// No firm heartbeat: the link is lost from the start, and reduce-only
	// once it has been lost for firm_timeout + reduce_only_after.
	st := p.until("the firm's reduce-only", 60*time.Second, func(st deskapi.Status) bool {
		return st.FirmReduceOnly && st.Firm != nil && st.Firm.ReduceOnly && st.Firm.Committed > 0
	})
	if st.Firm.Desk != "east" || st.Firm.Up {
		t.Fatalf("firm link in status: %+v", *st.Firm)
	}
	// `deskguard status` says it, with the outbox's lag.
	var out, errb strings.Builder
	if rc := dispatch(context.Background(), []string{"status", "--socket", filepath.Join(dir, "desk.sock"),
		"--token-file", filepath.Join(dir, defaultTokenFile)}, strings.NewReader(""), &out, &errb); rc != 0 {
		t.Fatalf("status rc %d: %s", rc, errb.String())
	}
	for _, w := range []string{"firm: desk east, link LOST", "lag ", "REDUCE-ONLY by the firm link"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("no %q in deskguard status:\n%s", w, out.String())
		}
	}

	// The firm heard: the link lifts it.
	nc, err := outbox.Connect(srv.URL(), "firm")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		tk := time.NewTicker(50 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				_ = nc.Publish(wire.FirmHeartbeat, wire.Marshal(wire.FirmBeat{Time: time.Now().UnixNano(), Name: "firm"}))
			}
		}
	}()
	p.until("the firm's reduce-only lifted", 60*time.Second, func(st deskapi.Status) bool {
		return !st.FirmReduceOnly && st.Firm != nil && st.Firm.Up && !st.Firm.ReduceOnly
	})
	cancel()
	p.end()

	j, err := journal.Open(filepath.Join(dir, "desk.db"), journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var levels []string
	_ = j.Iterate(1, func(r journal.Record) error {
		if r.Kind == journal.KindRisk && r.Account == "" {
			if rk, err := r.Risk(); err == nil && rk.Event == "firm_reduce_only" {
				levels = append(levels, rk.Level)
			}
		}
		return nil
	})
	if fmt.Sprint(levels) != "[reduce_only normal]" {
		t.Fatalf("journaled firm reduce-only records %v, want [reduce_only normal]", levels)
	}
}
