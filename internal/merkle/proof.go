package merkle

import (
	"errors"
	"fmt"
)

// ErrInvalidProof is wrapped by every error [Proof.Verify] returns.
var ErrInvalidProof = errors.New("merkle: invalid proof")

// A PathNode is a value of Walrus's Node enum as it appears in proofs and
// metadata: either Empty, whose value is 32 zero bytes, or a Digest. The two
// variants encode differently in BCS even when a Digest's bytes are zero, so
// a PathNode keeps the variant to re-encode what it decoded.
//
// The zero PathNode is Empty; [DigestNode] makes a Digest.
type PathNode struct {
	value    Node
	isDigest bool
}

// DigestNode returns the Digest variant holding v.
func DigestNode(v Node) PathNode { return PathNode{value: v, isDigest: true} }

// IsEmpty reports whether p is the Empty variant.
func (p PathNode) IsEmpty() bool { return !p.isDigest }

// Value returns the bytes that take part in hashing: the digest, or 32 zero
// bytes for Empty.
func (p PathNode) Value() Node { return p.value }

// String returns "empty" or the digest in hex.
func (p PathNode) String() string {
	if !p.isDigest {
		return "empty"
	}
	return p.value.String()
}

// A Proof shows that a leaf is at a given index of a tree with a given root.
// Path lists the sibling of each node on the path from the leaf to the root,
// bottom up. Its BCS form is Walrus's MerkleProof: a vector of Nodes.
type Proof struct {
	Path []PathNode
}

// Verify checks that the leaf whose hash is leafHash sits at leafIndex in a
// tree of leafCount leaves with the given root. It returns nil or an error
// wrapping [ErrInvalidProof] that says which check failed.
//
// It applies Walrus's checks: len(Path) <= ceil(log2(leafCount)),
// leafIndex >> len(Path) == 0, and the root recomputed by hashing up the
// path, where bit i of leafIndex says whether the node at level i is a left
// (0) or right (1) child, equals root. Because Walrus always produces
// proofs of exactly that length with Empty exactly at the padding positions,
// Verify also requires, rejecting nothing Walrus's prover produces:
//
//   - 0 <= leafIndex < leafCount; Walrus's check only bounds leafIndex by
//     the next power of two;
//   - len(Path) == ceil(log2(leafCount)); a shorter path cannot verify
//     without a hash collision anyway, and rejecting it early keeps the
//     leaf's level in the tree fixed;
//   - a sibling's value is 32 zero bytes exactly where the tree has
//     padding, that is where the sibling's index on its level is past the
//     level's last node. Either variant is accepted there, since only the
//     bytes are hashed.
func (p Proof) Verify(root, leafHash Node, leafIndex, leafCount int) error {
	depth := Depth(leafCount)
	switch {
	case leafIndex < 0 || leafIndex >= leafCount:
		return fmt.Errorf("%w: leaf index %d not in [0, %d)", ErrInvalidProof, leafIndex, leafCount)
	case len(p.Path) > depth:
		return fmt.Errorf("%w: path of %d nodes is longer than ceil(log2(%d)) = %d",
			ErrInvalidProof, len(p.Path), leafCount, depth)
	case leafIndex>>len(p.Path) != 0:
		return fmt.Errorf("%w: leaf index %d does not fit in a path of %d nodes",
			ErrInvalidProof, leafIndex, len(p.Path))
	case len(p.Path) != depth:
		return fmt.Errorf("%w: path has %d nodes, want %d for %d leaves",
			ErrInvalidProof, len(p.Path), depth, leafCount)
	}
	h, idx, width := leafHash, leafIndex, leafCount
	for level, sib := range p.Path {
		v := sib.Value()
		if padding := idx^1 >= width; padding != (v == Empty) {
			if padding {
				return fmt.Errorf("%w: sibling at level %d must be empty padding, got %v",
					ErrInvalidProof, level, sib)
			}
			return fmt.Errorf("%w: sibling at level %d is empty, but the tree has a node there",
				ErrInvalidProof, level)
		}
		if idx%2 == 0 {
			h = InnerHash(h, v)
		} else {
			h = InnerHash(v, h)
		}
		idx /= 2
		width = (width + 1) / 2
	}
	if h != root {
		return fmt.Errorf("%w: recomputed root %v, want %v", ErrInvalidProof, h, root)
	}
	return nil
}

// VerifyLeaf is [Proof.Verify] for the leaf whose bytes are leaf.
func (p Proof) VerifyLeaf(root Node, leaf []byte, leafIndex, leafCount int) error {
	return p.Verify(root, LeafHash(leaf), leafIndex, leafCount)
}
