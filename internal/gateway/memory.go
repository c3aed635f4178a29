package gateway

import (
	"context"
	"sync"

	"golang.org/x/sync/semaphore"
)

// Kept is implemented by a Blobs that keeps memory between requests (SDK: the sliver
// buffers a client.Client keeps for its next encodes, client.Client.KeptBytes). The
// Handler counts it in the memory it reports to Config.OnHeldMemory, again each time
// OnKeptChange's function is called.
type Kept interface {
	KeptBytes() int64
	OnKeptChange(f func())
}

// The parts of the memory a Handler holds by design.
const (
	heldStores = iota // StoreMemory of each running store, until its uploads have ended
	heldBodies        // the buffers of store bodies being read, until their store reserves its memory
	heldSpare         // the kept body buffer (spareBody)
	heldReads         // the read buffer reserved (Config.MaxReadBytes)
	heldParts
)

// heldMemory sums the memory a Handler holds by design and reports the sum to
// Config.OnHeldMemory each time it changes, in order. A nil *heldMemory, or one without a
// report function, accounts nothing. It is safe for concurrent use.
type heldMemory struct {
	report func(int64)
	kept   func() int64 // Blobs' kept memory, or nil

	mu    sync.Mutex
	parts [heldParts]int64 // guarded by mu
	last  int64            // guarded by mu; the sum last reported
}

// newHeldMemory returns the accounting of a Handler over blobs that reports to report
// (nil: none), and reports its first sum.
func newHeldMemory(report func(int64), blobs Blobs) *heldMemory {
	if report == nil {
		return nil
	}
	m := &heldMemory{report: report, last: -1}
	if k, ok := blobs.(Kept); ok {
		m.kept = k.KeptBytes
		k.OnKeptChange(func() { m.add(heldStores, 0) })
	}
	m.add(heldStores, 0)
	return m
}

// add adds delta bytes to part and reports the new sum if it changed.
func (m *heldMemory) add(part int, delta int64) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.parts[part] += delta
	sum := int64(0)
	for _, n := range m.parts {
		sum += n
	}
	if m.kept != nil {
		sum += m.kept()
	}
	if sum != m.last {
		m.last = sum
		m.report(sum)
	}
}

// readBudget is the read buffer (Config.MaxReadBytes): a semaphore whose reserved bytes
// count as held memory.
type readBudget struct {
	sem *semaphore.Weighted
	mem *heldMemory
}

// Acquire waits for n bytes, as semaphore.Weighted.Acquire.
func (b readBudget) Acquire(ctx context.Context, n int64) error {
	if err := b.sem.Acquire(ctx, n); err != nil {
		return err
	}
	b.mem.add(heldReads, n)
	return nil
}

// TryAcquire takes n bytes if they are free, as semaphore.Weighted.TryAcquire.
func (b readBudget) TryAcquire(n int64) bool {
	if !b.sem.TryAcquire(n) {
		return false
	}
	b.mem.add(heldReads, n)
	return true
}

// Release gives back n bytes.
func (b readBudget) Release(n int64) {
	b.mem.add(heldReads, -n)
	b.sem.Release(n)
}
