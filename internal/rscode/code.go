package rscode

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
)

// Errors returned by the codec. They are wrapped with details; compare with errors.Is.
var (
	ErrShardCount    = errors.New("rscode: unsupported shard counts")
	ErrSymbolSize    = errors.New("rscode: symbol size must be even and positive")
	ErrShardSize     = errors.New("rscode: shard size mismatch")
	ErrTooFewShards  = errors.New("rscode: not enough shards to decode")
	ErrShardsMissing = errors.New("rscode: missing shard buffers")
)

// workTarget is the size of the work buffer a call tiles its shards into, so that the
// transform's working set stays in the L2 cache.
const workTarget = 1 << 20

// minTileWidth is the narrowest planar shard width a tile uses, in bytes.
const minTileWidth = 512

// Code is the systematic Reed–Solomon code with a fixed number of original and recovery
// shards. It is immutable and safe for concurrent use.
type Code struct {
	k, m    int
	lowRate bool
	chunk   int // K for the low-rate code, M for the high-rate code

	pool sync.Pool // *[]byte work buffers
}

// New returns the code with originalCount original and recoveryCount recovery shards. Both
// must be at least 1, and the counts must fit the 2^16-point domain as reed-solomon-simd
// requires: next_pow2(originalCount) + recoveryCount <= 65536 for the low-rate code and
// next_pow2(recoveryCount) + originalCount <= 65536 for the high-rate code.
func New(originalCount, recoveryCount int) (*Code, error) {
	k, m := originalCount, recoveryCount
	if k < 1 || m < 1 || k >= fieldOrder || m >= fieldOrder {
		return nil, fmt.Errorf("%w: %d original, %d recovery", ErrShardCount, k, m)
	}
	K, M := nextPow2(k), nextPow2(m)
	c := &Code{k: k, m: m}
	if K < M {
		c.lowRate, c.chunk = true, K
		if K+m > fieldOrder {
			return nil, fmt.Errorf("%w: %d original, %d recovery", ErrShardCount, k, m)
		}
	} else {
		c.chunk = M
		if M+k > fieldOrder {
			return nil, fmt.Errorf("%w: %d original, %d recovery", ErrShardCount, k, m)
		}
	}
	return c, nil
}

// OriginalCount returns the number of original shards.
func (c *Code) OriginalCount() int { return c.k }

// RecoveryCount returns the number of recovery shards.
func (c *Code) RecoveryCount() int { return c.m }

// LowRate reports whether the code is the crate's low-rate code (next_pow2(k) <
// next_pow2(m)); otherwise it is the high-rate code.
func (c *Code) LowRate() bool { return c.lowRate }

func nextPow2(x int) int {
	if x <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(x-1))
}

func log2(x int) int { return bits.Len(uint(x)) - 1 }

// checkShards validates a symbol size and the lengths of the non-nil shards and returns the
// common shard length.
func checkShards(symbolSize int, shards ...[][]byte) (int, error) {
	if symbolSize <= 0 || symbolSize%2 != 0 {
		return 0, fmt.Errorf("%w: got %d", ErrSymbolSize, symbolSize)
	}
	size := -1
	for _, group := range shards {
		for _, s := range group {
			if s == nil {
				continue
			}
			if size < 0 {
				size = len(s)
			} else if len(s) != size {
				return 0, fmt.Errorf("%w: shards of %d and %d bytes", ErrShardSize, size, len(s))
			}
		}
	}
	if size <= 0 || size%symbolSize != 0 {
		return 0, fmt.Errorf("%w: shard of %d bytes is not a positive multiple of symbol size %d", ErrShardSize, size, symbolSize)
	}
	return size, nil
}

// tile describes how one part of the shards is cut into work-buffer tiles.
type tile struct {
	p     part
	units int // units in the whole part
	step  int // units per tile
}

// plan returns the tiles of every part for n work shards.
func plan(n, symbolSize, size int) ([2]tile, int) {
	var ts [2]tile
	ps, np := parts(symbolSize)
	for i, p := range ps[:np] {
		units := p.units(size)
		// Never narrower than minTileWidth: per-call overhead dominates below it.
		step := max(minTileWidth/64, workTarget/n/64)
		if p.tail {
			step *= 32 // elements: 32 per planar block
		}
		ts[i] = tile{p: p, units: units, step: min(step, units)}
	}
	return ts, np
}

// getWork returns a work buffer of n shards wide enough for every tile of ts.
func (c *Code) getWork(n int, ts []tile) (work, *[]byte) {
	width := 64
	for _, t := range ts {
		width = max(width, t.p.width(t.step))
	}
	need := n * width
	bp, _ := c.pool.Get().(*[]byte)
	if bp == nil || cap(*bp) < need {
		b := make([]byte, need)
		bp = &b
	}
	return work{buf: (*bp)[:need], width: width}, bp
}

// Encode computes the recovery shards of the given originals. originals holds k shards and
// recovery m shards, all of the same length, a positive multiple of symbolSize (which must be
// even). Shard i carries symbol i of len/symbolSize independent codewords. The recovery
// buffers are overwritten; originals are only read.
func (c *Code) Encode(symbolSize int, originals, recovery [][]byte) error {
	if len(originals) != c.k || len(recovery) != c.m {
		return fmt.Errorf("%w: got %d original and %d recovery shards, want %d and %d",
			ErrShardCount, len(originals), len(recovery), c.k, c.m)
	}
	for i, s := range originals {
		if s == nil {
			return fmt.Errorf("%w: original shard %d is nil", ErrShardsMissing, i)
		}
	}
	for i, s := range recovery {
		if s == nil {
			return fmt.Errorf("%w: recovery shard %d is nil", ErrShardsMissing, i)
		}
	}
	size, err := checkShards(symbolSize, originals, recovery)
	if err != nil {
		return err
	}
	tiles, nt := plan(2*c.chunk, symbolSize, size)
	ts := tiles[:nt]
	w, bp := c.getWork(2*c.chunk, ts)
	defer c.pool.Put(bp)
	for _, t := range ts {
		for u0 := 0; u0 < t.units; u0 += t.step {
			u1 := min(u0+t.step, t.units)
			w.width = t.p.width(u1 - u0)
			if c.lowRate {
				c.encodeLowTile(&w, t.p, u0, u1, originals, recovery)
			} else {
				c.encodeHighTile(&w, t.p, u0, u1, originals, recovery)
			}
		}
	}
	return nil
}

func (c *Code) encodeLowTile(w *work, p part, e0, e1 int, originals, recovery [][]byte) {
	K := c.chunk
	for i := 0; i < c.k; i++ {
		p.pack(w.shard(i), originals[i], e0, e1)
	}
	w.zero(c.k, K)
	w.ifft(0, K, c.k, 0)
	for first := 0; first < c.m; first += K {
		count := min(K, c.m-first)
		pos := 0
		if first+K < c.m {
			// More chunks follow: transform a copy and keep the coefficients.
			copy(w.buf[K*w.width:2*K*w.width], w.buf[:K*w.width])
			pos = K
		}
		w.fft(pos, K, count, K+first)
		for j := 0; j < count; j++ {
			p.unpack(recovery[first+j], w.shard(pos+j), e0, e1)
		}
	}
}

func (c *Code) encodeHighTile(w *work, p part, e0, e1 int, originals, recovery [][]byte) {
	M := c.chunk
	for first := 0; first < c.k; first += M {
		count := min(M, c.k-first)
		pos := 0
		if first > 0 {
			pos = M
		}
		for i := 0; i < count; i++ {
			p.pack(w.shard(pos+i), originals[first+i], e0, e1)
		}
		w.zero(pos+count, pos+M)
		w.ifft(pos, M, count, M+first)
		if pos != 0 {
			xorShard(w.buf[:M*w.width], w.buf[M*w.width:2*M*w.width])
		}
	}
	w.fft(0, M, c.m, 0)
	for j := 0; j < c.m; j++ {
		p.unpack(recovery[j], w.shard(j), e0, e1)
	}
}

// Reconstruct restores missing original shards. shards holds k+m entries, originals first;
// a nil entry is missing. At least k entries must be present (any mix of originals and
// recovery). Missing originals are allocated and filled; recovery entries are not touched.
func (c *Code) Reconstruct(symbolSize int, shards [][]byte) error {
	return c.reconstruct(symbolSize, shards, false)
}

// ReconstructAll restores every missing shard, originals and recovery alike.
func (c *Code) ReconstructAll(symbolSize int, shards [][]byte) error {
	return c.reconstruct(symbolSize, shards, true)
}

func (c *Code) reconstruct(symbolSize int, shards [][]byte, all bool) error {
	if len(shards) != c.k+c.m {
		return fmt.Errorf("%w: got %d shards, want %d", ErrShardCount, len(shards), c.k+c.m)
	}
	present := 0
	var missingOrig []int
	for i, s := range shards {
		if s != nil {
			present++
		} else if i < c.k {
			missingOrig = append(missingOrig, i)
		}
	}
	if present < c.k {
		return fmt.Errorf("%w: have %d, need %d", ErrTooFewShards, present, c.k)
	}
	size, err := checkShards(symbolSize, shards)
	if err != nil {
		return err
	}
	if len(missingOrig) > 0 {
		c.decode(symbolSize, size, shards, missingOrig)
	}
	if !all {
		return nil
	}
	var missingRec []int
	for j := 0; j < c.m; j++ {
		if shards[c.k+j] == nil {
			missingRec = append(missingRec, j)
		}
	}
	if len(missingRec) == 0 {
		return nil
	}
	rec := make([][]byte, c.m)
	for j := range rec {
		rec[j] = make([]byte, size) // Encode overwrites every output, so all get space
	}
	if err := c.Encode(symbolSize, shards[:c.k], rec); err != nil {
		return err
	}
	for _, j := range missingRec {
		shards[c.k+j] = rec[j]
	}
	return nil
}

// decode allocates and fills the missing originals from the present shards. It treats the
// codeword as the evaluations on the first N domain points of a polynomial P of degree < D:
// for the low-rate code originals sit at positions 0..k-1, zeros at k..K-1 and recovery at
// K..K+m-1, with D = K; for the high-rate code recovery sits at 0..m-1 (m..M-1 unknown),
// originals at M..M+k-1 and zeros up to N, with D = N-M. Every other position is erased.
// With e the erasure locator, Q = e·P has degree < N and is known at every point (zero
// where erased); at an erased point P = Q'/e' because e vanishes there. There are at least
// D known points, so deg e <= N-D and the interpolation of Q over N points is exact.
func (c *Code) decode(s, size int, shards [][]byte, missingOrig []int) {
	var N, origPos, recPos, zeroFrom, zeroTo int
	if c.lowRate {
		K := c.chunk
		N = nextPow2(K + c.m)
		origPos, recPos, zeroFrom, zeroTo = 0, K, c.k, K
	} else {
		M := c.chunk
		N = nextPow2(M + c.k)
		origPos, recPos, zeroFrom, zeroTo = M, 0, M+c.k, N
	}
	a := log2(N)
	// For each position: the shard it comes from, or -1 for a known zero or an erasure.
	src := make([]int, N)
	erased := make([]uint16, N)
	for i := range src {
		src[i] = -1
		erased[i] = 1
	}
	for i := zeroFrom; i < zeroTo; i++ {
		erased[i] = 0
	}
	for i := 0; i < c.k; i++ {
		if shards[i] != nil {
			src[origPos+i], erased[origPos+i] = i, 0
		}
	}
	for j := 0; j < c.m; j++ {
		if shards[c.k+j] != nil {
			src[recPos+j], erased[recPos+j] = c.k+j, 0
		}
	}
	logs := make([]uint16, N)
	erasureLogs(logs, erased, a)

	lastOut := origPos + missingOrig[len(missingOrig)-1] + 1
	lastIn := 0
	for p, i := range src {
		if i >= 0 {
			lastIn = p + 1
		}
	}
	for _, i := range missingOrig {
		shards[i] = make([]byte, size)
	}

	tiles, nt := plan(N, s, size)
	ts := tiles[:nt]
	w, bp := c.getWork(N, ts)
	defer c.pool.Put(bp)
	for _, t := range ts {
		for u0 := 0; u0 < t.units; u0 += t.step {
			u1 := min(u0+t.step, t.units)
			w.width = t.p.width(u1 - u0)
			for p := 0; p < N; p++ {
				if i := src[p]; i >= 0 {
					x := w.shard(p)
					t.p.pack(x, shards[i], u0, u1)
					mulShard(x, logs[p])
				} else {
					clear(w.shard(p))
				}
			}
			w.ifft(0, N, lastIn, 0)
			w.formalDerivative(N)
			w.fft(0, N, lastOut, 0)
			for _, i := range missingOrig {
				p := origPos + i
				x := w.shard(p)
				mulShard(x, (modulus-logs[p])%modulus)
				t.p.unpack(shards[i], x, u0, u1)
			}
		}
	}
}
