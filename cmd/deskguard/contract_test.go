package main

// contract_test.go: the default contract is the front MES month of the
// session: the synthetic session's (2024-03-12: MESM4, H4's roll on the
// 7th past though H4 expires on the 15th), a real data file's (the file's own month), and for a
// live environment the month of the wall clock's session, rolled on the CME
// roll date (eight days before the expiry), not at the expiry.

import (
	"testing"
	"time"

	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/internal/shareddata"
	"github.com/deskguard/deskguard/market"
)

func TestDeskContract(t *testing.T) {
	c := config.Default()
	got, err := deskContract(c, time.Now())
	if err != nil || got.String() != "MESM4" {
		t.Fatalf("synthetic session: %v %v, want MESM4", got, err)
	}
	ny := market.NewYork
	live := config.Default()
	live.Broker.Kind = "tradovate"
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		{time.Date(2025, 12, 10, 12, 0, 0, 0, ny), "MESZ5"},
		{time.Date(2025, 12, 10, 18, 1, 0, 0, ny), "MESH6"}, // Wednesday evening: the session of Thursday the 11th, the Z5 roll date
		{time.Date(2025, 12, 11, 12, 0, 0, 0, ny), "MESH6"},
		{time.Date(2025, 12, 19, 9, 0, 0, 0, ny), "MESH6"}, // Z5 expiry morning: Z5 still trades, H6 is the front
		{time.Date(2025, 12, 31, 12, 0, 0, 0, ny), "MESH6"},
		{time.Date(2026, 3, 2, 12, 0, 0, 0, ny), "MESH6"},
		{time.Date(2026, 3, 11, 16, 59, 0, 0, ny), "MESH6"},
		{time.Date(2026, 3, 12, 9, 31, 0, 0, ny), "MESM6"},
		{time.Date(2026, 6, 10, 12, 0, 0, 0, ny), "MESM6"},
		{time.Date(2026, 6, 11, 12, 0, 0, 0, ny), "MESU6"},
		{time.Date(2026, 9, 9, 12, 0, 0, 0, ny), "MESU6"},
		{time.Date(2026, 9, 10, 12, 0, 0, 0, ny), "MESZ6"},
	} {
		if got, err := deskContract(live, tc.now); err != nil || got.String() != tc.want {
			t.Errorf("live on %v: %v %v, want %s", tc.now, got, err, tc.want)
		}
	}
	f := config.Default()
	f.Data.File = shareddata.File(t, "es-minute/20131008_trade.zip")
	if got, err := deskContract(f, time.Now()); err != nil || got.String() != "MESZ3" {
		t.Errorf("data file of 2013-10-08 (ESZ3 front by volume): %v %v, want MESZ3", got, err)
	}
}
