// mount_test.go: an extra handler mounted on the console's server — the
// Slack command endpoint as `deskguard run` mounts it — answers without a
// console token and without the console's CSRF rules, authenticates with
// Slack's signature instead (a forged request gets 401), and cannot take
// over the console's own paths.
package console_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/alerts"
	"github.com/deskguard/deskguard/console"
)

type slackDesk struct{ flattens chan string }

func (d slackDesk) Flatten(_ context.Context, account, trigger, who string) error {
	d.flattens <- account + "/" + trigger + "/" + who
	return nil
}

func (d slackDesk) Status(context.Context) (alerts.StatusReport, error) {
	return alerts.StatusReport{State: "running", At: time.Now()}, nil
}

// slackSign signs body as Slack does (v0, HMAC-SHA256 of "v0:ts:body").
func slackSign(secret string, ts int64, body string) map[string]string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%d:%s", ts, body)
	return map[string]string{
		"Content-Type":              "application/x-www-form-urlencoded",
		"X-Slack-Request-Timestamp": strconv.FormatInt(ts, 10),
		"X-Slack-Signature":         "v0=" + hex.EncodeToString(m.Sum(nil)),
	}
}

func (e *env) post(path, body string, hdr map[string]string) resp {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{r.StatusCode, b, r.Header}
}

func TestMountedSlackEndpoint(t *testing.T) {
	const secret = "console-mount-test-secret"
	desk := slackDesk{flattens: make(chan string, 4)}
	cmdr := alerts.NewCommander(alerts.Config{SigningSecret: alerts.Secret(secret), AllowedUsers: []string{"U1"}}, desk, nil, nil, nil)
	e := start(t, console.Config{}, func(s *console.Server) {
		if err := s.Mount(alerts.HTTPPath, cmdr.HTTPHandler()); err != nil {
			t.Fatal(err)
		}
	})
	body := url.Values{"command": {"/deskguard"}, "text": {"flatten all"}, "user_id": {"U1"}, "team_id": {"T1"}}.Encode()
	now := time.Now().Unix()

	// Signed: served without any console token, from no origin at all.
	r := e.post(alerts.HTTPPath, body, slackSign(secret, now, body))
	if r.code != 200 || !strings.Contains(string(r.body), "Flatten the desk sent") {
		t.Fatalf("signed: %d %s", r.code, r.body)
	}
	if got := <-desk.flattens; got != "/slack/U1" {
		t.Fatalf("flatten %q", got)
	}
	if r.hdr.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("mounted endpoint lacks the console's security headers: %v", r.hdr)
	}
	// A cross-site Origin is no reason to refuse Slack (the signature is).
	body2 := strings.Replace(body, "flatten+all", "status", 1)
	hdr := slackSign(secret, now, body2)
	hdr["Origin"] = "https://hooks.slack.com"
	if r := e.post(alerts.HTTPPath, body2, hdr); r.code != 200 {
		t.Fatalf("signed status with an Origin: %d %s", r.code, r.body)
	}

	// Forged, signed with another secret, a console token instead of a
	// signature, a replay: 401, and the desk is not asked.
	forged := slackSign(secret, now, body)
	forged["X-Slack-Signature"] = "v0=" + strings.Repeat("ab", 32)
	withToken := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Bearer " + tokManager}
	for name, h := range map[string]map[string]string{
		"forged":        forged,
		"other secret":  slackSign("not-the-secret", now, body),
		"console token": withToken,
		"replayed":      slackSign(secret, now, body),
	} {
		if r := e.post(alerts.HTTPPath, body, h); r.code != http.StatusUnauthorized {
			t.Errorf("%s: %d %s, want 401", name, r.code, r.body)
		}
	}
	select {
	case got := <-desk.flattens:
		t.Fatalf("a refused request flattened: %q", got)
	default:
	}

	// The console itself still wants its token.
	if r := e.do(nil, "GET", "/api/status", "", nil, nil); r.code != http.StatusUnauthorized {
		t.Errorf("/api/status without a token: %d", r.code)
	}
	if st := e.status(tokViewer); len(st.Accounts) == 0 {
		t.Errorf("console status lost its accounts")
	}
	if r := e.do(nil, "GET", "/", "", nil, nil); r.code != 200 {
		t.Errorf("the page: %d", r.code)
	}
}

func TestMountRefusesConsolePaths(t *testing.T) {
	h := http.NotFoundHandler()
	e := start(t, console.Config{}, func(s *console.Server) {
		for _, p := range []string{"/", "/api/status", "/api", "/index.html", "slack", "/slack/", "/x/{id}", "POST /x"} {
			if err := s.Mount(p, h); err == nil {
				t.Errorf("Mount(%q) accepted", p)
			}
		}
		if err := s.Mount("/extra", h); err != nil {
			t.Fatal(err)
		}
		if err := s.Mount("/extra", h); err == nil {
			t.Error("mounted /extra twice")
		}
		if err := s.Mount("/other", nil); err == nil {
			t.Error("mounted a nil handler")
		}
	})
	if r := e.do(nil, "GET", "/extra", "", nil, nil); r.code != http.StatusNotFound {
		t.Errorf("/extra: %d", r.code)
	}
}
