// pagewalk.go: a bounds-checked walk of the bbolt file's page tree, read
// with pread before bbolt maps the file. bbolt trusts its pages: a flipped
// byte in a page id or a key length makes it read outside the mapping,
// which faults — in tx.Check's own goroutine a fatal, unrecoverable fault.
// This walk finds such damage first and turns it into ErrCorrupt.

package journal

import (
	"encoding/binary"
	"fmt"
	"os"
)

const (
	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	freelistPageFlag = 0x10
	bucketLeafFlag   = 0x01
	elemSize         = 16
	pgidNoFreelist   = ^uint64(0)
	maxDepth         = 64
)

type pageWalker struct {
	f       *os.File
	ps      int64
	maxPgid uint64 // pages in use (meta's high-water mark)
	seen    map[uint64]bool
}

// walkPages checks every page reachable from the meta with the highest
// txid: page ids in range, element arrays, keys and values inside their
// page, inline buckets, the freelist.
func walkPages(f *os.File, m metaInfo, root, freelist uint64) error {
	w := &pageWalker{f: f, ps: int64(m.pageSize), maxPgid: m.pgid, seen: map[uint64]bool{}}
	if m.pageSize < 512 || m.pageSize > 1<<20 {
		return fmt.Errorf("page size %d", m.pageSize)
	}
	if freelist != pgidNoFreelist {
		p, err := w.page(freelist)
		if err != nil {
			return fmt.Errorf("freelist: %w", err)
		}
		if p[8]&freelistPageFlag == 0 && binary.LittleEndian.Uint16(p[8:10])&freelistPageFlag == 0 {
			return fmt.Errorf("freelist page %d has flags %#x", freelist, binary.LittleEndian.Uint16(p[8:10]))
		}
		n := uint64(binary.LittleEndian.Uint16(p[10:12]))
		start := uint64(16)
		if n == 0xFFFF {
			if len(p) < 24 {
				return fmt.Errorf("freelist page %d too short", freelist)
			}
			n, start = binary.LittleEndian.Uint64(p[16:24]), 24
		}
		if n > uint64(len(p)) || start+n*8 > uint64(len(p)) {
			return fmt.Errorf("freelist page %d: %d ids do not fit", freelist, n)
		}
	}
	return w.tree(root, 0)
}

// page reads page id with its overflow pages.
func (w *pageWalker) page(id uint64) ([]byte, error) {
	if id < 2 || id >= w.maxPgid {
		return nil, fmt.Errorf("page id %d outside 2..%d", id, w.maxPgid-1)
	}
	hdr := make([]byte, 16)
	if _, err := w.f.ReadAt(hdr, int64(id)*w.ps); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	if got := binary.LittleEndian.Uint64(hdr[0:8]); got != id {
		return nil, fmt.Errorf("page %d says it is page %d", id, got)
	}
	over := uint64(binary.LittleEndian.Uint32(hdr[12:16]))
	if id+over >= w.maxPgid {
		return nil, fmt.Errorf("page %d: %d overflow pages run past the end", id, over)
	}
	p := make([]byte, int64(over+1)*w.ps)
	if _, err := w.f.ReadAt(p, int64(id)*w.ps); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	return p, nil
}

func (w *pageWalker) tree(id uint64, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("page %d: tree deeper than %d", id, maxDepth)
	}
	if w.seen[id] {
		return fmt.Errorf("page %d reached twice", id)
	}
	w.seen[id] = true
	p, err := w.page(id)
	if err != nil {
		return err
	}
	return w.elements(p, id, depth)
}

// elements checks the elements of page p (a whole page or an inline
// bucket's page inside a value).
func (w *pageWalker) elements(p []byte, id uint64, depth int) error {
	if len(p) < 16 {
		return fmt.Errorf("page %d: shorter than its header", id)
	}
	flags := binary.LittleEndian.Uint16(p[8:10])
	n := int(binary.LittleEndian.Uint16(p[10:12]))
	if 16+n*elemSize > len(p) {
		return fmt.Errorf("page %d: %d elements do not fit", id, n)
	}
	for i := 0; i < n; i++ {
		e := 16 + i*elemSize
		switch {
		case flags&branchPageFlag != 0:
			pos, ksz := int(binary.LittleEndian.Uint32(p[e:])), int(binary.LittleEndian.Uint32(p[e+4:]))
			if pos < 0 || ksz < 0 || e+pos+ksz > len(p) || e+pos+ksz < e {
				return fmt.Errorf("page %d element %d: key outside the page", id, i)
			}
			if err := w.tree(binary.LittleEndian.Uint64(p[e+8:]), depth+1); err != nil {
				return err
			}
		case flags&leafPageFlag != 0:
			lf := binary.LittleEndian.Uint32(p[e:])
			pos, ksz, vsz := int(binary.LittleEndian.Uint32(p[e+4:])), int(binary.LittleEndian.Uint32(p[e+8:])), int(binary.LittleEndian.Uint32(p[e+12:]))
			end := e + pos + ksz + vsz
			if pos < 0 || ksz < 0 || vsz < 0 || end > len(p) || end < e {
				return fmt.Errorf("page %d element %d: key or value outside the page", id, i)
			}
			if lf&bucketLeafFlag != 0 {
				v := p[e+pos+ksz : end]
				if len(v) < 16 {
					return fmt.Errorf("page %d element %d: bucket header too short", id, i)
				}
				if r := binary.LittleEndian.Uint64(v[0:8]); r != 0 {
					if err := w.tree(r, depth+1); err != nil {
						return err
					}
				} else if err := w.elements(v[16:], id, depth+1); err != nil {
					return fmt.Errorf("inline bucket: %w", err)
				}
			}
		default:
			return fmt.Errorf("page %d: flags %#x, want branch or leaf", id, flags)
		}
	}
	return nil
}
