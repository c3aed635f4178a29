package storagenode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// Per-blob metadata proportional to what the node holds (docs/design.md, "Partial
// metadata"). A node keeps the full metadata of a blob (all 2n sliver hashes) only if it
// is one of the blob's metadata holders (redstuff.MetadataHolders over the committee);
// otherwise it keeps redstuff.PartialMetadata for the pairs of its shards. Internal users
// read a view: the full metadata, or a sparse copy whose unheld pair hashes are zero,
// which no sliver matches, so a check against a pair the node does not hold fails
// closed. Whoever needs the full copy (the /metadata endpoint, inconsistency proofs,
// checks of other nodes' slivers) asks fullMetadata, which assembles it from peers.

// MetadataPeers is how a node that keeps partial metadata reaches the committee. The
// daemon implements it; a node without one keeps the full metadata of every blob.
type MetadataPeers interface {
	// KeepsFull reports whether this node is one of blob id's metadata holders in its
	// current committee. When unsure (the committee is not known yet) it returns true:
	// keeping the full copy is always correct.
	KeepsFull(id redstuff.BlobID) bool
	// FetchFull assembles the full metadata of id from the other nodes' stored copies
	// (never from copies they assembled themselves) and verifies it against id.
	FetchFull(ctx context.Context, id redstuff.BlobID) (*redstuff.Metadata, error)
}

type peersBox struct{ p MetadataPeers }

// SetMetadataPeers installs the committee access that lets the node keep partial metadata
// (nil: keep the full metadata of every blob, the default).
func (n *Node) SetMetadataPeers(p MetadataPeers) {
	if p == nil {
		n.peers.Store(nil)
		return
	}
	n.peers.Store(&peersBox{p})
}

func (n *Node) metadataPeers() MetadataPeers {
	if b := n.peers.Load(); b != nil {
		return b.p
	}
	return nil
}

// assembleTimeout bounds a fetch of full metadata from peers made on behalf of a caller
// without a context (challenge verification).
const assembleTimeout = 2 * time.Minute

// blobMeta is the decoded stored metadata of one blob.
type blobMeta struct {
	full *redstuff.Metadata        // the full metadata, if the node keeps it
	part *redstuff.PartialMetadata // otherwise the pairs kept
	view *redstuff.Metadata        // full, or the sparse view of part
}

// size estimates the memory a blobMeta takes, for the cache.
func (b *blobMeta) size(n int) int64 { return int64(n)*64 + 256 }

// decodeStoredMetadata decodes a stored metadata value of blob id: Walrus's
// BlobMetadataWithId, which starts with the blob ID, or redstuff.PartialMetadata, which
// never does (its first 32 bytes would have to be a prefix of their own hash's input).
func decodeStoredMetadata(id redstuff.BlobID, n int, b []byte) (*blobMeta, error) {
	if bytes.HasPrefix(b, id[:]) {
		m, err := redstuff.DecodeMetadata(b)
		if err != nil {
			return nil, err
		}
		return &blobMeta{full: m, view: m}, nil
	}
	pm, err := redstuff.DecodePartialMetadata(b)
	if err != nil {
		return nil, err
	}
	if int(pm.Shards) != n {
		return nil, fmt.Errorf("partial metadata for %d shards, want %d", pm.Shards, n)
	}
	return &blobMeta{part: pm, view: sparseView(id, pm)}, nil
}

// sparseView returns metadata with the held pairs' hashes and zero hashes elsewhere.
func sparseView(id redstuff.BlobID, pm *redstuff.PartialMetadata) *redstuff.Metadata {
	m := &redstuff.Metadata{BlobID: id, EncodingType: pm.EncodingType, UnencodedLength: pm.UnencodedLength,
		Hashes: make([]redstuff.PairHashes, pm.Shards)}
	for i, p := range pm.Pairs {
		m.Hashes[p] = pm.Hashes[i]
	}
	return m
}

// holds reports whether the stored metadata has the hashes of pair.
func (b *blobMeta) holds(pair int) bool { return b.full != nil || b.part.Has(pair) }

// pairProof returns the self-contained proof of a held pair.
func (b *blobMeta) pairProof(pair int) (*redstuff.PairProof, error) {
	if b.full != nil {
		pm, err := b.full.Partial([]int{pair})
		if err != nil {
			return nil, err
		}
		return pm.PairProof(pair)
	}
	return b.part.PairProof(pair)
}

// partial returns the stored metadata as partial metadata of the given pairs (all held
// pairs if pairs is nil). Pairs not held are left out.
func (b *blobMeta) partial(pairs []int) (*redstuff.PartialMetadata, error) {
	if b.full != nil {
		if pairs == nil {
			pairs = make([]int, len(b.full.Hashes))
			for i := range pairs {
				pairs[i] = i
			}
		}
		return b.full.Partial(pairs)
	}
	if pairs == nil {
		return b.part, nil
	}
	return b.part.Restrict(pairs)
}

// servedMeta is storedMeta for a request from outside: a blob without stored metadata is
// ErrMetadataNotFound (the API's 404), not ErrMissingMetadata.
func (n *Node) servedMeta(id redstuff.BlobID) (*blobMeta, error) {
	bm, err := n.storedMeta(id)
	if errors.Is(err, ErrMissingMetadata) {
		return nil, fmt.Errorf("%w: %s", ErrMetadataNotFound, id)
	}
	return bm, err
}

// storedMeta returns the decoded stored metadata of a blob, from the cache if possible,
// or ErrMissingMetadata. The result is shared and must not be modified.
func (n *Node) storedMeta(id redstuff.BlobID) (*blobMeta, error) {
	k := cacheKey{id: id, kind: cacheMetadata}
	if v, ok := n.cache.get(k); ok {
		return v.(*blobMeta), nil
	}
	b, err := n.store.Metadata(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrMissingMetadata, id)
	}
	if err != nil {
		return nil, n.internal("read metadata", err)
	}
	bm, err := decodeStoredMetadata(id, n.n, b)
	if err != nil {
		return nil, n.internal("decode stored metadata", err)
	}
	n.cache.add(k, bm, bm.size(n.n))
	return bm, nil
}

// heldPairs returns the pairs of blob id on the shards the node has in state st (owned or
// readable), plus those of extra shards.
func (n *Node) heldPairs(st *state, id redstuff.BlobID, extra ...uint16) []int {
	var pairs []int
	for sh := range st.shards {
		pairs = append(pairs, id.ShardPair(int(sh), n.n))
	}
	for _, sh := range extra {
		pairs = append(pairs, id.ShardPair(int(sh), n.n))
	}
	slices.Sort(pairs)
	return slices.Compact(pairs)
}

// metadataToStore returns the value to store for verified full metadata m of blob id: m
// itself on a metadata holder (or a node without MetadataPeers), otherwise the partial
// metadata of the pairs the node holds in st and of extra shards.
func (n *Node) metadataToStore(st *state, id redstuff.BlobID, m *redstuff.Metadata, extra ...uint16) ([]byte, error) {
	p := n.metadataPeers()
	if p == nil || p.KeepsFull(id) {
		return m.Bytes(), nil
	}
	pm, err := m.Partial(n.heldPairs(st, id, extra...))
	if err != nil {
		return nil, n.internal("restrict metadata", err)
	}
	return pm.Bytes(), nil
}

// lacksPairs reports whether the stored metadata of id misses the hashes of a pair the
// node holds in st or of an extra shard; a missing metadata counts as lacking.
func (n *Node) lacksPairs(st *state, id redstuff.BlobID, extra ...uint16) (bool, error) {
	bm, err := n.storedMeta(id)
	if errors.Is(err, ErrMissingMetadata) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, p := range n.heldPairs(st, id, extra...) {
		if !bm.holds(p) {
			return true, nil
		}
	}
	return false, nil
}

// NeedsMetadata reports whether the node must be given the blob's full metadata to store
// slivers of shard: it has none stored, or its partial copy lacks the shard's pair (a
// shard gained at an epoch change).
func (n *Node) NeedsMetadata(id redstuff.BlobID, shard uint16) (bool, error) {
	return n.lacksPairs(n.st.Load(), id, shard)
}

// PartialMetadataBytes returns the BCS redstuff.PartialMetadata of a blob for the given
// pairs, from the node's stored copy only (never assembled from peers): all pairs it
// holds if pairs is nil, and only the held ones among pairs otherwise. It returns
// ErrMetadataNotFound if no metadata is stored.
func (n *Node) PartialMetadataBytes(id redstuff.BlobID, pairs []int) ([]byte, error) {
	for _, p := range pairs {
		if p < 0 || p >= n.n {
			return nil, fmt.Errorf("%w: sliver pair %d, %d shards", ErrIndexOutOfRange, p, n.n)
		}
	}
	bm, err := n.servedMeta(id)
	if err != nil {
		return nil, err
	}
	pm, err := bm.partial(pairs)
	if err != nil {
		return nil, n.internal("restrict metadata", err)
	}
	return pm.Bytes(), nil
}

// PairProof returns the BCS redstuff.PairProof of one sliver pair of a blob: its hashes
// and their Merkle proof to the blob ID. The node must hold the pair's hashes
// (ErrMetadataNotFound otherwise).
func (n *Node) PairProof(id redstuff.BlobID, pair int) ([]byte, error) {
	if pair < 0 || pair >= n.n {
		return nil, fmt.Errorf("%w: sliver pair %d, %d shards", ErrIndexOutOfRange, pair, n.n)
	}
	bm, err := n.servedMeta(id)
	if err != nil {
		return nil, err
	}
	if !bm.holds(pair) {
		return nil, fmt.Errorf("%w: pair %d of %s", ErrMetadataNotFound, pair, id)
	}
	k := cacheKey{id: id, kind: cachePairProof, index: uint16(pair)}
	if v, ok := n.cache.get(k); ok {
		return v.([]byte), nil
	}
	pp, err := bm.pairProof(pair)
	if err != nil {
		return nil, n.internal("prove pair", err)
	}
	b := pp.Bytes()
	n.cache.add(k, b, int64(len(b)+64))
	return b, nil
}

// fullMetadata returns the verified full metadata of a blob: the stored copy, a cached
// assembled one, or one assembled from peers now (cached, and stored if this node is a
// holder of the blob and has its partial copy). It returns ErrMetadataNotFound if nothing
// is stored here and peers cannot supply it.
func (n *Node) fullMetadata(ctx context.Context, id redstuff.BlobID) (*redstuff.Metadata, error) {
	bm, err := n.storedMeta(id)
	switch {
	case err == nil && bm.full != nil:
		return bm.full, nil
	case err != nil && !errors.Is(err, ErrMissingMetadata):
		return nil, err
	}
	k := cacheKey{id: id, kind: cacheAssembled}
	if v, ok := n.cache.get(k); ok {
		return v.(*redstuff.Metadata), nil
	}
	p := n.metadataPeers()
	if p == nil {
		return nil, fmt.Errorf("%w: %s", ErrMetadataNotFound, id)
	}
	m, err := p.FetchFull(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMetadataNotFound, id, err)
	}
	if err := n.verifyMetadata(id, m); err != nil {
		return nil, fmt.Errorf("%w: %s: peers gave metadata that does not verify: %v", ErrMetadataNotFound, id, err)
	}
	n.cache.add(k, m, int64(len(m.Hashes))*64+256)
	if bm != nil && p.KeepsFull(id) {
		n.upgradeMetadata(id, m)
	}
	return m, nil
}

// upgradeMetadata replaces a stored partial copy by verified full metadata m (a node that
// became a holder of the blob). Errors are logged: the copy is an optimisation.
func (n *Node) upgradeMetadata(id redstuff.BlobID, m *redstuff.Metadata) {
	n.commit.RLock()
	defer n.commit.RUnlock()
	ok, err := n.store.HasMetadata(id)
	if err != nil || !ok {
		return
	}
	b := n.store.NewBatch()
	b.PutMetadata(id, m.Bytes())
	if err := b.Commit(); err != nil {
		n.logger.Warn("store assembled metadata", "blob", id, "err", err)
		return
	}
	n.cache.removeBlob(id)
}

// MetadataBytes returns the full BCS metadata (BlobMetadataWithId) of a blob: the stored
// copy, or one assembled from peers and verified (see fullMetadata). It returns
// ErrMetadataNotFound if neither is available. The caller owns the result.
func (n *Node) MetadataBytes(ctx context.Context, id redstuff.BlobID) ([]byte, error) {
	m, err := n.fullMetadata(ctx, id)
	if err != nil {
		return nil, err
	}
	return m.Bytes(), nil
}

// sliverHashView returns metadata in which the hash of sliver index of axis a is set: the
// stored view if it holds the sliver's pair, otherwise the full metadata from peers.
func (n *Node) sliverHashView(ctx context.Context, id redstuff.BlobID, a redstuff.Axis, index int) (*redstuff.Metadata, error) {
	bm, err := n.storedMeta(id)
	if err != nil {
		return nil, err
	}
	if bm.holds(redstuff.PairOfSliver(a, index, n.n)) {
		return bm.view, nil
	}
	m, err := n.fullMetadata(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMissingMetadata, err)
	}
	return m, nil
}
