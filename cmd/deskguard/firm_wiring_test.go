package main

// firm_wiring_test.go: the firm link's state as the desk's Status shows it.

import (
	"testing"
	"time"

	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/outbox"
)

type fakeLink struct {
	up     bool
	since  time.Time
	reduce bool
}

func (f fakeLink) FirmLink() (bool, time.Time) { return f.up, f.since }
func (f fakeLink) ReduceOnly() bool            { return f.reduce }

func TestFirmStatus(t *testing.T) {
	since := time.Date(2026, 12, 7, 14, 30, 0, 0, time.FixedZone("EST", -5*3600))
	got := firmStatus(outbox.Status{Desk: "east", Committed: 90, Published: 80, Lag: 10, Error: "boom", DownSince: "2026-12-07T19:30:01Z"},
		fakeLink{since: since, reduce: true})
	want := deskapi.FirmLink{Desk: "east", DownSince: "2026-12-07T19:30:00Z", ReduceOnly: true, Committed: 90, Published: 80, Lag: 10,
		OutboxError: "boom", OutboxSince: "2026-12-07T19:30:01Z"}
	if *got != want {
		t.Fatalf("got %+v\nwant %+v", *got, want)
	}
	got = firmStatus(outbox.Status{Desk: "east", Up: true}, fakeLink{up: true, since: since})
	if !got.Up || !got.OutboxUp || got.DownSince != "" || got.ReduceOnly {
		t.Fatalf("an up link: %+v", *got)
	}
	var none *firmLink
	if none.Status() != nil {
		t.Fatal("a desk without a firm link has a firm status")
	}
}
