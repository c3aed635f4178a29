package rscode

import "crypto/subtle"

// The arithmetic kernels work on planar shards: byte slices whose length is a multiple of
// 64, each 64-byte block holding the low bytes of 32 elements followed by their high bytes.
// They are the only code that touches element bytes during a transform, so a SIMD
// implementation replaces these functions and nothing else.

// xorShard sets x ^= y.
func xorShard(x, y []byte) {
	subtle.XORBytes(x, x, y)
}

// mulTable holds the products of a fixed constant with every low byte and every high byte.
type mulTable struct {
	lo, hi [256]uint16
}

// fill sets t to the tables of the constant whose logarithm is logM. Multiplication by a
// constant is GF(2)-linear, so each table is built from 8 products by XOR.
func (t *mulTable) fill(logM uint16) {
	f := field()
	t.lo[0], t.hi[0] = 0, 0
	for b := 0; b < 8; b++ {
		pl := f.mulLog(uint16(1)<<b, logM)
		ph := f.mulLog(uint16(1)<<(b+8), logM)
		base := 1 << b
		for v := 0; v < base; v++ {
			t.lo[base+v] = t.lo[v] ^ pl
			t.hi[base+v] = t.hi[v] ^ ph
		}
	}
}

// The kernels in use. They are chosen once at start-up from the CPU's features (see
// kernels_amd64.go); tests switch them with useKernels to run every path.
var (
	mulAddShard   = mulAddGeneric
	mulShard      = mulGeneric
	fftButterfly  = fftGeneric
	ifftButterfly = ifftGeneric
	fft4          func(x0, x1, x2, x3 []byte, t02, t01, t23 uint16)
	ifft4         func(x0, x1, x2, x3 []byte, t02, t01, t23 uint16)
	kernelName    = "generic"
	layers        *layerKernels // nil: the transforms call the butterflies block by block
)

// layerKernels apply a whole layer (radix 2) or pair of layers (radix 4) of butterflies to
// count consecutive blocks in one call. Block i is made of four (two) spans of n bytes
// starting at byte i·4n (i·2n for radix 2). Its twiddles are t01 = skew[p], t02 = skew[p+q]
// and t23 = skew[p+2q] with p = skewPos + i·4q for radix 4, and skew[skewPos + i·stride] for
// radix 2. The runs with src and dst read src and write dst, which may be the same buffer.
//
// The gather and scatter forms are the q = 1 radix-4 (and the radix-2) layers with shard j
// of the blocks read from src[j] (gather) or written to dst[j] (scatter), n bytes each: the
// first IFFT layers read the caller's shards and the last FFT layers write them directly.
// With sum set, ifft4Gather adds up the coefficients of all its blocks (polynomials of size 4
// interpolated on consecutive blocks of points) in the first block of dst; with reuse set,
// fft4Scatter reads
// the first block of src for every block (one polynomial of size 4 evaluated at count
// consecutive blocks of points).
//
// The n bytes behind each gather or scatter pointer are runs of run 64-byte blocks with gap
// bytes skipped after each run (run = n/64, gap = 0: one contiguous span), so that the
// kernels read and write the full blocks of consecutive symbols in the caller's shards,
// stepping over each symbol's tail.
type layerKernels struct {
	fft4, ifft4 func(dst, src []byte, n, count, skewPos, q int)
	fft2        func(dst, src []byte, n, count, skewPos, stride int)
	ifft2       func(x []byte, n, count, skewPos, stride int)
	ifft4Gather func(dst []byte, n, count int, src []*byte, skewPos, run, gap int, sum bool)
	fft4Scatter func(src []byte, n, count int, dst []*byte, skewPos, run, gap int, reuse bool)
	fft2Scatter func(src []byte, n, count int, dst []*byte, skewPos, run, gap int)
}

// checkRuns panics unless the n bytes behind a gather or scatter pointer can be runs of run
// 64-byte blocks (see layerKernels): a programming error, never input-dependent.
func checkRuns(n, run, gap int) {
	if run <= 0 || n%64 != 0 || (n/64)%run != 0 || gap < 0 {
		panic("rscode: gather or scatter runs do not tile the span")
	}
}

// radix2As4 builds the two-layer butterflies of a kernel set from its one-layer ones. The
// FFT does layer 2d on (x0,x2),(x1,x3) with t02, then layer d on (x0,x1) with t01 and
// (x2,x3) with t23; the IFFT does the reverse.
func radix2As4(k kernelSet) (fft, ifft func(x0, x1, x2, x3 []byte, t02, t01, t23 uint16)) {
	fft = func(x0, x1, x2, x3 []byte, t02, t01, t23 uint16) {
		k.fft(x0, x2, t02)
		k.fft(x1, x3, t02)
		k.fft(x0, x1, t01)
		k.fft(x2, x3, t23)
	}
	ifft = func(x0, x1, x2, x3 []byte, t02, t01, t23 uint16) {
		k.ifft(x0, x1, t01)
		k.ifft(x2, x3, t23)
		k.ifft(x0, x2, t02)
		k.ifft(x1, x3, t02)
	}
	return fft, ifft
}

// mulAddGeneric sets x ^= y · exp(logM).
func mulAddGeneric(x, y []byte, logM uint16) {
	var t mulTable
	t.fill(logM)
	for off := 0; off+64 <= len(x); off += 64 {
		xb := x[off : off+64 : off+64]
		yb := y[off : off+64 : off+64]
		for i := 0; i < 32; i++ {
			p := t.lo[yb[i]] ^ t.hi[yb[i+32]]
			xb[i] ^= byte(p)
			xb[i+32] ^= byte(p >> 8)
		}
	}
}

// mulGeneric sets x = x · exp(logM).
func mulGeneric(x []byte, logM uint16) {
	var t mulTable
	t.fill(logM)
	for off := 0; off+64 <= len(x); off += 64 {
		xb := x[off : off+64 : off+64]
		for i := 0; i < 32; i++ {
			p := t.lo[xb[i]] ^ t.hi[xb[i+32]]
			xb[i] = byte(p)
			xb[i+32] = byte(p >> 8)
		}
	}
}

// fftGeneric sets x ^= y · exp(logM), then y ^= x. A logM of modulus means a zero factor.
func fftGeneric(x, y []byte, logM uint16) {
	if logM != modulus {
		mulAddGeneric(x, y, logM)
	}
	xorShard(y, x)
}

// ifftGeneric sets y ^= x, then x ^= y · exp(logM). A logM of modulus means a zero factor.
func ifftGeneric(x, y []byte, logM uint16) {
	xorShard(y, x)
	if logM != modulus {
		mulAddGeneric(x, y, logM)
	}
}

// kernelSet is one implementation of the arithmetic kernels.
type kernelSet struct {
	name              string
	mulAdd, fft, ifft func(x, y []byte, logM uint16)
	mul               func(x []byte, logM uint16)
	fft4, ifft4       func(x0, x1, x2, x3 []byte, t02, t01, t23 uint16)
	layers            *layerKernels
}

var genericKernels = kernelSet{name: "generic", mulAdd: mulAddGeneric, fft: fftGeneric, ifft: ifftGeneric, mul: mulGeneric}

func init() { genericKernels.fft4, genericKernels.ifft4 = radix2As4(genericKernels) }

// useKernels installs a kernel set. It is not safe to call while codes are in use; only
// start-up code and tests call it.
func useKernels(k kernelSet) {
	mulAddShard, fftButterfly, ifftButterfly, mulShard, kernelName = k.mulAdd, k.fft, k.ifft, k.mul, k.name
	fft4, ifft4 = k.fft4, k.ifft4
	layers = k.layers
}

// Kernels returns the name of the arithmetic kernels in use: "gfni" (AVX-512 with GFNI),
// "avx2" or "generic" (pure Go).
func Kernels() string { return kernelName }
