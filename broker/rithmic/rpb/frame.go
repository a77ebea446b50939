// frame.go: R|Protocol framing. Each frame is a 4-byte big-endian length
// and that many bytes of one protobuf message (as rundef/async_rithmic
// writes and reads them, async_rithmic/plants/base.py
// _convert_request_to_bytes / _convert_bytes_to_response); one WebSocket
// binary message carries one frame, but a reader accepts several.

package rpb

import (
	"encoding/binary"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// MaxFrame bounds one frame's payload; R|Protocol messages are small, so
// a larger length is a corrupt or hostile stream.
const MaxFrame = 4 << 20

// ErrFrame wraps every framing and decoding failure.
var ErrFrame = errors.New("rithmic: bad frame")

// Frames calls f with the payload of each frame in msg, in order. msg must
// hold whole frames only.
func Frames(msg []byte, f func(payload []byte) error) error {
	if len(msg) == 0 {
		return fmt.Errorf("%w: empty message", ErrFrame)
	}
	for len(msg) > 0 {
		if len(msg) < 4 {
			return fmt.Errorf("%w: %d bytes left, less than a length prefix", ErrFrame, len(msg))
		}
		n := binary.BigEndian.Uint32(msg)
		if n > MaxFrame {
			return fmt.Errorf("%w: length %d beyond %d", ErrFrame, n, MaxFrame)
		}
		if uint64(len(msg)-4) < uint64(n) {
			return fmt.Errorf("%w: length %d, %d bytes present", ErrFrame, n, len(msg)-4)
		}
		if err := f(msg[4 : 4+n]); err != nil {
			return err
		}
		msg = msg[4+n:]
	}
	return nil
}

// TemplateID finds the template_id field (154467) among the top-level
// fields of a payload without decoding the rest. It allocates nothing.
func TemplateID(p []byte) (int32, error) {
	var tpl int32
	found := false
	for len(p) > 0 {
		num, typ, n := protowire.ConsumeTag(p)
		if n < 0 {
			return 0, fmt.Errorf("%w: %v", ErrFrame, protowire.ParseError(n))
		}
		p = p[n:]
		if num == FieldTemplateID && typ == protowire.VarintType {
			v, m := protowire.ConsumeVarint(p)
			if m < 0 {
				return 0, fmt.Errorf("%w: template id: %v", ErrFrame, protowire.ParseError(m))
			}
			tpl, found = int32(v), true
			p = p[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, p)
		if m < 0 {
			return 0, fmt.Errorf("%w: field %d: %v", ErrFrame, num, protowire.ParseError(m))
		}
		p = p[m:]
	}
	if !found {
		return 0, fmt.Errorf("%w: no template id", ErrFrame)
	}
	return tpl, nil
}

// Decode reads one payload into a message of its template. An id this
// package does not know returns (tpl, nil, nil): the caller skips it (a
// server may send templates newer than ours).
func Decode(p []byte) (int32, proto.Message, error) {
	tpl, err := TemplateID(p)
	if err != nil {
		return 0, nil, err
	}
	m := New(tpl)
	if m == nil {
		return tpl, nil, nil
	}
	if err := proto.Unmarshal(p, m); err != nil {
		return tpl, nil, fmt.Errorf("%w: template %d: %v", ErrFrame, tpl, err)
	}
	return tpl, m, nil
}

// AppendFrame appends m, with its template_id set to tpl, as one frame.
func AppendFrame(dst []byte, tpl int32, m proto.Message) ([]byte, error) {
	SetTemplate(m, tpl)
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst, err := proto.MarshalOptions{}.MarshalAppend(dst, m)
	if err != nil {
		return dst[:start], fmt.Errorf("rithmic: encode template %d: %w", tpl, err)
	}
	n := len(dst) - start - 4
	if n > MaxFrame {
		return dst[:start], fmt.Errorf("%w: template %d encodes to %d bytes", ErrFrame, tpl, n)
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(n))
	return dst, nil
}

// Frame is AppendFrame into a new slice.
func Frame(tpl int32, m proto.Message) ([]byte, error) { return AppendFrame(nil, tpl, m) }

// Response is what every response message has: the request's user_msg
// echoed, rq_handler_rp_code on the parts of a multi-part answer, and
// rp_code on its last part ("0" is success; "7" no data; anything else an
// error, its text in the following elements).
type Response interface {
	proto.Message
	GetUserMsg() []string
	GetRpCode() []string
}

// RpCodeOK reports whether an rp_code says success or "no data".
func RpCodeOK(rp []string) bool { return len(rp) > 0 && (rp[0] == "0" || rp[0] == "7") }
