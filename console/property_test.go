// property_test.go: role enforcement as properties. A rapid test drives
// random callers, endpoints, accounts and reasons and checks that the desk
// is called exactly when the role allows it, with the caller's name; a fuzz
// test throws arbitrary bodies at every action endpoint.
package console_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/deskguard/deskguard/console"
	"github.com/deskguard/deskguard/console/consoletest"
)

type caller struct {
	tok, name, kind, account string
}

var callers = []caller{
	{tokManager, "risk", "manager", ""},
	{tokTrader1, "alice", "trader", "ACC1"},
	{tokTrader2, "bob", "trader", "ACC2"},
	{tokViewer, "wall", "viewer", ""},
}

// handlerFor returns a console handler over a fresh fake desk with its
// snapshot loop running until the test ends.
func handlerFor(t testing.TB) (http.Handler, *consoletest.FakeDesk) {
	desk := consoletest.NewFakeDesk()
	srv, err := console.New(console.Config{}, desk, testTokens(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return srv.Handler(), desk
}

func post(h http.Handler, path, tok, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// allowed is the rule of DESIGN.md "Users and their surfaces", written out
// by role rather than through auth.Role.
func allowed(c caller, op, account, reason string) bool {
	switch c.kind {
	case "manager":
		switch op {
		case "rearm":
			return reason != ""
		case "unlock", "clear":
			return account != "" && reason != ""
		case "engines":
			return account != ""
		}
		return true
	case "trader":
		return (op == "flatten" || op == "engines") && account == c.account
	}
	return false
}

func TestPropertyActionsFollowRoles(t *testing.T) {
	h, desk := handlerFor(t)
	rapid.Check(t, func(rt *rapid.T) {
		c := rapid.SampledFrom(callers).Draw(rt, "caller")
		op := rapid.SampledFrom([]string{"flatten", "rearm", "unlock", "clear", "engines", "press"}).Draw(rt, "op")
		account := rapid.SampledFrom([]string{"", "ACC1", "ACC2", "ACC3", "ACC9", "acc1", "ACC1 "}).Draw(rt, "account")
		reason := rapid.SampledFrom([]string{"", " ", "checked with the trader"}).Draw(rt, "reason")
		run := rapid.Bool().Draw(rt, "run")
		body, _ := json.Marshal(map[string]any{"account": account, "reason": reason})
		switch op {
		case "engines":
			body, _ = json.Marshal(map[string]any{"account": account, "run": run})
		case "rearm":
			body, _ = json.Marshal(map[string]any{"reason": reason})
		case "press":
			body = nil
		case "flatten":
			body, _ = json.Marshal(map[string]any{"account": account})
		}
		deskState := desk.Status(context.Background()).State
		before := len(desk.Actions())
		w := post(h, "/api/"+op, c.tok, string(body))
		acts := desk.Actions()[before:]
		acct := account
		if op == "rearm" || op == "press" {
			acct = ""
		}
		want := allowed(c, op, acct, strings.TrimSpace(reason))
		// A halting or halted desk starts no engines (409 for a caller
		// who may otherwise start them): the halt is lifted by a re-arm.
		halted := deskState == "halting" || deskState == "halted"
		conflict := op == "engines" && run && halted && want
		if conflict {
			want = false
			if w.Code != http.StatusConflict {
				rt.Fatalf("%s engines %q on a %s desk: %d, want 409", c.name, account, deskState, w.Code)
			}
		}
		if want != (len(acts) == 1) || len(acts) > 1 {
			rt.Fatalf("%s %s %q reason %q: code %d, desk calls %+v, want called=%v", c.name, op, account, reason, w.Code, acts, want)
		}
		if len(acts) == 1 && acts[0].Who != c.name {
			rt.Fatalf("desk saw who=%q, want %q", acts[0].Who, c.name)
		}
		if w.Code >= 500 {
			rt.Fatalf("%s %s: %d %s", c.name, op, w.Code, w.Body)
		}
		if !want && !conflict && c.kind != "manager" && w.Code != http.StatusForbidden && w.Code != http.StatusBadRequest {
			rt.Fatalf("%s %s %q: %d, want 403", c.name, op, account, w.Code)
		}
	})
}

func FuzzActionBodies(f *testing.F) {
	f.Add(0, 1, `{"account":"ACC1"}`)
	f.Add(1, 2, `{"account":"ACC2","run":true}`)
	f.Add(2, 0, `{"reason":"x"}`)
	f.Add(3, 3, `{"account":"ACC1","reason":"y"}`)
	f.Add(4, 1, ``)
	f.Add(0, 3, `{"account":""}{"account":"ACC2"}`)
	f.Add(3, 2, `{"account":"ACC2","account":"ACC1"}`)
	f.Add(1, 1, `{"account":"\u0041CC2","run":1}`)
	h, desk := handlerFor(f)
	paths := []string{"/api/flatten", "/api/engines", "/api/rearm", "/api/unlock", "/api/clear", "/api/press"}
	f.Fuzz(func(t *testing.T, p, who int, body string) {
		path := paths[(p%len(paths)+len(paths))%len(paths)]
		c := callers[(who%len(callers)+len(callers))%len(callers)]
		before := len(desk.Actions())
		w := post(h, path, c.tok, body)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", c.name, path, body, w.Code, w.Body)
		}
		var e struct{ Error string }
		if w.Code != 200 && (json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error == "") {
			t.Fatalf("%d without a JSON error: %q", w.Code, w.Body)
		}
		for _, a := range desk.Actions()[before:] {
			switch {
			case a.Who != c.name:
				t.Fatalf("desk saw %q for %s", a.Who, c.name)
			case c.kind == "viewer":
				t.Fatalf("viewer acted: %+v", a)
			case c.kind == "trader" && (a.Account != c.account || (a.Op != "flatten" && a.Op != "engines")):
				t.Fatalf("%s acted beyond its account: %+v", c.name, a)
			}
		}
	})
}
