// config.go: the connector's configuration (the [broker.rithmic] table)
// and the loading of its password from the environment or a file, never
// from the config itself.

package rithmic

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Real Rithmic values (config defaults and examples). Rithmic gives the
// URLs of its other systems only after its conformance test; the test
// gateway is the one rundef/async_rithmic documents (docs/connection.rst).
const (
	TestGatewayURL     = "wss://rituz00100.rithmic.com:443"
	TestSystemName     = "Rithmic Test"
	DefaultSymbol      = "MESZ5"
	DefaultExchange    = "CME"
	DefaultPasswordEnv = "RITHMIC_PASSWORD"
	// TemplateVersion is the login template version rundef/async_rithmic
	// sends (async_rithmic/plants/base.py, _login).
	TemplateVersion = "3.9"
	// ExitWindow is the window_name the connector puts on exit position
	// (3504) requests; an order the venue makes for one and names so is the
	// desk's liquidation.
	ExitWindow = "deskguard-exit"
	// OrderWindow is the window_name of the connector's other requests.
	OrderWindow = "deskguard"
)

// Config is the [broker.rithmic] table. Secrets are never in it: only the
// name of the environment variable or file that holds the password.
type Config struct {
	// URL of the R|Protocol gateway: wss://HOST:443 for Rithmic, ws://
	// for the local venue on loopback. Every plant logs in there.
	URL          string `toml:"url"`
	SystemName   string `toml:"system_name"`   // e.g. "Rithmic Test" (16/17 lists them)
	User         string `toml:"user"`          // Rithmic user id
	PasswordEnv  string `toml:"password_env"`  // env var holding the password (default RITHMIC_PASSWORD)
	PasswordFile string `toml:"password_file"` // or a file holding it
	AppName      string `toml:"app_name"`      // login app name (default "deskguard")
	AppVersion   string `toml:"app_version"`   // login app version (default "1.0")
	// Symbol is the contract (e.g. MESZ5), or a product code (e.g. MES)
	// that the ticker plant resolves to its front month (113).
	Symbol   string `toml:"symbol"`
	Exchange string `toml:"exchange"` // default CME
	// TradeRoute for orders; "" takes the exchange's default route from
	// the order plant's list (310).
	TradeRoute string `toml:"trade_route"`
	// Accounts maps the desk's account ids to Rithmic account ids. Empty:
	// every account of the user under its own id.
	Accounts map[string]string `toml:"accounts"`
	// TickValue is the currency value of one tick of one contract, to turn
	// the PnL plant's currency figures into ticks (default "1.25": MES).
	TickValue decimal.Decimal `toml:"tick_value"`
}

// Credentials are the login secret.
type Credentials struct {
	Password string
}

// String never prints the secret.
func (Credentials) String() string { return "rithmic.Credentials{redacted}" }

// GoString never prints the secret.
func (c Credentials) GoString() string { return c.String() }

// ErrConfig is wrapped by configuration and credential errors.
var ErrConfig = errors.New("rithmic: bad config")

// WithDefaults returns c with every empty value set to the default the
// connector uses.
func (c Config) WithDefaults() Config {
	if c.URL == "" {
		c.URL = TestGatewayURL
	}
	if c.SystemName == "" {
		c.SystemName = TestSystemName
	}
	if c.PasswordEnv == "" {
		c.PasswordEnv = DefaultPasswordEnv
	}
	if c.AppName == "" {
		c.AppName = "deskguard"
	}
	if c.AppVersion == "" {
		c.AppVersion = "1.0"
	}
	if c.Symbol == "" {
		c.Symbol = DefaultSymbol
	}
	if c.Exchange == "" {
		c.Exchange = DefaultExchange
	}
	if c.TickValue.IsZero() {
		c.TickValue = decimal.RequireFromString("1.25")
	}
	return c
}

// Validate checks what can be checked without connecting.
func (c Config) Validate() error {
	c = c.WithDefaults()
	if !strings.HasPrefix(c.URL, "wss://") && !strings.HasPrefix(c.URL, "ws://") {
		return fmt.Errorf("%w: url %q: want wss://HOST:PORT (or ws:// for a local venue)", ErrConfig, c.URL)
	}
	if c.User == "" {
		return fmt.Errorf("%w: no user", ErrConfig)
	}
	if c.TickValue.IsNegative() {
		return fmt.Errorf("%w: tick_value %s is negative", ErrConfig, c.TickValue)
	}
	for desk, acct := range c.Accounts {
		if desk == "" || acct == "" {
			return fmt.Errorf("%w: accounts: empty id in %q = %q", ErrConfig, desk, acct)
		}
	}
	return nil
}

// LoadCredentials reads the password from the file the config names, else
// from the environment variable it names (getenv is os.Getenv in
// production). A missing password or user is an error.
func LoadCredentials(c Config, getenv func(string) string) (Credentials, error) {
	c = c.WithDefaults()
	if getenv == nil {
		getenv = os.Getenv
	}
	if err := c.Validate(); err != nil {
		return Credentials{}, err
	}
	var pw string
	if c.PasswordFile != "" {
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return Credentials{}, fmt.Errorf("%w: password file: %v", ErrConfig, err)
		}
		pw = strings.TrimRight(string(b), "\r\n")
	} else {
		pw = getenv(c.PasswordEnv)
	}
	if pw == "" {
		return Credentials{}, fmt.Errorf("%w: no password (set %s or password_file)", ErrConfig, c.PasswordEnv)
	}
	return Credentials{Password: pw}, nil
}

// Options are the connector's collaborators and timings.
type Options struct {
	Log *slog.Logger // nil = discard
	// Backoff is the first reconnect delay (default 100 ms, doubling to
	// MaxBackoff, default 5 s). After a forced logout (77) the first delay
	// is MaxBackoff (another session may have taken ours); the attempts
	// after it start again from Backoff.
	Backoff, MaxBackoff time.Duration
	// RequestTimeout bounds one request's wait for its answer, and how long
	// a request waits for its plant to come back (default 10 s).
	RequestTimeout time.Duration
	// DeadAfter: a plant that sends nothing for this long is taken for
	// dead and reconnected (default twice the heartbeat interval the login
	// returned, at least 1 s).
	DeadAfter time.Duration
	// SkipSystemCheck: Dial looks the system name up in the gateway's list (16/17)
	// before the first login unless this is set (it saves the extra
	// connection).
	SkipSystemCheck bool
}
