// This file writes a generated session as generic CSV ticks
// ("time,price,size,side"), the format market's CSV reader takes back.

package synth

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/deskguard/deskguard/market"
)

// CSVHeader is the first line WriteCSV writes.
const CSVHeader = "time,price,size,side"

// WriteCSV writes the session o as CSV ticks: a CSVHeader line, then one
// line per trade: time (RFC 3339 with nanoseconds, UTC, as
// time.RFC3339Nano formats it), price in index points with two decimals,
// size, side B or S.
func WriteCSV(w io.Writer, o Options) error {
	r, err := NewReader(o)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if _, err := bw.WriteString(CSVHeader + "\n"); err != nil {
		return fmt.Errorf("synth: write csv: %w", err)
	}
	var tf timeFormatter
	line := make([]byte, 0, 64)
	for {
		t, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		line = appendLine(line[:0], &tf, t)
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("synth: write csv at trade %d: %w", t.Seq, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("synth: write csv: %w", err)
	}
	return nil
}

func appendLine(b []byte, tf *timeFormatter, t market.Trade) []byte {
	b = tf.append(b, t.Time)
	b = append(b, ',')
	b = appendPrice(b, t.Price)
	b = append(b, ',')
	b = strconv.AppendInt(b, t.Size, 10)
	switch t.Aggressor {
	case market.Buy:
		b = append(b, ",B\n"...)
	case market.Sell:
		b = append(b, ",S\n"...)
	default:
		b = append(b, ",N\n"...)
	}
	return b
}

// appendPrice appends p exactly as market.Price.String formats it.
func appendPrice(b []byte, p market.Price) []byte {
	t := int64(p)
	if t < 0 {
		b = append(b, '-')
		t = -t
	}
	b = strconv.AppendInt(b, t/market.TicksPerPoint, 10)
	switch t % market.TicksPerPoint {
	case 0:
		return append(b, ".00"...)
	case 1:
		return append(b, ".25"...)
	case 2:
		return append(b, ".50"...)
	}
	return append(b, ".75"...)
}

// timeFormatter formats Unix nanoseconds as time.RFC3339Nano in UTC,
// caching the text of the current second (time.Format per trade costs more
// than generating the trade).
type timeFormatter struct {
	sec    int64
	prefix []byte // "2006-01-02T15:04:05"
	valid  bool
}

func (f *timeFormatter) append(b []byte, ns int64) []byte {
	sec, frac := ns/1e9, ns%1e9
	if frac < 0 {
		sec, frac = sec-1, frac+1e9
	}
	if !f.valid || sec != f.sec {
		f.sec, f.valid = sec, true
		f.prefix = time.Unix(sec, 0).UTC().AppendFormat(f.prefix[:0], "2006-01-02T15:04:05")
	}
	b = append(b, f.prefix...)
	if frac != 0 {
		var d [10]byte
		d[0] = '.'
		for i := 9; i >= 1; i-- {
			d[i] = byte('0' + frac%10)
			frac /= 10
		}
		n := 10
		for d[n-1] == '0' {
			n--
		}
		b = append(b, d[:n]...)
	}
	return append(b, 'Z')
}
