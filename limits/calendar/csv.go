// csv.go: the hand-written calendar. A header names the columns — date,
// time, name (or event), and optionally tz — in any order; every row gives
// each of them. Dates are YYYY-MM-DD, times HH:MM or HH:MM:SS on a 24-hour
// clock, tz an IANA zone name (default America/New_York). Lines starting
// with '#' and blank lines are skipped; fields may be quoted.

package calendar

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

var csvColumns = map[string]string{"date": "date", "time": "time", "name": "name", "event": "name", "release": "name", "tz": "tz", "zone": "tz"}

// ParseCSV reads a CSV calendar.
func ParseCSV(file string, data []byte) ([]Event, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, perr(file, 0, "a NUL byte: not a text file")
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment, r.FieldsPerRecord, r.TrimLeadingSpace, r.ReuseRecord = '#', -1, true, true
	col := map[string]int{}
	var header []string
	var events []Event
	cache := map[string]*time.Location{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, perr(file, pe.Line, "%v", pe.Err)
			}
			return nil, perr(file, 0, "%v", err)
		}
		line, _ := r.FieldPos(0) // a record has at least one field
		if header == nil {
			header = make([]string, len(rec))
			for i, h := range rec {
				key, ok := csvColumns[strings.ToLower(strings.TrimSpace(h))]
				if !ok {
					return nil, perr(file, line, "column %q: want date, time, name and optionally tz", clip(h))
				}
				if _, dup := col[key]; dup {
					return nil, perr(file, line, "column %q given twice", key)
				}
				col[key], header[i] = i, key
			}
			for _, need := range []string{"date", "time", "name"} {
				if _, ok := col[need]; !ok {
					return nil, perr(file, line, "no %s column (the header must name date, time and name)", need)
				}
			}
			continue
		}
		if len(rec) != len(header) {
			return nil, perr(file, line, "%d fields: the header has %d (%s)", len(rec), len(header), strings.Join(header, ","))
		}
		get := func(k string) string { return strings.TrimSpace(rec[col[k]]) }
		ev, err := csvEvent(get("date"), get("time"), get("name"), func() string {
			if i, ok := col["tz"]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}(), cache)
		if err != nil {
			return nil, perr(file, line, "%v", err)
		}
		ev.Line = line
		events = append(events, ev)
		if len(events) > MaxEvents {
			return nil, perr(file, line, "more than %d events", MaxEvents)
		}
	}
	if header == nil {
		return nil, perr(file, 0, "empty: want a header line date,time,name")
	}
	return events, nil
}

func csvEvent(date, clock, name, tz string, cache map[string]*time.Location) (Event, error) {
	if name == "" {
		return Event{}, errf("no name: say what is released")
	}
	if err := checkName(name); err != nil {
		return Event{}, err
	}
	d := strings.Split(date, "-")
	if len(d) != 3 || len(d[0]) != 4 || len(d[1]) != 2 || len(d[2]) != 2 {
		return Event{}, errf("date %q: want YYYY-MM-DD", clip(date))
	}
	c := strings.Split(clock, ":")
	if len(c) < 2 || len(c) > 3 || len(c[0]) != 2 || len(c[1]) != 2 || len(c) == 3 && len(c[2]) != 2 {
		return Event{}, errf("time %q: want HH:MM or HH:MM:SS (24-hour)", clip(clock))
	}
	var n [6]int
	parts := append(d, c...)
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || strings.ContainsAny(p, "+- ") {
			return Event{}, errf("%q is not a number", clip(p))
		}
		n[i] = x
	}
	loc := defaultZone
	if tz != "" {
		l, err := zone(tz, cache)
		if err != nil {
			return Event{}, errf("tz %q: not a time zone name (give an IANA name such as America/New_York)", clip(tz))
		}
		loc = l
	}
	t, err := wallTime(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], loc)
	if err != nil {
		return Event{}, err
	}
	return Event{Time: t, Name: name}, nil
}
