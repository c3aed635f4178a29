package merkle

import (
	"encoding/hex"
	"fmt"
	"hash"
	"slices"

	"golang.org/x/crypto/blake2b"

	"github.com/walrus-go/walrus/internal/blake2batch"
)

// Size is the length in bytes of a Node.
const Size = 32

// Domain-separation prefixes of leaf and inner-node hashes.
const (
	leafPrefix  = 0x00
	innerPrefix = 0x01
)

// stackLeafMax is the longest leaf that LeafHash hashes from a stack buffer.
// Longer leaves go through a streaming Blake2b state, which allocates; the
// copy into the stack buffer costs a few percent of the hash at this size.
const stackLeafMax = 4096

// A Node is the 32-byte value of a tree node: a leaf hash, an inner hash, or
// the all-zero Empty value. The zero Node is Empty.
type Node [Size]byte

// Empty is the value of an empty subtree: 32 zero bytes. It pads levels with
// an odd number of nodes and is the root of a tree without leaves.
var Empty Node

// String returns the node as lowercase hex.
func (n Node) String() string { return hex.EncodeToString(n[:]) }

// LeafHash returns H(0x00 ‖ data), the hash of a leaf. It does not allocate
// for leaves of up to 4 KiB; to hash many or longer leaves without
// allocating, use [LeafHashes] or a [Hasher].
func LeafHash(data []byte) Node {
	switch {
	case len(data) < blake2b.BlockSize:
		// Most Walrus leaves are short symbols; a one-block buffer
		// avoids clearing the large one below on every call.
		var buf [blake2b.BlockSize]byte
		buf[0] = leafPrefix
		n := copy(buf[1:], data)
		return blake2b.Sum256(buf[:1+n])
	case len(data) <= stackLeafMax:
		var buf [1 + stackLeafMax]byte
		buf[0] = leafPrefix
		n := copy(buf[1:], data)
		return blake2b.Sum256(buf[:1+n])
	default:
		var h Hasher
		return h.LeafHash(data)
	}
}

// InnerHash returns H(0x01 ‖ left ‖ right), the hash of an inner node. Pass
// [Empty] for a missing right child. It does not allocate.
func InnerHash(left, right Node) Node {
	var buf [1 + 2*Size]byte
	buf[0] = innerPrefix
	copy(buf[1:], left[:])
	copy(buf[1+Size:], right[:])
	return blake2b.Sum256(buf[:])
}

// A Hasher computes leaf hashes, reusing one Blake2b state so that hashing
// leaves of any length allocates only on first use. The zero Hasher is ready
// to use. A Hasher is not safe for concurrent use; give each goroutine its
// own.
type Hasher struct {
	h   hash.Hash
	buf [Size]byte // prefix on input, digest on output
}

// LeafHash returns H(0x00 ‖ data), as the package-level [LeafHash].
func (h *Hasher) LeafHash(data []byte) Node {
	if len(data) <= stackLeafMax {
		return LeafHash(data)
	}
	if h.h == nil {
		var err error
		if h.h, err = blake2b.New256(nil); err != nil {
			panic("merkle: blake2b.New256 without a key failed: " + err.Error())
		}
	}
	h.h.Reset()
	h.buf[0] = leafPrefix
	h.h.Write(h.buf[:1])
	h.h.Write(data)
	var n Node
	copy(n[:], h.h.Sum(h.buf[:0]))
	return n
}

// LeafHashes is the package-level [LeafHashes]; it keeps Hasher's method set
// complete for callers that hold one.
func (h *Hasher) LeafHashes(dst []Node, data []byte, leafSize int) []Node {
	return LeafHashes(dst, data, leafSize)
}

// LeafHashes splits data into consecutive leaves of leafSize bytes, appends
// their hashes to dst and returns the extended slice, growing it at most
// once. The leaves are hashed in batches by the multi-buffer Blake2b of
// package blake2batch; nothing is allocated beyond growing dst.
//
// It panics if leafSize is not positive or len(data) is not a multiple of
// leafSize: callers check lengths of untrusted data before hashing it.
func LeafHashes(dst []Node, data []byte, leafSize int) []Node {
	checkLeafSize(len(data), leafSize)
	n := len(data) / leafSize
	dst = slices.Grow(dst, n)
	start := len(dst)
	dst = dst[:start+n]
	if n > 0 {
		blake2batch.SumPrefixed(digests(dst[start:]), leafPrefix, data, leafSize)
	}
	return dst
}

func checkLeafSize(dataLen, leafSize int) {
	if leafSize <= 0 || dataLen%leafSize != 0 {
		panic(fmt.Sprintf("merkle: %d bytes of data do not split into leaves of %d bytes", dataLen, leafSize))
	}
}
