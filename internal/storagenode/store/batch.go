package store

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Batch is a set of writes that Commit applies atomically and durably: the batch's slivers
// are appended to a segment file as they are put, a chunk at a time without syncing, and
// Commit syncs them and then commits the index records and sliver pointers as one synced
// pebble batch. Its reads see the database with the batch's own writes applied. A Batch is
// not safe for concurrent use; after Commit or Close it must not be used, except that
// Close may be called again.
//
// A batch holds at most one chunk being filled plus the chunks whose slots (AppendBuffer)
// are not yet stored or given back, whatever the size of the batch: a chunk is written to
// the active segment as soon as it is full and no slot of it is open, and its buffer is
// then reused. Bytes written for a batch that is closed without a commit, or whose commit fails,
// are never pointed to: they are garbage that CompactSegments reclaims with the segment.
type Batch struct {
	s    *Store
	b    *pebble.Batch
	err  error // first write error, returned by Commit
	done bool

	// chunks are the sliver chunks of the batch in stream order; the last one is being
	// filled unless it is written. size is the length of the sliver stream (the sum of the
	// chunks' lengths), in which slivers are addressed. free holds buffers of chunks that
	// were written and have no open slot, for the next chunk.
	chunks []*chunk
	size   int
	free   []*[]byte
	// last is the stream offset of the slot AppendBuffer handed out last, while it is the
	// last bytes of the chunk being filled and still open; -1 otherwise.
	last int
	// pinned lists the segment of each chunk written, pinned until the batch is done.
	pinned []uint32
	// slivers lists where each sliver put is, and index the position in slivers of each
	// sliver key still put.
	slivers []pendingSliver
	index   map[[sliverKeyLen]byte]int
	// indexBytes is the size of the pebble batch Commit committed (for tests).
	indexBytes int
}

// chunk is a run of slivers written to a segment with one write.
type chunk struct {
	buf     *[]byte // nil once the buffer is reused
	start   int     // stream offset of buf[0]
	limit   int     // the chunk is sealed before it grows past limit bytes
	sealed  bool    // full: no more slots; written as soon as no slot of it is open
	written bool
	seg     uint32 // where the chunk was written
	off     int64
	open    map[int]int // stream offset → length of the slots handed out and not yet put or given back
}

type pendingSliver struct {
	key   [sliverKeyLen]byte
	chunk int // index in Batch.chunks
	off   int // stream offset
	len   uint32
	crc   uint32
	dead  bool // overwritten or deleted later in the batch
}

// alignedSliverMin is the size from which a sliver written to a segment with direct I/O
// starts on a block boundary (directAlign), so that reads of it need no bounce buffer; the
// padding before it, at most 4 KiB, is at most 3% of it.
const alignedSliverMin = 128 << 10

// DefaultChunkBytes is the size of a batch's sliver chunk: the unit of its segment writes
// and, with the chunks still being verified, what a batch holds in memory. A sliver larger
// than a chunk gets a chunk of its own size.
const DefaultChunkBytes = 4 << 20

// dataPool holds the chunk buffers of finished batches for reuse, so that uploads do not
// allocate (and fault in) fresh memory each time. Unlike a sync.Pool it survives garbage
// collections, which large uploads trigger often; it keeps at most maxPooledData bytes.
var dataPool bufferPool

const maxPooledData = 32 << 20

type bufferPool struct {
	mu    sync.Mutex
	free  []*[]byte // guarded by mu
	bytes int       // total capacity of free, guarded by mu
}

// get returns a buffer of length 0, of capacity at least size if one is free (the
// smallest such), else the largest free one, else a new one.
func (p *bufferPool) get(size int) *[]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	best := -1
	for i, b := range p.free {
		c := cap(*b)
		switch {
		case best < 0:
			best = i
		case c >= size && (cap(*p.free[best]) < size || c < cap(*p.free[best])):
			best = i
		case cap(*p.free[best]) < size && c > cap(*p.free[best]):
			best = i
		}
	}
	if best < 0 {
		return new([]byte)
	}
	b := p.free[best]
	p.free = append(p.free[:best], p.free[best+1:]...)
	p.bytes -= cap(*b)
	*b = (*b)[:0]
	return b
}

// put keeps b for reuse if the pool has room.
func (p *bufferPool) put(b *[]byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bytes+cap(*b) > maxPooledData {
		return
	}
	p.free = append(p.free, b)
	p.bytes += cap(*b)
}

// NewBatch returns an empty batch.
func (s *Store) NewBatch() *Batch {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return &Batch{s: s, err: ErrClosed, done: true}
	}
	return &Batch{s: s, b: s.db.NewIndexedBatch(), last: -1}
}

// usable reports whether writes may be added, recording ErrClosed if the batch is done.
func (b *Batch) usable() bool {
	if b.err != nil {
		return false
	}
	if b.done {
		b.err = ErrClosed
		return false
	}
	return true
}

func (b *Batch) set(key, value []byte) {
	if !b.usable() {
		return
	}
	if err := b.b.Set(key, value, nil); err != nil {
		b.err = fmt.Errorf("store: batch: %w", err)
	}
}

func (b *Batch) del(key []byte) {
	if !b.usable() {
		return
	}
	if len(key) == sliverKeyLen && key[0] == prefixSliver {
		b.dropPending([sliverKeyLen]byte(key))
	}
	if err := b.b.Delete(key, nil); err != nil {
		b.err = fmt.Errorf("store: batch: %w", err)
	}
}

func (b *Batch) setBCS(key []byte, v interface{ MarshalBCS(*bcs.Encoder) }) {
	var e bcs.Encoder
	v.MarshalBCS(&e)
	b.set(key, e.Out())
}

// PutMetadata stores a blob's BCS metadata (BlobMetadataWithId). The caller has verified it.
func (b *Batch) PutMetadata(id redstuff.BlobID, metadata []byte) { b.set(metadataKey(id), metadata) }

// PutSliver stores a blob's BCS sliver (SliverData) of axis a in a shard. The caller has
// verified it against the blob's metadata. The sliver is copied into the batch's chunk,
// which is written to a segment file as it is.
func (b *Batch) PutSliver(shard uint16, a redstuff.Axis, id redstuff.BlobID, sliver []byte) {
	buf, off := b.AppendBuffer(len(sliver))
	if buf == nil {
		return
	}
	copy(buf, sliver)
	b.PutSliverAt(shard, a, id, off, len(sliver))
}

// AppendBuffer returns a slot of n bytes at the end of the batch's sliver stream, with its
// stream offset, for the caller to fill with a sliver's BCS form (SliverData) in place, as
// it arrives, and then store with PutSliverAt or give back with TrimBuffer: the sliver is
// then neither copied nor read into memory of its own. The caller fills the bytes before
// its next call of AppendBuffer; they stay in memory, unchanged and readable, until the
// slot is stored or given back. It returns nil if the
// batch is done or failed.
func (b *Batch) AppendBuffer(n int) (buf []byte, off int) {
	if !b.usable() || n < 0 {
		return nil, 0
	}
	if uint64(n) > math.MaxUint32 {
		b.err = fmt.Errorf("store: batch: sliver of %d bytes", n)
		return nil, 0
	}
	c := b.filling()
	pad := 0
	if c != nil && n >= alignedSliverMin && b.s.segs.direct.Load() {
		// A large sliver starts on a block boundary of the segment (chunks do), so that a
		// direct read reads it straight into the caller's buffer.
		pad = int(alignUp(int64(len(*c.buf)))) - len(*c.buf)
	}
	if c != nil && len(*c.buf) > 0 && len(*c.buf)+pad+n > c.limit {
		if err := b.seal(c); err != nil {
			b.err = err
			return nil, 0
		}
		c, pad = nil, 0
	}
	if c == nil {
		c = &chunk{buf: b.newBuffer(n), start: b.size, limit: max(n, b.s.chunkBytes), open: map[int]int{}}
		b.chunks = append(b.chunks, c)
		if b.index == nil {
			b.index = map[[sliverKeyLen]byte]int{}
		}
	}
	if len(*c.buf) == 0 && cap(*c.buf) < n {
		*c.buf = alignedBytes(n)
		c.limit = max(c.limit, n)
	}
	if pad > 0 {
		at := len(*c.buf)
		*c.buf = (*c.buf)[:at+pad]
		clear((*c.buf)[at:])
		b.size += pad
	}
	at := len(*c.buf)
	*c.buf = (*c.buf)[:at+n]
	off = c.start + at
	c.open[off] = n
	b.size += n
	b.last = off
	return (*c.buf)[at : at+n : at+n], off
}

// filling returns the chunk being filled, or nil.
func (b *Batch) filling() *chunk {
	if len(b.chunks) == 0 {
		return nil
	}
	if c := b.chunks[len(b.chunks)-1]; !c.sealed {
		return c
	}
	return nil
}

// seal closes a full chunk to new slots and writes it if none of its slots is open. A
// chunk is never written while a slot of it is open: the caller may still be reading the
// slot (to verify it), and a file's Write may scribble over the bytes it was given (pebble's
// in-memory filesystem does so in its invariant checks).
func (b *Batch) seal(c *chunk) error {
	c.sealed = true
	if b.last >= c.start {
		b.last = -1
	}
	if len(c.open) > 0 {
		return nil
	}
	return b.writeChunk(c)
}

// newBuffer returns an empty buffer for a chunk that starts with a slot of n bytes. Chunk
// buffers are aligned (alignedBytes), so that a segment opened for direct I/O is written
// straight from them.
func (b *Batch) newBuffer(n int) *[]byte {
	size := max(n, b.s.chunkBytes)
	for i, buf := range b.free {
		if cap(*buf) >= size {
			b.free = slices.Delete(b.free, i, i+1)
			*buf = (*buf)[:0]
			return buf
		}
	}
	buf := dataPool.get(size)
	if cap(*buf) < size {
		*buf = alignedBytes(size)
	}
	return buf
}

// chunkAt returns the chunk holding the n bytes at stream offset off, with their position in
// its buffer, or nil.
func (b *Batch) chunkAt(off, n int) (i int, c *chunk) {
	i, found := slices.BinarySearchFunc(b.chunks, off, func(c *chunk, off int) int { return cmp.Compare(c.start, off) })
	if !found {
		i--
	}
	if i < 0 || i >= len(b.chunks) {
		return 0, nil
	}
	return i, b.chunks[i]
}

// writeChunk writes a full chunk to the active segment, pinning the segment.
func (b *Batch) writeChunk(c *chunk) error {
	b.s.mu.RLock()
	defer b.s.mu.RUnlock()
	if b.s.closed {
		return ErrClosed
	}
	return b.writeChunkLocked(c)
}

func (b *Batch) writeChunkLocked(c *chunk) error {
	seg, off, err := b.s.segs.write(*c.buf, true)
	if err != nil {
		return err
	}
	c.written, c.seg, c.off = true, seg, off
	b.pinned = append(b.pinned, seg)
	b.recycle(c)
	return nil
}

// recycle keeps the buffer of a written chunk without open slots for the next chunk: its
// bytes are no longer needed (and may have been scribbled over by the write).
func (b *Batch) recycle(c *chunk) {
	if c.written && len(c.open) == 0 && c.buf != nil {
		b.free = append(b.free, c.buf)
		c.buf = nil
	}
}

// TrimBuffer gives back the slot at stream offset off, which must be the last one
// AppendBuffer handed out, still open: the batch reuses its bytes.
func (b *Batch) TrimBuffer(off int) {
	if b.done {
		return
	}
	c := b.filling()
	if c == nil || off != b.last {
		b.err = fmt.Errorf("store: batch: giving back bytes at %d that are not the last slot", off)
		return
	}
	delete(c.open, off)
	*c.buf = (*c.buf)[:off-c.start]
	b.size = off
	b.last = -1
}

// PutSliverAt is PutSliver for the slot of n bytes at stream offset off, which the caller
// obtained from AppendBuffer and filled.
func (b *Batch) PutSliverAt(shard uint16, a redstuff.Axis, id redstuff.BlobID, off, n int) {
	if !b.usable() {
		return
	}
	i, c := b.chunkAt(off, n)
	if c == nil {
		b.err = fmt.Errorf("store: batch: no open slot of %d bytes at %d", n, off)
		return
	}
	if m, ok := c.open[off]; !ok || m != n || c.buf == nil {
		b.err = fmt.Errorf("store: batch: no open slot of %d bytes at %d", n, off)
		return
	}
	delete(c.open, off)
	if b.last == off {
		b.last = -1
	}
	var key [sliverKeyLen]byte
	copy(key[:], sliverKey(shard, a, id))
	b.dropPending(key)
	b.index[key] = len(b.slivers)
	sliver := (*c.buf)[off-c.start : off-c.start+n]
	b.slivers = append(b.slivers, pendingSliver{key: key, chunk: i, off: off, len: uint32(n), crc: crc32.Checksum(sliver, castagnoli)})
	if c.sealed && !c.written && len(c.open) == 0 {
		if err := b.writeChunk(c); err != nil {
			b.err = err
		}
	}
}

// dropPending forgets a sliver put earlier in the batch.
func (b *Batch) dropPending(key [sliverKeyLen]byte) {
	if i, ok := b.index[key]; ok {
		b.slivers[i].dead = true
		delete(b.index, key)
	}
}

// PutBlobInfo stores a blob's aggregate information.
func (b *Batch) PutBlobInfo(id redstuff.BlobID, info BlobInfo) { b.setBCS(blobInfoKey(id), &info) }

// DeleteBlobInfo removes a blob's aggregate information.
func (b *Batch) DeleteBlobInfo(id redstuff.BlobID) { b.del(blobInfoKey(id)) }

// PutObjectInfo stores a registration's information.
func (b *Batch) PutObjectInfo(object [32]byte, info ObjectInfo) {
	b.setBCS(objectInfoKey(object), &info)
}

// DeleteObjectInfo removes a registration's information.
func (b *Batch) DeleteObjectInfo(object [32]byte) { b.del(objectInfoKey(object)) }

// DeleteBlobData removes a blob's metadata and both of its slivers in each of shards (the
// shards the node holds). Its aggregate and per-object information are kept.
func (b *Batch) DeleteBlobData(id redstuff.BlobID, shards []uint16) {
	b.del(metadataKey(id))
	for _, sh := range shards {
		b.del(sliverKey(sh, redstuff.Primary, id))
		b.del(sliverKey(sh, redstuff.Secondary, id))
	}
}

// DeleteSliver removes one sliver, keeping everything else of its blob (the lazy-node
// test fault of storage challenges uses it).
func (b *Batch) DeleteSliver(shard uint16, a redstuff.Axis, id redstuff.BlobID) {
	b.del(sliverKey(shard, a, id))
}

// SetShardStatus records a shard's status; ShardNone removes the record (but not the
// shard's slivers: see DropShard).
func (b *Batch) SetShardStatus(shard uint16, st ShardStatus) {
	if st == ShardNone {
		b.del(shardKey(shard))
		return
	}
	b.set(shardKey(shard), []byte{byte(st)})
}

// DropShard removes every sliver of a shard, both axes, with one range deletion, and its
// status record.
func (b *Batch) DropShard(shard uint16) {
	if b.err != nil {
		return
	}
	if b.done {
		b.err = ErrClosed
		return
	}
	lo, hi := shardRange(shard)
	for key := range b.index {
		if string(key[:3]) == string(lo) {
			b.dropPending(key)
		}
	}
	if err := b.b.DeleteRange(lo, hi, nil); err != nil {
		b.err = fmt.Errorf("store: batch: %w", err)
		return
	}
	b.del(shardKey(shard))
}

// SetCursor records the sequence number of the next chain event to apply. Writing the
// effects of events and the cursor past them in one batch makes event application
// exactly-once across crashes.
func (b *Batch) SetCursor(next uint64) {
	var v [8]byte
	binary.LittleEndian.PutUint64(v[:], next)
	b.set(keyCursor, v[:])
}

// SetNodeState records the node state.
func (b *Batch) SetNodeState(st NodeState) { b.setBCS(keyNodeState, &st) }

// get reads through the batch.
func (b *Batch) get(key []byte, fn func(v []byte) error) error {
	if b.done {
		return ErrClosed
	}
	b.s.mu.RLock()
	defer b.s.mu.RUnlock()
	if b.s.closed {
		return ErrClosed
	}
	return getFrom(b.b, key, fn)
}

// BlobInfo returns a blob's aggregate information as of this batch, or ErrNotFound.
func (b *Batch) BlobInfo(id redstuff.BlobID) (BlobInfo, error) {
	var info BlobInfo
	err := b.get(blobInfoKey(id), func(v []byte) (err error) {
		info, err = decodeBlobInfo(v)
		return err
	})
	return info, err
}

// ObjectInfo returns a registration's information as of this batch, or ErrNotFound.
func (b *Batch) ObjectInfo(object [32]byte) (ObjectInfo, error) {
	var info ObjectInfo
	err := b.get(objectInfoKey(object), func(v []byte) (err error) {
		info, err = decodeObjectInfo(v)
		return err
	})
	return info, err
}

// HasMetadata reports whether a blob's metadata is stored as of this batch.
func (b *Batch) HasMetadata(id redstuff.BlobID) (bool, error) {
	return exists(b.get(metadataKey(id), nothing))
}

// HasSliver reports whether a sliver is stored as of this batch.
func (b *Batch) HasSliver(shard uint16, a redstuff.Axis, id redstuff.BlobID) (bool, error) {
	key := sliverKey(shard, a, id)
	if _, ok := b.index[[sliverKeyLen]byte(key)]; ok && !b.done {
		return true, nil
	}
	return exists(b.get(key, nothing))
}

// Len returns the size of the batch's encoded writes in bytes, slivers included.
func (b *Batch) Len() int {
	if b.b == nil {
		return 0
	}
	return b.b.Len() + b.size
}

// Commit applies the batch atomically and syncs it to stable storage. The batch is closed
// afterwards, whether or not Commit succeeds.
func (b *Batch) Commit() error { return b.commit(true) }

// commit is Commit; with sync false the index commit is not synced (for crash tests: the
// batch may then survive a crash whole or not at all). Slivers are always synced first.
func (b *Batch) commit(sync bool) error {
	if b.err != nil {
		b.Close()
		return b.err
	}
	if b.done {
		return ErrClosed
	}
	b.s.mu.RLock()
	defer b.s.mu.RUnlock()
	if b.s.closed {
		b.done = true
		return ErrClosed
	}
	err := b.commitLocked(sync)
	b.closeLocked()
	return err
}

// commitLocked writes the last chunk, syncs the segments the batch wrote to, adds the
// sliver pointers to the pebble batch and commits it. The segments are synced before the
// index commit, so no committed pointer ever points to data that may be lost in a crash;
// data written by a batch that fails or crashes before its index commit is garbage that
// compaction reclaims.
func (b *Batch) commitLocked(sync bool) error {
	wo := pebble.NoSync
	if sync {
		wo = pebble.Sync
	}
	// Every commit, not only those adding slivers, excludes compaction's pointer swap, so
	// that a sliver deleted meanwhile is never given a new pointer.
	b.s.index.RLock()
	defer b.s.index.RUnlock()
	if len(b.index) > 0 {
		// The chunks not written yet: the last one, and any with a slot that was neither
		// put nor given back (its bytes are garbage).
		for _, c := range b.chunks {
			if !c.written && len(*c.buf) > 0 {
				c.sealed = true
				if err := b.writeChunkLocked(c); err != nil {
					return err
				}
			}
		}
		synced := map[uint32]bool{}
		for _, seg := range b.pinned {
			if !synced[seg] {
				if err := b.s.segs.sync(seg); err != nil {
					return err
				}
				synced[seg] = true
			}
		}
		var v [pointerLen]byte
		for i := range b.slivers {
			p := &b.slivers[i]
			if p.dead {
				continue
			}
			c := b.chunks[p.chunk]
			ptr := pointer{seg: c.seg, off: c.off + int64(p.off-c.start), len: p.len, crc: p.crc}
			if err := b.b.Set(p.key[:], ptr.encode(v[:0]), nil); err != nil {
				return fmt.Errorf("store: commit: %w", err)
			}
		}
	}
	b.indexBytes = b.b.Len()
	if err := b.b.Commit(wo); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Close discards the batch if it was not committed. It is idempotent.
func (b *Batch) Close() {
	if b.done {
		return
	}
	b.s.mu.RLock()
	defer b.s.mu.RUnlock()
	b.closeLocked()
}

// closeLocked ends the batch: its segments are unpinned (whatever it wrote is now either
// in the index or garbage) and its buffers go back to the pool. The caller must not use
// the slots any more.
func (b *Batch) closeLocked() {
	if b.done {
		return
	}
	b.done = true
	if !b.s.closed {
		b.b.Close()
		for _, seg := range b.pinned {
			b.s.segs.unpin(seg)
		}
	}
	for _, c := range b.chunks {
		if c.buf != nil {
			b.free = append(b.free, c.buf)
		}
	}
	for _, buf := range b.free {
		dataPool.put(buf)
	}
	b.chunks, b.free, b.pinned, b.slivers, b.index = nil, nil, nil, nil, nil
}
