package cli

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// processMemoryBase is what a long-running walrus process holds besides what its
// gateway accounts (stores, bodies, kept buffers, reads: gateway.Config.OnHeldMemory):
// the runtime, the chain client (and a devnet's validator), the explorer, connections
// and their buffers, and the garbage the collector lets pile up before it runs.
const processMemoryBase = 128 << 20

// applyMemoryLimit sets the soft memory limit of the Go runtime
// (runtime/debug.SetMemoryLimit) to limit bytes, unless limit is not positive or the
// GOMEMLIMIT environment variable is set (it wins, as it does for 'walrus node').
//
// Under the limit the garbage collector lets the heap grow to twice the live memory
// (GOGC=100, unchanged) and keeps freed pages for reuse instead of returning them and
// faulting them in again; near it, it collects earlier instead of letting garbage double
// the footprint. It never refuses memory: a process that goes past it only collects
// more often.
func applyMemoryLimit(limit int64) {
	if limit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		setMemoryLimit(limit)
	}
}

// setMemoryLimit is debug.SetMemoryLimit. The package's tests replace it: a command they
// run in their own process would otherwise bound the whole test binary.
var setMemoryLimit = debug.SetMemoryLimit

// memoryLimiter keeps a daemon's soft memory limit at base plus the memory its gateway
// holds by design (held, from gateway.Config.OnHeldMemory: the stores running, the bodies
// being read, the body and sliver buffers kept for the next store, the reads' windows),
// so that the collector runs once garbage reaches about base, not once the heap has
// doubled over buffers that are kept on purpose; and a 100 MiB store still gets the room
// it holds. The limit is never below the heap the last collection found live plus
// base/2, so that memory the gateway does not account (a devnet's S3 gateway, its chain)
// makes the collector run every base/2 of allocation rather than all the time; it is
// recomputed after every collection for that.
type memoryLimiter struct {
	base int64

	mu      sync.Mutex
	held    int64 // guarded by mu
	last    int64 // guarded by mu; the limit last set
	stopped bool  // guarded by mu
}

// newMemoryLimiter starts a memoryLimiter with base, or returns nil if GOMEMLIMIT is
// set (it wins). stop ends it.
func newMemoryLimiter(base int64) *memoryLimiter {
	if os.Getenv("GOMEMLIMIT") != "" {
		return nil
	}
	l := &memoryLimiter{base: base}
	l.mu.Lock()
	l.apply()
	l.mu.Unlock()
	l.armGC()
	return l
}

// setHeld records what the gateway holds (gateway.Config.OnHeldMemory) and sets the
// limit from it.
func (l *memoryLimiter) setHeld(n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held = n
	l.apply()
}

// apply sets the limit; l.mu is held.
func (l *memoryLimiter) apply() {
	if l.stopped {
		return
	}
	limit := max(l.base+l.held, liveHeap()+l.base/2)
	if limit != l.last {
		l.last = limit
		setMemoryLimit(limit)
	}
}

// armGC makes the next collection apply the limit again (and arm itself once more).
func (l *memoryLimiter) armGC() {
	runtime.AddCleanup(new([64]byte), func(l *memoryLimiter) {
		l.mu.Lock()
		stopped := l.stopped
		l.apply()
		l.mu.Unlock()
		if !stopped {
			l.armGC()
		}
	}, l)
}

// stop ends the limiter: the limit stays as last set.
func (l *memoryLimiter) stop() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}

// liveHeap returns the heap the last collection found live, in bytes (0 before the
// first).
func liveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}
