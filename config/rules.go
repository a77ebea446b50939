// rules.go: the [risk] table, the desk-wide settings of the risk rules
// (the per-account ones are keys of [limits] and [accounts.limits]): the
// news calendar file and the desk-level ladder. A calendar file that does
// not parse refuses the whole config, naming the calendar's own file and
// line. Reads the calendar file; nothing else.

package config

import (
	"errors"
	"fmt"

	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/limits/calendar"
)

// Risk is the [risk] table.
type Risk struct {
	// Calendar is the news calendar (.ics or .csv, see docs/risk.md);
	// empty = no scheduled releases, so no news blackouts.
	Calendar string `toml:"calendar" json:"calendar"`
	// The desk-level ladder over the sum of the accounts' allowances, in
	// whole percent used; 0 = the [limits] warn_pct / reduce_only_pct.
	DeskWarnPct       int `toml:"desk_warn_pct" json:"desk_warn_pct"`
	DeskReduceOnlyPct int `toml:"desk_reduce_only_pct" json:"desk_reduce_only_pct"`

	news *limits.Calendar // loaded by validate
}

// DeskLadder is the desk's warning and reduce-only rungs (whole percent of
// the desk's allowance used), defaults resolved.
func (c *Config) DeskLadder() (warnPct, reduceOnlyPct int) {
	l := c.Limits.WithDefaults()
	warnPct, reduceOnlyPct = c.Risk.DeskWarnPct, c.Risk.DeskReduceOnlyPct
	if warnPct == 0 {
		warnPct = l.WarnPct
	}
	if reduceOnlyPct == 0 {
		reduceOnlyPct = l.ReduceOnlyPct
	}
	return warnPct, reduceOnlyPct
}

// NewsCalendar is the desk's news calendar for the gates
// (limits.Gate.WithCalendar) and the blackout monitors; nil when [risk]
// names none.
func (c *Config) NewsCalendar() (*limits.Calendar, error) {
	if c.Risk.Calendar == "" {
		return nil, nil
	}
	if c.Risk.news == nil {
		cal, err := calendar.LoadCalendar(c.Risk.Calendar)
		if err != nil {
			return nil, err
		}
		c.Risk.news = cal
	}
	return c.Risk.news, nil
}

// validateRisk checks [risk]: the ladder's rungs and the calendar file
// (read now, so a bad one refuses the config before anything starts).
func (c *Config) validateRisk(text string) error {
	at := func(key, format string, args ...any) error {
		return &ConfigError{File: c.path, Line: lineOf(text, key), Key: "risk." + key, Msg: fmt.Sprintf(format, args...)}
	}
	var errs []error
	w, r := c.DeskLadder()
	if c.Risk.DeskWarnPct < 0 || c.Risk.DeskReduceOnlyPct < 0 || w > 100 || r > 100 || w > r {
		errs = append(errs, at("desk_warn_pct", "desk ladder %d%% / %d%%: want 0 < warn ≤ reduce-only ≤ 100 (0 = the [limits] value)", w, r))
	}
	c.Risk.news = nil
	if _, err := c.NewsCalendar(); err != nil {
		errs = append(errs, at("calendar", "%v", err))
	}
	return errors.Join(errs...)
}
