// audit.go: the effective config as one value, its canonical form and
// SHA-256, and the summary `deskguard run` journals at start (a
// config_change record). None of them holds a secret: secrets are never
// config values (only the names of the variables or files that hold them),
// and the summary leaves out even token hashes and credentials in URLs.

package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"

	"github.com/deskguard/deskguard/alerts"
	"github.com/deskguard/deskguard/broker/rithmic"
	"github.com/deskguard/deskguard/broker/tradovate"
	"github.com/deskguard/deskguard/console"
	"github.com/deskguard/deskguard/hw"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/strategies"
	"github.com/deskguard/deskguard/supervisor"
)

// DefaultHW is the [hw] table `deskguard run` decodes the file's over: a
// simulated button and simulated lights, so the default desk has a panic
// button (`deskguard press`, the console's button) without hardware.
func DefaultHW() hw.Config {
	return hw.Config{ButtonPin: hw.SimPin, GreenPin: hw.SimPin, RedPin: hw.SimPin, BuzzerPin: hw.SimPin}
}

// Effective is the whole config as the desk runs it: the tables this
// package owns with their defaults resolved, and the tables other packages
// decode ([slack], [hw], [broker.tradovate]) decoded over the desk's base
// values with their packages' defaults applied. Two files that differ only
// in spelling out a default have the same Effective.
type Effective struct {
	Desk       Desk                      `json:"desk"`
	Data       Data                      `json:"data"`
	Broker     Broker                    `json:"broker"`
	Tradovate  *tradovate.Config         `json:"tradovate,omitempty"` // broker kind "tradovate" only
	Rithmic    *rithmic.Config           `json:"rithmic,omitempty"`   // broker kind or data kind "rithmic" only
	Limits     limits.Config             `json:"limits"`
	Risk       Risk                      `json:"risk"`
	Schedule   supervisor.ScheduleConfig `json:"schedule"`
	Strategies strategies.Config         `json:"strategies"`
	Accounts   []Account                 `json:"accounts"`
	Console    Console                   `json:"console"`
	Slack      alerts.Config             `json:"slack"` // secrets are never decoded into it (and never marshalled)
	HW         hw.Config                 `json:"hw"`
}

// Effective resolves the config's defaults (see Effective).
func (c *Config) Effective() (Effective, error) {
	e := Effective{Desk: c.Desk, Data: c.Data, Broker: c.Broker, Limits: c.Limits.WithDefaults(), Risk: c.Risk, Schedule: c.Schedule,
		Strategies: c.Strategies, Console: c.Console}
	e.Risk.DeskWarnPct, e.Risk.DeskReduceOnlyPct = c.DeskLadder()
	if e.Desk.DrawdownPct.IsZero() {
		e.Desk.DrawdownPct = e.Limits.DrawdownPct
	}
	def := supervisor.DefaultSchedule()
	for _, s := range []struct {
		v *string
		d string
	}{{&e.Schedule.SessionReset, def.SessionReset},
		{&e.Schedule.NoNewEntries, def.NoNewEntries}, {&e.Schedule.FlattenDay, def.FlattenDay}, {&e.Schedule.DailySummary, def.DailySummary}} {
		if *s.v == "" {
			*s.v = s.d
		}
	}
	for _, a := range c.Accounts {
		day := a.DayTrading == nil || *a.DayTrading
		a.DayTrading = &day
		a.FeesRT = a.AccountsConfig().WithDefaults().FeesRT
		a.Strategies = slices.Clone(a.Strategies)
		e.Accounts = append(e.Accounts, a)
	}
	cc := &e.Console.Config
	cc.Clock = nil
	if cc.Listen == "" {
		cc.Listen = console.DefaultListen
	}
	if cc.StatusEvery <= 0 {
		cc.StatusEvery = console.DefaultStatusEvery
	}
	if cc.SessionTTL <= 0 {
		cc.SessionTTL = console.DefaultSessionTTL
	}
	if cc.ClientBuffer <= 0 {
		cc.ClientBuffer = console.DefaultClientBuffer
	}
	if cc.WriteTimeout <= 0 {
		cc.WriteTimeout = console.DefaultWriteTimeout
	}
	e.Console.Tokens = slices.Clone(c.Console.Tokens)

	var s alerts.Config
	if err := c.Decode("slack", &s); err != nil {
		return Effective{}, err
	}
	e.Slack = s.WithDefaults()
	if len(e.Slack.AllowedUsers) == 0 {
		e.Slack.AllowedUsers = nil // `allowed_users = []` is no list at all
	}
	for _, v := range []struct {
		name *string
		def  string
	}{{&e.Slack.BotTokenEnv, alerts.EnvBotToken},
		{&e.Slack.AppTokenEnv, alerts.EnvAppToken}, {&e.Slack.SigningSecretEnv, alerts.EnvSigningSecret},
		{&e.Slack.WebhookURLEnv, alerts.EnvWebhookURL}} {
		if *v.name == "" {
			*v.name = v.def // the variable the secret is read from when the file names none
		}
	}
	h := DefaultHW()
	if err := c.Decode("hw", &h); err != nil {
		return Effective{}, err
	}
	e.HW = h.WithDefaults()
	if c.Broker.Kind == "tradovate" {
		var t tradovate.Config
		if err := c.Decode("broker.tradovate", &t); err != nil {
			return Effective{}, err
		}
		if t.BaseURL == "" {
			t.BaseURL = c.Broker.URL
		}
		if t.BaseURL != "" { // else the desk refuses to start
			t = t.WithDefaults()
		}
		e.Tradovate = &t
	}
	if c.Broker.Kind == "rithmic" || c.Data.Kind == "rithmic" {
		var r rithmic.Config
		if err := c.Decode("broker.rithmic", &r); err != nil {
			return Effective{}, err
		}
		r = r.WithDefaults()
		e.Rithmic = &r
	}
	return e, nil
}

// Canonical is the effective config as JSON: fields in declaration order,
// map keys sorted, defaults resolved, and no secret (none is a config
// value). Equal configs give equal bytes.
func (c *Config) Canonical() ([]byte, error) {
	e, err := c.Effective()
	if err != nil {
		return nil, err
	}
	return json.Marshal(e)
}

// SHA256 is the hex SHA-256 of Canonical.
func (c *Config) SHA256() (string, error) {
	b, err := c.Canonical()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// AuditSummary is what the journal keeps of the effective config at desk
// start: what an auditor needs to know the desk ran with (accounts, limits,
// lockout lines, schedule, broker, who may act), and the SHA-256 of the
// whole canonical config for everything else. It holds no secret, no token
// hash and no credentials in a URL.
type AuditSummary struct {
	SHA256        string            `json:"sha256"`
	Source        string            `json:"source"` // the config file, or "(built-in defaults)"
	Desk          string            `json:"desk"`
	DrawdownPct   string            `json:"drawdown_pct"` // the desk-wide lockout, % of the sum of start equities
	ManualUnlock  bool              `json:"manual_unlock"`
	StaleDataKill string            `json:"stale_data_kill"` // "0s" = off
	Workers       string            `json:"workers"`
	TimeZone      string            `json:"time_zone"` // [desk] time_zone resolved: the zone people read times in
	Broker        AuditBroker       `json:"broker"`
	Data          Data              `json:"data"`
	Limits        limits.Config     `json:"limits"` // the desk's limits (defaults applied)
	Risk          Risk              `json:"risk"`   // the news calendar and the desk ladder
	Schedule      map[string]string `json:"schedule"`
	Accounts      []AuditAccount    `json:"accounts"`
	Console       AuditConsole      `json:"console"`
	Slack         AuditSlack        `json:"slack"`
}

// AuditBroker is the venue the desk trades at.
type AuditBroker struct {
	Kind string `json:"kind"`
	URL  string `json:"url,omitempty"` // scheme, host and path only
	User string `json:"user,omitempty"`
}

// AuditAccount is one account as the desk runs it.
type AuditAccount struct {
	ID          string        `json:"id"`
	Owner       string        `json:"owner,omitempty"`
	StartEquity string        `json:"start_equity"`
	FeesRT      string        `json:"fees_rt"`
	Strategies  []string      `json:"strategies"`
	DayTrading  bool          `json:"day_trading"`
	EnginesOff  bool          `json:"engines_off,omitempty"`
	Limits      limits.Config `json:"limits"` // effective: the desk's, the account's overrides over them
}

// AuditConsole is where the console listens and who holds a token (names
// and roles only).
type AuditConsole struct {
	Listen   string       `json:"listen"`
	TLS      bool         `json:"tls"`
	Insecure bool         `json:"insecure,omitempty"`
	Tokens   []AuditToken `json:"tokens,omitempty"`
}

// AuditToken is a token's name and role; never the token or its hash.
type AuditToken struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// AuditSlack is where alerts go and who may act from Slack.
type AuditSlack struct {
	Channel      string   `json:"channel,omitempty"`
	AllowedUsers []string `json:"allowed_users,omitempty"`
}

// AuditSummary builds the summary (see AuditSummary).
func (c *Config) AuditSummary() (AuditSummary, error) {
	e, err := c.Effective()
	if err != nil {
		return AuditSummary{}, err
	}
	sum, err := c.SHA256()
	if err != nil {
		return AuditSummary{}, err
	}
	a := AuditSummary{SHA256: sum, Source: c.path, Desk: e.Desk.Name, DrawdownPct: e.Desk.DrawdownPct.String(),
		ManualUnlock: e.Desk.ManualUnlock, StaleDataKill: e.Desk.StaleDataKill.String(), Workers: e.Desk.Workers,
		TimeZone: e.Desk.Location().String(),
		Broker:   AuditBroker{Kind: e.Broker.Kind}, Data: e.Data, Limits: e.Limits, Risk: e.Risk,
		Schedule: map[string]string{"session_reset": e.Schedule.SessionReset, "no_new_entries": e.Schedule.NoNewEntries,
			"flat_by": e.Schedule.FlattenDay, "daily_summary": e.Schedule.DailySummary},
		Console: AuditConsole{Listen: e.Console.Listen, TLS: e.Console.TLS(), Insecure: e.Console.Insecure},
		Slack:   AuditSlack{Channel: e.Slack.Channel, AllowedUsers: e.Slack.AllowedUsers}}
	if e.Tradovate != nil {
		a.Broker.URL, a.Broker.User = safeURL(e.Tradovate.BaseURL), e.Tradovate.User
	} else if e.Rithmic != nil && e.Broker.Kind == "rithmic" {
		a.Broker.URL, a.Broker.User = safeURL(e.Rithmic.URL), e.Rithmic.User
	} else if e.Broker.URL != "" {
		a.Broker.URL = safeURL(e.Broker.URL)
	}
	for _, acct := range e.Accounts {
		a.Accounts = append(a.Accounts, AuditAccount{ID: acct.ID, Owner: acct.Owner, StartEquity: acct.StartEquity.StringFixed(2),
			FeesRT: acct.FeesRT.StringFixed(2), Strategies: acct.Strategies, DayTrading: *acct.DayTrading, EnginesOff: acct.EnginesOff,
			Limits: acct.AccountsConfig().GateConfig(e.Limits)})
	}
	for _, t := range e.Console.Tokens {
		a.Console.Tokens = append(a.Console.Tokens, AuditToken{Name: t.Name, Role: t.Role})
	}
	return a, nil
}

// safeURL keeps a URL's scheme, host and path: never a user, password,
// query or fragment, which may carry credentials.
func safeURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "(not a URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}
