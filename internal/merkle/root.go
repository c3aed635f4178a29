package merkle

import (
	"math/bits"
	"unsafe"

	"github.com/walrus-go/walrus/internal/blake2batch"
)

// Depth returns the number of levels above the leaves in a tree of leafCount
// leaves, ceil(log2(leafCount)), which is also the length of every proof in
// that tree. It is 0 for zero or one leaf.
func Depth(leafCount int) int {
	if leafCount <= 1 {
		return 0
	}
	return bits.Len(uint(leafCount - 1))
}

// ScratchLen returns the number of nodes of scratch space [RootInto] needs
// for leafCount leaves: the size of the first level above the leaves.
func ScratchLen(leafCount int) int {
	if leafCount <= 1 {
		return 0
	}
	return (leafCount + 1) / 2
}

// Root returns the root of the tree whose leaf hashes are leafHashes,
// without building the tree. It allocates one scratch buffer of
// ScratchLen(len(leafHashes)) nodes; use [RootInto] to supply it.
func Root(leafHashes []Node) Node {
	return RootInto(nil, leafHashes)
}

// RootInto is [Root] with caller-owned scratch space. It does not allocate if
// len(scratch) >= ScratchLen(len(leafHashes)); otherwise it allocates a
// buffer of that size. RootInto overwrites scratch, never modifies
// leafHashes except through scratch, and keeps no reference to either.
//
// scratch may be leafHashes itself, computing the root in place at the cost
// of the leaf hashes; otherwise the two must not overlap.
func RootInto(scratch, leafHashes []Node) Node {
	switch n := len(leafHashes); n {
	case 0:
		return Empty
	case 1:
		return leafHashes[0]
	default:
		m := ScratchLen(n)
		if len(scratch) < m {
			scratch = make([]Node, m)
		}
		level := parents(scratch[:m], leafHashes)
		for len(level) > 1 {
			level = parents(level[:ScratchLen(len(level))], level)
		}
		return level[0]
	}
}

// parents fills dst with the level above src and returns it. len(dst) must
// be (len(src)+1)/2. dst may start at the same element as src: node i is
// written after nodes 2i and 2i+1 are read, and 2i >= i.
func parents(dst, src []Node) []Node {
	pairs := len(src) / 2
	if pairs > 0 {
		blake2batch.SumPairs(digests(dst[:pairs]), innerPrefix, digests(src[:2*pairs]))
	}
	if len(src)%2 == 1 {
		dst[pairs] = InnerHash(src[len(src)-1], Empty)
	}
	return dst
}

// digests views nodes as the digest slice blake2batch works on (Node is a [32]byte).
func digests(nodes []Node) [][blake2batch.Size]byte {
	if len(nodes) == 0 {
		return nil
	}
	return unsafe.Slice((*[blake2batch.Size]byte)(unsafe.Pointer(&nodes[0])), len(nodes))
}
