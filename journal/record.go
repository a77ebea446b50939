// record.go: the Record, its kinds, and the on-disk encoding of one value
// (CRC-32C, format byte, sequence number, JSON envelope).

package journal

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
)

// Kind names what a record is. The known kinds have typed payloads (see
// payloads.go); other kinds may be appended as long as the name is a short
// lower-case identifier, so the desk can journal new facts without a schema
// change.
type Kind string

// Record kinds.
const (
	KindIntent       Kind = "intent"        // an intent before it reaches the broker (IntentBody)
	KindDecision     Kind = "decision"      // a gate decision journaled on its own (Decision)
	KindBrokerEvent  Kind = "broker_event"  // an execution event from the venue (broker.Event)
	KindBrokerError  Kind = "broker_error"  // the broker refused a request (BrokerError)
	KindTransition   Kind = "transition"    // a state-machine transition (Transition)
	KindKill         Kind = "kill"          // a kill (Kill)
	KindLockout      Kind = "lockout"       // a drawdown lockout (Lockout)
	KindUnlock       Kind = "unlock"        // an early unlock (Authorization)
	KindRearm        Kind = "rearm"         // a re-arm of the desk (Authorization)
	KindConfigChange Kind = "config_change" // a configuration change (ConfigChange)
	KindSessionReset Kind = "session_reset" // a session reset (SessionReset)
	KindSnapshot     Kind = "snapshot"      // opaque state from the caller; Recover starts at the latest
	KindAlertFailed  Kind = "alert_failed"  // an alert that could not be delivered (AlertFailed)
	KindCommand      Kind = "command"       // an operator command (Command)
	KindWorker       Kind = "worker"        // a worker process event (Worker)
	KindStopRepair   Kind = "stop_repair"   // a stop-coverage repair, before it is sent (StopRepair)
	KindReconcile    Kind = "reconcile"     // a reconciliation with the venue that changed the books (Reconcile)
	KindClear        Kind = "clear"         // the risk manager cleared a faulted account (Authorization)
	KindLink         Kind = "link"          // an outside link went down or came back (Link)
	KindRisk         Kind = "risk"          // a risk rule's event and the account's rule state after it (Risk)
	KindMarker       Kind = "marker"        // a free-form note (tests, drills; links before v1's last build)
)

// KnownKinds lists the kinds with a documented payload, in a stable order.
func KnownKinds() []Kind {
	return []Kind{KindIntent, KindDecision, KindBrokerEvent, KindBrokerError, KindTransition, KindKill, KindLockout,
		KindUnlock, KindRearm, KindConfigChange, KindSessionReset, KindSnapshot, KindAlertFailed, KindCommand,
		KindWorker, KindStopRepair, KindReconcile, KindClear, KindLink, KindRisk, KindMarker}
}

// Valid reports whether k is a usable kind name: 1 to 32 characters of
// a-z, 0-9 and '_', starting with a letter.
func (k Kind) Valid() bool {
	if len(k) == 0 || len(k) > 32 || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Record is one journal entry. Seq is assigned by Append; Wall by Append
// from the journal's clock when zero.
type Record struct {
	Seq      uint64          `json:"seq"`
	Kind     Kind            `json:"kind"`
	Version  uint16          `json:"v"`      // payload version of this kind (1 for every kind today)
	Wall     int64           `json:"wall"`   // wall-clock time of the append, ns UTC
	Market   int64           `json:"market"` // market time, ns UTC (0 when none)
	Account  string          `json:"account,omitempty"`
	ClientID string          `json:"client_id,omitempty"`
	Body     json.RawMessage `json:"body,omitempty"` // the payload, JSON
}

// Limits on one record.
const (
	maxIDLen    = 256
	MaxBodySize = 1 << 20 // bytes of JSON body
)

// format of a stored value: crc32c(4) | format(1) | seq(8) | JSON envelope.
const (
	valueFormat = 1
	headerLen   = 4 + 1 + 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Decode errors.
var (
	// ErrCorrupt marks damaged journal content: a bad checksum, a value that
	// does not decode, a gap in the sequence, or a file bbolt cannot read.
	ErrCorrupt = errors.New("journal: corrupt")
	// ErrInvalidRecord marks a record Append refuses (bad kind, oversized body).
	ErrInvalidRecord = errors.New("journal: invalid record")
)

// envelope is the JSON part of a stored value.
type envelope struct {
	K Kind            `json:"k"`
	V uint16          `json:"v"`
	W int64           `json:"w"`
	M int64           `json:"m,omitempty"`
	A string          `json:"a,omitempty"`
	C string          `json:"c,omitempty"`
	B json.RawMessage `json:"b,omitempty"`
}

// validate checks the fields Append and Decode both insist on.
func (r *Record) validate() error {
	switch {
	case !r.Kind.Valid():
		return fmt.Errorf("%w: kind %q", ErrInvalidRecord, r.Kind)
	case r.Version == 0:
		return fmt.Errorf("%w: %s: version 0", ErrInvalidRecord, r.Kind)
	case len(r.Account) > maxIDLen || len(r.ClientID) > maxIDLen:
		return fmt.Errorf("%w: %s: account or client id longer than %d bytes", ErrInvalidRecord, r.Kind, maxIDLen)
	case len(r.Body) > MaxBodySize:
		return fmt.Errorf("%w: %s: body of %d bytes (max %d)", ErrInvalidRecord, r.Kind, len(r.Body), MaxBodySize)
	case len(r.Body) > 0 && !json.Valid(r.Body):
		return fmt.Errorf("%w: %s: body is not valid JSON", ErrInvalidRecord, r.Kind)
	}
	return nil
}

// encodeEnvelope is the sequence-independent part of a value, computed in
// the appender's goroutine.
func encodeEnvelope(r *Record) ([]byte, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(envelope{K: r.Kind, V: r.Version, W: r.Wall, M: r.Market, A: r.Account, C: r.ClientID, B: r.Body})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidRecord, r.Kind, err)
	}
	return b, nil
}

// sealValue builds the stored value of env at seq.
func sealValue(seq uint64, env []byte) []byte {
	v := make([]byte, headerLen+len(env))
	v[4] = valueFormat
	binary.BigEndian.PutUint64(v[5:13], seq)
	copy(v[headerLen:], env)
	binary.BigEndian.PutUint32(v[0:4], crc32.Checksum(v[4:], castagnoli))
	return v
}

// Encode returns the key and value under which r is stored at r.Seq.
func Encode(r Record) (key, value []byte, err error) {
	env, err := encodeEnvelope(&r)
	if err != nil {
		return nil, nil, err
	}
	return seqKey(r.Seq), sealValue(r.Seq, env), nil
}

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

// checkSealed verifies a stored value's frame — key length, checksum,
// format, and that the value's sequence number is the key's — without
// parsing the JSON (Open's full check; Verify decodes everything).
func checkSealed(key, value []byte) (uint64, error) {
	if len(key) != 8 {
		return 0, fmt.Errorf("%w: key of %d bytes, want 8", ErrCorrupt, len(key))
	}
	seq := binary.BigEndian.Uint64(key)
	if len(value) < headerLen {
		return 0, fmt.Errorf("%w: seq %d: value of %d bytes is shorter than its header", ErrCorrupt, seq, len(value))
	}
	if got, want := crc32.Checksum(value[4:], castagnoli), binary.BigEndian.Uint32(value[0:4]); got != want {
		return 0, fmt.Errorf("%w: seq %d: checksum %08x, stored %08x", ErrCorrupt, seq, got, want)
	}
	if value[4] != valueFormat {
		return 0, fmt.Errorf("%w: seq %d: value format %d, this build reads %d", ErrCorrupt, seq, value[4], valueFormat)
	}
	if s := binary.BigEndian.Uint64(value[5:13]); s != seq {
		return 0, fmt.Errorf("%w: key says seq %d, value says %d", ErrCorrupt, seq, s)
	}
	return seq, nil
}

// Decode parses a stored key and value. Any damage — wrong key length, bad
// checksum, unknown format, a sequence number that disagrees with the key,
// JSON that does not parse, an invalid kind — is an error wrapping
// ErrCorrupt. Decode copies what it keeps: key and value may be reused.
func Decode(key, value []byte) (Record, error) {
	seq, err := checkSealed(key, value)
	if err != nil {
		return Record{}, err
	}
	var env envelope
	if err := json.Unmarshal(value[headerLen:], &env); err != nil {
		return Record{}, fmt.Errorf("%w: seq %d: %v", ErrCorrupt, seq, err)
	}
	r := Record{Seq: seq, Kind: env.K, Version: env.V, Wall: env.W, Market: env.M, Account: env.A, ClientID: env.C}
	if len(env.B) > 0 {
		r.Body = append(json.RawMessage(nil), env.B...)
	}
	if err := r.validate(); err != nil {
		return Record{}, fmt.Errorf("%w: seq %d: %v", ErrCorrupt, seq, err)
	}
	return r, nil
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
