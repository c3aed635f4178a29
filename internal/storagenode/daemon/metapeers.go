package daemon

import (
	"context"
	"errors"
	"fmt"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// metaPeers implements storagenode.MetadataPeers over the committee: the node keeps the
// full metadata of the blobs it is a metadata holder of (redstuff.MetadataHolders over
// the current committee's shard owners) and assembles the others' from its peers' stored
// copies (GET .../metadata/pairs, which never assembles in turn).
type metaPeers struct{ d *Daemon }

// cachedCommittee returns the committee of the node's epoch if the view has it, without
// asking the chain (KeepsFull runs under the node's commit lock).
func (p metaPeers) cachedCommittee() *committeeView {
	v := p.d.view
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.committees[p.d.node.Epoch()]
}

// KeepsFull implements storagenode.MetadataPeers. Without a known committee, or outside
// it, the node keeps the full copy.
func (p metaPeers) KeepsFull(id redstuff.BlobID) bool {
	c := p.cachedCommittee()
	if c == nil || c.self < 0 {
		return true
	}
	for _, h := range redstuff.MetadataHolders(id, c.owner, p.d.enc.MaxFaulty()) {
		if h == c.self {
			return true
		}
	}
	return false
}

// FetchFull implements storagenode.MetadataPeers: it asks the blob's holders first, then
// the other members, for their stored copies, verifies each against the blob ID (a peer
// that sends one that does not verify is reported) and stops once the verified copies
// cover every pair. It starts from this node's own copy.
func (p metaPeers) FetchFull(ctx context.Context, id redstuff.BlobID) (*redstuff.Metadata, error) {
	d := p.d
	c, err := d.view.committee(ctx, d.node.Epoch())
	if err != nil {
		return nil, err
	}
	var parts []*redstuff.PartialMetadata
	if b, err := d.node.PartialMetadataBytes(id, nil); err == nil {
		if pm, err := redstuff.DecodePartialMetadata(b); err == nil {
			parts = append(parts, pm)
		}
	}
	order := redstuff.MetadataHolders(id, c.owner, d.enc.MaxFaulty())
	taken := make([]bool, len(c.info.Members))
	for _, h := range order {
		taken[h] = true
	}
	start := id.RotationOffset(len(c.info.Members))
	for k := range c.info.Members {
		if i := (start + k) % len(c.info.Members); !taken[i] {
			order = append(order, i)
		}
	}
	lastErr := fmt.Errorf("daemon: no peer holds the metadata of %s", id)
	for _, i := range order {
		if i == c.self {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m := c.info.Members[i]
		cl, err := d.view.client(peerOf(m))
		if err != nil {
			lastErr = err
			continue
		}
		pm, err := cl.PartialMetadata(ctx, id, nil)
		if err == nil {
			err = d.enc.VerifyPartialMetadata(pm, id)
			if err != nil {
				err = fmt.Errorf("daemon: bad partial metadata of %s from %s: %w", id, peerOf(m).addr, err)
				d.badPeer("metadata", peerOf(m).addr, id, 1, err)
			}
		}
		if err != nil {
			lastErr = err
			continue
		}
		parts = append(parts, pm)
		full, _, err := redstuff.AssembleMetadata(id, d.n, parts)
		if err == nil {
			return full, nil
		}
		if !errors.Is(err, redstuff.ErrNotEnough) {
			return nil, err
		}
	}
	return nil, lastErr
}

var _ sn.MetadataPeers = metaPeers{}
