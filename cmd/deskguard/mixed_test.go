package main

// mixed_test.go: a desk that executes on Tradovate and takes its market
// data from Rithmic ([broker] kind = "tradovate", [data] kind = "rithmic"):
// the real binary against both venues on loopback, each fed the same
// trades. The desk's trades come from the Rithmic ticker plant only (it
// never subscribes to Tradovate's tick chart), its orders go to Tradovate
// only, and a kill flattens it there.

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	venuepkg "github.com/deskguard/deskguard/broker/venue"
	rvenue "github.com/deskguard/deskguard/broker/venue/rithmic"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/market/synth"
)

func serveOn(t *testing.T, serve func(context.Context, net.Listener) error, ready <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	<-ready
}

func TestMixedTradovateExecutionRithmicData(t *testing.T) {
	ids := []string{"M1", "M2"}
	tv, err := venuepkg.New(venuepkg.Config{Accounts: ids, Password: "pw", Manual: true}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, tv.Serve, tv.Ready())
	rv, err := rvenue.New(rvenue.Config{Accounts: ids, Password: "pw", Manual: true}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, rv.Serve, rv.Ready())
	dir := t.TempDir()
	cfg := fmt.Sprintf(`[desk]
journal = %q
control_socket = %q
workers = "in-process"
log_level = "warn"

[data]
kind = "rithmic"
pace = 0.0

[broker]
kind = "tradovate"

[broker.tradovate]
base_url = %q
md_url = %q
user = "demo"
password_env = "DG_VENUE_PW"

[broker.rithmic]
url = %q
system_name = %q
user = "demo"
password_env = "DG_VENUE_PW"

[console]
listen = "off"

[[accounts]]
id = "M1"
start_equity = "50000.00"
strategies = ["delta"]

[[accounts]]
id = "M2"
start_equity = "50000.00"
strategies = ["vwapmr"]
`, filepath.Join(dir, "desk.db"), filepath.Join(dir, "desk.sock"), tv.URL(), tv.MDURL(), rv.URL(), rv.SystemName())
	cfgPath := filepath.Join(dir, "desk.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	desk := selfCmd(t, dir, "run", "--config", cfgPath, "--status-every", "1h")
	desk.Stdout, desk.Stderr = mustCreate(t, dir, "run.out"), mustCreate(t, dir, "run.err")
	if err := desk.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- desk.Wait() }()
	t.Cleanup(func() {
		_ = desk.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopGuard):
			_ = desk.Process.Kill()
			<-exited
		}
	})
	select {
	case <-rv.Subscribed():
	case err := <-exited:
		b, _ := os.ReadFile(filepath.Join(dir, "run.err"))
		t.Fatalf("desk exited (%v): %s", err, b)
	case <-time.After(startGuard):
		t.Fatal("the desk never subscribed to Rithmic market data")
	}
	call := func(req deskapi.Request) deskapi.Response {
		t.Helper()
		tok, err := os.ReadFile(filepath.Join(dir, defaultTokenFile))
		if err != nil {
			t.Fatal(err)
		}
		req.Token = strings.TrimSpace(string(tok))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := deskapi.Call(ctx, filepath.Join(dir, "desk.sock"), req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	trades, err := synth.Generate(synth.Options{Seed: 4, Scale: 0.02, Regime: synth.Range})
	if err != nil {
		t.Fatal(err)
	}
	body, tail := trades[:len(trades)-300], trades[len(trades)-300:]
	for i, tr := range body {
		tv.Trade(tr) // the execution venue matches on the same market...
		rv.Trade(tr) // ...the data venue publishes
		if i%50 == 49 {
			time.Sleep(5 * time.Millisecond) // the feed's pace (the desk trades as it goes), not synchronisation
		}
	}
	// The desk has counted what Rithmic published (an outside observer polls).
	deadline := time.Now().Add(startGuard) // a hang guard on the desk's own count
	var st *deskapi.Status
	for time.Now().Before(deadline) {
		st = call(deskapi.Request{Op: "status"}).Status
		if st != nil && st.Trades >= int64(len(body)) {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling interval of an outside observer
	}
	if st == nil || st.Trades < int64(len(body)) {
		t.Fatalf("the desk saw %v of %d trades", st, len(body))
	}
	if st.Links.Data != "up" || st.Links.Venue != "up" {
		t.Fatalf("links %+v", st.Links)
	}
	if n := tv.ChartSubscribers(); n != 0 {
		t.Fatalf("%d Tradovate tick-chart subscriptions: the desk's data must come from Rithmic", n)
	}
	entries := 0
	for _, ev := range tv.History() {
		if ev.Kind == broker.Accepted && ev.Role == broker.EntryLeg {
			entries++
		}
	}
	if entries == 0 {
		t.Fatal("no entry reached Tradovate: the test proved nothing")
	}
	if h := rv.History(); len(h) != 0 {
		t.Fatalf("%d events at the Rithmic venue: execution must be on Tradovate", len(h))
	}
	// A kill flattens at Tradovate.
	if resp := call(deskapi.Request{Op: "flatten", Reason: "mixed test"}); !resp.OK {
		t.Fatalf("flatten refused: %s", resp.Error)
	}
	flat := func() bool {
		for _, id := range ids {
			p, _ := tv.Engine().Position(id)
			open, _ := tv.Engine().OpenOrders(context.Background(), id)
			if p.Qty != 0 || len(open) > 0 {
				return false
			}
		}
		return true
	}
	// The market goes on until the kill is done at Tradovate (its market
	// orders fill on the next trade), however late the desk's liquidation
	// arrives: the tail, then its last price again, bounded by a hang
	// guard rather than by a number of trades.
	deadline = time.Now().Add(stopGuard)
	for i := 0; !flat(); i++ {
		if time.Now().After(deadline) {
			t.Fatalf("not flat at Tradovate %s after the kill (%d trades sent): %+v", stopGuard, i, tv.Positions())
		}
		tr := tail[min(i, len(tail)-1)]
		if i >= len(tail) {
			tr.Time += int64(i-len(tail)+1) * int64(time.Millisecond)
		}
		time.Sleep(5 * time.Millisecond) // the feed's pace
		tv.Trade(tr)
		rv.Trade(tr)
	}
	t.Logf("%d trades from Rithmic, %d entries at Tradovate, flat after the kill", st.Trades, entries)
}
