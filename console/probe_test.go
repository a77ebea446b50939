package console_test

// probe_test.go: /healthz and /readyz answer without a token, say nothing
// beyond "ok" or "not ready", and /readyz follows the desk: recovered,
// venue and data up.

import (
	"io"
	"net/http"
	"testing"

	"github.com/deskguard/deskguard/console"
	"github.com/deskguard/deskguard/deskapi"
)

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b), r.Header
}

func TestProbes(t *testing.T) {
	e := start(t, console.Config{})
	if code, body, hdr := get(t, e.base+console.HealthPath); code != 200 || body != "ok\n" || hdr.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("healthz: %d %q %v", code, body, hdr)
	}
	cases := []struct {
		state, venue, data string
		ready              bool
	}{
		{"running", "sim", "up", true},
		{"running", "up", "up", true},
		{"halted", "up", "up", true},
		{"degraded", "down", "up", false},
		{"running", "up", "stale", false},
		{"running", "up", "ended", false},
		{"running", "up", "down", false},
		{"recovering", "up", "up", false},
		{"starting", "up", "up", false},
	}
	for _, c := range cases {
		e.desk.SetDeskState(c.state)
		e.desk.SetLinks(c.venue, c.data)
		want, wantBody := 200, "ok\n"
		if !c.ready {
			want, wantBody = http.StatusServiceUnavailable, "not ready\n"
		}
		console.Refresh(e.srv) // the stream's snapshot, which the probe may read, holds the change
		code, body, _ := get(t, e.base+console.ReadyPath)
		if code != want || body != wantBody {
			t.Errorf("%+v: readyz %d %q, want %d %q", c, code, body, want, wantBody)
		}
		if console.Ready(deskapi.Status{State: c.state, Links: deskapi.Links{Venue: c.venue, Data: c.data}}) != c.ready {
			t.Errorf("Ready(%+v) != %v", c, c.ready)
		}
	}
	req, _ := http.NewRequest("POST", e.base+console.ReadyPath, nil)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST readyz: %v %v", r, err)
	}
	if err := e.srv.Mount(console.HealthPath, http.NotFoundHandler()); err == nil {
		t.Fatal("mounted over /healthz")
	}
}
