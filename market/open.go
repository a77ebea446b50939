// This file is the one entry point to market data files: Open sniffs the
// format (DBN raw or zstd, Lean minute zip, CSV ticks) and returns a Feed of
// trades in time order, with aggressor sides from the data or, where the
// data has none, from the tick rule; bar files are expanded into derived
// trades. OpenBars reads a bar file as bars.

package market

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Feed formats (FeedInfo.Format).
const (
	FormatDBNTrades  = "dbn-trades"
	FormatDBNMBO     = "dbn-mbo"
	FormatDBNMBP1    = "dbn-mbp-1"
	FormatLeanMinute = "lean-minute"
	FormatCSVTicks   = "csv-ticks"
)

// FeedInfo describes an opened data file.
type FeedInfo struct {
	Path      string
	Format    string // "dbn-trades", "dbn-mbo", "dbn-mbp-1", "lean-minute", "csv-ticks"
	Symbol    string
	Kind      string // "trades" or "bars" (what the file holds)
	Derived   bool   // trades expanded from bars
	Aggressor string // "data" or "tick-rule"
}

// OpenOptions tunes Open.
type OpenOptions struct {
	// Symbol picks a contract: the month in a Lean zip ("ESZ3", "MESZ3",
	// "201312"), the instrument in a DBN file with several. "" = the front
	// month by volume (Lean) or the file's only instrument (DBN).
	Symbol string
}

// Feed streams the trades of one data file. It implements TradeReader.
type Feed struct {
	info     FeedInfo
	src      TradeReader
	rule     TickRule
	seq      uint64
	inferred int64
	records  func() int64
	closers  []func() error
	closed   bool
}

// Open opens a data file, sniffing its format by magic bytes (DBN, zstd,
// zip) and otherwise by extension (.csv).
func Open(path string, opt OpenOptions) (*Feed, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	feed, err := open(f, path, opt, true)
	if err != nil {
		f.Close()
		return nil, err
	}
	feed.closers = append(feed.closers, f.Close)
	return feed, nil
}

// OpenTrades reads a data stream whose name (for errors and the format
// guess) is name. A Lean zip is read into memory first (zips need random
// access; Lean day files are small).
func OpenTrades(r io.Reader, name string) (*Feed, error) {
	return OpenTradesWith(r, name, OpenOptions{})
}

// OpenTradesWith is OpenTrades with options.
func OpenTradesWith(r io.Reader, name string, opt OpenOptions) (*Feed, error) {
	return open(r, name, opt, false)
}

const zipMagic = "PK\x03\x04"

// ErrNotRegular: a data path that is not a regular file (a directory, a
// FIFO, a device, a socket). Opening a FIFO would block until a writer
// comes and a device such as /dev/zero never ends, so they are refused
// before they are opened.
var ErrNotRegular = errors.New("not a regular file")

// openFile opens path for reading if it is a regular file (after
// following symlinks).
func openFile(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("market: open %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("market: open %s: %w (%s)", path, ErrNotRegular, fileKind(fi.Mode()))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("market: open %s: %w", path, err)
	}
	// The path may have been swapped between the two calls.
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("market: open %s: %w", path, ErrNotRegular)
	}
	return f, nil
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}

func open(r io.Reader, name string, opt OpenOptions, isFile bool) (*Feed, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	switch {
	case len(head) >= 3 && string(head[:3]) == dbnMagic, len(head) == 4 && string(head) == zstdMagic:
		return openDBN(br, name, opt)
	case len(head) == 4 && string(head) == zipMagic, strings.EqualFold(filepath.Ext(name), ".zip"):
		z, closeZ, err := openZip(r, br, name, isFile)
		if err != nil {
			return nil, err
		}
		bars, info, err := leanBars(z, opt)
		if err != nil {
			return nil, err
		}
		info.Path = name
		info.Derived = true
		f := &Feed{info: info, src: &barTrades{bars: bars}, records: func() int64 { return bars.line }}
		f.closers = append(f.closers, bars.close)
		if closeZ != nil {
			f.closers = append(f.closers, closeZ)
		}
		return f, nil
	case strings.HasSuffix(strings.ToLower(name), ".dbn"), strings.HasSuffix(strings.ToLower(name), ".dbn.zst"):
		return openDBN(br, name, opt) // reports the bad magic
	}
	if len(head) == 0 {
		return nil, &ParseError{File: name, Offset: 0, Err: fmt.Errorf("%w: empty file", ErrTruncated)}
	}
	c, err := newCSVTickReader(br, name)
	if err != nil {
		return nil, err
	}
	agg := "data"
	if !c.hasSide {
		agg = "tick-rule"
	}
	return &Feed{info: FeedInfo{Path: name, Format: FormatCSVTicks, Kind: "trades", Aggressor: agg},
		src: c, records: func() int64 { return c.rec }}, nil
}

func openDBN(r io.Reader, name string, opt OpenOptions) (*Feed, error) {
	d, err := newDBNReader(r, name)
	if err != nil {
		return nil, err
	}
	if opt.Symbol != "" {
		if err := d.selectSymbol(opt.Symbol); err != nil {
			d.close()
			return nil, err
		}
	}
	format := FormatDBNTrades
	switch d.schema {
	case dbnSchemaMBO:
		format = FormatDBNMBO
	case dbnSchemaMBP1:
		format = FormatDBNMBP1
	case dbnSchemaMixed:
		format = "dbn-mixed"
	}
	sym := d.symbol()
	if opt.Symbol != "" {
		sym = opt.Symbol
	}
	f := &Feed{info: FeedInfo{Path: name, Format: format, Symbol: sym, Kind: "trades", Aggressor: "data"},
		src: d, records: func() int64 { return d.rec }}
	f.closers = append(f.closers, func() error { d.close(); return nil })
	return f, nil
}

// openZip returns a zip over r: directly when r is a file, else read into
// memory (bounded).
func openZip(r io.Reader, br *bufio.Reader, name string, isFile bool) (*leanZip, func() error, error) {
	if f, ok := r.(*os.File); ok && isFile {
		st, err := f.Stat()
		if err != nil {
			return nil, nil, fmt.Errorf("market: %s: %w", name, err)
		}
		z, err := openLeanZip(f, st.Size(), name)
		return z, nil, err
	}
	const maxZip = 256 << 20
	b, err := io.ReadAll(io.LimitReader(br, maxZip+1))
	if err != nil {
		return nil, nil, &ParseError{File: name, Offset: -1, Err: err}
	}
	if len(b) > maxZip {
		return nil, nil, &ParseError{File: name, Offset: -1, Err: fmt.Errorf("zip larger than %d bytes read from a stream", maxZip)}
	}
	if len(b) == 0 {
		return nil, nil, &ParseError{File: name, Offset: 0, Err: fmt.Errorf("%w: empty file", ErrTruncated)}
	}
	z, err := openLeanZip(bytes.NewReader(b), int64(len(b)), name)
	return z, nil, err
}

func leanBars(z *leanZip, opt OpenOptions) (*leanBarReader, FeedInfo, error) {
	m, err := z.pick(opt.Symbol)
	if err != nil {
		return nil, FeedInfo{}, err
	}
	bars, err := z.bars(m)
	if err != nil {
		return nil, FeedInfo{}, err
	}
	return bars, FeedInfo{Format: FormatLeanMinute, Symbol: m.Symbol, Kind: "bars", Aggressor: "tick-rule"}, nil
}

// Next returns the next trade; io.EOF at the end. Trades come in time
// order; a trade without a side gets one from the tick rule.
func (f *Feed) Next() (Trade, error) {
	if f.closed {
		return Trade{}, errors.New("market: feed is closed")
	}
	t, err := f.src.Next()
	if err != nil {
		return Trade{}, err
	}
	if f.rule.Apply(&t) && t.Aggressor != Unknown {
		f.inferred++
	}
	f.seq++
	t.Seq = f.seq
	return t, nil
}

// Info describes the feed.
func (f *Feed) Info() FeedInfo { return f.info }

// Inferred returns how many trades so far got their side from the tick rule
// (including DBN trades whose side is 'N'); a first trade without a side
// stays Unknown and is not counted.
func (f *Feed) Inferred() int64 { return f.inferred }

// Records returns how many records (DBN records of any kind, CSV data
// lines, bar lines) the reader has consumed so far.
func (f *Feed) Records() int64 { return f.records() }

// Close releases the file.
func (f *Feed) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	var errs []error
	for i := len(f.closers) - 1; i >= 0; i-- {
		errs = append(errs, f.closers[i]())
	}
	return errors.Join(errs...)
}

// BarFeed streams the bars of a bar file (a Lean minute zip).
type BarFeed struct {
	info    FeedInfo
	r       *leanBarReader
	closers []func() error
}

// OpenBars opens a bar file. Files of trades are refused with ErrUnsupported
// (build bars from their trades with BarBuilder).
func OpenBars(path string, opt OpenOptions) (*BarFeed, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(f)
	head, _ := br.Peek(4)
	if string(head) != zipMagic && !strings.EqualFold(filepath.Ext(path), ".zip") {
		f.Close()
		return nil, &ParseError{File: path, Offset: 0, Err: fmt.Errorf("%w: not a bar file (want a Lean minute zip)", ErrUnsupported)}
	}
	z, _, err := openZip(f, br, path, true)
	if err != nil {
		f.Close()
		return nil, err
	}
	bars, info, err := leanBars(z, opt)
	if err != nil {
		f.Close()
		return nil, err
	}
	info.Path = path
	return &BarFeed{info: info, r: bars, closers: []func() error{bars.close, f.Close}}, nil
}

// Next returns the next bar; io.EOF at the end.
func (b *BarFeed) Next() (Bar, error) { return b.r.Next() }

// Info describes the file (Kind "bars", Derived false).
func (b *BarFeed) Info() FeedInfo { return b.info }

// Records returns the bar lines read so far.
func (b *BarFeed) Records() int64 { return b.r.line }

// Close releases the file.
func (b *BarFeed) Close() error {
	var errs []error
	for _, c := range b.closers {
		errs = append(errs, c())
	}
	b.closers = nil
	return errors.Join(errs...)
}

var (
	_ TradeReader = (*Feed)(nil)
	_ BarReader   = (*BarFeed)(nil)
)
