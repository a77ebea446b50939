// lasttrade.go: the feed's hot path. DecodeLastTrade reads a LastTrade
// (template 150) payload without allocating, field by field with
// protowire, into a reused TradeView; the generated rpb.LastTrade decodes
// the same bytes to the same values (FuzzLastTradeDecoders checks it).
// Field numbers: last_trade.proto of rundef/async_rithmic (see
// ../proto/ticker.proto).

package rpb

import (
	"fmt"
	"math"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// LastTrade field numbers (last_trade.proto).
const (
	fTradePrice   = 100006
	fTradeSize    = 100178
	fAggressor    = 112003
	fVolume       = 100032
	fVwap         = 101379
	fSymbol       = 110100
	fExchange     = 110101
	fIsSnapshot   = 110121
	fPresenceBits = 149138
	fClearBits    = 154571
	fSsboe        = 150100
	fUsecs        = 150101
	fSourceSsboe  = 150400
	fSourceUsecs  = 150401
	fSourceNsecs  = 150404
)

// TradeView is a decoded LastTrade. Symbol and Exchange alias the payload:
// they are valid until it is reused.
type TradeView struct {
	TemplateID   int32
	Symbol       []byte
	Exchange     []byte
	PresenceBits uint32
	ClearBits    uint32
	IsSnapshot   bool
	Price        float64
	Size         int32
	Aggressor    TransactionType
	Volume       uint64
	Vwap         float64
	Ssboe        int32
	Usecs        int32
	SourceSsboe  int32
	SourceUsecs  int32
	SourceNsecs  int32
}

// DecodeLastTrade decodes p into v (zeroing it first). As proto.Unmarshal
// does: the last occurrence of a field wins, a field with an unexpected
// wire type is skipped as unknown, strings must be UTF-8.
func DecodeLastTrade(p []byte, v *TradeView) error {
	*v = TradeView{}
	for len(p) > 0 {
		tag, n := uvarint(p)
		if n < 0 {
			return fmt.Errorf("%w: last trade: bad tag", ErrFrame)
		}
		num, typ := protowire.Number(tag>>3), protowire.Type(tag&7)
		if tag>>3 > uint64(protowire.MaxValidNumber) || num < protowire.MinValidNumber {
			return fmt.Errorf("%w: last trade: field number %d", ErrFrame, tag>>3)
		}
		p = p[n:]
		switch typ {
		case protowire.VarintType:
			x, m := uvarint(p)
			if m < 0 {
				return fmt.Errorf("%w: last trade field %d: bad varint", ErrFrame, num)
			}
			p = p[m:]
			switch num {
			case FieldTemplateID:
				v.TemplateID = int32(x)
			case fTradeSize:
				v.Size = int32(x)
			case fAggressor:
				v.Aggressor = TransactionType(int32(x))
			case fVolume:
				v.Volume = x
			case fIsSnapshot:
				v.IsSnapshot = x != 0
			case fPresenceBits:
				v.PresenceBits = uint32(x)
			case fClearBits:
				v.ClearBits = uint32(x)
			case fSsboe:
				v.Ssboe = int32(x)
			case fUsecs:
				v.Usecs = int32(x)
			case fSourceSsboe:
				v.SourceSsboe = int32(x)
			case fSourceUsecs:
				v.SourceUsecs = int32(x)
			case fSourceNsecs:
				v.SourceNsecs = int32(x)
			}
		case protowire.Fixed64Type:
			x, m := protowire.ConsumeFixed64(p)
			if m < 0 {
				return fmt.Errorf("%w: last trade field %d: %v", ErrFrame, num, protowire.ParseError(m))
			}
			p = p[m:]
			switch num {
			case fTradePrice:
				v.Price = math.Float64frombits(x)
			case fVwap:
				v.Vwap = math.Float64frombits(x)
			}
		case protowire.BytesType:
			b, m := protowire.ConsumeBytes(p)
			if m < 0 {
				return fmt.Errorf("%w: last trade field %d: %v", ErrFrame, num, protowire.ParseError(m))
			}
			p = p[m:]
			switch num {
			case fSymbol, fExchange:
				if !validUTF8(b) {
					return fmt.Errorf("%w: last trade field %d: invalid UTF-8", ErrFrame, num)
				}
				if num == fSymbol {
					v.Symbol = b
				} else {
					v.Exchange = b
				}
			}
		default:
			m := protowire.ConsumeFieldValue(num, typ, p)
			if m < 0 {
				return fmt.Errorf("%w: last trade field %d: %v", ErrFrame, num, protowire.ParseError(m))
			}
			p = p[m:]
		}
	}
	return nil
}

// uvarint reads a varint as protowire.ConsumeVarint does (at most 10
// bytes, the 10th at most 1), inlined for the hot path; n < 0 on error.
func uvarint(b []byte) (x uint64, n int) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if i == 9 {
			if c > 1 {
				return 0, -1
			}
			return x | uint64(c)<<63, 10
		}
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return x, i + 1
		}
	}
	return 0, -1
}

// validUTF8 is utf8.Valid with a fast path for ASCII.
func validUTF8(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return utf8.Valid(b)
		}
	}
	return true
}

// TimeNs is the trade's time in ns since the epoch: the exchange's
// (source_ssboe, source_nsecs; source_usecs when nsecs is absent) when
// present, else the gateway's (ssboe, usecs).
func (v *TradeView) TimeNs() int64 {
	if v.SourceSsboe != 0 {
		sub := int64(v.SourceNsecs)
		if sub == 0 {
			sub = int64(v.SourceUsecs) * 1000
		}
		return int64(v.SourceSsboe)*1e9 + sub
	}
	return int64(v.Ssboe)*1e9 + int64(v.Usecs)*1000
}
