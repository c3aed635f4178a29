package redstuff

import (
	"sync"

	"github.com/walrus-go/walrus/internal/merkle"
)

// SliverPair is what one shard stores for a blob: primary sliver p and secondary sliver n-1-p.
type SliverPair struct {
	Index     int
	Primary   Sliver
	Secondary Sliver
}

// EncodedBlob is a blob's sliver pairs (indexed by pair) and its metadata.
type EncodedBlob struct {
	Metadata *Metadata
	Pairs    []SliverPair

	bufs [2][]byte // the allocations the non-aliasing slivers share, for Encoder.Recycle
}

// Encode encodes a blob into n sliver pairs and computes its metadata and blob ID. It runs
// on the Config's cached Encoder (see Encoder for what is reused and what the caller owns).
func (c *Config) Encode(blob []byte) (*EncodedBlob, error) {
	e := c.getEncoder()
	defer c.putEncoder(e)
	return e.Encode(blob)
}

// ComputeMetadata computes a blob's metadata and blob ID without keeping the slivers. It runs
// on the Config's cached Encoder (see Encoder.ComputeMetadata).
func (c *Config) ComputeMetadata(blob []byte) (*Metadata, error) {
	e := c.getEncoder()
	defer c.putEncoder(e)
	return e.ComputeMetadata(blob)
}

// NewEncoder returns an Encoder for this configuration. Its buffers are allocated on first use.
func (c *Config) NewEncoder() *Encoder { return &Encoder{c: c} }

// getEncoder returns the Config's cached Encoder, or a new one when another call holds it.
func (c *Config) getEncoder() *Encoder {
	c.encMu.Lock()
	e := c.enc
	c.enc = nil
	c.encMu.Unlock()
	if e == nil {
		e = c.NewEncoder()
	}
	return e
}

// putEncoder caches e for the next call unless another Encoder is cached already.
func (c *Config) putEncoder(e *Encoder) {
	c.encMu.Lock()
	if c.enc == nil {
		c.enc = e
	}
	c.encMu.Unlock()
}

// An Encoder encodes blobs of one Config and keeps its working memory between calls: the n²
// leaf hashes, the sliver roots, the coding tiles of every worker and, for ComputeMetadata,
// the part of the encoding it must hold. The buffers grow to the largest blob seen and are
// never returned or cleared, so encoding a blob no larger than an earlier one touches no
// fresh memory for them (the runtime would otherwise fault in fresh pages on every call).
//
// Ownership: everything an Encoder returns belongs to the caller and is never written again
// by the Encoder: the Metadata, and the sliver buffers of an EncodedBlob (apart from
// systematic primary slivers, which alias the blob). A caller that is done with an
// EncodedBlob may hand its sliver buffers back with Recycle for the next Encode; otherwise
// every Encode allocates them. The blob is only read, and only during the call.
//
// An Encoder is not safe for concurrent use; give each goroutine its own. Config.Encode and
// Config.ComputeMetadata share one cached Encoder per Config and use a new one when it is busy.
type Encoder struct {
	c *Config

	leaves           []merkle.Node // n×n leaf hashes of the expanded matrix, row-major
	rowRoot, colRoot []merkle.Node
	keep             []byte    // ComputeMetadata: the repair symbols of the source rows, row by row (R×f)
	pad              []byte    // ComputeMetadata: source rows past the blob's whole rows, zero padded
	bufs             [2][]byte // Encode: the current call's sliver buffers, handed to the caller
	prim, sec        [][]byte  // the rows and columns of the current call
	spare            [2][]byte // sliver buffers given back with Recycle
	workers          []*encWork
}

// encWork is one worker's scratch.
type encWork struct {
	in, out       [][]byte // shard headers handed to the codes
	inBuf, outBuf []byte   // coding tiles
	nodes         []merkle.Node
}

// Encode encodes a blob into n sliver pairs and computes its metadata and blob ID. The
// systematic primary slivers that are whole rows of the blob alias blob; the other slivers
// share two allocations made for this call, which the caller owns.
func (e *Encoder) Encode(blob []byte) (*EncodedBlob, error) {
	c := e.c
	m, err := e.encode(blob, true)
	if err != nil {
		return nil, err
	}
	prim, sec := e.prim, e.sec
	sym := len(prim[0]) / c.columns
	out := &EncodedBlob{Metadata: m, Pairs: make([]SliverPair, c.n), bufs: e.bufs}
	e.bufs = [2][]byte{}
	for p := range out.Pairs {
		out.Pairs[p] = SliverPair{
			Index:     p,
			Primary:   Sliver{Axis: Primary, Index: p, SymbolSize: sym, Data: prim[p]},
			Secondary: Sliver{Axis: Secondary, Index: c.n - 1 - p, SymbolSize: sym, Data: sec[c.n-1-p]},
		}
	}
	e.release()
	return out, nil
}

// ComputeMetadata computes a blob's metadata and blob ID. It streams: the row code runs over
// one source row at a time (the blob itself, read in place) and the column code over tiles
// of columns, and each row's or tile's symbols are hashed while in cache and dropped. Besides the leaf
// hashes (32 bytes per symbol) it holds only the repair columns of the source rows (f·R
// symbols, half the blob at n = 1000), which the lower-right quadrant is coded from, and a
// few MiB of tiles per worker.
func (e *Encoder) ComputeMetadata(blob []byte) (*Metadata, error) {
	m, err := e.encode(blob, false)
	e.release()
	return m, err
}

// Recycle gives the sliver buffers of eb, which an Encoder of the same Config returned,
// back to the Encoder for its next Encode, and empties eb. The caller must not use eb's
// slivers (or copies of their Data slices) afterwards: the next Encode overwrites them.
// Encodings recycled before, or of another shard count, are ignored. The Encoder keeps
// one recycled buffer set, the larger of the one it holds and eb's (buffer by buffer).
// An Encode takes a recycled buffer only if it fits and is at most twice the size it
// needs, so a large blob's buffers are not pinned by the slivers of a small one; a buffer
// too large for it stays for a later Encode, one too small is dropped. The caller bounds
// how long they are kept (ReleaseRecycled).
func (e *Encoder) Recycle(eb *EncodedBlob) {
	if eb == nil || eb.bufs[1] == nil || len(eb.Pairs) != e.c.n {
		return
	}
	for i, b := range eb.bufs {
		if cap(b) > cap(e.spare[i]) {
			e.spare[i] = b
		}
	}
	eb.bufs = [2][]byte{}
	eb.Pairs = nil
}

// RecycledBytes returns the capacity of the recycled buffers the Encoder holds.
func (e *Encoder) RecycledBytes() int { return cap(e.spare[0]) + cap(e.spare[1]) }

// ReleaseRecycled drops the recycled buffers the Encoder holds.
func (e *Encoder) ReleaseRecycled() { e.spare = [2][]byte{} }

// takeSpare returns recycled buffer i resliced to size bytes if it is large enough but not
// more than twice that (it is then no longer kept), or a new zeroed buffer. A recycled
// buffer too small is dropped (before the new one is allocated); one too large stays.
func (e *Encoder) takeSpare(i, size int) []byte {
	b := e.spare[i]
	switch {
	case cap(b) < size:
		e.spare[i] = nil
		return make([]byte, size)
	case cap(b)/2 > size:
		return make([]byte, size)
	}
	e.spare[i] = nil
	return b[:size]
}

// release drops the Encoder's references to caller memory (the blob and the slivers).
func (e *Encoder) release() {
	clear(e.prim)
	clear(e.sec)
	e.bufs = [2][]byte{}
	for _, w := range e.workers {
		clear(w.in)
		clear(w.out)
	}
}

// grow returns b resliced to n elements, reallocating only when its capacity is short. The
// contents are not cleared.
func grow[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// encode computes the metadata. With keep set, e.prim holds the n primary slivers (rows of E
// restricted to the first C columns) and e.sec the n secondary slivers (columns of E
// restricted to the first R rows) afterwards, in buffers allocated for the caller.
//
// With keep set it codes each part of E once: the row code over the R source rows gives the
// repair columns of the secondary slivers; the column code over the C source columns gives
// the repair rows of the primary slivers; the column code over the f repair columns gives
// the lower-right quadrant, which is only hashed. Every symbol of E is hashed once.
//
// With keep unset nothing but the repair columns of the source rows is kept (see
// ComputeMetadata): the row code runs over each source row in place, the column code's
// repair rows and the quadrant are hashed tile by tile.
func (e *Encoder) encode(blob []byte, keep bool) (*Metadata, error) {
	c := e.c
	sym, err := c.SymbolSize(uint64(len(blob)))
	if err != nil {
		return nil, err
	}
	n, R, C := c.n, c.rows, c.columns
	primLen, secLen := C*sym, R*sym
	workers := c.workers()
	e.setupWorkers(workers)
	// The source rows are the blob itself: whole rows alias it, the rest are zero padded.
	full := min(R, len(blob)/primLen)
	e.prim = grow(e.prim, n)
	e.sec = grow(e.sec, n)
	prim, sec := e.prim, e.sec
	clear(prim)
	clear(sec)
	var padded []byte
	if keep {
		// Handed to the caller: fresh buffers every call.
		padded = e.takeSpare(0, (n-full)*primLen)
		// Only the padding of the last source rows needs zeros: the tail is copied below and
		// the repair rows are overwritten by the column code.
		clear(padded[len(blob)-full*primLen : (R-full)*primLen])
		secBuf := e.takeSpare(1, n*secLen)
		e.bufs = [2][]byte{padded, secBuf}
		for i := range sec {
			sec[i] = secBuf[i*secLen : (i+1)*secLen : (i+1)*secLen]
		}
	} else {
		e.pad = grow(e.pad, (R-full)*primLen)
		padded = e.pad
		e.keep = grow(e.keep, (n-C)*secLen)
	}
	kept := n
	if !keep {
		kept = R
	}
	for i := 0; i < kept; i++ {
		if i < full {
			prim[i] = blob[i*primLen : (i+1)*primLen : (i+1)*primLen]
		} else {
			o := (i - full) * primLen
			prim[i] = padded[o : o+primLen : o+primLen]
		}
	}
	tail := copy(padded, blob[full*primLen:])
	if !keep {
		clear(padded[tail:]) // reused: only the padding needs zeros
	}
	e.leaves = grow(e.leaves, n*n)
	leaves := e.leaves

	if keep {
		// Systematic secondary slivers: the transpose of the source matrix, in blocks of
		// columns so that each row is read in runs of transposeBlock symbols rather than one
		// symbol at a stride of a whole row.
		parallelFor(workers, C, func(lo, hi int) {
			for j0 := lo; j0 < hi; j0 += transposeBlock {
				j1 := min(j0+transposeBlock, hi)
				for r := 0; r < R; r++ {
					row := prim[r]
					for j := j0; j < j1; j++ {
						copy(sec[j][r*sym:(r+1)*sym], row[j*sym:(j+1)*sym])
					}
				}
			}
		})
		// Row code over the source rows: repair secondary slivers. Rows are independent
		// codewords, so workers take ranges of rows (symbol ranges of every shard).
		parallelForW(workers, R, func(w, lo, hi int) {
			e.encodeRange(e.workers[w], c.secondary, sym, sec[:C], sec[C:], lo, hi)
		})
		// Column code over the source columns: repair primary slivers.
		parallelForW(workers, C, func(w, lo, hi int) {
			e.encodeRange(e.workers[w], c.primary, sym, prim[:R], prim[R:], lo, hi)
		})
		// Leaf hashes of the primary slivers and of the repair columns.
		parallelFor(workers, n, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				hashSymbols(leaves[r*n:r*n+C], prim[r], sym)
			}
		})
		parallelForW(workers, n-C, func(w, lo, hi int) {
			col := grow(e.workers[w].nodes, R)
			e.workers[w].nodes = col
			for j := C + lo; j < C+hi; j++ {
				hashSymbols(col, sec[j], sym)
				for r := 0; r < R; r++ {
					leaves[r*n+j] = col[r]
				}
			}
		})
	} else {
		// Row code over tiles of source rows, hashing the rows and their repair symbols.
		parallelForW(workers, R, func(w, lo, hi int) {
			e.hashSourceRows(e.workers[w], sym, lo, hi)
		})
		// Column code over the source columns: repair rows, only hashed.
		parallelForW(workers, C, func(w, lo, hi int) {
			e.hashRepairRows(e.workers[w], sym, lo, hi)
		})
	}
	// Lower-right quadrant: the column code over the repair columns, a tile at a time.
	parallelForW(workers, n-C, func(w, lo, hi int) {
		e.hashQuadrant(e.workers[w], sym, C+lo, C+hi, !keep)
	})
	e.roots(workers)
	m := &Metadata{EncodingType: EncodingRS2, UnencodedLength: uint64(len(blob)), Hashes: make([]PairHashes, n)}
	for p := range m.Hashes {
		m.Hashes[p] = PairHashes{Primary: e.rowRoot[p], Secondary: e.colRoot[n-1-p]}
	}
	m.BlobID = m.ComputeBlobID()
	return m, nil
}

// transposeBlock is how many columns one pass over the source rows transposes.
const transposeBlock = 16

// setupWorkers makes sure there is scratch for the given number of workers.
func (e *Encoder) setupWorkers(workers int) {
	for len(e.workers) < workers {
		e.workers = append(e.workers, &encWork{})
	}
}

// rootBlock is how many columns of leaf hashes one pass over the rows gathers for the
// column roots: the leaves of one row in a block share cache lines.
const rootBlock = 8

// roots computes the sliver commitments: the roots of every row and every column of leaves.
func (e *Encoder) roots(workers int) {
	n, leaves := e.c.n, e.leaves
	e.rowRoot = grow(e.rowRoot, n)
	e.colRoot = grow(e.colRoot, n)
	parallelForW(workers, n, func(w, lo, hi int) {
		scratch := grow(e.workers[w].nodes, rootBlock*n)
		e.workers[w].nodes = scratch
		for i := lo; i < hi; i++ {
			e.rowRoot[i] = merkle.RootInto(scratch[:n], leaves[i*n:(i+1)*n])
		}
	})
	blocks := (n + rootBlock - 1) / rootBlock
	parallelForW(workers, blocks, func(w, lo, hi int) {
		scratch := grow(e.workers[w].nodes, rootBlock*n)
		e.workers[w].nodes = scratch
		for b := lo; b < hi; b++ {
			j0 := b * rootBlock
			t := min(rootBlock, n-j0)
			for r := 0; r < n; r++ {
				row := leaves[r*n+j0 : r*n+j0+t]
				for x, l := range row {
					scratch[x*n+r] = l
				}
			}
			for x := 0; x < t; x++ {
				col := scratch[x*n : (x+1)*n]
				e.colRoot[j0+x] = merkle.RootInto(col, col)
			}
		}
	})
}

// encodeRange runs code over codewords [lo, hi) of the given shards.
func (e *Encoder) encodeRange(w *encWork, code interface {
	Encode(int, [][]byte, [][]byte) error
}, sym int, originals, recovery [][]byte, lo, hi int) {
	w.in = grow(w.in, len(originals))
	for i, s := range originals {
		w.in[i] = s[lo*sym : hi*sym]
	}
	w.out = grow(w.out, len(recovery))
	for i, s := range recovery {
		w.out[i] = s[lo*sym : hi*sym]
	}
	if err := code.Encode(sym, w.in, w.out); err != nil {
		panic("redstuff: encoding with checked sizes failed: " + err.Error())
	}
}

// tileOutput is the target size of one coding tile whose results are only hashed.
const tileOutput = 2 << 20

// hashSourceRows runs the row code over source rows [lo, hi), one row (one codeword) per
// call, straight from the row into its repair symbols in e.keep, and stores the leaf hashes
// of the whole expanded row. Nothing is gathered: the row code reads the symbols where they
// are, and the row's leaves are contiguous in both places.
func (e *Encoder) hashSourceRows(w *encWork, sym, lo, hi int) {
	c := e.c
	n, C := c.n, c.columns
	f := n - C
	prim, leaves := e.prim, e.leaves
	w.in = grow(w.in, C)
	w.out = grow(w.out, f)
	for r := lo; r < hi; r++ {
		row := prim[r]
		rep := e.keep[r*f*sym : (r+1)*f*sym]
		for j := range w.in {
			w.in[j] = row[j*sym : (j+1)*sym : (j+1)*sym]
		}
		for i := range w.out {
			w.out[i] = rep[i*sym : (i+1)*sym : (i+1)*sym]
		}
		if err := c.secondary.Encode(sym, w.in, w.out); err != nil {
			panic("redstuff: encoding with checked sizes failed: " + err.Error())
		}
		hashSymbols(leaves[r*n:r*n+C], row, sym)
		hashSymbols(leaves[r*n+C:(r+1)*n], rep, sym)
	}
}

// hashRepairRows computes the repair primary symbols E[R..n)[c] for source columns c in
// [lo, hi) a tile at a time and stores only their leaf hashes.
func (e *Encoder) hashRepairRows(w *encWork, sym, lo, hi int) {
	c := e.c
	n, R := c.n, c.rows
	rows, leaves := e.prim[:R], e.leaves
	tile := min(hi-lo, c.tileColumns(sym))
	w.in = grow(w.in, R)
	w.out = grow(w.out, n-R)
	w.outBuf = grow(w.outBuf, (n-R)*tile*sym)
	for c0 := lo; c0 < hi; c0 += tile {
		t := min(tile, hi-c0)
		width := t * sym
		for r := range w.in {
			w.in[r] = rows[r][c0*sym : c0*sym+width]
		}
		for i := range w.out {
			w.out[i] = w.outBuf[i*width : (i+1)*width]
		}
		if err := c.primary.Encode(sym, w.in, w.out); err != nil {
			panic("redstuff: encoding with checked sizes failed: " + err.Error())
		}
		for i, s := range w.out {
			hashSymbols(leaves[(R+i)*n+c0:(R+i)*n+c0+t], s, sym)
		}
	}
}

// tileColumns returns how many columns of symSize bytes one column-code tile covers.
func (c *Config) tileColumns(sym int) int {
	return max(1, tileOutput/(c.n-c.rows)/sym)
}

// hashQuadrant computes the symbols E[R..n)[j] for repair columns j in [lo, hi) with the
// column code and stores their leaf hashes. Its input, the repair columns of the source rows,
// is read in place from e.keep (ComputeMetadata: row by row) or gathered from the repair
// secondary slivers (Encode).
func (e *Encoder) hashQuadrant(w *encWork, sym, lo, hi int, inKeep bool) {
	c := e.c
	n, R, C := c.n, c.rows, c.columns
	f := n - C
	sec, leaves := e.sec, e.leaves
	tile := min(hi-lo, c.tileColumns(sym))
	w.in = grow(w.in, R)
	w.out = grow(w.out, n-R)
	if !inKeep {
		w.inBuf = grow(w.inBuf, R*tile*sym)
	}
	w.outBuf = grow(w.outBuf, (n-R)*tile*sym)
	for j0 := lo; j0 < hi; j0 += tile {
		t := min(tile, hi-j0)
		width := t * sym
		for r := range w.in {
			if inKeep {
				o := (r*f + j0 - C) * sym
				w.in[r] = e.keep[o : o+width : o+width]
				continue
			}
			w.in[r] = w.inBuf[r*width : (r+1)*width]
			for x := 0; x < t; x++ {
				copy(w.in[r][x*sym:(x+1)*sym], sec[j0+x][r*sym:(r+1)*sym])
			}
		}
		for i := range w.out {
			w.out[i] = w.outBuf[i*width : (i+1)*width]
		}
		if err := c.primary.Encode(sym, w.in, w.out); err != nil {
			panic("redstuff: encoding with checked sizes failed: " + err.Error())
		}
		for i, s := range w.out {
			hashSymbols(leaves[(R+i)*n+j0:(R+i)*n+j0+t], s, sym)
		}
	}
}

// hashSymbols stores the leaf hashes of the consecutive symbols of data in dst.
func hashSymbols(dst []merkle.Node, data []byte, sym int) {
	merkle.LeafHashes(dst[:0], data, sym)
}

// parallelFor splits [0, n) into at most workers contiguous ranges and runs fn on each,
// returning when all are done.
func parallelFor(workers, n int, fn func(lo, hi int)) {
	parallelForW(workers, n, func(_, lo, hi int) { fn(lo, hi) })
}

// parallelForW is parallelFor that also passes each range's worker index, in [0, workers).
func parallelForW(workers, n int, fn func(w, lo, hi int)) {
	if n <= 0 {
		return
	}
	workers = max(1, min(workers, n))
	if workers == 1 {
		fn(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*n/workers, (w+1)*n/workers
		if lo == hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(w, lo, hi)
		}()
	}
	wg.Wait()
}
