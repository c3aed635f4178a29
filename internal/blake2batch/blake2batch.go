// Package blake2batch computes unkeyed Blake2b-256 digests (RFC 7693 with
// a 32-byte digest, no key, fanout 1, depth 1: the digests of
// golang.org/x/crypto/blake2b.Sum256) of batches of messages of equal
// length, as Merkle trees need them: the leaves H(prefix ‖ symbol) of a
// column of equal-size symbols ([SumPrefixed]), the inner nodes
// H(prefix ‖ left ‖ right) of a tree level ([SumPairs]), or any messages of
// one length ([SumMany]). [Sum256] hashes a single message.
//
// On amd64 the batch functions hash 8 messages at a time with AVX-512
// (AVX512F, AVX512BW and AVX512VL) or 4 at a time with AVX2, chosen from the
// CPU's features when the package is initialised; elsewhere, or when built
// with the purego tag, they hash one message at a time in Go. Every path
// computes the same digests. Because the messages of a batch have equal
// length, the lanes of the SIMD kernels compress the same number of blocks
// with the same counters.
//
// The functions keep no state: they are safe for concurrent use, read their
// inputs only during the call, retain no buffer and do not allocate. The
// caller owns dst and the inputs; dst must not overlap the inputs, except
// as SumPairs allows. Passing a batch that breaks a documented
// precondition (dst too short, a length that does not divide evenly,
// messages of different lengths) is a programming error and panics, like an
// index out of range.
package blake2batch

import (
	"unsafe"
)

// Size is the length of a digest in bytes.
const Size = 32

// Sum256 returns the Blake2b-256 digest of data, equal to
// golang.org/x/crypto/blake2b.Sum256(data). It does not allocate.
func Sum256(data []byte) [Size]byte {
	return sumGeneric(0, 0, data)
}

// SumPrefixed hashes the len(data)/size consecutive chunks of size bytes of
// data, each preceded by the byte prefix: dst[i] = H(prefix ‖
// data[i*size:(i+1)*size]). With prefix 0x00 these are the Merkle leaf
// hashes of data split into symbols of size bytes. Only dst[:len(data)/size]
// is written.
//
// SumPrefixed panics if size is not positive, if len(data) is not a
// multiple of size, or if dst holds fewer than len(data)/size digests.
func SumPrefixed(dst [][Size]byte, prefix byte, data []byte, size int) {
	if size <= 0 {
		panic("blake2batch: SumPrefixed: size is not positive")
	}
	if len(data)%size != 0 {
		panic("blake2batch: SumPrefixed: len(data) is not a multiple of size")
	}
	n := len(data) / size
	if len(dst) < n {
		panic("blake2batch: SumPrefixed: dst is too short")
	}
	sum(dst[:n], &batch{p: 1, prefix: prefix, size: size, data: data})
}

// SumPairs hashes the nodes in pairs, each pair preceded by the byte prefix:
// dst[i] = H(prefix ‖ nodes[2i] ‖ nodes[2i+1]), a 65-byte message. With
// prefix 0x01 this computes the next level of a Merkle tree. Only
// dst[:len(nodes)/2] is written.
//
// The number of nodes must be even: for a level with an odd number of
// nodes the caller appends the padding node its tree prescribes (Walrus
// pads with Empty, 32 zero bytes used as the right child's value).
//
// dst may be nodes itself (the same first element): the level's digests
// then replace the first half of nodes, which builds a tree in place. Any
// other overlap of dst and nodes gives wrong digests.
// SumPairs panics if len(nodes) is odd or if dst holds fewer than
// len(nodes)/2 digests.
func SumPairs(dst [][Size]byte, prefix byte, nodes [][Size]byte) {
	if len(nodes)%2 != 0 {
		panic("blake2batch: SumPairs: odd number of nodes")
	}
	n := len(nodes) / 2
	if len(dst) < n {
		panic("blake2batch: SumPairs: dst is too short")
	}
	data := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(nodes))), len(nodes)*Size)
	sum(dst[:n], &batch{p: 1, prefix: prefix, size: 2 * Size, data: data})
}

// SumMany hashes messages of equal length: dst[i] = H(msgs[i]). Only
// dst[:len(msgs)] is written.
//
// SumMany panics if the messages differ in length or if dst holds fewer
// than len(msgs) digests.
func SumMany(dst [][Size]byte, msgs [][]byte) {
	if len(dst) < len(msgs) {
		panic("blake2batch: SumMany: dst is too short")
	}
	if len(msgs) == 0 {
		return
	}
	size := len(msgs[0])
	for _, m := range msgs {
		if len(m) != size {
			panic("blake2batch: SumMany: messages differ in length")
		}
	}
	sum(dst[:len(msgs)], &batch{size: size, msgs: msgs})
}

// A batch describes len(dst) messages prefix[:p] ‖ D_i, each D_i of length
// size, for a dst passed alongside it.
type batch struct {
	p      int  // prefix length, 0 or 1
	prefix byte // the prefix byte when p is 1
	size   int  // the length of each D_i
	data   []byte
	msgs   [][]byte // D_i = msgs[i] if msgs is not nil, else data[i*size:(i+1)*size]
}

// msg returns D_i.
func (b *batch) msg(i int) []byte {
	if b.msgs != nil {
		return b.msgs[i]
	}
	return b.data[i*b.size : (i+1)*b.size : (i+1)*b.size]
}

// A kernel is one way of hashing a batch.
type kernel uint8

const (
	kernelGeneric kernel = iota // one message at a time, in Go
	kernelAVX2                  // 4 lanes of 64-bit words in YMM registers
	kernelAVX512                // 8 lanes of 64-bit words in ZMM registers
)

func (k kernel) String() string {
	switch k {
	case kernelGeneric:
		return "generic"
	case kernelAVX2:
		return "avx2"
	case kernelAVX512:
		return "avx512"
	}
	return "unknown"
}

// active is the kernel that the batch functions use: the fastest one
// available. Tests set it to exercise each available kernel; nothing else
// writes it.
var active = bestKernel()

// sum computes dst[i] = H(prefix[:p] ‖ D_i) for the batch b.
func sum(dst [][Size]byte, b *batch) {
	if active != kernelGeneric {
		sumSIMD(active, dst, b)
		return
	}
	for i := range dst {
		dst[i] = sumGeneric(b.p, b.prefix, b.msg(i))
	}
}
