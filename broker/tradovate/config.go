// This file holds the connector's configuration and the loading of its
// credentials from the environment or files (never from the config itself).

// Package tradovate is a broker.Broker over Tradovate's public API: REST for
// orders (placeorder, placeoso brackets, modifyorder, cancelorder,
// liquidateposition) and the user WebSocket (user/syncrequest, props pushes)
// for execution events, plus a market-data feed from the md WebSocket's tick
// charts. It is written to the protocol as the public sources describe it
// and to the worst case where they are silent (docs/tradovate.md): list
// answers are cut short, pushes come in any order and the clOrdId may come
// late or empty, so events are deduplicated by report id and held until
// their order is bound to a ClientID, lists are completed by id, and a
// placement whose outcome is unknown is decided on a fresh, complete
// snapshot and never sent twice; penalty tickets (REST and WebSocket), 429s,
// a silent server (a watchdog on every socket), end-of-history packets, ticks
// out of order and md outages (backfilled from the chart history) are
// survived. It also reads and sets the broker's own risk (auto-liquidation,
// account risk status), the cash balance, and liquidates several accounts at
// once. It talks to Tradovate's demo or live environment, or to the local
// venue (package broker/venue) that serves the same protocol on loopback.
//
// It may touch broker, market, shopspring/decimal and coder/websocket: the
// network only at the configured URLs, and the environment or the named
// files only for its credentials. It knows nothing of limits, accounts or
// the journal.
package tradovate

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Real Tradovate environments (config values; the demo is the default for a
// real account).
const (
	DemoBaseURL   = "https://demo.tradovateapi.com/v1"
	LiveBaseURL   = "https://live.tradovateapi.com/v1"
	DemoMDURL     = "wss://md-demo.tradovateapi.com/v1/websocket"
	LiveMDURL     = "wss://md.tradovateapi.com/v1/websocket"
	DefaultSymbol = "MESZ5"
)

// Config is the [broker.tradovate] table. Secrets are never in it: only the
// names of the environment variables or files that hold them.
type Config struct {
	BaseURL      string `toml:"base_url"`      // REST root, e.g. https://demo.tradovateapi.com/v1
	WSURL        string `toml:"ws_url"`        // user WebSocket; "" = BaseURL with ws(s) scheme + /websocket
	MDURL        string `toml:"md_url"`        // market-data WebSocket
	User         string `toml:"user"`          // Tradovate user name (accesstokenrequest "name")
	PasswordEnv  string `toml:"password_env"`  // env var holding the password (default TRADOVATE_PASSWORD)
	PasswordFile string `toml:"password_file"` // or a file holding it
	AppID        string `toml:"app_id"`
	AppVersion   string `toml:"app_version"`
	CID          int64  `toml:"cid"`
	SecretEnv    string `toml:"secret_env"`  // env var holding the API secret ("sec"; default TRADOVATE_SECRET)
	SecretFile   string `toml:"secret_file"` // or a file holding it
	DeviceID     string `toml:"device_id"`
	Symbol       string `toml:"symbol"` // contract, e.g. MESZ5
	// Accounts maps the desk's account ids to Tradovate account names
	// (accountSpec). Empty: every account of the user, under its own name.
	Accounts map[string]string `toml:"accounts"`
	// RenewBeforeSec renews the token this many seconds before it expires
	// (default 600, and never later than half its lifetime).
	RenewBeforeSec int `toml:"renew_before_sec"`
	// MaxRetries bounds retries of one REST call after 5xx or network
	// errors (default 4).
	MaxRetries int `toml:"max_retries"`
}

// Credentials are the secrets of an accesstokenrequest.
type Credentials struct {
	Password string
	Secret   string
}

// String never prints the secrets.
func (Credentials) String() string { return "tradovate.Credentials{redacted}" }

// GoString never prints the secrets.
func (c Credentials) GoString() string { return c.String() }

// ErrConfig is wrapped by configuration and credential errors.
var ErrConfig = errors.New("tradovate: bad config")

// WithDefaults returns c with every empty value set to the default the
// connector uses (BaseURL: the demo environment).
func (c Config) WithDefaults() Config { return c.withDefaults() }

func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		c.BaseURL = DemoBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.WSURL == "" {
		u := c.BaseURL
		switch {
		case strings.HasPrefix(u, "https://"):
			u = "wss://" + strings.TrimPrefix(u, "https://")
		case strings.HasPrefix(u, "http://"):
			u = "ws://" + strings.TrimPrefix(u, "http://")
		}
		c.WSURL = u + "/websocket"
	}
	if c.MDURL == "" {
		c.MDURL = DemoMDURL
	}
	if c.PasswordEnv == "" {
		c.PasswordEnv = "TRADOVATE_PASSWORD"
	}
	if c.SecretEnv == "" {
		c.SecretEnv = "TRADOVATE_SECRET"
	}
	if c.AppID == "" {
		c.AppID = "deskguard"
	}
	if c.AppVersion == "" {
		c.AppVersion = "1.0"
	}
	if c.DeviceID == "" {
		c.DeviceID = "deskguard"
	}
	if c.Symbol == "" {
		c.Symbol = DefaultSymbol
	}
	if c.RenewBeforeSec <= 0 {
		c.RenewBeforeSec = 600
	}
	if c.MaxRetries <= 0 {
		c.MaxRetries = 4
	}
	return c
}

// LoadCredentials reads the password and secret from the files named in
// the config, else from the environment variables it names (getenv is
// os.Getenv in production). A missing password is an error; a missing
// secret is allowed (the local venue does not check it).
func LoadCredentials(c Config, getenv func(string) string) (Credentials, error) {
	c = c.withDefaults()
	if getenv == nil {
		getenv = os.Getenv
	}
	read := func(file, env, what string) (string, error) {
		if file != "" {
			b, err := os.ReadFile(file)
			if err != nil {
				return "", fmt.Errorf("%w: %s file: %v", ErrConfig, what, err)
			}
			return strings.TrimRight(string(b), "\r\n"), nil
		}
		return getenv(env), nil
	}
	var cr Credentials
	var err error
	if cr.Password, err = read(c.PasswordFile, c.PasswordEnv, "password"); err != nil {
		return Credentials{}, err
	}
	if cr.Password == "" {
		return Credentials{}, fmt.Errorf("%w: no password (set %s or password_file)", ErrConfig, c.PasswordEnv)
	}
	if cr.Secret, err = read(c.SecretFile, c.SecretEnv, "secret"); err != nil {
		return Credentials{}, err
	}
	if c.User == "" {
		return Credentials{}, fmt.Errorf("%w: no user", ErrConfig)
	}
	return cr, nil
}

// renewAt returns when a token expiring at exp should be renewed.
func renewAt(issued, exp time.Time, before time.Duration) time.Time {
	life := exp.Sub(issued)
	if before > life/2 {
		before = life / 2
	}
	return exp.Add(-before)
}
