// calendar_test.go: the example 2026 calendar in both formats, the forms
// of DTSTART and CSV rows a user meets, a table of bad inputs (each with
// the line and the words of its error), and Load's refusals.

package calendar

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/market"
)

func ny(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, market.NewYork).UTC()
}

// The FOMC's 2026 statement days (the Fed's tentative schedule, second day
// of each meeting).
var fomc2026 = []time.Time{ny(2026, 1, 28, 14, 0), ny(2026, 3, 18, 14, 0), ny(2026, 4, 29, 14, 0), ny(2026, 6, 17, 14, 0),
	ny(2026, 7, 29, 14, 0), ny(2026, 9, 16, 14, 0), ny(2026, 10, 28, 14, 0), ny(2026, 12, 9, 14, 0)}

func TestExampleFiles(t *testing.T) {
	csvEv, err := Load("testdata/news-2026.csv")
	if err != nil {
		t.Fatal(err)
	}
	icsEv, err := Load("testdata/news-2026.ics")
	if err != nil {
		t.Fatal(err)
	}
	if len(csvEv) != 21 || len(icsEv) != len(csvEv) {
		t.Fatalf("%d CSV events, %d iCalendar", len(csvEv), len(icsEv))
	}
	for i := range csvEv {
		if !csvEv[i].Time.Equal(icsEv[i].Time) || csvEv[i].Name != icsEv[i].Name {
			t.Errorf("event %d: CSV %v %q, iCalendar %v %q", i, csvEv[i].Time, csvEv[i].Name, icsEv[i].Time, icsEv[i].Name)
		}
	}
	var got []time.Time
	for _, e := range csvEv {
		if e.Name == "FOMC statement" {
			got = append(got, e.Time)
		}
		if h := e.Time.In(market.NewYork); !(h.Hour() == 8 && h.Minute() == 30 || h.Hour() == 14) {
			t.Errorf("%s at %v: not an 08:30 or 14:xx release", e.Name, h)
		}
	}
	if len(got) != len(fomc2026) {
		t.Fatalf("FOMC statements %v", got)
	}
	for i := range got {
		if !got[i].Equal(fomc2026[i]) {
			t.Errorf("FOMC %d: %v, want %v", i, got[i], fomc2026[i])
		}
	}
	// DST: January's statement is 19:00 UTC (EST), March 18th's 18:00 UTC
	// (EDT since March 8th).
	if got[0].Hour() != 19 || got[1].Hour() != 18 {
		t.Errorf("UTC hours %d, %d", got[0].Hour(), got[1].Hour())
	}
	cal, err := LoadCalendar("testdata/news-2026.ics")
	if err != nil || cal.Len() != 21 {
		t.Fatal(cal.Len(), err)
	}
	if _, in := cal.Window(ny(2026, 3, 18, 13, 56).UnixNano(), int64(5*time.Minute), int64(5*time.Minute)); !in {
		t.Fatal("13:56 on an FOMC day is not in the blackout")
	}
}

func TestICSForms(t *testing.T) {
	text := strings.Join([]string{
		"BEGIN:VCALENDAR",
		"VERSION:2.0",
		"BEGIN:VEVENT",
		"DTSTART:20260128T190000Z",
		"SUMMARY:utc",
		"END:VEVENT",
		"BEGIN:VEVENT",
		`DTSTART;TZID="America/Chicago":20260128T130000`,
		"SUMMARY:quoted chicago",
		"END:VEVENT",
		"BEGIN:VEVENT",
		"DTSTART:20260128T140000",
		"SUMMARY:floating\\, New York\\; escaped\\nnewline",
		"END:VEVENT",
		"BEGIN:VEVENT",
		"DTSTART;TZID=Eastern Standard Time:20260128T140000",
		"SUMMARY:Outlook",
		"END:VEVENT",
		"BEGIN:VEVENT",
		"DTSTART;TZID=/mozilla.org/20050126_1/America/New_York:20260128T140000",
		"SUMMARY:Mozilla fol",
		" ded",
		"END:VEVENT",
		"BEGIN:VEVENT",
		"DTSTART;VALUE=DATE-TIME:20260128T140000",
		"STATUS:CANCELLED",
		"SUMMARY:cancelled",
		"END:VEVENT",
		"BEGIN:VTODO",
		"DTSTART;VALUE=DATE:20260101",
		"RRULE:FREQ=DAILY",
		"END:VTODO",
		"BEGIN:VEVENT",
		"DTSTART:20260128T140000",
		"END:VEVENT",
		"END:VCALENDAR",
		"",
	}, "\n")
	evs, err := ParseICS("t.ics", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"utc", "quoted chicago", "floating, New York; escaped newline", "Outlook", "Mozilla folded", "release"}
	if len(evs) != len(names) {
		t.Fatalf("%d events: %+v", len(evs), evs)
	}
	want := ny(2026, 1, 28, 14, 0)
	for i, e := range evs {
		if e.Name != names[i] || !e.Time.Equal(want) {
			t.Errorf("event %d: %q at %v (line %d); want %q at %v", i, e.Name, e.Time, e.Line, names[i], want)
		}
	}
	if evs[1].Line != 8 {
		t.Errorf("line %d", evs[1].Line)
	}
}

func TestCSVForms(t *testing.T) {
	text := "\xef\xbb\xbf# a comment\n\nName, Date ,TIME,tz\n" +
		"\"FOMC, statement\",2026-01-28,14:00,\n" +
		"CPI,2026-01-13,08:30:00,America/New_York\n" +
		"BoE,2026-02-05,12:00,Europe/London\n"
	evs, err := ParseCSV("t.csv", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[0].Name != "FOMC, statement" || !evs[0].Time.Equal(ny(2026, 1, 28, 14, 0)) || evs[0].Line != 4 ||
		!evs[1].Time.Equal(ny(2026, 1, 13, 8, 30)) || !evs[2].Time.Equal(time.Date(2026, 2, 5, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v", evs)
	}
	// Parse picks the format by content.
	if evs, err := Parse("x", []byte(text)); err != nil || len(evs) != 3 {
		t.Fatal(evs, err)
	}
	if evs, err := Parse("x", []byte("\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")); err != nil || len(evs) != 0 {
		t.Fatal(evs, err)
	}
}

// TestBadInputs: every malformed file is refused with its line and what is
// wrong.
func TestBadInputs(t *testing.T) {
	ics := func(lines ...string) string {
		return strings.Join(append(append([]string{"BEGIN:VCALENDAR", "VERSION:2.0"}, lines...), "END:VCALENDAR"), "\r\n")
	}
	ev := func(lines ...string) []string {
		return append(append([]string{"BEGIN:VEVENT"}, lines...), "END:VEVENT")
	}
	const hdr = "date,time,name\n"
	cases := []struct {
		name, text string
		ics        bool
		line       int
		msg        string
	}{
		{"ics: not a calendar", "BEGIN:VEVENT\r\nEND:VEVENT", true, 1, "BEGIN:VCALENDAR first"},
		{"ics: empty", "", true, 1, "BEGIN:VCALENDAR first"},
		{"ics: cut short", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20260128T190000Z", true, 3, "no END:VCALENDAR"},
		{"ics: wrong END", ics("BEGIN:VEVENT", "DTSTART:20260128T190000Z", "END:VTODO"), true, 5, "END:VTODO closes BEGIN:VEVENT"},
		{"ics: END with nothing open", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\nEND:VEVENT", true, 3, "after END:VCALENDAR"},
		{"ics: content after the end", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\nX-FOO:1", true, 3, "after END:VCALENDAR"},
		{"ics: nested calendar", ics("BEGIN:VCALENDAR"), true, 3, "BEGIN:VCALENDAR inside VCALENDAR"},
		{"ics: event in an event", ics("BEGIN:VEVENT", "BEGIN:VEVENT"), true, 4, "VEVENT inside VEVENT"},
		{"ics: no DTSTART", ics(ev("SUMMARY:x")...), true, 3, "without DTSTART"},
		{"ics: two DTSTART", ics(ev("DTSTART:20260128T190000Z", "DTSTART:20260128T200000Z")...), true, 5, "a second DTSTART"},
		{"ics: all-day", ics(ev("DTSTART;VALUE=DATE:20260128")...), true, 4, "all-day"},
		{"ics: date only", ics(ev("DTSTART:20260128")...), true, 4, "without a time"},
		{"ics: short time", ics(ev("DTSTART:20260128T1900Z")...), true, 4, "YYYYMMDDTHHMMSS"},
		{"ics: letters", ics(ev("DTSTART:2026012XT190000Z")...), true, 4, "not a number"},
		{"ics: signed", ics(ev("DTSTART:2026+128T190000Z")...), true, 4, "not a number"},
		{"ics: month 13", ics(ev("DTSTART:20261301T190000Z")...), true, 4, "not a date"},
		{"ics: Feb 30", ics(ev("DTSTART:20260230T190000Z")...), true, 4, "not a date"},
		{"ics: hour 24", ics(ev("DTSTART:20260128T240000Z")...), true, 4, "not a date and time"},
		{"ics: leap second", ics(ev("DTSTART:20261231T235960Z")...), true, 4, "leap second"},
		{"ics: year 1999", ics(ev("DTSTART:19991231T190000Z")...), true, 4, "year 1999"},
		{"ics: unknown zone", ics(ev("DTSTART;TZID=Mars/Olympus:20260128T140000")...), true, 4, "TZID \"Mars/Olympus\""},
		{"ics: Local is no zone", ics(ev("DTSTART;TZID=Local:20260128T140000")...), true, 4, "TZID \"Local\""},
		{"ics: TZID and Z", ics(ev("DTSTART;TZID=America/New_York:20260128T190000Z")...), true, 4, "both a TZID and Z"},
		{"ics: spring gap", ics(ev("DTSTART;TZID=America/New_York:20260308T023000")...), true, 4, "does not exist"},
		{"ics: fall back twice", ics(ev("DTSTART:20261101T013000")...), true, 4, "happens twice"},
		{"ics: RRULE", ics(ev("DTSTART:20260128T190000Z", "RRULE:FREQ=MONTHLY")...), true, 5, "recurring"},
		{"ics: EXDATE", ics(ev("DTSTART:20260128T190000Z", "EXDATE:20260228T190000Z")...), true, 5, "recurring"},
		{"ics: VALUE=PERIOD", ics(ev("DTSTART;VALUE=PERIOD:20260128T190000Z/PT1H")...), true, 4, "want DATE-TIME"},
		{"ics: no colon", ics("X-FOO"), true, 3, "want NAME:VALUE"},
		{"ics: bad name", ics("X_FOO:1"), true, 3, "property name"},
		{"ics: param without =", ics(ev("DTSTART;TZID:20260128T190000")...), true, 4, "without '='"},
		{"ics: unterminated quote", ics(ev(`DTSTART;TZID="America/New_York:20260128T140000`)...), true, 4, "unterminated quote"},
		{"ics: junk after quote", ics(ev(`DTSTART;TZID="America/New_York"x:20260128T140000`)...), true, 4, "after the quoted value"},
		{"ics: param twice", ics(ev("DTSTART;TZID=UTC;TZID=UTC:20260128T140000")...), true, 4, "given twice"},
		{"ics: orphan fold", " folded\r\nBEGIN:VCALENDAR", true, 1, "continuation line"},
		{"ics: bare CR", "BEGIN:VCALENDAR\rEND:VCALENDAR", true, 1, "carriage return"},
		{"ics: huge line", "BEGIN:VCALENDAR\r\nX-A:" + strings.Repeat("a", maxLine+10), true, 2, "longer than"},

		{"ics: control character in the name", ics(ev("DTSTART:20260128T190000Z", "SUMMARY:FOMC\x07")...), true, 5, "control character"},
		{"ics: name too long", ics(ev("DTSTART:20260128T190000Z", "SUMMARY:"+strings.Repeat("x", 201))...), true, 5, "at most 200"},
		{"csv: control character in the name", hdr + "2026-01-28,14:00,FO\x1bMC\n", false, 2, "control character"},
		{"csv: not UTF-8", hdr + "2026-01-28,14:00,FO\xffMC\n", false, 2, "not UTF-8"},
		{"csv: empty", "", false, 0, "empty"},
		{"csv: only comments", "# nothing\n", false, 0, "empty"},
		{"csv: unknown column", "date,tiem,name\n", false, 1, "column \"tiem\""},
		{"csv: no name column", "date,time\n", false, 1, "no name column"},
		{"csv: column twice", "date,time,name,event\n", false, 1, "given twice"},
		{"csv: short row", hdr + "2026-01-28,14:00\n", false, 2, "2 fields: the header has 3"},
		{"csv: long row", hdr + "2026-01-28,14:00,FOMC,extra\n", false, 2, "4 fields"},
		{"csv: no name", hdr + "2026-01-28,14:00, \n", false, 2, "no name"},
		{"csv: US date", hdr + "01/28/2026,14:00,FOMC\n", false, 2, "want YYYY-MM-DD"},
		{"csv: 2pm", hdr + "2026-01-28,2pm,FOMC\n", false, 2, "want HH:MM"},
		{"csv: 8:30", hdr + "2026-01-28,8:30,CPI\n", false, 2, "want HH:MM"},
		{"csv: 25:00", hdr + "2026-01-28,25:00,CPI\n", false, 2, "not a date and time"},
		{"csv: Feb 29 2026", hdr + "2026-02-29,08:30,CPI\n", false, 2, "not a date"},
		{"csv: spring gap", hdr + "2026-03-08,02:30,x\n", false, 2, "does not exist"},
		{"csv: fall back", hdr + "2026-11-01,01:30,x\n", false, 2, "happens twice"},
		{"csv: unknown tz", "date,time,name,tz\n2026-01-28,14:00,FOMC,EST5EDTX\n", false, 2, "tz \"EST5EDTX\""},
		{"csv: bad quote", hdr + "2026-01-28,14:00,\"FOMC\n", false, 2, "quote"},
		{"csv: signed", hdr + "2026-01-+8,14:00,FOMC\n", false, 2, "not a number"},
		{"csv: NUL", hdr + "2026-01-28,14:00,FO\x00MC\n", false, 0, "NUL"},
		{"csv: error on the 4th line", hdr + "# c\n2026-01-28,14:00,FOMC\n2026-01-28,14:0,FOMC\n", false, 4, "want HH:MM"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.ics {
				_, err = ParseICS("bad.ics", []byte(tc.text))
			} else {
				_, err = ParseCSV("bad.csv", []byte(tc.text))
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v: want a *ParseError", err)
			}
			if pe.Line != tc.line || !strings.Contains(pe.Msg, tc.msg) || !strings.HasPrefix(pe.File, "bad.") {
				t.Fatalf("got %v (line %d), want line %d and %q", err, pe.Line, tc.line, tc.msg)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("directory: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "none.csv")); err == nil {
		t.Fatal("missing file accepted")
	}
	big := filepath.Join(dir, "big.csv")
	if err := os.WriteFile(big, make([]byte, MaxFileBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("big: %v", err)
	}
	// The extension decides: iCalendar text in a .csv is read as CSV (and
	// refused), a .txt is sniffed.
	ics, _ := os.ReadFile("testdata/news-2026.ics")
	for name, ok := range map[string]bool{"a.csv": false, "a.txt": true, "a.ics": true} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, ics, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(p); (err == nil) != ok {
			t.Errorf("%s: %v", name, err)
		}
	}
	var pe *ParseError
	if _, err := Load(filepath.Join(dir, "a.csv")); !errors.As(err, &pe) || pe.File != filepath.Join(dir, "a.csv") {
		t.Errorf("error names %v", err)
	}
}
