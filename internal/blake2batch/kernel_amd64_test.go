//go:build amd64 && !purego

package blake2batch

import (
	"testing"
	"unsafe"
)

// TestJobLayout checks the field offsets of job against the J_* constants
// of the assembly files.
func TestJobLayout(t *testing.T) {
	var j job
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"src", unsafe.Offsetof(j.src), 0},
		{"nfull", unsafe.Offsetof(j.nfull), 64},
		{"total", unsafe.Offsetof(j.total), 72},
		{"carry", unsafe.Offsetof(j.carry), 80},
		{"shl", unsafe.Offsetof(j.shl), 88},
		{"shr", unsafe.Offsetof(j.shr), 96},
		{"maskLo", unsafe.Offsetof(j.maskLo), 104},
		{"maskHi", unsafe.Offsetof(j.maskHi), 112},
		{"words", unsafe.Offsetof(j.words), 120},
		{"tail", unsafe.Offsetof(j.tail), 128},
	} {
		if f.got != f.want {
			t.Errorf("offset of job.%s = %d, the assembly uses %d", f.name, f.got, f.want)
		}
	}
}

// TestNewJob checks the per-batch parameters for lengths around block
// boundaries.
func TestNewJob(t *testing.T) {
	for _, tc := range []struct {
		p, size             int
		nfull, total, words uint64
		maskLo, maskHi      uint64
	}{
		{0, 0, 0, 0, 0, 0, 0},
		{1, 0, 0, 1, 1, 0, 0},
		{1, 2, 0, 3, 1, 0b11, 0},
		{1, 64, 0, 65, 9, ^uint64(0), 0},
		{1, 65, 0, 66, 9, ^uint64(0), 1},
		{1, 127, 0, 128, 16, ^uint64(0), 1<<63 - 1},
		{1, 128, 1, 129, 1, 0, 0},
		{0, 128, 0, 128, 16, ^uint64(0), ^uint64(0)},
		{0, 129, 1, 129, 1, 1, 0},
		{1, 302, 2, 303, 6, 1<<46 - 1, 0},
	} {
		j := newJob(&batch{p: tc.p, size: tc.size})
		if j.nfull != tc.nfull || j.total != tc.total || j.words != tc.words || j.maskLo != tc.maskLo || j.maskHi != tc.maskHi {
			t.Errorf("p %d, size %d: nfull %d total %d words %d masks %#x %#x, want %d %d %d %#x %#x",
				tc.p, tc.size, j.nfull, j.total, j.words, j.maskLo, j.maskHi,
				tc.nfull, tc.total, tc.words, tc.maskLo, tc.maskHi)
		}
	}
}
