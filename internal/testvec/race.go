//go:build race

package testvec

// Race reports whether the race detector is on. Tests use it to leave the slowest
// conformance cases to the non-race vector run of `make check`.
const Race = true
