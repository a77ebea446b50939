// fuzz_test.go: both parsers over arbitrary bytes never panic, refuse with
// a *ParseError, and what they accept writes back out and reads in again
// as the same releases.

package calendar

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func checkParsed(t *testing.T, evs []Event, err error) {
	t.Helper()
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Msg == "" {
			t.Fatalf("error %v: not a ParseError with a message", err)
		}
		return
	}
	for _, e := range evs {
		if e.Line <= 0 || e.Name == "" || e.Time.Year() < minYear-1 || e.Time.Year() > maxYear+1 || e.Time.Location() != time.UTC {
			t.Fatalf("accepted %+v", e)
		}
	}
}

func writeCSV(evs []Event) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"date", "time", "name", "tz"})
	for _, e := range evs {
		w.Write([]string{e.Time.Format("2006-01-02"), e.Time.Format("15:04:05"), e.Name, "UTC"})
	}
	w.Flush()
	return b.String()
}

func writeICS(evs []Event) string {
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\n")
	for _, e := range evs {
		name := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`).Replace(e.Name)
		fmt.Fprintf(&b, "BEGIN:VEVENT\r\nDTSTART:%s\r\nSUMMARY:%s\r\nEND:VEVENT\r\n", e.Time.Format("20060102T150405Z"), name)
	}
	b.WriteString("END:VCALENDAR\r\n")
	return b.String()
}

func same(t *testing.T, a, b []Event) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d events, then %d", len(a), len(b))
	}
	for i := range a {
		if !a[i].Time.Equal(b[i].Time) || a[i].Name != b[i].Name {
			t.Fatalf("event %d: %v %q, then %v %q", i, a[i].Time, a[i].Name, b[i].Time, b[i].Name)
		}
	}
}

func FuzzParseICS(f *testing.F) {
	ex, _ := os.ReadFile("testdata/news-2026.ics")
	f.Add(ex)
	f.Add([]byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;TZID=\"America/New_York\":20260128T140000\r\nSUMMARY:a\\,b\r\n c\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	f.Add([]byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260128\nEND:VEVENT\nEND:VCALENDAR"))
	f.Add([]byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261101T013000\nEND:VEVENT\nEND:VCALENDAR"))
	f.Add([]byte(" \r\n;:\r\nBEGIN:VCALENDAR;X=\"\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := ParseICS("f.ics", data)
		checkParsed(t, evs, err)
		if err != nil {
			return
		}
		again, err := ParseICS("again.ics", []byte(writeICS(evs)))
		if err != nil {
			t.Fatalf("written back: %v", err)
		}
		same(t, evs, again)
	})
}

func FuzzParseCSV(f *testing.F) {
	ex, _ := os.ReadFile("testdata/news-2026.csv")
	f.Add(ex)
	f.Add([]byte("name,date,time,tz\n\"a,b\",2026-01-28,14:00:05,Europe/London\n"))
	f.Add([]byte("date,time,name\n2026-03-08,02:30,gap\n"))
	f.Add([]byte("date,time,name\n2026-01-28,14:00,\"unterminated\n"))
	f.Add([]byte("\xef\xbb\xbf#\n\ndate , time,event\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := ParseCSV("f.csv", data)
		checkParsed(t, evs, err)
		if err != nil {
			return
		}
		again, err := ParseCSV("again.csv", []byte(writeCSV(evs)))
		if err != nil {
			t.Fatalf("written back: %v\n%s", err, writeCSV(evs))
		}
		same(t, evs, again)
	})
}
