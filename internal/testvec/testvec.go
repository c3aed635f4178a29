// Package testvec locates the project's shared conformance vectors and regenerates their
// deterministic inputs. It is used only by tests and benchmarks.
package testvec

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// SharedDir returns the shared/ folder that sits beside the repository (../shared from the
// repository root), or skips the test with a clear message when it is absent.
func SharedDir(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Skip("testvec: cannot locate the source tree; skipping conformance vectors")
	}
	// file is <repo>/internal/testvec/testvec.go.
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		tb.Skipf("testvec: shared folder %s is absent; skipping conformance vectors", dir)
	}
	return dir
}

// Read returns the contents of a file below the shared folder, skipping the test if the
// folder is absent and failing it if the file cannot be read.
func Read(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(SharedDir(tb), rel))
	if err != nil {
		tb.Fatalf("testvec: %v", err)
	}
	return b
}

// SplitMix64 returns n bytes of the splitmix64 stream from seed, written as little-endian
// 64-bit words: the input rule of every vector file.
func SplitMix64(seed uint64, n int) []byte {
	out := make([]byte, (n+7)/8*8)
	state := seed
	for i := 0; i < len(out); i += 8 {
		state += 0x9E3779B97F4A7C15
		z := state
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
		z = (z ^ (z >> 27)) * 0x94D049BB133111EB
		binary.LittleEndian.PutUint64(out[i:], z^(z>>31))
	}
	return out[:n]
}
