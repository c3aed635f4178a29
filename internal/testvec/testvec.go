// Package testvec locates the project's conformance vectors (the repository's testdata) and regenerates their
// deterministic inputs. It is used only by tests and benchmarks.
package testvec

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir returns the repository's testdata folder, which holds the conformance vectors
// (testdata/rs2, testdata/walrus-blobs; see their README files).
func Dir(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("testvec: cannot locate the source tree")
	}
	// file is <repo>/internal/testvec/testvec.go.
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
}

// Read returns the contents of a file below the repository's testdata folder. A missing
// vector file fails the test: vectors are part of the repository.
func Read(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(tb), rel))
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
