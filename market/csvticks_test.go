// Tests of the CSV tick reader and writer: good files, bad input with
// positions, a round-trip fuzz test and a no-panic fuzz test.

package market

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestCSVTicksRead(t *testing.T) {
	in := "time,price,size,side\n" +
		"2024-03-12T13:30:00Z,5150.25,3,B\n" +
		"2024-03-12T13:30:00.5Z,5150.50,1,\n" +
		"1710250201000000000,5150.00,2,A\n" +
		"2024-03-12T09:30:01.000000001-04:00,5150.00,4,N\n" +
		"# a comment line\n" +
		"2024-03-12T13:30:02Z,5149.75,7,S\n"
	got, f, err := readAllTrades(t, strings.NewReader(in), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := []Trade{
		{Time: 1710250200000000000, Price: MustPrice("5150.25"), Size: 3, Aggressor: Buy, Seq: 1},
		{Time: 1710250200500000000, Price: MustPrice("5150.50"), Size: 1, Aggressor: Buy, Seq: 2}, // uptick
		{Time: 1710250201000000000, Price: MustPrice("5150.00"), Size: 2, Aggressor: Sell, Seq: 3},
		{Time: 1710250201000000001, Price: MustPrice("5150.00"), Size: 4, Aggressor: Sell, Seq: 4}, // unchanged: previous side
		{Time: 1710250202000000000, Price: MustPrice("5149.75"), Size: 7, Aggressor: Sell, Seq: 5},
	}
	if len(got) != len(want) {
		t.Fatalf("%d trades: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("trade %d = %+v, want %+v", i+1, got[i], want[i])
		}
	}
	if i := f.Info(); i.Format != FormatCSVTicks || i.Aggressor != "data" || i.Kind != "trades" || f.Inferred() != 2 {
		t.Errorf("info %+v inferred %d", i, f.Inferred())
	}
}

func TestCSVTicksNoSideColumn(t *testing.T) {
	in := "price,time,size\n5000,1,1\n5000.25,2,1\n5000,3,2\n"
	got, f, err := readAllTrades(t, strings.NewReader(in), "ns.csv")
	if err != nil {
		t.Fatal(err)
	}
	if f.Info().Aggressor != "tick-rule" || got[0].Aggressor != Unknown || got[1].Aggressor != Buy || got[2].Aggressor != Sell {
		t.Fatalf("info %+v trades %+v", f.Info(), got)
	}
}

func TestCSVTicksBadInput(t *testing.T) {
	const h = "time,price,size,side\n"
	const ok = "2024-03-12T13:30:00Z,5150.25,3,B\n"
	cases := []struct {
		name, in     string
		line, record int64
		column, text string
		want         error
	}{
		{"empty file", "", 0, 0, "", "empty", ErrTruncated},
		{"missing column", "time,price,side\n", 1, 0, "", `lacks the "size" column`, nil},
		{"duplicate column", "time,price,size,price\n", 1, 0, "", "twice", nil},
		{"malformed quote", h + ok + "2024-03-12T13:30:01Z,\"5150,3,B\n", 3, 0, "", "quote", nil},
		{"wrong field count", h + ok + "2024-03-12T13:30:01Z,5150.25,3\n", 3, 0, "", "number of fields", nil},
		{"bad time", h + "yesterday,5150.25,3,B\n", 2, 1, "time", "RFC 3339", nil},
		{"off-tick price", h + ok + "2024-03-12T13:30:01Z,5150.10,3,B\n", 3, 2, "price", "tick grid", nil},
		{"negative price", h + "2024-03-12T13:30:01Z,-5150.25,3,B\n", 2, 1, "price", "not positive", nil},
		{"negative size", h + ok + "2024-03-12T13:30:01Z,5150.25,-3,B\n", 3, 2, "size", "not positive", nil},
		{"zero size", h + "2024-03-12T13:30:01Z,5150.25,0,B\n", 2, 1, "size", "not positive", nil},
		{"fractional size", h + "2024-03-12T13:30:01Z,5150.25,1.5,B\n", 2, 1, "size", "integer", nil},
		{"bad side", h + "2024-03-12T13:30:01Z,5150.25,1,X\n", 2, 1, "side", "side", nil},
		{"backwards time", h + ok + "2024-03-12T13:29:59Z,5150.25,1,B\n", 3, 2, "time", "before", ErrBackwards},
		{"year out of range", h + "9999-03-12T13:29:59Z,5150.25,1,B\n", 2, 1, "time", "range", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := readAllTrades(t, strings.NewReader(c.in), "bad.csv")
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err %v, want *ParseError", err)
			}
			if pe.File != "bad.csv" || pe.Line != c.line || pe.Record != c.record || pe.Column != c.column {
				t.Errorf("position %+v, want line %d record %d column %q", pe, c.line, c.record, c.column)
			}
			if !strings.Contains(err.Error(), c.text) || !strings.HasPrefix(err.Error(), "bad.csv") {
				t.Errorf("error %q lacks %q or the file and line", err, c.text)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("error %q is not %v", err, c.want)
			}
		})
	}
}

func TestCSVTicksOffset(t *testing.T) {
	in := "time,price,size,side\n1,5000,1,B\n2,5000.1,1,B\n"
	_, _, err := readAllTrades(t, strings.NewReader(in), "o.csv")
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Offset != int64(len("time,price,size,side\n1,5000,1,B\n")) {
		t.Fatalf("err %v offset %+v", err, pe)
	}
}

// tradeGen draws a valid, time-ordered session of trades.
func tradesGen() *rapid.Generator[[]Trade] {
	return rapid.Custom(func(t *rapid.T) []Trade {
		n := rapid.IntRange(0, 50).Draw(t, "n")
		ts := rapid.Int64Range(0, 4_000_000_000_000_000_000).Draw(t, "t0")
		out := make([]Trade, n)
		for i := range out {
			ts += rapid.Int64Range(0, 2_000_000_000).Draw(t, "dt")
			out[i] = Trade{
				Time:      ts,
				Price:     Price(rapid.Int64Range(1, 4_000_000).Draw(t, "p")),
				Size:      rapid.Int64Range(1, 1<<40).Draw(t, "s"),
				Aggressor: Side(rapid.IntRange(-1, 1).Draw(t, "side")),
			}
		}
		return out
	})
}

// roundTrip writes trades and reads them back (without the Feed's tick
// rule, which would fill Unknown sides).
func roundTrip(t interface {
	Fatal(...any)
	Fatalf(string, ...any)
}, in []Trade) []Trade {
	var buf bytes.Buffer
	if err := WriteCSVTicks(&buf, in); err != nil {
		t.Fatal(err)
	}
	r, err := newCSVTickReader(&buf, "rt.csv")
	if err != nil {
		t.Fatal(err)
	}
	var out []Trade
	for {
		tr, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		out = append(out, tr)
	}
}

func TestCSVTicksRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := tradesGen().Draw(t, "trades")
		out := roundTrip(t, in)
		if len(out) != len(in) {
			t.Fatalf("%d trades back, want %d", len(out), len(in))
		}
		for i := range in {
			if out[i] != in[i] {
				t.Fatalf("trade %d: %+v back, want %+v", i, out[i], in[i])
			}
		}
	})
}

func FuzzCSVTicksRoundTrip(f *testing.F) {
	f.Add(int64(1710250200000000000), int64(20601), int64(3), int8(1), int64(1), int64(-1))
	f.Add(int64(0), int64(1), int64(1), int8(0), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, ts, p, size int64, side int8, dt, dp int64) {
		if ts < 0 || ts > 7e18 || p <= 0 || p > 1<<40 || size <= 0 || dt < 0 || dt > 1e12 || p+dp <= 0 || dp > 1<<40 {
			return
		}
		in := []Trade{
			{Time: ts, Price: Price(p), Size: size, Aggressor: Side(side % 2)},
			{Time: ts + dt, Price: Price(p + dp), Size: size, Aggressor: Side(-(side % 2))},
		}
		out := roundTrip(t, in)
		if len(out) != 2 || out[0] != in[0] || out[1] != in[1] {
			t.Fatalf("%+v back, want %+v", out, in)
		}
	})
}

func FuzzCSVTicks(f *testing.F) {
	f.Add([]byte("time,price,size,side\n2024-03-12T13:30:00Z,5150.25,3,B\n1710250201000000000,5150,1,\n"))
	f.Add([]byte("price,size,time\n5000.75,1,1\n"))
	f.Add([]byte("time,price,size,side\n\"2024,5150.25,3,B\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, _, err := readAllTrades(t, bytes.NewReader(data), "fuzz.csv")
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("%T %v is not a *ParseError", err, err)
			}
		}
		for i, tr := range got {
			if tr.Size <= 0 || tr.Price <= 0 || (i > 0 && tr.Time < got[i-1].Time) {
				t.Fatalf("bad trade %d %+v", i, tr)
			}
		}
	})
}

func TestCSVTickWriterEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSVTicks(&buf, nil); err != nil || buf.String() != CSVTicksHeader+"\n" {
		t.Fatalf("%q %v", buf.String(), err)
	}
}

func BenchmarkCSVTicksRead(b *testing.B) {
	var buf bytes.Buffer
	cw := NewCSVTickWriter(&buf)
	const n = 100_000
	for i := range n {
		cw.Write(Trade{Time: t0 + int64(i)*1_000_000, Price: MustPrice("5150.25") + Price(i%4), Size: int64(1 + i%5), Aggressor: Side(i%3 - 1)})
	}
	cw.Flush()
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r, err := newCSVTickReader(bytes.NewReader(data), "b.csv")
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
	b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "trades/s")
}
