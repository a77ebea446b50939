package main

// cmd_control_test.go: `deskguard clear` and `deskguard reset-trailing`
// over a real control socket (a fake desk behind it): usage, the manager's
// act, a trader refused; the status command's risk table.

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/console/consoletest"
	"github.com/deskguard/deskguard/control"
	"github.com/deskguard/deskguard/deskapi"
)

func TestCLIClearFault(t *testing.T) {
	dir := t.TempDir()
	var toks auth.Tokens
	toks.AddPlain("risk", "mtok-secret", auth.Role{Kind: "manager"})
	toks.AddPlain("alice", "ttok-secret", auth.Role{Kind: "trader", Account: "ACC1"})
	desk := consoletest.NewFakeDesk()
	desk.SetAccountState("ACC1", "faulted")
	srv := &control.Server{Desk: desk, Tokens: &toks}
	sock := filepath.Join(dir, "ctl.sock")
	if err := srv.Listen(sock); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx)
	tokFile := func(name, tok string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mgr, trader := tokFile("mgr", "mtok-secret"), tokFile("trader", "ttok-secret")
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := dispatch(ctx, args, strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, _, serr := run("clear", "ACC1", "--socket", sock, "--token-file", mgr); code != 2 || !strings.Contains(serr, "usage") {
		t.Errorf("clear without a reason: exit %d, %q", code, serr)
	}
	if code, _, serr := run("clear", "--reason", "x", "--socket", sock, "--token-file", mgr); code != 2 {
		t.Errorf("clear without an account: exit %d, %q", code, serr)
	}
	if code, _, serr := run("clear", "ACC1", "--reason", "please", "--socket", sock, "--token-file", trader); code != 1 || !strings.Contains(serr, "may not") {
		t.Errorf("trader clear: exit %d, %q", code, serr)
	}
	if code, _, serr := run("clear", "ACC2", "--reason", "not faulted", "--socket", sock, "--token-file", mgr); code != 1 || !strings.Contains(serr, "not allowed") {
		t.Errorf("clear of a trading account: exit %d, %q", code, serr)
	}
	code, out, serr := run("clear", "ACC1", "--reason", "stop restored at the venue", "--socket", sock, "--token-file", mgr)
	if code != 0 || !strings.Contains(out, "ACC1: fault cleared by risk") {
		t.Fatalf("manager clear: exit %d, out %q, err %q", code, out, serr)
	}
	for _, a := range desk.Status(ctx).Accounts {
		if a.ID == "ACC1" && a.State != "idle" {
			t.Errorf("ACC1 %s after the clear, want idle", a.State)
		}
	}
	var got []string
	for _, a := range desk.Actions() {
		if a.Op == "clear" {
			got = append(got, a.Account+" "+a.Who+" "+a.Why)
		}
	}
	if len(got) != 2 || got[1] != "ACC1 risk stop restored at the venue" {
		t.Errorf("clears the desk saw: %q", got)
	}
	if code, out, _ := run("help"); code != 0 || !strings.Contains(out, "clear ") {
		t.Errorf("help does not list clear: %q", out)
	}
}

func TestCLIResetTrailing(t *testing.T) {
	dir := t.TempDir()
	var toks auth.Tokens
	toks.AddPlain("risk", "mtok-secret", auth.Role{Kind: "manager"})
	toks.AddPlain("alice", "ttok-secret", auth.Role{Kind: "trader", Account: "ACC1"})
	desk := consoletest.NewFakeDesk()
	srv := &control.Server{Desk: desk, Tokens: &toks}
	sock := filepath.Join(dir, "ctl.sock")
	if err := srv.Listen(sock); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx)
	tokFile := func(name, tok string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mgr, trader := tokFile("mgr", "mtok-secret"), tokFile("trader", "ttok-secret")
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := dispatch(ctx, args, strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, _, serr := run("reset-trailing", "ACC1", "--socket", sock, "--token-file", mgr); code != 2 || !strings.Contains(serr, "usage") {
		t.Errorf("without a reason: exit %d, %q", code, serr)
	}
	if code, _, serr := run("reset-trailing", "ACC1", "--reason", "please", "--socket", sock, "--token-file", trader); code != 1 || !strings.Contains(serr, "may not") {
		t.Errorf("trader: exit %d, %q", code, serr)
	}
	code, out, serr := run("reset-trailing", "ACC1", "--reason", "evaluation restarted", "--socket", sock, "--token-file", mgr)
	if code != 0 || !strings.Contains(out, "ACC1: trailing line reset by risk") {
		t.Fatalf("manager: exit %d, out %q, err %q", code, out, serr)
	}
	var got []string
	for _, a := range desk.Actions() {
		if a.Op == "reset_trailing" {
			got = append(got, a.Account+" "+a.Who+" "+a.Why)
		}
	}
	if len(got) != 1 || got[0] != "ACC1 risk evaluation restarted" {
		t.Errorf("resets the desk saw: %q", got)
	}
}

// TestStatusRiskTable: `deskguard status` lists each account's usage of
// its limits, the account nearest a limit first, with what is left before
// the nearest rule trips and the release's time in the desk's zone.
func TestStatusRiskTable(t *testing.T) {
	st := &deskapi.Status{DeskLevel: "warning", Zone: "America/Chicago", Accounts: []deskapi.AccountStatus{
		{ID: "FAR", Risk: &deskapi.RiskUsage{Level: "normal", NearestRule: "daily_trade_limit", NearestBP: 500, NearestLeft: "19 trades", AllowanceUsed: "1.00",
			Allowance: "750.00", TradesToday: 1, TradeLimit: 20, OrderLimit: 200, MaxPosition: 20}},
		{ID: "NEAR", Risk: &deskapi.RiskUsage{Level: "reduce_only", NearestRule: "reduce_only", NearestBP: 10250, NearestLeft: "reached", AllowanceUsed: "691.88",
			Allowance: "750.00", TrailingLine: "48000.00", TrailingBroken: true, TierUnits: 2, TierMaxPos: 10, MaxPosition: 10,
			NextRelease: "CPI", NextReleaseAt: "2026-02-13T13:30:00Z"}},
		{ID: "NONE"},
	}}
	var b bytes.Buffer
	printRisk(&b, st)
	out := b.String()
	near, far := strings.Index(out, "NEAR"), strings.Index(out, "FAR")
	if near < 0 || far < 0 || near > far || strings.Contains(out, "NONE") {
		t.Fatalf("order or rows wrong:\n%s", out)
	}
	for _, want := range []string{"desk ladder warning", "102.50%", "691.88 of 750.00", "48000.00 BREACHED", "2 (10)", "CPI 2026-02-13 07:30:00 CST",
		"reduce_only reached", "daily_trade_limit 19 trades"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

// TestStatusFirmLine: `deskguard status` shows the firm link, its
// reduce-only and the outbox's lag; a desk reduce-only by a firm link it
// no longer has says so; a desk without one prints nothing.
func TestStatusFirmLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   deskapi.Status
		want []string
	}{
		{"up", deskapi.Status{Zone: "UTC", Firm: &deskapi.FirmLink{Desk: "east", Up: true, OutboxUp: true, Committed: 120, Published: 117, Lag: 3}},
			[]string{"firm: desk east, link up; outbox up, published 117 of 120, lag 3"}},
		{"lost, reduce-only", deskapi.Status{Zone: "UTC", FirmReduceOnly: true, Firm: &deskapi.FirmLink{Desk: "east", DownSince: "2026-12-07T14:30:00Z",
			ReduceOnly: true, Committed: 200, Published: 150, Lag: 50, OutboxError: "nats: timeout", OutboxSince: "2026-12-07T14:30:01Z"}},
			[]string{"link LOST since 2026-12-07 14:30:00 UTC", "outbox DOWN since 2026-12-07 14:30:01 UTC (nats: timeout)", "lag 50", "REDUCE-ONLY by the firm link"}},
		{"no link, reduce-only", deskapi.Status{FirmReduceOnly: true}, []string{"firm: no link; the desk is REDUCE-ONLY"}},
		{"none", deskapi.Status{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			printFirm(&b, &tc.st)
			out := b.String()
			if len(tc.want) == 0 && out != "" {
				t.Fatalf("printed %q for a desk without a firm link", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("no %q in %q", w, out)
				}
			}
		})
	}
}
