package redstuff

import (
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/merkle"
)

// The blob ID commits to a Merkle root over one leaf per sliver pair, H(0x00 ‖ primary ‖
// secondary) (see Metadata.Root). A node that holds a few shards needs only the hashes of
// its own pairs and the tree nodes that connect them to the root, not all 2n hashes. This
// file defines the two compact forms:
//
//   - PairProof: one pair's hashes and its Merkle path, self-contained (it carries the
//     encoding type, length and shard count), so a sliver can be checked against nothing
//     but the blob ID;
//   - PartialMetadata: the hashes of a set of pairs and one multiproof (the union of their
//     paths, each sibling sent once) that connects them to the root.
//
// Both verify against a blob ID alone, and both are built from full metadata (or from
// each other) by the functions below. Their encodings are our own (not Walrus's); they are
// strict BCS: fixed field order, canonical lengths, no trailing bytes.

// ErrInvalidPartial is wrapped by the errors of partial metadata and pair proofs that do
// not verify or are inconsistent.
var ErrInvalidPartial = errors.New("redstuff: invalid partial metadata")

// ErrPairNotHeld is returned when a pair's hashes are asked of partial metadata that does
// not hold that pair.
var ErrPairNotHeld = errors.New("redstuff: sliver pair not in partial metadata")

// pairLeaf returns the Merkle leaf of a pair: H(0x00 ‖ primary ‖ secondary).
func pairLeaf(h PairHashes) merkle.Node {
	var buf [2 * merkle.Size]byte
	copy(buf[:merkle.Size], h.Primary[:])
	copy(buf[merkle.Size:], h.Secondary[:])
	return merkle.LeafHash(buf[:])
}

// PairProof is one sliver pair's hashes with the Merkle proof from the pair's leaf to the
// root of the pair tree. It carries the encoding type, unencoded length and shard count,
// which with the recomputed root give the blob ID, so Verify needs nothing else.
type PairProof struct {
	EncodingType    uint8
	UnencodedLength uint64
	Shards          uint16 // n, the number of sliver pairs (tree leaves)
	Pair            uint16 // the pair index, < Shards
	Hashes          PairHashes
	Proof           merkle.Proof // Depth(Shards) siblings, bottom up
}

// Root recomputes the root of the pair tree from the pair's leaf and its path, checking
// the path's shape (length and padding positions) as merkle.Proof.Verify does.
func (p *PairProof) Root() (merkle.Node, error) {
	if p.Shards == 0 || p.Pair >= p.Shards {
		return merkle.Node{}, fmt.Errorf("%w: pair %d of %d", ErrInvalidPartial, p.Pair, p.Shards)
	}
	leaf := pairLeaf(p.Hashes)
	h, idx := leaf, int(p.Pair)
	for _, sib := range p.Proof.Path {
		if idx%2 == 0 {
			h = merkle.InnerHash(h, sib.Value())
		} else {
			h = merkle.InnerHash(sib.Value(), h)
		}
		idx /= 2
	}
	if err := p.Proof.Verify(h, leaf, int(p.Pair), int(p.Shards)); err != nil {
		return merkle.Node{}, fmt.Errorf("%w: pair %d: %v", ErrInvalidPartial, p.Pair, err)
	}
	return h, nil
}

// Verify checks that the pair's hashes are those the blob ID commits to at index Pair. It
// returns nil or an error wrapping ErrInvalidPartial or ErrBlobIDMismatch. The blob ID does
// not commit to the shard count (nor does Walrus's): check Shards against the committee, or
// use Config.VerifyPairProof, which does.
func (p *PairProof) Verify(id BlobID) error {
	root, err := p.Root()
	if err != nil {
		return err
	}
	if got := DeriveBlobID(p.EncodingType, p.UnencodedLength, root); got != id {
		return fmt.Errorf("%w: pair proof commits to %s, want %s", ErrBlobIDMismatch, got, id)
	}
	return nil
}

// SliverHash returns the hash of sliver index of axis a, which must be in this pair
// (primary sliver i is in pair i, secondary sliver j in pair n-1-j); otherwise it returns
// ErrPairNotHeld.
func (p *PairProof) SliverHash(a Axis, index int) (merkle.Node, error) {
	pair := sliverPair(a, index, int(p.Shards))
	if pair != int(p.Pair) {
		return merkle.Node{}, fmt.Errorf("%w: %v sliver %d is in pair %d, proof is for pair %d",
			ErrPairNotHeld, a, index, pair, p.Pair)
	}
	if a == Primary {
		return p.Hashes.Primary, nil
	}
	return p.Hashes.Secondary, nil
}

// sliverPair returns the pair index of sliver index of axis a among n pairs.
func sliverPair(a Axis, index, n int) int {
	if a == Primary {
		return index
	}
	return n - 1 - index
}

// PairOfSliver returns the pair that holds sliver index of axis a among n pairs: primary
// sliver i is in pair i, secondary sliver j in pair n-1-j.
func PairOfSliver(a Axis, index, n int) int { return sliverPair(a, index, n) }

// MarshalBCS appends the BCS form: encoding type (u8) ‖ length (u64) ‖ shards (u16) ‖
// pair (u16) ‖ primary hash (32 bytes) ‖ secondary hash (32 bytes) ‖ path (Walrus's
// MerkleProof: a vector of Nodes).
func (p *PairProof) MarshalBCS(e *bcs.Encoder) {
	e.U8(p.EncodingType)
	e.U64(p.UnencodedLength)
	e.U16(p.Shards)
	e.U16(p.Pair)
	e.Fixed(p.Hashes.Primary[:])
	e.Fixed(p.Hashes.Secondary[:])
	p.Proof.MarshalBCS(e)
}

// Bytes returns the BCS form of the pair proof.
func (p *PairProof) Bytes() []byte {
	var e bcs.Encoder
	p.MarshalBCS(&e)
	return e.Out()
}

// DecodePairProof parses the BCS form strictly: a shard count of at least one, a pair
// below it, a path of at most Depth(shards) nodes and no trailing bytes. It does not
// verify; use Verify.
func DecodePairProof(b []byte) (*PairProof, error) {
	d := bcs.NewDecoder(b)
	p, err := decodePairProof(d)
	if err == nil {
		if err = d.Finish(); err != nil {
			err = fmt.Errorf("%w: pair proof: %v", ErrMalformed, err)
		}
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

func decodePairProof(d *bcs.Decoder) (*PairProof, error) {
	p := &PairProof{}
	p.EncodingType = d.U8()
	p.UnencodedLength = d.U64()
	p.Shards = d.U16()
	p.Pair = d.U16()
	copy(p.Hashes.Primary[:], d.Fixed(merkle.Size))
	copy(p.Hashes.Secondary[:], d.Fixed(merkle.Size))
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("%w: pair proof: %v", ErrMalformed, err)
	}
	if p.Shards == 0 || p.Pair >= p.Shards {
		return nil, fmt.Errorf("%w: pair proof: pair %d of %d shards", ErrMalformed, p.Pair, p.Shards)
	}
	proof, err := merkle.DecodeProof(d, merkle.Depth(int(p.Shards)))
	if err != nil {
		return nil, fmt.Errorf("%w: pair proof: %v", ErrMalformed, err)
	}
	p.Proof = proof
	return p, nil
}

// PartialMetadata is the metadata of a blob restricted to a set of sliver pairs: the
// encoding type, length, shard count and pair-tree root, the hashes of the pairs held, and
// one multiproof connecting them to the root.
//
// The multiproof (Siblings) lists, level by level from the leaves up and within a level by
// ascending node index, the sibling of every node that is known (computed from the held
// pairs) whose sibling is neither known nor padding. Padding siblings (past the end of a
// level) are the Empty value and are never listed. With no pairs there are no siblings
// and only Root is checked against the blob ID.
type PartialMetadata struct {
	EncodingType    uint8
	UnencodedLength uint64
	Shards          uint16       // n, the number of sliver pairs
	Root            merkle.Node  // root of the pair tree
	Pairs           []uint16     // held pair indices, strictly ascending, each < Shards
	Hashes          []PairHashes // Hashes[i] are the hashes of pair Pairs[i]
	Siblings        []merkle.Node
}

// multiproofWalk runs the multiproof traversal over the held leaves. For every level it
// calls visit(level, idx, sibling) with each known node's index and its sibling's value
// (known, padding or the next listed sibling), and it returns the root. take supplies the
// next listed sibling and reports false when there is none.
func multiproofWalk(n int, pairs []uint16, leaves []merkle.Node, take func(level, idx int) (merkle.Node, bool),
	visit func(level, idx int, sib merkle.Node)) (merkle.Node, error) {
	type known struct {
		idx int
		h   merkle.Node
	}
	cur := make([]known, len(pairs))
	for i, p := range pairs {
		cur[i] = known{int(p), leaves[i]}
	}
	width := n
	for level := 0; width > 1; level++ {
		next := cur[:0:0]
		for i := 0; i < len(cur); i++ {
			k := cur[i]
			var h merkle.Node
			switch {
			case k.idx%2 == 0 && i+1 < len(cur) && cur[i+1].idx == k.idx+1:
				r := cur[i+1]
				if visit != nil {
					visit(level, k.idx, r.h)
					visit(level, r.idx, k.h)
				}
				h = merkle.InnerHash(k.h, r.h)
				i++
			case k.idx%2 == 0 && k.idx+1 >= width:
				if visit != nil {
					visit(level, k.idx, merkle.Empty)
				}
				h = merkle.InnerHash(k.h, merkle.Empty)
			default:
				s, ok := take(level, k.idx)
				if !ok {
					return merkle.Node{}, fmt.Errorf("%w: multiproof has too few siblings", ErrInvalidPartial)
				}
				if visit != nil {
					visit(level, k.idx, s)
				}
				if k.idx%2 == 0 {
					h = merkle.InnerHash(k.h, s)
				} else {
					h = merkle.InnerHash(s, k.h)
				}
			}
			next = append(next, known{k.idx / 2, h})
		}
		cur = next
		width = (width + 1) / 2
	}
	if len(cur) == 0 {
		return merkle.Node{}, nil
	}
	return cur[0].h, nil
}

// checkShape checks the fields' consistency without hashing: a shard count of at least
// one, pairs strictly ascending below it, one hash pair per pair.
func (pm *PartialMetadata) checkShape() error {
	if pm.Shards == 0 {
		return fmt.Errorf("%w: zero shards", ErrInvalidPartial)
	}
	if len(pm.Hashes) != len(pm.Pairs) {
		return fmt.Errorf("%w: %d hash pairs for %d pairs", ErrInvalidPartial, len(pm.Hashes), len(pm.Pairs))
	}
	for i, p := range pm.Pairs {
		if p >= pm.Shards {
			return fmt.Errorf("%w: pair %d of %d shards", ErrInvalidPartial, p, pm.Shards)
		}
		if i > 0 && p <= pm.Pairs[i-1] {
			return fmt.Errorf("%w: pairs not strictly ascending at %d", ErrInvalidPartial, p)
		}
	}
	return nil
}

func (pm *PartialMetadata) leaves() []merkle.Node {
	leaves := make([]merkle.Node, len(pm.Hashes))
	for i, h := range pm.Hashes {
		leaves[i] = pairLeaf(h)
	}
	return leaves
}

// ComputeRoot recomputes the pair-tree root from the held pairs and the multiproof. It
// returns an error wrapping ErrInvalidPartial if the fields are inconsistent or the
// multiproof has too few or too many siblings. With no pairs it returns Root unchecked.
func (pm *PartialMetadata) ComputeRoot() (merkle.Node, error) {
	if err := pm.checkShape(); err != nil {
		return merkle.Node{}, err
	}
	if len(pm.Pairs) == 0 {
		if len(pm.Siblings) != 0 {
			return merkle.Node{}, fmt.Errorf("%w: siblings without pairs", ErrInvalidPartial)
		}
		return pm.Root, nil
	}
	used := 0
	root, err := multiproofWalk(int(pm.Shards), pm.Pairs, pm.leaves(), func(int, int) (merkle.Node, bool) {
		if used >= len(pm.Siblings) {
			return merkle.Node{}, false
		}
		used++
		return pm.Siblings[used-1], true
	}, nil)
	if err != nil {
		return merkle.Node{}, err
	}
	if used != len(pm.Siblings) {
		return merkle.Node{}, fmt.Errorf("%w: multiproof has %d siblings, %d used", ErrInvalidPartial, len(pm.Siblings), used)
	}
	return root, nil
}

// Verify checks that the held pair hashes are those the blob ID commits to: the multiproof
// recomputes Root, and Root with the encoding type and length derives id. It returns nil
// or an error wrapping ErrInvalidPartial or ErrBlobIDMismatch. As for PairProof.Verify,
// Shards is not committed to: use Config.VerifyPartialMetadata.
func (pm *PartialMetadata) Verify(id BlobID) error {
	root, err := pm.ComputeRoot()
	if err != nil {
		return err
	}
	if root != pm.Root {
		return fmt.Errorf("%w: multiproof gives root %v, claimed %v", ErrInvalidPartial, root, pm.Root)
	}
	if got := DeriveBlobID(pm.EncodingType, pm.UnencodedLength, pm.Root); got != id {
		return fmt.Errorf("%w: partial metadata commits to %s, want %s", ErrBlobIDMismatch, got, id)
	}
	return nil
}

// VerifyPartialMetadata checks partial metadata against this configuration and the blob
// ID: RS2 encoding, this configuration's shard count, a length within the maximum blob
// size, and Verify(id).
func (c *Config) VerifyPartialMetadata(pm *PartialMetadata, id BlobID) error {
	if err := c.checkHeader("partial metadata", pm.EncodingType, int(pm.Shards), pm.UnencodedLength); err != nil {
		return err
	}
	return pm.Verify(id)
}

// VerifyPairProof checks a pair proof against this configuration and the blob ID, as
// VerifyPartialMetadata does for partial metadata.
func (c *Config) VerifyPairProof(p *PairProof, id BlobID) error {
	if err := c.checkHeader("pair proof", p.EncodingType, int(p.Shards), p.UnencodedLength); err != nil {
		return err
	}
	return p.Verify(id)
}

// checkHeader checks the fields that partial metadata and pair proofs carry beside their
// hashes against this configuration: RS2, this shard count, a length it can encode.
func (c *Config) checkHeader(what string, enc uint8, shards int, length uint64) error {
	if enc != EncodingRS2 {
		return fmt.Errorf("%w: %d", ErrEncodingType, enc)
	}
	if shards != c.n {
		return fmt.Errorf("%w: %s for %d shards, want %d", ErrInvalidPartial, what, shards, c.n)
	}
	if length > c.MaxBlobSize() {
		return fmt.Errorf("%w: length %d exceeds the maximum %d", ErrInvalidMetadata, length, c.MaxBlobSize())
	}
	return nil
}

// Has reports whether the pair is held.
func (pm *PartialMetadata) Has(pair int) bool {
	_, ok := pm.find(pair)
	return ok
}

func (pm *PartialMetadata) find(pair int) (int, bool) {
	i := sort.Search(len(pm.Pairs), func(i int) bool { return int(pm.Pairs[i]) >= pair })
	return i, i < len(pm.Pairs) && int(pm.Pairs[i]) == pair
}

// PairHashes returns the hashes of a held pair, or ErrPairNotHeld.
func (pm *PartialMetadata) PairHashes(pair int) (PairHashes, error) {
	i, ok := pm.find(pair)
	if !ok {
		return PairHashes{}, fmt.Errorf("%w: pair %d", ErrPairNotHeld, pair)
	}
	return pm.Hashes[i], nil
}

// SliverHash returns the hash of sliver index of axis a if its pair is held, or
// ErrPairNotHeld.
func (pm *PartialMetadata) SliverHash(a Axis, index int) (merkle.Node, error) {
	h, err := pm.PairHashes(sliverPair(a, index, int(pm.Shards)))
	if err != nil {
		return merkle.Node{}, err
	}
	if a == Primary {
		return h.Primary, nil
	}
	return h.Secondary, nil
}

// PairProofs returns the self-contained proof of every held pair, in the order of Pairs.
// It returns an error wrapping ErrInvalidPartial if the multiproof is malformed; it does
// not compare the result with Root (use Verify first).
func (pm *PartialMetadata) PairProofs() ([]PairProof, error) {
	if _, err := pm.ComputeRoot(); err != nil {
		return nil, err
	}
	n := int(pm.Shards)
	depth := merkle.Depth(n)
	// sibs[level] lists (idx, sibling value) of the known nodes of that level, ascending.
	type entry struct {
		idx int
		sib merkle.Node
	}
	sibs := make([][]entry, depth)
	used := 0
	_, err := multiproofWalk(n, pm.Pairs, pm.leaves(), func(int, int) (merkle.Node, bool) {
		used++
		return pm.Siblings[used-1], true
	}, func(level, idx int, sib merkle.Node) {
		sibs[level] = append(sibs[level], entry{idx, sib})
	})
	if err != nil {
		return nil, err
	}
	out := make([]PairProof, len(pm.Pairs))
	for i, p := range pm.Pairs {
		path := make([]merkle.PathNode, depth)
		idx, width := int(p), n
		for level := range depth {
			if idx^1 >= width {
				path[level] = merkle.PathNode{}
			} else {
				es := sibs[level]
				j := sort.Search(len(es), func(j int) bool { return es[j].idx >= idx })
				path[level] = merkle.DigestNode(es[j].sib)
			}
			idx /= 2
			width = (width + 1) / 2
		}
		out[i] = PairProof{
			EncodingType:    pm.EncodingType,
			UnencodedLength: pm.UnencodedLength,
			Shards:          pm.Shards,
			Pair:            p,
			Hashes:          pm.Hashes[i],
			Proof:           merkle.Proof{Path: path},
		}
	}
	return out, nil
}

// PairProof returns the self-contained proof of one held pair, or ErrPairNotHeld.
func (pm *PartialMetadata) PairProof(pair int) (*PairProof, error) {
	i, ok := pm.find(pair)
	if !ok {
		return nil, fmt.Errorf("%w: pair %d", ErrPairNotHeld, pair)
	}
	all, err := pm.PairProofs()
	if err != nil {
		return nil, err
	}
	return &all[i], nil
}

// Partial returns the metadata restricted to the given pairs (in any order, duplicates
// ignored), with its multiproof. It returns an error wrapping ErrInvalidPartial if a pair
// is out of range or the metadata has no hashes.
func (m *Metadata) Partial(pairs []int) (*PartialMetadata, error) {
	n := len(m.Hashes)
	if n == 0 || n > MaxMetadataShards {
		return nil, fmt.Errorf("%w: metadata with %d pairs", ErrInvalidPartial, n)
	}
	leaves := make([]merkle.Node, n)
	for i, h := range m.Hashes {
		leaves[i] = pairLeaf(h)
	}
	tree := merkle.New(leaves)
	set, err := pairSet(pairs, n)
	if err != nil {
		return nil, err
	}
	proofs := make([]PairProof, len(set))
	for i, p := range set {
		proof, err := tree.Proof(int(p))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidPartial, err)
		}
		proofs[i] = PairProof{
			EncodingType: m.EncodingType, UnencodedLength: m.UnencodedLength, Shards: uint16(n),
			Pair: p, Hashes: m.Hashes[p], Proof: proof,
		}
	}
	pm := &PartialMetadata{EncodingType: m.EncodingType, UnencodedLength: m.UnencodedLength,
		Shards: uint16(n), Root: tree.Root()}
	return pm, pm.fill(proofs)
}

// pairSet sorts and deduplicates pair indices, checking that each is below n.
func pairSet(pairs []int, n int) ([]uint16, error) {
	set := make([]uint16, 0, len(pairs))
	for _, p := range pairs {
		if p < 0 || p >= n {
			return nil, fmt.Errorf("%w: pair %d of %d", ErrInvalidPartial, p, n)
		}
		set = append(set, uint16(p))
	}
	slices.Sort(set)
	return slices.Compact(set), nil
}

// fill sets Pairs, Hashes and Siblings from per-pair proofs sorted by strictly ascending
// pair, taking each listed sibling from the path of a pair below it.
func (pm *PartialMetadata) fill(proofs []PairProof) error {
	pm.Pairs = make([]uint16, len(proofs))
	pm.Hashes = make([]PairHashes, len(proofs))
	leaves := make([]merkle.Node, len(proofs))
	for i := range proofs {
		pm.Pairs[i], pm.Hashes[i] = proofs[i].Pair, proofs[i].Hashes
		leaves[i] = pairLeaf(proofs[i].Hashes)
		if len(proofs[i].Proof.Path) != merkle.Depth(int(pm.Shards)) {
			return fmt.Errorf("%w: pair %d: path of %d nodes", ErrInvalidPartial, proofs[i].Pair, len(proofs[i].Proof.Path))
		}
	}
	pm.Siblings = nil
	if len(proofs) == 0 {
		return nil
	}
	_, err := multiproofWalk(int(pm.Shards), pm.Pairs, leaves, func(level, idx int) (merkle.Node, bool) {
		// The node idx at this level is an ancestor of the first held pair p with
		// p >> level == idx, whose path holds its sibling.
		i := sort.Search(len(pm.Pairs), func(i int) bool { return int(pm.Pairs[i])>>level >= idx })
		s := proofs[i].Proof.Path[level].Value()
		pm.Siblings = append(pm.Siblings, s)
		return s, true
	}, nil)
	return err
}

// PartialFromPairProofs combines pair proofs of one blob (in any order; a pair given
// twice must be given identically) into partial metadata. It checks that the proofs agree
// on the encoding type, length, shard count and root, but not the blob ID: call Verify on
// the result. With no proofs it returns an error.
func PartialFromPairProofs(proofs []PairProof) (*PartialMetadata, error) {
	if len(proofs) == 0 {
		return nil, fmt.Errorf("%w: no pair proofs", ErrInvalidPartial)
	}
	sorted := slices.Clone(proofs)
	slices.SortStableFunc(sorted, func(a, b PairProof) int { return int(a.Pair) - int(b.Pair) })
	first := &sorted[0]
	root, err := first.Root()
	if err != nil {
		return nil, err
	}
	out := sorted[:0]
	for i := range sorted {
		p := &sorted[i]
		if p.EncodingType != first.EncodingType || p.UnencodedLength != first.UnencodedLength || p.Shards != first.Shards {
			return nil, fmt.Errorf("%w: pair proofs of different blobs", ErrInvalidPartial)
		}
		r, err := p.Root()
		if err != nil {
			return nil, err
		}
		if r != root {
			return nil, fmt.Errorf("%w: pair %d proves root %v, pair %d root %v", ErrInvalidPartial, p.Pair, r, first.Pair, root)
		}
		if len(out) > 0 && out[len(out)-1].Pair == p.Pair {
			if out[len(out)-1].Hashes != p.Hashes {
				return nil, fmt.Errorf("%w: pair %d given with two different hashes", ErrInvalidPartial, p.Pair)
			}
			continue
		}
		out = append(out, *p)
	}
	pm := &PartialMetadata{EncodingType: first.EncodingType, UnencodedLength: first.UnencodedLength,
		Shards: first.Shards, Root: root}
	return pm, pm.fill(out)
}

// Restrict returns partial metadata for the held pairs among the given ones (others are
// ignored), with a new multiproof. Use it to drop pairs a node no longer holds.
func (pm *PartialMetadata) Restrict(pairs []int) (*PartialMetadata, error) {
	all, err := pm.PairProofs()
	if err != nil {
		return nil, err
	}
	set, err := pairSet(pairs, int(pm.Shards))
	if err != nil {
		return nil, err
	}
	keep := all[:0]
	for _, p := range all {
		if _, ok := slices.BinarySearch(set, p.Pair); ok {
			keep = append(keep, p)
		}
	}
	out := &PartialMetadata{EncodingType: pm.EncodingType, UnencodedLength: pm.UnencodedLength,
		Shards: pm.Shards, Root: pm.Root}
	return out, out.fill(keep)
}

// WithPairs returns partial metadata holding pm's pairs and those of the given proofs,
// which must prove the same root. Use it when a node gains a shard. Verify the result.
func (pm *PartialMetadata) WithPairs(extra ...PairProof) (*PartialMetadata, error) {
	all, err := pm.PairProofs()
	if err != nil {
		return nil, err
	}
	for i := range extra {
		r, err := extra[i].Root()
		if err != nil {
			return nil, err
		}
		if r != pm.Root || extra[i].Shards != pm.Shards || extra[i].EncodingType != pm.EncodingType ||
			extra[i].UnencodedLength != pm.UnencodedLength {
			return nil, fmt.Errorf("%w: pair %d is for another blob", ErrInvalidPartial, extra[i].Pair)
		}
	}
	if len(all)+len(extra) == 0 {
		return &PartialMetadata{EncodingType: pm.EncodingType, UnencodedLength: pm.UnencodedLength,
			Shards: pm.Shards, Root: pm.Root}, nil
	}
	return PartialFromPairProofs(append(all, extra...))
}

// AssembleMetadata rebuilds the full metadata of blob id, encoded for n shards, from
// partial copies (from different nodes, say). Each part is verified against id and n first
// (and must agree with the first good part's root); parts that fail are
// skipped and their indices returned in bad, so the caller can blame their senders. It
// returns ErrNotEnough if the verified parts do not cover every pair.
func AssembleMetadata(id BlobID, n int, parts []*PartialMetadata) (m *Metadata, bad []int, err error) {
	var ref *PartialMetadata
	var hashes []PairHashes
	var have []bool
	covered := 0
	for i, pm := range parts {
		if pm == nil || int(pm.Shards) != n || pm.Verify(id) != nil {
			bad = append(bad, i)
			continue
		}
		if ref == nil {
			ref = pm
			hashes = make([]PairHashes, pm.Shards)
			have = make([]bool, pm.Shards)
		} else if pm.Root != ref.Root {
			// Both derive id: a hash collision; refuse the second.
			bad = append(bad, i)
			continue
		}
		for j, p := range pm.Pairs {
			if !have[p] {
				have[p], hashes[p] = true, pm.Hashes[j]
				covered++
			}
		}
	}
	if ref == nil || covered < int(ref.Shards) {
		return nil, bad, fmt.Errorf("%w: partial metadata covers %d pairs", ErrNotEnough, covered)
	}
	m = &Metadata{BlobID: id, EncodingType: ref.EncodingType, UnencodedLength: ref.UnencodedLength, Hashes: hashes}
	if got := m.ComputeBlobID(); got != id {
		return nil, bad, fmt.Errorf("%w: assembled metadata commits to %s", ErrBlobIDMismatch, got)
	}
	return m, bad, nil
}

// MarshalBCS appends the BCS form: encoding type (u8) ‖ length (u64) ‖ shards (u16) ‖
// root (32 bytes) ‖ vector of {pair (u16), primary (32 bytes), secondary (32 bytes)} ‖
// vector of siblings (32 bytes each).
func (pm *PartialMetadata) MarshalBCS(e *bcs.Encoder) {
	e.U8(pm.EncodingType)
	e.U64(pm.UnencodedLength)
	e.U16(pm.Shards)
	e.Fixed(pm.Root[:])
	e.Len(len(pm.Pairs))
	for i, p := range pm.Pairs {
		e.U16(p)
		e.Fixed(pm.Hashes[i].Primary[:])
		e.Fixed(pm.Hashes[i].Secondary[:])
	}
	e.Len(len(pm.Siblings))
	for _, s := range pm.Siblings {
		e.Fixed(s[:])
	}
}

// Bytes returns the BCS form of the partial metadata.
func (pm *PartialMetadata) Bytes() []byte {
	var e bcs.Encoder
	pm.MarshalBCS(&e)
	return e.Out()
}

// PartialEncodedLen returns the length of the BCS form of partial metadata of k pairs with
// s siblings.
func PartialEncodedLen(k, s int) int {
	return 1 + 8 + 2 + merkle.Size + bcs.ULEB128Len(k) + k*(2+2*merkle.Size) + bcs.ULEB128Len(s) + s*merkle.Size
}

// DecodePartialMetadata parses the BCS form strictly: at least one shard, pairs strictly
// ascending below the shard count, at most Depth(shards) siblings per pair, lengths
// checked against the input size before allocating, and no trailing bytes. It does not
// verify; use Verify.
func DecodePartialMetadata(b []byte) (*PartialMetadata, error) {
	d := bcs.NewDecoder(b)
	pm := &PartialMetadata{}
	pm.EncodingType = d.U8()
	pm.UnencodedLength = d.U64()
	pm.Shards = d.U16()
	copy(pm.Root[:], d.Fixed(merkle.Size))
	fail := func(format string, args ...any) (*PartialMetadata, error) {
		return nil, fmt.Errorf("%w: partial metadata: "+format, append([]any{ErrMalformed}, args...)...)
	}
	if d.Err() != nil {
		return fail("%v", d.Err())
	}
	if pm.Shards == 0 {
		return fail("zero shards")
	}
	k := d.Len(int(pm.Shards))
	if d.Err() != nil {
		return fail("%v", d.Err())
	}
	if k*(2+2*merkle.Size) > d.Remaining() {
		return fail("%d pairs in %d bytes", k, d.Remaining())
	}
	pm.Pairs = make([]uint16, k)
	pm.Hashes = make([]PairHashes, k)
	for i := range k {
		pm.Pairs[i] = d.U16()
		copy(pm.Hashes[i].Primary[:], d.Fixed(merkle.Size))
		copy(pm.Hashes[i].Secondary[:], d.Fixed(merkle.Size))
		if d.Err() != nil {
			return fail("%v", d.Err())
		}
		if pm.Pairs[i] >= pm.Shards || (i > 0 && pm.Pairs[i] <= pm.Pairs[i-1]) {
			return fail("pair %d out of order or range", pm.Pairs[i])
		}
	}
	s := d.Len(k * merkle.Depth(int(pm.Shards)))
	if d.Err() != nil {
		return fail("%v", d.Err())
	}
	if s*merkle.Size > d.Remaining() {
		return fail("%d siblings in %d bytes", s, d.Remaining())
	}
	if s > 0 {
		pm.Siblings = make([]merkle.Node, s)
	}
	for i := range s {
		copy(pm.Siblings[i][:], d.Fixed(merkle.Size))
	}
	if err := d.Finish(); err != nil {
		return fail("%v", err)
	}
	return pm, nil
}

// MetadataHolders chooses the nodes that keep a blob's full metadata. shardOwner[s] is the
// node (an index in [0, nodes)) that holds shard s, for all n shards of the committee; f
// is the number of faulty shards tolerated ((n-1)/3 in Walrus).
//
// The rule: walk the shards from the one that stores pair 0 of the blob (shard
// id.RotationOffset(n)) upwards, wrapping at n, and take each shard's owner the first time
// it is met, until the owners taken hold more than 2f shards between them. A read needs
// only n-2f shards, so whichever 2f shards are unavailable (faulty, crashed or cut off),
// a blob that can still be read has a holder up to serve its full metadata, the start of
// every read; and at least one holder is honest, since faulty nodes hold at most f
// shards. The set rotates with the blob ID, so the load spreads over the committee. The
// holders are returned in the order taken; the result is empty only if shardOwner is.
func MetadataHolders(id BlobID, shardOwner []int, f int) []int {
	n := len(shardOwner)
	if n == 0 {
		return nil
	}
	nodes := 0
	for _, o := range shardOwner {
		nodes = max(nodes, o+1)
	}
	count := make([]int, nodes)
	for _, o := range shardOwner {
		count[o]++
	}
	taken := make([]bool, nodes)
	var holders []int
	held := 0
	start := id.RotationOffset(n)
	for i := 0; i < n && held <= 2*f; i++ {
		o := shardOwner[(start+i)%n]
		if !taken[o] {
			taken[o] = true
			holders = append(holders, o)
			held += count[o]
		}
	}
	return holders
}
