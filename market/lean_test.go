// Tests of the Lean minute zip reader against every real day in
// ../shared/data/es-minute, and of bad zips built in memory.

package market

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/internal/shareddata"
)

func readBars(t *testing.T, path string, opt OpenOptions) ([]Bar, *BarFeed) {
	t.Helper()
	b, err := OpenBars(path, opt)
	if err != nil {
		t.Fatalf("OpenBars(%s): %v", path, err)
	}
	defer b.Close()
	var out []Bar
	for {
		bar, err := b.Next()
		if err == io.EOF {
			return out, b
		}
		if err != nil {
			t.Fatalf("%s: bar %d: %v", path, len(out)+1, err)
		}
		out = append(out, bar)
	}
}

func TestLeanRealDays(t *testing.T) {
	dir := shareddata.SharedData(t) + "/es-minute/"
	// Counts and volumes of the front month (ESZ3, the largest volume each
	// day), checked independently with unzip, wc and awk.
	cases := []struct {
		day         string
		bars, vol   int64
		first, last string // "ms,o,h,l,c,v" rows as in the file
	}{
		{"20131007", 1344, 787701, "0,1676.5,1676.5,1676.5,1676.5,9", "86340000,1667.5,1667.75,1667.5,1667.75,7"},
		{"20131008", 1372, 1182485, "0,1667.5,1667.75,1667.25,1667.5,48", "86340000,1654.75,1655,1654.5,1654.5,50"},
		{"20131009", 1371, 1212178, "0,1654.5,1655,1654.5,1654.5,188", "86340000,1651.75,1652,1651.75,1652,95"},
		{"20131010", 1368, 1167121, "0,1651.75,1652,1651.75,1651.75,143", "86340000,1681.75,1682.5,1681.75,1682,64"},
		{"20131011", 1253, 742312, "0,1682,1683,1682,1683,275", "76440000,1699.75,1700.25,1699.5,1700,678"},
		{"20131014", 1372, 1449789, "0,1688,1688,1687.25,1687.5,955", "86340000,1708.75,1709,1708.5,1709,119"},
		{"20131029", 1340, 1177335, "0,1756.75,1757,1756.75,1756.75,28", "86340000,1767,1767,1766.75,1766.75,6"},
		{"20131030", 1361, 1771600, "0,1767,1767,1766.75,1767,82", "86340000,1754.75,1754.75,1754.25,1754.5,215"},
		{"20131118", 1361, 1546202, "0,1793,1793.25,1792.75,1793,323", "86340000,1789,1789.25,1788.75,1788.75,108"},
		{"20131202", 1370, 1303719, "0,1805.5,1805.75,1805.5,1805.75,17", "86340000,1800.5,1800.75,1800.5,1800.75,21"},
		{"20131203", 1372, 1686162, "0,1800.75,1801,1800.5,1800.75,190", "86340000,1791.75,1792,1791.5,1792,148"},
	}
	row := func(day string, b Bar) string {
		d, _ := time.Parse("20060102", day)
		ms := (b.Start - d.UnixNano()) / 1e6
		f := func(p Price) string { return strings.TrimSuffix(strings.TrimSuffix(p.String(), "0"), ".0") }
		return strings.Join([]string{itoa(ms), f(b.Open), f(b.High), f(b.Low), f(b.Close), itoa(b.Volume)}, ",")
	}
	for _, c := range cases {
		t.Run(c.day, func(t *testing.T) {
			bars, bf := readBars(t, dir+c.day+"_trade.zip", OpenOptions{})
			if int64(len(bars)) != c.bars || bf.Records() != c.bars {
				t.Fatalf("%d bars (%d records), want %d", len(bars), bf.Records(), c.bars)
			}
			var vol int64
			rth := 0
			for i, b := range bars {
				vol += b.Volume
				if b.Period != time.Minute || (i > 0 && b.Start <= bars[i-1].Start) {
					t.Fatalf("bar %d %v out of order", i, b)
				}
				if InRTH(time.Unix(0, b.Start)) {
					rth++
				}
			}
			if vol != c.vol {
				t.Errorf("volume %d, want %d", vol, c.vol)
			}
			// 390 RTH minutes on EDT (October) and EST (November,
			// December) days alike: the ms are UTC, RTH is New York.
			if rth != 390 {
				t.Errorf("%d RTH bars, want 390", rth)
			}
			if got := row(c.day, bars[0]); got != c.first {
				t.Errorf("first bar %s, want %s", got, c.first)
			}
			if got := row(c.day, bars[len(bars)-1]); got != c.last {
				t.Errorf("last bar %s, want %s", got, c.last)
			}
			if i := bf.Info(); i.Format != FormatLeanMinute || i.Symbol != "ESZ3" || i.Kind != "bars" {
				t.Errorf("info %+v", i)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestLeanPickMonth(t *testing.T) {
	path := shareddata.File(t, "es-minute/20131008_trade.zip")
	for _, sym := range []string{"ESH4", "MESH4", "esh4", "201403", "ESH14"} {
		bars, bf := readBars(t, path, OpenOptions{Symbol: sym})
		if len(bars) != 342 || bf.Info().Symbol != "ESH4" {
			t.Errorf("%s: %d bars of %s, want 342 of ESH4", sym, len(bars), bf.Info().Symbol)
		}
	}
	if _, err := OpenBars(path, OpenOptions{Symbol: "ESM5"}); err == nil || !strings.Contains(err.Error(), "ESZ3") {
		t.Errorf("unknown month: %v", err)
	}
}

func TestLeanFeedDerived(t *testing.T) {
	path := shareddata.File(t, "es-minute/20131008_trade.zip")
	trades, f := openAll(t, path)
	info := f.Info()
	if info.Kind != "bars" || !info.Derived || info.Aggressor != "tick-rule" || info.Format != FormatLeanMinute {
		t.Fatalf("info %+v", info)
	}
	bars, _ := readBars(t, path, OpenOptions{})
	// The derived trades rebuild the bars exactly (OHLCV per minute).
	bb := NewBarBuilder(time.Minute)
	var rebuilt []Bar
	for _, tr := range trades {
		if b, ok := bb.Add(tr); ok {
			rebuilt = append(rebuilt, b)
		}
	}
	if b, ok := bb.Flush(); ok {
		rebuilt = append(rebuilt, b)
	}
	var nonzero []Bar
	for _, b := range bars {
		if b.Volume > 0 {
			nonzero = append(nonzero, b)
		}
	}
	if len(rebuilt) != len(nonzero) {
		t.Fatalf("%d rebuilt bars, want %d", len(rebuilt), len(nonzero))
	}
	for i, b := range nonzero {
		r := rebuilt[i]
		if r.Start != b.Start || r.Open != b.Open || r.Close != b.Close || r.Volume != b.Volume ||
			(b.Volume >= 2 && (r.High != b.High || r.Low != b.Low)) {
			t.Fatalf("bar %d: rebuilt %v, want %v", i, r, b)
		}
	}
}

// makeZip builds a zip of the given members in memory.
func makeZip(t *testing.T, members map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for name, body := range members {
		f, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(body))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLeanScaledPrices(t *testing.T) {
	z := makeZip(t, map[string]string{"20240312_mes_minute_trade_202403.csv": "48600000,51502500,51507500,51500000,51505000,10\r\n48660000,5150.5,5150.5,5150.5,5150.5,1\n"})
	f, err := OpenTrades(bytes.NewReader(z), "20240312_trade.zip")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := f.Next()
	if err != nil || tr.Price != MustPrice("5150.25") || tr.Time != time.Date(2024, 3, 12, 13, 30, 0, 0, time.UTC).UnixNano() {
		t.Fatalf("%+v %v", tr, err)
	}
	if f.Info().Symbol != "MESH4" {
		t.Errorf("symbol %s", f.Info().Symbol)
	}
}

func TestLeanBadInput(t *testing.T) {
	const m = "20240312_es_minute_trade_202403.csv"
	cases := []struct {
		name   string
		zip    []byte
		file   string // the error's File
		line   int64
		column string
		text   string
		want   error
	}{
		{"not a zip", []byte("PK\x03\x04 this is no zip"), "x_trade.zip", 0, "", "not a readable zip", nil},
		{"empty", nil, "x_trade.zip", 0, "", "empty", ErrTruncated},
		{"zip without CSVs", makeZip(t, map[string]string{"readme.txt": "hi"}), "x_trade.zip", 0, "", "no Lean minute trade CSV", nil},
		{"quote zip", makeZip(t, map[string]string{"20240312_es_minute_quote_202403.csv": "0,1,1,1,1,1,1,1,1,1,1\n"}), "", 0, "", "quote", ErrUnsupported},
		{"short row", makeZip(t, map[string]string{m: "0,5000,5000,5000,5000,1\n60000,5000,5000\n"}), "x_trade.zip!" + m, 2, "", "3 fields", nil},
		{"off-tick price", makeZip(t, map[string]string{m: "0,5000.1,5000,5000,5000,1\n"}), "x_trade.zip!" + m, 1, "open", "tick grid", nil},
		{"negative volume", makeZip(t, map[string]string{m: "0,5000,5000,5000,5000,-1\n"}), "x_trade.zip!" + m, 1, "volume", "negative", nil},
		{"backwards minute", makeZip(t, map[string]string{m: "60000,5000,5000,5000,5000,1\n0,5000,5000,5000,5000,1\n"}), "x_trade.zip!" + m, 2, "time", "after", ErrBackwards},
		{"time past midnight", makeZip(t, map[string]string{m: "86400000,5000,5000,5000,5000,1\n"}), "x_trade.zip!" + m, 1, "time", "milliseconds", nil},
		{"high below open", makeZip(t, map[string]string{m: "0,5000,4999,4998,4999,1\n"}), "x_trade.zip!" + m, 1, "", "inconsistent", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := readAllTrades(t, bytes.NewReader(c.zip), "x_trade.zip")
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err %v, want *ParseError", err)
			}
			if c.file != "" && pe.File != c.file {
				t.Errorf("file %q, want %q", pe.File, c.file)
			}
			if !strings.HasPrefix(pe.File, "x_trade.zip") || pe.Line != c.line || pe.Column != c.column {
				t.Errorf("position %+v, want line %d column %q", pe, c.line, c.column)
			}
			if !strings.Contains(err.Error(), c.text) {
				t.Errorf("error %q lacks %q", err, c.text)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("error %q is not %v", err, c.want)
			}
		})
	}
}

func TestOpenBarsRefusesTrades(t *testing.T) {
	path := shareddata.File(t, "dbn-fixtures/test_data.trades.v2.dbn")
	if _, err := OpenBars(path, OpenOptions{}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err %v", err)
	}
}
