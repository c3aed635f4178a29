package merkle

import (
	"fmt"

	"github.com/walrus-go/walrus/internal/bcs"
)

// BCS variant indices of Walrus's Node enum.
const (
	tagEmpty  = 0
	tagDigest = 1
)

// EncodeNode appends the BCS form of n: 0x00 for Empty, 0x01 followed by
// the 32 digest bytes for a Digest.
func EncodeNode(e *bcs.Encoder, n PathNode) {
	if n.IsEmpty() {
		e.Variant(tagEmpty)
		return
	}
	e.Variant(tagDigest)
	e.Fixed(n.value[:])
}

// DecodeNode reads a Node in BCS form. Like the bcs.Decoder methods, it
// records errors in d (check d.Err) and returns the zero PathNode on error.
// A variant index other than 0 and 1 gives an error wrapping
// [bcs.ErrInvalidVariant], recorded after the index has been consumed.
func DecodeNode(d *bcs.Decoder) PathNode {
	start := d.Offset()
	switch tag := d.ULEB128(); {
	case d.Err() != nil:
		return PathNode{}
	case tag == tagEmpty:
		return PathNode{}
	case tag == tagDigest:
		var v Node
		copy(v[:], d.Fixed(Size))
		if d.Err() != nil {
			return PathNode{}
		}
		return DigestNode(v)
	default:
		d.Fail(fmt.Errorf("%w: merkle node variant %d at offset %d, want 0 (Empty) or 1 (Digest)",
			bcs.ErrInvalidVariant, tag, start))
		return PathNode{}
	}
}

// MarshalBCS appends the BCS form of p, Walrus's MerkleProof: the path as a
// vector of Nodes.
func (p Proof) MarshalBCS(e *bcs.Encoder) {
	e.Len(len(p.Path))
	for _, n := range p.Path {
		EncodeNode(e, n)
	}
}

// DecodeProof reads a proof in BCS form with a path of at most maxLen nodes
// (use Depth(leafCount) when the tree size is known). The path length is
// checked before the path is allocated. On failure d records the decoding
// error and DecodeProof returns it prefixed with "merkle: proof: "; it wraps
// the sentinel errors of package bcs: a path longer than maxLen gives
// [bcs.ErrTooLong], an unknown node variant [bcs.ErrInvalidVariant], and so
// on. If d already holds an error, DecodeProof returns it the same way.
// DecodeProof panics if maxLen is negative.
func DecodeProof(d *bcs.Decoder, maxLen int) (Proof, error) {
	n := d.Len(maxLen)
	if d.Err() != nil {
		return Proof{}, fmt.Errorf("merkle: proof: %w", d.Err())
	}
	path := make([]PathNode, n)
	for i := range path {
		path[i] = DecodeNode(d)
	}
	if d.Err() != nil {
		return Proof{}, fmt.Errorf("merkle: proof: %w", d.Err())
	}
	return Proof{Path: path}, nil
}
