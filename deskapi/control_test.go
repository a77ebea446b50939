package deskapi

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/deskguard/deskguard/auth"
)

type fakeDesk struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeDesk) rec(s string) { f.mu.Lock(); f.calls = append(f.calls, s); f.mu.Unlock() }
func (f *fakeDesk) Status(context.Context) Status {
	return Status{State: "running", Accounts: []AccountStatus{{ID: "A1"}, {ID: "A2"}}}
}
func (f *fakeDesk) Flatten(_ context.Context, a, trig, who string) error {
	f.rec("flatten " + a + " " + trig + " " + who)
	return nil
}
func (f *fakeDesk) Rearm(_ context.Context, who, why string) error { f.rec("rearm " + who); return nil }
func (f *fakeDesk) Unlock(_ context.Context, a, who, why string) error {
	f.rec("unlock " + a + " " + who + " " + why)
	return nil
}
func (f *fakeDesk) ClearFault(_ context.Context, a, who, why string) error {
	f.rec("clear " + a + " " + who + " " + why)
	return nil
}
func (f *fakeDesk) SetEngines(_ context.Context, a string, run bool, who string) error {
	f.rec("engines " + a)
	return nil
}
func (f *fakeDesk) Press(_ context.Context, who string) error { f.rec("press " + who); return nil }

func TestControlSocketRoles(t *testing.T) {
	var ts auth.Tokens
	ts.AddPlain("risk", "mtok", auth.Role{Kind: "manager"})
	ts.AddPlain("alice", "ttok", auth.Role{Kind: "trader", Account: "A1"})
	ts.AddPlain("wall", "vtok", auth.Role{Kind: "viewer"})
	d := &fakeDesk{}
	srv := &ControlServer{Desk: d, Tokens: &ts}
	path := filepath.Join(t.TempDir(), "ctl.sock")
	if err := srv.Listen(path); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx)

	cases := []struct {
		req  Request
		ok   bool
		call string
	}{
		{Request{Token: "", Op: "status"}, false, ""},
		{Request{Token: "bad", Op: "flatten"}, false, ""},
		{Request{Token: "mtok", Op: "flatten"}, true, "flatten  cli risk"},
		{Request{Token: "ttok", Op: "flatten"}, false, ""},
		{Request{Token: "ttok", Op: "flatten", Account: "A2"}, false, ""},
		{Request{Token: "ttok", Op: "flatten", Account: "A1"}, true, "flatten A1 cli alice"},
		{Request{Token: "vtok", Op: "flatten", Account: "A1"}, false, ""},
		{Request{Token: "ttok", Op: "unlock", Account: "A1", Reason: "x"}, false, ""},
		{Request{Token: "mtok", Op: "unlock", Account: "A1"}, false, ""},
		{Request{Token: "mtok", Op: "unlock", Account: "A1", Reason: "news spike was data error"}, true, "unlock A1 risk news spike was data error"},
		{Request{Token: "ttok", Op: "clear", Account: "A1", Reason: "x"}, false, ""},
		{Request{Token: "vtok", Op: "clear", Account: "A1", Reason: "x"}, false, ""},
		{Request{Token: "mtok", Op: "clear", Account: "A1"}, false, ""},
		{Request{Token: "mtok", Op: "clear", Account: "A1", Reason: "  "}, false, ""},
		{Request{Token: "mtok", Op: "clear", Reason: "no account"}, false, ""},
		{Request{Token: "mtok", Op: "clear", Account: "A1", Reason: "stop restored"}, true, "clear A1 risk stop restored"},
		{Request{Token: "ttok", Op: "rearm"}, false, ""},
		{Request{Token: "mtok", Op: "rearm"}, true, "rearm risk"},
		{Request{Token: "mtok", Op: "press"}, true, "press risk"},
		{Request{Token: "mtok", Op: "explode"}, false, ""},
	}
	for _, c := range cases {
		before := len(d.calls)
		_, err := Call(ctx, path, c.req)
		if (err == nil) != c.ok {
			t.Errorf("%+v: err %v, want ok %v", c.req, err, c.ok)
		}
		if c.ok && (len(d.calls) != before+1 || d.calls[len(d.calls)-1] != c.call) {
			t.Errorf("%+v: calls %v, want %q", c.req, d.calls, c.call)
		}
		if !c.ok && len(d.calls) != before {
			t.Errorf("%+v: refused request reached the desk: %v", c.req, d.calls[before:])
		}
		if err != nil && (strings.Contains(err.Error(), "mtok") || strings.Contains(err.Error(), "ttok")) {
			t.Errorf("error leaks a token: %v", err)
		}
	}
	resp, err := Call(ctx, path, Request{Token: "ttok", Op: "status"})
	if err != nil || len(resp.Status.Accounts) != 1 || resp.Status.Accounts[0].ID != "A1" {
		t.Fatalf("trader status %+v %v", resp.Status, err)
	}
	// A second desk cannot take over a live socket.
	if err := (&ControlServer{Desk: d, Tokens: &ts}).Listen(path); err == nil {
		t.Fatal("second listener accepted on a live socket")
	}
}

// TestControlSocketRefusesTrailingData: a valid request followed, in the
// same write, by a second request or padding is refused whole.
func TestControlSocketRefusesTrailingData(t *testing.T) {
	var ts auth.Tokens
	ts.AddPlain("risk", "mtok", auth.Role{Kind: "manager"})
	d := &fakeDesk{}
	srv := &ControlServer{Desk: d, Tokens: &ts}
	path := filepath.Join(t.TempDir(), "ctl.sock")
	if err := srv.Listen(path); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx)
	send := func(raw string) Response {
		t.Helper()
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(raw)); err != nil {
			t.Fatal(err)
		}
		var resp Response
		if err := json.NewDecoder(c).Decode(&resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, raw := range []string{
		`{"token":"mtok","op":"press"}{"token":"mtok","op":"flatten"}` + "\n",
		`{"token":"mtok","op":"press"}` + "\n" + `{"token":"mtok","op":"flatten"}` + "\n",
		`{"token":"mtok","op":"press"} xxxxxxxx` + "\n",
	} {
		if resp := send(raw); resp.OK || !strings.Contains(resp.Error, "data after the request") {
			t.Errorf("%q: %+v, want refused", raw, resp)
		}
	}
	if len(d.calls) != 0 {
		t.Fatalf("refused requests reached the desk: %v", d.calls)
	}
	if resp := send(`{"token":"mtok","op":"press"}` + "\n"); !resp.OK || len(d.calls) != 1 {
		t.Fatalf("a well-formed request: %+v, calls %v", resp, d.calls)
	}
}
