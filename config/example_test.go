package config

// example_test.go: example.toml (`deskguard config example`) is complete
// and true — every key the desk reads is in it, with a comment, and it
// parses to exactly the built-in desk — and the config_change summary the
// desk journals at start holds no secret.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/deskguard/deskguard/alerts"
	"github.com/deskguard/deskguard/broker/rithmic"
	"github.com/deskguard/deskguard/broker/tradovate"
	"github.com/deskguard/deskguard/hw"
)

// optionalLine is a commented-out example line of example.toml: "# " then
// a table header or a key.
var optionalLine = regexp.MustCompile(`^# (\[\[?[a-z_.]+\]\]?|[a-z_]+ *=)`)

// uncommented is example.toml with its optional examples switched on.
func uncommented() string {
	lines := strings.Split(Example, "\n")
	for i, l := range lines {
		if optionalLine.MatchString(l) {
			lines[i] = strings.TrimPrefix(l, "# ")
		}
	}
	return strings.Join(lines, "\n")
}

// tables are the top-level types whose TOML keys the desk reads: the
// config package's own, and the tables other packages decode.
var tables = []struct {
	prefix string
	typ    reflect.Type
}{
	{"", reflect.TypeFor[Config]()},
	{"slack", reflect.TypeFor[alerts.Config]()},
	{"hw", reflect.TypeFor[hw.Config]()},
	{"broker.tradovate", reflect.TypeFor[tradovate.Config]()},
	{"broker.rithmic", reflect.TypeFor[rithmic.Config]()},
}

// sameKeysAs are tables whose keys are documented once elsewhere: the
// example needs only show the table.
var sameKeysAs = map[string]string{"accounts.limits": "limits"}

// tomlKeys walks t's toml tags: every key path (arrays of tables without an
// index), and whether the value is a table of free keys (a map, or a table
// documented elsewhere), which is present when any key under it is.
func tomlKeys(t *testing.T, typ reflect.Type, prefix string, out map[string]bool) {
	t.Helper()
	textual := reflect.TypeFor[encoding.TextUnmarshaler]()
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if tag == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && tag == "" {
			tomlKeys(t, ft, prefix, out) // embedded: its keys are the outer table's
			continue
		}
		if tag == "" {
			t.Errorf("%s.%s: exported field without a toml tag", typ, f.Name)
			continue
		}
		key := tag
		if prefix != "" {
			key = prefix + "." + tag
		}
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			ft = ft.Elem()
		}
		switch {
		case sameKeysAs[key] != "", ft.Kind() == reflect.Map:
			out[key] = true
		case ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(textual) && ft != reflect.TypeFor[time.Duration]():
			tomlKeys(t, ft, key, out)
		default:
			out[key] = false
		}
	}
}

// allKeys is every key path the desk reads, sorted; free[k] for tables of
// free keys.
func allKeys(t *testing.T) (keys []string, free map[string]bool) {
	free = map[string]bool{}
	for _, tb := range tables {
		tomlKeys(t, tb.typ, tb.prefix, free)
	}
	for k := range free {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) < 140 {
		t.Fatalf("only %d keys found: the walk is broken", len(keys))
	}
	return keys, free
}

// TestExampleListsEveryKey: every key of every table the desk reads is in
// example.toml (set, or as an optional example), with a comment on its line.
func TestExampleListsEveryKey(t *testing.T) {
	text := uncommented()
	if _, err := Parse("example.toml (optional lines on)", text); err != nil {
		t.Fatalf("the optional examples do not parse: %v", err)
	}
	var doc map[string]any
	md, err := toml.Decode(text, &doc)
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	for _, k := range md.Keys() {
		present[k.String()] = true
	}
	// Which keys carry a comment on their own line.
	commented := map[string]bool{}
	table := ""
	header := regexp.MustCompile(`^\[\[?([a-z_.]+)\]\]?`)
	keyLine := regexp.MustCompile(`^([a-z_]+) *= *(.*)$`)
	for _, l := range strings.Split(text, "\n") {
		if m := header.FindStringSubmatch(l); m != nil {
			table = m[1]
		} else if m := keyLine.FindStringSubmatch(l); m != nil && strings.Contains(m[2], " # ") {
			commented[table+"."+m[1]] = true
		}
	}
	keys, free := allKeys(t)
	for _, k := range keys {
		found := present[k]
		if free[k] {
			for p := range present {
				found = found || strings.HasPrefix(p, k+".")
			}
		}
		if !found {
			t.Errorf("key %s is not in example.toml", k)
			continue
		}
		if !free[k] && !commented[k] {
			t.Errorf("key %s has no comment on its line in example.toml", k)
		}
	}
	t.Logf("%d keys checked", len(keys))
}

// TestExampleHasNoUndecodedKeys decodes example.toml (optional lines on and
// off) into the types that read it and finds no key that none of them
// reads.
func TestExampleHasNoUndecodedKeys(t *testing.T) {
	for name, text := range map[string]string{"as shipped": Example, "optional lines on": uncommented()} {
		var all struct {
			Config
			Slack alerts.Config `toml:"slack"`
			HW    hw.Config     `toml:"hw"`
		}
		md, err := toml.Decode(text, &all)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var tv struct {
			Broker struct {
				Tradovate tradovate.Config `toml:"tradovate"`
			} `toml:"broker"`
		}
		md2, err := toml.Decode(text, &tv)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var rt struct {
			Broker struct {
				Rithmic rithmic.Config `toml:"rithmic"`
			} `toml:"broker"`
		}
		md3, err := toml.Decode(text, &rt)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, k := range md.Undecoded() {
			if !strings.HasPrefix(k.String(), "broker.tradovate") && !strings.HasPrefix(k.String(), "broker.rithmic") {
				t.Errorf("%s: undecoded key %s", name, k)
			}
		}
		for _, k := range md2.Undecoded() {
			if strings.HasPrefix(k.String(), "broker.tradovate") {
				t.Errorf("%s: undecoded key %s", name, k)
			}
		}
		for _, k := range md3.Undecoded() {
			if strings.HasPrefix(k.String(), "broker.rithmic") {
				t.Errorf("%s: undecoded key %s", name, k)
			}
		}
	}
}

// TestExampleIsTheBuiltInDesk: example.toml parses to exactly Default(),
// table by table, and the tables other packages decode to their own
// defaults (over the desk's base values).
func TestExampleIsTheBuiltInDesk(t *testing.T) {
	c, err := Parse("example.toml", Example)
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tb := range []struct {
		name      string
		got, want any
	}{
		{"desk", c.Desk, d.Desk}, {"data", c.Data, d.Data}, {"broker", c.Broker, d.Broker}, {"limits", c.Limits, d.Limits}, {"risk", c.Risk, d.Risk},
		{"schedule", c.Schedule, d.Schedule}, {"strategies", c.Strategies, d.Strategies}, {"accounts", c.Accounts, d.Accounts},
		{"console", c.Console, d.Console},
	} {
		// JSON compares decimals by value ("50000.00" = 50000) and nothing else loosely.
		if g, w := js(tb.got), js(tb.want); g != w {
			t.Errorf("[%s] differs from the built-in desk:\nexample  %s\nbuilt-in %s", tb.name, g, w)
		}
	}
	// Apart from decimals' representation, field for field.
	if c.Limits.DrawdownPct.Cmp(d.Limits.DrawdownPct) != 0 || !reflect.DeepEqual(c.Strategies, d.Strategies) ||
		c.Schedule != d.Schedule || c.Data != d.Data || c.Broker != d.Broker || !reflect.DeepEqual(c.Console, d.Console) {
		t.Errorf("example differs from the built-in desk")
	}

	var s alerts.Config
	if err := c.Decode("slack", &s); err != nil {
		t.Fatal(err)
	}
	if s.BotTokenEnv != alerts.EnvBotToken || s.AppTokenEnv != alerts.EnvAppToken || s.SigningSecretEnv != alerts.EnvSigningSecret ||
		s.WebhookURLEnv != alerts.EnvWebhookURL {
		t.Errorf("[slack] *_env are not the variables read by default: %+v", s)
	}
	s.BotTokenEnv, s.AppTokenEnv, s.SigningSecretEnv, s.WebhookURLEnv = "", "", "", ""
	if len(s.AllowedUsers) != 0 {
		t.Errorf("allowed_users %v", s.AllowedUsers)
	}
	s.AllowedUsers = nil
	if got, want := s.WithDefaults(), (alerts.Config{}).WithDefaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("[slack] differs from alerts' defaults:\n%s\n%s", js(got), js(want))
	}
	h := DefaultHW()
	if err := c.Decode("hw", &h); err != nil {
		t.Fatal(err)
	}
	if got, want := h.WithDefaults(), DefaultHW().WithDefaults(); got != want {
		t.Errorf("[hw] differs from the desk's default:\n%+v\n%+v", got, want)
	}
	var tv tradovate.Config
	if err := c.Decode("broker.tradovate", &tv); err != nil {
		t.Fatal(err)
	}
	if got, want := tv.WithDefaults(), (tradovate.Config{}).WithDefaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("[broker.tradovate] differs from the connector's defaults:\n%+v\n%+v", got, want)
	}
	// And so the effective config, and its hash, are the built-in desk's.
	cs, err := c.SHA256()
	if err != nil {
		t.Fatal(err)
	}
	ds, err := d.SHA256()
	if err != nil {
		t.Fatal(err)
	}
	if cs != ds {
		a, _ := c.Canonical()
		b, _ := d.Canonical()
		t.Errorf("effective config differs:\nexample  %s\nbuilt-in %s", a, b)
	}
}

// TestExamplePassesConfigCheck is `deskguard config check` on the example
// written to a file (Load, then LoadTokens).
func TestExamplePassesConfigCheck(t *testing.T) {
	p := filepath.Join(t.TempDir(), "desk.toml")
	if err := os.WriteFile(p, []byte(Example), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.LoadTokens(); err != nil {
		t.Fatal(err)
	}
}

func TestStaleDataKill(t *testing.T) {
	base := "[[accounts]]\nid = \"A\"\nstart_equity = \"1000\"\nstrategies = [\"orb\"]\n"
	c, err := Parse("desk.toml", "[desk]\nstale_data_kill = \"15s\"\n"+base)
	if err != nil || c.Desk.StaleDataKill != 15*time.Second {
		t.Fatalf("%v %v", c, err)
	}
	if Default().Desk.StaleDataKill != 0 {
		t.Fatal("stale_data_kill is on for the built-in (replay) desk")
	}
	// Unset, it is on for live data (issue 25.7) and off for a replay;
	// set, the file wins, "0s" included.
	tv := "[broker]\nkind = \"tradovate\"\n[broker.tradovate]\nbase_url = \"https://demo.tradovateapi.com/v1\"\n"
	rth := "[broker.rithmic]\nurl = \"wss://rituz00100.rithmic.com:443\"\nsystem_name = \"Rithmic Test\"\n"
	for _, tc := range []struct {
		name, text string
		want       time.Duration
	}{
		{"venue child", "", 0},
		{"sim", "[broker]\nkind = \"sim\"\n", 0},
		{"tradovate", tv, DefaultLiveStaleDataKill},
		{"rithmic", "[broker]\nkind = \"rithmic\"\n" + rth, DefaultLiveStaleDataKill},
		{"rithmic data on sim", "[broker]\nkind = \"sim\"\n[data]\nkind = \"rithmic\"\n" + rth, DefaultLiveStaleDataKill},
		{"tradovate, set off", "[desk]\nstale_data_kill = \"0s\"\n" + tv, 0},
		{"tradovate, set 5s", "[desk]\nstale_data_kill = \"5s\"\n" + tv, 5 * time.Second},
	} {
		c, err := Parse("desk.toml", tc.text+base)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.Desk.StaleDataKill != tc.want {
			t.Errorf("%s: stale_data_kill %s, want %s", tc.name, c.Desk.StaleDataKill, tc.want)
		}
	}
	if DefaultLiveStaleDataKill < MinStaleDataKill {
		t.Fatal("the live default is below the minimum")
	}
}

// TestAuditSummaryHoldsNoSecret: a config with every secret-bearing field
// set, and the secrets themselves loaded into the environment and files,
// gives a summary (and a canonical form) that holds none of them, while it
// still says what an auditor needs.
func TestAuditSummaryHoldsNoSecret(t *testing.T) {
	dir := t.TempDir()
	secrets := map[string]string{
		"DG_SLACK_BOT":  "xoxb-111-bot-secret-value",
		"DG_SLACK_APP":  "xapp-222-app-secret-value",
		"DG_SLACK_SIGN": "signing-secret-value-333",
		"DG_SLACK_HOOK": "https://hooks.slack.com/services/T000/B000/webhook-secret-444",
		"DG_TV_PW":      "tradovate-password-555",
		"DG_TV_SEC":     "tradovate-api-secret-666",
		"DG_CONSOLE":    "console-token-secret-777",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	file := func(name, v string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fileSecret := "console-file-token-secret-888"
	certFile, keyFile := selfSigned(t, dir)
	tokenHash := "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
	text := `[desk]
name = "audit-desk"
stale_data_kill = "10s"
[broker]
kind = "tradovate"
url = "https://apiuser:url-password-999@demo.example.com/v1?token=query-secret-000"
[broker.tradovate]
user = "desk-user"
password_env = "DG_TV_PW"
secret_env = "DG_TV_SEC"
secret_file = "` + file("tv_secret", secrets["DG_TV_SEC"]) + `"
[slack]
channel = "C0DESK"
allowed_users = ["U01RISK"]
bot_token_env = "DG_SLACK_BOT"
app_token_env = "DG_SLACK_APP"
signing_secret_env = "DG_SLACK_SIGN"
webhook_url_env = "DG_SLACK_HOOK"
[console]
tls_cert = "` + certFile + `"
tls_key = "` + keyFile + `"
[[console.tokens]]
name = "risk"
role = "manager"
env = "DG_CONSOLE"
[[console.tokens]]
name = "screen"
role = "viewer"
hash = "` + tokenHash + `"
[[console.tokens]]
name = "orb"
role = "trader:A"
file = "` + file("orb_token", fileSecret) + `"
[[accounts]]
id = "A"
owner = "trader-a"
start_equity = "25000"
strategies = ["orb", "delta"]
[accounts.limits]
max_position = 16
`
	c, err := Parse("desk.toml", text)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.LoadTokens(); err != nil { // the secrets are all readable: the desk would start
		t.Fatal(err)
	}
	a, err := c.AuditSummary()
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	canon, err := c.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{fileSecret, tokenHash, "url-password-999", "apiuser", "query-secret-000"}
	for _, v := range secrets {
		forbidden = append(forbidden, v)
	}
	for _, s := range forbidden {
		if strings.Contains(string(body), s) {
			t.Errorf("summary holds secret %q:\n%s", s, body)
		}
		if s != tokenHash && s != "url-password-999" && s != "apiuser" && s != "query-secret-000" && strings.Contains(string(canon), s) {
			t.Errorf("canonical config holds secret %q", s)
		}
	}
	// What matters for audit is there.
	for _, want := range []string{`"desk":"audit-desk"`, `"stale_data_kill":"10s"`, `"kind":"tradovate"`, `"url":"https://demo.example.com/v1"`,
		`"id":"A"`, `"start_equity":"25000.00"`, `"strategies":["orb","delta"]`, `"max_position":16`, `"drawdown_pct":"1.5"`,
		`"session_reset":"0 18 * * 0-4"`, `"name":"risk","role":"manager"`, `"allowed_users":["U01RISK"]`, `"sha256":"` + a.SHA256 + `"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("summary lacks %s:\n%s", want, body)
		}
	}
	if len(a.SHA256) != 64 {
		t.Errorf("sha256 %q", a.SHA256)
	}
	// The hash follows the config: one limit changed, another hash.
	c2, err := Parse("desk.toml", strings.Replace(text, "max_position = 16", "max_position = 17", 1))
	if err != nil {
		t.Fatal(err)
	}
	if h2, _ := c2.SHA256(); h2 == a.SHA256 {
		t.Error("a changed limit left the hash unchanged")
	}
	// Spelling out a default does not change it.
	c3, err := Parse("desk.toml", strings.Replace(text, "[desk]\n", "[desk]\nworkers = \"process\"\n", 1))
	if err != nil {
		t.Fatal(err)
	}
	if h3, _ := c3.SHA256(); h3 != a.SHA256 {
		t.Error("spelling out a default changed the hash")
	}
}

// selfSigned writes a self-signed loopback certificate and its key into dir.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// TestAuditSummaryTimeZone: the journaled summary names the desk's display
// zone, resolved (the default when the file sets none), so `deskguard
// report` and `signals` can show a journal's times in the zone its desk
// showed them in (issue 19).
func TestAuditSummaryTimeZone(t *testing.T) {
	for _, tc := range []struct{ zone, want string }{
		{"", DefaultTimeZone},
		{DefaultTimeZone, DefaultTimeZone},
		{"America/Chicago", "America/Chicago"},
	} {
		c := Default()
		c.Desk.TimeZone = tc.zone
		sum, err := c.AuditSummary()
		if err != nil {
			t.Fatal(err)
		}
		if sum.TimeZone != tc.want {
			t.Errorf("time_zone %q: summary time_zone %q, want %q", tc.zone, sum.TimeZone, tc.want)
		}
	}
}
