package redstuff

import (
	"fmt"

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

// sliverRoot returns the Merkle root of a sliver's expanded symbols.
func (c *Config) sliverRoot(a Axis, data []byte, sym int) merkle.Node {
	leaves := merkle.LeafHashes(make([]merkle.Node, 0, c.n), c.expand(a, data, sym), sym)
	return merkle.RootInto(leaves, leaves)
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
		code := c.expansionCode(a)
		k := code.OriginalCount()
		orig := make([][]byte, k)
		rec := make([][]byte, c.n-k)
		recBuf := make([]byte, (c.n-k)*sym)
		for j := range rec {
			rec[j] = recBuf[j*sym : (j+1)*sym : (j+1)*sym]
		}
		leaves := make([]merkle.Node, 0, c.n)
		for v := lo; v < hi; v++ {
			d := datas[v]
			for i := range orig {
				orig[i] = d[i*sym : (i+1)*sym : (i+1)*sym]
			}
			if err := code.Encode(sym, orig, rec); err != nil {
				panic("redstuff: expansion with checked sizes failed: " + err.Error())
			}
			leaves = merkle.LeafHashes(leaves[:0], d[:k*sym], sym)
			leaves = merkle.LeafHashes(leaves, recBuf, sym)
			roots[v] = merkle.RootInto(leaves, leaves)
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
