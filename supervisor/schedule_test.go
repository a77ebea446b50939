package supervisor

import (
	"testing"
	"time"

	"github.com/deskguard/deskguard/market"
)

func et(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, market.NewYork)
	if err != nil {
		panic(err)
	}
	return t
}

func TestScheduleFiresOnDataTime(t *testing.T) {
	s, err := NewSchedule(ScheduleConfig{})
	if err != nil {
		t.Fatal(err)
	}
	s.Start(et("2024-03-12 09:30:00"))
	var got []string
	for _, ts := range []string{"2024-03-12 15:44:59", "2024-03-12 15:45:00", "2024-03-12 15:54:59",
		"2024-03-12 15:55:00", "2024-03-12 16:05:01", "2024-03-12 17:59:59", "2024-03-12 18:00:00"} {
		for _, d := range s.Advance(et(ts)) {
			got = append(got, d.Job+"@"+d.At.In(market.NewYork).Format("15:04"))
		}
	}
	want := []string{"no_new_entries@15:45", "flatten_day_accounts@15:55", "daily_summary@16:05", "session_reset@18:00"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestScheduleAcrossDST(t *testing.T) {
	s, _ := NewSchedule(ScheduleConfig{})
	// 2024-03-10 is the spring-forward Sunday; Monday's 15:55 ET is 19:55 UTC.
	s.Start(et("2024-03-08 17:00:00"))
	var flat []time.Time
	for _, d := range s.Advance(et("2024-03-11 23:00:00")) {
		if d.Job == JobFlattenDay {
			flat = append(flat, d.At)
		}
	}
	if len(flat) != 1 || flat[0].UTC().Format("15:04") != "19:55" {
		t.Fatalf("flatten times %v", flat)
	}
}

func TestScheduleBadSpec(t *testing.T) {
	if _, err := NewSchedule(ScheduleConfig{FlattenDay: "99 99 * * *"}); err == nil {
		t.Fatal("bad spec accepted")
	}
	s, err := NewSchedule(ScheduleConfig{DailySummary: "off"})
	if err != nil || len(s.jobs) != 3 {
		t.Fatalf("off: %v %d", err, len(s.jobs))
	}
}
