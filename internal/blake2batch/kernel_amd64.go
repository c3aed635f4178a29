//go:build amd64 && !purego

package blake2batch

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// A job is what the assembly kernels read about one group of lanes: lane l
// hashes prefix ‖ D_l where D_l starts at src[l]. The layout is mirrored by
// the J_* offsets in the assembly files (TestJobLayout checks them).
type job struct {
	src    [8]unsafe.Pointer // start of D_l (AVX2 uses lanes 0 to 3)
	nfull  uint64            // blocks before the final one, read from src
	total  uint64            // message length: the counter of the final block
	carry  uint64            // prefix << 56 when there is a prefix, else 0
	shl    uint64            // 8 when there is a prefix, else 0
	shr    uint64            // 64 - shl
	maskLo uint64            // AVX-512: which of the final block's bytes 0 to 63 of D_l to load
	maskHi uint64            // AVX-512: which of its bytes 64 to 127 to load
	words  uint64            // AVX-512: how many of the final block's words hold message bytes
	// AVX2: the final block's bytes of D_l (as many as fit before the end
	// of D_l), zero-padded to 128 bytes.
	tail [4][blockSize]byte
}

// hash8AVX512 hashes the 8 lanes of j into out. It needs AVX512F, AVX512BW
// and AVX512VL.
//
//go:noescape
func hash8AVX512(out *[8][Size]byte, j *job)

// hash4AVX2 hashes lanes 0 to 3 of j into out. It needs AVX2.
//
//go:noescape
func hash4AVX2(out *[4][Size]byte, j *job)

// bestKernel returns the fastest kernel that this machine can run.
func bestKernel() kernel {
	switch {
	case hasAVX512():
		return kernelAVX512
	case hasAVX2():
		return kernelAVX2
	}
	return kernelGeneric
}

// hasAVX512 reports whether the CPU and the operating system support the
// instructions of hash8AVX512.
func hasAVX512() bool {
	return cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL
}

// hasAVX2 reports whether the CPU and the operating system support the
// instructions of hash4AVX2.
func hasAVX2() bool { return cpu.X86.HasAVX2 }

// available reports whether kernel k can run on this machine.
func available(k kernel) bool {
	switch k {
	case kernelGeneric:
		return true
	case kernelAVX2:
		return hasAVX2()
	case kernelAVX512:
		return hasAVX512()
	}
	return false
}

// newJob returns a job for the messages of b, with no lanes set.
func newJob(b *batch) job {
	total := b.p + b.size
	nfull := fullBlocks(total)
	j := job{
		nfull: uint64(nfull),
		total: uint64(total),
		shl:   uint64(8 * b.p),
		shr:   uint64(64 - 8*b.p),
	}
	if b.p == 1 {
		j.carry = uint64(b.prefix) << 56
	}
	// The final block holds the last r bytes of each D_l: 0 to 127 with a
	// prefix, 0 to 128 without.
	r := uint(b.size - nfull*blockSize)
	j.maskLo = lowBits(min(r, 64))
	j.maskHi = lowBits(r - min(r, 64))
	j.words = uint64(total-nfull*blockSize+7) / 8
	return j
}

// lowBits returns a word with its n lowest bits set, n <= 64.
func lowBits(n uint) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<n - 1
}

// sumSIMD computes dst[i] = H(prefix[:p] ‖ D_i) for the batch b with kernel
// k, which must not be kernelGeneric. A group with fewer messages than the
// kernel has lanes fills the other lanes with its first message and drops
// their digests.
func sumSIMD(k kernel, dst [][Size]byte, b *batch) {
	j := newJob(b)
	switch k {
	case kernelAVX512:
		for i := 0; i < len(dst); i += 8 {
			n := min(8, len(dst)-i)
			b.lanes(j.src[:8], i, n)
			if n == 8 {
				hash8AVX512((*[8][Size]byte)(dst[i:i+8]), &j)
				continue
			}
			var out [8][Size]byte
			hash8AVX512(&out, &j)
			copy(dst[i:], out[:n])
		}
	case kernelAVX2:
		// The final block's bytes are copied to j.tail: AVX2 has no
		// byte-masked loads to stop at the end of each message.
		tail := int(j.nfull) * blockSize
		r := b.size - tail
		for i := 0; i < len(dst); i += 4 {
			n := min(4, len(dst)-i)
			b.lanes(j.src[:4], i, n)
			if r > 0 {
				for l := range 4 {
					copy(j.tail[l][:], unsafe.Slice((*byte)(unsafe.Add(j.src[l], tail)), r))
				}
			}
			if n == 4 {
				hash4AVX2((*[4][Size]byte)(dst[i:i+4]), &j)
				continue
			}
			var out [4][Size]byte
			hash4AVX2(&out, &j)
			copy(dst[i:], out[:n])
		}
	default:
		panic("blake2batch: no such kernel: " + k.String())
	}
}

// lanes sets src[l] to the start of D_{i+l} for l < n and to the start of
// D_i for the other lanes.
func (b *batch) lanes(src []unsafe.Pointer, i, n int) {
	if b.msgs != nil {
		for l := range src {
			k := i
			if l < n {
				k += l
			}
			src[l] = unsafe.Pointer(unsafe.SliceData(b.msgs[k]))
		}
		return
	}
	base := unsafe.Pointer(unsafe.SliceData(b.data))
	for l := range src {
		k := i
		if l < n {
			k += l
		}
		src[l] = unsafe.Add(base, k*b.size)
	}
}
