package cli

import (
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/gateway"
	"github.com/walrus-go/walrus/internal/testvec"
)

// The devnet's publisher has room for one store of its largest blob and its aggregator
// for one read of it.
func TestDevnetMemory(t *testing.T) {
	const maxBody = 100 << 20
	b := devnetMemory(maxBody)
	if b.storeMiB<<20 < gateway.StoreMemory(maxBody) || b.readMiB<<20 < maxBody {
		t.Fatalf("bounds %+v do not hold one store and one read of %d bytes", b, maxBody)
	}
}

// The default limit follows what the gateway holds, on top of the base; it is never
// below the live heap plus half the base, and a collection applies that again; GOMEMLIMIT
// wins; once stopped, the limiter sets nothing.
func TestMemoryLimiter(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "1GiB")
	if l := newMemoryLimiter(processMemoryBase); l != nil {
		l.stop()
		t.Fatal("a limiter started with GOMEMLIMIT set")
	}
	t.Setenv("GOMEMLIMIT", "")
	const big = 1 << 40 // far above the test binary's heap
	l := newMemoryLimiter(big)
	last := func() int64 {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.last
	}
	if got := last(); got != big {
		t.Fatalf("first limit %d, want the base %d", got, big)
	}
	l.setHeld(300 << 20)
	if got := last(); got != big+300<<20 {
		t.Fatalf("limit %d with 300 MiB held, want the base plus it", got)
	}
	l.stop()

	// A small base: the live heap sets the floor, after every collection.
	l = newMemoryLimiter(2 << 20)
	defer l.stop()
	l.setHeld(1 << 20)
	retained := make([]byte, 64<<20)
	for i := range retained {
		retained[i] = byte(i)
	}
	testvec.WaitFor(t, time.Minute, "a collection to raise the limit over the live heap", func() (bool, error) {
		runtime.GC()
		return last() >= 64<<20+1<<20, nil
	})
	runtime.KeepAlive(retained)
	l.stop()
	before := last()
	l.setHeld(1 << 30)
	if got := last(); got != before {
		t.Fatalf("a stopped limiter set %d", got)
	}
}

// limitsSet records the memory limits commands run by the tests set, instead of setting
// them on the test binary.
var limitsSet struct {
	sync.Mutex
	all []int64
}

func init() {
	setMemoryLimit = func(limit int64) int64 {
		limitsSet.Lock()
		defer limitsSet.Unlock()
		limitsSet.all = append(limitsSet.all, limit)
		return 0
	}
}

func TestApplyMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	applyMemoryLimit(0)
	applyMemoryLimit(-5)
	applyMemoryLimit(301 << 20)
	t.Setenv("GOMEMLIMIT", "1GiB") // the environment wins
	applyMemoryLimit(401 << 20)
	limitsSet.Lock()
	defer limitsSet.Unlock()
	if !slices.Contains(limitsSet.all, 301<<20) || slices.Contains(limitsSet.all, 401<<20) || slices.ContainsFunc(limitsSet.all, func(l int64) bool { return l <= 0 }) {
		t.Fatalf("limits set: %v, want 301 MiB and not 401 MiB, none non-positive", limitsSet.all)
	}
}
