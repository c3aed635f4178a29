//go:build !race

package chain

// raceEnabled reports whether the race detector is on; long randomized tests run shorter.
const raceEnabled = false
