// Package config loads the desk's one TOML file: desk, data, broker,
// limits, schedule, strategies, accounts, slack, hw and console. A bad
// config is refused before anything starts, with the file, line and key at
// fault. Secrets (tokens, passwords) are never in the file itself: it names
// environment variables or files that hold them, and they are never
// printed.
//
// It may touch the one file it loads (and the environment or files that hold secrets, when asked)
// and the configuration types of the packages it configures: accounts, alerts, auth,
// broker/tradovate, console, hw, limits, strategies and supervisor.
package config

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/alerts"
	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/broker/rithmic"
	"github.com/deskguard/deskguard/broker/tradovate"
	"github.com/deskguard/deskguard/console"
	"github.com/deskguard/deskguard/hw"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/strategies"
	"github.com/deskguard/deskguard/supervisor"
)

// Config is the whole file.
type Config struct {
	Desk       Desk                      `toml:"desk"`
	Data       Data                      `toml:"data"`
	Broker     Broker                    `toml:"broker"`
	Limits     limits.Config             `toml:"limits"`
	Risk       Risk                      `toml:"risk"` // rules.go
	Schedule   supervisor.ScheduleConfig `toml:"schedule"`
	Strategies strategies.Config         `toml:"strategies"`
	Accounts   []Account                 `toml:"accounts"`
	Console    Console                   `toml:"console"`
	Firm       Firm                      `toml:"firm"`    // firm.go
	Metrics    Metrics                   `toml:"metrics"` // metrics.go
	Extra      Extra                     `toml:"-"`

	path string
	text string // the file's text, for the lines of Validate's errors
}

// Desk is the [desk] table.
type Desk struct {
	Name          string          `toml:"name"`
	Journal       string          `toml:"journal"`        // bbolt file; default deskguard.db
	ControlSocket string          `toml:"control_socket"` // default deskguard.sock
	DrawdownPct   decimal.Decimal `toml:"drawdown_pct"`   // desk aggregate lockout; default = limits.drawdown_pct
	ManualUnlock  bool            `toml:"manual_unlock"`  // lockouts survive the 18:00 reset until unlocked
	Workers       string          `toml:"workers"`        // "process" (default) or "in-process"
	LogLevel      string          `toml:"log_level"`      // debug, info (default), warn, error
	// StaleDataKill flattens the desk (kill trigger "stale_data") when a
	// running desk's feed sends no trade for this long of real time; 0 =
	// off. Unset: DefaultLiveStaleDataKill on live data (LiveData), else 0.
	StaleDataKill time.Duration `toml:"stale_data_kill"`
	// JournalFollowSymlink lets `run` open a journal path that is a
	// symbolic link; by default such a path is refused.
	JournalFollowSymlink bool `toml:"journal_follow_symlink"`
	// TimeZone is the zone every time a person reads is shown in (console,
	// status, report, the run summary), labelled; the journal keeps UTC.
	// An IANA name; default DefaultTimeZone.
	TimeZone string `toml:"time_zone"`
	// ExternalOrders is what the desk does with an order it did not place
	// that the broker reports on one of its accounts (a trader's bracket on
	// the broker's own platform, the broker's auto-liquidation): "adopt"
	// (default: booked, its position covered by a working stop and counted
	// against the allowance) or "fault" (the account faulted and flattened).
	ExternalOrders string `toml:"external_orders"`
	// BrokerLiqWindow is how long the desk waits for the broker to report
	// an account locked after an order it did not place that only reduces
	// the position (then it is the broker's liquidation, not a trader's),
	// and the longest it holds its own kill's liquidation of the account
	// back while the broker's works (supervisor Options.BrokerLiqWindow).
	// Unset: 5 s; MinBrokerLiqWindow to MaxBrokerLiqWindow.
	BrokerLiqWindow time.Duration `toml:"broker_liq_window"`
}

// The bounds of [desk] broker_liq_window: a broker's late risk update must
// fit (Rithmic's 356 after the fills), and a kill is never held back long.
const (
	MinBrokerLiqWindow = time.Second
	MaxBrokerLiqWindow = 30 * time.Second
)

// DefaultTimeZone is New York's: the session calendar, RTH (09:30–16:00)
// and the desk's schedule are New York times, so a person reads them as
// the rules are written. America/Chicago (the exchange's) is the other
// usual choice.
const DefaultTimeZone = "America/New_York"

// Location is the desk's display zone (DefaultTimeZone when unset or not a
// zone; Validate refuses the latter).
func (d Desk) Location() *time.Location {
	name := d.TimeZone
	if name == "" {
		name = DefaultTimeZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc, _ = time.LoadLocation(DefaultTimeZone)
	}
	return loc
}

// DefaultSeed is the built-in desk's synthetic session. Seed 1's opening
// range breaks down at 10:00 on 1.16× the volume of the 15 minutes before
// (the ORB wants 1.5×) and never clears it again before 11:30, so its demo
// ORB account would never trade; seed 32's range breaks up at 10:10 on
// 1.76× with the stop (the range's mid) 32 ticks away, and all three
// engines trade (docs/strategies.md, issue 16). On real ES days a breakout
// the ORB may take happened on 5 of the 11 in ../shared/data/es-minute.
const DefaultSeed = 32

// DefaultLiveStaleDataKill is [desk] stale_data_kill when the file does
// not set it and the desk's data is live (LiveData: a real venue's or
// Rithmic's stream): a live feed that goes silent for 30 s of real time
// flattens the desk rather than leaving positions on data nobody sees
// (issue 25.7). MES trades several times a second in the regular session;
// set the key (or "0s") for a desk that trades quieter hours. A replay (the
// built-in venue, sim) keeps 0: its data is a file that ends, and a failed
// file takes the data link down on its own.
const DefaultLiveStaleDataKill = 30 * time.Second

// LiveData reports whether the desk's market data is a live stream: the
// broker is a venue that outlives the desk (tradovate, rithmic) or the data
// comes from Rithmic's ticker plant.
func (c *Config) LiveData() bool {
	return c.Broker.Kind == "tradovate" || c.Broker.Kind == "rithmic" || c.Data.Kind == "rithmic"
}

// MinStaleDataKill is the shortest stale_data_kill accepted: quiet gaps of
// a few hundred milliseconds between MES trades are normal.
const MinStaleDataKill = time.Second

// Data is the [data] table: where the desk's trades come from.
type Data struct {
	File   string  `toml:"file"`   // a data file (DBN, Lean zip, CSV); empty = synthetic session
	Symbol string  `toml:"symbol"` // contract month in a Lean zip; empty = front by volume
	Seed   int64   `toml:"seed"`   // synthetic session seed; default 1
	Regime string  `toml:"regime"` // trend, range, mixed (default)
	Pace   float64 `toml:"pace"`   // × real time; default 60; 0 = as fast as possible
	// Kind: "" (the broker's own market data; the file or synthetic
	// session for kind "sim") or "rithmic" (the Rithmic ticker plant of
	// [broker.rithmic], whatever the broker: execution elsewhere, data
	// with the real aggressor from Rithmic).
	Kind string `toml:"kind"`
}

// Broker is the [broker] table.
type Broker struct {
	// Kind: "venue" (default: start a local venue child and trade through
	// the Tradovate protocol), "sim" (in-process matching engine),
	// "tradovate" (a real Tradovate environment; see [broker.tradovate]) or
	// "rithmic" (R|Protocol: Rithmic, or `deskguard venue --protocol
	// rithmic`; see [broker.rithmic]).
	Kind string `toml:"kind"`
	// VenueURL, for kind "tradovate" pointed at an already running venue.
	URL string `toml:"url"`
}

// Account is one [[accounts]] entry.
type Account struct {
	ID          string          `toml:"id"`
	Owner       string          `toml:"owner"`
	StartEquity decimal.Decimal `toml:"start_equity"`
	FeesRT      decimal.Decimal `toml:"fees_rt"`
	Strategies  []string        `toml:"strategies"`
	DayTrading  *bool           `toml:"day_trading"` // default true: flattened at flat_by
	EnginesOff  bool            `toml:"engines_off"`
	Limits      limits.Config   `toml:"limits"` // overrides; zero = desk default
}

// Console is the [console] table plus its tokens.
type Console struct {
	console.Config
	Tokens []Token `toml:"tokens"`
}

// Token is one console/CLI token: a name for the journal, a role, and the
// token's SHA-256 (hash) or where to read the token (env, file).
type Token struct {
	Name string `toml:"name"`
	Role string `toml:"role"` // manager, viewer, trader:ACCOUNT
	Hash string `toml:"hash"` // hex sha256 of the token
	Env  string `toml:"env"`  // environment variable holding the token
	File string `toml:"file"` // file holding the token
}

// Extra holds the tables that other packages decode themselves.
type Extra struct {
	md        toml.MetaData
	tradovate toml.MetaData // [broker.tradovate] comes from a decode of its own
	rithmic   toml.MetaData // and so does [broker.rithmic]
	prim      map[string]toml.Primitive
}

// Decode decodes a table the config package does not own ("slack", "hw",
// "broker.tradovate") into v. A missing table leaves v unchanged.
func (c *Config) Decode(table string, v any) error {
	p, ok := c.Extra.prim[table]
	if !ok {
		return nil
	}
	md := c.Extra.md
	if table == "broker.tradovate" {
		md = c.Extra.tradovate
	}
	if table == "broker.rithmic" {
		md = c.Extra.rithmic
	}
	if err := md.PrimitiveDecode(p, v); err != nil {
		if m := decodeErr.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return &ConfigError{File: c.path, Line: line, Key: m[2], Msg: m[3]}
		}
		return c.errorf(table, "%v", err)
	}
	return nil
}

// ConfigError names the file, line and key at fault.
type ConfigError struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *ConfigError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Key != "" {
		return fmt.Sprintf("config: %s: %s: %s", loc, e.Key, e.Msg)
	}
	return fmt.Sprintf("config: %s: %s", loc, e.Msg)
}

// Default returns the built-in desk: three accounts, one per engine, on a
// synthetic session through a local venue.
func Default() *Config {
	c := &Config{
		Desk: Desk{Name: "deskguard", Journal: "deskguard.db", ControlSocket: "deskguard.sock", DrawdownPct: decimal.RequireFromString("1.5"),
			Workers: "process", LogLevel: "info", TimeZone: DefaultTimeZone, ExternalOrders: "adopt",
			BrokerLiqWindow: 5 * time.Second},
		Data:       Data{Seed: DefaultSeed, Regime: "mixed", Pace: 60},
		Broker:     Broker{Kind: "venue"},
		Limits:     limits.Config{}.WithDefaults(),
		Schedule:   supervisor.DefaultSchedule(),
		Strategies: strategies.DefaultConfig(),
		Console: Console{Config: console.Config{Listen: console.DefaultListen, StatusEvery: console.DefaultStatusEvery,
			SessionTTL: console.DefaultSessionTTL, ClientBuffer: console.DefaultClientBuffer, WriteTimeout: console.DefaultWriteTimeout,
			ReadTimeout: console.DefaultReadTimeout, LoginBurst: auth.DefaultLoginBurst, LoginBackoff: auth.DefaultLoginBackoff,
			LoginBackoffMax: auth.DefaultLoginBackoffMax}},
		path: "(built-in defaults)",
	}
	for _, a := range []struct{ id, owner, eng string }{{"ORB1", "trader-orb", "orb"}, {"VWAP1", "trader-vwap", "vwapmr"}, {"DELTA1", "trader-delta", "delta"}} {
		day := true
		c.Accounts = append(c.Accounts, Account{ID: a.id, Owner: a.owner, StartEquity: decimal.NewFromInt(50000),
			FeesRT: decimal.RequireFromString("1.20"), Strategies: []string{a.eng}, DayTrading: &day})
	}
	return c
}

// Load reads and validates a config file. Keys the file does not set keep
// their defaults; unknown keys are refused.
func Load(path string) (*Config, error) {
	b, err := readSmall(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, string(b))
}

// maxFile bounds a config or token file: a larger one is not a config.
const maxFile = 1 << 20

// readSmall reads a regular file of at most maxFile bytes. A directory, a
// FIFO (whose open would block) or a device such as /dev/zero (which never
// ends) is refused before it is opened.
func readSmall(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		what := "a device, FIFO or socket"
		if fi.IsDir() {
			what = "a directory"
		}
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, what)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxFile {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a config", path, maxFile)
	}
	return b, nil
}

// Parse is Load on text already read (path names it in errors).
func Parse(path, text string) (*Config, error) {
	c, err := ParseUnvalidated(path, text)
	if c == nil {
		return nil, err
	}
	if err := errors.Join(err, c.Validate()); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadUnvalidated is Load without Validate (see ParseUnvalidated).
func LoadUnvalidated(path string) (*Config, error) {
	b, err := readSmall(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseUnvalidated(path, string(b))
}

// ParseUnvalidated decodes text without Validate, for a caller that
// changes the config (run's flags) before validating it, or that reports
// every problem at once (config check). The config is nil only when the
// text cannot be decoded at all (a syntax or type error); the error holds
// the file's other problems: unknown keys, no [[accounts]] entry, a
// mistyped key in a table another package decodes.
func ParseUnvalidated(path, text string) (*Config, error) {
	c := Default()
	c.Accounts = nil
	c.path = path
	var raw struct {
		Config
		Slack toml.Primitive `toml:"slack"`
		HW    toml.Primitive `toml:"hw"`
	}
	raw.Config = *c
	md, err := toml.Decode(text, &raw)
	if err != nil {
		return nil, tomlError(path, err)
	}
	*c = raw.Config
	c.path = path
	c.Extra = Extra{md: md, prim: map[string]toml.Primitive{}}
	if !md.IsDefined("desk", "stale_data_kill") && c.LiveData() {
		c.Desk.StaleDataKill = DefaultLiveStaleDataKill
	}
	if md.IsDefined("slack") {
		c.Extra.prim["slack"] = raw.Slack
	}
	if md.IsDefined("hw") {
		c.Extra.prim["hw"] = raw.HW
	}
	// The tables other packages decode are decoded here too, into their
	// own types and thrown away, so that a misspelt or mistyped key in them
	// is refused now rather than silently ignored when the desk starts.
	var errs []error // every problem in the file, not only the first
	if err := c.Decode("slack", &alerts.Config{}); err != nil {
		errs = append(errs, err)
	}
	if err := c.Decode("hw", &hw.Config{}); err != nil {
		errs = append(errs, err)
	}
	var unknown []string
	for _, k := range md.Undecoded() {
		ks := k.String()
		if ks == "broker.tradovate" || strings.HasPrefix(ks, "broker.tradovate.") || ks == "broker.rithmic" || strings.HasPrefix(ks, "broker.rithmic.") {
			continue // checked below, on its own decode
		}
		unknown = append(unknown, ks)
	}
	if md.IsDefined("broker", "tradovate") {
		var p struct {
			Broker struct {
				Tradovate toml.Primitive `toml:"tradovate"`
			} `toml:"broker"`
		}
		md2, err := toml.Decode(text, &p)
		if err != nil {
			return nil, tomlError(path, err)
		}
		if err := md2.PrimitiveDecode(p.Broker.Tradovate, &tradovate.Config{}); err != nil {
			errs = append(errs, tomlError(path, err))
		}
		for _, k := range md2.Undecoded() {
			if ks := k.String(); strings.HasPrefix(ks, "broker.tradovate.") {
				unknown = append(unknown, ks)
			}
		}
		c.Extra.prim["broker.tradovate"] = p.Broker.Tradovate
		c.Extra.tradovate = md2
	}
	if md.IsDefined("broker", "rithmic") {
		var p struct {
			Broker struct {
				Rithmic toml.Primitive `toml:"rithmic"`
			} `toml:"broker"`
		}
		md3, err := toml.Decode(text, &p)
		if err != nil {
			return nil, tomlError(path, err)
		}
		if err := md3.PrimitiveDecode(p.Broker.Rithmic, &rithmic.Config{}); err != nil {
			errs = append(errs, tomlError(path, err))
		}
		for _, k := range md3.Undecoded() {
			if ks := k.String(); strings.HasPrefix(ks, "broker.rithmic.") {
				unknown = append(unknown, ks)
			}
		}
		c.Extra.prim["broker.rithmic"] = p.Broker.Rithmic
		c.Extra.rithmic = md3
	}
	for _, k := range unknown {
		errs = append(errs, &ConfigError{File: path, Line: lineOf(text, k), Key: k, Msg: "unknown key (see `deskguard config example`)"})
	}
	if len(c.Accounts) == 0 {
		errs = append(errs, &ConfigError{File: path, Key: "accounts", Msg: "at least one [[accounts]] entry is required"})
	}
	c.text = text
	return c, errors.Join(errs...)
}

// decodeErr matches BurntSushi/toml's type errors, which carry the line
// and key only in their text.
var decodeErr = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]+)"\): (.*)$`)

// tomlError turns a BurntSushi/toml error into a ConfigError with the
// file, and the line and key where the error names them.
func tomlError(path string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &ConfigError{File: path, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message}
	}
	if m := decodeErr.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &ConfigError{File: path, Line: line, Key: m[2], Msg: m[3]}
	}
	return &ConfigError{File: path, Msg: err.Error()}
}

// Path is where the config came from.
func (c *Config) Path() string { return c.path }

func (c *Config) errorf(key, format string, args ...any) error {
	return &ConfigError{File: c.path, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks the config as the desk will run it, and returns every
// problem found (joined ConfigErrors), not only the first. Parse calls it;
// `deskguard run` calls it again after its flags (--pace, --console, ...)
// have changed the config, so that `config check` and `run` refuse the
// same things.
func (c *Config) Validate() error { return c.validate(c.text) }

func (c *Config) validate(text string) error {
	var errs []error
	at := func(key, format string, args ...any) {
		leaf := key[strings.LastIndex(key, ".")+1:]
		errs = append(errs, &ConfigError{File: c.path, Line: lineOf(text, leaf), Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	switch c.Desk.Workers {
	case "", "process", "in-process":
	default:
		at("desk.workers", "want \"process\" or \"in-process\", got %q", c.Desk.Workers)
	}
	switch c.Desk.ExternalOrders {
	case "", "adopt", "fault":
	default:
		at("desk.external_orders", "want \"adopt\" or \"fault\", got %q", c.Desk.ExternalOrders)
	}
	switch c.Desk.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		at("desk.log_level", "want debug, info, warn or error, got %q", c.Desk.LogLevel)
	}
	if c.Desk.DrawdownPct.IsNegative() || c.Desk.DrawdownPct.GreaterThanOrEqual(decimal.NewFromInt(100)) {
		at("desk.drawdown_pct", "must be in [0, 100)")
	}
	if tz := c.Desk.TimeZone; tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
			at("desk.time_zone", "%q: want an IANA zone such as America/New_York or America/Chicago", tz)
		}
	}
	if d := c.Desk.BrokerLiqWindow; d != 0 && (d < MinBrokerLiqWindow || d > MaxBrokerLiqWindow) {
		at("desk.broker_liq_window", "%s: want %s to %s, as a duration string such as \"5s\" (unset: 5s)", d, MinBrokerLiqWindow, MaxBrokerLiqWindow)
	}
	if d := c.Desk.StaleDataKill; d < 0 || d > 0 && d < MinStaleDataKill {
		at("desk.stale_data_kill", "%s: want 0 (off) or at least %s, as a duration string such as \"10s\"", d, MinStaleDataKill)
	}
	switch c.Data.Regime {
	case "", "trend", "range", "mixed":
	default:
		at("data.regime", "want trend, range or mixed, got %q", c.Data.Regime)
	}
	if p := c.Data.Pace; p < 0 || math.IsNaN(p) || math.IsInf(p, 0) {
		at("data.pace", "%v: must be a finite number ≥ 0 (0 = as fast as possible)", p)
	}
	if c.Data.File != "" {
		if _, err := os.Stat(c.Data.File); err != nil {
			at("data.file", "%v", err)
		}
	}
	switch c.Broker.Kind {
	case "venue", "sim", "tradovate", "rithmic":
	default:
		at("broker.kind", "want venue, sim, tradovate or rithmic, got %q", c.Broker.Kind)
	}
	switch c.Data.Kind {
	case "", "rithmic":
	default:
		at("data.kind", "want \"\" (the broker's data) or rithmic, got %q", c.Data.Kind)
	}
	if err := c.Limits.WithDefaults().Validate(); err != nil {
		at("limits", "%v", err)
	}
	if err := c.validateRisk(text); err != nil {
		errs = append(errs, err)
	}
	if _, err := supervisor.NewSchedule(c.Schedule); err != nil {
		at("schedule", "%v", err)
	}
	if err := c.Strategies.Validate(); err != nil {
		at("strategies", "%v", err)
	}
	seen := map[string]bool{}
	for i, a := range c.Accounts {
		key := fmt.Sprintf("accounts[%d]", i)
		if a.ID == "" {
			at(key+".id", "required")
		} else if seen[a.ID] {
			at(key+".id", "account %q listed twice", a.ID)
		}
		seen[a.ID] = true
		if err := a.AccountsConfig().WithDefaults().Validate(); err != nil {
			at(key, "%v", err)
		} else if err := a.AccountsConfig().GateConfig(c.Limits).Validate(); err != nil {
			// Its limits as the desk will run them: the account's overrides
			// over the desk's (the supervisor refuses to start otherwise).
			at(key+".limits", "%v", err)
		}
		if len(a.Strategies) == 0 {
			at(key+".strategies", "name at least one of orb, vwapmr, delta")
		} else if _, err := c.Strategies.Engines(a.Strategies...); err != nil {
			at(key+".strategies", "%v", err)
		}
	}
	if c.Console.Listen != "off" {
		// What console.New refuses at run: a non-loopback bind without TLS,
		// half a TLS pair, a certificate that does not load.
		if err := c.Console.Config.Validate(); err != nil {
			at("console", "%v", err)
		}
	}
	c.validateFirm(at)    // firm.go
	c.validateMetrics(at) // metrics.go
	for i, t := range c.Console.Tokens {
		key := fmt.Sprintf("console.tokens[%d]", i)
		if r, err := auth.ParseRole(t.Role); err != nil {
			at(key+".role", "%v", err)
		} else if r.Kind == "trader" && !seen[r.Account] {
			at(key+".role", "%q: no [[accounts]] entry has id %q", t.Role, r.Account)
		}
		n := 0
		for _, s := range []string{t.Hash, t.Env, t.File} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			at(key, "give exactly one of hash, env or file")
		}
	}
	return errors.Join(errs...)
}

// AccountsConfig converts an [[accounts]] entry.
func (a Account) AccountsConfig() accounts.Config {
	return accounts.Config{ID: a.ID, Owner: a.Owner, StartEquity: a.StartEquity, FeesRT: a.FeesRT, Strategies: a.Strategies, Limits: a.Limits}
}

// Specs returns the supervisor's account specs.
func (c *Config) Specs() []supervisor.AccountSpec {
	var out []supervisor.AccountSpec
	for _, a := range c.Accounts {
		day := true
		if a.DayTrading != nil {
			day = *a.DayTrading
		}
		out = append(out, supervisor.AccountSpec{Config: a.AccountsConfig(), DayTrading: day, EnginesOff: a.EnginesOff})
	}
	return out
}

// LoadTokens reads the console/CLI tokens (from env or files, or their
// hashes) into an auth.Tokens. It refuses the same token given twice (under
// any names or roles). Errors name the token, never its value; every
// problem is reported (joined), not only the first.
func (c *Config) LoadTokens() (*auth.Tokens, error) {
	ts := &auth.Tokens{}
	var errs []error
	for i, t := range c.Console.Tokens {
		role, _ := auth.ParseRole(t.Role)
		key := fmt.Sprintf("console.tokens[%d]", i)
		hash := ""
		switch {
		case t.Hash != "":
			hash, key = strings.ToLower(t.Hash), key+".hash"
		case t.Env != "":
			key += ".env"
			v := strings.TrimSpace(os.Getenv(t.Env))
			if v == "" {
				errs = append(errs, c.errorf(key, "environment variable %s is empty", t.Env))
				continue
			}
			hash = auth.Hash(v)
		case t.File != "":
			key += ".file"
			b, err := readSmall(filepath.Clean(t.File))
			if err != nil {
				errs = append(errs, c.errorf(key, "%v", err))
				continue
			}
			v := strings.TrimSpace(string(b))
			if v == "" {
				errs = append(errs, c.errorf(key, "file %s is empty", t.File))
				continue
			}
			hash = auth.Hash(v)
		default:
			continue // refused by Validate
		}
		if err := ts.Add(t.Name, hash, role); err != nil {
			errs = append(errs, c.errorf(key, "%v", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return ts, nil
}

// lineOf finds the first line that sets key (for errors on values the TOML
// decoder accepted but the desk does not).
func lineOf(text, key string) int {
	leaf := key
	if i := strings.LastIndex(leaf, "."); i >= 0 {
		leaf = leaf[i+1:]
	}
	if i := strings.Index(leaf, "["); i >= 0 {
		leaf = leaf[:i]
	}
	for i, line := range strings.Split(text, "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, leaf) {
			rest := strings.TrimSpace(strings.TrimPrefix(l, leaf))
			if strings.HasPrefix(rest, "=") {
				return i + 1
			}
		}
		if l == "["+key+"]" || l == "[["+key+"]]" {
			return i + 1
		}
	}
	return 0
}
