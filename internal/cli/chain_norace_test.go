//go:build !race

package cli

// raceEnabled reports whether the race detector is on; binaries built by tests match it.
const raceEnabled = false
