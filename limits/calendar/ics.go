// ics.go: iCalendar (RFC 5545) as calendar programs export it. Lines are
// unfolded (a line starting with a space or tab continues the one before,
// §3.1), split into name, parameters and value (§3.1: parameter values
// may be quoted and hold ':' and ';'), and the VCALENDAR/VEVENT nesting is
// checked (§3.4, §3.6). Each VEVENT's DTSTART is a release (§3.8.2.4):
// UTC ("…Z"), with a TZID parameter, or floating (taken as New York).
// Refused rather than guessed: all-day events (VALUE=DATE: a release has a
// time), recurrence (RRULE, RDATE, EXDATE: list each release), a TZID that
// names no known zone (VTIMEZONE rules are not read), and anything after
// END:VCALENDAR. Cancelled events (STATUS:CANCELLED) are skipped.

package calendar

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxLine bounds one unfolded content line.
const maxLine = 8 << 10

type contentLine struct {
	line   int // first physical line
	name   string
	params map[string]string
	value  string
}

// unfold splits data into logical lines with the number of the physical
// line each starts on.
func unfold(file string, data []byte) ([]contentLine, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	phys := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var out []contentLine
	var cur strings.Builder
	start := 0
	flush := func() error {
		if cur.Len() == 0 {
			return nil
		}
		cl, err := splitLine(file, start, cur.String())
		if err != nil {
			return err
		}
		out = append(out, cl)
		cur.Reset()
		return nil
	}
	for i, l := range phys {
		if strings.ContainsRune(l, '\r') {
			return nil, perr(file, i+1, "a bare carriage return inside a line")
		}
		if len(l) > 0 && (l[0] == ' ' || l[0] == '\t') {
			if cur.Len() == 0 {
				return nil, perr(file, i+1, "a continuation line with no line before it")
			}
			cur.WriteString(l[1:])
		} else {
			if err := flush(); err != nil {
				return nil, err
			}
			if l == "" {
				continue // blank lines are not iCalendar, but exporters leave a trailing one
			}
			start = i + 1
			cur.WriteString(l)
		}
		if cur.Len() > maxLine {
			return nil, perr(file, start, "a content line longer than %d bytes", maxLine)
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// splitLine parses name *(";" param "=" value) ":" value.
func splitLine(file string, line int, s string) (contentLine, error) {
	cl := contentLine{line: line}
	i := strings.IndexAny(s, ";:")
	if i <= 0 {
		return cl, perr(file, line, "%q: want NAME:VALUE", clip(s))
	}
	cl.name = strings.ToUpper(s[:i])
	if !validName(cl.name) {
		return cl, perr(file, line, "property name %q: want letters, digits and '-'", clip(cl.name))
	}
	for s[i] == ';' {
		s = s[i+1:]
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return cl, perr(file, line, "%s: a parameter without '=': %q", cl.name, clip(s))
		}
		pname := strings.ToUpper(s[:eq])
		if !validName(pname) {
			return cl, perr(file, line, "%s: parameter name %q", cl.name, clip(pname))
		}
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return cl, perr(file, line, "%s: parameter %s: unterminated quote", cl.name, pname)
			}
			val, s = s[1:end+1], s[end+2:]
			i = 0
			if s == "" || (s[0] != ';' && s[0] != ':') {
				return cl, perr(file, line, "%s: parameter %s: want ';' or ':' after the quoted value", cl.name, pname)
			}
		} else {
			i = strings.IndexAny(s, ";:")
			if i < 0 {
				return cl, perr(file, line, "%s: no ':' before the value", cl.name)
			}
			val = s[:i]
		}
		if cl.params == nil {
			cl.params = map[string]string{}
		}
		if _, dup := cl.params[pname]; dup {
			return cl, perr(file, line, "%s: parameter %s given twice", cl.name, pname)
		}
		cl.params[pname] = val
		if s[i] == ':' {
			break
		}
	}
	cl.value = s[i+1:]
	return cl, nil
}

func validName(n string) bool {
	for _, r := range n {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return n != ""
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// unescape decodes a TEXT value (§3.3.11).
func unescape(s string) string {
	if !strings.ContainsRune(s, '\\') {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n', 'N':
				b.WriteByte(' ')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ParseICS reads an iCalendar file.
func ParseICS(file string, data []byte) ([]Event, error) {
	lines, err := unfold(file, data)
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 || lines[0].name != "BEGIN" || !strings.EqualFold(lines[0].value, "VCALENDAR") {
		ln := 1
		if len(lines) > 0 {
			ln = lines[0].line
		}
		return nil, perr(file, ln, "not an iCalendar file: want BEGIN:VCALENDAR first")
	}
	var (
		stack  []string // open components
		events []Event
		cache  = map[string]*time.Location{}
		ev     *Event
		dtLine int
		cancel bool
		ended  bool
		evLine int
	)
	for _, cl := range lines {
		if ended {
			return nil, perr(file, cl.line, "%s after END:VCALENDAR", cl.name)
		}
		switch cl.name {
		case "BEGIN":
			comp := strings.ToUpper(cl.value)
			if !validName(comp) {
				return nil, perr(file, cl.line, "BEGIN:%q: not a component name", clip(cl.value))
			}
			if len(stack) > 0 && comp == "VCALENDAR" {
				return nil, perr(file, cl.line, "BEGIN:VCALENDAR inside %s", stack[len(stack)-1])
			}
			if len(stack) > 8 {
				return nil, perr(file, cl.line, "components nested too deep")
			}
			if comp == "VEVENT" {
				if len(stack) != 1 {
					return nil, perr(file, cl.line, "VEVENT inside %s: want it directly in VCALENDAR", stack[len(stack)-1])
				}
				ev, dtLine, cancel, evLine = &Event{}, 0, false, cl.line
			}
			stack = append(stack, comp)
			continue
		case "END":
			comp := strings.ToUpper(cl.value)
			if len(stack) == 0 || stack[len(stack)-1] != comp {
				open := "nothing"
				if len(stack) > 0 {
					open = "BEGIN:" + stack[len(stack)-1]
				}
				return nil, perr(file, cl.line, "END:%s closes %s", clip(cl.value), open)
			}
			stack = stack[:len(stack)-1]
			if comp == "VEVENT" {
				if dtLine == 0 {
					return nil, perr(file, evLine, "VEVENT without DTSTART: a release needs its time")
				}
				if !cancel {
					if ev.Name == "" {
						ev.Name = "release"
					}
					events = append(events, *ev)
					if len(events) > MaxEvents {
						return nil, perr(file, cl.line, "more than %d events", MaxEvents)
					}
				}
				ev = nil
			}
			if len(stack) == 0 {
				ended = true
			}
			continue
		}
		if len(stack) == 0 {
			return nil, perr(file, cl.line, "%s outside BEGIN:VCALENDAR", cl.name)
		}
		if ev == nil || stack[len(stack)-1] != "VEVENT" {
			continue // calendar properties, VTIMEZONE, VALARM…: not ours
		}
		switch cl.name {
		case "DTSTART":
			if dtLine != 0 {
				return nil, perr(file, cl.line, "a second DTSTART in the VEVENT of line %d", evLine)
			}
			t, err := icsTime(cl, cache)
			if err != nil {
				return nil, perr(file, cl.line, "DTSTART %q: %v", clip(cl.value), err)
			}
			ev.Time, ev.Line, dtLine = t, cl.line, cl.line
		case "SUMMARY":
			ev.Name = strings.TrimSpace(unescape(cl.value))
			if err := checkName(ev.Name); err != nil {
				return nil, perr(file, cl.line, "SUMMARY: %v", err)
			}
		case "RRULE", "RDATE", "EXDATE", "EXRULE":
			return nil, perr(file, cl.line, "%s: recurring events are not read: list each release as its own VEVENT", cl.name)
		case "STATUS":
			cancel = strings.EqualFold(cl.value, "CANCELLED")
		}
	}
	if !ended {
		return nil, perr(file, lines[len(lines)-1].line, "no END:VCALENDAR (the file is cut short?)")
	}
	return events, nil
}

// icsTime decodes DTSTART's DATE-TIME (§3.3.5): forms 1 (floating, here
// New York), 2 (UTC) and 3 (TZID).
func icsTime(cl contentLine, cache map[string]*time.Location) (time.Time, error) {
	v := cl.value
	if vt, ok := cl.params["VALUE"]; ok && !strings.EqualFold(vt, "DATE-TIME") {
		if strings.EqualFold(vt, "DATE") {
			return time.Time{}, errf("an all-day event: a release needs a time (DTSTART:YYYYMMDDTHHMMSS)")
		}
		return time.Time{}, errf("VALUE=%s: want DATE-TIME", vt)
	}
	utc := strings.HasSuffix(v, "Z")
	if utc {
		v = v[:len(v)-1]
	}
	if len(v) == 8 {
		return time.Time{}, errf("a date without a time: a release needs one (YYYYMMDDTHHMMSS)")
	}
	if len(v) != 15 || v[8] != 'T' {
		return time.Time{}, errf("want YYYYMMDDTHHMMSS, with Z for UTC or a TZID parameter")
	}
	var n [6]int
	for i, r := range [6][2]int{{0, 4}, {4, 6}, {6, 8}, {9, 11}, {11, 13}, {13, 15}} {
		x, err := strconv.Atoi(v[r[0]:r[1]])
		if err != nil || strings.ContainsAny(v[r[0]:r[1]], "+-") {
			return time.Time{}, errf("%q is not a number", v[r[0]:r[1]])
		}
		n[i] = x
	}
	loc := defaultZone
	if tz, ok := cl.params["TZID"]; ok {
		if utc {
			return time.Time{}, errf("both a TZID and Z (UTC)")
		}
		l, err := zone(tz, cache)
		if err != nil {
			return time.Time{}, errf("TZID %q: not a time zone name deskguard knows (give an IANA name such as America/New_York, or UTC with Z)", clip(tz))
		}
		loc = l
	} else if utc {
		loc = time.UTC
	}
	if n[5] == 60 {
		return time.Time{}, errf("a leap second: no release is scheduled at one")
	}
	return wallTime(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], loc)
}

// errf is fmt.Errorf for the messages a ParseError carries.
func errf(format string, args ...any) error { return fmt.Errorf(format, args...) }
