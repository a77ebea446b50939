// config_test.go: secrets from environment variables and files, TOML keys,
// and that no printing path ever shows a secret.

package alerts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func TestLoadSecrets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app")
	if err := os.WriteFile(file, []byte("xapp-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"MY_BOT": "xoxb-from-env", EnvSigningSecret: "sign-default-env"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c := Config{BotTokenEnv: "MY_BOT", AppTokenEnv: "UNSET_VAR", AppTokenFile: file}
	if err := c.loadSecrets(lookup, os.ReadFile); err != nil {
		t.Fatal(err)
	}
	if c.BotToken.Reveal() != "xoxb-from-env" || c.AppToken.Reveal() != "xapp-from-file" ||
		c.SigningSecret.Reveal() != "sign-default-env" || c.WebhookURL.IsSet() {
		t.Fatalf("loaded %q %q %q %q", c.BotToken.Reveal(), c.AppToken.Reveal(), c.SigningSecret.Reveal(), c.WebhookURL.Reveal())
	}

	// Errors name the file, never a value.
	bad := Config{BotTokenFile: filepath.Join(dir, "missing"), AppTokenEnv: "APP"}
	err := bad.loadSecrets(func(k string) (string, bool) {
		if k == "APP" {
			return "not-an-app-token-SECRET", true
		}
		return "", false
	}, os.ReadFile)
	if !errors.Is(err, ErrSecret) || !strings.Contains(err.Error(), "missing") || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("err %v", err)
	}

	// The real entry point reads the process environment.
	t.Setenv(EnvBotToken, "xoxb-real-env")
	var r Config
	if err := r.LoadSecrets(); err != nil || r.BotToken.Reveal() != "xoxb-real-env" {
		t.Fatalf("%v %q", err, r.BotToken.Reveal())
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	c := Config{BotToken: "xoxb-TOPSECRET", AppToken: "xapp-TOPSECRET", SigningSecret: "TOPSECRET",
		WebhookURL: "https://hooks.slack.com/services/TOPSECRET", Channel: "C1"}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("cfg", "config", c, "token", c.BotToken)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("cfg", "config", c, "token", c.BotToken)
	j, _ := json.Marshal(c)
	var tb bytes.Buffer
	_ = toml.NewEncoder(&tb).Encode(c)
	out := strings.Join([]string{buf.String(), string(j), tb.String(),
		fmt.Sprintf("%v %+v %#v %s %q %x", c, c, c, c.BotToken, c.AppToken, c.SigningSecret),
		fmt.Sprint(c.WebhookURL), c.String()}, "\n")
	if strings.Contains(out, "TOPSECRET") {
		t.Fatalf("a secret was printed:\n%s", out)
	}
	if !strings.Contains(fmt.Sprint(c.BotToken), redacted) {
		t.Fatal("a set secret should print as redacted")
	}
}

func TestConfigTOML(t *testing.T) {
	const doc = `
bot_token_env = "DESKGUARD_SLACK_BOT_TOKEN"
app_token_file = "/run/secrets/slack_app"
channel = "C0DESK"
allowed_users = ["U123", "URISK"]
coalesce_window = "45s"
max_retries = 3
`
	var c Config
	md, err := toml.Decode(doc, &c)
	if err != nil {
		t.Fatal(err)
	}
	if un := md.Undecoded(); len(un) != 0 {
		t.Fatalf("undecoded keys %v", un)
	}
	if c.CoalesceWindow != 45*time.Second || c.MaxRetries != 3 || len(c.AllowedUsers) != 2 || c.AppTokenFile == "" {
		t.Fatalf("%+v", c)
	}
	d := c.WithDefaults()
	if d.Command != "/deskguard" || d.QueueSize != 256 || d.CoalesceWindow != 45*time.Second {
		t.Fatalf("defaults %+v", d)
	}
}
