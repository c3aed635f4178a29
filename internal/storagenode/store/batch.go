package store

import (
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
// are appended to a segment file with one write and synced, then the index records and
// sliver pointers are committed as one synced pebble batch. Its reads see the database with
// the batch's own writes applied. A Batch is not safe for concurrent use; after Commit or
// Close it must not be used, except that Close may be called again.
type Batch struct {
	s    *Store
	b    *pebble.Batch
	err  error // first write error, returned by Commit
	done bool

	// data holds the slivers put in this batch back to back (a pooled buffer), slivers
	// where each one is, and index the position in slivers of each sliver key still put.
	data    *[]byte
	slivers []pendingSliver
	index   map[[sliverKeyLen]byte]int
	// indexBytes is the size of the pebble batch Commit committed (for tests).
	indexBytes int
}

type pendingSliver struct {
	key  [sliverKeyLen]byte
	off  int
	len  uint32
	crc  uint32
	dead bool // overwritten or deleted later in the batch
}

// dataPool holds the sliver buffers of finished batches for reuse, so that uploads do not
// allocate (and fault in) fresh memory each time. Unlike a sync.Pool it survives garbage
// collections, which large uploads trigger often; it keeps at most maxPooledData bytes.
var dataPool bufferPool

const maxPooledData = 256 << 20

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
	return &Batch{s: s, b: s.db.NewIndexedBatch()}
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
// verified it against the blob's metadata. The sliver is copied into the batch's buffer,
// which Commit writes to a segment file as it is.
func (b *Batch) PutSliver(shard uint16, a redstuff.Axis, id redstuff.BlobID, sliver []byte) {
	if !b.usable() {
		return
	}
	if uint64(len(sliver)) > math.MaxUint32 {
		b.err = fmt.Errorf("store: batch: sliver of %d bytes", len(sliver))
		return
	}
	if b.data == nil {
		b.Reserve(len(sliver))
	}
	off := len(*b.data)
	*b.data = append(*b.data, sliver...)
	b.putAt(shard, a, id, off, len(sliver))
}

// AppendBuffer extends the batch's sliver buffer by n bytes and returns them with their
// offset in the buffer, for the caller to fill with a sliver's BCS form (SliverData) in
// place, as it arrives, and then store with PutSliverAt or give back with TrimBuffer: the
// sliver is then neither copied nor read into memory of its own. The caller fills the
// bytes before its next call of AppendBuffer (which may move the buffer; bytes returned
// earlier stay readable). It returns nil if the batch is done or failed.
func (b *Batch) AppendBuffer(n int) (buf []byte, off int) {
	if !b.usable() || n < 0 {
		return nil, 0
	}
	if uint64(n) > math.MaxUint32 {
		b.err = fmt.Errorf("store: batch: sliver of %d bytes", n)
		return nil, 0
	}
	if b.data == nil {
		b.Reserve(n)
	}
	off = len(*b.data)
	*b.data = slices.Grow(*b.data, n)[:off+n]
	return (*b.data)[off : off+n : off+n], off
}

// TrimBuffer gives back the end of the sliver buffer from off on: the last bytes returned
// by AppendBuffer, which no PutSliverAt stored.
func (b *Batch) TrimBuffer(off int) {
	if b.data == nil || off < 0 || off > len(*b.data) {
		return
	}
	for _, p := range b.slivers {
		if !p.dead && p.off+int(p.len) > off {
			b.err = fmt.Errorf("store: batch: trimming a stored sliver")
			return
		}
	}
	*b.data = (*b.data)[:off]
}

// PutSliverAt is PutSliver for the n bytes at offset off of the batch's sliver buffer,
// which the caller obtained from AppendBuffer and filled.
func (b *Batch) PutSliverAt(shard uint16, a redstuff.Axis, id redstuff.BlobID, off, n int) {
	if !b.usable() {
		return
	}
	if b.data == nil || off < 0 || n < 0 || off+n > len(*b.data) {
		b.err = fmt.Errorf("store: batch: sliver at %d of %d bytes outside the buffer", off, n)
		return
	}
	b.putAt(shard, a, id, off, n)
}

func (b *Batch) putAt(shard uint16, a redstuff.Axis, id redstuff.BlobID, off, n int) {
	var key [sliverKeyLen]byte
	copy(key[:], sliverKey(shard, a, id))
	b.dropPending(key)
	b.index[key] = len(b.slivers)
	sliver := (*b.data)[off : off+n]
	b.slivers = append(b.slivers, pendingSliver{key: key, off: off, len: uint32(n), crc: crc32.Checksum(sliver, castagnoli)})
}

// Reserve makes room in the batch for n more bytes of slivers, so that a caller that knows
// the size of an upload grows the buffer once (from a pool of buffers of earlier batches).
func (b *Batch) Reserve(n int) {
	if b.done || n <= 0 {
		return
	}
	if b.data == nil {
		b.data = dataPool.get(n)
		b.index = map[[sliverKeyLen]byte]int{}
	}
	*b.data = slices.Grow(*b.data, n)
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
	n := b.b.Len()
	if b.data != nil {
		n += len(*b.data)
	}
	return n
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

// commitLocked writes the slivers to a segment, adds their pointers to the pebble batch
// and commits it. The segment write is synced before the index commit, so no committed
// pointer ever points to data that may be lost in a crash; data written by a commit that
// fails or crashes before its index commit is garbage that compaction reclaims.
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
		seg, off, err := b.s.segs.append(*b.data)
		if err != nil {
			return err
		}
		var v [pointerLen]byte
		for i := range b.slivers {
			p := &b.slivers[i]
			if p.dead {
				continue
			}
			ptr := pointer{seg: seg, off: off + int64(p.off), len: p.len, crc: p.crc}
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

func (b *Batch) closeLocked() {
	if b.done {
		return
	}
	b.done = true
	if !b.s.closed {
		b.b.Close()
	}
	if b.data != nil {
		dataPool.put(b.data)
		b.data, b.slivers, b.index = nil, nil, nil
	}
}
