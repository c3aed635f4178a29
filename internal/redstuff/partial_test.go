package redstuff_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/walrus-go/walrus/internal/merkle"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// randomMetadata draws metadata with n random pair hashes; Root and the blob ID are
// computed as for real metadata, which is all the partial forms depend on.
func randomMetadata(t *rapid.T, n int) *redstuff.Metadata {
	m := &redstuff.Metadata{EncodingType: redstuff.EncodingRS2, UnencodedLength: rapid.Uint64Range(0, 1<<20).Draw(t, "len")}
	m.Hashes = make([]redstuff.PairHashes, n)
	for i := range m.Hashes {
		copy(m.Hashes[i].Primary[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "p"))
		m.Hashes[i].Primary[0] |= 1
		m.Hashes[i].Secondary = merkle.LeafHash(m.Hashes[i].Primary[:])
	}
	m.BlobID = m.ComputeBlobID()
	return m
}

func drawPairs(t *rapid.T, n int, label string) []int {
	return rapid.SliceOfNDistinct(rapid.IntRange(0, n-1), 0, n, rapid.ID[int]).Draw(t, label)
}

// TestPartialMetadataProperties checks the partial forms against the full metadata they
// come from: they verify against its blob ID, round-trip through BCS, agree with the tree's
// own proofs, and compose (restrict, extend, assemble) to the same canonical bytes.
func TestPartialMetadataProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.OneOf(rapid.IntRange(1, 20), rapid.IntRange(21, 300)).Draw(t, "n")
		m := randomMetadata(t, n)
		id := m.BlobID
		pairs := drawPairs(t, n, "pairs")
		pm, err := m.Partial(pairs)
		if err != nil {
			t.Fatal(err)
		}
		if err := pm.Verify(id); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if pm.Root != m.Root() || len(pm.Pairs) != len(pairs) {
			t.Fatalf("root or pair count wrong")
		}
		b := pm.Bytes()
		if len(b) != redstuff.PartialEncodedLen(len(pm.Pairs), len(pm.Siblings)) {
			t.Fatalf("PartialEncodedLen %d, Bytes %d", redstuff.PartialEncodedLen(len(pm.Pairs), len(pm.Siblings)), len(b))
		}
		back, err := redstuff.DecodePartialMetadata(b)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !bytes.Equal(back.Bytes(), b) || back.Verify(id) != nil {
			t.Fatalf("round trip changed the partial metadata")
		}
		// Every sibling is needed: the multiproof is never longer than the per-pair proofs.
		if len(pm.Siblings) > len(pairs)*merkle.Depth(n) {
			t.Fatalf("%d siblings for %d pairs", len(pm.Siblings), len(pairs))
		}
		for _, p := range pairs {
			h, err := pm.SliverHash(redstuff.Primary, p)
			if err != nil || h != m.Hashes[p].Primary {
				t.Fatalf("SliverHash primary %d: %v", p, err)
			}
			h, err = pm.SliverHash(redstuff.Secondary, n-1-p)
			if err != nil || h != m.Hashes[p].Secondary {
				t.Fatalf("SliverHash secondary %d: %v", n-1-p, err)
			}
		}
		proofs, err := pm.PairProofs()
		if err != nil {
			t.Fatal(err)
		}
		leaves := make([]merkle.Node, n)
		for i, h := range m.Hashes {
			leaves[i] = merkle.LeafHash(append(h.Primary[:], h.Secondary[:]...))
		}
		tree := merkle.New(leaves)
		for _, pp := range proofs {
			if err := pp.Verify(id); err != nil {
				t.Fatalf("pair proof %d: %v", pp.Pair, err)
			}
			want, _ := tree.Proof(int(pp.Pair))
			var e1, e2 = pp.Proof, want
			if !slices.Equal(e1.Path, e2.Path) {
				t.Fatalf("pair %d: path differs from the tree's proof", pp.Pair)
			}
			back, err := redstuff.DecodePairProof(pp.Bytes())
			if err != nil || !bytes.Equal(back.Bytes(), pp.Bytes()) {
				t.Fatalf("pair proof round trip: %v", err)
			}
		}
		// Restrict and extend give the same canonical bytes as building directly.
		sub := drawPairs(t, n, "sub")
		r, err := pm.Restrict(sub)
		if err != nil {
			t.Fatal(err)
		}
		var inter []int
		for _, p := range sub {
			if slices.Contains(pairs, p) {
				inter = append(inter, p)
			}
		}
		direct, _ := m.Partial(inter)
		if !bytes.Equal(r.Bytes(), direct.Bytes()) {
			t.Fatalf("Restrict differs from Partial of the intersection")
		}
		more := drawPairs(t, n, "more")
		extra, _ := m.Partial(more)
		extraProofs, _ := extra.PairProofs()
		w, err := pm.WithPairs(extraProofs...)
		if err != nil {
			t.Fatal(err)
		}
		union, _ := m.Partial(append(slices.Clone(pairs), more...))
		if !bytes.Equal(w.Bytes(), union.Bytes()) || w.Verify(id) != nil {
			t.Fatalf("WithPairs differs from Partial of the union")
		}
		// Assembling a cover, with a forged part thrown in, gives the full metadata back and
		// names the forger.
		rest := make([]int, 0, n)
		for p := range n {
			if !slices.Contains(pairs, p) {
				rest = append(rest, p)
			}
		}
		other, _ := m.Partial(rest)
		forged, _ := m.Partial(rest)
		if len(forged.Pairs) > 0 {
			forged.Hashes[0].Primary[1] ^= 1
		} else {
			forged.Root[0] ^= 1
		}
		got, bad, err := redstuff.AssembleMetadata(id, n, []*redstuff.PartialMetadata{forged, pm, other})
		if err != nil {
			t.Fatalf("assemble: %v", err)
		}
		if !bytes.Equal(got.Bytes(), m.Bytes()) || !slices.Equal(bad, []int{0}) {
			t.Fatalf("assemble: wrong metadata or bad = %v", bad)
		}
		if _, _, err := redstuff.AssembleMetadata(id, n, []*redstuff.PartialMetadata{forged, pm}); len(rest) > 0 && !errors.Is(err, redstuff.ErrNotEnough) {
			t.Fatalf("assemble without a cover: %v", err)
		}
	})
}

// TestPartialMetadataForgery is the attack: any change to a hash, a sibling, the root, the
// length or the pair set makes verification against the blob ID fail.
func TestPartialMetadataForgery(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(2, 120).Draw(t, "n")
		m := randomMetadata(t, n)
		pairs := rapid.SliceOfNDistinct(rapid.IntRange(0, n-1), 1, n, rapid.ID[int]).Draw(t, "pairs")
		pm, _ := m.Partial(pairs)
		b := pm.Bytes()
		pos := rapid.IntRange(0, len(b)-1).Draw(t, "pos")
		bit := byte(1) << rapid.IntRange(0, 7).Draw(t, "bit")
		b[pos] ^= bit
		f, err := redstuff.DecodePartialMetadata(b)
		if err != nil {
			return
		}
		// The root does not commit to the shard count (Walrus's neither): the configuration
		// pins it, as Config.VerifyPartialMetadata does.
		if f.Shards == pm.Shards && f.Verify(m.BlobID) == nil {
			t.Fatalf("flipping bit %d of byte %d still verifies", bit, pos)
		}
		pp, _ := pm.PairProof(pairs[0])
		pb := pp.Bytes()
		pos = rapid.IntRange(0, len(pb)-1).Draw(t, "ppos")
		pb[pos] ^= bit
		if g, err := redstuff.DecodePairProof(pb); err == nil && g.Shards == pp.Shards && g.Verify(m.BlobID) == nil {
			t.Fatalf("flipping bit %d of pair-proof byte %d still verifies", bit, pos)
		}
	})
}

func TestMetadataHolders(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nodes := rapid.IntRange(1, 20).Draw(t, "nodes")
		n := rapid.IntRange(nodes, 200).Draw(t, "n")
		owner := make([]int, n)
		for s := range owner {
			owner[s] = rapid.IntRange(0, nodes-1).Draw(t, "owner")
		}
		var id redstuff.BlobID
		copy(id[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "id"))
		f := (n - 1) / 3
		h := redstuff.MetadataHolders(id, owner, f)
		held := func(hs []int) int {
			c := 0
			for _, o := range owner {
				if slices.Contains(hs, o) {
					c++
				}
			}
			return c
		}
		if held(h) <= 2*f {
			t.Fatalf("holders %v hold %d shards, f = %d", h, held(h), f)
		}
		if held(h[:len(h)-1]) > 2*f {
			t.Fatalf("holders %v: the last one is not needed", h)
		}
		if !slices.Equal(h, redstuff.MetadataHolders(id, owner, f)) {
			t.Fatalf("not deterministic")
		}
	})
}

func TestPartialMetadataBadInput(t *testing.T) {
	var id redstuff.BlobID
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"zero shards", make([]byte, 1+8+2+32+2)},
		{"huge pair count", append(append([]byte{0}, make([]byte, 8)...), append([]byte{0xff, 0xff}, append(make([]byte, 32), 0xff, 0xff, 0x03)...)...)},
	} {
		if _, err := redstuff.DecodePartialMetadata(tc.b); !errors.Is(err, redstuff.ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", tc.name, err)
		}
		if _, err := redstuff.DecodePairProof(tc.b); !errors.Is(err, redstuff.ErrMalformed) {
			t.Errorf("%s: pair proof err = %v, want ErrMalformed", tc.name, err)
		}
	}
	pm := &redstuff.PartialMetadata{Shards: 4, Pairs: []uint16{1, 1}, Hashes: make([]redstuff.PairHashes, 2)}
	if err := pm.Verify(id); !errors.Is(err, redstuff.ErrInvalidPartial) {
		t.Errorf("duplicate pairs: %v", err)
	}
}

func FuzzDecodePartialMetadata(f *testing.F) {
	fx := getFixture()
	pm, _ := fx.c.meta().Partial([]int{1, 2, 5})
	f.Add(pm.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		pm, err := redstuff.DecodePartialMetadata(b)
		if err != nil {
			if !errors.Is(err, redstuff.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if got := pm.Bytes(); !bytes.Equal(got, b) {
			t.Fatalf("not canonical:\n in  %x\n out %x", b, got)
		}
		if err := fx.c.cfg.VerifyPartialMetadata(pm, fx.c.meta().BlobID); err == nil {
			for i, p := range pm.Pairs {
				if pm.Hashes[i] != fx.c.meta().Hashes[p] {
					t.Fatalf("accepted a wrong hash for pair %d", p)
				}
			}
		}
		if proofs, err := pm.PairProofs(); err == nil {
			for i := range proofs {
				_ = proofs[i].Verify(fx.c.meta().BlobID)
			}
		}
	})
}

func FuzzDecodePairProof(f *testing.F) {
	fx := getFixture()
	pm, _ := fx.c.meta().Partial([]int{3})
	pp, _ := pm.PairProof(3)
	f.Add(pp.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := redstuff.DecodePairProof(b)
		if err != nil {
			if !errors.Is(err, redstuff.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if got := p.Bytes(); !bytes.Equal(got, b) {
			t.Fatalf("not canonical:\n in  %x\n out %x", b, got)
		}
		if fx.c.cfg.VerifyPairProof(p, fx.c.meta().BlobID) == nil && p.Hashes != fx.c.meta().Hashes[p.Pair] {
			t.Fatalf("accepted a wrong hash for pair %d", p.Pair)
		}
	})
}
