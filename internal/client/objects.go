package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// BlobObject returns a Blob object by its object ID (chain.ErrNotFound if there is none,
// ErrNotOwned... never: any blob can be read by object ID).
func (c *Client) BlobObject(ctx context.Context, id chain.ObjectID) (*chain.Blob, error) {
	b, err := c.chain.Blob(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("client: blob object %s: %w", id, err)
	}
	return b, nil
}

// ListBlobs returns the Blob objects the wallet owns, in object ID order; expired ones
// only with includeExpired.
func (c *Client) ListBlobs(ctx context.Context, includeExpired bool) ([]*chain.Blob, error) {
	if c.cfg.Signer == nil {
		return nil, ErrNoWallet
	}
	sys, err := c.chain.System(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	objs, err := c.chain.AllOwned(ctx, c.cfg.Signer.Address(), chain.KindBlob)
	if err != nil {
		return nil, fmt.Errorf("client: listing owned blobs: %w", err)
	}
	var out []*chain.Blob
	for _, o := range objs {
		if b, ok := o.(*chain.Blob); ok && (includeExpired || b.EndEpoch() > sys.Epoch) {
			out = append(out, b)
		}
	}
	return out, nil
}

// Delete deletes an owned deletable Blob object, returning its Storage resource to the
// wallet for reuse. Errors: chain.ErrNotDeletable, chain.ErrNotOwner, chain.ErrNotFound...
//
// If the object's blob is a chunk manifest, one owned deletable object of each chunk is
// deleted after it (see deleteChunks); DeleteFile returns them.
func (c *Client) Delete(ctx context.Context, obj chain.ObjectID) error {
	_, err := c.DeleteFile(ctx, obj)
	return err
}

// DeleteFile is Delete that also returns the chunk objects it deleted.
func (c *Client) DeleteFile(ctx context.Context, obj chain.ObjectID) ([]chain.ObjectID, error) {
	if c.cfg.Signer == nil {
		return nil, ErrNoWallet
	}
	var chunks []*chain.Blob
	var file redstuff.BlobID
	if b, err := c.chain.Blob(ctx, obj); err == nil && b.Certified {
		file = b.BlobID
		m, err := c.fileManifest(ctx, b.BlobID)
		if err != nil {
			return nil, err
		}
		if m != nil {
			if chunks, err = c.chunkObjects(ctx, b.BlobID, m, b.EndEpoch(), true); err != nil {
				return nil, err
			}
		}
	}
	if err := c.deleteObject(ctx, obj); err != nil {
		return nil, err
	}
	return c.deleteChunks(ctx, file, chunks)
}

func (c *Client) deleteObject(ctx context.Context, obj chain.ObjectID) error {
	if _, err := c.chain.Submit(ctx, c.cfg.Signer, &chain.DeleteBlob{Blob: obj}); err != nil {
		return fmt.Errorf("client: deleting blob object %s: %w", obj, err)
	}
	return nil
}

// DeleteBlobID deletes every owned, live, deletable Blob object of a blob ID and returns
// their IDs. It fails with ErrNotOwned if there is none; permanent objects are left
// alone (and reported by the error if they are all there is).
//
// If the blob is a chunk manifest, the file's chunks are deleted too, after it (see
// deleteChunks).
func (c *Client) DeleteBlobID(ctx context.Context, id redstuff.BlobID) ([]chain.ObjectID, error) {
	if c.cfg.Signer == nil {
		return nil, ErrNoWallet
	}
	m, err := c.fileManifest(ctx, id)
	if err != nil {
		return nil, err
	}
	var chunks []*chain.Blob
	if m != nil {
		if chunks, err = c.chunkObjects(ctx, id, m, 0, true); err != nil {
			return nil, err
		}
	}
	deleted, err := c.deleteBlobID(ctx, id)
	if err != nil {
		return deleted, err
	}
	more, err := c.deleteChunks(ctx, id, chunks)
	return append(deleted, more...), err
}

func (c *Client) deleteBlobID(ctx context.Context, id redstuff.BlobID) ([]chain.ObjectID, error) {
	blobs, err := c.ListBlobs(ctx, false)
	if err != nil {
		return nil, err
	}
	var deleted []chain.ObjectID
	permanent := 0
	for _, b := range blobs {
		if b.BlobID != id {
			continue
		}
		if !b.Deletable {
			permanent++
			continue
		}
		if err := c.deleteObject(ctx, b.ID); err != nil {
			return deleted, err
		}
		deleted = append(deleted, b.ID)
	}
	if len(deleted) == 0 {
		if permanent > 0 {
			return nil, fmt.Errorf("client: blob %s: the wallet owns %d permanent blob objects of it and no deletable one: %w", id, permanent, chain.ErrNotDeletable)
		}
		return nil, fmt.Errorf("%w of blob %s", ErrNotOwned, id)
	}
	return deleted, nil
}

// Extend extends a certified Blob object by epochs, paying the storage price, and returns
// the updated object.
func (c *Client) Extend(ctx context.Context, obj chain.ObjectID, epochs uint32) (*chain.Blob, error) {
	if c.cfg.Signer == nil {
		return nil, ErrNoWallet
	}
	if epochs == 0 {
		return nil, fmt.Errorf("%w: extend by at least 1 epoch", ErrInvalidEpochs)
	}
	// The chunks of a file first, so that its manifest never outlives them.
	if b, err := c.chain.Blob(ctx, obj); err == nil && b.Certified {
		m, err := c.fileManifest(ctx, b.BlobID)
		if err != nil {
			return nil, err
		}
		if m != nil {
			chunks, err := c.chunkObjects(ctx, b.BlobID, m, b.EndEpoch(), false)
			if err != nil {
				return nil, err
			}
			if err := c.extendChunks(ctx, b.BlobID, chunks, b.EndEpoch()+epochs); err != nil {
				return nil, err
			}
		}
	}
	if _, err := c.chain.Submit(ctx, c.cfg.Signer, &chain.ExtendBlob{Blob: obj, Epochs: epochs}); err != nil {
		if errors.Is(err, chain.ErrInvalidEpochs) {
			return nil, fmt.Errorf("client: extending blob object %s by %d epochs: %w: %w", obj, epochs, ErrInvalidEpochs, err)
		}
		return nil, fmt.Errorf("client: extending blob object %s: %w", obj, err)
	}
	return c.BlobObject(ctx, obj)
}

// Stake stakes amount FROST with a storage node and returns the new StakedWal.
func (c *Client) Stake(ctx context.Context, node chain.ObjectID, amount uint64) (*chain.StakedWal, error) {
	if c.cfg.Signer == nil {
		return nil, ErrNoWallet
	}
	res, err := c.chain.Submit(ctx, c.cfg.Signer, &chain.Stake{Node: node, Amount: amount})
	if err != nil {
		return nil, fmt.Errorf("client: staking with node %s: %w", node, err)
	}
	if len(res.Created) == 0 {
		return nil, errors.New("client: stake created no object")
	}
	o, err := c.chain.Object(ctx, res.Created[0])
	if err != nil {
		return nil, fmt.Errorf("client: reading the new stake: %w", err)
	}
	sw, ok := o.(*chain.StakedWal)
	if !ok {
		return nil, fmt.Errorf("client: stake created a %s object", o.Kind())
	}
	return sw, nil
}

// NodeHealth is one committee member's health report, or the error that kept it from
// answering.
type NodeHealth struct {
	NodeID         chain.ObjectID
	Name           string
	NetworkAddress string
	Shards         int
	Health         *sn.HealthInfo
	Err            error
}

// Health asks every member of the current committee for its health report, concurrently,
// and returns the epoch and the reports sorted by node name.
func (c *Client) Health(ctx context.Context, detailed bool) (uint32, []NodeHealth, error) {
	sys, err := c.chain.System(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("client: %w", err)
	}
	info, err := c.chain.CommitteeAt(ctx, sys.Epoch)
	if err != nil {
		return 0, nil, fmt.Errorf("client: committee of epoch %d: %w", sys.Epoch, err)
	}
	return sys.Epoch, c.HealthOf(ctx, int(info.NShards), info.Members, detailed), nil
}

// HealthOf asks the given storage nodes (committee members or any registered node, whose
// Shards may then be empty) for their health reports, concurrently, over TLS pinned to
// each node's registered network key; nShards is the system's number of shards. The reports come back sorted by node name; a node
// that could not be asked has Err set.
func (c *Client) HealthOf(ctx context.Context, nShards int, nodes []chain.MemberInfo, detailed bool) []NodeHealth {
	out := make([]NodeHealth, len(nodes))
	var wg sync.WaitGroup
	for i, mi := range nodes {
		out[i] = NodeHealth{NodeID: mi.NodeID, Name: mi.Name, NetworkAddress: mi.NetworkAddress, Shards: len(mi.Shards)}
		node, err := c.nodeClient(mi, nShards)
		if err != nil {
			out[i].Err = err
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := node.Health(ctx, detailed)
			if err != nil {
				out[i].Err = err
				return
			}
			out[i].Health = &h
		}()
	}
	wg.Wait()
	slices.SortStableFunc(out, func(a, b NodeHealth) int { return strings.Compare(a.Name, b.Name) })
	return out
}
