// This file holds the typed error every market data reader returns for bad
// input: which file, which record or line, which byte, which column.

package market

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ParseError reports bad input in a data file, in the spirit of
// encoding/csv's ParseError. Readers never panic on bad input: they return a
// *ParseError (check with errors.As) naming the file and the position.
type ParseError struct {
	File   string // file name as given to the reader ("a.zip!b.csv" for a zip member)
	Record int64  // 1-based record number (DBN records, CSV data rows), 0 if unknown
	Line   int64  // 1-based line (CSV formats), 0 if not a text format
	Offset int64  // byte offset of the record or line in the (decompressed) stream, -1 if unknown
	Column string // CSV column name, "" if none
	Err    error
}

// maxEcho bounds the input an error repeats: a 10 MB field is not echoed
// into the message, the log or the terminal.
const maxEcho = 64

// clip returns s cut to maxEcho bytes (at a rune boundary) with "…" after
// it when it was longer, for echoing input in an error.
func clip(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	i := maxEcho
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	} else if e.Record > 0 {
		fmt.Fprintf(&b, ": record %d", e.Record)
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " (byte %d)", e.Offset)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ", column %s", e.Column)
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("bad input")
	}
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// Sentinel causes wrapped in ParseError.Err where callers may want to tell
// them apart.
var (
	// ErrUnsupported: a schema or file kind this package does not read.
	ErrUnsupported = errors.New("unsupported data")
	// ErrBackwards: a timestamp earlier than the previous one. Readers refuse
	// the file at that point rather than reorder or drop.
	ErrBackwards = errors.New("time goes backwards")
	// ErrTruncated: the file ends in the middle of a header or record.
	ErrTruncated = errors.New("truncated")
)
