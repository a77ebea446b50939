// Package wire is the length-prefixed frame protocol between the supervisor
// and its `deskguard worker` child processes on the child's stdin/stdout.
//
// A frame is a big-endian uint32 length n, then n bytes: one type byte and
// the payload. Ticks travel in a fixed binary layout (33 bytes a trade,
// batched); every other payload is JSON. Anything malformed is an error,
// never a panic: a worker writing garbage is killed by the supervisor.
//
// It may touch only intent and market.
package wire

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/deskguard/deskguard/market"
)

// Type is a frame's kind.
type Type uint8

const (
	Hello       Type = iota + 1 // sup → worker: account, engines and their config, session
	Ticks                       // sup → worker: a batch of trades
	IntentFrame                 // worker → sup: one intent
	Fill                        // sup → worker: a fill of one of the worker's orders
	OrderDone                   // sup → worker: an order finished (filled, cancelled, rejected)
	Position                    // sup → worker: position sync (on start and after restarts)
	Halt                        // sup → worker: stop proposing entries
	Resume                      // sup → worker: proposals allowed again
	Ping                        // sup → worker: heartbeat request
	Pong                        // worker → sup: heartbeat reply
	Decision                    // sup → worker: the gate's answer to an intent (rejections)
	Bye                         // sup → worker: exit cleanly
	maxType
)

var typeNames = [...]string{Hello: "hello", Ticks: "ticks", IntentFrame: "intent", Fill: "fill", OrderDone: "order_done",
	Position: "position", Halt: "halt", Resume: "resume", Ping: "ping", Pong: "pong", Decision: "decision", Bye: "bye"}

func (t Type) String() string {
	if t > 0 && t < maxType {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// MaxFrame bounds a frame's length; a longer prefix is garbage.
const MaxFrame = 4 << 20

// TradeSize is the encoded size of one trade in a Ticks frame.
const TradeSize = 33

// ErrGarbage marks a malformed frame.
var ErrGarbage = errors.New("wire: malformed frame")

// FrameError says what was wrong with a frame and where in the stream.
type FrameError struct {
	Frame  int64 // frame number in the stream, from 1
	Reason string
}

func (e *FrameError) Error() string { return fmt.Sprintf("wire: frame %d: %s", e.Frame, e.Reason) }

// Unwrap lets errors.Is(err, ErrGarbage) match.
func (e *FrameError) Unwrap() error { return ErrGarbage }

// Reader reads frames.
type Reader struct {
	r   *bufio.Reader
	n   int64
	buf []byte
}

// NewReader wraps r.
func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReaderSize(r, 64<<10)} }

// Read returns the next frame's type and payload. The payload is valid
// until the next Read. io.EOF means a clean end between frames.
func (r *Reader) Read() (Type, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r.r, hdr[:]); err != nil {
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		return 0, nil, fmt.Errorf("wire: frame %d header: %w", r.n+1, err)
	}
	r.n++
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > MaxFrame {
		return 0, nil, &FrameError{r.n, fmt.Sprintf("length %d out of range", n)}
	}
	if cap(r.buf) < int(n) {
		r.buf = make([]byte, n)
	}
	b := r.buf[:n]
	if _, err := io.ReadFull(r.r, b); err != nil {
		return 0, nil, &FrameError{r.n, "truncated: " + err.Error()}
	}
	t := Type(b[0])
	if t == 0 || t >= maxType {
		return 0, nil, &FrameError{r.n, fmt.Sprintf("unknown type %d", b[0])}
	}
	return t, b[1:], nil
}

// Writer writes frames; it is not safe for concurrent use (the supervisor
// gives each worker one writer goroutine).
type Writer struct {
	w   *bufio.Writer
	buf []byte
}

// NewWriter wraps w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriterSize(w, 64<<10)} }

// Write writes one frame (buffered; call Flush).
func (w *Writer) Write(t Type, payload []byte) error {
	if len(payload)+1 > MaxFrame {
		return fmt.Errorf("wire: %s payload of %d bytes exceeds %d", t, len(payload), MaxFrame)
	}
	var hdr [5]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(payload)+1))
	hdr[4] = byte(t)
	if _, err := w.w.Write(hdr[:]); err != nil {
		return fmt.Errorf("wire: write %s: %w", t, err)
	}
	if _, err := w.w.Write(payload); err != nil {
		return fmt.Errorf("wire: write %s: %w", t, err)
	}
	return nil
}

// WriteJSON writes v as a JSON frame.
func (w *Writer) WriteJSON(t Type, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("wire: encode %s: %w", t, err)
	}
	return w.Write(t, b)
}

// WriteTicks writes a batch of trades as one frame.
func (w *Writer) WriteTicks(ts []market.Trade) error {
	w.buf = AppendTicks(w.buf[:0], ts)
	return w.Write(Ticks, w.buf)
}

// Flush sends buffered frames.
func (w *Writer) Flush() error { return w.w.Flush() }

// AppendTicks encodes trades in the Ticks layout.
func AppendTicks(b []byte, ts []market.Trade) []byte {
	for _, t := range ts {
		b = binary.BigEndian.AppendUint64(b, uint64(t.Time))
		b = binary.BigEndian.AppendUint64(b, uint64(t.Price))
		b = binary.BigEndian.AppendUint64(b, uint64(t.Size))
		b = append(b, byte(t.Aggressor))
		b = binary.BigEndian.AppendUint64(b, t.Seq)
	}
	return b
}

// DecodeTicks decodes a Ticks payload, appending to dst.
func DecodeTicks(dst []market.Trade, p []byte) ([]market.Trade, error) {
	if len(p)%TradeSize != 0 {
		return dst, fmt.Errorf("%w: ticks payload of %d bytes is not a multiple of %d", ErrGarbage, len(p), TradeSize)
	}
	for i := 0; i < len(p); i += TradeSize {
		q := p[i : i+TradeSize]
		side := market.Side(int8(q[24]))
		if side < market.Sell || side > market.Buy {
			return dst, fmt.Errorf("%w: trade %d: aggressor %d", ErrGarbage, i/TradeSize, int8(q[24]))
		}
		dst = append(dst, market.Trade{
			Time:      int64(binary.BigEndian.Uint64(q[0:])),
			Price:     market.Price(int64(binary.BigEndian.Uint64(q[8:]))),
			Size:      int64(binary.BigEndian.Uint64(q[16:])),
			Aggressor: side,
			Seq:       binary.BigEndian.Uint64(q[25:]),
		})
	}
	return dst, nil
}
