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
	cases := []struct {
		role                   Role
		acct                   string
		see, flat, manage, eng bool
	}{
		{Role{Kind: "manager"}, "", true, true, true, true},
		{Role{Kind: "manager"}, "ACC2", true, true, true, true},
		{Role{Kind: "trader", Account: "ACC1"}, "ACC1", true, true, false, true},
		{Role{Kind: "trader", Account: "ACC1"}, "ACC2", false, false, false, false},
		{Role{Kind: "trader", Account: "ACC1"}, "", false, false, false, false},
		{Role{Kind: "viewer"}, "ACC1", true, false, false, false},
	}
	for _, c := range cases {
		if c.role.CanSee(c.acct) != c.see || c.role.CanFlatten(c.acct) != c.flat ||
			c.role.CanManage() != c.manage || c.role.CanRunEngines(c.acct) != c.eng {
			t.Errorf("%s on %q: see %v flat %v manage %v eng %v", c.role, c.acct,
				c.role.CanSee(c.acct), c.role.CanFlatten(c.acct), c.role.CanManage(), c.role.CanRunEngines(c.acct))
		}
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

// The firm role: parsed, sees everything, kills the firm, and may do
// nothing on a desk (no flatten, no manage, no engines).
func TestFirmRole(t *testing.T) {
	r, err := ParseRole("firm")
	if err != nil || r.String() != "firm" {
		t.Fatalf("ParseRole(firm) = %v, %v", r, err)
	}
	if !r.CanSee("") || !r.CanSee("A1") || !r.CanFirmKill() {
		t.Fatal("the firm role must see every account and kill the firm")
	}
	if r.CanFlatten("") || r.CanFlatten("A1") || r.CanManage() || r.CanRunEngines("A1") {
		t.Fatal("the firm role acts on a desk only through the firm's signed command")
	}
	for _, k := range []string{"manager", "viewer", "trader"} {
		if (Role{Kind: k, Account: "A1"}).CanFirmKill() {
			t.Errorf("%s may kill the firm", k)
		}
	}
}
