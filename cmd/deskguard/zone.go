package main

// zone.go: the zone a command shows times in (issue 19: one zone
// everywhere a person reads a time, the desk's [desk] time_zone, labelled;
// the journal keeps UTC). report and signals take --zone (wins) and
// --config FILE (its [desk] time_zone); report also reads the zone the
// desk journaled in its effective-config record at start. Read-only: it
// loads a config file and nothing else.

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/journal"
)

// displayZone resolves the zone to show times in: --zone when given, else
// --config's [desk] time_zone, else journaled (the zone a journal's desk
// recorded; "" = none), else config.DefaultTimeZone.
func displayZone(zoneFlag, configPath, journaled string) (*time.Location, error) {
	name, from := zoneFlag, "--zone"
	switch {
	case zoneFlag != "":
	case configPath != "":
		c, err := config.Load(configPath)
		if err != nil {
			return nil, err
		}
		return c.Desk.Location(), nil
	case journaled != "":
		name, from = journaled, "the journal's config record"
	default:
		name, from = config.DefaultTimeZone, "the default"
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, fmt.Errorf("%s %q: want an IANA zone such as America/New_York or America/Chicago", from, name)
	}
	return loc, nil
}

// zoneLabel names loc as the console does: the abbreviation in force at t
// and the zone's name, e.g. "EST, America/New_York".
func zoneLabel(loc *time.Location, t time.Time) string {
	return t.In(loc).Format("MST") + ", " + loc.String()
}

// journaledZone is the time_zone of the effective-config summary in a
// config_change record (key "config"), "" when r is not one or the summary
// predates the field.
func journaledZone(r journal.Record) string {
	if r.Kind != journal.KindConfigChange {
		return ""
	}
	cc, err := r.ConfigChange()
	if err != nil || cc.Key != "config" || len(cc.Effective) == 0 {
		return ""
	}
	var sum struct {
		TimeZone string `json:"time_zone"`
	}
	if json.Unmarshal(cc.Effective, &sum) != nil {
		return ""
	}
	return sum.TimeZone
}
