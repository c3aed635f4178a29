package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// provenLengthTries bounds the nodes asked for a blob's proven length before the caller
// falls back to the full metadata.
const provenLengthTries = 3

// provenLength returns blob id's unencoded length as the blob ID commits to it, from a
// node's partial metadata with no pairs (GET .../metadata/pairs?pairs=, our extension):
// the encoding type, length and pair-tree root, checked against the blob ID. It asks up
// to provenLengthTries members in random order. Nodes without the route (Walrus's) fail it,
// and the caller fetches the full metadata instead. A node whose answer does not verify is
// reported.
func (c *Client) provenLength(ctx context.Context, view *committeeView, id redstuff.BlobID) (uint64, error) {
	var errs []error
	tries := 0
	for _, i := range rand.Perm(len(view.members)) {
		mb := view.members[i]
		if mb.node == nil {
			continue
		}
		if tries == provenLengthTries {
			break
		}
		tries++
		pm, err := mb.node.PartialMetadata(ctx, id, []int{})
		if err == nil {
			if err = view.enc.VerifyPartialMetadata(pm, id); err != nil {
				c.badResponse(badMetadata, mb.info.Name, id, err)
			}
		}
		if err == nil {
			return pm.UnencodedLength, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		errs = append(errs, fmt.Errorf("node %s: %w", mb.info.Name, err))
	}
	if len(errs) == 0 {
		return 0, fmt.Errorf("client: blob %s: no node to ask for its length", id)
	}
	return 0, errors.Join(errs...)
}
