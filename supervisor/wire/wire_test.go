package wire

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/deskguard/deskguard/market"
)

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	trades := []market.Trade{
		{Time: 1_700_000_000_000_000_000, Price: 20601, Size: 3, Aggressor: market.Buy, Seq: 1},
		{Time: 1_700_000_000_000_000_001, Price: 20600, Size: 1, Aggressor: market.Sell, Seq: 2},
		{Time: 1_700_000_000_000_000_002, Price: 20600, Size: 7, Aggressor: market.Unknown, Seq: 3},
	}
	if err := w.WriteTicks(trades); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteJSON(Ping, map[string]int{"n": 7}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r := NewReader(&buf)
	typ, p, err := r.Read()
	if err != nil || typ != Ticks {
		t.Fatalf("first frame %v %v", typ, err)
	}
	got, err := DecodeTicks(nil, p)
	if err != nil || !reflect.DeepEqual(got, trades) {
		t.Fatalf("ticks %v %v", got, err)
	}
	typ, p, err = r.Read()
	if err != nil || typ != Ping || string(p) != `{"n":7}` {
		t.Fatalf("second frame %v %q %v", typ, p, err)
	}
	if _, _, err := r.Read(); err != io.EOF {
		t.Fatalf("end: %v, want io.EOF", err)
	}
}

func TestGarbage(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
	}{
		{"zero length", []byte{0, 0, 0, 0}},
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff, 1}},
		{"unknown type", []byte{0, 0, 0, 1, 0xee}},
		{"type zero", []byte{0, 0, 0, 1, 0}},
		{"truncated payload", []byte{0, 0, 0, 9, byte(Ticks), 1, 2}},
		{"truncated header", []byte{0, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := NewReader(bytes.NewReader(tc.in)).Read()
			if err == nil || err == io.EOF {
				t.Fatalf("err = %v, want a frame error", err)
			}
		})
	}
	if _, err := DecodeTicks(nil, make([]byte, TradeSize+1)); !errors.Is(err, ErrGarbage) {
		t.Fatalf("odd ticks payload: %v", err)
	}
	bad := AppendTicks(nil, []market.Trade{{Price: 1}})
	bad[24] = 9
	if _, err := DecodeTicks(nil, bad); !errors.Is(err, ErrGarbage) {
		t.Fatalf("bad aggressor: %v", err)
	}
}

func FuzzReader(f *testing.F) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	_ = w.WriteTicks([]market.Trade{{Time: 1, Price: 2, Size: 3, Aggressor: market.Buy, Seq: 4}})
	_ = w.WriteJSON(Pong, struct{}{})
	_ = w.Flush()
	f.Add(buf.Bytes())
	f.Add([]byte{0, 0, 0, 1, byte(Ping)})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b))
		for i := 0; i < 100; i++ {
			typ, p, err := r.Read()
			if err != nil {
				return
			}
			if typ == Ticks {
				_, _ = DecodeTicks(nil, p)
			}
		}
	})
}
