// This file reads and writes generic CSV ticks: a header naming the columns
// time, price, size and optionally side, then one trade per line. Time is
// RFC 3339 (fractional seconds allowed) or integer nanoseconds since the
// Unix epoch; price is index points ("5150.25", on the 0.25 grid); size a
// positive integer; side B (buy aggressor), S or A (sell aggressor), N or
// empty (unknown). Times going backwards are refused with the line.

package market

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// CSVTicksHeader is the header WriteCSVTicks and CSVTickWriter write.
const CSVTicksHeader = "time,price,size,side"

// csvTickReader streams trades from CSV ticks.
type csvTickReader struct {
	name    string
	cr      *csv.Reader
	col     [4]int // index of time, price, size, side (-1 = absent)
	names   []string
	hasSide bool
	last    int64
	rec     int64
	off     int64 // input offset where the next line starts
	err     error
}

var csvTickCols = [4]string{"time", "price", "size", "side"}

func newCSVTickReader(r io.Reader, name string) (*csvTickReader, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.ReuseRecord = true
	cr.Comment = '#'
	c := &csvTickReader{name: name, cr: cr, col: [4]int{-1, -1, -1, -1}}
	head, err := cr.Read()
	if err == io.EOF {
		return nil, &ParseError{File: name, Line: 1, Offset: 0, Err: fmt.Errorf("%w: empty file (want a header %q)", ErrTruncated, CSVTicksHeader)}
	}
	if err != nil {
		return nil, c.csvErr(err)
	}
	c.names = make([]string, len(head))
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		c.names[i] = h
		for k, want := range csvTickCols {
			if h == want {
				if c.col[k] >= 0 {
					return nil, &ParseError{File: name, Line: 1, Offset: 0, Err: fmt.Errorf("header names column %q twice", clip(h))}
				}
				c.col[k] = i
			}
		}
	}
	for k := range 3 {
		if c.col[k] < 0 {
			return nil, &ParseError{File: name, Line: 1, Offset: 0, Err: fmt.Errorf("header %q lacks the %q column (want %q)", clip(strings.Join(head, ",")), csvTickCols[k], CSVTicksHeader)}
		}
	}
	c.hasSide = c.col[3] >= 0
	cr.FieldsPerRecord = len(head)
	c.off = cr.InputOffset()
	return c, nil
}

// csvErr converts an encoding/csv error into a *ParseError.
func (c *csvTickReader) csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{File: c.name, Line: int64(pe.Line), Offset: -1, Err: pe.Err}
	}
	return &ParseError{File: c.name, Offset: -1, Err: err}
}

// Next returns the next trade.
func (c *csvTickReader) Next() (Trade, error) {
	if c.err != nil {
		return Trade{}, c.err
	}
	t, err := c.next()
	if err != nil {
		c.err = err
	}
	return t, err
}

func (c *csvTickReader) next() (Trade, error) {
	rec, err := c.cr.Read()
	if err == io.EOF {
		return Trade{}, io.EOF
	}
	if err != nil {
		return Trade{}, c.csvErr(err)
	}
	c.rec++
	line, _ := c.cr.FieldPos(0)
	off := c.off
	c.off = c.cr.InputOffset()
	bad := func(k int, err error) error {
		return &ParseError{File: c.name, Record: c.rec, Line: int64(line), Offset: off, Column: csvTickCols[k], Err: err}
	}
	var t Trade
	ts := strings.TrimSpace(rec[c.col[0]])
	if t.Time, err = parseTickTime(ts); err != nil {
		return Trade{}, bad(0, err)
	}
	if t.Price, err = ParsePrice(rec[c.col[1]]); err != nil {
		return Trade{}, bad(1, err)
	}
	if t.Price <= 0 {
		return Trade{}, bad(1, fmt.Errorf("price %s is not positive", t.Price))
	}
	sz := strings.TrimSpace(rec[c.col[2]])
	if t.Size, err = strconv.ParseInt(sz, 10, 64); err != nil {
		return Trade{}, bad(2, fmt.Errorf("size %q is not an integer", clip(sz)))
	}
	if t.Size <= 0 {
		return Trade{}, bad(2, fmt.Errorf("size %d is not positive", t.Size))
	}
	if c.hasSide {
		switch s := strings.TrimSpace(rec[c.col[3]]); s {
		case "B", "b":
			t.Aggressor = Buy
		case "S", "s", "A", "a":
			t.Aggressor = Sell
		case "N", "n", "":
			t.Aggressor = Unknown
		default:
			return Trade{}, bad(3, fmt.Errorf("side %q, want B, S, A, N or empty", clip(s)))
		}
	}
	if c.rec > 1 && t.Time < c.last {
		return Trade{}, bad(0, fmt.Errorf("%w: %s is before the previous trade's %s", ErrBackwards,
			time.Unix(0, t.Time).UTC().Format(time.RFC3339Nano), time.Unix(0, c.last).UTC().Format(time.RFC3339Nano)))
	}
	c.last = t.Time
	return t, nil
}

// parseTickTime accepts integer epoch nanoseconds or RFC 3339.
func parseTickTime(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("empty time")
	}
	if s[0] >= '0' && s[0] <= '9' && !strings.ContainsAny(s, "-:T") {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("time %q: not epoch nanoseconds", clip(s))
		}
		return n, nil
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("time %q: want RFC 3339 or epoch nanoseconds", clip(s))
	}
	if y := tm.Year(); y < 1700 || y > 2200 {
		return 0, fmt.Errorf("time %q: outside the int64 nanosecond range", clip(s))
	}
	return tm.UnixNano(), nil
}

// CSVTickWriter streams trades as CSV ticks (the format the reader takes):
// RFC 3339 UTC times with nanoseconds, prices in index points, side B, S or N.
type CSVTickWriter struct {
	w      *bufio.Writer
	line   []byte
	header bool
}

// NewCSVTickWriter returns a writer; the header is written with the first
// trade (or by Flush if there is none).
func NewCSVTickWriter(w io.Writer) *CSVTickWriter {
	return &CSVTickWriter{w: bufio.NewWriterSize(w, 64<<10), line: make([]byte, 0, 64)}
}

func (cw *CSVTickWriter) writeHeader() error {
	if cw.header {
		return nil
	}
	cw.header = true
	_, err := cw.w.WriteString(CSVTicksHeader + "\n")
	return err
}

// Write appends one trade.
func (cw *CSVTickWriter) Write(t Trade) error {
	if err := cw.writeHeader(); err != nil {
		return fmt.Errorf("market: write csv ticks: %w", err)
	}
	b := time.Unix(0, t.Time).UTC().AppendFormat(cw.line[:0], time.RFC3339Nano)
	b = append(b, ',')
	b = append(b, t.Price.String()...)
	b = append(b, ',')
	b = strconv.AppendInt(b, t.Size, 10)
	switch t.Aggressor {
	case Buy:
		b = append(b, ",B\n"...)
	case Sell:
		b = append(b, ",S\n"...)
	default:
		b = append(b, ",N\n"...)
	}
	cw.line = b
	if _, err := cw.w.Write(b); err != nil {
		return fmt.Errorf("market: write csv ticks: %w", err)
	}
	return nil
}

// Flush writes the header if nothing was written yet, then buffered data.
func (cw *CSVTickWriter) Flush() error {
	if err := cw.writeHeader(); err != nil {
		return fmt.Errorf("market: write csv ticks: %w", err)
	}
	if err := cw.w.Flush(); err != nil {
		return fmt.Errorf("market: write csv ticks: %w", err)
	}
	return nil
}

// WriteCSVTicks writes trades as CSV ticks with a header.
func WriteCSVTicks(w io.Writer, trades []Trade) error {
	cw := NewCSVTickWriter(w)
	for _, t := range trades {
		if err := cw.Write(t); err != nil {
			return err
		}
	}
	return cw.Flush()
}
