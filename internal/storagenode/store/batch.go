package store

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Batch is a set of writes that Commit applies atomically and durably (one synced pebble
// batch). Its reads see the database with the batch's own writes applied. A Batch is not
// safe for concurrent use; after Commit or Close it must not be used, except that Close may
// be called again.
type Batch struct {
	s    *Store
	b    *pebble.Batch
	err  error // first write error, returned by Commit
	done bool
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

func (b *Batch) set(key, value []byte) {
	if b.err != nil {
		return
	}
	if b.done {
		b.err = ErrClosed
		return
	}
	if err := b.b.Set(key, value, nil); err != nil {
		b.err = fmt.Errorf("store: batch: %w", err)
	}
}

func (b *Batch) del(key []byte) {
	if b.err != nil {
		return
	}
	if b.done {
		b.err = ErrClosed
		return
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
// verified it against the blob's metadata.
func (b *Batch) PutSliver(shard uint16, a redstuff.Axis, id redstuff.BlobID, sliver []byte) {
	b.set(sliverKey(shard, a, id), sliver)
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
	return exists(b.get(sliverKey(shard, a, id), nothing))
}

// Len returns the size of the batch's encoded writes in bytes.
func (b *Batch) Len() int {
	if b.b == nil {
		return 0
	}
	return b.b.Len()
}

// Commit applies the batch atomically and syncs it to stable storage. The batch is closed
// afterwards, whether or not Commit succeeds.
func (b *Batch) Commit() error {
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
	err := b.b.Commit(pebble.Sync)
	b.closeLocked()
	if err != nil {
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
}
