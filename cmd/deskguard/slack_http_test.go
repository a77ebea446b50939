package main

// slack_http_test.go: `deskguard run` serves the Slack command endpoint
// (issue 08) on the console's server at alerts.HTTPPath, outside the
// console's token checks: a request signed with the signing secret from
// the environment is answered, a forged one gets 401, the secret never
// reaches the log; with the console off the log says the endpoint is not
// served. The real binary (this test binary as `deskguard run`) on the
// in-process sim broker.

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deskguard/deskguard/alerts"
)

const slackTestSecret = "run-test-signing-secret-9f8e7d"

func slackRunConfig(t *testing.T, dir, listen string) string {
	t.Helper()
	cfg := fmt.Sprintf(`[desk]
journal = %q
control_socket = %q
workers = "in-process"
log_level = "info"

[broker]
kind = "sim"

[console]
listen = %q

[slack]
allowed_users = ["URUNTEST"]

[[accounts]]
id = "S1"
start_equity = "50000.00"
strategies = ["orb"]
`, filepath.Join(dir, "desk.db"), filepath.Join(dir, "desk.sock"), listen)
	p := filepath.Join(dir, "desk.toml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// lockedBuf collects a child's stderr; waitFor waits on its writes.
type lockedBuf struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed (and replaced) at each write
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
	return l.b.Write(p)
}

// waitFor reports whether s appears in the buffer within d, woken by each
// write rather than polling.
func (l *lockedBuf) waitFor(s string, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		if strings.Contains(l.b.String(), s) {
			l.mu.Unlock()
			return true
		}
		if l.changed == nil {
			l.changed = make(chan struct{})
		}
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startRun starts `deskguard run` with the signing secret in its
// environment and returns its stdout lines as they come.
func startRun(t *testing.T, dir, cfg string) (lines <-chan string, stderr *lockedBuf) {
	t.Helper()
	cmd := selfCmd(t, dir, "run", "--config", cfg, "--status-every", "1h")
	cmd.Env = append(cmd.Env, alerts.EnvSigningSecret+"="+slackTestSecret)
	stderr = &lockedBuf{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan string, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case ch <- sc.Text():
			default: // nobody reads any more: drop
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(stopGuard):
			_ = cmd.Process.Kill()
			<-done
			t.Error("run did not stop on SIGTERM")
		}
		if strings.Contains(stderr.String(), slackTestSecret) {
			t.Error("the signing secret reached the log")
		}
		if t.Failed() {
			t.Logf("run stderr:\n%s", stderr.String())
		}
	})
	return ch, stderr
}

func slackPost(t *testing.T, target, body string, ts int64, secret string) (int, string) {
	t.Helper()
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%d:%s", ts, body)
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRunServesSlackCommandsOnTheConsole(t *testing.T) {
	dir := t.TempDir()
	lines, stderr := startRun(t, dir, slackRunConfig(t, dir, "127.0.0.1:0"))
	base := ""
	deadline := time.After(startGuard)
	for base == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("run exited before serving the console")
			}
			if v, ok := strings.CutPrefix(l, "console: "); ok {
				base = v
			}
		case <-deadline:
			t.Fatal("run printed no console address")
		}
	}
	target := base + alerts.HTTPPath
	now := time.Now().Unix()
	status := url.Values{"command": {"/deskguard"}, "text": {"status"}, "user_id": {"URUNTEST"}, "team_id": {"T1"}}.Encode()

	// Signed with the secret from the environment, no console token.
	code, body := slackPost(t, target, status, now, slackTestSecret)
	if code != http.StatusOK || !strings.Contains(body, "S1") {
		t.Fatalf("signed /deskguard status: %d %s", code, body)
	}
	// Forged: signed with another secret, or a valid signature over another body.
	if code, body := slackPost(t, target, status, now, "not-the-secret"); code != http.StatusUnauthorized {
		t.Errorf("forged signature: %d %s, want 401", code, body)
	}
	flatten := strings.Replace(status, "text=status", "text=flatten+all", 1)
	m := hmac.New(sha256.New, []byte(slackTestSecret))
	fmt.Fprintf(m, "v0:%d:%s", now, status)
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(flatten))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now, 10))
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("tampered body: %d, want 401", resp.StatusCode)
	}
	// The console's own API still wants its token.
	r, err := http.Get(base + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusUnauthorized {
		t.Errorf("/api/status without a token: %d", r.StatusCode)
	}
	if !strings.Contains(stderr.String(), "slack commands over HTTP") {
		t.Errorf("run did not log where the Slack endpoint is served")
	}
}

func TestRunSaysSlackHTTPNotServedWithoutConsole(t *testing.T) {
	dir := t.TempDir()
	_, stderr := startRun(t, dir, slackRunConfig(t, dir, "off"))
	if !stderr.waitFor("not served: the console is off", startGuard) {
		t.Fatal("run did not say that the Slack endpoint is not served")
	}
}
