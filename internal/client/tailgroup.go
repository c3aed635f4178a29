package client

import (
	"context"
	"sync"
)

// WithUploadGroup returns ctx carrying g: every upload that a Store, StoreFile or
// StoreQuilt under the returned context starts, its tail uploads after the answer
// included, is counted in g until it has ended, so that g.Wait after the call returns
// waits until nothing sends the store's slivers any more (and the caller may reuse or
// count as free the memory they are in). The counting starts before the call returns.
func WithUploadGroup(ctx context.Context, g *sync.WaitGroup) context.Context {
	return context.WithValue(ctx, uploadGroupKey{}, g)
}

type uploadGroupKey struct{}

// uploadGroup returns the group ctx carries, or a group nobody waits on.
func uploadGroup(ctx context.Context) *sync.WaitGroup {
	if g, ok := ctx.Value(uploadGroupKey{}).(*sync.WaitGroup); ok && g != nil {
		return g
	}
	return new(sync.WaitGroup)
}
