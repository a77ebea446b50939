// metacheck.go: reads bbolt's two meta pages directly, before bbolt does,
// so that a damaged meta page or a file cut short is refused instead of
// bbolt silently falling back to the older meta (which would drop the
// last commit) or reading past the end of the file.

package journal

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
)

const (
	boltMagic      = 0xED0CDAED
	pageHeaderSize = 16
	metaSumOffset  = 56 // magic, version, pageSize, flags, root{pgid, seq}, freelist, pgid, txid
)

type metaInfo struct {
	ok       bool
	root     uint64 // root bucket's page
	freelist uint64
	pageSize uint32
	pgid     uint64 // high-water mark: pages in use
	txid     uint64
	why      string
}

func readMeta(f *os.File, off int64) metaInfo {
	buf := make([]byte, pageHeaderSize+metaSumOffset+8)
	if _, err := f.ReadAt(buf, off); err != nil {
		return metaInfo{why: fmt.Sprintf("cannot read: %v", err)}
	}
	m := buf[pageHeaderSize:]
	le := binary.LittleEndian // bbolt writes native order; deskguard targets little-endian amd64/arm64
	h := fnv.New64a()
	h.Write(m[:metaSumOffset])
	if got, want := h.Sum64(), le.Uint64(m[metaSumOffset:]); got != want {
		return metaInfo{why: fmt.Sprintf("checksum %016x, stored %016x", got, want)}
	}
	if le.Uint32(m[0:4]) != boltMagic {
		return metaInfo{why: "bad magic"}
	}
	return metaInfo{ok: true, pageSize: le.Uint32(m[8:12]), root: le.Uint64(m[16:24]), freelist: le.Uint64(m[32:40]),
		pgid: le.Uint64(m[40:48]), txid: le.Uint64(m[48:56])}
}

// checkFile returns the problems of the file's meta pages and length and,
// with walk, of its page tree (walkPages). A new, empty file has none.
func checkFile(path string, walk bool) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil // bbolt reports it
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return nil
	}
	m0 := readMeta(f, 0)
	var probs []string
	if !m0.ok {
		probs = append(probs, "meta page 0: "+m0.why)
	}
	ps := int64(m0.pageSize)
	if !m0.ok {
		ps = int64(os.Getpagesize())
	}
	m1 := readMeta(f, ps)
	if !m1.ok {
		probs = append(probs, "meta page 1: "+m1.why)
	}
	for _, m := range []metaInfo{m0, m1} {
		if m.ok && int64(m.pgid)*int64(m.pageSize) > fi.Size() {
			probs = append(probs, fmt.Sprintf("file is %d bytes but its meta (txid %d) uses %d pages of %d bytes: truncated",
				fi.Size(), m.txid, m.pgid, m.pageSize))
			break
		}
	}
	if len(probs) > 0 || !walk {
		return probs
	}
	m := m0
	if m1.txid > m0.txid {
		m = m1
	}
	if err := walkPages(f, m, m.root, m.freelist); err != nil {
		probs = append(probs, fmt.Sprintf("page tree (txid %d): %v", m.txid, err))
	}
	return probs
}
