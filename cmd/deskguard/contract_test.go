package main

// contract_test.go: the default contract is the front MES month of the
// session: the synthetic session's (2024-03-12: MESH4, its expiry on the
// 15th still ahead), a real data file's (the file's own month), and for a
// live environment the month of the day, rolled by the calendar.

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
	if err != nil || got.String() != "MESH4" {
		t.Fatalf("synthetic session: %v %v, want MESH4", got, err)
	}
	ny := market.NewYork
	live := config.Default()
	live.Broker.Kind = "tradovate"
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		{time.Date(2025, 12, 18, 12, 0, 0, 0, ny), "MESZ5"},
		{time.Date(2025, 12, 19, 12, 0, 0, 0, ny), "MESH6"}, // after the Z5 expiry at 09:30 on the third Friday
		{time.Date(2026, 3, 2, 12, 0, 0, 0, ny), "MESH6"},
		{time.Date(2026, 3, 20, 9, 29, 0, 0, ny), "MESH6"},
		{time.Date(2026, 3, 20, 9, 31, 0, 0, ny), "MESM6"},
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
