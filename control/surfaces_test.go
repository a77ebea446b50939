package control_test

// surfaces_test.go: the console and the control socket are two doors to
// one set of rules (authz). Every caller × act × account × reason is sent
// through both, each to a desk of its own: the same requests must reach
// the desk (with the same reason, trimmed), and each role must see the same
// accounts, desk money and journal lines through both (issue 25 item 4: a
// blank unlock reason and a reason-less re-arm passed the socket, and a
// trader's socket status showed the desk's net, equity and lockout line).

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/console"
	"github.com/deskguard/deskguard/console/consoletest"
	"github.com/deskguard/deskguard/control"
	"github.com/deskguard/deskguard/deskapi"
)

var surfaceCallers = []struct{ tok, name, role string }{
	{"m-tok", "risk", "manager"},
	{"t1-tok", "alice", "trader:ACC1"},
	{"t2-tok", "bob", "trader:ACC2"},
	{"v-tok", "wall", "viewer"},
}

func surfaceTokens(t *testing.T) *auth.Tokens {
	ts := &auth.Tokens{}
	for _, c := range surfaceCallers {
		r, err := auth.ParseRole(c.role)
		if err != nil {
			t.Fatal(err)
		}
		ts.AddPlain(c.name, c.tok, r)
	}
	return ts
}

type surfaces struct {
	consoleDesk, socketDesk *consoletest.FakeDesk
	h                       http.Handler
	sock                    string
}

func newSurfaces(t *testing.T) *surfaces {
	s := &surfaces{consoleDesk: consoletest.NewFakeDesk(), socketDesk: consoletest.NewFakeDesk()}
	srv, err := console.New(console.Config{}, s.consoleDesk, surfaceTokens(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s.h = srv.Handler()
	ctl := &control.Server{Desk: s.socketDesk, Tokens: surfaceTokens(t)}
	s.sock = filepath.Join(t.TempDir(), "ctl.sock")
	if err := ctl.Listen(s.sock); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Run(ctx) }() // the status loop an action's refresh waits on
	t.Cleanup(func() { cancel(); <-done })
	go ctl.Serve(ctx)
	return s
}

func (s *surfaces) console(tok, op, account, reason string) {
	body := map[string]any{"account": account, "reason": reason}
	switch op {
	case "rearm":
		body = map[string]any{"reason": reason}
	case "press":
		body = map[string]any{}
	case "flatten":
		body = map[string]any{"account": account}
	case "engines":
		body = map[string]any{"account": account, "run": false}
	}
	b, _ := json.Marshal(body)
	req := httptest.NewRequest(http.MethodPost, "/api/"+op, strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	s.h.ServeHTTP(httptest.NewRecorder(), req)
}

func (s *surfaces) socket(tok, op, account, reason string) {
	_, _ = deskapi.Call(context.Background(), s.sock, deskapi.Request{Token: tok, Op: op, Account: account, Reason: reason})
}

func TestSurfacesAgreeOnActs(t *testing.T) {
	s := newSurfaces(t)
	reasons := []string{"", " ", "\t", "  checked with the venue  ", "two\nlines"}
	for _, c := range surfaceCallers {
		for _, op := range []string{"flatten", "rearm", "unlock", "unlock_desk", "clear", "reset_trailing", "engines", "press"} {
			for _, account := range []string{"", "ACC1", "ACC2", "NOPE"} {
				for _, reason := range reasons {
					nc, ns := len(s.consoleDesk.Actions()), len(s.socketDesk.Actions())
					s.console(c.tok, op, account, reason)
					s.socket(c.tok, op, account, reason)
					ca, sa := s.consoleDesk.Actions()[nc:], s.socketDesk.Actions()[ns:]
					for i := range sa {
						sa[i].Why = strings.Replace(sa[i].Why, control.Trigger, console.Trigger, 1) // a flatten's trigger names its surface
					}
					if !slices.Equal(ca, sa) {
						t.Errorf("%s %s %q reason %q: the console's desk got %+v, the socket's %+v", c.name, op, account, reason, ca, sa)
					}
					if op == "rearm" || op == "unlock" || op == "unlock_desk" || op == "clear" || op == "reset_trailing" {
						for _, a := range ca {
							if a.Why == "" || a.Why != strings.TrimSpace(a.Why) {
								t.Errorf("%s %s %q: the desk got reason %q", c.name, op, account, a.Why)
							}
						}
					}
				}
			}
		}
	}
}

// seen is what a status view shows, for comparison across surfaces.
type seen struct {
	accounts, journal []string
	deskMoney         bool
}

func seenOf(st deskapi.Status) seen {
	var v seen
	for _, a := range st.Accounts {
		v.accounts = append(v.accounts, a.ID)
	}
	for _, j := range st.Journal {
		v.journal = append(v.journal, j.Kind+"/"+j.Account)
	}
	v.deskMoney = st.Net != "" || st.Equity != "" || st.DeskLockout != "" || st.Trades != 0
	return v
}

func TestSurfacesAgreeOnStatus(t *testing.T) {
	s := newSurfaces(t)
	for _, c := range surfaceCallers {
		req := httptest.NewRequest(http.MethodGet, "/api/status", nil)
		req.Header.Set("Authorization", "Bearer "+c.tok)
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, req)
		var viaConsole deskapi.Status
		if err := json.Unmarshal(w.Body.Bytes(), &viaConsole); err != nil || w.Code != 200 {
			t.Fatalf("%s console status: %d %v", c.name, w.Code, err)
		}
		resp, err := deskapi.Call(context.Background(), s.sock, deskapi.Request{Token: c.tok, Op: "status"})
		if err != nil {
			t.Fatalf("%s socket status: %v", c.name, err)
		}
		a, b := seenOf(viaConsole), seenOf(*resp.Status)
		if !slices.Equal(a.accounts, b.accounts) || !slices.Equal(a.journal, b.journal) || a.deskMoney != b.deskMoney {
			t.Errorf("%s sees %+v on the console, %+v on the socket", c.name, a, b)
		}
		if strings.HasPrefix(c.role, "trader") && (a.deskMoney || len(a.accounts) != 1) {
			t.Errorf("%s sees %+v", c.name, a)
		}
	}
}
