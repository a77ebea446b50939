// fake_test.go: a local fake Slack Web API (httptest) that records every
// request with its arrival time and answers from a script, plus a fake Desk
// and Recorder for the command tests.

package alerts

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

type fakeReq struct {
	At   time.Time
	Path string
	Auth string
	Form url.Values
	Body []byte
}

// fakeSlack answers each request with the next scripted response (then
// "ok"); a nil step answers ok. Every request is sent on got.
type fakeSlack struct {
	t      testing.TB
	srv    *httptest.Server
	got    chan fakeReq
	mu     sync.Mutex
	script []func(w http.ResponseWriter)
	calls  int
	hang   chan struct{} // when non-nil, requests block until it closes
}

func newFakeSlack(t testing.TB, script ...func(w http.ResponseWriter)) *fakeSlack {
	f := &fakeSlack{t: t, got: make(chan fakeReq, 100000), script: script}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.mu.Lock()
		if f.hang != nil {
			select {
			case <-f.hang:
			default:
				close(f.hang)
			}
		}
		f.mu.Unlock()
		f.srv.Close()
	})
	return f
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	f.mu.Lock()
	i := f.calls
	f.calls++
	var step func(http.ResponseWriter)
	if i < len(f.script) {
		step = f.script[i]
	}
	hang := f.hang
	f.mu.Unlock()
	f.got <- fakeReq{At: at, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Form: form, Body: body}
	if hang != nil {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
		return
	}
	if step != nil {
		step(w)
		return
	}
	okResp(w)
}

func okResp(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true,"channel":"C0DESK","ts":"1700000000.000100"}`)
}

func status(code int, retryAfter string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "<html>nope</html>")
	}
}

func slackErr(e string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":false,"error":"`+e+`"}`)
	}
}

// next waits for the next request, failing the test after d.
func (f *fakeSlack) next(t testing.TB, d time.Duration) fakeReq {
	t.Helper()
	select {
	case r := <-f.got:
		return r
	case <-time.After(d):
		t.Fatalf("no request to the fake slack within %v", d)
		return fakeReq{}
	}
}

// none checks nothing more arrives within d (used only where a message must
// NOT be sent; d is a bound, not a synchronisation).
func (f *fakeSlack) none(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case r := <-f.got:
		t.Fatalf("unexpected request to %s: %s", r.Path, r.Form.Get("text"))
	case <-time.After(d):
	}
}

func (f *fakeSlack) apiURL() string { return f.srv.URL + "/api/" }

// recorder is a fake Recorder.
type recorder struct {
	mu       sync.Mutex
	commands []recCmd
	failed   []recFail
	failedCh chan recFail
}

type recCmd struct {
	User, Command string
	Allowed       bool
	Detail        string
}

type recFail struct {
	Kind string
	Err  error
}

func newRecorder() *recorder { return &recorder{failedCh: make(chan recFail, 1000)} }

func (r *recorder) RecordCommand(user, command string, allowed bool, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.commands = append(r.commands, recCmd{user, command, allowed, detail})
}

func (r *recorder) RecordAlertFailed(kind string, err error) {
	r.mu.Lock()
	r.failed = append(r.failed, recFail{kind, err})
	r.mu.Unlock()
	r.failedCh <- recFail{kind, err}
}

func (r *recorder) cmds() []recCmd {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recCmd(nil), r.commands...)
}

// fakeDesk records flattens on a channel.
type fakeDesk struct {
	flattens chan flattenCall
	status   StatusReport
	err      error
	block    chan struct{} // when non-nil, Flatten waits for it
}

type flattenCall struct{ Account, Trigger, Who string }

func newFakeDesk() *fakeDesk { return &fakeDesk{flattens: make(chan flattenCall, 100)} }

func (d *fakeDesk) Flatten(ctx context.Context, account, trigger, who string) error {
	d.flattens <- flattenCall{account, trigger, who}
	if d.block != nil {
		<-d.block
	}
	return d.err
}

func (d *fakeDesk) Status(ctx context.Context) (StatusReport, error) {
	if d.err != nil {
		return StatusReport{}, d.err
	}
	return d.status, nil
}

func (d *fakeDesk) nextFlatten(t testing.TB, dur time.Duration) flattenCall {
	t.Helper()
	select {
	case c := <-d.flattens:
		return c
	case <-time.After(dur):
		t.Fatalf("no Flatten within %v", dur)
		return flattenCall{}
	}
}

// testLog discards: background goroutines may log after a test ends.
func testLog(testing.TB) *slog.Logger { return slog.New(slog.DiscardHandler) }

// run starts n.Run and stops it at cleanup.
func run(t testing.TB, n *Notifier) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return")
		}
	})
}
