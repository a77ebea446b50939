// Package calendar reads the desk's news calendar: the scheduled releases
// (FOMC statements, CPI, payrolls…) around which the risk gate blacks out
// entries (limits.Calendar). Two formats: iCalendar (RFC 5545 .ics, as a
// calendar program exports it) and a CSV a person writes by hand
// (date,time,name with an optional tz column). A file that is wrong in any
// way is refused whole with a *ParseError naming the file and line: a
// release silently skipped would be a blackout silently missing. Times
// without a zone are New York time (the desk's), and a wall time that does
// not exist or happens twice on a DST change is refused.
//
// It may touch only limits (the gate's calendar), market (New York) and,
// in Load, the one file it is given.
package calendar

// calendar.go: the shared types, loading a file, and the conversion to
// the gate's calendar. The only I/O is Load's read of one regular file.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// Limits on what is read: a bigger file or more releases is not a news
// calendar.
const (
	MaxFileBytes = 1 << 20
	MaxEvents    = 100_000
	minYear      = 2000
	maxYear      = 2100
)

// Event is one scheduled release.
type Event struct {
	Time time.Time // the release instant (UTC)
	Name string
	Line int // where it is in its file (the DTSTART line for iCalendar)
}

// ParseError is a calendar file that is refused: which file, which line
// (0 when the file as a whole is wrong) and what is wrong.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("calendar: %s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("calendar: %s: %s", e.File, e.Msg)
}

func perr(file string, line int, format string, args ...any) *ParseError {
	return &ParseError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Parse reads a calendar in either format: iCalendar when the content
// begins with BEGIN:VCALENDAR (after a byte-order mark and blank lines),
// CSV otherwise.
func Parse(file string, data []byte) ([]Event, error) {
	if isICS(data) {
		return ParseICS(file, data)
	}
	return ParseCSV(file, data)
}

func isICS(data []byte) bool {
	d := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), "\r\n")
	return len(d) >= 15 && strings.EqualFold(string(d[:15]), "BEGIN:VCALENDAR")
}

// Load reads and parses the calendar file at path (a regular file of at
// most MaxFileBytes). The format follows the extension (.ics/.ical,
// .csv), or the content for any other.
func Load(path string) ([]Event, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, perr(path, 0, "not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("calendar: read %s: %w", path, err)
	}
	if len(data) > MaxFileBytes {
		return nil, perr(path, 0, "larger than %d bytes: not a news calendar", MaxFileBytes)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ics", ".ical", ".ifb", ".icalendar":
		return ParseICS(path, data)
	case ".csv":
		return ParseCSV(path, data)
	}
	return Parse(path, data)
}

// LoadCalendar is Load, made into the gate's calendar.
func LoadCalendar(path string) (*limits.Calendar, error) {
	evs, err := Load(path)
	if err != nil {
		return nil, err
	}
	return limits.NewCalendar(Releases(evs)), nil
}

// Releases converts events to the gate's releases.
func Releases(evs []Event) []limits.Release {
	out := make([]limits.Release, len(evs))
	for i, e := range evs {
		out[i] = limits.Release{TimeNs: e.Time.UnixNano(), Name: e.Name}
	}
	return out
}

// windowsZones are the Windows time zone names calendar programs (Outlook)
// put in TZID, for the zones a US desk meets.
var windowsZones = map[string]string{
	"Eastern Standard Time":  "America/New_York",
	"Central Standard Time":  "America/Chicago",
	"Mountain Standard Time": "America/Denver",
	"Pacific Standard Time":  "America/Los_Angeles",
	"GMT Standard Time":      "Europe/London",
	"UTC":                    "UTC",
}

var errUnknownZone = errors.New("unknown time zone")

// zone resolves a zone name: an IANA name, a Windows name from
// windowsZones, or a globally unique TZID whose tail is an IANA name
// ("/mozilla.org/20050126_1/America/New_York").
func zone(name string, cache map[string]*time.Location) (*time.Location, error) {
	if loc, ok := cache[name]; ok {
		return loc, nil
	}
	cands := []string{name}
	if w, ok := windowsZones[name]; ok {
		cands = []string{w}
	}
	if parts := strings.Split(strings.Trim(name, "/"), "/"); len(parts) > 2 {
		cands = append(cands, strings.Join(parts[len(parts)-3:], "/"), strings.Join(parts[len(parts)-2:], "/"))
	}
	for _, n := range cands {
		if n == "" || n == "Local" { // "" is UTC to the time package, Local the machine's: neither is a name
			continue
		}
		if loc, err := time.LoadLocation(n); err == nil {
			cache[name] = loc
			return loc, nil
		}
	}
	return nil, errUnknownZone
}

// wallTime is y-m-d h:m:s in loc, refusing a wall time that does not
// exist (the spring-forward gap) or that happens twice (the fall-back
// hour): which instant was meant cannot be known.
func wallTime(y int, mo time.Month, d, h, mi, s int, loc *time.Location) (time.Time, error) {
	if y < minYear || y > maxYear {
		return time.Time{}, fmt.Errorf("year %d: want %d–%d", y, minYear, maxYear)
	}
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || h < 0 || mi < 0 || s < 0 {
		return time.Time{}, fmt.Errorf("%04d-%02d-%02d %02d:%02d:%02d is not a date and time", y, mo, d, h, mi, s)
	}
	t := time.Date(y, mo, d, h, mi, s, 0, loc)
	if t.Year() != y || t.Month() != mo || t.Day() != d {
		return time.Time{}, fmt.Errorf("%04d-%02d-%02d is not a date", y, mo, d)
	}
	if t.Hour() != h || t.Minute() != mi {
		return time.Time{}, fmt.Errorf("%04d-%02d-%02d %02d:%02d does not exist in %s (the clocks skip it)", y, mo, d, h, mi, loc)
	}
	for _, alt := range []time.Time{t.Add(-time.Hour), t.Add(time.Hour)} {
		a := alt.In(loc)
		if a.Hour() == h && a.Minute() == mi && a.Day() == d {
			return time.Time{}, fmt.Errorf("%04d-%02d-%02d %02d:%02d happens twice in %s (the clocks go back): give the time in UTC",
				y, mo, d, h, mi, loc)
		}
	}
	return t.UTC(), nil
}

// maxName bounds a release's name.
const maxName = 200

// checkName refuses a name that would garble a log line, the journal or
// the console: control characters, invalid UTF-8, or one too long.
func checkName(n string) error {
	if !utf8.ValidString(n) {
		return fmt.Errorf("name %q: not UTF-8 text", clip(n))
	}
	if len(n) > maxName {
		return fmt.Errorf("name of %d bytes: at most %d", len(n), maxName)
	}
	for _, r := range n {
		if unicode.IsControl(r) {
			return fmt.Errorf("name %q: a control character", clip(n))
		}
	}
	return nil
}

// defaultZone is where times without a zone are.
var defaultZone = market.NewYork
