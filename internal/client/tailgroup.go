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
// Groups nest: an upload counts in every group its context carries.
func WithUploadGroup(ctx context.Context, g *sync.WaitGroup) context.Context {
	if g == nil {
		return ctx
	}
	return withUploadCounter(ctx, g)
}

// uploadCounter counts uploads in flight: a *sync.WaitGroup, or a store's hold on its
// encoding (encodingHold).
type uploadCounter interface {
	Add(delta int)
	Done()
}

type uploadGroupKey struct{}

// uploadGroups are the counters an upload counts in.
type uploadGroups []uploadCounter

// Add adds delta to every counter.
func (g uploadGroups) Add(delta int) {
	for _, c := range g {
		c.Add(delta)
	}
}

// Done counts one upload of every counter as ended, the innermost (last added) first: a
// store's hold on its encoding ends, and recycles the encoding, before a caller's group
// around the store (WithUploadGroup) sees the upload end, so that a caller woken by its
// group finds the encoding's buffers already kept by the Client (KeptBytes).
func (g uploadGroups) Done() {
	for i := len(g) - 1; i >= 0; i-- {
		g[i].Done()
	}
}

// withUploadCounter returns ctx whose uploads also count in u.
func withUploadCounter(ctx context.Context, u uploadCounter) context.Context {
	prev := uploadGroup(ctx)
	return context.WithValue(ctx, uploadGroupKey{}, append(prev[:len(prev):len(prev)], u))
}

// uploadGroup returns the counters ctx carries (none: counting is a no-op).
func uploadGroup(ctx context.Context) uploadGroups {
	g, _ := ctx.Value(uploadGroupKey{}).(uploadGroups)
	return g
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
