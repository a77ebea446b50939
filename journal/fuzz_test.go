// fuzz_test.go: the record decoder never panics, never accepts a value
// whose checksum or sequence is wrong, and what it accepts re-encodes to
// the same bytes. Seeds: every record kind (f.Add) and testdata/fuzz.

package journal

import (
	"bytes"
	"testing"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

func seedRecords() []Record {
	snap, _ := NewSnapshot(9, []byte(`{"ledgers":[{"id":"A1","position":2}]}`))
	return []Record{
		NewIntent(enter("A1", "A1-1", market.Buy, 5, 20601, 1), &Decision{Allowed: true}),
		NewDecision("A1", "A1-1", 2, Decision{Reason: "max_qty", Got: 5, Limit: 3}),
		NewBrokerEvent(fill("A1", "A1-1.stop", "A1-1", broker.StopLeg, market.Sell, 5, 20593, 3)),
		NewTransition(4, Transition{Machine: "desk", ID: "desk", From: "running", To: "halting", Event: "kill"}),
		NewKill(5, Kill{Scope: "desk", Trigger: "button", Who: "gpio17", Accounts: []string{"A1"}}),
		NewLockout("A1", 6, Lockout{Equity: "49200.00", Line: "49250.00", Start: "50000.00"}),
		NewUnlock("A1", 7, "rm", "reviewed"),
		NewCommand("", 8, Command{Who: "U1", Source: "slack", Command: "status", Allowed: true}),
		snap,
	}
}

func FuzzDecode(f *testing.F) {
	for i, r := range seedRecords() {
		r.Seq, r.Wall = uint64(i+1), int64(1e18)+int64(i)
		k, v, err := Encode(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(k, v)
	}
	f.Fuzz(func(t *testing.T, key, value []byte) {
		r, err := Decode(key, value)
		if err != nil {
			return
		}
		k2, v2, err := Encode(r)
		if err != nil {
			t.Fatalf("decoded record does not re-encode: %v", err)
		}
		if !bytes.Equal(k2, key) {
			t.Fatalf("key %x re-encodes as %x", key, k2)
		}
		r2, err := Decode(k2, v2)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if r2.Seq != r.Seq || r2.Kind != r.Kind || r2.Wall != r.Wall || r2.Market != r.Market || r2.Account != r.Account ||
			r2.ClientID != r.ClientID || !bytes.Equal(r2.Body, r.Body) || r2.Version != r.Version {
			t.Fatalf("round trip changed the record: %+v → %+v", r, r2)
		}
		_ = checkPayload(r) // typed payload decoding must not panic either
		// Any single flipped bit in an accepted value is refused.
		for i := 0; i < len(value); i += 1 + len(value)/16 {
			d := append([]byte(nil), value...)
			d[i] ^= 0x04
			if _, err := Decode(key, d); err == nil {
				t.Fatalf("bit flip at %d accepted", i)
			}
		}
	})
}

func TestDecodeRejects(t *testing.T) {
	r := seedRecords()[0]
	r.Seq = 7
	k, v, _ := Encode(r)
	cases := map[string]func() ([]byte, []byte){
		"short key":    func() ([]byte, []byte) { return k[:7], v },
		"short value":  func() ([]byte, []byte) { return k, v[:10] },
		"bad crc":      func() ([]byte, []byte) { d := bytes.Clone(v); d[0] ^= 1; return k, d },
		"wrong key":    func() ([]byte, []byte) { return seqKey(8), v },
		"future fmt":   func() ([]byte, []byte) { d := bytes.Clone(v); d[4] = 9; return k, resealed(d) },
		"bad json":     func() ([]byte, []byte) { d := append(bytes.Clone(v[:headerLen]), "{"...); return k, resealed(d) },
		"invalid kind": func() ([]byte, []byte) { return k, sealValue(7, []byte(`{"k":"Nope","v":1,"w":1}`)) },
		"version 0":    func() ([]byte, []byte) { return k, sealValue(7, []byte(`{"k":"kill","v":0,"w":1}`)) },
	}
	for name, mk := range cases {
		kk, vv := mk()
		if _, err := Decode(kk, vv); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if got, err := Decode(k, v); err != nil || got.ClientID != "A1-1" || got.Seq != 7 {
		t.Fatalf("good value: %+v %v", got, err)
	}
}

func resealed(v []byte) []byte {
	d := bytes.Clone(v)
	sum := crc32c(d[4:])
	d[0], d[1], d[2], d[3] = byte(sum>>24), byte(sum>>16), byte(sum>>8), byte(sum)
	return d
}

// FuzzDecodeEnvelope seals arbitrary JSON with a valid checksum, so the
// fuzzer reaches the envelope and payload decoders behind the CRC.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, r := range seedRecords() {
		env, err := encodeEnvelope(&r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint64(3), env)
	}
	f.Fuzz(func(t *testing.T, seq uint64, env []byte) {
		r, err := Decode(seqKey(seq), sealValue(seq, env))
		if err != nil {
			return
		}
		if r.Seq != seq || !r.Kind.Valid() || r.Version == 0 {
			t.Fatalf("accepted an invalid record: %+v", r)
		}
		_ = checkPayload(r)
		if _, _, err := Encode(r); err != nil {
			t.Fatalf("accepted record does not re-encode: %v", err)
		}
	})
}
