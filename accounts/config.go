// config.go: one sub-account's configuration.

package accounts

import (
	"errors"
	"fmt"
	"slices"

	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/shopspring/decimal"
)

// Config is one trader sub-account.
type Config struct {
	ID          string          `toml:"id" json:"id"`
	Owner       string          `toml:"owner" json:"owner"`
	StartEquity decimal.Decimal `toml:"start_equity" json:"start_equity"` // whole cents
	FeesRT      decimal.Decimal `toml:"fees_rt" json:"fees_rt"`           // per contract per round turn, whole cents; zero = $1.20
	Strategies  []string        `toml:"strategies" json:"strategies"`     // enabled strategy names
	Limits      limits.Config   `toml:"limits" json:"limits"`             // overrides; zero fields = the desk's / defaults
}

// ErrConfig is wrapped by every Validate error.
var ErrConfig = errors.New("accounts: bad config")

// WithDefaults fills FeesRT with the MES default.
func (c Config) WithDefaults() Config {
	if c.FeesRT.IsZero() {
		c.FeesRT = market.MES().FeesRT
	}
	return c
}

// Validate checks the config after defaults.
func (c Config) Validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("%w: account without an id", ErrConfig)
	case c.StartEquity.Sign() <= 0:
		return fmt.Errorf("%w: account %s: start_equity %s: want > 0", ErrConfig, c.ID, c.StartEquity)
	case !wholeCents(c.StartEquity):
		return fmt.Errorf("%w: account %s: start_equity %s: want whole cents", ErrConfig, c.ID, c.StartEquity)
	case c.FeesRT.Sign() < 0 || !wholeCents(c.FeesRT):
		return fmt.Errorf("%w: account %s: fees_rt %s: want ≥ 0 in whole cents", ErrConfig, c.ID, c.FeesRT)
	}
	seen := map[string]bool{}
	for _, s := range c.Strategies {
		if s == "" || seen[s] {
			return fmt.Errorf("%w: account %s: strategy %q empty or listed twice", ErrConfig, c.ID, s)
		}
		seen[s] = true
	}
	return nil
}

// Enabled reports whether the account runs strategy name.
func (c Config) Enabled(name string) bool { return slices.Contains(c.Strategies, name) }

// GateConfig returns the account's effective limits: desk over defaults,
// the account's overrides over those.
func (c Config) GateConfig(desk limits.Config) limits.Config {
	return desk.Merge(c.Limits).WithDefaults()
}

func wholeCents(d decimal.Decimal) bool { return d.Shift(2).IsInteger() }

// Cents converts a whole-cent amount to int64 cents.
func Cents(d decimal.Decimal) int64 { return d.Shift(2).Round(0).IntPart() }

// Money converts cents to dollars.
func Money(cents int64) decimal.Decimal { return decimal.New(cents, -2) }
