// urgentlog.go: the urgent lane's own file, <journal>.urgent. A record
// AppendUrgent takes (a kill) is made durable there with one write and one
// fdatasync of a preallocated file, so the kill does not wait for the bbolt
// commit already running ahead of it (the intents' group commit, two
// fdatasyncs and the file's growth). The group commit then writes the record
// into bbolt as before, with the highest urgent id it holds (meta key
// "urgent", in the same transaction). Open replays into bbolt every entry
// past that mark before anything else is appended, so a record the urgent
// log made durable is in the journal after any crash — once: an entry at or
// below the mark is in bbolt already.
//
// Layout: the 8-byte magic "DGURGNT1" and 8 zero bytes, then entries, each
// len(4) | crc32c(4, over id and env) | id(8) | env (the record's sealed
// JSON envelope, as the commit stores it). Ids only grow. The file is
// preallocated with zeros, written and synced at Open, so an entry's write
// changes no file metadata and its fdatasync flushes only the data. Reading
// stops at the first entry that is zero, cut short, fails its checksum or
// does not follow its predecessor's id (a torn last write, or an older
// entry left past the end after a reset): writes are serialised and each is
// synced before the next, so only the last can be torn.
//
// It touches only its one file, beside the journal's.

package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

const (
	urgentMagic       = "DGURGNT1"
	urgentHeaderLen   = 16
	urgentEntryHeader = 4 + 4 + 8
	// urgentFileSize is the preallocated size: about a thousand kill
	// records. When it is full AppendUrgent waits for the commit as it did
	// before the urgent log; the next Open resets it.
	urgentFileSize = 1 << 20
	urgentMaxEntry = 64 << 10
)

// keyUrgent is the meta key holding the highest urgent id committed.
var keyUrgent = []byte("urgent")

// errUrgentFull: the entry does not fit (AppendUrgent waits for the commit).
var errUrgentFull = errors.New("journal: urgent log full")

// UrgentPath is the urgent log's file for the journal at path.
func UrgentPath(path string) string { return path + ".urgent" }

// urgentEntry is one entry read back.
type urgentEntry struct {
	id  uint64
	env []byte
}

// urgentLog is the open file. Its writes are serialised by mu, in id order.
type urgentLog struct {
	mu     sync.Mutex
	f      *os.File
	path   string
	off    int64  // where the next entry goes
	dirty  int64  // bytes past the header up to here may be non-zero (reset zeroes them)
	nextID uint64 // the next entry's id
	broken error  // a write or sync failed: every later one waits for the commit
	inject func() error
}

// openUrgent opens (creating and preallocating) the urgent log of the
// journal at path and returns it with its entries past mark, in order.
func openUrgent(path string, mark uint64) (*urgentLog, []urgentEntry, error) {
	up := UrgentPath(path)
	f, err := os.OpenFile(up, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("journal: urgent log %s: %w", up, err)
	}
	u := &urgentLog{f: f, path: up}
	entries, end, dirty, err := u.read()
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	if err := u.preallocate(); err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	u.off, u.dirty = end, dirty
	last := mark
	var past []urgentEntry
	for _, e := range entries {
		if e.id > mark {
			past = append(past, e)
		}
		last = max(last, e.id)
	}
	u.nextID = last + 1
	return u, past, nil
}

// read parses the file: its entries, where the next one goes, and how far
// it holds anything but zeros. A file that is all zeros (new, or created
// by a run that crashed before its first sync) has none; one with another
// header is not an urgent log.
func (u *urgentLog) read() (_ []urgentEntry, end, dirty int64, _ error) {
	b, err := io.ReadAll(io.LimitReader(u.f, urgentFileSize))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("journal: urgent log %s: read: %w", u.path, err)
	}
	return parseUrgent(b, u.path)
}

// parseUrgent is read's parser, over the file's bytes.
func parseUrgent(b []byte, path string) (_ []urgentEntry, end, dirty int64, _ error) {
	if len(b) < urgentHeaderLen || string(b[:8]) != urgentMagic {
		if bytes.Count(b, []byte{0}) != len(b) {
			return nil, 0, 0, fmt.Errorf("%w: %s: not an urgent log (bad header; not repaired)", ErrCorrupt, path)
		}
		return nil, urgentHeaderLen, urgentHeaderLen, nil
	}
	dirty = int64(urgentHeaderLen)
	if body := b[urgentHeaderLen:]; bytes.Count(body, []byte{0}) != len(body) {
		dirty = int64(len(b)) // anything non-zero past the header: zeroed to the end
	}
	var out []urgentEntry
	off, prev := urgentHeaderLen, uint64(0)
	for off+urgentEntryHeader <= len(b) {
		n := int(binary.BigEndian.Uint32(b[off:]))
		if n == 0 || n > urgentMaxEntry || off+urgentEntryHeader+n > len(b) {
			break
		}
		body := b[off+8 : off+urgentEntryHeader+n] // id | env
		if crc32c(body) != binary.BigEndian.Uint32(b[off+4:]) {
			break
		}
		id := binary.BigEndian.Uint64(body)
		if id <= prev {
			break
		}
		out = append(out, urgentEntry{id: id, env: append([]byte(nil), body[8:]...)})
		prev = id
		off += urgentEntryHeader + n
	}
	return out, int64(off), dirty, nil
}

// preallocate writes the header and zeros up to urgentFileSize where the
// file is shorter, and syncs it and its directory (a new file's entry).
func (u *urgentLog) preallocate() error {
	fi, err := u.f.Stat()
	if err != nil {
		return fmt.Errorf("journal: urgent log %s: %w", u.path, err)
	}
	if fi.Size() >= urgentFileSize {
		return u.writeHeader(false)
	}
	if _, err := u.f.WriteAt(make([]byte, urgentFileSize-fi.Size()), fi.Size()); err != nil {
		return fmt.Errorf("journal: urgent log %s: preallocate: %w", u.path, err)
	}
	return u.writeHeader(true)
}

func (u *urgentLog) writeHeader(sync bool) error {
	h := make([]byte, urgentHeaderLen)
	copy(h, urgentMagic)
	var cur [urgentHeaderLen]byte
	if _, err := u.f.ReadAt(cur[:], 0); err == nil && bytes.Equal(cur[:], h) && !sync {
		return nil
	}
	if _, err := u.f.WriteAt(h, 0); err != nil {
		return fmt.Errorf("journal: urgent log %s: header: %w", u.path, err)
	}
	if err := u.f.Sync(); err != nil {
		return fmt.Errorf("journal: urgent log %s: sync: %w", u.path, err)
	}
	if d, err := os.Open(filepath.Dir(u.path)); err == nil {
		err = d.Sync()
		_ = d.Close()
		if err != nil {
			return fmt.Errorf("journal: urgent log %s: sync directory: %w", u.path, err)
		}
	}
	return nil
}

// reset zeroes everything past the header once every entry is committed
// (Open, after the replay) — the entries, and whatever a torn write or an
// interrupted reset left beyond them — so the log starts again after its
// header with nothing behind it that could be read as an entry. Ids keep
// growing from the committed mark, so an entry an interrupted reset leaves
// is never read as new either.
func (u *urgentLog) reset() error {
	if u.dirty <= urgentHeaderLen {
		u.off = urgentHeaderLen
		return nil
	}
	if _, err := u.f.WriteAt(make([]byte, u.dirty-urgentHeaderLen), urgentHeaderLen); err != nil {
		return fmt.Errorf("journal: urgent log %s: reset: %w", u.path, err)
	}
	if err := fdatasync(u.f); err != nil {
		return fmt.Errorf("journal: urgent log %s: reset: %w", u.path, err)
	}
	u.off, u.dirty = urgentHeaderLen, urgentHeaderLen
	return nil
}

// take reserves the next id for an entry of env; the caller holds u.mu
// until write returns, so entries reach the file in id order.
func (u *urgentLog) take(env []byte) (uint64, error) {
	switch {
	case u.broken != nil:
		return 0, u.broken
	case len(env) > urgentMaxEntry || u.off+int64(urgentEntryHeader+len(env)) > urgentFileSize:
		return 0, errUrgentFull
	}
	id := u.nextID
	u.nextID++
	return id, nil
}

// write makes the entry durable: one write, one fdatasync. A failure
// breaks the log for the rest of the run (after a failed fdatasync the
// page's state is unknown).
func (u *urgentLog) write(id uint64, env []byte) error {
	if u.inject != nil {
		if err := u.inject(); err != nil {
			return err
		}
	}
	buf := make([]byte, urgentEntryHeader+len(env))
	binary.BigEndian.PutUint32(buf[0:], uint32(len(env)))
	binary.BigEndian.PutUint64(buf[8:], id)
	copy(buf[urgentEntryHeader:], env)
	binary.BigEndian.PutUint32(buf[4:], crc32c(buf[8:]))
	if _, err := u.f.WriteAt(buf, u.off); err != nil {
		u.broken = fmt.Errorf("journal: urgent log %s: write: %w", u.path, err)
		return u.broken
	}
	if err := fdatasync(u.f); err != nil {
		u.broken = fmt.Errorf("journal: urgent log %s: fdatasync: %w", u.path, err)
		return u.broken
	}
	u.off += int64(len(buf))
	u.dirty = max(u.dirty, u.off)
	return nil
}

// close closes the file once no write is in progress (Close, after the
// writer has committed everything queued).
func (u *urgentLog) close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.broken = errors.Join(u.broken, ErrClosed)
	return u.f.Close()
}

// pendingUrgent counts the urgent log's entries past mark without changing
// the file (a read-only look: Verify): records durable there that the
// journal's next writable Open replays.
func pendingUrgent(path string, mark uint64) (int, error) {
	f, err := os.Open(UrgentPath(path))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("journal: urgent log %s: %w", UrgentPath(path), err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, urgentFileSize))
	if err != nil {
		return 0, fmt.Errorf("journal: urgent log %s: read: %w", UrgentPath(path), err)
	}
	entries, _, _, err := parseUrgent(b, UrgentPath(path))
	n := 0
	for _, e := range entries {
		if e.id > mark {
			n++
		}
	}
	return n, err
}
