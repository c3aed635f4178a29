package storagenode

import (
	"fmt"

	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// SliverRef names one sliver a node stores: its shard and axis.
type SliverRef struct {
	Shard uint16
	Axis  redstuff.Axis
}

// SyncNeed is what blob sync must fetch for one blob: whether the blob is certified (a
// live certified registration in the current epoch, not invalid; only such blobs are
// synced), whether its metadata is missing, and the slivers of the requested shards that
// are missing.
type SyncNeed struct {
	Certified       bool
	MetadataMissing bool
	Slivers         []SliverRef
}

// Done reports whether nothing is missing (or the blob need not be synced).
func (s SyncNeed) Done() bool { return !s.Certified || !s.MetadataMissing && len(s.Slivers) == 0 }

// NeedsSync reports what the node lacks of blob id in shards (the shards it owns when
// shards is nil; shards it does not own are ignored).
func (n *Node) NeedsSync(id redstuff.BlobID, shards []uint16) (SyncNeed, error) {
	st := n.st.Load()
	info, found, err := n.blobInfo(id)
	if err != nil || !found || info.Invalid || !certifiedAt(info, st.epoch) {
		return SyncNeed{}, err
	}
	need := SyncNeed{Certified: true}
	// A partial copy without the pair of a shard the node now holds counts as missing:
	// blob sync fetches the full metadata and stores what the node keeps of it.
	lacks, err := n.lacksPairs(st, id)
	if err != nil {
		return SyncNeed{}, err
	}
	need.MetadataMissing = lacks
	if shards == nil {
		shards = st.owned
	}
	for _, sh := range shards {
		if !st.shards[sh].Owned() {
			continue
		}
		for _, a := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
			ok, err := n.store.HasSliver(sh, a, id)
			if err != nil {
				return SyncNeed{}, n.internal("read sliver", err)
			}
			if !ok {
				need.Slivers = append(need.Slivers, SliverRef{Shard: sh, Axis: a})
			}
		}
	}
	return need, nil
}

// certifiedAt reports whether a certified registration of the blob may still be running
// in epoch.
func certifiedAt(info store.BlobInfo, epoch uint32) bool {
	return info.PermanentCertified > 0 && info.PermanentCertifiedEndEpoch > epoch ||
		info.DeletableCertified > 0 && info.DeletableEndEpoch > epoch
}

// CertifiedBlobs returns up to limit blob IDs from `from` on (inclusive), in ID order,
// that have a live certified registration in the current epoch and are not invalid: the
// blobs whose slivers every owner of a shard must hold. next is the ID to continue from,
// and more is false when the scan reached the end.
func (n *Node) CertifiedBlobs(from redstuff.BlobID, limit int) (ids []redstuff.BlobID, next redstuff.BlobID, more bool, err error) {
	epoch := n.st.Load().epoch
	scanned := 0
	stopped := false
	var last redstuff.BlobID
	err = n.store.BlobInfos(from, func(id redstuff.BlobID, info store.BlobInfo) (bool, error) {
		scanned++
		last = id
		if !info.Invalid && certifiedAt(info, epoch) {
			ids = append(ids, id)
		}
		stopped = len(ids) >= limit || scanned >= 16*limit
		return !stopped, nil
	})
	if err != nil {
		return nil, next, false, n.internal("scan blob infos", err)
	}
	if !stopped {
		return ids, next, false, nil
	}
	next = last
	if !increment(next[:]) {
		return ids, next, false, nil
	}
	return ids, next, true, nil
}

// ChangeDoneEpoch returns the latest epoch whose EpochChangeDone the node has applied.
func (n *Node) ChangeDoneEpoch() uint32 { return n.st.Load().changeDone }

// ShardStatus returns the status of a shard on the node (ShardNone if it does not hold it).
func (n *Node) ShardStatus(shard uint16) ShardStatus { return n.st.Load().shards[shard] }

// SwapShardStatus changes the status of a shard from old to new if it is old, for the
// shard sync driver: a sync that finished (ActiveSync or ActiveRecover to Active) must not
// overwrite a status an epoch change set meanwhile (LockedToMove, say). It reports whether
// the status changed. new may not be ShardNone (see DropShard).
func (n *Node) SwapShardStatus(shard uint16, old, new ShardStatus) (bool, error) {
	if int(shard) >= n.n || new == store.ShardNone || !new.Readable() {
		return false, fmt.Errorf("%w: shard %d status %s", ErrMalformed, shard, new)
	}
	swapped := false
	err := n.changeShards(func(shards map[uint16]store.ShardStatus, b *store.Batch) error {
		if shards[shard] != old {
			return nil
		}
		shards[shard] = new
		b.SetShardStatus(shard, new)
		swapped = true
		return nil
	})
	return swapped, err
}

// AddVerified adds a sliver that the caller has already verified against the upload's
// metadata (a sliver rebuilt by redstuff.Config.RecoverSliver, which checks it), so that
// it is not verified again; otherwise it is Add. The index and shard checks of Add apply.
func (u *Upload) AddVerified(pair int, s *redstuff.Sliver, encoded []byte) error {
	k, stored, err := u.admit(pair, s)
	if err != nil || stored {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.batch.PutSliver(k.shard, s.Axis, u.id, encoded)
	u.slivs = append(u.slivs, k)
	if u.isPending {
		u.pend = append(u.pend, pendingSliver{s: s, enc: encoded, key: k, pair: pair})
	}
	return nil
}
