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
}

// Encode encodes a blob into n sliver pairs and computes its metadata and blob ID.
// The systematic primary slivers that are whole rows of the blob alias blob (which is only
// read); the other slivers share two allocations.
func (c *Config) Encode(blob []byte) (*EncodedBlob, error) {
	m, prim, sec, err := c.encode(blob, true)
	if err != nil {
		return nil, err
	}
	sym := len(prim[0]) / c.columns
	out := &EncodedBlob{Metadata: m, Pairs: make([]SliverPair, c.n)}
	for p := range out.Pairs {
		out.Pairs[p] = SliverPair{
			Index:     p,
			Primary:   Sliver{Axis: Primary, Index: p, SymbolSize: sym, Data: prim[p]},
			Secondary: Sliver{Axis: Secondary, Index: c.n - 1 - p, SymbolSize: sym, Data: sec[c.n-1-p]},
		}
	}
	return out, nil
}

// ComputeMetadata computes a blob's metadata and blob ID. It never holds the repair primary
// slivers (about 2/3 of the encoding) in memory: they are computed a tile at a time, hashed
// and dropped.
func (c *Config) ComputeMetadata(blob []byte) (*Metadata, error) {
	m, _, _, err := c.encode(blob, false)
	return m, err
}

// encode returns the metadata, the n primary slivers (rows of E restricted to the first C
// columns) and the n secondary slivers (columns of E restricted to the first R rows).
//
// It codes each part of E once: the row code over the R source rows gives the repair
// columns of the secondary slivers; the column code over the C source columns gives the
// repair rows of the primary slivers; the column code over the f repair columns gives the
// lower-right quadrant, which is only hashed. Every symbol of E is hashed once.
//
// With keep unset the repair primary slivers are not kept: they are hashed tile by tile.
func (c *Config) encode(blob []byte, keep bool) (*Metadata, [][]byte, [][]byte, error) {
	sym, err := c.SymbolSize(uint64(len(blob)))
	if err != nil {
		return nil, nil, nil, err
	}
	n, R, C := c.n, c.rows, c.columns
	primLen, secLen := C*sym, R*sym
	// The source rows are the blob itself: whole rows alias it, the rest are zero padded.
	full := min(R, len(blob)/primLen)
	kept := n
	if !keep {
		kept = R
	}
	primBuf := make([]byte, (kept-full)*primLen)
	secBuf := make([]byte, n*secLen)
	prim := make([][]byte, n)
	sec := make([][]byte, n)
	for i := range prim {
		if i < full {
			prim[i] = blob[i*primLen : (i+1)*primLen : (i+1)*primLen]
		} else if i < kept {
			o := (i - full) * primLen
			prim[i] = primBuf[o : o+primLen : o+primLen]
		}
		sec[i] = secBuf[i*secLen : (i+1)*secLen : (i+1)*secLen]
	}
	copy(primBuf, blob[full*primLen:])
	workers := c.workers()

	// Systematic secondary slivers: the transpose of the source matrix.
	parallelFor(workers, C, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			col := sec[j]
			for r := 0; r < R; r++ {
				copy(col[r*sym:(r+1)*sym], prim[r][j*sym:(j+1)*sym])
			}
		}
	})
	// Row code over the source rows: repair secondary slivers. Rows are independent
	// codewords, so workers take ranges of rows (symbol ranges of every shard).
	parallelFor(workers, R, func(lo, hi int) {
		c.encodeRange(c.secondary, sym, sec[:C], sec[C:], lo, hi)
	})
	// Leaf hashes of E, row-major.
	leaves := make([]merkle.Node, n*n)
	// Column code over the source columns: repair primary slivers, kept or only hashed.
	if keep {
		parallelFor(workers, C, func(lo, hi int) {
			c.encodeRange(c.primary, sym, prim[:R], prim[R:], lo, hi)
		})
	} else {
		parallelFor(workers, C, func(lo, hi int) {
			c.hashRepairRows(leaves, prim[:R], sym, lo, hi)
		})
	}
	parallelFor(workers, n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			if prim[r] != nil {
				hashSymbols(leaves[r*n:r*n+C], prim[r], sym)
			}
		}
	})
	parallelFor(workers, n-C, func(lo, hi int) {
		col := make([]merkle.Node, R)
		for j := C + lo; j < C+hi; j++ {
			hashSymbols(col, sec[j], sym)
			for r := 0; r < R; r++ {
				leaves[r*n+j] = col[r]
			}
		}
	})
	// Lower-right quadrant: the column code over the repair columns, a tile at a time.
	parallelFor(workers, n-C, func(lo, hi int) {
		c.hashQuadrant(leaves, sec, sym, C+lo, C+hi)
	})

	// Sliver commitments: the roots of every row and every column of leaves.
	rowRoot := make([]merkle.Node, n)
	colRoot := make([]merkle.Node, n)
	parallelFor(workers, n, func(lo, hi int) {
		scratch := make([]merkle.Node, n)
		for i := lo; i < hi; i++ {
			rowRoot[i] = merkle.RootInto(scratch, leaves[i*n:(i+1)*n])
			for r := 0; r < n; r++ {
				scratch[r] = leaves[r*n+i]
			}
			colRoot[i] = merkle.RootInto(scratch, scratch)
		}
	})
	m := &Metadata{EncodingType: EncodingRS2, UnencodedLength: uint64(len(blob)), Hashes: make([]PairHashes, n)}
	for p := range m.Hashes {
		m.Hashes[p] = PairHashes{Primary: rowRoot[p], Secondary: colRoot[n-1-p]}
	}
	m.BlobID = m.ComputeBlobID()
	return m, prim, sec, nil
}

// encodeRange runs code over codewords [lo, hi) of the given shards.
func (c *Config) encodeRange(code interface {
	Encode(int, [][]byte, [][]byte) error
}, sym int, originals, recovery [][]byte, lo, hi int) {
	o := make([][]byte, len(originals))
	for i, s := range originals {
		o[i] = s[lo*sym : hi*sym]
	}
	r := make([][]byte, len(recovery))
	for i, s := range recovery {
		r[i] = s[lo*sym : hi*sym]
	}
	if err := code.Encode(sym, o, r); err != nil {
		panic("redstuff: encoding with checked sizes failed: " + err.Error())
	}
}

// hashRepairRows computes the repair primary symbols E[R..n)[c] for source columns c in
// [lo, hi) a tile at a time and stores only their leaf hashes.
func (c *Config) hashRepairRows(leaves []merkle.Node, rows [][]byte, sym, lo, hi int) {
	n, R := c.n, c.rows
	tile := c.tileColumns(sym)
	in := make([][]byte, R)
	out := make([][]byte, n-R)
	outBuf := make([]byte, (n-R)*tile*sym)
	for c0 := lo; c0 < hi; c0 += tile {
		t := min(tile, hi-c0)
		w := t * sym
		for r := range in {
			in[r] = rows[r][c0*sym : c0*sym+w]
		}
		for i := range out {
			out[i] = outBuf[i*w : (i+1)*w]
		}
		if err := c.primary.Encode(sym, in, out); err != nil {
			panic("redstuff: encoding with checked sizes failed: " + err.Error())
		}
		for i := range out {
			hashSymbols(leaves[(R+i)*n+c0:(R+i)*n+c0+t], out[i], sym)
		}
	}
}

// tileOutput is the target size of the output of one tile of the column code when its
// results are only hashed (repair rows in ComputeMetadata, the lower-right quadrant).
const tileOutput = 8 << 20

// tileColumns returns how many columns of symSize bytes one such tile covers.
func (c *Config) tileColumns(sym int) int {
	return max(1, tileOutput/(c.n-c.rows)/sym)
}

// hashQuadrant computes the symbols E[R..n)[j] for repair columns j in [lo, hi) with the
// column code and stores their leaf hashes.
func (c *Config) hashQuadrant(leaves []merkle.Node, sec [][]byte, sym, lo, hi int) {
	n, R := c.n, c.rows
	tile := c.tileColumns(sym)
	in := make([][]byte, R)
	out := make([][]byte, n-R)
	inBuf := make([]byte, R*tile*sym)
	outBuf := make([]byte, (n-R)*tile*sym)
	hashes := make([]merkle.Node, tile)
	for j0 := lo; j0 < hi; j0 += tile {
		t := min(tile, hi-j0)
		w := t * sym
		for r := range in {
			in[r] = inBuf[r*w : (r+1)*w]
			for x := 0; x < t; x++ {
				copy(in[r][x*sym:(x+1)*sym], sec[j0+x][r*sym:(r+1)*sym])
			}
		}
		for i := range out {
			out[i] = outBuf[i*w : (i+1)*w]
		}
		if err := c.primary.Encode(sym, in, out); err != nil {
			panic("redstuff: encoding with checked sizes failed: " + err.Error())
		}
		for i := range out {
			hashSymbols(hashes[:t], out[i], sym)
			copy(leaves[(R+i)*n+j0:], hashes[:t])
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
	if n <= 0 {
		return
	}
	workers = max(1, min(workers, n))
	if workers == 1 {
		fn(0, n)
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
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
