//go:build !unix

package store

import (
	"testing"
	"time"
)

// cpuTimes is not measured here: the CPU metrics of the benchmarks read 0.
func cpuTimes(*testing.B) (user, sys time.Duration) { return 0, 0 }
