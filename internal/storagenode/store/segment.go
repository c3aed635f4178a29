package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// segmentDir is the directory, inside the database directory, that holds the segment files.
const segmentDir = "slivers"

const segmentSuffix = ".seg"

func segmentName(n uint32) string { return fmt.Sprintf("%08d%s", n, segmentSuffix) }

func parseSegmentName(name string) (uint32, bool) {
	num, ok := strings.CutSuffix(name, segmentSuffix)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(num, 10, 32)
	return uint32(v), err == nil && segmentName(uint32(v)) == name
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// pointer locates a sliver in a segment file: the value of a sliver key in the index.
type pointer struct {
	seg uint32
	off int64
	len uint32
	crc uint32 // CRC-32C of the sliver
}

const pointerLen = 4 + 8 + 4 + 4

func (p pointer) encode(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, p.seg)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(p.off))
	dst = binary.LittleEndian.AppendUint32(dst, p.len)
	return binary.LittleEndian.AppendUint32(dst, p.crc)
}

func decodePointer(v []byte) (pointer, error) {
	if len(v) != pointerLen {
		return pointer{}, fmt.Errorf("%w: sliver pointer of %d bytes", ErrCorrupt, len(v))
	}
	p := pointer{
		seg: binary.LittleEndian.Uint32(v),
		off: int64(binary.LittleEndian.Uint64(v[4:])),
		len: binary.LittleEndian.Uint32(v[12:]),
		crc: binary.LittleEndian.Uint32(v[16:]),
	}
	if p.off < 0 {
		return pointer{}, fmt.Errorf("%w: sliver pointer offset %d", ErrCorrupt, p.off)
	}
	return p, nil
}

// errSegmentGone reports a read through a pointer to a segment that compaction removed
// after the pointer was read; the caller reads the pointer again.
var errSegmentGone = errors.New("store: segment removed")

// segments is the set of segment files. Slivers are appended to the active segment; the
// others are only read, until compaction removes them.
//
// Where the file system allows it (Linux, a file system with O_DIRECT), segment files are
// read and written with direct I/O, bypassing the page cache: a node writes each sliver
// once and reads it rarely, so caching its pages costs the fault-in of fresh page-cache
// memory on every write (most of a node's CPU time in a store) and buys little. Direct
// I/O needs aligned memory, offsets and lengths (directAlign): every write to a direct
// segment starts at an aligned offset and is padded to an aligned length (the padding is
// garbage, never pointed to, reclaimed by compaction like other garbage), and a read
// reads the aligned blocks enclosing the sliver (see readAt). Files on other file systems
// are written and read through the page cache, unpadded.
type segments struct {
	fs       vfs.FS
	dir      string
	maxBytes int64
	readOnly bool
	// direct is whether new segment files get direct I/O: false when disabled, where the
	// file system does not support it (found with a probe file at open) and after it
	// refused a direct write. Batches read it to lay out their chunks (Batch.AppendBuffer).
	direct atomic.Bool

	// appendMu serializes appends (and rotation) to the active segment.
	appendMu sync.Mutex
	// rotate makes the next append start a new segment: set at open (the newest segment
	// may end in a torn write) and when a write failed part-way (the size is unknown).
	rotate bool

	// mu guards the fields below. Reads hold it shared while they read a file, so that
	// compaction cannot close a file under them.
	mu    sync.RWMutex
	files map[uint32]segFile
	sizes map[uint32]int64 // bytes written to each segment (as far as this process knows)
	// pins counts, for each segment, the writes of batches not yet committed or closed:
	// compaction does not look at a pinned segment, whose data the index does not show yet.
	pins   map[uint32]int
	active uint32 // the segment appends go to; 0 before the first append
	closed bool
}

// segFile is an open segment file.
type segFile struct {
	f      vfs.File
	direct bool // opened for direct I/O
}

// openSegments opens the segment files under dir, creating the directory if needed, with
// direct I/O where the file system supports it unless buffered is set. Appends go to a
// new segment numbered after every existing one, so that a torn tail left by a crash is
// never appended to: it is garbage that compaction reclaims.
func openSegments(fs vfs.FS, dir string, maxBytes int64, readOnly, buffered bool) (*segments, error) {
	s := &segments{fs: fs, dir: dir, maxBytes: maxBytes, readOnly: readOnly, files: map[uint32]segFile{}, sizes: map[uint32]int64{}, pins: map[uint32]int{}, rotate: true}
	s.direct.Store(!buffered)
	if !readOnly {
		if err := fs.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("store: create %s: %w", dir, err)
		}
		if err := syncDir(fs, fs.PathDir(dir)); err != nil {
			return nil, err
		}
		if !buffered {
			direct, err := probeDirect(fs, dir)
			if err != nil {
				return nil, err
			}
			s.direct.Store(direct)
		}
	}
	if _, err := fs.Stat(dir); err != nil && readOnly {
		return s, nil // a read-only store without segments
	}
	names, err := fs.List(dir)
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %w", dir, err)
	}
	slices.Sort(names)
	for _, name := range names {
		n, ok := parseSegmentName(name)
		if !ok {
			continue
		}
		f, err := fs.Open(fs.PathJoin(dir, name))
		if err != nil {
			s.close()
			return nil, fmt.Errorf("store: open segment: %w", err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			s.close()
			return nil, fmt.Errorf("store: stat segment: %w", err)
		}
		s.files[n], s.sizes[n] = segFile{f: f, direct: !buffered && setDirect(f)}, st.Size()
		s.active = max(s.active, n)
	}
	return s, nil
}

// probeName is the file probeDirect creates, in the segment directory.
const probeName = "direct.probe"

// probeDirect reports whether files in dir take direct I/O, with a probe file.
func probeDirect(fs vfs.FS, dir string) (bool, error) {
	name := fs.PathJoin(dir, probeName)
	f, err := fs.Create(name, vfs.WriteCategoryUnspecified)
	if err != nil {
		return false, fmt.Errorf("store: create %s: %w", name, err)
	}
	direct := setDirect(f)
	f.Close()
	if err := fs.Remove(name); err != nil {
		return false, fmt.Errorf("store: remove %s: %w", name, err)
	}
	return direct, nil
}

func syncDir(fs vfs.FS, dir string) error {
	d, err := fs.OpenDir(dir)
	if err != nil {
		return fmt.Errorf("store: open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store: sync directory %s: %w", dir, err)
	}
	return nil
}

// rotateLocked starts a new active segment. appendMu is held.
func (s *segments) rotateLocked() error {
	s.mu.RLock()
	next := s.active + 1
	s.mu.RUnlock()
	f, err := s.fs.Create(s.fs.PathJoin(s.dir, segmentName(next)), vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("store: create segment: %w", err)
	}
	if err := syncDir(s.fs, s.dir); err != nil {
		f.Close()
		return err
	}
	direct := s.direct.Load() && setDirect(f)
	if !direct {
		s.direct.Store(false) // the file system does not support it: do not try again
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		f.Close()
		return ErrClosed
	}
	s.files[next], s.sizes[next] = segFile{f: f, direct: direct}, 0
	s.active = next
	s.rotate = false
	return nil
}

// append writes data at the end of the active segment (starting a new segment first if
// this one is full, broken or was written by an earlier process) and syncs it. It returns
// where data starts. Appends are serialized; syncs of concurrent appends overlap. data is
// best aligned (alignedBytes, with room for the padding) so that a direct write needs no
// copy.
func (s *segments) append(data []byte) (seg uint32, off int64, err error) {
	seg, off, err = s.write(data, false)
	if err != nil {
		return 0, 0, err
	}
	if err := s.sync(seg); err != nil {
		return 0, 0, err
	}
	return seg, off, nil
}

// write is append without the sync. With pin set the segment written to is pinned
// (compaction leaves it alone) in the same step as the write, so that no compaction can
// look at it between the write and the pin; the caller unpins it once the data written is
// either committed to the index or abandoned. A direct write is padded to directAlign
// with zeros (within data's capacity, which it may overwrite, if data is aligned).
func (s *segments) write(data []byte, pin bool) (seg uint32, off int64, err error) {
	if s.readOnly {
		return 0, 0, fmt.Errorf("store: append: read-only store")
	}
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	s.mu.RLock()
	size, closed, direct := s.sizes[s.active], s.closed, s.files[s.active].direct
	s.mu.RUnlock()
	if closed {
		return 0, 0, ErrClosed
	}
	n := int64(len(data))
	if direct {
		n = alignUp(n)
	}
	if s.rotate || (size > 0 && size+n > s.maxBytes) {
		if err := s.rotateLocked(); err != nil {
			return 0, 0, err
		}
		size = 0
	}
	s.mu.RLock()
	seg, sf := s.active, s.files[s.active]
	s.mu.RUnlock()
	out := data
	if sf.direct {
		if !isAligned(data) {
			out = append(alignedBytes(len(data)), data...)
		}
		out = out[:alignUp(int64(len(data)))]
		clear(out[len(data):])
	}
	w, err := sf.f.Write(out)
	if err != nil && w == 0 && sf.direct && refusedDirect(err) {
		// The file system took the flag but refuses direct writes: write this segment
		// through the page cache from now on, and open no new one for direct I/O.
		if err = clearDirect(sf.f); err == nil {
			s.mu.Lock()
			s.files[seg] = segFile{f: sf.f}
			s.direct.Store(false)
			s.mu.Unlock()
			w, err = sf.f.Write(out)
		}
	}
	if err != nil || w != len(out) {
		s.rotate = true
		if err == nil {
			err = io.ErrShortWrite
		}
		return 0, 0, fmt.Errorf("store: write segment: %w", err)
	}
	s.mu.Lock()
	s.sizes[seg] = size + int64(len(out))
	if pin {
		s.pins[seg]++
	}
	s.mu.Unlock()
	return seg, size, nil
}

// sync syncs the data written to a segment. A sync covers every write before it, so
// concurrent appends share the device flush.
func (s *segments) sync(seg uint32) error {
	s.mu.RLock()
	sf, ok := s.files[seg]
	s.mu.RUnlock()
	if !ok {
		return fmt.Errorf("store: sync segment %d: not open", seg)
	}
	// Direct writes bypass the page cache but not the device's cache, and a file's
	// growth is metadata: the data sync is needed either way.
	if err := sf.f.SyncData(); err != nil {
		return fmt.Errorf("store: sync segment: %w", err)
	}
	return nil
}

// unpin releases a pin that write took.
func (s *segments) unpin(seg uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pins[seg]--; s.pins[seg] <= 0 {
		delete(s.pins, seg)
	}
}

// readAt reads a sliver at p into dst (grown as needed) and checks its CRC. From a
// direct segment it reads the aligned blocks enclosing the sliver, so that no page-cache
// page is filled: a sliver that starts on a block boundary (large ones do, see
// Batch.AppendBuffer) straight into dst if dst is aligned (a fresh dst is), others into a
// pooled aligned buffer from which the sliver is copied to dst. dst's spare capacity may
// be overwritten.
func (s *segments) readAt(p pointer, dst []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	sf, ok := s.files[p.seg]
	if !ok {
		return nil, errSegmentGone
	}
	end := p.off + int64(p.len)
	switch {
	case !sf.direct:
		dst = slices.Grow(dst[:0], int(p.len))[:p.len]
		if n, err := sf.f.ReadAt(dst, p.off); n != len(dst) {
			return nil, fmt.Errorf("%w: segment %d: sliver at %d of %d bytes: %v", ErrCorrupt, p.seg, p.off, p.len, err)
		}
	case p.off%directAlign == 0 && p.len > 0:
		blocks := int(alignUp(int64(p.len)))
		if cap(dst) < blocks {
			dst = alignedBytes(blocks)
		}
		if isAligned(dst[:blocks]) {
			// A short read is fine past the sliver's end: a segment written through the
			// page cache ends where its last sliver does.
			if n, err := sf.f.ReadAt(dst[:blocks], p.off); n < int(p.len) {
				return nil, fmt.Errorf("%w: segment %d: sliver at %d of %d bytes: %v", ErrCorrupt, p.seg, p.off, p.len, err)
			}
			dst = dst[:p.len]
			break
		}
		fallthrough
	default:
		dst = slices.Grow(dst[:0], int(p.len))[:p.len]
		start := alignDown(p.off)
		buf := getReadBuffer(int(alignUp(end) - start))
		n, err := sf.f.ReadAt(*buf, start)
		if int64(n) < end-start {
			putReadBuffer(buf)
			return nil, fmt.Errorf("%w: segment %d: sliver at %d of %d bytes: %v", ErrCorrupt, p.seg, p.off, p.len, err)
		}
		copy(dst, (*buf)[p.off-start:])
		putReadBuffer(buf)
	}
	if crc32.Checksum(dst, castagnoli) != p.crc {
		return nil, fmt.Errorf("%w: segment %d: sliver at %d of %d bytes fails its checksum", ErrCorrupt, p.seg, p.off, p.len)
	}
	return dst, nil
}

// remove closes and deletes a segment that holds no live sliver. The active segment is
// never removed.
func (s *segments) remove(seg uint32) error {
	s.mu.Lock()
	f, ok := s.files[seg]
	if !ok || seg == s.active || s.closed {
		s.mu.Unlock()
		return nil
	}
	delete(s.files, seg)
	delete(s.sizes, seg)
	s.mu.Unlock()
	f.f.Close()
	if err := s.fs.Remove(s.fs.PathJoin(s.dir, segmentName(seg))); err != nil {
		return fmt.Errorf("store: remove segment: %w", err)
	}
	return nil
}

// snapshot returns the sizes of every segment, the active segment's number and the
// pinned segments.
func (s *segments) snapshot() (sizes map[uint32]int64, active uint32, pinned map[uint32]bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sizes = make(map[uint32]int64, len(s.sizes))
	for k, v := range s.sizes {
		sizes[k] = v
	}
	pinned = make(map[uint32]bool, len(s.pins))
	for k := range s.pins {
		pinned[k] = true
	}
	return sizes, s.active, pinned
}

func (s *segments) close() {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	for _, sf := range s.files {
		sf.f.Close()
	}
	s.files = nil
}
