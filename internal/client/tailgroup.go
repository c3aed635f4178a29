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

// tailCounter counts a Client's tail uploads in flight. Unlike a sync.WaitGroup, it may be
// waited on while other stores start new tails: a WaitGroup forbids an Add from zero
// concurrent with a Wait, which is what one Client shared by concurrent stores does (one
// store's WaitTail while another's tail starts).
type tailCounter struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n drops to 0; nil while n is 0
}

func (t *tailCounter) add() {
	t.mu.Lock()
	if t.n == 0 {
		t.zero = make(chan struct{})
	}
	t.n++
	t.mu.Unlock()
}

func (t *tailCounter) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		panic("client: tail counter below zero")
	}
	t.n--
	if t.n == 0 {
		close(t.zero)
		t.zero = nil
	}
}

// wait returns once no tail is in flight: at once if none is, otherwise when the count
// next drops to zero (tails started meanwhile included).
func (t *tailCounter) wait() {
	t.mu.Lock()
	ch := t.zero
	t.mu.Unlock()
	if ch != nil {
		<-ch
	}
}
