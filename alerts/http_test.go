// http_test.go: the signed HTTP endpoint — good, bad, stale and replayed
// requests, interactivity payloads, and a fuzz test over signed bodies.

package alerts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

func signedRequest(body string, ts time.Time, secret string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	s := strconv.FormatInt(ts.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:%s", s, body)
	r.Header.Set("X-Slack-Request-Timestamp", s)
	r.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
	return r
}

func slashForm(user, text string) string {
	return url.Values{"command": {"/deskguard"}, "text": {text}, "user_id": {user}, "team_id": {"T1"}}.Encode()
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHTTPSignatures(t *testing.T) {
	d := newFakeDesk()
	rec := newRecorder()
	c := NewCommander(Config{SigningSecret: testSecret, AllowedUsers: []string{"U123"}}, d, rec, testLog(t), nil)
	h := c.HTTPHandler()
	now := time.Now() // the verifier checks skew against the wall clock
	body := slashForm("U123", "flatten all")

	good := signedRequest(body, now, testSecret)
	replay := signedRequest(body, now, testSecret) // byte-identical: same signature
	w := serve(h, good)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Flatten the desk sent") {
		t.Fatalf("good: %d %s", w.Code, w.Body)
	}
	if got := d.nextFlatten(t, time.Second); got != (flattenCall{"", "slack", "U123"}) {
		t.Fatalf("Flatten(%+v)", got)
	}
	for name, r := range map[string]*http.Request{
		"replayed":     replay,
		"bad secret":   signedRequest(body, now, "wrong-secret"),
		"stale":        signedRequest(body, now.Add(-6*time.Minute), testSecret),
		"future":       signedRequest(body, now.Add(6*time.Minute), testSecret),
		"tampered":     tamper(signedRequest(body, now.Add(time.Second), testSecret)),
		"no signature": httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)),
	} {
		if w := serve(h, r); w.Code != http.StatusUnauthorized {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
	}
	if len(d.flattens) != 0 {
		t.Fatal("a refused request flattened")
	}
	if cmds := rec.cmds(); len(cmds) != 1 {
		t.Fatalf("recorded %+v (unverified requests are not commands)", cmds)
	}
	// A refused user over HTTP is a verified command: recorded as refused.
	w = serve(h, signedRequest(slashForm("U999", "flatten ACC1"), now, testSecret))
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Refused") {
		t.Fatalf("refused user: %d %s", w.Code, w.Body)
	}
	if cmds := rec.cmds(); len(cmds) != 2 || cmds[1].Allowed || cmds[1].User != "U999" {
		t.Fatalf("recorded %+v", cmds)
	}
}

// tamper changes the body after signing.
func tamper(r *http.Request) *http.Request {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(strings.Replace(string(b), "all", "ACC9", 1)))
	return r
}

func TestHTTPInteractivity(t *testing.T) {
	d := newFakeDesk()
	c := NewCommander(Config{SigningSecret: testSecret, AllowedUsers: []string{"U123"}}, d, newRecorder(), testLog(t), nil)
	payload := fmt.Sprintf(`{"type":"block_actions","user":{"id":"U123"},"actions":[{"type":"button","block_id":"b","action_id":%q,"value":"all"}]}`, ActionFlattenDesk)
	w := serve(c.HTTPHandler(), signedRequest(url.Values{"payload": {payload}}.Encode(), time.Now(), testSecret))
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if got := d.nextFlatten(t, time.Second); got != (flattenCall{"", "slack", "U123"}) {
		t.Fatalf("Flatten(%+v)", got)
	}
}

func TestHTTPOffWithoutSecret(t *testing.T) {
	c := NewCommander(Config{}, newFakeDesk(), newRecorder(), testLog(t), nil)
	if w := serve(c.HTTPHandler(), signedRequest(slashForm("U123", "status"), time.Now(), "")); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("%d", w.Code)
	}
}

func TestReplayCacheBounded(t *testing.T) {
	rc := newReplayCache(3)
	for _, s := range []string{"a", "b", "c"} {
		if !rc.firstTime(s) {
			t.Fatal(s)
		}
	}
	if rc.firstTime("b") {
		t.Fatal("replay of b accepted")
	}
	rc.firstTime("d") // evicts a
	if len(rc.seen) != 3 || !rc.firstTime("a") {
		t.Fatalf("cache %v", rc.seen)
	}
}

// Any body, correctly signed, never panics the handler and never flattens
// for a user outside the allowed list.
func FuzzHTTPHandler(f *testing.F) {
	f.Add(slashForm("U123", "status"))
	f.Add(slashForm("U999", "flatten all"))
	f.Add("payload=%7B%22type%22%3A%22block_actions%22%7D")
	f.Add("payload=not-json")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, body string) {
		d := newFakeDesk()
		c := NewCommander(Config{SigningSecret: testSecret, AllowedUsers: []string{"U123"}, AckWithin: 100 * time.Millisecond}, d, newRecorder(), testLog(t), nil)
		w := serve(c.HTTPHandler(), signedRequest(body, time.Now(), testSecret))
		if w.Code == http.StatusUnauthorized {
			t.Fatalf("a correctly signed body was refused: %s", w.Body)
		}
		select {
		case call := <-d.flattens:
			if call.Who != "U123" {
				t.Fatalf("flatten by %q", call.Who)
			}
		default:
		}
	})
}
