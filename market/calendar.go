package market

import (
	"time"
	_ "time/tzdata" // America/New_York on machines without tzdata
)

// NewYork is America/New_York; every session rule is in this zone.
var NewYork = mustLoad("America/New_York")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("market: embedded tzdata lacks " + name) // impossible with time/tzdata
	}
	return loc
}

// Session times, New York clock.
const (
	RTHOpenHM     = 9*60 + 30 // 09:30
	RTHCloseHM    = 16 * 60   // 16:00
	GlobexCloseHM = 17 * 60   // 17:00 daily halt starts
	GlobexOpenHM  = 18 * 60   // 18:00 next session opens
)

// Session identifies one Globex trading day by the New York date it ends on
// (the session that opens Sunday 18:00 is Monday's).
type Session struct {
	Year  int
	Month time.Month
	Day   int
}

func (s Session) String() string {
	return time.Date(s.Year, s.Month, s.Day, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
}

// Date returns midnight of the session's trade date in New York.
func (s Session) Date() time.Time { return time.Date(s.Year, s.Month, s.Day, 0, 0, 0, 0, NewYork) }

// At returns the New York wall time hh:mm on the session's trade date.
func (s Session) At(hour, min int) time.Time {
	return time.Date(s.Year, s.Month, s.Day, hour, min, 0, 0, NewYork)
}

// RTHOpen is 09:30 ET on the trade date.
func (s Session) RTHOpen() time.Time { return s.At(9, 30) }

// RTHClose is 16:00 ET on the trade date.
func (s Session) RTHClose() time.Time { return s.At(16, 0) }

// GlobexOpen is 18:00 ET on the previous calendar day (Sunday for Monday).
func (s Session) GlobexOpen() time.Time {
	d := s.Date().AddDate(0, 0, -1)
	return time.Date(d.Year(), d.Month(), d.Day(), 18, 0, 0, 0, NewYork)
}

// GlobexClose is 17:00 ET on the trade date.
func (s Session) GlobexClose() time.Time { return s.At(17, 0) }

// SessionOf returns the Globex session t belongs to: times from 18:00 ET
// belong to the next day's session; Friday evening and Saturday roll to
// Monday. Times in the 17:00–18:00 halt belong to the session that just ended.
func SessionOf(t time.Time) Session {
	n := t.In(NewYork)
	d := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, NewYork)
	if n.Hour() >= 18 {
		d = d.AddDate(0, 0, 1)
	}
	switch d.Weekday() {
	case time.Saturday:
		d = d.AddDate(0, 0, 2)
	case time.Sunday:
		d = d.AddDate(0, 0, 1)
	}
	return Session{d.Year(), d.Month(), d.Day()}
}

// minuteOfDay returns minutes since midnight New York.
func minuteOfDay(t time.Time) int {
	n := t.In(NewYork)
	return n.Hour()*60 + n.Minute()
}

// InRTH reports whether t is in regular trading hours, 09:30–16:00 ET on a
// weekday.
func InRTH(t time.Time) bool {
	n := t.In(NewYork)
	if n.Weekday() == time.Saturday || n.Weekday() == time.Sunday {
		return false
	}
	m := minuteOfDay(n)
	return m >= RTHOpenHM && m < RTHCloseHM
}

// GlobexOpenAt reports whether Globex trades at t: Sunday 18:00 to Friday
// 17:00 ET, except the daily 17:00–18:00 halt. (Exchange holidays are not
// modelled.)
func GlobexOpenAt(t time.Time) bool {
	n := t.In(NewYork)
	m := minuteOfDay(n)
	switch n.Weekday() {
	case time.Saturday:
		return false
	case time.Sunday:
		return m >= GlobexOpenHM
	case time.Friday:
		return m < GlobexCloseHM
	}
	return m < GlobexCloseHM || m >= GlobexOpenHM
}

// MinuteET returns t's minutes since midnight in New York; handy for rules
// such as "no entries after 15:45".
func MinuteET(t time.Time) int { return minuteOfDay(t) }
