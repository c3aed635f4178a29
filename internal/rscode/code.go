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
	step    int // encode tile width in 64-byte blocks (see plan)

	pool sync.Pool // *workBuf
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
	c.step = max(minTileWidth/64, workTarget/(2*c.chunk)/64)
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

// checkEncodeShards is checkShards for Encode, where no shard may be nil, in one pass.
func checkEncodeShards(symbolSize int, originals, recovery [][]byte) (int, error) {
	if symbolSize <= 0 || symbolSize%2 != 0 {
		return 0, fmt.Errorf("%w: got %d", ErrSymbolSize, symbolSize)
	}
	size := len(originals[0])
	same := true
	for i, s := range originals {
		if s == nil {
			return 0, fmt.Errorf("%w: original shard %d is nil", ErrShardsMissing, i)
		}
		same = same && len(s) == size
	}
	for i, s := range recovery {
		if s == nil {
			return 0, fmt.Errorf("%w: recovery shard %d is nil", ErrShardsMissing, i)
		}
		same = same && len(s) == size
	}
	if !same || size == 0 || size%symbolSize != 0 {
		return checkShards(symbolSize, originals, recovery) // the detailed error
	}
	return size, nil
}

// tile describes how one part of the shards is cut into work-buffer tiles.
type tile struct {
	p     part
	units int // units in the whole part
	step  int // units per tile
}

// plan returns the tiles of the shards' part (see parts) for n work shards.
func plan(n, symbolSize, size int) ([2]tile, int) {
	var ts [2]tile
	ps, np := parts(symbolSize)
	for i, p := range ps[:np] {
		units := p.units(size)
		// Never narrower than minTileWidth: per-call overhead dominates below it.
		step := max(minTileWidth/64, workTarget/n/64)
		if p.tail {
			step *= 32 // elements: 32 per planar block
		} else if p.mixed {
			step = max(1, step*64/p.symbolSize) // whole symbols
		}
		ts[i] = tile{p: p, units: units, step: min(step, units)}
	}
	return ts, np
}

// workBuf is a pooled work buffer and the shard pointers of the gather and scatter layers.
// zeros and junk stand in for padding shards when the gather and scatter pointers step over
// symbol tails (see encodeRuns): zeros is read as zero inputs and never written, junk takes
// the outputs past the recovery shards and is never read.
type workBuf struct {
	buf         []byte
	ptrs        []*byte
	zeros, junk []byte
}

// runBufs returns wb's zero and junk buffers with at least span bytes each.
func (wb *workBuf) runBufs(span int) ([]byte, []byte) {
	if len(wb.zeros) < span {
		wb.zeros = make([]byte, span)
		wb.junk = make([]byte, span)
	}
	return wb.zeros, wb.junk
}

// getWork returns a work buffer of n shards wide enough for every tile of ts, with np
// pointers. Give it back with putWork.
func (c *Code) getWork(n, np int, ts []tile) (work, *workBuf) {
	width := 64
	for _, t := range ts {
		width = max(width, t.p.width(t.step))
	}
	need := n * width
	wb, _ := c.pool.Get().(*workBuf)
	if wb == nil {
		wb = &workBuf{}
	}
	if cap(wb.buf) < need {
		wb.buf = make([]byte, need)
	}
	if cap(wb.ptrs) < np {
		wb.ptrs = make([]*byte, np)
	}
	return work{buf: wb.buf[:need], width: width, ptrs: wb.ptrs[:np]}, wb
}

// putWork returns a work buffer to the pool, dropping its pointers to caller memory.
func (c *Code) putWork(wb *workBuf) {
	clear(wb.ptrs[:cap(wb.ptrs)])
	c.pool.Put(wb)
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
	size, err := checkEncodeShards(symbolSize, originals, recovery)
	if err != nil {
		return err
	}
	fused := layers != nil && c.chunk >= 4
	if fused && symbolSize > 64 && symbolSize%64 != 0 {
		c.encodeRuns(symbolSize, size, originals, recovery)
		return nil
	}
	var tiles [2]tile
	var ts []tile
	if symbolSize%64 == 0 {
		// One part, the shards themselves: skip the general planning.
		units := size / 64
		tiles[0] = tile{p: part{symbolSize: symbolSize}, units: units,
			step: min(units, c.step)}
		ts = tiles[:1]
	} else {
		var nt int
		tiles, nt = plan(2*c.chunk, symbolSize, size)
		ts = tiles[:nt]
	}
	w, wb := c.getWork(2*c.chunk, c.ptrCount(), ts)
	defer c.putWork(wb)
	for _, t := range ts {
		for u0 := 0; u0 < t.units; u0 += t.step {
			u1 := min(u0+t.step, t.units)
			w.width = t.p.width(u1 - u0)
			if fused {
				at := -1
				if t.p.contiguous() {
					at = u0 * 64
				}
				c.encodeFused(&w, t.p, u0, u1, originals, recovery, at)
			} else if c.lowRate {
				c.encodeLowTile(&w, t.p, u0, u1, originals, recovery)
			} else {
				c.encodeHighTile(&w, t.p, u0, u1, originals, recovery)
			}
		}
	}
	return nil
}

// ptrCount is the number of gather and scatter pointers an encode needs.
func (c *Code) ptrCount() int { return max(2*c.chunk, c.m+3, c.k+3) }

// encodeFused runs the encode of one tile on the layer kernels: units [e0, e1) of part p,
// packed into the work buffer, or with at >= 0 read and written in place at byte at of
// every shard, laid out as w.runs says.
func (c *Code) encodeFused(w *work, p part, e0, e1 int, originals, recovery [][]byte, at int) {
	if c.lowRate {
		c.encodeLowFused(w, p, e0, e1, originals, recovery, at)
	} else {
		c.encodeHighFused(w, p, e0, e1, originals, recovery, at)
	}
}

// encodeRuns is Encode on the layer kernels for symbols of full blocks and a tail. The full
// blocks are coded in place: the gather layers read them from the originals and the scatter
// layers write them into the recovery shards, stepping over the tails, so they are never
// copied. Only the tails go through the work buffer: right after their tile's blocks when a
// tile holds whole symbols, so each tile's memory is read from and written to the shards
// once, else in a second pass.
func (c *Code) encodeRuns(s, size int, originals, recovery [][]byte) {
	per := s / 64
	syms := size / s
	bp := part{symbolSize: s}
	tp := part{tail: true, symbolSize: s}
	tailUnits := tp.units(size)
	tiles := []tile{
		{p: bp, units: syms * per, step: c.step},
		{p: tp, units: tailUnits, step: min(c.step*32, tailUnits)},
	}
	w, wb := c.getWork(2*c.chunk, c.ptrCount(), tiles)
	defer c.putWork(wb)
	if perTile := c.step / per; perTile >= 1 {
		// Tiles of whole symbols: each pointer covers perTile symbols' blocks.
		perTile = min(perTile, syms)
		w.zeros, w.junk = wb.runBufs(perTile * s)
		h := s % 64 / 2
		for s0 := 0; s0 < syms; s0 += perTile {
			s1 := min(s0+perTile, syms)
			w.width = (s1 - s0) * per * 64
			w.run, w.gap = per, s-per*64
			c.encodeFused(&w, bp, 0, 0, originals, recovery, s0*s)
			w.width = tp.width((s1 - s0) * h)
			w.run, w.gap = 0, 0
			c.encodeFused(&w, tp, s0*h, s1*h, originals, recovery, -1)
		}
		return
	} else {
		// A symbol's blocks are wider than a tile: tiles of equal contiguous pieces.
		pieces := (per + c.step - 1) / c.step
		for sym := 0; sym < syms; sym++ {
			for q := 0; q < pieces; q++ {
				b0, b1 := q*per/pieces, (q+1)*per/pieces
				w.width = (b1 - b0) * 64
				c.encodeFused(&w, bp, 0, 0, originals, recovery, sym*s+b0*64)
			}
		}
	}
	w.run, w.gap = 0, 0
	t := tiles[1]
	for u0 := 0; u0 < t.units; u0 += t.step {
		u1 := min(u0+t.step, t.units)
		w.width = t.p.width(u1 - u0)
		c.encodeFused(&w, t.p, u0, u1, originals, recovery, -1)
	}
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

// encodeLowFused is encodeLowTile on the layer kernels, with the copies fused into the
// transforms: with at >= 0 (see encodeFused), the first IFFT layers read the originals and
// the last FFT layers write the recovery shards in place; and every chunk's FFT reads the
// coefficients out of place instead of transforming a copy.
func (c *Code) encodeLowFused(w *work, p part, e0, e1 int, originals, recovery [][]byte, at int) {
	K := c.chunk
	direct := at >= 0
	in := w.ptrs[:K]
	for i := 0; i < c.k; i++ {
		if direct {
			in[i] = &originals[i][at]
		} else {
			x := w.shard(i)
			p.pack(x, originals[i], e0, e1)
			in[i] = &x[0]
		}
	}
	w.zero(c.k, K)
	for i := c.k; i < K; i++ {
		in[i] = w.padIn(i)
	}
	w.ifftGather(0, K, c.k, 0, in)
	if K == 4 && direct {
		// One layer pair: evaluate the coefficients at every chunk in one call.
		blocks := (c.m + 3) / 4
		out := w.ptrs[:4*blocks]
		for j := range out {
			if j < c.m {
				out[j] = &recovery[j][at]
			} else {
				out[j] = w.padOut(K + j%4)
			}
		}
		run, gap := w.runs()
		layers.fft4Scatter(w.buf, w.width, blocks, out, K, run, gap, true)
		return
	}
	out := w.ptrs[:K]
	for first := 0; first < c.m; first += K {
		count := min(K, c.m-first)
		for j := range out {
			if direct && j < count {
				out[j] = &recovery[first+j][at]
			} else if direct {
				out[j] = w.padOut(K + j)
			} else {
				out[j] = &w.buf[(K+j)*w.width]
			}
		}
		w.fftScatter(0, K, K, count, K+first, out)
		if !direct {
			for j := 0; j < count; j++ {
				p.unpack(recovery[first+j], w.shard(K+j), e0, e1)
			}
		}
	}
}

// encodeHighFused is encodeHighTile on the layer kernels, with the copies fused into the
// transforms as in encodeLowFused.
func (c *Code) encodeHighFused(w *work, p part, e0, e1 int, originals, recovery [][]byte, at int) {
	M := c.chunk
	direct := at >= 0
	if M == 4 && direct {
		// One layer pair: interpolate every chunk and add them up in one call, then
		// evaluate.
		blocks := (c.k + 3) / 4
		in := w.ptrs[:4*blocks]
		for i := range in {
			if i < c.k {
				in[i] = &originals[i][at]
			} else {
				in[i] = w.padIn(4 + i%4)
			}
		}
		if c.k%4 != 0 {
			w.zero(4, 8)
		}
		run, gap := w.runs()
		layers.ifft4Gather(w.buf, w.width, blocks, in, 4, run, gap, true)
		out := w.ptrs[:4]
		for j := range out {
			if j < c.m {
				out[j] = &recovery[j][at]
			} else {
				out[j] = w.padOut(4 + j)
			}
		}
		layers.fft4Scatter(w.buf, w.width, 1, out, 0, run, gap, false)
		return
	}
	in := w.ptrs[:M]
	for first := 0; first < c.k; first += M {
		count := min(M, c.k-first)
		pos := 0
		if first > 0 {
			pos = M
		}
		for i := 0; i < count; i++ {
			if direct {
				in[i] = &originals[first+i][at]
			} else {
				x := w.shard(pos + i)
				p.pack(x, originals[first+i], e0, e1)
				in[i] = &x[0]
			}
		}
		w.zero(pos+count, pos+M)
		for i := count; i < M; i++ {
			if direct {
				in[i] = w.padIn(pos + i)
			} else {
				in[i] = &w.buf[(pos+i)*w.width]
			}
		}
		w.ifftGather(pos, M, count, M+first, in)
		if pos != 0 {
			xorShard(w.buf[:M*w.width], w.buf[M*w.width:2*M*w.width])
		}
	}
	out := w.ptrs[:M]
	for j := range out {
		if direct && j < c.m {
			out[j] = &recovery[j][at]
		} else if direct {
			out[j] = w.padOut(j)
		} else {
			out[j] = &w.buf[j*w.width]
		}
	}
	w.fftScatter(0, 0, M, c.m, 0, out)
	if !direct {
		for j := 0; j < c.m; j++ {
			p.unpack(recovery[j], w.shard(j), e0, e1)
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

// ReconstructInto is Reconstruct with caller-owned outputs: dst holds k entries, and for
// every missing original i (shards[i] == nil) dst[i] must be a buffer of the shard length;
// it is overwritten with the original and shards[i] is set to it. Other entries of dst are
// not used; the outputs must not overlap the present shards. Callers can decode directly
// into place, or split the shards into ranges of whole codewords and decode the ranges
// concurrently.
func (c *Code) ReconstructInto(symbolSize int, shards, dst [][]byte) error {
	if len(shards) != c.k+c.m || len(dst) != c.k {
		return fmt.Errorf("%w: got %d shards and %d outputs, want %d and %d",
			ErrShardCount, len(shards), len(dst), c.k+c.m, c.k)
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
	for _, i := range missingOrig {
		if len(dst[i]) != size {
			return fmt.Errorf("%w: output %d has %d bytes, want %d", ErrShardSize, i, len(dst[i]), size)
		}
	}
	if len(missingOrig) > 0 {
		c.decode(symbolSize, size, shards, dst, missingOrig)
	}
	return nil
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
		dst := make([][]byte, c.k)
		for _, i := range missingOrig {
			dst[i] = make([]byte, size)
		}
		c.decode(symbolSize, size, shards, dst, missingOrig)
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
func (c *Code) decode(s, size int, shards, dst [][]byte, missingOrig []int) {
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
	L := nextPow2(lastOut)
	lastIn := 0
	for p, i := range src {
		if i >= 0 {
			lastIn = p + 1
		}
	}
	for _, i := range missingOrig {
		shards[i] = dst[i]
	}

	tiles, nt := plan(N, s, size)
	ts := tiles[:nt]
	w, wb := c.getWork(N, 0, ts)
	defer c.putWork(wb)
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
			// Outputs below L depend only on the first L coefficients: the layers above L
			// have the zero twiddle in their first block.
			w.formalDerivative(N, L)
			w.fft(0, L, lastOut, 0)
			for _, i := range missingOrig {
				p := origPos + i
				x := w.shard(p)
				mulShard(x, (modulus-logs[p])%modulus)
				t.p.unpack(shards[i], x, u0, u1)
			}
		}
	}
}
