package redstuff

import (
	"fmt"
	"sync"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/merkle"
)

// Sliver is one primary or secondary sliver: its symbols, one after another.
type Sliver struct {
	Axis       Axis
	Index      int // sliver index on its axis (not the pair index)
	SymbolSize int
	Data       []byte
}

// Pair returns the sliver pair that holds the sliver in a system of n shards.
func (s *Sliver) Pair(n int) int {
	if s.Axis == Primary {
		return s.Index
	}
	return n - 1 - s.Index
}

// MarshalBCS appends Walrus's SliverData: data (length-prefixed) ‖ symbol size u16 ‖ index u16.
// The axis is not part of the encoding; it travels in the request path.
func (s *Sliver) MarshalBCS(e *bcs.Encoder) {
	e.Bytes(s.Data)
	e.U16(uint16(s.SymbolSize))
	e.U16(uint16(s.Index))
}

// Bytes returns the BCS form of the sliver.
func (s *Sliver) Bytes() []byte {
	var e bcs.Encoder
	s.MarshalBCS(&e)
	return e.Out()
}

// DecodeSliver parses a SliverData of the given axis, accepting at most maxData bytes of
// symbols. The data aliases b.
func DecodeSliver(b []byte, axis Axis, maxData int) (*Sliver, error) {
	d := bcs.NewDecoder(b)
	s := &Sliver{Axis: axis}
	s.Data = d.Bytes(maxData)
	s.SymbolSize = int(d.U16())
	s.Index = int(d.U16())
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: sliver: %v", ErrMalformed, err)
	}
	return s, nil
}

// checkSliverShape validates a sliver's index, symbol size and length against metadata.
func (c *Config) checkSliverShape(m *Metadata, s *Sliver) (int, error) {
	sym, err := c.metadataSymbolSize(m)
	if err != nil {
		return 0, err
	}
	if s.Axis != Primary && s.Axis != Secondary {
		return 0, fmt.Errorf("%w: unknown axis %d", ErrInvalidSliver, s.Axis)
	}
	if s.Index < 0 || s.Index >= c.n {
		return 0, fmt.Errorf("%w: %s sliver index %d out of range for %d shards", ErrInvalidSliver, s.Axis, s.Index, c.n)
	}
	if s.SymbolSize != sym {
		return 0, fmt.Errorf("%w: symbol size %d, metadata implies %d", ErrInvalidSliver, s.SymbolSize, sym)
	}
	if want := c.SliverSize(s.Axis, sym); len(s.Data) != want {
		return 0, fmt.Errorf("%w: %s sliver of %d bytes, want %d", ErrInvalidSliver, s.Axis, len(s.Data), want)
	}
	return sym, nil
}

// expand returns the n symbols of a sliver's full row (primary) or column (secondary) of
// the expanded matrix: its own symbols followed by the code's recovery symbols.
func (c *Config) expand(a Axis, data []byte, sym int) []byte {
	code := c.expansionCode(a)
	k := code.OriginalCount()
	out := make([]byte, c.n*sym)
	copy(out, data)
	orig := make([][]byte, k)
	for i := range orig {
		orig[i] = out[i*sym : (i+1)*sym]
	}
	rec := make([][]byte, c.n-k)
	for j := range rec {
		rec[j] = out[(k+j)*sym : (k+j+1)*sym]
	}
	if err := code.Encode(sym, orig, rec); err != nil {
		panic("redstuff: expansion with checked sizes failed: " + err.Error())
	}
	return out
}

// sliverRoot returns the Merkle root of a sliver's expanded symbols. A sliver of the full
// length is expanded without copying, with pooled buffers (rootScratch); anything else is
// padded into a fresh buffer first.
func (c *Config) sliverRoot(a Axis, data []byte, sym int) merkle.Node {
	k := c.expansionCode(a).OriginalCount()
	if len(data) != k*sym {
		leaves := merkle.LeafHashes(make([]merkle.Node, 0, c.n), c.expand(a, data, sym), sym)
		return merkle.RootInto(leaves, leaves)
	}
	sc := c.getRootScratch(a, sym)
	defer rootScratchPool.Put(sc)
	return c.rootWith(sc, a, data, sym)
}

// rootScratch holds the buffers computing one sliver's commitment needs besides the
// sliver: the shard views of the code call, the recovery symbols and the leaves. A verify
// of a 2 MB sliver would otherwise allocate (and fault in) about as much again.
type rootScratch struct {
	orig, rec [][]byte
	recBuf    []byte
	leaves    []merkle.Node
}

// rootScratchPool holds rootScratch buffers for reuse across slivers and reads.
var rootScratchPool = sync.Pool{New: func() any { return new(rootScratch) }}

// getRootScratch returns pooled buffers sized for a sliver of axis a with symbols of sym
// bytes; the caller puts them back.
func (c *Config) getRootScratch(a Axis, sym int) *rootScratch {
	sc := rootScratchPool.Get().(*rootScratch)
	k := c.expansionCode(a).OriginalCount()
	m := c.n - k
	if cap(sc.orig) < k {
		sc.orig = make([][]byte, k)
	}
	sc.orig = sc.orig[:k]
	if cap(sc.rec) < m {
		sc.rec = make([][]byte, m)
	}
	sc.rec = sc.rec[:m]
	if cap(sc.recBuf) < m*sym {
		sc.recBuf = make([]byte, m*sym)
	}
	sc.recBuf = sc.recBuf[:m*sym]
	for j := range sc.rec {
		sc.rec[j] = sc.recBuf[j*sym : (j+1)*sym : (j+1)*sym]
	}
	if cap(sc.leaves) < c.n {
		sc.leaves = make([]merkle.Node, 0, c.n)
	}
	return sc
}

// rootWith computes the commitment of sliver data (exactly k symbols of sym bytes) with
// the buffers of sc: one code call whose originals are the sliver's own symbols, so
// nothing is copied, and the leaves hashed straight from the sliver and the recovery
// buffer.
func (c *Config) rootWith(sc *rootScratch, a Axis, data []byte, sym int) merkle.Node {
	code := c.expansionCode(a)
	k := code.OriginalCount()
	for i := range sc.orig {
		sc.orig[i] = data[i*sym : (i+1)*sym : (i+1)*sym]
	}
	if err := code.Encode(sym, sc.orig, sc.rec); err != nil {
		panic("redstuff: expansion with checked sizes failed: " + err.Error())
	}
	leaves := merkle.LeafHashes(sc.leaves[:0], data[:k*sym], sym)
	leaves = merkle.LeafHashes(leaves, sc.recBuf, sym)
	root := merkle.RootInto(leaves, leaves)
	clear(sc.orig) // do not keep the caller's sliver alive from the pool
	return root
}

// VerifySliver checks a sliver against verified metadata: index, symbol size and length, and
// the Merkle root of its expanded symbols against the commitment in its pair.
func (c *Config) VerifySliver(m *Metadata, s *Sliver) error {
	sym, err := c.checkSliverShape(m, s)
	if err != nil {
		return err
	}
	if got, want := c.sliverRoot(s.Axis, s.Data, sym), m.SliverHash(s.Axis, s.Index); got != want {
		return fmt.Errorf("%w: %s sliver %d", ErrSliverHash, s.Axis, s.Index)
	}
	return nil
}

// metadataSymbolSize returns the symbol size the metadata implies, after checking that the
// metadata has one hash pair per shard (so indexing it cannot fail on unverified input).
func (c *Config) metadataSymbolSize(m *Metadata) (int, error) {
	if len(m.Hashes) != c.n {
		return 0, fmt.Errorf("%w: %d sliver pair hashes for %d shards", ErrInvalidMetadata, len(m.Hashes), c.n)
	}
	return c.SymbolSize(m.UnencodedLength)
}

// sliverRoots returns the commitments of many slivers of one axis at once, split among the
// workers. Each sliver is expanded by one code call whose shards are its own symbols, so
// nothing is copied: the leaves are hashed straight from the sliver and from the recovery
// buffer, which every sliver of a worker reuses.
func (c *Config) sliverRoots(a Axis, datas [][]byte, sym int) []merkle.Node {
	roots := make([]merkle.Node, len(datas))
	parallelFor(c.workers(), len(datas), func(lo, hi int) {
		sc := c.getRootScratch(a, sym)
		defer rootScratchPool.Put(sc)
		for v := lo; v < hi; v++ {
			roots[v] = c.rootWith(sc, a, datas[v], sym)
		}
	})
	return roots
}

// VerifySlivers checks many slivers against verified metadata, batching the expansion of
// slivers of the same axis. It returns one error (nil when valid) per sliver.
func (c *Config) VerifySlivers(m *Metadata, slivers []*Sliver) []error {
	errs := make([]error, len(slivers))
	var sym int
	var byAxis [2][]int
	for i, s := range slivers {
		ss, err := c.checkSliverShape(m, s)
		if err != nil {
			errs[i] = err
			continue
		}
		sym = ss
		byAxis[s.Axis] = append(byAxis[s.Axis], i)
	}
	for a, idx := range byAxis {
		if len(idx) == 0 {
			continue
		}
		datas := make([][]byte, len(idx))
		for j, i := range idx {
			datas[j] = slivers[i].Data
		}
		roots := c.sliverRoots(Axis(a), datas, sym)
		for j, i := range idx {
			s := slivers[i]
			if roots[j] != m.SliverHash(s.Axis, s.Index) {
				errs[i] = fmt.Errorf("%w: %s sliver %d", ErrSliverHash, s.Axis, s.Index)
			}
		}
	}
	return errs
}
