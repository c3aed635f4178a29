package cli

import (
	"slices"
	"sync"
	"testing"

	"github.com/walrus-go/walrus/internal/gateway"
)

// The devnet's default limit has room for a store and a read of its largest blob, one
// more body and the base; --memory-limit overrides it and a negative one sets none.
func TestDevnetMemory(t *testing.T) {
	const maxBody = 100 << 20
	b := devnetMemory(maxBody, 0)
	if b.storeMiB<<20 < gateway.StoreMemory(maxBody) || b.readMiB<<20 < maxBody {
		t.Fatalf("bounds %+v do not hold one store and one read of %d bytes", b, maxBody)
	}
	if want := processMemoryBase + (b.storeMiB+b.readMiB)<<20 + maxBody; b.limit != want {
		t.Fatalf("default limit %d, want %d", b.limit, want)
	}
	if got := devnetMemory(maxBody, 300).limit; got != 300<<20 {
		t.Fatalf("--memory-limit 300: limit %d", got)
	}
	if got := devnetMemory(maxBody, -1).limit; got != 0 {
		t.Fatalf("--memory-limit -1: limit %d, want none", got)
	}
}

func TestDaemonMemoryLimit(t *testing.T) {
	f := daemonFlags{storeMemoryMiB: 1024, readBufferMiB: 256}
	if got, want := daemonMemoryLimit(f, true, false), int64(processMemoryBase+1024<<20+gateway.DefaultMaxBodyBuffer); got != want {
		t.Errorf("publisher: %d, want %d", got, want)
	}
	if got, want := daemonMemoryLimit(f, false, true), int64(processMemoryBase+256<<20); got != want {
		t.Errorf("aggregator: %d, want %d", got, want)
	}
	f.readBufferMiB = 0
	if got, want := daemonMemoryLimit(f, false, true), int64(processMemoryBase+gateway.DefaultMaxReadBytes); got != want {
		t.Errorf("aggregator with the default read buffer: %d, want %d", got, want)
	}
	f.memoryLimitMiB = 700
	if got := daemonMemoryLimit(f, true, true); got != 700<<20 {
		t.Errorf("--memory-limit 700: %d", got)
	}
	f.memoryLimitMiB = -1
	if got := daemonMemoryLimit(f, true, true); got != 0 {
		t.Errorf("--memory-limit -1: %d, want none", got)
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
