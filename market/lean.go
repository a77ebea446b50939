// This file reads QuantConnect Lean one-minute trade bar zips
// (YYYYMMDD_trade.zip holding YYYYMMDD_<root>_minute_trade_YYYYMM.csv, one
// CSV per contract month) into one-minute Bars of one contract month: the
// one named, or the front month (largest volume that day).

package market

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// LeanMonth is one contract month's CSV in a Lean zip.
type LeanMonth struct {
	Member string // CSV name inside the zip
	Symbol string // e.g. "ESZ3"
	Year   int
	Month  time.Month
	Volume int64 // sum of the volume column (rows that parse)
}

// leanBarReader streams the bars of one member.
type leanBarReader struct {
	name   string // "zip!member"
	date   int64  // midnight UTC of the file's date, ns
	sc     *bufio.Scanner
	rc     io.ReadCloser
	line   int64
	off    int64
	lastMs int64
	err    error
}

const msPerDay = 24 * 60 * 60 * 1000

// leanDate parses the YYYYMMDD prefix of a Lean file name.
func leanDate(base string) (time.Time, bool) {
	if len(base) < 9 || base[8] != '_' {
		return time.Time{}, false
	}
	d, err := time.ParseInLocation("20060102", base[:8], time.UTC)
	return d, err == nil
}

// parseLeanMember parses "YYYYMMDD_es_minute_trade_YYYYMM.csv".
func parseLeanMember(name string) (LeanMonth, bool) {
	base := path.Base(name)
	if !strings.HasSuffix(strings.ToLower(base), ".csv") {
		return LeanMonth{}, false
	}
	parts := strings.Split(base[:len(base)-4], "_")
	if len(parts) != 5 || parts[2] != "minute" || parts[3] != "trade" || len(parts[4]) != 6 {
		return LeanMonth{}, false
	}
	ym, err := time.Parse("200601", parts[4])
	if err != nil || parts[1] == "" {
		return LeanMonth{}, false
	}
	s := Symbol{Root: strings.ToUpper(parts[1]), Year: ym.Year(), Month: ym.Month()}
	return LeanMonth{Member: name, Symbol: s.String(), Year: ym.Year(), Month: ym.Month()}, true
}

// leanZip is an opened Lean zip with its contract months.
type leanZip struct {
	name   string
	date   time.Time
	zr     *zip.Reader
	months []LeanMonth // sorted by volume, largest first
	files  map[string]*zip.File
}

func openLeanZip(ra io.ReaderAt, size int64, name string) (*leanZip, error) {
	base := path.Base(name)
	if strings.Contains(strings.ToLower(base), "_quote") {
		return nil, &ParseError{File: name, Offset: -1, Err: fmt.Errorf("%w: Lean quote bars (this reader takes trade bars, YYYYMMDD_trade.zip)", ErrUnsupported)}
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, &ParseError{File: name, Offset: -1, Err: fmt.Errorf("not a readable zip: %w", err)}
	}
	z := &leanZip{name: name, zr: zr, files: map[string]*zip.File{}}
	date, ok := leanDate(base)
	for _, f := range zr.File {
		m, isTrade := parseLeanMember(f.Name)
		if !isTrade {
			if strings.Contains(f.Name, "_quote_") {
				return nil, &ParseError{File: name + "!" + f.Name, Offset: -1, Err: fmt.Errorf("%w: Lean quote bars", ErrUnsupported)}
			}
			continue
		}
		if !ok {
			date, ok = leanDate(path.Base(f.Name))
		}
		z.files[f.Name] = f
		z.months = append(z.months, m)
	}
	if len(z.months) == 0 {
		return nil, &ParseError{File: name, Offset: -1, Err: errors.New("zip holds no Lean minute trade CSV (want YYYYMMDD_<root>_minute_trade_YYYYMM.csv)")}
	}
	if !ok {
		return nil, &ParseError{File: name, Offset: -1, Err: errors.New("no YYYYMMDD date in the zip's or its members' names")}
	}
	z.date = date
	for i := range z.months {
		z.months[i].Volume = z.volume(z.files[z.months[i].Member])
	}
	sort.SliceStable(z.months, func(i, j int) bool { return z.months[i].Volume > z.months[j].Volume })
	return z, nil
}

// volume sums the volume column of a member, ignoring rows that do not
// parse (the chosen member is parsed strictly later).
func (z *leanZip) volume(f *zip.File) int64 {
	rc, err := f.Open()
	if err != nil {
		return 0
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	var v int64
	for sc.Scan() {
		b := bytes.TrimRight(sc.Bytes(), "\r")
		if i := bytes.LastIndexByte(b, ','); i >= 0 {
			if n, err := strconv.ParseInt(string(b[i+1:]), 10, 64); err == nil && n > 0 && v+n > v {
				v += n
			}
		}
	}
	return v
}

// pick chooses the month named by sym ("ESZ3", "MESZ3", "ESZ13", "201312")
// or, if sym is empty, the front month by volume.
func (z *leanZip) pick(sym string) (LeanMonth, error) {
	if sym == "" {
		return z.months[0], nil
	}
	var names []string
	for _, m := range z.months {
		names = append(names, m.Symbol)
		if strings.EqualFold(sym, m.Symbol) || sym == fmt.Sprintf("%04d%02d", m.Year, int(m.Month)) {
			return m, nil
		}
		if s, err := ParseSymbol(strings.ToUpper(sym), z.date); err == nil && s.Year == m.Year && s.Month == m.Month {
			return m, nil
		}
	}
	return LeanMonth{}, &ParseError{File: z.name, Offset: -1, Err: fmt.Errorf("contract %q not in the zip (it holds %s)", clip(sym), clip(strings.Join(names, ", ")))}
}

func (z *leanZip) bars(m LeanMonth) (*leanBarReader, error) {
	f := z.files[m.Member]
	rc, err := f.Open()
	if err != nil {
		return nil, &ParseError{File: z.name + "!" + m.Member, Offset: -1, Err: fmt.Errorf("opening zip member: %w", err)}
	}
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 4096), 64<<10)
	return &leanBarReader{name: z.name + "!" + m.Member, date: z.date.UnixNano(), sc: sc, rc: rc, lastMs: -1}, nil
}

// parseLeanPrice parses a Lean price: index points ("1667.25"), or, for
// files that store prices as integers scaled by 10,000 (Lean's equity
// convention), an integer of at least 1,000,000 ("16672500").
func parseLeanPrice(s string) (Price, error) {
	if !strings.ContainsAny(s, ".eE") && len(s) >= 7 {
		v, err := strconv.ParseInt(s, 10, 64)
		if err == nil && v >= 1_000_000 {
			const perTick = 10000 / TicksPerPoint
			if v%perTick != 0 {
				return 0, &PriceError{s, "scaled ×10000 price not on the 0.25 tick grid"}
			}
			return Price(v / perTick), nil
		}
	}
	return ParsePrice(s)
}

var leanCols = [6]string{"time", "open", "high", "low", "close", "volume"}

// Next returns the next bar.
func (l *leanBarReader) Next() (Bar, error) {
	if l.err != nil {
		return Bar{}, l.err
	}
	b, err := l.next()
	if err != nil {
		l.err = err
	}
	return b, err
}

func (l *leanBarReader) next() (Bar, error) {
	for {
		if !l.sc.Scan() {
			if err := l.sc.Err(); err != nil {
				return Bar{}, &ParseError{File: l.name, Line: l.line + 1, Offset: l.off, Err: err}
			}
			return Bar{}, io.EOF
		}
		l.line++
		off := l.off
		raw := l.sc.Bytes()
		l.off += int64(len(raw)) + 1
		line := strings.TrimSpace(string(raw))
		if line == "" {
			continue
		}
		bad := func(col int, err error) error {
			c := ""
			if col >= 0 {
				c = leanCols[col]
			}
			return &ParseError{File: l.name, Line: l.line, Offset: off, Column: c, Err: err}
		}
		f := strings.Split(line, ",")
		if len(f) != 6 {
			return Bar{}, bad(-1, fmt.Errorf("%d fields, want 6 (ms,open,high,low,close,volume)", len(f)))
		}
		ms, err := strconv.ParseInt(strings.TrimSpace(f[0]), 10, 64)
		if err != nil || ms < 0 || ms >= msPerDay {
			return Bar{}, bad(0, fmt.Errorf("time %q: want milliseconds since midnight (0 to %d)", clip(f[0]), msPerDay-1))
		}
		if ms%60000 != 0 {
			return Bar{}, bad(0, fmt.Errorf("time %d ms is not on a minute", ms))
		}
		if ms <= l.lastMs {
			return Bar{}, bad(0, fmt.Errorf("%w: minute at %d ms after %d ms", ErrBackwards, ms, l.lastMs))
		}
		var px [4]Price
		for i := range px {
			p, err := parseLeanPrice(strings.TrimSpace(f[1+i]))
			if err != nil {
				return Bar{}, bad(1+i, err)
			}
			if p <= 0 {
				return Bar{}, bad(1+i, fmt.Errorf("price %s is not positive", p))
			}
			px[i] = p
		}
		o, h, lo, c := px[0], px[1], px[2], px[3]
		if h < max(o, c, lo) || lo > min(o, c, h) {
			return Bar{}, bad(-1, fmt.Errorf("inconsistent bar: open %s high %s low %s close %s", o, h, lo, c))
		}
		vol, err := strconv.ParseInt(strings.TrimSpace(f[5]), 10, 64)
		if err != nil {
			return Bar{}, bad(5, fmt.Errorf("volume %q is not an integer", clip(f[5])))
		}
		if vol < 0 {
			return Bar{}, bad(5, fmt.Errorf("volume %d is negative", vol))
		}
		l.lastMs = ms
		return Bar{Start: l.date + ms*int64(time.Millisecond), Period: time.Minute,
			Open: o, High: h, Low: lo, Close: c, Volume: vol}, nil
	}
}

func (l *leanBarReader) close() error { return l.rc.Close() }
