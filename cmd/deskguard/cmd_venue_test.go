package main

// cmd_venue_test.go: `deskguard venue`'s --faults and --carried flags.

import (
	"testing"

	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/market"
)

func TestVenueFaultFlags(t *testing.T) {
	cases := []struct {
		in   string
		want venue.Faults
		bad  bool
	}{
		{in: "realistic", want: venue.Realistic()},
		{in: "none", want: venue.Faults{}},
		{in: "list-cap=3,empty-clordid,late-commands", want: venue.Faults{ListCap: 3, EmptyClOrdID: true, LateCommands: true}},
		{in: "realistic,empty-clordid", want: func() venue.Faults { f := venue.Realistic(); f.EmptyClOrdID = true; return f }()},
		{in: "list-cap=x", bad: true},
		{in: "bust-everything", bad: true},
	}
	for _, c := range cases {
		got, err := parseFaults(c.in)
		if (err != nil) != c.bad || !c.bad && got != c.want {
			t.Errorf("%q: %+v, %v; want %+v (error %v)", c.in, got, err, c.want, c.bad)
		}
	}
	cm, err := parseCarried("A=2@5000.25,B=-1@4999.00")
	if err != nil || cm["A"] != (venue.Carry{Qty: 2, Price: market.MustPrice("5000.25")}) || cm["B"].Qty != -1 {
		t.Fatalf("carried %+v, %v", cm, err)
	}
	for _, bad := range []string{"A=2", "A=0@5000", "=1@5000", "A=1@50.1"} {
		if _, err := parseCarried(bad); err == nil {
			t.Errorf("--carried %q accepted", bad)
		}
	}
}
