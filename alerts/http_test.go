// http_test.go: the signed HTTP endpoint — good, bad, stale and replayed
// requests, interactivity payloads, and a fuzz test over signed bodies.

package alerts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/market"
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

// respell returns r's signature header with its hex letters in the case
// pattern given by mask (bit i set: the i-th letter upper-cased).
func respell(r *http.Request, mask uint64) *http.Request {
	sig := []byte(strings.TrimPrefix(r.Header.Get("X-Slack-Signature"), "v0="))
	n := 0
	for i, c := range sig {
		if c >= 'a' && c <= 'f' {
			if mask&(1<<n) != 0 {
				sig[i] = c - 'a' + 'A'
			}
			n++
		}
	}
	r.Header.Set("X-Slack-Signature", "v0="+string(sig))
	return r
}

// TestHTTPReplayInAnyLetterCase: one captured signed `flatten ORB1`,
// replayed with its signature's hex letters in another case, is refused
// every time (issue 25 item 1: the cache keyed on the header's text, the
// verifier accepts any case, and one capture flattened the desk 3 times).
func TestHTTPReplayInAnyLetterCase(t *testing.T) {
	d := newFakeDesk()
	c := NewCommander(Config{SigningSecret: testSecret, AllowedUsers: []string{"U123"}}, d, newRecorder(), testLog(t), nil)
	h := c.HTTPHandler()
	now := time.Now()
	body := slashForm("U123", "flatten ORB1")
	if w := serve(h, signedRequest(body, now, testSecret)); w.Code != 200 {
		t.Fatalf("the first request: %d %s", w.Code, w.Body)
	}
	if got := d.nextFlatten(t, time.Second); got.Account != "ORB1" {
		t.Fatalf("Flatten(%+v)", got)
	}
	for _, mask := range []uint64{^uint64(0), 1, 2, 0x5555, 0xaaaa_aaaa} {
		if w := serve(h, respell(signedRequest(body, now, testSecret), mask)); w.Code != http.StatusUnauthorized {
			t.Errorf("replay with case mask %#x: %d %s", mask, w.Code, w.Body)
		}
	}
	select {
	case got := <-d.flattens:
		t.Fatalf("a replayed request flattened again: %+v", got)
	default:
	}
}

// TestReplayCacheWindow: a signature is remembered until its timestamp's
// window ends; a cache full of live signatures refuses rather than forget
// one (forgetting lets that one be replayed); expired ones make room.
func TestReplayCacheWindow(t *testing.T) {
	clock := market.NewReplayClock(time.Unix(1_000_000, 0))
	rc := newReplayCache(3)
	rc.clock = clock
	mac := func(b byte) [32]byte { var m [32]byte; m[0] = b; return m }
	ts := clock.Now()
	for _, b := range []byte{1, 2, 3} {
		if err := rc.firstTime(mac(b), ts); err != nil {
			t.Fatalf("mac %d: %v", b, err)
		}
	}
	if err := rc.firstTime(mac(2), ts); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay of 2: %v", err)
	}
	if err := rc.firstTime(mac(4), ts); !errors.Is(err, ErrReplayCacheFull) {
		t.Fatalf("a full cache of live signatures: %v, want ErrReplayCacheFull", err)
	}
	if err := rc.firstTime(mac(1), ts); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay of 1 after the cache filled: %v (it was forgotten)", err)
	}
	clock.Advance(ts.Add(replayWindow).UnixNano()) // the window's last instant: still live
	if err := rc.firstTime(mac(4), ts); !errors.Is(err, ErrReplayCacheFull) {
		t.Fatalf("at the window's end: %v, want ErrReplayCacheFull", err)
	}
	clock.Advance(ts.Add(replayWindow + time.Second).UnixNano())
	if err := rc.firstTime(mac(4), clock.Now()); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	if len(rc.seen) != 1 {
		t.Fatalf("expired signatures kept: %d", len(rc.seen))
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
