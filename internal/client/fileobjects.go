package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/manifest"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// fileManifest returns the manifest blob id holds, or nil if it is not a manifest (or no
// longer readable: a deleted or expired manifest has no chunks to find).
func (c *Client) fileManifest(ctx context.Context, id redstuff.BlobID) (*manifest.Manifest, error) {
	br, err := c.OpenBlob(ctx, id, ReadOptions{})
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer br.Close()
	size := br.Size()
	if size < int64(len(manifest.Magic)) || size > manifest.MaxSize {
		return nil, nil
	}
	raw := make([]byte, size)
	if _, err := br.ReadAt(raw[:len(manifest.Magic)], 0); err != nil {
		return nil, err
	}
	if !manifest.HasMagic(raw) {
		return nil, nil
	}
	if _, err := br.ReadAt(raw, 0); err != nil {
		return nil, err
	}
	m, err := manifest.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: blob %s: %w", ErrInvalidManifest, id, err)
	}
	return m, nil
}

// chunkObjects picks, for each chunk of file m, one live certified Blob object of the
// wallet (deletable ones only if deletable), each object at most once: one whose end
// epoch is end if there is one (the objects StoreFile created with the manifest), else
// the one that lasts longest. If a chunk has none, it fails naming the chunk, unless
// deletable (for a deletion, a chunk already gone is nothing to do: its entry is nil).
func (c *Client) chunkObjects(ctx context.Context, file redstuff.BlobID, m *manifest.Manifest, end uint32, deletable bool) ([]*chain.Blob, error) {
	blobs, err := c.ListBlobs(ctx, false)
	if err != nil {
		return nil, err
	}
	byID := make(map[redstuff.BlobID][]*chain.Blob)
	for _, b := range blobs {
		if b.Certified && (!deletable || b.Deletable) {
			byID[b.BlobID] = append(byID[b.BlobID], b)
		}
	}
	out := make([]*chain.Blob, len(m.Chunks))
	for i, ch := range m.Chunks {
		id := redstuff.BlobID(ch.BlobID)
		cands := byID[id]
		best := -1
		for j, b := range cands {
			if best < 0 || (b.EndEpoch() == end && cands[best].EndEpoch() != end) ||
				(cands[best].EndEpoch() != end && b.EndEpoch() > cands[best].EndEpoch()) {
				best = j
			}
		}
		if best < 0 && deletable {
			continue
		}
		if best < 0 {
			return nil, fmt.Errorf("%w: file %s: chunk %d of %d (blob %s): the wallet owns no certified blob object of it",
				ErrNotOwned, file, i, len(m.Chunks), id)
		}
		out[i] = cands[best]
		byID[id] = append(cands[:best:best], cands[best+1:]...)
	}
	return out, nil
}

// deleteChunks deletes the chunk objects of a file whose manifest was just deleted.
func (c *Client) deleteChunks(ctx context.Context, file redstuff.BlobID, chunks []*chain.Blob) ([]chain.ObjectID, error) {
	var deleted []chain.ObjectID
	for i, b := range chunks {
		if b == nil {
			continue
		}
		if err := c.deleteObject(ctx, b.ID); err != nil {
			return deleted, fmt.Errorf("client: file %s: its manifest is deleted, but deleting chunk %d of %d (blob %s) failed: %w", file, i, len(chunks), b.BlobID, err)
		}
		deleted = append(deleted, b.ID)
	}
	return deleted, nil
}

// extendChunks extends the chunk objects of a file to end at least at end.
func (c *Client) extendChunks(ctx context.Context, file redstuff.BlobID, chunks []*chain.Blob, end uint32) error {
	for i, b := range chunks {
		if b.EndEpoch() >= end {
			continue
		}
		if _, err := c.chain.Submit(ctx, c.cfg.Signer, &chain.ExtendBlob{Blob: b.ID, Epochs: end - b.EndEpoch()}); err != nil {
			return fmt.Errorf("client: file %s: extending chunk %d of %d (blob %s, object %s): %w", file, i, len(chunks), b.BlobID, b.ID, err)
		}
	}
	return nil
}
