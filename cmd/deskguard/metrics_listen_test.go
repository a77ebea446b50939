package main

// metrics_listen_test.go: `deskguard run` with [metrics] listen set serves
// /metrics on a listener of its own, not on the console's server, and a
// scrape from another address than this machine's loopback must carry the
// [metrics] token: without it, or with a wrong one, it is refused and
// learns nothing.

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostAddr is one of this machine's IPv4 addresses that is not loopback:
// a client connecting to it from here has it as its address, so the
// metrics handler treats it as another machine. On a machine with none
// (outside CI, where it is required) it is "": the test then runs on
// loopback, where no token is asked, and the token's refusals are left to
// the handler's own test (metrics.TestHandlerToken, a forged RemoteAddr).
func hostAddr(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no non-loopback IPv4 address on this machine: the token path needs one")
	}
	t.Log("no non-loopback IPv4 address on this machine: the scrapes come from loopback, where no token is asked (CI requires one)")
	return ""
}

func TestRunServesMetricsOnItsOwnListener(t *testing.T) {
	host := hostAddr(t)
	fromLoopback := host == ""
	if fromLoopback {
		host = "127.0.0.1"
	}
	dir := t.TempDir()
	const tok = "metrics-scrape-t0ken"
	tokFile := filepath.Join(dir, "metrics-token")
	if err := os.WriteFile(tokFile, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := restartConfig(t, dir)
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "[console]\nlisten = \"off\"", "[console]\nlisten = \"127.0.0.1:0\"", 1) +
		"\n[metrics]\nlisten = \"" + net.JoinHostPort(host, "0") + "\"\ntoken_file = \"" + tokFile + "\"\n"
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := selfCmd(t, dir, "run", "--config", cfg, "--status-every", "1h")
	stdout, stderr := &lockedBuf{}, &lockedBuf{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	if !stdout.waitFor("deskguard: 3 accounts", 60*time.Second) {
		t.Fatalf("the desk did not start:\n%s\n%s", stdout, stderr)
	}
	var url, base, viewer string
	for _, l := range strings.Split(stdout.String(), "\n") {
		if u, ok := strings.CutPrefix(l, "metrics: "); ok {
			url = strings.TrimSpace(u)
		}
		if u, ok := strings.CutPrefix(l, "console: "); ok {
			base = strings.TrimSpace(u)
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "viewer "); ok {
			viewer = strings.TrimSpace(v)
		}
	}
	if !strings.HasPrefix(url, "http://"+host+":") || !strings.HasSuffix(url, "/metrics") || base == "" ||
		strings.HasPrefix(url, base) || viewer == "" {
		t.Fatalf("metrics %q (want its own listener on %s), console %q, viewer %q:\n%s", url, host, base, viewer, stdout)
	}

	get := func(u, authz string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		body, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(body)
	}
	for _, tc := range []struct {
		name, authz string
		code        int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"a wrong token", "Bearer not-" + tok, http.StatusUnauthorized},
		{"the token, not as a bearer", "Basic " + tok, http.StatusUnauthorized},
		{"the console's viewer token", "Bearer " + viewer, http.StatusUnauthorized},
		{"the metrics token", "Bearer " + tok, http.StatusOK},
	} {
		if fromLoopback {
			tc.code = http.StatusOK // this machine: no token asked, whatever is sent
		}
		code, body := get(url, tc.authz)
		if code != tc.code {
			t.Errorf("%s from %s: %d, want %d: %.200s", tc.name, host, code, tc.code, body)
		}
		if code != http.StatusOK && (strings.Contains(body, "deskguard_") || strings.Contains(body, tok)) {
			t.Errorf("%s: refused, but the body has metrics or the token: %.200s", tc.name, body)
		}
		if code == http.StatusOK && !strings.Contains(body, `deskguard_intents_total{account="ORB1"}`) {
			t.Errorf("%s: 200 without the desk's families: %.300s", tc.name, body)
		}
	}
	// Not on the console's server: its own listener has them.
	if code, body := get(base+"/metrics", "Bearer "+viewer); code == http.StatusOK || strings.Contains(body, "deskguard_") {
		t.Errorf("the console's server also serves /metrics: %d %.200s", code, body)
	}
	// The token never reaches the log, though refusals are logged.
	if strings.Contains(stderr.String(), tok) || strings.Contains(stdout.String(), tok) {
		t.Errorf("the metrics token is in the desk's output")
	}
	select {
	case err := <-done:
		t.Fatalf("run exited: %v\n%s", err, stderr)
	default:
	}
}
