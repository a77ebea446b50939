// Tests of the DBN decoder: every real file in ../shared/data, crafted
// files for each kind of bad input, a fuzz test and decode benchmarks.

package market

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/internal/shareddata"
	"github.com/klauspost/compress/zstd"
)

// dbnSpec describes a crafted DBN file.
type dbnSpec struct {
	version uint8
	schema  uint16
	tsOut   bool
	symbol  string // one requested symbol mapped to instrument 42 ("" = none)
}

// dbnMeta builds the prelude and metadata of a crafted file.
func dbnMeta(s dbnSpec) []byte {
	le := binary.LittleEndian
	var m []byte
	m = append(m, []byte("GLBX.MDP3\x00\x00\x00\x00\x00\x00\x00")...)
	m = le.AppendUint16(m, s.schema)
	m = le.AppendUint64(m, 1_700_000_000_000_000_000)
	m = le.AppendUint64(m, 1_700_000_100_000_000_000)
	m = le.AppendUint64(m, 0)
	width := 22
	ts := byte(0)
	if s.tsOut {
		ts = 1
	}
	if s.version == 1 {
		m = le.AppendUint64(m, 0)
		m = append(m, 1, 0, ts)
		m = append(m, make([]byte, 47)...)
	} else {
		width = 71
		m = append(m, 1, 0, ts)
		m = le.AppendUint16(m, uint16(width))
		m = append(m, make([]byte, 53)...)
	}
	m = le.AppendUint32(m, 0) // schema definition length
	sym := func(x string) []byte { b := make([]byte, width); copy(b, x); return b }
	if s.symbol != "" {
		m = le.AppendUint32(m, 1)
		m = append(m, sym(s.symbol)...)
	} else {
		m = le.AppendUint32(m, 0)
	}
	m = le.AppendUint32(m, 0) // partial
	m = le.AppendUint32(m, 0) // not found
	if s.symbol != "" {
		m = le.AppendUint32(m, 1)
		m = append(m, sym(s.symbol)...)
		m = le.AppendUint32(m, 1)
		m = le.AppendUint32(m, 20231114)
		m = le.AppendUint32(m, 20231115)
		m = append(m, sym("42")...)
	} else {
		m = le.AppendUint32(m, 0)
	}
	if s.version == 3 {
		for len(m)%8 != 0 {
			m = append(m, 0)
		}
	}
	out := append([]byte("DBN"), s.version)
	out = le.AppendUint32(out, uint32(len(m)))
	return append(out, m...)
}

// dbnTrade builds one trade record (rtype 0x00) for instrument 42.
func dbnTrade(tsOut bool, ts int64, pxNanos int64, size uint32, side byte) []byte {
	le := binary.LittleEndian
	n := 48
	if tsOut {
		n += 8
	}
	r := make([]byte, n)
	r[0], r[1] = byte(n/4), 0x00
	le.PutUint16(r[2:], 1)
	le.PutUint32(r[4:], 42)
	le.PutUint64(r[8:], uint64(ts))
	le.PutUint64(r[16:], uint64(pxNanos))
	le.PutUint32(r[24:], size)
	r[28], r[29] = 'T', side
	le.PutUint64(r[32:], uint64(ts+1000))
	if tsOut {
		le.PutUint64(r[48:], uint64(ts+2000))
	}
	return r
}

// dbnMBO builds one mbo record (rtype 0xA0).
func dbnMBO(ts int64, pxNanos int64, size uint32, action, side byte) []byte {
	le := binary.LittleEndian
	r := make([]byte, 56)
	r[0], r[1] = 14, 0xA0
	le.PutUint32(r[4:], 42)
	le.PutUint64(r[8:], uint64(ts))
	le.PutUint64(r[16:], 7)
	le.PutUint64(r[24:], uint64(pxNanos))
	le.PutUint32(r[32:], size)
	r[38], r[39] = action, side
	return r
}

const t0 = int64(1_700_000_000_000_000_000)

func px(points string) int64 { return int64(MustPrice(points)) * 250_000_000 }

func zstdFrames(t testing.TB, parts ...[]byte) []byte {
	t.Helper()
	var out []byte
	for _, p := range parts {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		out = enc.EncodeAll(p, out)
		enc.Close()
	}
	return out
}

func readAllTrades(t testing.TB, r io.Reader, name string) ([]Trade, *Feed, error) {
	t.Helper()
	f, err := OpenTrades(r, name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var out []Trade
	for {
		tr, err := f.Next()
		if err == io.EOF {
			return out, f, nil
		}
		if err != nil {
			return out, f, err
		}
		out = append(out, tr)
	}
}

func openAll(t *testing.T, path string) ([]Trade, *Feed) {
	t.Helper()
	f, err := Open(path, OpenOptions{})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	defer f.Close()
	var out []Trade
	for {
		tr, err := f.Next()
		if err == io.EOF {
			return out, f
		}
		if err != nil {
			t.Fatalf("%s: trade %d: %v", path, len(out)+1, err)
		}
		out = append(out, tr)
	}
}

func TestDBNFixturesESH1(t *testing.T) {
	dir := shareddata.SharedData(t)
	want := []Trade{
		{Time: 1609160400098821953, Price: MustPrice("3720.25"), Size: 5, Aggressor: Sell, Seq: 1},
		{Time: 1609160400107665963, Price: MustPrice("3720.25"), Size: 21, Aggressor: Sell, Seq: 2},
	}
	for _, name := range []string{"test_data.trades.dbn", "test_data.trades.v1.dbn", "test_data.trades.v1.dbn.zst",
		"test_data.trades.v2.dbn", "test_data.trades.v2.dbn.zst", "test_data.trades.v3.dbn", "test_data.trades.v3.dbn.zst"} {
		t.Run(name, func(t *testing.T) {
			got, f := openAll(t, dir+"/dbn-fixtures/"+name)
			if len(got) != len(want) {
				t.Fatalf("%d trades, want %d: %v", len(got), len(want), got)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("trade %d = %+v, want %+v", i, got[i], want[i])
				}
			}
			if got[0].T().Format(time.RFC3339) != "2020-12-28T13:00:00Z" {
				t.Errorf("time %s", got[0].T())
			}
			info := f.Info()
			if info.Format != FormatDBNTrades || info.Symbol != "ESH1" || info.Kind != "trades" || info.Derived || info.Aggressor != "data" {
				t.Errorf("info %+v", info)
			}
			if f.Inferred() != 0 {
				t.Errorf("inferred %d, want 0", f.Inferred())
			}
		})
	}
}

func TestDBNRefusesOtherSchemas(t *testing.T) {
	dir := shareddata.SharedData(t)
	for _, c := range []struct{ file, schema string }{
		{"test_data.ohlcv-1m.dbn", "ohlcv-1m"},
		{"test_data.tbbo.dbn", "tbbo"},
	} {
		_, err := Open(dir+"/dbn-fixtures/"+c.file, OpenOptions{})
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, ErrUnsupported) {
			t.Fatalf("%s: err %v, want a *ParseError wrapping ErrUnsupported", c.file, err)
		}
		if !strings.Contains(err.Error(), `"`+c.schema+`"`) || !strings.Contains(err.Error(), c.file) {
			t.Errorf("%s: error %q does not name the schema and the file", c.file, err)
		}
	}
}

func TestDBNRealTicks(t *testing.T) {
	dir := shareddata.SharedData(t) + "/es-ticks/"
	cases := []struct {
		file, format, symbol string
		trades, records      int64
		volume               int64
		first, last          Trade
	}{
		{"esh4-glbx-mdp3-20231225.mbo.dbn.zst", FormatDBNMBO, "ESH4", 2973, 68792, 9892,
			Trade{Time: 1703545200000000000, Price: MustPrice("4800.25"), Size: 44, Aggressor: Unknown, Seq: 1},
			Trade{Time: 1703548796799167221, Price: MustPrice("4810.00"), Size: 1, Aggressor: Sell, Seq: 2973}},
		{"futures_trades_2024-07-01T23-58_2024-07-02T00-02.dbn.zst", FormatDBNTrades, "ESU4", 120, 120, 253,
			Trade{Time: 1719878281218218853, Price: MustPrice("5528.75"), Size: 2, Aggressor: Buy, Seq: 1},
			Trade{Time: 1719878512813445903, Price: MustPrice("5529.25"), Size: 1, Aggressor: Sell, Seq: 120}},
		{"futures_mbp-1_2024-07-01T23-58_2024-07-02T00-02.dbn.zst", FormatDBNMBP1, "ESU4", 120, 2288, 253,
			Trade{Time: 1719878281218218853, Price: MustPrice("5528.75"), Size: 2, Aggressor: Buy, Seq: 1},
			Trade{Time: 1719878512813445903, Price: MustPrice("5529.25"), Size: 1, Aggressor: Sell, Seq: 120}},
	}
	byFile := map[string][]Trade{}
	for _, c := range cases {
		t.Run(c.format, func(t *testing.T) {
			got, f := openAll(t, dir+c.file)
			byFile[c.format] = got
			if int64(len(got)) != c.trades || f.Records() != c.records {
				t.Fatalf("%d trades in %d records, want %d in %d", len(got), f.Records(), c.trades, c.records)
			}
			if got[0] != c.first || got[len(got)-1] != c.last {
				t.Errorf("first %+v last %+v, want %+v and %+v", got[0], got[len(got)-1], c.first, c.last)
			}
			var vol int64
			for i, tr := range got {
				vol += tr.Size
				if i > 0 && tr.Time < got[i-1].Time {
					t.Fatalf("trade %d goes back in time", i+1)
				}
			}
			if vol != c.volume {
				t.Errorf("volume %d, want %d", vol, c.volume)
			}
			if i := f.Info(); i.Format != c.format || i.Symbol != c.symbol || i.Aggressor != "data" {
				t.Errorf("info %+v", i)
			}
		})
	}
	// The mbp-1 file's trade records are the trades file's trades.
	if a, b := byFile[FormatDBNTrades], byFile[FormatDBNMBP1]; len(a) > 0 && len(b) == len(a) {
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("trade %d: trades file %+v, mbp-1 file %+v", i+1, a[i], b[i])
			}
		}
	}
}

func TestDBNCraftedVersions(t *testing.T) {
	for _, v := range []uint8{1, 2, 3} {
		for _, tsOut := range []bool{false, true} {
			file := dbnMeta(dbnSpec{version: v, schema: dbnSchemaTrades, tsOut: tsOut, symbol: "MESZ5"})
			file = append(file, dbnTrade(tsOut, t0, px("5150.25"), 3, 'B')...)
			file = append(file, dbnTrade(tsOut, t0+5, px("5150.50"), 1, 'N')...)
			file = append(file, dbnTrade(tsOut, t0+5, px("5150.00"), 2, 'A')...)
			for _, z := range []bool{false, true} {
				data := file
				if z { // two frames: metadata + first record, then the rest
					cut := len(file) - 2*len(dbnTrade(tsOut, 0, 0, 0, 0))
					data = zstdFrames(t, file[:cut], file[cut:])
				}
				got, f, err := readAllTrades(t, bytes.NewReader(data), "crafted.dbn")
				if err != nil {
					t.Fatalf("v%d tsOut=%v zstd=%v: %v", v, tsOut, z, err)
				}
				want := []Trade{
					{Time: t0, Price: MustPrice("5150.25"), Size: 3, Aggressor: Buy, Seq: 1},
					{Time: t0 + 5, Price: MustPrice("5150.50"), Size: 1, Aggressor: Buy, Seq: 2}, // tick rule: uptick
					{Time: t0 + 5, Price: MustPrice("5150.00"), Size: 2, Aggressor: Sell, Seq: 3},
				}
				if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
					t.Errorf("v%d tsOut=%v zstd=%v: %+v", v, tsOut, z, got)
				}
				if f.Info().Symbol != "MESZ5" || f.Inferred() != 1 {
					t.Errorf("v%d: info %+v inferred %d", v, f.Info(), f.Inferred())
				}
			}
		}
	}
}

func TestDBNMBOTradesOnly(t *testing.T) {
	file := dbnMeta(dbnSpec{version: 2, schema: dbnSchemaMBO, symbol: "MESZ5"})
	file = append(file, dbnMBO(t0, px("5000"), 4, 'A', 'B')...)
	file = append(file, dbnMBO(t0+1, px("5000"), 2, 'T', 'A')...)
	file = append(file, dbnMBO(t0+1, px("5000"), 2, 'F', 'B')...)
	file = append(file, dbnMBO(t0+2, px("5000.25"), 1, 'T', 'B')...)
	got, f, err := readAllTrades(t, bytes.NewReader(file), "mbo.dbn")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Aggressor != Sell || got[1].Price != MustPrice("5000.25") || f.Records() != 4 {
		t.Fatalf("%+v records %d", got, f.Records())
	}
	if f.Info().Format != FormatDBNMBO {
		t.Errorf("format %s", f.Info().Format)
	}
}

func TestDBNBadInput(t *testing.T) {
	good := dbnMeta(dbnSpec{version: 2, schema: dbnSchemaTrades, symbol: "MESZ5"})
	metaLen := len(good)
	rec := func(ts int64, p string, size uint32) []byte { return dbnTrade(false, ts, px(p), size, 'B') }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	shortRec := rec(t0, "5000", 1)
	shortRec[0] = 4 // 16 bytes: a header only
	longRec := rec(t0, "5000", 1)
	longRec[0] = 40 // claims 160 bytes; the file ends first
	offTick := dbnTrade(false, t0, 5000_100_000_000, 1, 'B')
	badSide := dbnTrade(false, t0, px("5000"), 1, 'X')
	wrongType := rec(t0, "5000", 1)
	wrongType[1] = 0xA0
	v4 := bytes.Clone(good)
	v4[3] = 4
	hugeMeta := bytes.Clone(good)
	binary.LittleEndian.PutUint32(hugeMeta[4:], 0x7fffffff)
	lyingCount := bytes.Clone(good)
	binary.LittleEndian.PutUint32(lyingCount[8+0x68:], 0xffffffff) // symbols count
	ohlcv := dbnMeta(dbnSpec{version: 3, schema: 6})
	cases := []struct {
		name    string
		data    []byte
		want    error  // errors.Is target, nil = any ParseError
		text    string // in the message
		record  int64
		offset  int64 // -2 = do not check
		atStart bool  // the error comes from Open, not Next
	}{
		{"empty", nil, ErrTruncated, "empty", 0, 0, true},
		{"wrong magic", []byte("DBX\x02\x00\x00\x00\x00"), nil, "magic", 0, 0, true},
		{"short prelude", []byte("DBN\x02"), ErrTruncated, "prelude", 0, 0, true},
		{"unknown version", v4, ErrUnsupported, "version 4", 0, 3, true},
		{"metadata too long", hugeMeta, nil, "metadata length", 0, 4, true},
		{"truncated metadata", good[:metaLen-10], ErrTruncated, "metadata", 0, -2, true},
		{"lying symbol count", lyingCount, nil, "symbols count", 0, 8, true},
		{"unsupported schema", ohlcv, ErrUnsupported, `"ohlcv-1m"`, 0, 24, true},
		{"truncated record", cat(good, rec(t0, "5000", 1), rec(t0, "5000", 1)[:30]), ErrTruncated, "record", 2, int64(metaLen + 48), false},
		{"record length overruns the file", cat(good, longRec), ErrTruncated, "160 bytes", 1, int64(metaLen), false},
		{"record shorter than its type", cat(good, shortRec), nil, "shorter", 1, int64(metaLen), false},
		{"zero record length", cat(good, []byte{0, 0, 0, 0}), nil, "shorter", 1, int64(metaLen), false},
		{"wrong record type", cat(good, wrongType), nil, "0xa0", 1, int64(metaLen), false},
		{"off-tick price", cat(good, offTick), nil, "tick grid", 1, int64(metaLen), false},
		{"zero size", cat(good, rec(t0, "5000", 0)), nil, "size 0", 1, int64(metaLen), false},
		{"bad side", cat(good, badSide), nil, "side", 1, int64(metaLen), false},
		{"backwards time", cat(good, rec(t0, "5000", 1), rec(t0-1, "5000", 1)), ErrBackwards, "before", 2, int64(metaLen + 48), false},
		{"zstd garbage", cat([]byte(zstdMagic), []byte("garbage garbage garbage")), nil, "", 0, -2, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			trades, _, err := readAllTrades(t, bytes.NewReader(c.data), "bad.dbn")
			if err == nil {
				t.Fatalf("no error; trades %+v", trades)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err %T %v, want *ParseError", err, err)
			}
			if pe.File != "bad.dbn" || !strings.HasPrefix(err.Error(), "bad.dbn") {
				t.Errorf("error %q does not name the file", err)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("error %q is not %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.text) {
				t.Errorf("error %q lacks %q", err, c.text)
			}
			if pe.Record != c.record {
				t.Errorf("record %d, want %d (%v)", pe.Record, c.record, err)
			}
			if c.offset != -2 && pe.Offset != c.offset {
				t.Errorf("offset %d, want %d (%v)", pe.Offset, c.offset, err)
			}
		})
	}
}

func TestDBNSecondInstrument(t *testing.T) {
	file := dbnMeta(dbnSpec{version: 2, schema: dbnSchemaTrades, symbol: "MESZ5"})
	a := dbnTrade(false, t0, px("5000"), 1, 'B')
	b := dbnTrade(false, t0+1, px("10"), 1, 'B')
	binary.LittleEndian.PutUint32(b[4:], 43)
	file = append(append(file, a...), b...)
	if _, _, err := readAllTrades(t, bytes.NewReader(file), "two.dbn"); err == nil || !strings.Contains(err.Error(), "second instrument") {
		t.Fatalf("err %v, want a second-instrument error", err)
	}
	f, err := OpenTradesWith(bytes.NewReader(file), "two.dbn", OpenOptions{Symbol: "MESZ5"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := f.Next()
	if err != nil || tr.Price != MustPrice("5000") {
		t.Fatalf("%+v %v", tr, err)
	}
	if _, err := f.Next(); err != io.EOF {
		t.Fatalf("err %v, want EOF (instrument 43 filtered)", err)
	}
	if _, err := OpenTradesWith(bytes.NewReader(file), "two.dbn", OpenOptions{Symbol: "MESH6"}); err == nil {
		t.Fatal("unknown symbol accepted")
	}
}

// dbnSeeds are small crafted inputs for FuzzDBN (the corpus in
// testdata/fuzz/FuzzDBN adds the same shapes as files).
func dbnSeeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, v := range []uint8{1, 2, 3} {
		f := dbnMeta(dbnSpec{version: v, schema: dbnSchemaTrades, symbol: "ESH1"})
		f = append(f, dbnTrade(false, t0, px("3720.25"), 5, 'A')...)
		f = append(f, dbnTrade(false, t0+9, px("3720.25"), 21, 'A')...)
		out = append(out, f)
	}
	m := dbnMeta(dbnSpec{version: 1, schema: dbnSchemaMBO, tsOut: true})
	r := dbnMBO(t0, px("4800"), 1, 'T', 'N')
	r[0] = 16
	r = append(r, make([]byte, 8)...)
	out = append(out, append(m, r...))
	out = append(out, zstdFrames(t, out[0][:40], out[0][40:]))
	return out
}

func FuzzDBN(f *testing.F) {
	for _, s := range dbnSeeds(f) {
		f.Add(s)
	}
	// The real fixtures too, when ../shared is there (read at test time,
	// never copied into the repository).
	for _, n := range []string{"test_data.trades.v1.dbn", "test_data.trades.v3.dbn.zst", "test_data.tbbo.dbn"} {
		if b, err := os.ReadFile("../../shared/data/dbn-fixtures/" + n); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := newDBNReader(bytes.NewReader(data), "fuzz.dbn")
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("open: %T %v is not a *ParseError", err, err)
			}
			return
		}
		defer d.close()
		last := int64(-1 << 63)
		for i := 0; ; i++ {
			tr, err := d.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Record < 1 {
					t.Fatalf("record error %T %v lacks a position", err, err)
				}
				return
			}
			if tr.Size <= 0 || tr.Price <= 0 || tr.Time < last {
				t.Fatalf("bad trade %+v after %d", tr, last)
			}
			last = tr.Time
		}
	})
}

// benchDBN makes a DBN v2 trades file of n records in memory.
func benchDBN(n int) []byte {
	file := dbnMeta(dbnSpec{version: 2, schema: dbnSchemaTrades, symbol: "MESZ5"})
	prices := []string{"5150.25", "5150.50", "5150.25", "5150.00", "5150.25", "5150.75"}
	for i := range n {
		file = append(file, dbnTrade(false, t0+int64(i)*1000, px(prices[i%len(prices)]), uint32(1+i%5), "BA"[i%2])...)
	}
	return file
}

func benchDecode(b *testing.B, data []byte, n int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := OpenTrades(bytes.NewReader(data), "bench.dbn")
		if err != nil {
			b.Fatal(err)
		}
		k := 0
		for {
			_, err := f.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			k++
		}
		f.Close()
		if k != n {
			b.Fatalf("%d trades, want %d", k, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "trades/s")
}

const benchTrades = 1_000_000

func BenchmarkDBNDecodeRaw(b *testing.B) {
	benchDecode(b, benchDBN(benchTrades), benchTrades)
}

func BenchmarkDBNDecodeZstd(b *testing.B) {
	raw := benchDBN(benchTrades)
	// Several frames, as Databento writes them.
	var parts [][]byte
	for i := 0; i < len(raw); i += 1 << 20 {
		parts = append(parts, raw[i:min(i+1<<20, len(raw))])
	}
	benchDecode(b, zstdFrames(b, parts...), benchTrades)
}
