package storagenode

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// gcChunk is how many registrations or blobs one garbage collection batch handles.
const gcChunk = 1000

// GCStats counts what a garbage collection removed.
type GCStats struct {
	Registrations int // registrations ended by expiry
	Blobs         int // blobs whose data was deleted
	// Segments is what the compaction of the sliver segment files (phase 3) did.
	Segments store.CompactStats
}

// CollectGarbage is the two phases of Walrus's garbage collection, run by the node's
// garbage collection driver at the start of each epoch, and a third that frees the disk
// space:
//
//  1. registrations (Blob objects) whose end epoch is at or before epoch stop counting;
//  2. the data (metadata and the slivers in every shard the node holds) of blobs with no
//     registration left, or declared invalid, is deleted; so is the aggregate information
//     of blobs with no registration left, unless they are invalid;
//  3. the sliver segment files are compacted (store.Store.CompactSegments), which also
//     reclaims slivers deleted since the last run by shard hand-overs (DropShard).
//
// It works in batches of at most gcChunk records, each committed on its own (no event
// cursor is involved), checks ctx between batches and may be run again after a failure or
// cancellation. It is safe to run alongside uploads and event application.
func (n *Node) CollectGarbage(ctx context.Context, epoch uint32) (GCStats, error) {
	var stats GCStats
	// Phase 1: expire registrations.
	var from [32]byte
	for {
		var expired []ObjectID
		err := n.store.ObjectInfos(from, func(obj [32]byte, info store.ObjectInfo) (bool, error) {
			if info.EndEpoch <= epoch {
				expired = append(expired, obj)
			}
			from = obj
			return len(expired) < gcChunk, nil
		})
		if err != nil {
			return stats, n.internal("scan registrations", err)
		}
		if len(expired) == 0 {
			break
		}
		k, dropped, err := n.expire(expired, epoch)
		stats.Registrations += k
		stats.Blobs += dropped
		if err != nil {
			return stats, err
		}
		if err := ctx.Err(); err != nil {
			return stats, err
		}
		if !increment(from[:]) {
			break
		}
	}
	// Phase 2: delete data without a live registration.
	var blob redstuff.BlobID
	for {
		var ids, garbage []redstuff.BlobID
		err := n.store.Blobs(blob, func(id redstuff.BlobID) (bool, error) {
			ids = append(ids, id)
			return len(ids) < gcChunk, nil
		})
		if err != nil {
			return stats, n.internal("scan blobs", err)
		}
		if len(ids) == 0 {
			break
		}
		blob = ids[len(ids)-1]
		for _, id := range ids {
			info, found, err := n.blobInfo(id)
			if err != nil {
				return stats, err
			}
			if !found || info.Invalid || !info.Live() {
				garbage = append(garbage, id)
			}
		}
		k, err := n.deleteGarbage(garbage)
		stats.Blobs += k
		if err != nil {
			return stats, err
		}
		if err := ctx.Err(); err != nil {
			return stats, err
		}
		if !increment(blob[:]) {
			break
		}
	}
	// Phase 3: reclaim the space of deleted slivers.
	seg, err := n.store.CompactSegments(ctx)
	stats.Segments = seg
	if err != nil && ctx.Err() == nil {
		return stats, n.internal("compact sliver segments", err)
	}
	return stats, ctx.Err()
}

// increment sets b to the next larger value of its length; it reports false on overflow.
func increment(b []byte) bool {
	for i := len(b) - 1; i >= 0; i-- {
		b[i]++
		if b[i] != 0 {
			return true
		}
	}
	return false
}

// expire ends the given registrations if they are still expired at epoch. It returns how
// many it ended and how many blobs lost their data.
func (n *Node) expire(objects []ObjectID, epoch uint32) (int, int, error) {
	n.commit.Lock()
	defer n.commit.Unlock()
	a := applier{n: n, b: n.store.NewBatch(), st: n.st.Load()}
	defer a.b.Close()
	count := 0
	infos := map[redstuff.BlobID]store.BlobInfo{}
	for _, o := range objects {
		obj, found, err := a.objectInfo(o)
		if err != nil {
			return 0, 0, err
		}
		if !found || obj.EndEpoch > epoch {
			continue
		}
		info, ok := infos[obj.BlobID]
		if !ok {
			if info, _, err = a.blobInfo(obj.BlobID); err != nil {
				return 0, 0, err
			}
		}
		unregister(&info, obj)
		infos[obj.BlobID] = info
		a.b.DeleteObjectInfo(o)
		count++
	}
	for id, info := range infos {
		a.settle(id, info)
	}
	if count == 0 {
		return 0, 0, nil
	}
	if err := a.b.Commit(); err != nil {
		return 0, 0, n.internal("commit expiry", err)
	}
	n.forget(a.dropped)
	return count, len(a.dropped), nil
}

// deleteGarbage deletes the data of the given blobs if they still have no live
// registration or are invalid.
func (n *Node) deleteGarbage(ids []redstuff.BlobID) (int, error) {
	n.commit.Lock()
	defer n.commit.Unlock()
	st := n.st.Load()
	b := n.store.NewBatch()
	defer b.Close()
	var dropped []redstuff.BlobID
	for _, id := range ids {
		info, err := b.BlobInfo(id)
		found := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return 0, n.internal("read blob info", err)
		}
		if found && !info.Invalid && info.Live() {
			continue
		}
		if found && !info.Invalid {
			b.DeleteBlobInfo(id)
		}
		b.DeleteBlobData(id, st.readable)
		dropped = append(dropped, id)
	}
	if len(dropped) == 0 {
		return 0, nil
	}
	if err := b.Commit(); err != nil {
		return 0, n.internal("commit deletion", err)
	}
	n.forget(dropped)
	return len(dropped), nil
}

func (n *Node) forget(ids []redstuff.BlobID) {
	for _, id := range ids {
		n.cache.removeBlob(id)
	}
}

// SetShardStatus changes the status of a shard the node holds, for the drivers of shard
// synchronization and recovery (ActiveSync or ActiveRecover to Active, say). Setting
// ShardNone is not allowed: use DropShard.
func (n *Node) SetShardStatus(shard uint16, status ShardStatus) error {
	if int(shard) >= n.n || status == store.ShardNone || !status.Readable() {
		return fmt.Errorf("%w: shard %d status %s", ErrMalformed, shard, status)
	}
	return n.changeShards(func(shards map[uint16]store.ShardStatus, b *store.Batch) error {
		if _, ok := shards[shard]; !ok {
			return fmt.Errorf("%w: shard %d", ErrShardNotAssigned, shard)
		}
		shards[shard] = status
		b.SetShardStatus(shard, status)
		return nil
	})
}

// DropShard deletes every sliver of a shard the node no longer owns (LockedToMove), once
// its new owner has it, and forgets the shard.
func (n *Node) DropShard(shard uint16) error {
	return n.changeShards(func(shards map[uint16]store.ShardStatus, b *store.Batch) error {
		if st, ok := shards[shard]; !ok || st != store.ShardLockedToMove {
			return fmt.Errorf("%w: shard %d is %s, not LockedToMove", ErrMalformed, shard, st)
		}
		delete(shards, shard)
		b.DropShard(shard)
		return nil
	})
}

func (n *Node) changeShards(fn func(map[uint16]store.ShardStatus, *store.Batch) error) error {
	n.commit.Lock()
	defer n.commit.Unlock()
	old := n.st.Load()
	shards := maps.Clone(old.shards)
	b := n.store.NewBatch()
	defer b.Close()
	if err := fn(shards, b); err != nil {
		return err
	}
	if err := b.Commit(); err != nil {
		return n.internal("commit shard change", err)
	}
	n.st.Store(newState(old.cursor, old.nodeState(), shards))
	return nil
}
