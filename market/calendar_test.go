// Tests of the New York session calendar: which session a time belongs to,
// RTH, Globex hours with the daily halt, and both 2024 DST changes.

package market

import (
	"testing"
	"time"
)

func ny(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, NewYork)
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestSessionOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    time.Time
		want string
	}{
		{"RTH", ny(2024, 3, 12, 10, 0, 0), "2024-03-12"},
		{"overnight before the open", ny(2024, 3, 12, 0, 30, 0), "2024-03-12"},
		{"last minute before the halt", ny(2024, 3, 12, 16, 59, 59), "2024-03-12"},
		{"halt hour belongs to the ended session", ny(2024, 3, 12, 17, 30, 0), "2024-03-12"},
		{"17:59:59 still in the halt", ny(2024, 3, 12, 17, 59, 59), "2024-03-12"},
		{"18:00 belongs to the next day", ny(2024, 3, 12, 18, 0, 0), "2024-03-13"},
		{"23:59 next day", ny(2024, 3, 12, 23, 59, 0), "2024-03-13"},
		{"Friday RTH", ny(2024, 3, 15, 15, 0, 0), "2024-03-15"},
		{"Friday halt", ny(2024, 3, 15, 17, 30, 0), "2024-03-15"},
		{"Friday evening rolls to Monday", ny(2024, 3, 15, 18, 0, 0), "2024-03-18"},
		{"Saturday rolls to Monday", ny(2024, 3, 16, 12, 0, 0), "2024-03-18"},
		{"Sunday before the open", ny(2024, 3, 17, 17, 59, 0), "2024-03-18"},
		{"Sunday open", ny(2024, 3, 17, 18, 0, 0), "2024-03-18"},
		{"UTC input: 22:00Z is 18:00 EDT", utc("2024-03-12T22:00:00Z"), "2024-03-13"},
		{"UTC input: 21:59Z is 17:59 EDT", utc("2024-03-12T21:59:00Z"), "2024-03-12"},
		{"UTC input: 22:00Z is 17:00 EST", utc("2024-01-09T22:00:00Z"), "2024-01-09"},
		{"UTC input: 23:00Z is 18:00 EST", utc("2024-01-09T23:00:00Z"), "2024-01-10"},
		{"spring forward Sunday open", utc("2024-03-10T22:00:00Z"), "2024-03-11"},
		{"fall back Sunday open", utc("2024-11-03T23:00:00Z"), "2024-11-04"},
		{"year end", ny(2024, 12, 31, 18, 0, 0), "2025-01-01"},
	} {
		if got := SessionOf(tc.t).String(); got != tc.want {
			t.Errorf("%s: SessionOf(%v) = %s, want %s", tc.name, tc.t, got, tc.want)
		}
	}
}

func TestSessionTimes(t *testing.T) {
	for _, tc := range []struct {
		s                                Session
		rthOpen, rthClose, gxOpen, gxEnd string // UTC
	}{
		// Monday after spring forward: the Sunday open was already EDT.
		{Session{2024, 3, 11}, "2024-03-11T13:30:00Z", "2024-03-11T20:00:00Z", "2024-03-10T22:00:00Z", "2024-03-11T21:00:00Z"},
		// Friday before: EST.
		{Session{2024, 3, 8}, "2024-03-08T14:30:00Z", "2024-03-08T21:00:00Z", "2024-03-07T23:00:00Z", "2024-03-08T22:00:00Z"},
		// Monday after fall back.
		{Session{2024, 11, 4}, "2024-11-04T14:30:00Z", "2024-11-04T21:00:00Z", "2024-11-03T23:00:00Z", "2024-11-04T22:00:00Z"},
		// Friday before fall back: EDT.
		{Session{2024, 11, 1}, "2024-11-01T13:30:00Z", "2024-11-01T20:00:00Z", "2024-10-31T22:00:00Z", "2024-11-01T21:00:00Z"},
	} {
		for name, got := range map[string][2]time.Time{
			"RTHOpen":     {tc.s.RTHOpen(), utc(tc.rthOpen)},
			"RTHClose":    {tc.s.RTHClose(), utc(tc.rthClose)},
			"GlobexOpen":  {tc.s.GlobexOpen(), utc(tc.gxOpen)},
			"GlobexClose": {tc.s.GlobexClose(), utc(tc.gxEnd)},
		} {
			if !got[0].Equal(got[1]) {
				t.Errorf("%s.%s = %v, want %v", tc.s, name, got[0].UTC(), got[1])
			}
		}
		if SessionOf(tc.s.GlobexOpen()) != tc.s || SessionOf(tc.s.RTHOpen()) != tc.s {
			t.Errorf("%s: its own open maps to another session", tc.s)
		}
	}
	if s := (Session{2024, 3, 5}); s.String() != "2024-03-05" || !s.Date().Equal(ny(2024, 3, 5, 0, 0, 0)) {
		t.Errorf("Session String/Date: %s %v", s, s.Date())
	}
}

func TestInRTH(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want bool
	}{
		{ny(2024, 3, 12, 9, 29, 59), false},
		{ny(2024, 3, 12, 9, 30, 0), true},
		{ny(2024, 3, 12, 12, 0, 0), true},
		{ny(2024, 3, 12, 15, 59, 59), true},
		{ny(2024, 3, 12, 16, 0, 0), false},
		{ny(2024, 3, 16, 10, 0, 0), false},   // Saturday
		{ny(2024, 3, 17, 10, 0, 0), false},   // Sunday
		{utc("2024-03-12T13:30:00Z"), true},  // 09:30 EDT
		{utc("2024-03-08T13:30:00Z"), false}, // 08:30 EST
		{utc("2024-03-08T14:30:00Z"), true},  // 09:30 EST
		{utc("2024-03-08T20:30:00Z"), true},  // 15:30 EST
		{utc("2024-03-12T20:30:00Z"), false}, // 16:30 EDT
	} {
		if got := InRTH(tc.t); got != tc.want {
			t.Errorf("InRTH(%v) = %v, want %v", tc.t, got, tc.want)
		}
	}
	if m := MinuteET(utc("2024-03-12T13:30:00Z")); m != RTHOpenHM {
		t.Errorf("MinuteET(13:30Z EDT) = %d, want %d", m, RTHOpenHM)
	}
	if m := MinuteET(utc("2024-01-09T21:00:00Z")); m != RTHCloseHM {
		t.Errorf("MinuteET(21:00Z EST) = %d, want %d", m, RTHCloseHM)
	}
}

func TestGlobexOpenAt(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    time.Time
		want bool
	}{
		{"Tuesday RTH", ny(2024, 3, 12, 10, 0, 0), true},
		{"Tuesday 16:59", ny(2024, 3, 12, 16, 59, 59), true},
		{"halt 17:00", ny(2024, 3, 12, 17, 0, 0), false},
		{"halt 17:59", ny(2024, 3, 12, 17, 59, 59), false},
		{"reopen 18:00", ny(2024, 3, 12, 18, 0, 0), true},
		{"Tuesday 03:00", ny(2024, 3, 12, 3, 0, 0), true},
		{"Friday 16:59", ny(2024, 3, 15, 16, 59, 0), true},
		{"Friday 17:00", ny(2024, 3, 15, 17, 0, 0), false},
		{"Friday 18:00: weekend", ny(2024, 3, 15, 18, 0, 0), false},
		{"Saturday", ny(2024, 3, 16, 12, 0, 0), false},
		{"Sunday 17:59", ny(2024, 3, 17, 17, 59, 0), false},
		{"Sunday 18:00", ny(2024, 3, 17, 18, 0, 0), true},
		// 2024-03-10: clocks go forward at 02:00; Sunday open is 18:00 EDT = 22:00Z.
		{"spring forward 21:59:59Z", utc("2024-03-10T21:59:59Z"), false},
		{"spring forward 22:00Z", utc("2024-03-10T22:00:00Z"), true},
		{"spring forward Sunday 03:30 EDT", utc("2024-03-10T07:30:00Z"), false},
		{"Monday after spring forward 21:00Z halt", utc("2024-03-11T21:00:00Z"), false},
		{"Monday after spring forward 22:00Z reopen", utc("2024-03-11T22:00:00Z"), true},
		// 2024-11-03: clocks go back at 02:00; Sunday open is 18:00 EST = 23:00Z.
		{"fall back 22:00Z is 17:00 EST", utc("2024-11-03T22:00:00Z"), false},
		{"fall back 22:59:59Z", utc("2024-11-03T22:59:59Z"), false},
		{"fall back 23:00Z", utc("2024-11-03T23:00:00Z"), true},
		{"Monday after fall back 22:00Z halt", utc("2024-11-04T22:00:00Z"), false},
		{"Monday after fall back 21:59Z", utc("2024-11-04T21:59:00Z"), true},
	} {
		if got := GlobexOpenAt(tc.t); got != tc.want {
			t.Errorf("%s: GlobexOpenAt(%v) = %v, want %v", tc.name, tc.t, got, tc.want)
		}
	}
}
