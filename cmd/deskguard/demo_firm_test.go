// demo_firm_test.go: `deskguard demo firm` as a user runs it — three desk
// processes and the firm on one machine — then `deskguard firm status` and
// `deskguard firm kill` against its console: every desk confirms flat.

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deskguard/deskguard/firm"
)

func TestDemoFirmKillFromTheCLI(t *testing.T) {
	dir := t.TempDir()
	demo := selfCmd(t, dir, "demo", "firm", "--dir", filepath.Join(dir, "demo"), "--for", "5m", "--console", "127.0.0.1:0", "--pace", "100")
	out, err := demo.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	demo.Stderr = mustCreate(t, dir, "demo.err")
	if err := demo.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	console := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "firm console: "); ok {
				console <- v
			}
		}
		done <- demo.Wait()
	}()
	defer func() {
		_ = demo.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("demo: %v", err)
			}
		case <-time.After(stopGuard):
			_ = demo.Process.Kill()
			t.Error("the demo did not stop on SIGTERM")
		}
	}()
	var url string
	select {
	case url = <-console:
	case <-time.After(startGuard):
		t.Fatal("the demo printed no console address")
	}
	tok := filepath.Join(dir, defaultFirmTokenFile)
	cli := func(args ...string) (int, string) {
		var so, se bytes.Buffer
		code := dispatch(context.Background(), append(args, "--console", url, "--token-file", tok), nil, &so, &se)
		return code, so.String() + se.String()
	}
	deadline := time.Now().Add(startGuard)
	for {
		code, s := cli("firm", "status", "--json")
		var v firm.View
		up := 0
		if code == 0 && json.Unmarshal([]byte(s), &v) == nil {
			for _, d := range v.Desks {
				if d.Link == "up" && d.State == "running" && d.LastSeq > 0 {
					up++
				}
			}
		}
		if up == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("three desks not up and running at the firm:\n%s", s)
		}
		time.Sleep(100 * time.Millisecond) // polling the CLI as a user would, not synchronisation
	}
	code, s := cli("firm", "kill", "--reason", "demo test", "--wait", "90s")
	if code != 0 || !strings.Contains(s, "every desk confirmed flat") {
		t.Fatalf("firm kill exit %d:\n%s", code, s)
	}
	if code, s := cli("firm", "kill", "--wait", "0s"); code != 2 || !strings.Contains(s, "--reason is required") {
		t.Fatalf("firm kill without a reason: exit %d %s", code, s)
	}
}
