// console_test.go: API tests per role against the fake desk: who may see
// and do what, authentication failures, CSRF, methods, headers, the bind
// policy and session expiry.
package console_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/console"
	"github.com/deskguard/deskguard/console/consoletest"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/market"
)

// Demo tokens of the tests.
const (
	tokManager = "m-0123456789abcdef"
	tokTrader1 = "t1-0123456789abcdef"
	tokTrader2 = "t2-0123456789abcdef"
	tokViewer  = "v-0123456789abcdef"
)

func testTokens() *auth.Tokens {
	var ts auth.Tokens
	ts.AddPlain("risk", tokManager, auth.Role{Kind: "manager"})
	ts.AddPlain("alice", tokTrader1, auth.Role{Kind: "trader", Account: "ACC1"})
	ts.AddPlain("bob", tokTrader2, auth.Role{Kind: "trader", Account: "ACC2"})
	ts.AddPlain("wall", tokViewer, auth.Role{Kind: "viewer"})
	return &ts
}

type env struct {
	t    *testing.T
	srv  *console.Server
	desk *consoletest.FakeDesk
	base string
}

// start serves a console over a fresh fake desk on a loopback port until
// the test ends.
func start(t *testing.T, cfg console.Config, mutate ...func(*console.Server)) *env {
	t.Helper()
	desk := consoletest.NewFakeDesk()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.LoginBurst == 0 {
		cfg.LoginBurst = 1 << 20 // these tests send many bad tokens on purpose; login_test.go tests the limit
	}
	srv, err := console.New(cfg, desk, testTokens(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mutate {
		m(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &env{t: t, srv: srv, desk: desk, base: "http://" + ln.Addr().String()}
}

type resp struct {
	code int
	body []byte
	hdr  http.Header
}

func (e *env) do(c *http.Client, method, path, bearer string, body any, hdr map[string]string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = http.DefaultClient
	}
	r, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{r.StatusCode, b, r.Header}
}

func (e *env) status(bearer string) deskapi.Status {
	e.t.Helper()
	r := e.do(nil, "GET", "/api/status", bearer, nil, nil)
	if r.code != 200 {
		e.t.Fatalf("status: %d %s", r.code, r.body)
	}
	var st deskapi.Status
	if err := json.Unmarshal(r.body, &st); err != nil {
		e.t.Fatal(err)
	}
	return st
}

func ids(st deskapi.Status) []string {
	var out []string
	for _, a := range st.Accounts {
		out = append(out, a.ID)
	}
	return out
}

func TestStatusByRole(t *testing.T) {
	e := start(t, console.Config{})
	cases := []struct {
		tok      string
		accounts string
		deskNet  bool
	}{
		{tokManager, "ACC1,ACC2,ACC3", true},
		{tokViewer, "ACC1,ACC2,ACC3", true},
		{tokTrader1, "ACC1", false},
		{tokTrader2, "ACC2", false},
	}
	for _, c := range cases {
		st := e.status(c.tok)
		if got := strings.Join(ids(st), ","); got != c.accounts {
			t.Errorf("%s sees %q, want %q", c.tok[:2], got, c.accounts)
		}
		if (st.Net != "") != c.deskNet || (st.Equity != "") != c.deskNet {
			t.Errorf("%s: desk net %q equity %q, want shown=%v", c.tok[:2], st.Net, st.Equity, c.deskNet)
		}
		if st.State == "" || st.Links.PanicButton == "" {
			t.Errorf("%s: desk state and links must be shown to everyone: %+v", c.tok[:2], st)
		}
		for _, j := range st.Journal {
			if !c.deskNet && j.Account != strings.Split(c.accounts, ",")[0] {
				t.Errorf("%s sees journal line of %q: %+v", c.tok[:2], j.Account, j)
			}
		}
	}
}

func TestUnauthenticated(t *testing.T) {
	e := start(t, console.Config{})
	endpoints := []struct{ method, path string }{
		{"GET", "/api/status"}, {"GET", "/api/events"}, {"GET", "/api/session"},
		{"POST", "/api/flatten"}, {"POST", "/api/rearm"}, {"POST", "/api/unlock"}, {"POST", "/api/clear"}, {"POST", "/api/reset_trailing"},
		{"POST", "/api/engines"}, {"POST", "/api/press"}, {"POST", "/api/logout"},
	}
	creds := []struct {
		name string
		hdr  map[string]string
	}{
		{"no token", nil},
		{"bad token", map[string]string{"Authorization": "Bearer not-a-token-SECRETVALUE"}},
		{"almost a token", map[string]string{"Authorization": "Bearer " + tokManager + "x"}},
		{"not bearer", map[string]string{"Authorization": "Basic " + tokManager}},
		{"unknown session", map[string]string{"Cookie": console.CookieName + "=deadbeefSECRETVALUE"}},
	}
	for _, ep := range endpoints {
		for _, c := range creds {
			r := e.do(nil, ep.method, ep.path, "", map[string]string{"account": ""}, c.hdr)
			if r.code != http.StatusUnauthorized {
				t.Errorf("%s %s with %s: %d, want 401", ep.method, ep.path, c.name, r.code)
			}
			var je struct{ Error string }
			if err := json.Unmarshal(r.body, &je); err != nil || je.Error == "" {
				t.Errorf("%s %s with %s: body %q is not a JSON error", ep.method, ep.path, c.name, r.body)
			}
			if strings.Contains(string(r.body), "SECRETVALUE") || strings.Contains(string(r.body), tokManager) {
				t.Errorf("%s %s: the error echoes the credential: %s", ep.method, ep.path, r.body)
			}
		}
	}
	if n := len(e.desk.Actions()); n != 0 {
		t.Errorf("desk received %d actions from unauthenticated callers", n)
	}
}

func TestActionsByRole(t *testing.T) {
	type call struct {
		path string
		body any
	}
	flat := func(a string) call { return call{"/api/flatten", map[string]any{"account": a}} }
	eng := func(a string, run bool) call { return call{"/api/engines", map[string]any{"account": a, "run": run}} }
	unlock := func(a, why string) call { return call{"/api/unlock", map[string]any{"account": a, "reason": why}} }
	rearm := func(why string) call { return call{"/api/rearm", map[string]any{"reason": why}} }
	clear := func(a, why string) call { return call{"/api/clear", map[string]any{"account": a, "reason": why}} }
	faulted := func(a string) func(*consoletest.FakeDesk) {
		return func(d *consoletest.FakeDesk) { d.SetAccountState(a, "faulted") }
	}
	press := call{"/api/press", nil}
	cases := []struct {
		name  string
		tok   string
		setup func(*consoletest.FakeDesk)
		c     call
		code  int
		who   string // the desk must see this caller ("" = no desk call)
	}{
		{"manager flattens desk", tokManager, nil, flat(""), 200, "risk"},
		{"manager flattens ACC2", tokManager, nil, flat("ACC2"), 200, "risk"},
		{"manager unknown account", tokManager, nil, flat("ACC9"), 404, "risk"},
		{"manager stops ACC3 engines", tokManager, nil, eng("ACC3", false), 200, "risk"},
		{"manager rearms halted desk", tokManager, func(d *consoletest.FakeDesk) { _ = d.Flatten(context.Background(), "", "test", "setup") }, rearm("checked"), 200, "risk"},
		{"manager rearm while running", tokManager, nil, rearm("why"), 409, "risk"},
		{"manager rearm without reason", tokManager, nil, rearm("  "), 400, ""},
		{"manager unlocks", tokManager, func(d *consoletest.FakeDesk) { d.SetAccountState("ACC2", "locked_out") }, unlock("ACC2", "reviewed"), 200, "risk"},
		{"manager unlock without reason", tokManager, nil, unlock("ACC2", ""), 400, ""},
		{"manager clears a fault", tokManager, faulted("ACC2"), clear("ACC2", "stop restored, positions agree"), 200, "risk"},
		{"manager clears a trading account", tokManager, nil, clear("ACC2", "why"), 409, "risk"},
		{"manager clear without reason", tokManager, faulted("ACC2"), clear("ACC2", " "), 400, ""},
		{"manager clear without account", tokManager, nil, clear("", "why"), 400, ""},
		{"manager clears unknown account", tokManager, nil, clear("ACC9", "why"), 404, "risk"},
		{"manager presses sim button", tokManager, nil, press, 200, "risk"},
		{"manager presses real button", tokManager, func(d *consoletest.FakeDesk) { d.SetPanicButton("ok") }, press, 409, "risk"},

		{"trader flattens own", tokTrader1, nil, flat("ACC1"), 200, "alice"},
		{"trader flattens other", tokTrader1, nil, flat("ACC2"), 403, ""},
		{"trader flattens unknown", tokTrader1, nil, flat("ACC9"), 403, ""},
		{"trader flattens desk", tokTrader1, nil, flat(""), 403, ""},
		{"trader engines own", tokTrader1, nil, eng("ACC1", false), 200, "alice"},
		{"trader engines other", tokTrader1, nil, eng("ACC2", false), 403, ""},
		// The state decides too: no engines start on a halting or halted
		// desk (refused before the desk is asked); stopping them is fine.
		{"trader starts engines on a halted desk", tokTrader1, func(d *consoletest.FakeDesk) { d.SetDeskState("halted") }, eng("ACC1", true), 409, ""},
		{"manager starts engines on a halting desk", tokManager, func(d *consoletest.FakeDesk) { d.SetDeskState("halting") }, eng("ACC1", true), 409, ""},
		{"trader stops engines on a halted desk", tokTrader1, func(d *consoletest.FakeDesk) { d.SetDeskState("halted") }, eng("ACC1", false), 200, "alice"},
		{"trader starts engines on a degraded desk", tokTrader1, func(d *consoletest.FakeDesk) { d.SetDeskState("degraded"); d.SetAccountState("ACC1", "idle") }, eng("ACC1", true), 200, "alice"},
		{"trader rearms", tokTrader1, nil, rearm("please"), 403, ""},
		{"trader unlocks own", tokTrader1, func(d *consoletest.FakeDesk) { d.SetAccountState("ACC1", "locked_out") }, unlock("ACC1", "please"), 403, ""},
		{"trader clears own", tokTrader1, faulted("ACC1"), clear("ACC1", "please"), 403, ""},
		{"trader presses", tokTrader1, nil, press, 403, ""},

		{"viewer flattens desk", tokViewer, nil, flat(""), 403, ""},
		{"viewer flattens account", tokViewer, nil, flat("ACC1"), 403, ""},
		{"viewer engines", tokViewer, nil, eng("ACC1", true), 403, ""},
		{"viewer rearms", tokViewer, nil, rearm("x"), 403, ""},
		{"viewer unlocks", tokViewer, nil, unlock("ACC1", "x"), 403, ""},
		{"viewer clears", tokViewer, faulted("ACC1"), clear("ACC1", "x"), 403, ""},
		{"viewer presses", tokViewer, nil, press, 403, ""},

		{"unknown field", tokManager, nil, call{"/api/flatten", map[string]any{"acount": "ACC1"}}, 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := start(t, console.Config{})
			if c.setup != nil {
				c.setup(e.desk)
			}
			before := len(e.desk.Actions())
			r := e.do(nil, "POST", c.c.path, c.tok, c.c.body, nil)
			if r.code != c.code {
				t.Fatalf("%d %s, want %d", r.code, r.body, c.code)
			}
			acts := e.desk.Actions()[before:]
			switch {
			case c.who == "" && len(acts) != 0:
				t.Errorf("desk was called: %+v", acts)
			case c.who != "" && (len(acts) != 1 || acts[0].Who != c.who):
				t.Errorf("desk calls %+v, want one by %q", acts, c.who)
			}
			if c.code == 200 && acts[0].Op == "flatten" && acts[0].Why != console.Trigger {
				t.Errorf("flatten trigger %q, want %q", acts[0].Why, console.Trigger)
			}
		})
	}
}

func TestFlattenDeskShowsHalted(t *testing.T) {
	e := start(t, console.Config{})
	if r := e.do(nil, "POST", "/api/flatten", tokManager, map[string]string{"account": ""}, nil); r.code != 200 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	st := e.status(tokViewer)
	if st.State != "halted" {
		t.Errorf("desk %q after flatten, want halted", st.State)
	}
	for _, a := range st.Accounts {
		if a.Position != 0 || a.State != "halted" || len(a.Orders) != 0 {
			t.Errorf("%s after flatten: pos %d state %s orders %d", a.ID, a.Position, a.State, len(a.Orders))
		}
	}
}

func TestMethods(t *testing.T) {
	e := start(t, console.Config{})
	for _, p := range []string{"/api/flatten", "/api/rearm", "/api/unlock", "/api/clear", "/api/engines", "/api/press", "/api/login", "/api/logout"} {
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			r := e.do(nil, m, p, tokManager, nil, nil)
			if r.code != http.StatusMethodNotAllowed || r.hdr.Get("Allow") != "POST" {
				t.Errorf("%s %s: %d Allow=%q, want 405 POST", m, p, r.code, r.hdr.Get("Allow"))
			}
		}
	}
	for _, p := range []string{"/api/status", "/api/events", "/api/session", "/"} {
		if r := e.do(nil, "POST", p, tokManager, nil, nil); r.code != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: %d, want 405", p, r.code)
		}
	}
	if n := len(e.desk.Actions()); n != 0 {
		t.Errorf("desk received %d actions", n)
	}
	if r := e.do(nil, "GET", "/api/nope", tokManager, nil, nil); r.code != 404 {
		t.Errorf("unknown endpoint: %d", r.code)
	}
}

// login logs in with a form post and returns a client holding the cookie
// and the session's CSRF token.
func (e *env) login(tok string) (*http.Client, string) {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	r, err := c.PostForm(e.base+"/api/login", url.Values{"token": {tok}})
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Body.Close()
	if r.StatusCode != 200 {
		b, _ := io.ReadAll(r.Body)
		e.t.Fatalf("login: %d %s", r.StatusCode, b)
	}
	var ck *http.Cookie
	for _, x := range r.Cookies() {
		if x.Name == console.CookieName {
			ck = x
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" {
		e.t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/", ck)
	}
	if strings.Contains(ck.Value, tok) {
		e.t.Fatal("the cookie holds the token")
	}
	sr := e.do(c, "GET", "/api/session", "", nil, nil)
	var info console.SessionInfo
	if err := json.Unmarshal(sr.body, &info); err != nil || sr.code != 200 || info.CSRF == "" {
		e.t.Fatalf("session: %d %s", sr.code, sr.body)
	}
	return c, info.CSRF
}

func TestCookieSessionAndCSRF(t *testing.T) {
	e := start(t, console.Config{})
	c, csrf := e.login(tokTrader1)
	body := map[string]string{"account": "ACC1"}
	for _, h := range []map[string]string{nil, {console.CSRFHeader: ""}, {console.CSRFHeader: csrf + "0"}, {console.CSRFHeader: strings.ToUpper(csrf)}} {
		if r := e.do(c, "POST", "/api/flatten", "", body, h); r.code != http.StatusForbidden {
			t.Errorf("CSRF header %v: %d, want 403", h, r.code)
		}
	}
	if n := len(e.desk.Actions()); n != 0 {
		t.Fatalf("desk acted without CSRF: %+v", e.desk.Actions())
	}
	if r := e.do(c, "POST", "/api/flatten", "", body, map[string]string{"Origin": "http://evil.example", console.CSRFHeader: csrf}); r.code != http.StatusForbidden {
		t.Errorf("cross-origin post: %d, want 403", r.code)
	}
	if r := e.do(c, "POST", "/api/flatten", "", body, map[string]string{console.CSRFHeader: csrf}); r.code != 200 {
		t.Fatalf("with CSRF: %d %s", r.code, r.body)
	}
	if a := e.desk.Actions(); len(a) != 1 || a[0].Who != "alice" || a[0].Account != "ACC1" {
		t.Errorf("actions %+v", a)
	}
	// The cookie session sees what the role sees.
	sr := e.do(c, "GET", "/api/status", "", nil, nil)
	var st deskapi.Status
	_ = json.Unmarshal(sr.body, &st)
	if got := strings.Join(ids(st), ","); got != "ACC1" {
		t.Errorf("cookie trader sees %q", got)
	}
	// Bearer requests need no CSRF token.
	if r := e.do(nil, "POST", "/api/engines", tokTrader1, map[string]any{"account": "ACC1", "run": false}, nil); r.code != 200 {
		t.Errorf("bearer engines: %d %s", r.code, r.body)
	}
	// Logout ends the session.
	if r := e.do(c, "POST", "/api/logout", "", nil, map[string]string{console.CSRFHeader: csrf}); r.code != 200 {
		t.Fatalf("logout: %d", r.code)
	}
	if r := e.do(c, "GET", "/api/status", "", nil, nil); r.code != 401 {
		t.Errorf("after logout: %d, want 401", r.code)
	}
}

func TestLoginRefused(t *testing.T) {
	e := start(t, console.Config{})
	for _, tok := range []string{"", "nope-SECRETVALUE", tokManager + " x"} {
		r, err := http.PostForm(e.base+"/api/login", url.Values{"token": {tok}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 401 || len(r.Cookies()) != 0 || strings.Contains(string(b), "SECRETVALUE") {
			t.Errorf("login %q: %d cookies %v body %s", tok, r.StatusCode, r.Cookies(), b)
		}
	}
}

func TestSessionExpires(t *testing.T) {
	clock := market.NewReplayClock(time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC))
	e := start(t, console.Config{SessionTTL: time.Hour, Clock: clock})
	c, _ := e.login(tokViewer)
	if r := e.do(c, "GET", "/api/session", "", nil, nil); r.code != 200 {
		t.Fatalf("fresh session: %d", r.code)
	}
	clock.Advance(time.Date(2026, 3, 2, 15, 0, 0, 1, time.UTC).UnixNano())
	if r := e.do(c, "GET", "/api/session", "", nil, nil); r.code != 401 {
		t.Errorf("expired session: %d, want 401", r.code)
	}
}

func TestSecurityHeadersAndPage(t *testing.T) {
	e := start(t, console.Config{})
	for _, p := range []string{"/", "/app.js", "/app.css", "/api/status"} {
		r := e.do(nil, "GET", p, tokViewer, nil, nil)
		if r.code != 200 {
			t.Fatalf("GET %s: %d", p, r.code)
		}
		if csp := r.hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s CSP %q", p, csp)
		}
		if r.hdr.Get("X-Frame-Options") != "DENY" || r.hdr.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s headers %v", p, r.hdr)
		}
	}
	page := string(e.do(nil, "GET", "/", "", nil, nil).body)
	for _, s := range strings.Split(page, "<script")[1:] {
		if !strings.HasPrefix(strings.TrimSpace(s), "src=") {
			t.Errorf("inline script in the page: <script%s", s[:min(len(s), 60)])
		}
	}
	for _, bad := range []string{"http://", "https://", "//fonts", " on"} {
		if bad == " on" {
			if strings.Contains(page, " onclick=") || strings.Contains(page, " onload=") {
				t.Error("inline event handler in the page")
			}
			continue
		}
		if strings.Contains(page, bad) {
			t.Errorf("the page references %q (no CDN, no external resources)", bad)
		}
	}
}

// selfSigned writes a throwaway certificate and key.
func selfSigned(t *testing.T) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "deskguard test"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}

func TestBindPolicy(t *testing.T) {
	cert, key := selfSigned(t)
	cases := []struct {
		cfg     console.Config
		refused bool
	}{
		{console.Config{}, false}, // default 127.0.0.1:8080
		{console.Config{Listen: "127.0.0.1:0"}, false},
		{console.Config{Listen: "localhost:8080"}, false},
		{console.Config{Listen: "[::1]:8080"}, false},
		{console.Config{Listen: "0.0.0.0:8080"}, true},
		{console.Config{Listen: ":8080"}, true},
		{console.Config{Listen: "192.168.1.20:8080"}, true},
		{console.Config{Listen: "desk.example:8080"}, true},
		{console.Config{Listen: "0.0.0.0:8080", Insecure: true}, false},
		{console.Config{Listen: "0.0.0.0:8443", TLSCert: cert, TLSKey: key}, false},
	}
	for _, c := range cases {
		_, err := console.New(c.cfg, consoletest.NewFakeDesk(), testTokens(), nil)
		if c.refused != errors.Is(err, console.ErrInsecureBind) || (!c.refused && err != nil) {
			t.Errorf("%+v: %v, refused want %v", c.cfg, err, c.refused)
		}
	}
	for _, cfg := range []console.Config{
		{TLSCert: cert},
		{Listen: "0.0.0.0:8443", TLSCert: filepath.Join(t.TempDir(), "missing.pem"), TLSKey: key},
		{Listen: "nonsense"},
	} {
		if _, err := console.New(cfg, consoletest.NewFakeDesk(), testTokens(), nil); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	if _, err := console.New(console.Config{}, consoletest.NewFakeDesk(), &auth.Tokens{}, nil); err == nil {
		t.Error("no tokens accepted")
	}
}

// fakeListener claims a non-loopback address.
type fakeListener struct{ net.Listener }

func (fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 80} }

func TestServeRefusesNonLoopbackListener(t *testing.T) {
	srv, err := console.New(console.Config{}, consoletest.NewFakeDesk(), testTokens(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(context.Background(), fakeListener{ln}); !errors.Is(err, console.ErrInsecureBind) {
		t.Errorf("Serve on 10.1.2.3:80 without TLS: %v", err)
	}
}

func TestTLSServesSecureCookie(t *testing.T) {
	cert, key := selfSigned(t)
	e := start(t, console.Config{TLSCert: cert, TLSKey: key})
	e.base = strings.Replace(e.base, "http://", "https://", 1)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: insecureTLS()}}
	r, err := c.PostForm(e.base+"/api/login", url.Values{"token": {tokViewer}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if len(r.Cookies()) != 1 || !r.Cookies()[0].Secure {
		t.Errorf("TLS session cookie %+v: want Secure", r.Cookies())
	}
	if r.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS over TLS")
	}
}

func TestInsecureFlagInSession(t *testing.T) {
	e := start(t, console.Config{Insecure: true})
	var info console.SessionInfo
	_ = json.Unmarshal(e.do(nil, "GET", "/api/session", tokViewer, nil, nil).body, &info)
	if !info.Insecure || info.Name != "wall" || info.Can.FlattenDesk || info.Can.Act {
		t.Errorf("session %+v", info)
	}
}
