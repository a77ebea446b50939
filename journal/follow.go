// follow.go: following the journal as it commits, for readers that must see
// records as soon as they are durable without polling (the firm outbox,
// which publishes a desk's journal to NATS JetStream): the last durable
// sequence, a signal after every commit, and reads of the stored values
// after a sequence. It touches nothing of the append path but one
// non-blocking notify per commit, made by the writer goroutine.

package journal

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// followers is the Journal's set of Followers.
type followers struct {
	committed atomic.Uint64 // last durable seq the writer reported (0: none since Open)
	mu        sync.Mutex
	subs      map[*Follower]struct{}
}

// notify is called by the writer after each successful commit. It never
// blocks: a follower that has not taken the previous signal already has
// one pending, which covers this commit too.
func (f *followers) notify(last uint64) {
	f.committed.Store(last)
	f.mu.Lock()
	for s := range f.subs {
		select {
		case s.c <- struct{}{}:
		default:
		}
	}
	f.mu.Unlock()
}

// Follower is a subscription to a journal's commits. C receives a value
// after one or more commits (signals coalesce: read Committed, then every
// record after what was read last).
type Follower struct {
	C <-chan struct{}
	c chan struct{}
	j *Journal
}

// Follow subscribes to the journal's commits. Close the Follower when done.
func (j *Journal) Follow() *Follower {
	c := make(chan struct{}, 1)
	f := &Follower{C: c, c: c, j: j}
	j.follow.mu.Lock()
	if j.follow.subs == nil {
		j.follow.subs = map[*Follower]struct{}{}
	}
	j.follow.subs[f] = struct{}{}
	j.follow.mu.Unlock()
	return f
}

// Close ends the subscription.
func (f *Follower) Close() {
	f.j.follow.mu.Lock()
	delete(f.j.follow.subs, f)
	f.j.follow.mu.Unlock()
}

// Committed is the sequence of the last durable record (0 for an empty
// journal): every record up to it can be read.
func (j *Journal) Committed() (uint64, error) {
	if s := j.follow.committed.Load(); s != 0 {
		return s, nil
	}
	r, ok, err := j.Last()
	if err != nil || !ok {
		return 0, err
	}
	return r.Seq, nil
}

// ReadAfter calls fn with every record whose Seq is above after, in order,
// at most max of them (max <= 0: no limit), in one read transaction, with
// the stored value as it is on disk (CRC-32C, format, seq, JSON envelope;
// DecodeValue reads it back, checking the CRC). raw is fn's own copy. It
// returns the last seq passed to fn (after when none). A record that does
// not decode ends the read with an error wrapping ErrCorrupt; an error
// from fn ends it and is returned (ErrStop: without error).
func (j *Journal) ReadAfter(after uint64, max int, fn func(r Record, raw []byte) error) (last uint64, err error) {
	last = after
	err = j.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		n := 0
		for k, v := c.Seek(seqKey(after + 1)); k != nil && (max <= 0 || n < max); k, v = c.Next() {
			r, err := Decode(k, v)
			if err != nil {
				return err
			}
			if err := fn(r, append([]byte(nil), v...)); err != nil {
				return err
			}
			last = r.Seq
			n++
		}
		return nil
	})
	if errors.Is(err, ErrStop) {
		err = nil
	}
	if err != nil {
		return last, fmt.Errorf("journal: read after %d: %w", after, err)
	}
	return last, nil
}

// DecodeValue decodes a stored value (as ReadAfter hands it out) that
// claims to be record seq: the CRC, the format and the sequence number are
// checked as Decode does.
func DecodeValue(seq uint64, value []byte) (Record, error) {
	return Decode(seqKey(seq), value)
}

// Created is the journal's creation time as written in its meta (RFC 3339
// UTC, nanoseconds): together with a desk's name it tells one journal file
// from another that restarted at seq 1.
func (j *Journal) Created() (string, error) {
	var s string
	err := j.view(func(tx *bolt.Tx) error {
		if m := tx.Bucket(bucketMeta); m != nil {
			s = string(m.Get(keyCreated))
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("journal: created: %w", err)
	}
	return s, nil
}

// ReadRawAfter is ReadAfter for a reader that forwards the stored values
// without decoding them (the outbox): fn gets each value's seq, its
// record kind and the value itself (fn's own copy). The frame (key, CRC,
// format, seq) is checked as Open's full check does; the kind is read from
// the head of the envelope, where encodeEnvelope puts it, or by decoding
// the value when it is not there.
func (j *Journal) ReadRawAfter(after uint64, max int, fn func(seq uint64, kind Kind, raw []byte) error) (last uint64, err error) {
	last = after
	err = j.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		n := 0
		for k, v := c.Seek(seqKey(after + 1)); k != nil && (max <= 0 || n < max); k, v = c.Next() {
			seq, err := checkSealed(k, v)
			if err != nil {
				return err
			}
			kind, ok := headKind(v[headerLen:])
			if !ok {
				r, err := Decode(k, v)
				if err != nil {
					return err
				}
				kind = r.Kind
			}
			if err := fn(seq, kind, append([]byte(nil), v...)); err != nil {
				return err
			}
			last = seq
			n++
		}
		return nil
	})
	if errors.Is(err, ErrStop) {
		err = nil
	}
	if err != nil {
		return last, fmt.Errorf("journal: read after %d: %w", after, err)
	}
	return last, nil
}

// headKind reads the kind from an envelope that starts {"k":"<kind>",
// (json.Marshal of envelope writes K first); ok is false otherwise.
func headKind(env []byte) (Kind, bool) {
	const head = `{"k":"`
	if len(env) < len(head)+2 || string(env[:len(head)]) != head {
		return "", false
	}
	rest := env[len(head):]
	for i := 0; i < len(rest) && i <= 32; i++ {
		if rest[i] == '"' {
			k := Kind(rest[:i])
			return k, k.Valid()
		}
	}
	return "", false
}
