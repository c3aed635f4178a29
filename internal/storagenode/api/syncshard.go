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
//
// The handler asks only about the node's current or previous epoch, and only for a
// request that parsed, while holding a sync slot (Options.MaxConcurrentSyncShard): an
// implementation that caches those committees answers from memory, so unauthenticated
// requests cannot make the node query its chain RPC more than once per epoch.
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
//
// The request is checked cheapest first, and nothing a stranger sends holds a sync slot
// for longer than it takes to verify a signature: the body (at most
// storagenode.MaxSignedMessageSize bytes, 403 if it declares more) is read within
// BodyGrace (504), then parsed (400); the request's epoch must be the node's current or
// previous epoch (ErrInvalidEpoch); only then does it take a sync slot (429 if none is
// free), look up the shard's owner and verify the signature (403).
func (h *Handler) postSyncShard(w http.ResponseWriter, r *http.Request) error {
	if h.opts.ShardOwners == nil {
		return fmt.Errorf("%w: shard sync is not enabled on this node", sn.ErrUnavailable)
	}
	body, done, err := h.readBody(w, r, sn.MaxSignedMessageSize)
	if err != nil {
		return err
	}
	defer done()
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
	if err := checkSyncEpoch(h.node.Epoch(), req.Epoch); err != nil {
		return err
	}
	if !tryAcquire(h.syncs) {
		return fmt.Errorf("%w: %d shard syncs in flight", sn.ErrOverloaded, cap(h.syncs))
	}
	defer release(h.syncs)
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

// checkSyncEpoch accepts a sync-shard request of epoch req at a node in epoch current: the
// requester owns the shard in req, which is the node's epoch or, if the node has moved on
// while the requester syncs, the one before. A node that has not reached req may not have
// locked the shard yet.
func checkSyncEpoch(current, req uint32) error {
	if req == current || req+1 == current {
		return nil
	}
	return &sn.EpochError{Request: req, Server: current, Detail: "a shard sync is served for the node's current or previous epoch only"}
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
