package storagenode

import (
	"context"
	"errors"
	"fmt"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/merkle"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// metadata returns the view of a blob's stored metadata (see partialmeta.go): the full
// metadata, or a sparse copy holding only the hashes of the pairs the node keeps. It
// returns ErrMissingMetadata if none is stored. The result is shared and must not be
// modified.
func (n *Node) metadata(id redstuff.BlobID) (*redstuff.Metadata, error) {
	bm, err := n.storedMeta(id)
	if err != nil {
		return nil, err
	}
	return bm.view, nil
}

// MetadataStatus reports whether a blob's metadata is stored.
func (n *Node) MetadataStatus(id redstuff.BlobID) (StoredStatus, error) {
	ok, err := n.store.HasMetadata(id)
	if err != nil {
		return "", n.internal("read metadata", err)
	}
	if ok {
		return StatusStored, nil
	}
	return StatusNonexistent, nil
}

// MetadataSize returns the exact size of the BCS BlobMetadata (without the blob ID, the
// body of a metadata upload) for this system's shard count.
func (n *Node) MetadataSize() int {
	return 1 + 1 + 8 + bcs.ULEB128Len(n.n) + n.n*2*(1+merkle.Size)
}

// SliverSize returns the exact size of the BCS SliverData of axis a with symbols of sym
// bytes.
func (n *Node) SliverSize(a redstuff.Axis, sym int) int {
	data := n.enc.SliverSize(a, sym)
	return bcs.ULEB128Len(data) + data + 4
}

// MaxSliverSize returns the largest BCS SliverData of axis a the node accepts.
func (n *Node) MaxSliverSize(a redstuff.Axis) int { return n.SliverSize(a, n.maxSym) }

// Sliver returns the stored BCS sliver (SliverData) of axis a in sliver pair pair of a
// blob. The pair's shard must be held by the node (ErrShardNotAssigned); a missing sliver
// gives ErrSliverNotFound, a blob in the challenge window ErrChallenged. The caller owns
// the result.
func (n *Node) Sliver(id redstuff.BlobID, pair int, a redstuff.Axis) ([]byte, error) {
	return n.AppendSliver(nil, id, pair, a)
}

// AppendSliver is Sliver reading into dst's spare capacity (see store.Store.AppendSliver),
// for callers that reuse read buffers.
func (n *Node) AppendSliver(dst []byte, id redstuff.BlobID, pair int, a redstuff.Axis) ([]byte, error) {
	if err := n.checkChallenged(id); err != nil {
		return nil, err
	}
	shard, err := n.checkPair(n.st.Load(), id, pair, false)
	if err != nil {
		return nil, err
	}
	b, err := n.store.AppendSliver(dst, shard, a, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s sliver of pair %d of %s", ErrSliverNotFound, a, pair, id)
	}
	if err != nil {
		return nil, n.internal("read sliver", err)
	}
	return b, nil
}

// SliverStatus reports whether a sliver is stored; the pair's shard must be held.
func (n *Node) SliverStatus(id redstuff.BlobID, pair int, a redstuff.Axis) (StoredStatus, error) {
	shard, err := n.checkPair(n.st.Load(), id, pair, false)
	if err != nil {
		return "", err
	}
	ok, err := n.store.HasSliver(shard, a, id)
	if err != nil {
		return "", n.internal("read sliver", err)
	}
	if ok {
		return StatusStored, nil
	}
	return StatusNonexistent, nil
}

// BlobStatus returns the node's view of a blob ID in the current epoch.
func (n *Node) BlobStatus(id redstuff.BlobID) (BlobStatus, error) {
	info, found, err := n.blobInfo(id)
	if err != nil || !found {
		return BlobStatus{}, err
	}
	return blobStatus(info, n.st.Load().epoch), nil
}

// blobStatus derives Walrus's BlobStatus from the aggregate information: registrations
// whose end epoch has passed no longer count.
func blobStatus(info store.BlobInfo, epoch uint32) BlobStatus {
	if info.Invalid {
		return BlobStatus{Kind: BlobStatusInvalid, Event: info.InvalidEvent}
	}
	s := BlobStatus{Deletable: DeletableCounts{Total: info.DeletableTotal, Certified: info.DeletableCertified}}
	if info.Certified {
		e := info.InitialCertifiedEpoch
		s.InitialCertifiedEpoch = &e
	}
	deletableLive := info.DeletableTotal > 0 && info.DeletableEndEpoch > epoch
	if !deletableLive {
		s.Deletable = DeletableCounts{}
	}
	switch {
	case info.PermanentCertified > 0 && info.PermanentCertifiedEndEpoch > epoch:
		s.Kind, s.EndEpoch, s.IsCertified, s.Event = BlobStatusPermanent, info.PermanentCertifiedEndEpoch, true, info.PermanentCertifiedEvent
	case info.PermanentTotal > 0 && info.PermanentEndEpoch > epoch:
		s.Kind, s.EndEpoch, s.Event = BlobStatusPermanent, info.PermanentEndEpoch, info.PermanentEvent
	case deletableLive:
		s.Kind = BlobStatusDeletable
	default:
		return BlobStatus{}
	}
	return s
}

// Confirm signs a storage confirmation for blob id in the current epoch. The blob must be
// registered with the given persistence (for deletable, the Blob object must be a live
// registration of id), not invalid, and the node must hold its metadata and both slivers
// of every shard it owns; otherwise it returns ErrNotRegistered, ErrBlobExpired,
// ErrInvalidBlob, ErrShardNotAssigned (the node owns no shard) or ErrMissingSlivers.
func (n *Node) Confirm(id redstuff.BlobID, p Persistence) (SignedMessage, error) {
	msg, err := n.confirm(id, p)
	if errors.Is(err, ErrMissingSlivers) && n.pending.has(id) && n.CheckWritable(id) == nil {
		// The registration was applied after confirm looked at the pending buffer, and its
		// data is still there: store it (or wait for the flush in progress) and look again.
		n.flushPending(id)
		return n.confirm(id, p)
	}
	return msg, err
}

func (n *Node) confirm(id redstuff.BlobID, p Persistence) (SignedMessage, error) {
	if n.pending.has(id) && n.CheckWritable(id) == nil {
		// The registration is applied; its flush may still be running.
		n.flushPending(id)
	}
	st := n.st.Load()
	info, found, err := n.blobInfo(id)
	if err != nil {
		return SignedMessage{}, err
	}
	switch {
	case found && info.Invalid:
		return SignedMessage{}, fmt.Errorf("%w: %s", ErrInvalidBlob, id)
	case p.Deletable:
		obj, err := n.store.ObjectInfo(p.ObjectID)
		switch {
		case errors.Is(err, store.ErrNotFound) || err == nil && (obj.BlobID != id || !obj.Deletable):
			return SignedMessage{}, fmt.Errorf("%w: no deletable registration %s of %s", ErrNotRegistered, p.ObjectID, id)
		case err != nil:
			return SignedMessage{}, n.internal("read object info", err)
		case obj.EndEpoch <= st.epoch:
			return SignedMessage{}, fmt.Errorf("%w: registration %s ended at epoch %d", ErrBlobExpired, p.ObjectID, obj.EndEpoch)
		}
	case !found || info.PermanentTotal == 0:
		return SignedMessage{}, fmt.Errorf("%w: no permanent registration of %s", ErrNotRegistered, id)
	case info.PermanentEndEpoch <= st.epoch:
		return SignedMessage{}, fmt.Errorf("%w: permanent registrations of %s ended at epoch %d", ErrBlobExpired, id, info.PermanentEndEpoch)
	}
	if len(st.owned) == 0 {
		return SignedMessage{}, fmt.Errorf("%w: the node owns no shard in epoch %d", ErrShardNotAssigned, st.epoch)
	}
	if err := n.checkFullyStored(st, id); err != nil {
		return SignedMessage{}, err
	}
	msg := ConfirmationMessage(st.epoch, id, p)
	return SignedMessage{Message: msg, Signature: n.key.Sign(msg)}, nil
}

// checkFullyStored returns ErrMissingSlivers unless the metadata and both slivers of
// every owned shard are stored.
func (n *Node) checkFullyStored(st *state, id redstuff.BlobID) error {
	ok, err := n.store.HasMetadata(id)
	if err != nil {
		return n.internal("read metadata", err)
	}
	if !ok {
		return fmt.Errorf("%w: metadata of %s", ErrMissingSlivers, id)
	}
	for _, shard := range st.owned {
		for _, a := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
			ok, err := n.store.HasSliver(shard, a, id)
			if err != nil {
				return n.internal("read sliver", err)
			}
			if !ok {
				return fmt.Errorf("%w: %s sliver of %s in shard %d", ErrMissingSlivers, a, id, shard)
			}
		}
	}
	return nil
}

// InconsistencyProofLimits returns, for an inconsistency proof about axis a of blob id,
// the number of symbols it must have, their size and the largest BCS encoding such a
// proof can have. The metadata must be stored (ErrMissingMetadata).
func (n *Node) InconsistencyProofLimits(id redstuff.BlobID, a redstuff.Axis) (symbols, symbolSize, maxBytes int, err error) {
	m, err := n.metadata(id)
	if err != nil {
		return 0, 0, 0, err
	}
	sym, err := n.enc.SymbolSize(m.UnencodedLength)
	if err != nil {
		return 0, 0, 0, n.internal("stored metadata", err)
	}
	need := n.enc.RecoverySymbolsNeeded(a)
	depth := merkle.Depth(n.n)
	perSymbol := 2 + bcs.ULEB128Len(sym) + sym + bcs.ULEB128Len(depth) + depth*(1+merkle.Size)
	return need, sym, 2 + bcs.ULEB128Len(need) + need*perSymbol, nil
}

// VerifyInconsistency checks an inconsistency proof against the stored metadata and, if
// it shows that the blob's encoding is inconsistent, returns the node's signed
// attestation that the blob ID is invalid (InvalidBlobMessage in the current epoch).
//
// The proof's symbols prove against other slivers' hashes, so a node that keeps partial
// metadata checks it against the full metadata assembled from peers.
func (n *Node) VerifyInconsistency(ctx context.Context, id redstuff.BlobID, p *redstuff.InconsistencyProof) (SignedMessage, error) {
	if _, err := n.metadata(id); err != nil {
		return SignedMessage{}, err
	}
	m, err := n.fullMetadata(ctx, id)
	if err != nil {
		return SignedMessage{}, fmt.Errorf("%w: %v", ErrMissingMetadata, err)
	}
	if err := n.enc.VerifyInconsistencyProof(m, p); err != nil {
		return SignedMessage{}, fmt.Errorf("%w: %v", ErrInvalidProof, err)
	}
	msg := InvalidBlobMessage(n.st.Load().epoch, id)
	return SignedMessage{Message: msg, Signature: n.key.Sign(msg)}, nil
}

// DecodeMetadataBody parses the body of a metadata upload for blob id: Walrus's
// BlobMetadata (the BlobMetadataWithId without the leading blob ID, which is in the path).
func DecodeMetadataBody(id redstuff.BlobID, body []byte) (*redstuff.Metadata, error) {
	b := make([]byte, 0, 32+len(body))
	b = append(append(b, id[:]...), body...)
	m, err := redstuff.DecodeMetadata(b)
	if err != nil {
		return nil, fmt.Errorf("%w: metadata: %v", ErrMalformed, err)
	}
	return m, nil
}

// MetadataBody returns the body of a metadata upload: the BCS metadata without the blob
// ID.
func MetadataBody(m *redstuff.Metadata) []byte {
	var e bcs.Encoder
	m.MarshalBCS(&e)
	return e.Out()[32:]
}
