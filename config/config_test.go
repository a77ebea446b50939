package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/deskguard/deskguard/auth"
)

func TestExampleParsesToDefaults(t *testing.T) {
	c, err := Parse("example.toml", Example)
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if len(c.Accounts) != 3 || c.Accounts[0].ID != "ORB1" || c.Accounts[2].Strategies[0] != "delta" {
		t.Fatalf("accounts %+v", c.Accounts)
	}
	if !c.Limits.DrawdownPct.Equal(d.Limits.DrawdownPct) || c.Limits.MaxPosition != d.Limits.MaxPosition ||
		c.Limits.EntriesUntilMin != d.Limits.EntriesUntilMin || c.Schedule != d.Schedule {
		t.Fatalf("limits/schedule differ from defaults:\n%+v\n%+v", c.Limits, d.Limits)
	}
	if c.Desk.Name != d.Desk.Name || !c.Desk.DrawdownPct.Equal(d.Desk.DrawdownPct) || c.Desk.Workers != d.Desk.Workers || c.Data != d.Data || c.Broker != d.Broker || c.Console.Listen != d.Console.Listen {
		t.Fatalf("desk/data/broker differ:\n%+v\n%+v", c, d)
	}
	if got := c.Specs(); len(got) != 3 || !got[0].DayTrading {
		t.Fatalf("specs %+v", got)
	}
}

func TestBadConfigsNameFileLineKey(t *testing.T) {
	base := "[[accounts]]\nid = \"A\"\nstart_equity = \"1000\"\nstrategies = [\"orb\"]\n"
	cases := []struct {
		name, text, key string
		line            int
	}{
		{"syntax", "[desk\nname = 1", "", -1},
		{"unknown key", "[desk]\nnmae = \"x\"\n" + base, "desk.nmae", 2},
		{"bad workers", "[desk]\nworkers = \"threads\"\n" + base, "desk.workers", 2},
		{"bad external_orders", "[desk]\nexternal_orders = \"ignore\"\n" + base, "desk.external_orders", 2},
		{"broker_liq_window too long", "[desk]\nbroker_liq_window = \"5m\"\n" + base, "desk.broker_liq_window", 2},
		{"broker_liq_window too short", "[desk]\nbroker_liq_window = \"100ms\"\n" + base, "desk.broker_liq_window", 2},
		{"bad regime", "[data]\nregime = \"chaos\"\n" + base, "data.regime", 2},
		{"negative pace", "[data]\npace = -1.0\n" + base, "data.pace", 2},
		{"bad broker", "[broker]\nkind = \"ib\"\n" + base, "broker.kind", 2},
		{"no accounts", "[desk]\nname = \"x\"\n", "accounts", 0},
		{"unknown strategy", "[[accounts]]\nid = \"A\"\nstart_equity = \"1000\"\nstrategies = [\"martingale\"]\n", "accounts[0].strategies", 4},
		{"duplicate account", base + base, "accounts[1].id", 2},
		{"bad cron", "[schedule]\nflat_by = \"99 99 * * *\"\n" + base, "schedule", 0},
		{"bad role", base + "[[console.tokens]]\nname = \"x\"\nrole = \"admin\"\nenv = \"X\"\n", "console.tokens[0].role", 0},
		{"token two sources", base + "[[console.tokens]]\nname = \"x\"\nrole = \"viewer\"\nenv = \"X\"\nfile = \"f\"\n", "console.tokens[0]", 0},
		{"bad drawdown", "[limits]\ndrawdown_pct = \"150\"\n" + base, "limits", 0},
		{"wrong type", "[desk]\nmanual_unlock = \"yes\"\n" + base, "desk.manual_unlock", 2},
		{"account limits against the desk's", "[limits]\nmax_order_qty = 15\n" + base + "[accounts.limits]\nmax_position = 12\n", "accounts[0].limits", 0},
		{"negative stale_data_kill", "[desk]\nstale_data_kill = \"-1s\"\n" + base, "desk.stale_data_kill", 2},
		{"unknown time zone", "[desk]\ntime_zone = \"Mars/Olympus\"\n" + base, "desk.time_zone", 2},
		{"local time zone", "[desk]\ntime_zone = \"Local\"\n" + base, "desk.time_zone", 2},
		{"too short stale_data_kill", "[desk]\nstale_data_kill = \"200ms\"\n" + base, "desk.stale_data_kill", 2},
		{"unknown slack key", "[slack]\nchanel = \"C1\"\n" + base, "slack.chanel", 2},
		{"mistyped slack key", "[slack]\nchannel = 1\n" + base, "slack.channel", 2},
		{"unknown hw key", "[hw]\nbutton = \"GPIO17\"\n" + base, "hw.button", 2},
		{"mistyped hw key", "[hw]\ndebounce = true\n" + base, "hw.debounce", 2},
		{"unknown tradovate key", "[broker.tradovate]\nbase_ulr = \"https://x\"\n" + base, "broker.tradovate.base_ulr", 2},
		{"mistyped tradovate key", "[broker.tradovate]\ncid = \"7\"\n" + base, "broker.tradovate.cid", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("desk.toml", tc.text)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *ConfigError", err)
			}
			if ce.File != "desk.toml" || !strings.Contains(err.Error(), "desk.toml") {
				t.Errorf("error does not name the file: %v", err)
			}
			if tc.key != "" && ce.Key != tc.key {
				t.Errorf("key %q, want %q (%v)", ce.Key, tc.key, err)
			}
			if tc.line == -1 && ce.Line <= 0 {
				t.Errorf("no line in %v", err)
			}
			if tc.line > 0 && ce.Line != tc.line {
				t.Errorf("line %d, want %d (%v)", ce.Line, tc.line, err)
			}
		})
	}
}

func TestTokensFromEnvNeverPrinted(t *testing.T) {
	t.Setenv("DG_TEST_TOKEN", "s3cret-token")
	text := "[[accounts]]\nid = \"A\"\nstart_equity = \"1000\"\nstrategies = [\"orb\"]\n" +
		"[[console.tokens]]\nname = \"risk\"\nrole = \"manager\"\nenv = \"DG_TEST_TOKEN\"\n" +
		"[[console.tokens]]\nname = \"gone\"\nrole = \"viewer\"\nenv = \"DG_TEST_MISSING\"\n"
	c, err := Parse("desk.toml", text)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.LoadTokens()
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "DG_TEST_MISSING") {
		t.Fatalf("err = %v", err)
	}
	c.Console.Tokens = c.Console.Tokens[:1]
	ts, err := c.LoadTokens()
	if err != nil {
		t.Fatal(err)
	}
	if p, err := ts.Check("s3cret-token"); err != nil || p.Name != "risk" {
		t.Fatalf("%+v %v", p, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Example)
	f.Add("[[accounts]]\nid = \"A\"\nstart_equity = \"1000\"\nstrategies = [\"orb\"]\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = Parse("fuzz.toml", s)
	})
}

// TestRefusedAsRunRefuses: what `deskguard run` refused after `config
// check` had passed it (issue 25 item 9) is refused by Parse: a pace that is
// not a finite number, a non-loopback console without TLS, half a TLS pair
// or a certificate that does not load, a trader token for an account the
// desk does not have.
func TestRefusedAsRunRefuses(t *testing.T) {
	base := "[[accounts]]\nid = \"A\"\nstart_equity = \"1000\"\nstrategies = [\"orb\"]\n"
	cases := []struct{ name, text, key string }{
		{"pace nan", "[data]\npace = nan\n" + base, "data.pace"},
		{"pace inf", "[data]\npace = inf\n" + base, "data.pace"},
		{"pace -inf", "[data]\npace = -inf\n" + base, "data.pace"},
		{"non-loopback console without TLS", "[console]\nlisten = \"0.0.0.0:8080\"\n" + base, "console"},
		{"console on a LAN address without TLS", "[console]\nlisten = \"10.1.2.3:8080\"\n" + base, "console"},
		{"console address without a port", "[console]\nlisten = \"127.0.0.1\"\n" + base, "console"},
		{"half a TLS pair", "[console]\ntls_cert = \"c.pem\"\n" + base, "console"},
		{"a certificate that does not load", "[console]\ntls_cert = \"/nonexistent/c.pem\"\ntls_key = \"/nonexistent/k.pem\"\n" + base, "console"},
		{"a trader of an unknown account", base + "[[console.tokens]]\nname = \"x\"\nrole = \"trader:B\"\nenv = \"X\"\n", "console.tokens[0].role"},
	}
	for _, tc := range cases {
		_, err := Parse("desk.toml", tc.text)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%s: %v, want a ConfigError at %s", tc.name, err, tc.key)
		}
	}
	for _, ok := range []string{
		"[console]\nlisten = \"off\"\n" + base,
		"[console]\nlisten = \"0.0.0.0:8080\"\ninsecure = true\n" + base,
		"[console]\nlisten = \"localhost:0\"\n" + base,
		"[data]\npace = 0.0\n" + base,
		base + "[[console.tokens]]\nname = \"x\"\nrole = \"trader:A\"\nenv = \"X\"\n",
	} {
		if _, err := Parse("desk.toml", ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

// TestEveryErrorReported: a file with several mistakes gets all of them,
// not only the first.
func TestEveryErrorReported(t *testing.T) {
	text := "[desk]\nworkers = \"threads\"\nnmae = \"x\"\n[data]\npace = nan\nregime = \"chaos\"\n[console]\nlisten = \"0.0.0.0:1\"\n" +
		"[[accounts]]\nid = \"A\"\nstart_equity = \"1000\"\nstrategies = [\"martingale\"]\n" +
		"[[accounts]]\nid = \"A\"\nstart_equity = \"1000\"\nstrategies = [\"orb\"]\n" +
		"[[console.tokens]]\nname = \"x\"\nrole = \"trader:Q\"\nenv = \"X\"\n"
	_, err := Parse("desk.toml", text)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, key := range []string{"desk.workers", "desk.nmae", "data.pace", "data.regime", "console", "accounts[0].strategies",
		"accounts[1].id", "console.tokens[0].role"} {
		if !strings.Contains(err.Error(), key+":") {
			t.Errorf("the error does not report %s:\n%v", key, err)
		}
	}
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.File != "desk.toml" {
		t.Errorf("not a ConfigError: %v", err)
	}
}

// TestDuplicateTokensRefused: the same token twice — by hash and by
// environment, with different roles — and every unreadable token are
// refused together, naming the tokens, never their values.
func TestDuplicateTokensRefused(t *testing.T) {
	t.Setenv("DG_TEST_DUP", "the-same-token")
	text := "[[accounts]]\nid = \"A\"\nstart_equity = \"1000\"\nstrategies = [\"orb\"]\n" +
		"[[console.tokens]]\nname = \"screen\"\nrole = \"viewer\"\nhash = \"" + auth.Hash("the-same-token") + "\"\n" +
		"[[console.tokens]]\nname = \"risk\"\nrole = \"manager\"\nenv = \"DG_TEST_DUP\"\n" +
		"[[console.tokens]]\nname = \"gone\"\nrole = \"viewer\"\nenv = \"DG_TEST_UNSET_DUP\"\n"
	c, err := Parse("desk.toml", text)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.LoadTokens()
	if err == nil || !strings.Contains(err.Error(), auth.ErrDuplicateToken.Error()) || !strings.Contains(err.Error(), "screen") || !strings.Contains(err.Error(), "risk") ||
		!strings.Contains(err.Error(), "DG_TEST_UNSET_DUP") || strings.Contains(err.Error(), "the-same-token") {
		t.Fatalf("err = %v", err)
	}
}

func TestTimeZone(t *testing.T) {
	base := "[[accounts]]\nid = \"A\"\nstart_equity = \"1000\"\nstrategies = [\"orb\"]\n"
	c, err := Parse("desk.toml", base)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Desk.Location().String(); got != DefaultTimeZone {
		t.Errorf("default zone %s, want %s", got, DefaultTimeZone)
	}
	c, err = Parse("desk.toml", "[desk]\ntime_zone = \"America/Chicago\"\n"+base)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Desk.Location().String(); got != "America/Chicago" {
		t.Errorf("zone %s, want America/Chicago", got)
	}
}
