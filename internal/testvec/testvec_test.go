package testvec

import (
	"encoding/hex"
	"testing"
)

func TestSplitMix64(t *testing.T) {
	got := hex.EncodeToString(SplitMix64(0, 24))
	// The README gives the first outputs e220a8397b1dcdaf, 6e789e6aa1b965f4, 06c45d188009454f
	// as numbers; the stream stores them little-endian.
	want := "afcd1d7b39a820e2f465b9a16a9e786e4f450980185dc406"
	if got != want {
		t.Fatalf("SplitMix64(0) = %s, want %s", got, want)
	}
}
