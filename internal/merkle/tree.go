package merkle

import (
	"errors"
	"fmt"
)

// ErrIndexOutOfRange is returned by [Tree.Proof] for a leaf index outside
// the tree.
var ErrIndexOutOfRange = errors.New("merkle: leaf index out of range")

// A Tree is a Merkle tree with all its levels kept, for producing proofs.
// It stores about 2·Len() nodes. A Tree is immutable after New and safe for
// concurrent use.
type Tree struct {
	// nodes holds every level, leaves first and the root last, each level
	// without its Empty padding.
	nodes []Node
	n     int
}

// New builds the tree over leafHashes. It copies leafHashes, so the caller
// may reuse the slice afterwards.
func New(leafHashes []Node) *Tree {
	n := len(leafHashes)
	total := 0
	for m := n; ; m = (m + 1) / 2 {
		total += m
		if m <= 1 {
			break
		}
	}
	nodes := make([]Node, total)
	copy(nodes, leafHashes)
	for start, m := 0, n; m > 1; {
		next := start + m
		parents(nodes[next:next+(m+1)/2], nodes[start:next])
		start, m = next, (m+1)/2
	}
	return &Tree{nodes: nodes, n: n}
}

// Len returns the number of leaves.
func (t *Tree) Len() int { return t.n }

// Root returns the root: [Empty] for no leaves, the leaf hash for one leaf.
func (t *Tree) Root() Node {
	if t.n == 0 {
		return Empty
	}
	return t.nodes[len(t.nodes)-1]
}

// Proof returns the proof for the leaf at leafIndex: Depth(Len()) siblings,
// bottom up, with Empty at the levels where the sibling is padding. It
// returns an error wrapping [ErrIndexOutOfRange] unless
// 0 <= leafIndex < Len().
func (t *Tree) Proof(leafIndex int) (Proof, error) {
	if leafIndex < 0 || leafIndex >= t.n {
		return Proof{}, fmt.Errorf("%w: %d not in [0, %d)", ErrIndexOutOfRange, leafIndex, t.n)
	}
	path := make([]PathNode, 0, Depth(t.n))
	idx := leafIndex
	for start, m := 0, t.n; m > 1; {
		if sib := idx ^ 1; sib < m {
			path = append(path, DigestNode(t.nodes[start+sib]))
		} else {
			path = append(path, PathNode{})
		}
		start += m
		m = (m + 1) / 2
		idx /= 2
	}
	return Proof{Path: path}, nil
}
