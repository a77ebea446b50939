package main

// check_test.go: `deskguard config check FILE` refuses what `deskguard
// run` refuses (issue 25 item 9: it passed a non-loopback console without
// TLS and a pace of nan or inf that run then refused), and reports every
// problem in the file at once.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskguard/deskguard/auth"
)

func TestConfigCheckRefusesWhatRunRefuses(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DG_CHECK_TOK", "the-same-token")
	acct := "[[accounts]]\nid = \"C1\"\nstart_equity = \"50000.00\"\nstrategies = [\"orb\"]\n"
	desk := func(extra string) string {
		return fmt.Sprintf("[desk]\njournal = %q\ncontrol_socket = %q\nworkers = \"in-process\"\n[broker]\nkind = \"sim\"\n",
			filepath.Join(dir, "never.db"), filepath.Join(dir, "never.sock")) + extra
	}
	cases := []struct{ name, text, want string }{
		{"pace nan", desk("[data]\npace = nan\n" + acct), "data.pace"},
		{"pace inf", desk("[data]\npace = inf\n" + acct), "data.pace"},
		{"a non-loopback console without TLS", desk("[console]\nlisten = \"0.0.0.0:18080\"\n" + acct), "non-loopback"},
		{"half a TLS pair", desk("[console]\ntls_key = \"k.pem\"\n" + acct), "tls_cert and tls_key"},
		{"a trader of no account", desk(acct + "[[console.tokens]]\nname = \"t\"\nrole = \"trader:NOPE\"\nenv = \"DG_CHECK_TOK\"\n"), "NOPE"},
		{"the same token twice", desk(acct + "[[console.tokens]]\nname = \"a\"\nrole = \"viewer\"\nhash = \"" + auth.Hash("the-same-token") +
			"\"\n[[console.tokens]]\nname = \"b\"\nrole = \"manager\"\nenv = \"DG_CHECK_TOK\"\n"), "configured twice"},
		{"a slack secret file that is missing", desk("[slack]\nsigning_secret_file = \"/nonexistent/secret\"\n" + acct), "/nonexistent/secret"},
		{"tradovate without a password", desk(acct+"[broker.tradovate]\nbase_url = \"https://demo.example\"\nuser = \"u\"\npassword_env = \"DG_CHECK_UNSET_PW\"\n") +
			"", "DG_CHECK_UNSET_PW"},
	}
	cases[len(cases)-1].text = strings.Replace(cases[len(cases)-1].text, "kind = \"sim\"", "kind = \"tradovate\"", 1)
	for i, c := range cases {
		p := filepath.Join(dir, fmt.Sprintf("c%d.toml", i))
		if err := os.WriteFile(p, []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		code := dispatch(context.Background(), []string{"config", "check", p}, nil, &out, &errb)
		if code == 0 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("config check, %s: exit %d, %q (want refused, naming %q)", c.name, code, errb.String()+out.String(), c.want)
		}
		code, stderr := runIn(t, dir, refuseGuard, "--config", p, "--console", consoleFor(c.text))
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("run, %s: exit %d, %q (want refused, naming %q)", c.name, code, lastLines(stderr), c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "never.db")); err == nil {
		t.Error("a refused run created its journal")
	}
}

// consoleFor keeps a case's console address, else moves run's console off
// the default port (other tests may hold it).
func consoleFor(text string) string {
	if strings.Contains(text, "listen") || strings.Contains(text, "tls_") {
		for _, l := range strings.Split(text, "\n") {
			if v, ok := strings.CutPrefix(l, "listen = "); ok {
				return strings.Trim(v, `"`)
			}
		}
		return "127.0.0.1:0"
	}
	return "off"
}

func lastLines(s string) string {
	if len(s) > 600 {
		return "…" + s[len(s)-600:]
	}
	return s
}

func TestConfigCheckReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	text := "[desk]\nworkers = \"threads\"\n[data]\npace = nan\n[console]\nlisten = \"0.0.0.0:1\"\n" +
		"[[accounts]]\nid = \"E1\"\nstart_equity = \"1000\"\nstrategies = [\"martingale\"]\n" +
		"[[console.tokens]]\nname = \"gone\"\nrole = \"viewer\"\nenv = \"DG_CHECK_NEVER_SET\"\n"
	p := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"config", "check", p}, nil, &out, &errb); code != 1 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"desk.workers", "data.pace", "console", "accounts[0].strategies", "DG_CHECK_NEVER_SET"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("config check does not report %s:\n%s", want, errb.String())
		}
	}
}

// TestRunRefusesAPaceFlagThatIsNotANumber: --pace nan and --pace inf are
// refused as the config's pace would be (a nan flag was silently ignored).
func TestRunRefusesAPaceFlagThatIsNotANumber(t *testing.T) {
	dir := t.TempDir()
	cfg := startConfig(t, dir, "off", filepath.Join(dir, "desk.db"))
	for _, p := range []string{"nan", "inf", "-inf", "-1"} {
		code, stderr := runIn(t, dir, refuseGuard, "--config", cfg, "--pace", p)
		if code != 2 || !strings.Contains(stderr, "data.pace") {
			t.Errorf("--pace %s: exit %d, %q", p, code, lastLines(stderr))
		}
	}
}
