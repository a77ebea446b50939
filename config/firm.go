// firm.go: the [firm] table — a desk's link to the firm layer (issue 19):
// where the firm's NATS servers are, the desk's name on the firm's stream,
// the NATS credentials (files, never inline), the firm's command key (an
// ed25519 public key file: commands signed by anything else are refused),
// and what a desk does when the firm link is lost (by default nothing: it
// trades on; reduce_only_after turns on the reduce-only gate). The firm
// aggregator's own settings are `deskguard firm` flags.

package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/deskguard/deskguard/firm/wire"
)

// Firm is the [firm] table. With URL empty (and no `run --firm`) the desk
// has no firm link.
type Firm struct {
	URL             string        `toml:"url"`               // NATS URL(s), comma-separated; "" = no firm link
	Desk            string        `toml:"desk"`              // the desk's name on the stream; default [desk] name
	CredsFile       string        `toml:"creds_file"`        // NATS credentials file (user JWT + nkey seed)
	TokenFile       string        `toml:"token_file"`        // file holding a NATS token
	CommandKey      string        `toml:"command_key"`       // the firm's ed25519 public key file
	CommandMaxAge   time.Duration `toml:"command_max_age"`   // older (or further ahead) firm commands are refused; default 30s
	FirmTimeout     time.Duration `toml:"firm_timeout"`      // no firm heartbeat this long: the link is down; default 5s
	ReduceOnlyAfter time.Duration `toml:"reduce_only_after"` // link down this much longer: reduce-only; 0 = never
	Stream          string        `toml:"stream"`            // JetStream stream; default DESKGUARD_JOURNAL
	Replicas        int           `toml:"replicas"`          // replicas when the desk creates the stream; default 1
	CursorFile      string        `toml:"cursor_file"`       // outbox cursor; default the journal + ".outbox"
}

// FirmDesk is the desk's name on the firm's stream.
func (c *Config) FirmDesk() string {
	if c.Firm.Desk != "" {
		return c.Firm.Desk
	}
	return c.Desk.Name
}

// validateFirm reports each [firm] problem through at (validate's).
func (c *Config) validateFirm(at func(key, format string, args ...any)) {
	f := c.Firm
	if f.URL == "" {
		return
	}
	for _, u := range strings.Split(f.URL, ",") {
		u = strings.TrimSpace(u)
		if !strings.HasPrefix(u, "nats://") && !strings.HasPrefix(u, "tls://") {
			at("firm.url", "%q: want nats://HOST:PORT or tls://HOST:PORT", u)
		}
	}
	if !wire.ValidDesk(c.FirmDesk()) {
		at("firm.desk", "%q: a desk name on the firm stream is 1-64 of A-Z a-z 0-9 - _ (set firm.desk)", c.FirmDesk())
	}
	if f.CredsFile != "" && f.TokenFile != "" {
		at("firm.creds_file", "give creds_file or token_file, not both")
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"command_max_age", f.CommandMaxAge}, {"firm_timeout", f.FirmTimeout}, {"reduce_only_after", f.ReduceOnlyAfter}} {
		if d.v < 0 {
			at("firm."+d.key, "%s: must not be negative", d.v)
		}
	}
	if f.Replicas < 0 || f.Replicas > 5 {
		at("firm.replicas", "%d: want 1 to 5", f.Replicas)
	}
}

// FirmError is a [firm] problem found after loading (run --firm).
func FirmError(key, format string, args ...any) error {
	return &ConfigError{Key: "firm." + key, Msg: fmt.Sprintf(format, args...)}
}
