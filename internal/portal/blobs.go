package portal

import (
	"context"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/quilt"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// ClientBlobs reads content with the client SDK, the aggregator's read path: a blob whole,
// a quilt patch by fetching only the secondary slivers of the quilt's index columns and of
// the patch's columns (client.QuiltReader). It is safe for concurrent use.
type ClientBlobs struct {
	Client *client.Client
}

// ReadBlob implements Blobs.
func (b *ClientBlobs) ReadBlob(ctx context.Context, id redstuff.BlobID) ([]byte, error) {
	return b.Client.Read(ctx, id, client.ReadOptions{})
}

// ReadPatch implements Blobs.
func (b *ClientBlobs) ReadPatch(ctx context.Context, quiltID redstuff.BlobID, patch quilt.InternalID) ([]byte, error) {
	r, err := b.Client.OpenQuilt(ctx, quiltID, client.ReadOptions{})
	if err != nil {
		return nil, err
	}
	_, p, err := r.ReadInternalID(patch)
	if err != nil {
		return nil, err
	}
	return p.Data, nil
}
