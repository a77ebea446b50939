// This file decodes Databento DBN streams (versions 1, 2 and 3, raw or
// zstd-compressed with any number of frames) into trades: the trades schema,
// mbp-1 trade records (action 'T') and mbo trade records (action 'T').
// Decoding streams with constant memory: one record buffer, no lookahead.

package market

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// DBN record types and schema ids this package knows.
const (
	dbnRTypeTrade = 0x00 // trades (also mbp-0)
	dbnRTypeMBP1  = 0x01 // mbp-1 and tbbo
	dbnRTypeMBO   = 0xA0

	dbnSchemaMBO    = 0
	dbnSchemaMBP1   = 1
	dbnSchemaTrades = 4
	dbnSchemaMixed  = 0xFFFF

	dbnMaxVersion     = 3
	dbnMaxMetadataLen = 16 << 20 // real metadata is a few KiB; refuse absurd lengths
	dbnHeaderLen      = 16
	dbnTradeLen       = 48
	dbnMBP1Len        = 80
	dbnMBOLen         = 56
	dbnUndefPrice     = math.MaxInt64
	zstdMagic         = "\x28\xb5\x2f\xfd"
	dbnMagic          = "DBN"
)

// dbnSchemaNames maps DBN schema ids to Databento's names, so that files we
// do not read are refused by name.
var dbnSchemaNames = [...]string{
	0: "mbo", 1: "mbp-1", 2: "mbp-10", 3: "tbbo", 4: "trades", 5: "ohlcv-1s", 6: "ohlcv-1m",
	7: "ohlcv-1h", 8: "ohlcv-1d", 9: "definition", 10: "statistics", 11: "status", 12: "imbalance",
	13: "ohlcv-eod", 14: "cmbp-1", 15: "cbbo-1s", 16: "cbbo-1m", 17: "tcbbo", 18: "bbo-1s", 19: "bbo-1m",
}

func dbnSchemaName(s uint16) string {
	if s == dbnSchemaMixed {
		return "mixed"
	}
	if int(s) < len(dbnSchemaNames) {
		return dbnSchemaNames[s]
	}
	return "schema " + strconv.Itoa(int(s))
}

// DBNMetadata is what a DBN file says about itself.
type DBNMetadata struct {
	Version  uint8
	Dataset  string
	Schema   string // Databento's name: "trades", "mbo", "mbp-1", ...
	Start    int64  // ns UTC
	End      int64  // ns UTC (0 if unknown)
	TSOut    bool
	Symbols  []string          // requested symbols (raw)
	Mappings map[uint32]string // instrument id → raw symbol, from the mappings
}

// dbnReader decodes trade records from one DBN stream.
type dbnReader struct {
	name   string
	br     *bufio.Reader
	zdec   *zstd.Decoder
	meta   DBNMetadata
	schema uint16
	off    int64 // bytes consumed from the decompressed stream
	rec    int64 // records read
	buf    [255 * 4]byte
	last   int64
	instr  uint32 // instrument id of the trades (0 until the first)
	wantID uint32 // only this instrument (0 = the first one seen; a second is an error)
	err    error  // sticky
}

// sniffZstd reports whether the stream starts with a zstd frame (or a
// skippable frame) and returns a reader of the decompressed bytes if so.
func maybeZstd(br *bufio.Reader) (io.Reader, *zstd.Decoder, error) {
	head, _ := br.Peek(4)
	if len(head) == 4 && (string(head) == zstdMagic || (head[0]&0xF0 == 0x50 && string(head[1:]) == "\x2a\x4d\x18")) {
		d, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(256<<20),
			zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, nil, err
		}
		return d, d, nil
	}
	return br, nil, nil
}

// newDBNReader reads the prelude and metadata of a DBN stream (raw or zstd).
func newDBNReader(r io.Reader, name string) (*dbnReader, error) {
	d := &dbnReader{name: name, last: math.MinInt64}
	br := bufio.NewReaderSize(r, 64<<10)
	src, zdec, err := maybeZstd(br)
	if err != nil {
		return nil, d.perr(0, -1, fmt.Errorf("zstd: %w", err))
	}
	d.zdec = zdec
	if zdec != nil {
		d.br = bufio.NewReaderSize(src, 64<<10)
	} else {
		d.br = br
	}
	if err := d.readMetadata(); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

func (d *dbnReader) perr(rec, off int64, err error) *ParseError {
	return &ParseError{File: d.name, Record: rec, Offset: off, Err: err}
}

// readFull reads exactly len(p) bytes, mapping short reads to ErrTruncated.
func (d *dbnReader) readFull(p []byte, what string) error {
	n, err := io.ReadFull(d.br, p)
	d.off += int64(n)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: file ends inside the %s (%d of %d bytes)", ErrTruncated, what, n, len(p))
	}
	if err != nil {
		return fmt.Errorf("reading the %s: %w", what, err)
	}
	return nil
}

func (d *dbnReader) readMetadata() error {
	var pre [8]byte
	if n, err := io.ReadFull(d.br, pre[:]); err != nil {
		if n == 0 && err == io.EOF {
			return d.perr(0, 0, fmt.Errorf("%w: empty file (no DBN prelude)", ErrTruncated))
		}
		if err == io.ErrUnexpectedEOF && string(pre[:min(n, 3)]) != dbnMagic[:min(n, 3)] {
			return d.perr(0, 0, fmt.Errorf("not a DBN file: magic %q, want \"DBN\"", pre[:min(n, 3)]))
		}
		if err == io.ErrUnexpectedEOF {
			return d.perr(0, 0, fmt.Errorf("%w: file ends inside the 8-byte prelude (%d bytes)", ErrTruncated, n))
		}
		return d.perr(0, 0, fmt.Errorf("reading the prelude: %w", err))
	}
	d.off = 8
	if string(pre[:3]) != dbnMagic {
		return d.perr(0, 0, fmt.Errorf("not a DBN file: magic %q, want \"DBN\"", pre[:3]))
	}
	v := pre[3]
	if v < 1 || v > dbnMaxVersion {
		return d.perr(0, 3, fmt.Errorf("%w: DBN version %d (this reader knows 1 to %d)", ErrUnsupported, v, dbnMaxVersion))
	}
	mlen := binary.LittleEndian.Uint32(pre[4:])
	if mlen > dbnMaxMetadataLen {
		return d.perr(0, 4, fmt.Errorf("metadata length %d exceeds the %d-byte limit", mlen, dbnMaxMetadataLen))
	}
	// Copy through a growing buffer so a lying length on a short file does
	// not allocate the whole claim up front.
	var mb bytes.Buffer
	n, err := io.CopyN(&mb, d.br, int64(mlen))
	d.off += n
	if err == io.EOF {
		return d.perr(0, d.off, fmt.Errorf("%w: file ends inside the metadata (%d of %d bytes)", ErrTruncated, n, mlen))
	}
	if err != nil {
		return d.perr(0, d.off, fmt.Errorf("reading the metadata: %w", err))
	}
	m, schema, err := parseDBNMetadata(v, mb.Bytes())
	if err != nil {
		return d.perr(0, 8, fmt.Errorf("metadata: %w", err))
	}
	d.meta, d.schema = m, schema
	switch schema {
	case dbnSchemaTrades, dbnSchemaMBP1, dbnSchemaMBO, dbnSchemaMixed:
	default:
		return d.perr(0, 8+16, fmt.Errorf("%w: DBN schema %q (this reader takes trades, mbp-1 and mbo)", ErrUnsupported, m.Schema))
	}
	return nil
}

// metaCursor reads fields from the metadata block, failing on overrun.
type metaCursor struct {
	b   []byte
	pos int
	err error
}

func (c *metaCursor) take(n int, what string) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || len(c.b)-c.pos < n {
		c.err = fmt.Errorf("%s at offset %d overruns the metadata (%d bytes)", what, c.pos, len(c.b))
		return nil
	}
	p := c.b[c.pos : c.pos+n]
	c.pos += n
	return p
}

func (c *metaCursor) u8(what string) uint8 {
	if p := c.take(1, what); p != nil {
		return p[0]
	}
	return 0
}

func (c *metaCursor) u16(what string) uint16 {
	if p := c.take(2, what); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (c *metaCursor) u32(what string) uint32 {
	if p := c.take(4, what); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (c *metaCursor) u64(what string) uint64 {
	if p := c.take(8, what); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (c *metaCursor) cstr(width int, what string) string {
	p := c.take(width, what)
	if i := bytes.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	return string(p)
}

// count reads a u32 element count and checks that count elements of at
// least minSize bytes can fit in what is left (so a lying count cannot make
// us loop or allocate for nothing).
func (c *metaCursor) count(minSize int, what string) int {
	n := c.u32(what + " count")
	if c.err == nil && uint64(n)*uint64(minSize) > uint64(len(c.b)-c.pos) {
		c.err = fmt.Errorf("%s count %d overruns the metadata", what, n)
		return 0
	}
	return int(n)
}

func parseDBNMetadata(version uint8, b []byte) (DBNMetadata, uint16, error) {
	c := &metaCursor{b: b}
	m := DBNMetadata{Version: version}
	m.Dataset = c.cstr(16, "dataset")
	schema := c.u16("schema")
	m.Schema = dbnSchemaName(schema)
	m.Start = int64(c.u64("start"))
	end := c.u64("end")
	if end != math.MaxUint64 {
		m.End = int64(end)
	}
	c.u64("limit")
	symWidth := 22
	if version == 1 {
		c.u64("record_count")
		c.u8("stype_in")
		c.u8("stype_out")
		m.TSOut = c.u8("ts_out") != 0
		c.take(47, "reserved")
	} else {
		c.u8("stype_in")
		c.u8("stype_out")
		m.TSOut = c.u8("ts_out") != 0
		symWidth = int(c.u16("symbol_cstr_len"))
		c.take(53, "reserved")
		if c.err == nil && (symWidth == 0 || symWidth > 1024) {
			return m, schema, fmt.Errorf("symbol_cstr_len %d out of range", symWidth)
		}
	}
	if sdl := c.u32("schema_definition_length"); sdl != 0 {
		c.take(int(min(sdl, math.MaxInt32)), "schema definition")
	}
	for range c.count(symWidth, "symbols") {
		if s := c.cstr(symWidth, "symbol"); len(m.Symbols) < 64 {
			m.Symbols = append(m.Symbols, s)
		}
	}
	for range c.count(symWidth, "partial") {
		c.take(symWidth, "partial symbol")
	}
	for range c.count(symWidth, "not_found") {
		c.take(symWidth, "not_found symbol")
	}
	nmap := c.count(symWidth+4, "mappings")
	for range nmap {
		raw := c.cstr(symWidth, "mapping raw symbol")
		for range c.count(8+symWidth, "mapping intervals") {
			c.u32("interval start date")
			c.u32("interval end date")
			s := c.cstr(symWidth, "interval symbol")
			if id, err := strconv.ParseUint(s, 10, 32); err == nil && c.err == nil {
				if m.Mappings == nil {
					m.Mappings = map[uint32]string{}
				}
				if len(m.Mappings) < 4096 {
					m.Mappings[uint32(id)] = raw
				}
			}
		}
	}
	if c.err != nil {
		return m, schema, c.err
	}
	return m, schema, nil
}

// recordWant returns the minimal length of a record of rtype in the file's
// schema, or an error if the rtype does not belong there. skip is true for
// records we pass over (non-trade records in a mixed stream).
func (d *dbnReader) recordWant(rtype uint8) (want int, skip bool, err error) {
	switch d.schema {
	case dbnSchemaTrades:
		if rtype == dbnRTypeTrade {
			return dbnTradeLen, false, nil
		}
	case dbnSchemaMBP1:
		if rtype == dbnRTypeMBP1 {
			return dbnMBP1Len, false, nil
		}
	case dbnSchemaMBO:
		if rtype == dbnRTypeMBO {
			return dbnMBOLen, false, nil
		}
	case dbnSchemaMixed:
		switch rtype {
		case dbnRTypeTrade:
			return dbnTradeLen, false, nil
		case dbnRTypeMBP1:
			return dbnMBP1Len, false, nil
		case dbnRTypeMBO:
			return dbnMBOLen, false, nil
		}
		return dbnHeaderLen, true, nil
	}
	// System (0x17), error (0x15) and symbol mapping (0x16) records may
	// appear in any live-derived stream; they carry no trades.
	if rtype == 0x15 || rtype == 0x16 || rtype == 0x17 {
		return dbnHeaderLen, true, nil
	}
	return 0, false, fmt.Errorf("record type 0x%02x does not belong in a %s file", rtype, d.meta.Schema)
}

// Next returns the next trade record. Non-trade records (mbo adds,
// cancels, mbp-1 quote updates) are passed over.
func (d *dbnReader) Next() (Trade, error) {
	if d.err != nil {
		return Trade{}, d.err
	}
	t, err := d.next()
	if err != nil {
		d.err = err
	}
	return t, err
}

func (d *dbnReader) next() (Trade, error) {
	for {
		start := d.off
		b, err := d.br.ReadByte()
		if err == io.EOF {
			return Trade{}, io.EOF
		}
		if err != nil {
			return Trade{}, d.perr(d.rec+1, start, fmt.Errorf("reading: %w", err))
		}
		d.off++
		d.rec++
		n := int(b) * 4
		if n < dbnHeaderLen {
			return Trade{}, d.perr(d.rec, start, fmt.Errorf("record length %d bytes is shorter than the 16-byte header", n))
		}
		d.buf[0] = b
		rec := d.buf[:n]
		if err := d.readFull(rec[1:], "record"); err != nil {
			return Trade{}, d.perr(d.rec, start, fmt.Errorf("record of %d bytes: %w", n, err))
		}
		rtype := rec[1]
		want, skip, err := d.recordWant(rtype)
		if err != nil {
			return Trade{}, d.perr(d.rec, start, err)
		}
		if d.meta.TSOut && !skip {
			want += 8
		}
		if n < want {
			return Trade{}, d.perr(d.rec, start, fmt.Errorf("record length %d bytes is shorter than the %d a record of type 0x%02x needs", n, want, rtype))
		}
		if skip {
			continue
		}
		le := binary.LittleEndian
		tsEvent := int64(le.Uint64(rec[8:]))
		var px int64
		var size uint32
		var action, side byte
		switch rtype {
		case dbnRTypeTrade, dbnRTypeMBP1:
			px, size, action, side = int64(le.Uint64(rec[16:])), le.Uint32(rec[24:]), rec[28], rec[29]
		case dbnRTypeMBO:
			px, size, action, side = int64(le.Uint64(rec[24:])), le.Uint32(rec[32:]), rec[38], rec[39]
		}
		if action != 'T' {
			if rtype == dbnRTypeTrade {
				return Trade{}, d.perr(d.rec, start, fmt.Errorf("trade record with action %q, want 'T'", action))
			}
			continue
		}
		if px == dbnUndefPrice {
			return Trade{}, d.perr(d.rec, start, errors.New("trade with an undefined price"))
		}
		p, err := PriceFromNanos(px)
		if err != nil {
			return Trade{}, d.perr(d.rec, start, err)
		}
		if p <= 0 {
			return Trade{}, d.perr(d.rec, start, fmt.Errorf("trade price %s is not positive", p))
		}
		if size == 0 {
			return Trade{}, d.perr(d.rec, start, errors.New("trade of size 0"))
		}
		id := le.Uint32(rec[4:])
		if d.wantID != 0 && id != d.wantID {
			continue
		}
		if d.instr != 0 && id != d.instr {
			return Trade{}, d.perr(d.rec, start, fmt.Errorf("trades of a second instrument (id %d after %d): name one with the symbol option", id, d.instr))
		}
		if tsEvent < 0 {
			return Trade{}, d.perr(d.rec, start, fmt.Errorf("ts_event %d out of range", uint64(tsEvent)))
		}
		if tsEvent < d.last {
			return Trade{}, d.perr(d.rec, start, fmt.Errorf("%w: ts_event %d is before the previous trade's %d", ErrBackwards, tsEvent, d.last))
		}
		d.last = tsEvent
		d.instr = id
		var s Side
		switch side {
		case 'B':
			s = Buy
		case 'A':
			s = Sell
		case 'N', 0:
			s = Unknown
		default:
			return Trade{}, d.perr(d.rec, start, fmt.Errorf("trade side %q, want B, A or N", side))
		}
		return Trade{Time: tsEvent, Price: p, Size: int64(size), Aggressor: s}, nil
	}
}

// symbol names the instrument from the metadata: the single requested
// symbol, or the single mapped one.
func (d *dbnReader) symbol() string {
	if len(d.meta.Symbols) == 1 && d.meta.Symbols[0] != "ALL_SYMBOLS" {
		return d.meta.Symbols[0]
	}
	set := map[string]bool{}
	for _, s := range d.meta.Mappings {
		set[s] = true
	}
	if len(set) == 1 {
		for s := range set {
			return s
		}
	}
	return strings.Join(d.meta.Symbols, ",")
}

// selectSymbol restricts the reader to the instrument mapped to sym.
func (d *dbnReader) selectSymbol(sym string) error {
	for id, s := range d.meta.Mappings {
		if strings.EqualFold(s, sym) {
			d.wantID = id
			return nil
		}
	}
	if len(d.meta.Symbols) == 1 && strings.EqualFold(d.meta.Symbols[0], sym) {
		return nil
	}
	return d.perr(0, -1, fmt.Errorf("symbol %q is not in the file's mappings", sym))
}

func (d *dbnReader) close() {
	if d.zdec != nil {
		d.zdec.Close()
		d.zdec = nil
	}
}
