package control

// control_test.go: roles, reasons and visibility over a real socket, frames
// with data after the request, and the login limiter per peer uid.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/market"
)

type fakeDesk struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeDesk) rec(s string) { f.mu.Lock(); f.calls = append(f.calls, s); f.mu.Unlock() }
func (f *fakeDesk) Status(context.Context) deskapi.Status {
	return deskapi.Status{State: "running", Net: "-1200.00", Equity: "98800.00", DeskLockout: "98500.00", Trades: 77,
		Accounts: []deskapi.AccountStatus{{ID: "A1", Net: "300.00"}, {ID: "A2", Net: "-1500.00"}},
		Journal:  []deskapi.JournalLine{{Seq: 1, Account: "A2", Kind: "lockout"}, {Seq: 2, Account: "A1", Kind: "fill"}, {Seq: 3, Kind: "kill"}}}
}
func (f *fakeDesk) Flatten(_ context.Context, a, trig, who string) error {
	f.rec("flatten " + a + " " + trig + " " + who)
	return nil
}
func (f *fakeDesk) Rearm(_ context.Context, who, why string) error {
	f.rec("rearm " + who + " " + why)
	return nil
}
func (f *fakeDesk) Unlock(_ context.Context, a, who, why string) error {
	f.rec("unlock " + a + " " + who + " " + why)
	return nil
}
func (f *fakeDesk) ClearFault(_ context.Context, a, who, why string) error {
	f.rec("clear " + a + " " + who + " " + why)
	return nil
}
func (f *fakeDesk) ResetTrailing(_ context.Context, a, who, why string) error {
	f.rec("reset_trailing " + a + " " + who + " " + why)
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
	srv := &Server{Desk: d, Tokens: &ts}
	path := filepath.Join(t.TempDir(), "ctl.sock")
	if err := srv.Listen(path); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx)

	cases := []struct {
		req  deskapi.Request
		ok   bool
		call string
	}{
		{deskapi.Request{Token: "", Op: "status"}, false, ""},
		{deskapi.Request{Token: "bad", Op: "flatten"}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "flatten"}, true, "flatten  cli risk"},
		{deskapi.Request{Token: "ttok", Op: "flatten"}, false, ""},
		{deskapi.Request{Token: "ttok", Op: "flatten", Account: "A2"}, false, ""},
		{deskapi.Request{Token: "ttok", Op: "flatten", Account: "A1"}, true, "flatten A1 cli alice"},
		{deskapi.Request{Token: "vtok", Op: "flatten", Account: "A1"}, false, ""},
		{deskapi.Request{Token: "ttok", Op: "unlock", Account: "A1", Reason: "x"}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "unlock", Account: "A1"}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "unlock", Account: "A1", Reason: "news spike was data error"}, true, "unlock A1 risk news spike was data error"},
		{deskapi.Request{Token: "ttok", Op: "clear", Account: "A1", Reason: "x"}, false, ""},
		{deskapi.Request{Token: "vtok", Op: "clear", Account: "A1", Reason: "x"}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "clear", Account: "A1"}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "clear", Account: "A1", Reason: "  "}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "clear", Reason: "no account"}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "clear", Account: "A1", Reason: "stop restored"}, true, "clear A1 risk stop restored"},
		{deskapi.Request{Token: "ttok", Op: "reset_trailing", Account: "A1", Reason: "x"}, false, ""},
		{deskapi.Request{Token: "vtok", Op: "reset_trailing", Account: "A1", Reason: "x"}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "reset_trailing", Account: "A1", Reason: " "}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "reset_trailing", Reason: "no account"}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "reset_trailing", Account: "A1", Reason: "new evaluation"}, true, "reset_trailing A1 risk new evaluation"},
		{deskapi.Request{Token: "ttok", Op: "rearm"}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "rearm"}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "rearm", Reason: "  "}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "rearm", Reason: " flat and checked "}, true, "rearm risk flat and checked"},
		{deskapi.Request{Token: "mtok", Op: "unlock", Account: "A1", Reason: " "}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "unlock", Account: "A1", Reason: "\t\n"}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "unlock", Reason: "no account"}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "unlock", Account: "A1", Reason: "two\nlines"}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "unlock_desk", Reason: "desk line reviewed"}, true, "unlock  risk desk line reviewed"},
		{deskapi.Request{Token: "mtok", Op: "unlock_desk", Reason: " "}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "unlock_desk"}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "unlock_desk", Account: "A1", Reason: "an account given"}, false, ""},
		{deskapi.Request{Token: "ttok", Op: "unlock_desk", Reason: "a trader"}, false, ""},
		{deskapi.Request{Token: "vtok", Op: "unlock_desk", Reason: "a viewer"}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "engines", Account: "A1", Run: true}, true, "engines A1"},
		{deskapi.Request{Token: "mtok", Op: "engines"}, false, ""},
		{deskapi.Request{Token: "ttok", Op: "engines", Account: "A1"}, true, "engines A1"},
		{deskapi.Request{Token: "ttok", Op: "engines", Account: "A2"}, false, ""},
		{deskapi.Request{Token: "vtok", Op: "engines", Account: "A1"}, false, ""},
		{deskapi.Request{Token: "ttok", Op: "press"}, false, ""},
		{deskapi.Request{Token: "vtok", Op: "press"}, false, ""},
		{deskapi.Request{Token: "mtok", Op: "flatten", Account: "A2", Reason: "bad\x1breason is ignored for a kill"}, true, "flatten A2 cli risk"},
		{deskapi.Request{Token: "mtok", Op: "press"}, true, "press risk"},
		{deskapi.Request{Token: "mtok", Op: "explode"}, false, ""},
	}
	for _, c := range cases {
		before := len(d.calls)
		_, err := deskapi.Call(ctx, path, c.req)
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
	resp, err := deskapi.Call(ctx, path, deskapi.Request{Token: "ttok", Op: "status"})
	if err != nil || len(resp.Status.Accounts) != 1 || resp.Status.Accounts[0].ID != "A1" {
		t.Fatalf("trader status %+v %v", resp.Status, err)
	}
	// As on the console: a trader sees neither the desk's money (it would
	// show the other accounts' losses) nor their journal lines.
	if st := resp.Status; st.Net != "" || st.Equity != "" || st.DeskLockout != "" || st.Trades != 0 || len(st.Journal) != 1 || st.Journal[0].Seq != 2 {
		t.Fatalf("trader status shows the desk: net %q equity %q lockout %q trades %d journal %+v", st.Net, st.Equity, st.DeskLockout, st.Trades, st.Journal)
	}
	for _, tok := range []string{"mtok", "vtok"} {
		resp, err := deskapi.Call(ctx, path, deskapi.Request{Token: tok, Op: "status"})
		if err != nil || len(resp.Status.Accounts) != 2 || resp.Status.Net == "" || len(resp.Status.Journal) != 3 {
			t.Fatalf("%s status %+v %v", tok, resp.Status, err)
		}
	}
	// A second desk cannot take over a live socket.
	if err := (&Server{Desk: d, Tokens: &ts}).Listen(path); err == nil {
		t.Fatal("second listener accepted on a live socket")
	}
}

// TestControlSocketRefusesTrailingData: a valid request followed, in the
// same write, by a second request or padding is refused whole.
func TestControlSocketRefusesTrailingData(t *testing.T) {
	var ts auth.Tokens
	ts.AddPlain("risk", "mtok", auth.Role{Kind: "manager"})
	d := &fakeDesk{}
	srv := &Server{Desk: d, Tokens: &ts}
	path := filepath.Join(t.TempDir(), "ctl.sock")
	if err := srv.Listen(path); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx)
	send := func(raw string) deskapi.Response {
		t.Helper()
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(raw)); err != nil {
			t.Fatal(err)
		}
		var resp deskapi.Response
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

// TestFailedTokensLimitedPerPeer: under a bounded burst of bad tokens sent
// at once, only the burst (and the failure that starts the first wait) is
// checked; the rest — and a good token while the peer waits — are refused
// unchecked; after the wait a good token works and clears the peer.
func TestFailedTokensLimitedPerPeer(t *testing.T) {
	var ts auth.Tokens
	ts.AddPlain("risk", "mtok", auth.Role{Kind: "manager"})
	clock := market.NewReplayClock(time.Unix(1e9, 0))
	d := &fakeDesk{}
	srv := &Server{Desk: d, Tokens: &ts, Logins: auth.NewLimiter(auth.LimitConfig{Burst: 3, Backoff: 10 * time.Second}, clock.Now)}
	path := filepath.Join(t.TempDir(), "ctl.sock")
	if err := srv.Listen(path); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx)
	const burst = 40
	errs := make(chan string, burst)
	var wg sync.WaitGroup
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := deskapi.Call(ctx, path, deskapi.Request{Token: fmt.Sprint("guess-", i), Op: "flatten"})
			if err == nil {
				errs <- "ACCEPTED"
				return
			}
			errs <- err.Error()
		}()
	}
	wg.Wait()
	close(errs)
	checked, limited := 0, 0
	for e := range errs {
		switch {
		case strings.Contains(e, "unknown token"):
			checked++
		case strings.Contains(e, "too many failed tokens from uid:"):
			limited++
		default:
			t.Errorf("answer %q", e)
		}
	}
	if checked != 4 || limited != burst-4 {
		t.Fatalf("%d checked, %d limited; want 4 and %d", checked, limited, burst-4)
	}
	if _, err := deskapi.Call(ctx, path, deskapi.Request{Token: "mtok", Op: "press"}); err == nil || !strings.Contains(err.Error(), "too many") {
		t.Fatalf("the manager's token while the peer waits: %v", err)
	}
	clock.Advance(clock.Now().Add(10 * time.Second).UnixNano())
	if _, err := deskapi.Call(ctx, path, deskapi.Request{Token: "mtok", Op: "press"}); err != nil {
		t.Fatalf("the manager's token after the wait: %v", err)
	}
	if len(d.calls) != 1 || d.calls[0] != "press risk" {
		t.Fatalf("desk calls %v", d.calls)
	}
	for i := range 3 {
		if _, err := deskapi.Call(ctx, path, deskapi.Request{Token: "bad", Op: "status"}); err == nil || !strings.Contains(err.Error(), "unknown token") {
			t.Fatalf("bad token %d after a success: %v", i, err)
		}
	}
}
