// console_test.go: the firm console's API — no token, no view; a viewer
// sees and cannot kill; the firm role kills (with a reason); a body with
// data after its JSON, or too large, is refused whole.

package firm_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/authz"
	"github.com/deskguard/deskguard/firm"
)

func TestConsoleRoles(t *testing.T) {
	srv := startNATS(t)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	agg := startAgg(t, firm.Options{Conn: connect(t, srv.URL(), "firm"), Key: priv, Desks: []string{"east"}})
	toks := &auth.Tokens{}
	toks.AddPlain("screen", "view-token", auth.Role{Kind: "viewer"})
	toks.AddPlain("firm-risk", "firm-token", auth.Role{Kind: firm.FirmRole})
	toks.AddPlain("desk-mgr", "mgr-token", auth.Role{Kind: "manager"})
	h := httptest.NewServer((&firm.Console{Agg: agg.a, Tokens: toks}).Handler())
	defer h.Close()
	do := func(method, path, token, body string) int {
		req, _ := http.NewRequest(method, h.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"page without a token", "GET", "/", "", "", 200},
		{"view without a token", "GET", "/api/view", "", "", 401},
		{"view with a wrong token", "GET", "/api/view", "nope", "", 401},
		{"viewer views", "GET", "/api/view", "view-token", "", 200},
		{"viewer kills", "POST", "/api/kill", "view-token", `{"reason":"x"}`, 403},
		{"desk manager kills the firm", "POST", "/api/kill", "mgr-token", `{"reason":"x"}`, 403},
		{"firm kill without a reason", "POST", "/api/kill", "firm-token", `{"reason":" "}`, 400},
		{"firm kill with a smuggled second request", "POST", "/api/kill", "firm-token", `{"reason":"x"}{"reason":"y"}`, 400},
		{"firm kill with an unknown field", "POST", "/api/kill", "firm-token", `{"reason":"x","desks":["all"]}`, 400},
		{"firm kill too large", "POST", "/api/kill", "firm-token", `{"reason":"` + strings.Repeat("x", 5000) + `"}`, 400},
		{"firm kill", "POST", "/api/kill", "firm-token", `{"reason":"console test"}`, 202},
	} {
		if got := do(tc.method, tc.path, tc.token, tc.body); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	ks := agg.a.Kills()
	if len(ks) != 1 || ks[0].Who != "firm-risk" || ks[0].Reason != "console test" || ks[0].Desks["east"] == nil {
		t.Fatalf("kills %+v, want exactly the firm role's one, to east", ks)
	}
}

// The firm console's role is authz's firm role (the one rule decides).
func TestFirmRoleIsAuthz(t *testing.T) {
	if firm.FirmRole != authz.Firm.Kind {
		t.Fatalf("firm.FirmRole %q, authz.Firm %q", firm.FirmRole, authz.Firm.Kind)
	}
}
