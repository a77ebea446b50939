package main

// cmd_demo.go: `deskguard demo firm` — the firm on one machine: an embedded
// NATS server with JetStream, the firm aggregator and its console, and
// three desks (`deskguard run` child processes, each with its own journal,
// venue, console and data seed) publishing to it and obeying its signed
// kills. Everything lives in one directory; Ctrl-C stops it all.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"

	"github.com/deskguard/deskguard/firm/wire"
)

func cmdDemo(e *env) int {
	const usage = "usage: deskguard demo firm [--dir DIR] [--pace N] [--for DURATION] [--console ADDR]"
	if len(e.args) > 0 && isHelp(e.args[0]) {
		fmt.Fprintln(e.stdout, usage)
		return 0
	}
	if len(e.args) == 0 || e.args[0] != "firm" {
		fmt.Fprintln(e.stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("demo firm", flag.ContinueOnError)
	dir := fs.String("dir", "", "where the demo keeps everything (default: a new temporary directory)")
	pace := fs.Float64("pace", 60, "each desk's replay pace × real time")
	dur := fs.Duration("for", 0, "stop after this long (0: until Ctrl-C)")
	console := fs.String("console", "127.0.0.1:8090", "the firm console's address")
	natsAddr := fs.String("nats-listen", "127.0.0.1:0", "the embedded NATS server's address")
	e.args = e.args[1:]
	if !parseFlags(e, fs) {
		return 2
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "deskguard-firm-demo-")
		if err != nil {
			return fail(e, "demo firm", err, 1)
		}
		*dir = d
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fail(e, "demo firm", err, 1)
	}
	exe, err := os.Executable()
	if err != nil {
		return fail(e, "demo firm", err, 1)
	}
	key := filepath.Join(*dir, "firm.key")
	if _, err := os.Stat(key); errors.Is(err, os.ErrNotExist) {
		if _, err := wire.GenerateKey(key, filepath.Join(*dir, "firm.pub")); err != nil {
			return fail(e, "demo firm", err, 1)
		}
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	if *dur > 0 {
		var c2 context.CancelFunc
		ctx, c2 = context.WithTimeout(ctx, *dur)
		defer c2()
	}
	desks := []string{"east", "west", "north"}
	var wg sync.WaitGroup
	defer wg.Wait()
	o := &firmOpts{name: "demo-firm", natsListen: *natsAddr, store: filepath.Join(*dir, "nats"), state: filepath.Join(*dir, "firm.state"),
		key: key, desks: "east,west,north", console: *console, stream: wire.DefaultStream, replicas: 1, dailyLoss: "0"}
	ready := func(natsURL, consoleAddr string) {
		for i, d := range desks {
			ddir := filepath.Join(*dir, d)
			if err := os.MkdirAll(ddir, 0o700); err != nil {
				fmt.Fprintf(e.stderr, "demo firm: %s: %v\n", d, err)
				continue
			}
			cfg := demoDeskConfig(d, int64(11+i), *pace, filepath.Join(*dir, "firm.pub"))
			if err := os.WriteFile(filepath.Join(ddir, "desk.toml"), []byte(cfg), 0o600); err != nil {
				fmt.Fprintf(e.stderr, "demo firm: %s: %v\n", d, err)
				continue
			}
			logf, err := os.Create(filepath.Join(ddir, "desk.log"))
			if err != nil {
				fmt.Fprintf(e.stderr, "demo firm: %s: %v\n", d, err)
				continue
			}
			cmd := exec.Command(exe, "run", "--config", "desk.toml", "--firm", natsURL)
			cmd.Dir, cmd.Stdout, cmd.Stderr = ddir, logf, logf
			if err := cmd.Start(); err != nil {
				logf.Close()
				fmt.Fprintf(e.stderr, "demo firm: start %s: %v\n", d, err)
				continue
			}
			fmt.Fprintf(e.stdout, "desk %s: pid %d, %s (its log: %s)\n", d, cmd.Process.Pid, ddir, filepath.Join(ddir, "desk.log"))
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer logf.Close()
				done := make(chan struct{})
				go func() {
					select {
					case <-ctx.Done():
						_ = cmd.Process.Signal(syscall.SIGTERM)
					case <-done:
					}
				}()
				_ = cmd.Wait()
				close(done)
			}()
		}
		fmt.Fprintf(e.stdout, "demo: three desks and the firm; the firm console is http://%s (firm token above); "+
			"`deskguard firm kill --reason R` kills every desk\n", consoleAddr)
	}
	// The firm (and its NATS server) stops after the desks, so their last
	// records reach it.
	firmCtx, stopFirm := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFirm()
	go func() {
		<-ctx.Done()
		wg.Wait()
		stopFirm()
	}()
	return runFirm(&env{ctx: firmCtx, args: nil, stdin: e.stdin, stdout: e.stdout, stderr: e.stderr}, o, ready)
}

// demoDeskConfig is one demo desk: the built-in desk's three accounts, its
// own data seed, journal and control socket, its console on a free port.
func demoDeskConfig(desk string, seed int64, pace float64, pub string) string {
	return `# deskguard demo firm: desk ` + desk + `
[desk]
name = "` + desk + `"
journal = "desk.db"
control_socket = "desk.sock"

[data]
seed = ` + strconv.FormatInt(seed, 10) + `
pace = ` + strconv.FormatFloat(pace, 'f', -1, 64) + `

[console]
listen = "127.0.0.1:0"

[firm]
desk = "` + desk + `"
command_key = "` + pub + `"
firm_timeout = "5s"

[[accounts]]
id = "ORB1"
owner = "trader-orb"
start_equity = "50000.00"
strategies = ["orb"]

[[accounts]]
id = "VWAP1"
owner = "trader-vwap"
start_equity = "50000.00"
strategies = ["vwapmr"]

[[accounts]]
id = "DELTA1"
owner = "trader-delta"
start_equity = "50000.00"
strategies = ["delta"]
`
}
