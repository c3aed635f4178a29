package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/walrus-go/walrus/internal/bls"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// ShardOwners answers who owns a shard in an epoch, for authorizing shard sync requests.
// The node's daemon implements it with the chain's committees. Errors other than
// storagenode sentinels are reported as unavailable (the requester retries).
type ShardOwners interface {
	// ShardOwner returns the BLS public key of the node that owns shard in epoch.
	ShardOwner(ctx context.Context, epoch uint32, shard uint16) (bls.PublicKey, error)
}

// POST /v1/migrate/sync_shard: the body is a BCS SignedMessage (storagenode.
// EncodeSignedMessage) over a sync-shard ProtocolMessage (storagenode.SyncShardMessage),
// signed by the node that owns the shard in the request's epoch. The answer is the BCS
// storagenode.EncodeShardSlivers of the slivers this node stores in the shard from the
// starting blob ID on, at most MaxSyncShardSlivers of them and about MaxSyncShardBytes;
// an empty list means the end of the shard.
func (h *Handler) postSyncShard(w http.ResponseWriter, r *http.Request) error {
	if h.opts.ShardOwners == nil {
		return fmt.Errorf("%w: shard sync is not enabled on this node", sn.ErrUnavailable)
	}
	if !tryAcquire(h.syncs) {
		return fmt.Errorf("%w: %d shard syncs in flight", sn.ErrOverloaded, cap(h.syncs))
	}
	defer release(h.syncs)
	body, release, err := h.readBody(w, r, sn.MaxSignedMessageSize)
	if err != nil {
		return err
	}
	defer release()
	signed, err := sn.DecodeSignedMessage(body)
	if err != nil {
		return err
	}
	req, err := sn.ParseSyncShardMessage(signed.Message)
	if err != nil {
		return err
	}
	if int(req.Shard) >= h.node.NShards() {
		return fmt.Errorf("%w: shard %d, %d shards", sn.ErrIndexOutOfRange, req.Shard, h.node.NShards())
	}
	owner, err := h.opts.ShardOwners.ShardOwner(r.Context(), req.Epoch, req.Shard)
	if err != nil {
		if known(err) {
			return err
		}
		return fmt.Errorf("%w: looking up the owner of shard %d in epoch %d: %v", sn.ErrUnavailable, req.Shard, req.Epoch, err)
	}
	if _, err := sn.VerifySyncShard(signed, owner); err != nil {
		return err
	}
	items, err := h.node.ShardSlivers(req, h.opts.MaxSyncShardSlivers, h.opts.MaxSyncShardBytes)
	if err != nil {
		return err
	}
	writeBytes(w, sn.EncodeShardSlivers(req.Axis, items))
	return nil
}

// known reports whether err maps to a row of the error table other than the internal
// error.
func known(err error) bool {
	for _, s := range errorTable[:len(errorTable)-1] {
		if errors.Is(err, s.Err) {
			return true
		}
	}
	return false
}
