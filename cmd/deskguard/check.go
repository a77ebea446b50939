package main

// check.go: checkConfig, the one check of a config that both `deskguard
// config check FILE` and `deskguard run` make before anything starts, so
// that what check passes, run starts (issue 25 item 9). It reports every
// problem it finds, joined, not only the first: the config's own rules
// (config.Validate: pace, console bind and TLS, accounts, limits, token
// entries), the tokens themselves (readable, not the same token twice), the
// [slack] secrets, the [hw] table, the [broker.tradovate] table and its
// credentials when the broker is Tradovate, the journal path's link rule and
// the data file. It opens nothing it would have to close on a live desk: no
// journal, no socket, no listener, no GPIO, no connection.

import (
	"errors"
	"fmt"

	"github.com/deskguard/deskguard/alerts"
	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/broker/tradovate"
	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/market"
)

// loadChecked loads the config at path ("" = the built-in desk), lets
// override change it (run's flags; nil for config check), and checks it
// with checkConfig: the one path both commands take. The error holds every
// problem, the file's (unknown keys, …) and checkConfig's, each once. The
// config is nil only when the file cannot be read or decoded at all.
func loadChecked(path string, override func(*config.Config), followLink bool) (*config.Config, *checked, error) {
	c, ferr := config.Default(), error(nil)
	if path != "" {
		c, ferr = config.LoadUnvalidated(path)
		if c == nil {
			return nil, nil, ferr
		}
	}
	if override != nil {
		override(c)
	}
	ck, cerr := checkConfig(c, followLink)
	if err := joinUnique(ferr, cerr); err != nil {
		return c, nil, err
	}
	return c, ck, nil
}

// joinUnique joins errs (each possibly a join itself), dropping repeats of
// the same message.
func joinUnique(errs ...error) error {
	var out []error
	seen := map[string]bool{}
	var add func(err error)
	add = func(err error) {
		if err == nil {
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				add(e)
			}
			return
		}
		if !seen[err.Error()] {
			seen[err.Error()] = true
			out = append(out, err)
		}
	}
	for _, e := range errs {
		add(e)
	}
	return errors.Join(out...)
}

// checked is what run takes from a config that passed checkConfig.
type checked struct {
	tokens       *auth.Tokens
	slack        alerts.Config
	metricsToken string // [metrics] token_env / token_file ("" = none)
}

// checkConfig checks c as `run` would run it; followLink is run's
// --journal-follow-symlink (config check has none: false).
func checkConfig(c *config.Config, followLink bool) (*checked, error) {
	var errs []error
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	out := &checked{}
	ts, err := c.LoadTokens()
	if err != nil {
		errs = append(errs, err)
	}
	out.tokens = ts
	if out.metricsToken, err = c.MetricsToken(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Decode("slack", &out.slack); err != nil {
		errs = append(errs, err)
	} else if err := out.slack.LoadSecrets(); err != nil {
		errs = append(errs, err)
	}
	hwc := config.DefaultHW()
	if err := c.Decode("hw", &hwc); err != nil {
		errs = append(errs, err)
	} else if err := hwc.WithDefaults().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("config: %s: hw: %w", c.Path(), err))
	}
	if c.Broker.Kind == "tradovate" {
		var tc tradovate.Config
		if err := c.Decode("broker.tradovate", &tc); err != nil {
			errs = append(errs, err)
		} else {
			if tc.BaseURL == "" && c.Broker.URL == "" {
				errs = append(errs, fmt.Errorf("config: %s: broker kind \"tradovate\" needs [broker.tradovate] base_url (or broker.url)", c.Path()))
			}
			if _, err := tradovate.LoadCredentials(tc, nil); err != nil {
				errs = append(errs, fmt.Errorf("config: %s: broker.tradovate: %w", c.Path(), err))
			}
		}
	}
	if err := checkJournalPath(c.Desk.Journal, c.Desk.JournalFollowSymlink || followLink); err != nil {
		errs = append(errs, fmt.Errorf("config: %s: desk.journal: %w", c.Path(), err))
	}
	if c.Data.File != "" {
		if f, err := market.Open(c.Data.File, market.OpenOptions{Symbol: c.Data.Symbol}); err != nil {
			errs = append(errs, fmt.Errorf("config: %s: data.file: %w", c.Path(), err))
		} else {
			f.Close()
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
