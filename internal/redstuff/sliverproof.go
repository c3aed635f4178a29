package redstuff

import "fmt"

// VerifySliverAgainstProof checks a sliver against the blob ID with nothing but its pair's
// proof: the proof must verify against id for this configuration (VerifyPairProof), hold
// the sliver's pair, imply the sliver's symbol size and length, and the sliver's
// commitment must be the pair's hash of its axis. It is VerifySliver without the full
// metadata.
func (c *Config) VerifySliverAgainstProof(id BlobID, p *PairProof, s *Sliver) error {
	if err := c.VerifyPairProof(p, id); err != nil {
		return err
	}
	if s.Axis != Primary && s.Axis != Secondary {
		return fmt.Errorf("%w: unknown axis %d", ErrInvalidSliver, s.Axis)
	}
	if s.Index < 0 || s.Index >= c.n {
		return fmt.Errorf("%w: %s sliver index %d out of range for %d shards", ErrInvalidSliver, s.Axis, s.Index, c.n)
	}
	want, err := p.SliverHash(s.Axis, s.Index)
	if err != nil {
		return fmt.Errorf("%w: %s sliver %d: %w", ErrInvalidSliver, s.Axis, s.Index, err)
	}
	sym, err := c.SymbolSize(p.UnencodedLength)
	if err != nil {
		return err
	}
	if s.SymbolSize != sym {
		return fmt.Errorf("%w: symbol size %d, the proof implies %d", ErrInvalidSliver, s.SymbolSize, sym)
	}
	if n := c.SliverSize(s.Axis, sym); len(s.Data) != n {
		return fmt.Errorf("%w: %s sliver of %d bytes, want %d", ErrInvalidSliver, s.Axis, len(s.Data), n)
	}
	if got := c.sliverRoot(s.Axis, s.Data, sym); got != want {
		return fmt.Errorf("%w: %s sliver %d", ErrSliverHash, s.Axis, s.Index)
	}
	return nil
}
