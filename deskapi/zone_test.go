package deskapi

import (
	"context"
	"testing"
	_ "time/tzdata"
)

type stubDesk struct {
	Desk
	zone string
}

func (s stubDesk) Status(context.Context) Status {
	return Status{Zone: s.zone, Time: "2024-03-12T14:30:00Z"}
}

func TestWithZone(t *testing.T) {
	if z := WithZone(stubDesk{}, "America/Chicago").Status(context.Background()).Zone; z != "America/Chicago" {
		t.Errorf("zone %q", z)
	}
	if z := WithZone(stubDesk{zone: "UTC"}, "America/Chicago").Status(context.Background()).Zone; z != "UTC" {
		t.Errorf("the desk's own zone was replaced: %q", z)
	}
}

func TestLocal(t *testing.T) {
	cases := []struct{ in, zone, want string }{
		{"2024-03-12T14:30:00Z", "America/New_York", "10:30:00 EDT"}, // after the March DST change
		{"2024-03-08T14:30:00Z", "America/New_York", "09:30:00 EST"},
		{"2024-03-12T14:30:00Z", "America/Chicago", "09:30:00 CDT"},
		{"not a time", "America/Chicago", "not a time"},
		{"2024-03-12T14:30:00Z", "Nowhere/Else", "2024-03-12T14:30:00Z"},
	}
	for _, c := range cases {
		if got := Local(c.in, c.zone, "15:04:05 MST"); got != c.want {
			t.Errorf("Local(%s, %s) = %q, want %q", c.in, c.zone, got, c.want)
		}
	}
}
