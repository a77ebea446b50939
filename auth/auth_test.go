package auth

import (
	"errors"
	"testing"
)

func TestTokensAndRoles(t *testing.T) {
	var ts Tokens
	ts.AddPlain("risk", "m-secret", Role{Kind: "manager"})
	ts.AddPlain("alice", "t-secret", Role{Kind: "trader", Account: "ACC1"})
	ts.AddPlain("wall", "v-secret", Role{Kind: "viewer"})

	for _, bad := range []string{"", "nope", "m-secret ", "M-SECRET"} {
		if _, err := ts.Check(bad); !errors.Is(err, ErrBadToken) {
			t.Errorf("Check(%q) = %v, want ErrBadToken", bad, err)
		}
	}
	p, err := ts.Check("t-secret")
	if err != nil || p.Name != "alice" || p.Role.String() != "trader:ACC1" {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestParseRole(t *testing.T) {
	for _, s := range []string{"manager", "viewer", "trader:X"} {
		r, err := ParseRole(s)
		if err != nil || r.String() != s {
			t.Errorf("ParseRole(%q) = %v %v", s, r, err)
		}
	}
	for _, s := range []string{"", "admin", "trader:", "trader"} {
		if _, err := ParseRole(s); err == nil {
			t.Errorf("ParseRole(%q) accepted", s)
		}
	}
	var ts Tokens
	if err := ts.Add("x", "abc", Role{Kind: "viewer"}); err == nil {
		t.Error("short hash accepted")
	}
}

func TestDuplicateTokenRefused(t *testing.T) {
	var ts Tokens
	if err := ts.Add("risk", Hash("same"), Role{Kind: "manager"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Role{{Kind: "viewer"}, {Kind: "manager"}, {Kind: "trader", Account: "A"}} {
		if err := ts.Add("other", Hash("same"), r); !errors.Is(err, ErrDuplicateToken) {
			t.Errorf("the same token again as %v: %v", r, err)
		}
	}
	if p, err := ts.Check("same"); err != nil || p.Name != "risk" || ts.Len() != 1 {
		t.Fatalf("%+v %v (len %d)", p, err, ts.Len())
	}
}
