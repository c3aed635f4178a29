package cli

import (
	"os"
	"runtime/debug"
)

// processMemoryBase is what a long-running walrus process holds besides what its
// configured bounds count (store memory, read buffer, bodies): the runtime, the chain
// client, the explorer, connections and their buffers.
const processMemoryBase = 128 << 20

// applyMemoryLimit sets the soft memory limit of the Go runtime
// (runtime/debug.SetMemoryLimit) to limit bytes, unless limit is not positive or the
// GOMEMLIMIT environment variable is set (it wins, as it does for 'walrus node').
//
// The limit is the process's memory bound by design, the sum of the bounds of what it
// holds, so the runtime never needs more than it: under it the garbage collector lets
// the heap grow to twice the live memory (GOGC=100, unchanged) and keeps freed pages
// for reuse instead of returning them and faulting them in again; near it, it collects
// earlier instead of letting garbage double the footprint. It never refuses memory: a
// process that goes past it only collects more often.
func applyMemoryLimit(limit int64) {
	if limit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		setMemoryLimit(limit)
	}
}

// setMemoryLimit is debug.SetMemoryLimit. The package's tests replace it: a command they
// run in their own process would otherwise bound the whole test binary.
var setMemoryLimit = debug.SetMemoryLimit
