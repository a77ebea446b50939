package deskapi

// zone.go: the desk's display zone on its Status, for the surfaces that
// show times to a person (console, CLI, Slack status).

import (
	"context"
	"time"
)

// WithZone returns d whose Status names zone (an IANA name) as the zone
// its times are to be read in, unless the desk names one itself.
func WithZone(d Desk, zone string) Desk { return zoned{d, zone} }

type zoned struct {
	Desk
	zone string
}

func (z zoned) Status(ctx context.Context) Status {
	st := z.Desk.Status(ctx)
	if st.Zone == "" {
		st.Zone = z.zone
	}
	return st
}

// Local formats an RFC 3339 time of the API as a person reads it in zone
// (layout as time.Format's; the zone's abbreviation is the caller's to add
// with "MST" in the layout). A time or zone that does not parse is
// returned as it is.
func Local(rfc3339, zone, layout string) string {
	t, err := time.Parse(time.RFC3339Nano, rfc3339)
	if err != nil {
		return rfc3339
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return rfc3339
	}
	return t.In(loc).Format(layout)
}

// FlattenAnswered passes the desk's answered flatten through the zone
// wrapper (without it the control socket would fall back to Flatten and
// wait on a stalled venue).
func (z zoned) FlattenAnswered(ctx context.Context, account, trigger, who string) (FlattenAnswer, error) {
	if ad, ok := z.Desk.(AnsweringDesk); ok {
		return ad.FlattenAnswered(ctx, account, trigger, who)
	}
	return FlattenAnswer{}, z.Desk.Flatten(ctx, account, trigger, who)
}
