package redstuff

import (
	"errors"
	"testing"
)

// TestVerifySliverAgainstProof checks every sliver of a blob against its pair's proof, and
// refuses, as a lying node's answers: a proof of another pair, a proof with a changed hash, a
// proof of another blob, a changed sliver and a sliver of the wrong size.
func TestVerifySliverAgainstProof(t *testing.T) {
	c, err := NewConfig(10)
	if err != nil {
		t.Fatal(err)
	}
	blob := make([]byte, 3000)
	for i := range blob {
		blob[i] = byte(i * 7)
	}
	eb, err := c.Encode(blob)
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.Encode(blob[:2999])
	if err != nil {
		t.Fatal(err)
	}
	id := eb.Metadata.BlobID
	proof := func(m *Metadata, pair int) *PairProof {
		pm, err := m.Partial([]int{pair})
		if err != nil {
			t.Fatal(err)
		}
		p, err := pm.PairProof(pair)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for pair := range 10 {
		p := proof(eb.Metadata, pair)
		for _, s := range []*Sliver{&eb.Pairs[pair].Primary, &eb.Pairs[pair].Secondary} {
			if err := c.VerifySliverAgainstProof(id, p, s); err != nil {
				t.Fatalf("pair %d %s: %v", pair, s.Axis, err)
			}
		}
	}
	s := &eb.Pairs[3].Primary
	if err := c.VerifySliverAgainstProof(id, proof(eb.Metadata, 4), s); err == nil {
		t.Fatal("a proof of another pair was accepted")
	}
	bad := proof(eb.Metadata, 3)
	bad.Hashes.Primary[0] ^= 1
	if err := c.VerifySliverAgainstProof(id, bad, s); err == nil {
		t.Fatal("a proof with a changed hash was accepted")
	}
	if err := c.VerifySliverAgainstProof(id, proof(other.Metadata, 3), s); !errors.Is(err, ErrBlobIDMismatch) && !errors.Is(err, ErrInvalidPartial) {
		t.Fatalf("a proof of another blob: %v", err)
	}
	changed := *s
	changed.Data = append([]byte(nil), s.Data...)
	changed.Data[0] ^= 1
	if err := c.VerifySliverAgainstProof(id, proof(eb.Metadata, 3), &changed); !errors.Is(err, ErrSliverHash) {
		t.Fatalf("a changed sliver: %v", err)
	}
	short := *s
	short.Data = s.Data[:len(s.Data)-s.SymbolSize]
	if err := c.VerifySliverAgainstProof(id, proof(eb.Metadata, 3), &short); !errors.Is(err, ErrInvalidSliver) {
		t.Fatalf("a short sliver: %v", err)
	}
}
