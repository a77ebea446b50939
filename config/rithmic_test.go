package config

// rithmic_test.go: the [broker.rithmic] table and [data] kind: the
// example's table is the connector's defaults, a misspelt key is refused
// with its line, the kinds are checked, and the audit summary says where
// the desk trades without the password.

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/deskguard/deskguard/broker/rithmic"
)

func TestExampleRithmicIsTheConnectorsDefaults(t *testing.T) {
	c, err := Parse("example.toml", Example)
	if err != nil {
		t.Fatal(err)
	}
	var r rithmic.Config
	if err := c.Decode("broker.rithmic", &r); err != nil {
		t.Fatal(err)
	}
	got, want := r.WithDefaults(), (rithmic.Config{}).WithDefaults()
	if !got.TickValue.Equal(want.TickValue) {
		t.Fatalf("tick_value %s, want %s", got.TickValue, want.TickValue)
	}
	got.TickValue = want.TickValue
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Fatalf("[broker.rithmic] differs from the connector's defaults:\n%s\n%s", gj, wj)
	}
}

func TestRithmicKeys(t *testing.T) {
	base := "[[accounts]]\nid = \"A\"\nstart_equity = \"1000\"\nstrategies = [\"orb\"]\n"
	good := "[broker]\nkind = \"rithmic\"\n[data]\nkind = \"rithmic\"\n[broker.rithmic]\nurl = \"ws://127.0.0.1:1\"\nuser = \"u\"\n" +
		"password_env = \"DG_R_PW\"\n[broker.rithmic.accounts]\nA = \"R1\"\n" + base
	c, err := Parse("desk.toml", good)
	if err != nil {
		t.Fatal(err)
	}
	var r rithmic.Config
	if err := c.Decode("broker.rithmic", &r); err != nil || r.URL != "ws://127.0.0.1:1" || r.Accounts["A"] != "R1" {
		t.Fatalf("%+v %v", r, err)
	}
	t.Setenv("DG_R_PW", "rithmic-password-123")
	a, err := c.AuditSummary()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(a)
	if !strings.Contains(string(b), `"kind":"rithmic","url":"ws://127.0.0.1:1","user":"u"`) || strings.Contains(string(b), "rithmic-password-123") {
		t.Fatalf("summary %s", b)
	}
	canon, _ := c.Canonical()
	if strings.Contains(string(canon), "rithmic-password-123") {
		t.Fatal("the canonical config holds the password")
	}
	for _, bad := range []struct{ text, key string }{
		{strings.Replace(good, "user = \"u\"", "usr = \"u\"", 1), "broker.rithmic.usr"},
		{strings.Replace(good, "[data]\nkind = \"rithmic\"", "[data]\nkind = \"databento\"", 1), "data.kind"},
		{strings.Replace(good, "[broker]\nkind = \"rithmic\"", "[broker]\nkind = \"cqg\"", 1), "broker.kind"},
	} {
		_, err := Parse("desk.toml", bad.text)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != bad.key || ce.Line == 0 {
			t.Errorf("%s: %v, want a ConfigError at %s with its line", bad.key, err, bad.key)
		}
	}
}
