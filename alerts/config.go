// config.go: the [slack] configuration, secrets loaded from environment
// variables or files, and a Secret type that never prints its value.

package alerts

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// Secret is a token or URL that must never appear in a log, an error or a
// config dump. Every way of printing it prints "[redacted]" (or "" when it
// is empty, so "is it set" stays visible).
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret itself, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

func (s Secret) shown() string {
	if s == "" {
		return ""
	}
	return redacted
}

// String redacts.
func (s Secret) String() string { return s.shown() }

// GoString redacts (%#v).
func (s Secret) GoString() string { return `"` + s.shown() + `"` }

// Format redacts for every verb (%s, %v, %q, %x, ...).
func (s Secret) Format(f fmt.State, verb rune) { _, _ = fmt.Fprint(f, s.shown()) }

// LogValue redacts in slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.shown()) }

// MarshalText redacts in JSON, TOML and any text encoder.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.shown()), nil }

// Default names of the environment variables the secrets are read from when
// the config names none.
const (
	EnvBotToken      = "DESKGUARD_SLACK_BOT_TOKEN"
	EnvAppToken      = "DESKGUARD_SLACK_APP_TOKEN"
	EnvSigningSecret = "DESKGUARD_SLACK_SIGNING_SECRET"
	EnvWebhookURL    = "DESKGUARD_SLACK_WEBHOOK_URL"
)

// Config is the [slack] section of the desk's TOML file. The secrets are not
// TOML keys: they come from the environment variables or files the *_env and
// *_file keys name (LoadSecrets), or are set by the program.
type Config struct {
	BotToken      Secret `toml:"-" json:"-"` // xoxb-…: chat.postMessage
	AppToken      Secret `toml:"-" json:"-"` // xapp-…: Socket Mode
	SigningSecret Secret `toml:"-" json:"-"` // verifies the HTTP endpoint's requests
	WebhookURL    Secret `toml:"-" json:"-"` // incoming webhook, used when there is no bot token

	BotTokenEnv       string `toml:"bot_token_env"`
	BotTokenFile      string `toml:"bot_token_file"`
	AppTokenEnv       string `toml:"app_token_env"`
	AppTokenFile      string `toml:"app_token_file"`
	SigningSecretEnv  string `toml:"signing_secret_env"`
	SigningSecretFile string `toml:"signing_secret_file"`
	WebhookURLEnv     string `toml:"webhook_url_env"`
	WebhookURLFile    string `toml:"webhook_url_file"`

	Channel      string   `toml:"channel"`       // channel id (C0123…) or name for chat.postMessage
	AllowedUsers []string `toml:"allowed_users"` // Slack user ids (U…) that may flatten and ask status
	Command      string   `toml:"command"`       // slash command name; default "/deskguard"
	APIURL       string   `toml:"api_url"`       // Slack Web API base (tests); default https://slack.com/api/

	CoalesceWindow time.Duration `toml:"coalesce_window"` // one message per account per kind per window; default 30s; negative = off
	QueueSize      int           `toml:"queue_size"`      // bound of the non-critical queue; default 256
	MaxRetries     int           `toml:"max_retries"`     // retries after the first attempt; default 5
	BackoffBase    time.Duration `toml:"backoff_base"`    // first retry wait for 5xx/network errors; default 500ms
	BackoffMax     time.Duration `toml:"backoff_max"`     // cap of the doubling backoff; default 30s
	MaxRetryAfter  time.Duration `toml:"max_retry_after"` // cap on a 429's Retry-After; default 2m
	PostTimeout    time.Duration `toml:"post_timeout"`    // one HTTP attempt; default 10s
	SweepEvery     time.Duration `toml:"sweep_every"`     // how often coalescing windows are closed; default 1s
	AckWithin      time.Duration `toml:"ack_within"`      // how long a command waits for Flatten before replying; default 2.5s
	ReplayCache    int           `toml:"replay_cache"`    // signatures the HTTP endpoint remembers for their 5-minute window (full: new requests refused); default 4096

	// Zone is the zone the messages' times are in, labelled (nil: New
	// York); `deskguard run` sets the desk's [desk] time_zone.
	Zone *time.Location `toml:"-" json:"-"`
}

// String prints the config with its secrets redacted.
func (c Config) String() string {
	return fmt.Sprintf("slack{bot_token:%q app_token:%q signing_secret:%q webhook_url:%q channel:%q allowed_users:%v}",
		c.BotToken.shown(), c.AppToken.shown(), c.SigningSecret.shown(), c.WebhookURL.shown(), c.Channel, c.AllowedUsers)
}

// LogValue logs the config with its secrets redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("bot_token", c.BotToken.IsSet()), slog.Bool("app_token", c.AppToken.IsSet()),
		slog.Bool("signing_secret", c.SigningSecret.IsSet()), slog.Bool("webhook_url", c.WebhookURL.IsSet()),
		slog.String("channel", c.Channel), slog.Any("allowed_users", c.AllowedUsers))
}

// WithDefaults fills every unset tunable.
func (c Config) WithDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Command == "" {
		c.Command = "/deskguard"
	}
	def(&c.CoalesceWindow, 30*time.Second)
	if c.CoalesceWindow < 0 {
		c.CoalesceWindow = 0
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 256
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 5
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	def(&c.BackoffBase, 500*time.Millisecond)
	def(&c.BackoffMax, 30*time.Second)
	def(&c.MaxRetryAfter, 2*time.Minute)
	def(&c.PostTimeout, 10*time.Second)
	def(&c.SweepEvery, time.Second)
	def(&c.AckWithin, 2500*time.Millisecond)
	if c.ReplayCache <= 0 {
		c.ReplayCache = 4096
	}
	return c
}

// ErrSecret is wrapped by every LoadSecrets failure.
var ErrSecret = errors.New("slack secret")

// LoadSecrets fills each secret that is still empty from its environment
// variable (the *_env key, or the EnvXxx default) or else from its file (the
// *_file key; surrounding whitespace trimmed). A missing variable is not an
// error (that secret is just off); a named file that cannot be read is.
// Errors name the variable or file, never the value.
func (c *Config) LoadSecrets() error {
	return c.loadSecrets(os.LookupEnv, os.ReadFile)
}

func (c *Config) loadSecrets(lookup func(string) (string, bool), read func(string) ([]byte, error)) error {
	var errs []error
	load := func(dst *Secret, envName, defEnv, file, what string) {
		if dst.IsSet() {
			return
		}
		if envName == "" {
			envName = defEnv
		}
		if v, ok := lookup(envName); ok && strings.TrimSpace(v) != "" {
			*dst = Secret(strings.TrimSpace(v))
			return
		}
		if file == "" {
			return
		}
		b, err := read(file)
		if err != nil {
			// The path is not secret; the error from os never holds the content.
			errs = append(errs, fmt.Errorf("%w: %s: reading %s: %w", ErrSecret, what, file, err))
			return
		}
		*dst = Secret(strings.TrimSpace(string(b)))
		if !dst.IsSet() {
			errs = append(errs, fmt.Errorf("%w: %s: file %s is empty", ErrSecret, what, file))
		}
	}
	load(&c.BotToken, c.BotTokenEnv, EnvBotToken, c.BotTokenFile, "bot token")
	load(&c.AppToken, c.AppTokenEnv, EnvAppToken, c.AppTokenFile, "app token")
	load(&c.SigningSecret, c.SigningSecretEnv, EnvSigningSecret, c.SigningSecretFile, "signing secret")
	load(&c.WebhookURL, c.WebhookURLEnv, EnvWebhookURL, c.WebhookURLFile, "webhook url")
	if c.BotToken.IsSet() && !strings.HasPrefix(c.BotToken.Reveal(), "xoxb-") {
		errs = append(errs, fmt.Errorf("%w: bot token does not start with xoxb-", ErrSecret))
	}
	if c.AppToken.IsSet() && !strings.HasPrefix(c.AppToken.Reveal(), "xapp-") {
		errs = append(errs, fmt.Errorf("%w: app token does not start with xapp- (an app-level token with connections:write)", ErrSecret))
	}
	if c.WebhookURL.IsSet() && !strings.HasPrefix(c.WebhookURL.Reveal(), "https://") && !strings.HasPrefix(c.WebhookURL.Reveal(), "http://") {
		errs = append(errs, fmt.Errorf("%w: webhook url is not an http(s) URL", ErrSecret))
	}
	return errors.Join(errs...)
}
