package blake2batch

import (
	"encoding/binary"
	"math/bits"
)

// blockSize is the Blake2b block size in bytes.
const blockSize = 128

// iv is the Blake2b initialisation vector (RFC 7693, section 2.6).
var iv = [8]uint64{
	0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
	0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
}

// param0 is the first word of the parameter block of unkeyed Blake2b-256:
// digest length 32, key length 0, fanout 1, depth 1. All other parameter
// words are zero.
const param0 = 0x01010000 | Size

// g is the Blake2b mixing function G on the state words a, b, c, d with the
// message words x and y.
func g(a, b, c, d, x, y uint64) (uint64, uint64, uint64, uint64) {
	a += b + x
	d = bits.RotateLeft64(d^a, -32)
	c += d
	b = bits.RotateLeft64(b^c, -24)
	a += b + y
	d = bits.RotateLeft64(d^a, -16)
	c += d
	b = bits.RotateLeft64(b^c, -63)
	return a, b, c, d
}

// compress is the Blake2b compression function F: it folds the message
// block m into h, where t is the byte counter after this block (the high
// counter word is always zero here) and final says whether m is the last
// block.
func compress(h *[8]uint64, m *[16]uint64, t uint64, final bool) {
	v0, v1, v2, v3, v4, v5, v6, v7 := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
	v8, v9, v10, v11 := iv[0], iv[1], iv[2], iv[3]
	v12, v13, v14, v15 := iv[4]^t, iv[5], iv[6], iv[7]
	if final {
		v14 = ^v14
	}
	// The twelve rounds, unrolled: the message words of round r are
	// permuted by row r mod 10 of the table sigma of RFC 7693.
	// Round 0.
	v0, v4, v8, v12 = g(v0, v4, v8, v12, m[0], m[1])
	v1, v5, v9, v13 = g(v1, v5, v9, v13, m[2], m[3])
	v2, v6, v10, v14 = g(v2, v6, v10, v14, m[4], m[5])
	v3, v7, v11, v15 = g(v3, v7, v11, v15, m[6], m[7])
	v0, v5, v10, v15 = g(v0, v5, v10, v15, m[8], m[9])
	v1, v6, v11, v12 = g(v1, v6, v11, v12, m[10], m[11])
	v2, v7, v8, v13 = g(v2, v7, v8, v13, m[12], m[13])
	v3, v4, v9, v14 = g(v3, v4, v9, v14, m[14], m[15])
	// Round 1.
	v0, v4, v8, v12 = g(v0, v4, v8, v12, m[14], m[10])
	v1, v5, v9, v13 = g(v1, v5, v9, v13, m[4], m[8])
	v2, v6, v10, v14 = g(v2, v6, v10, v14, m[9], m[15])
	v3, v7, v11, v15 = g(v3, v7, v11, v15, m[13], m[6])
	v0, v5, v10, v15 = g(v0, v5, v10, v15, m[1], m[12])
	v1, v6, v11, v12 = g(v1, v6, v11, v12, m[0], m[2])
	v2, v7, v8, v13 = g(v2, v7, v8, v13, m[11], m[7])
	v3, v4, v9, v14 = g(v3, v4, v9, v14, m[5], m[3])
	// Round 2.
	v0, v4, v8, v12 = g(v0, v4, v8, v12, m[11], m[8])
	v1, v5, v9, v13 = g(v1, v5, v9, v13, m[12], m[0])
	v2, v6, v10, v14 = g(v2, v6, v10, v14, m[5], m[2])
	v3, v7, v11, v15 = g(v3, v7, v11, v15, m[15], m[13])
	v0, v5, v10, v15 = g(v0, v5, v10, v15, m[10], m[14])
	v1, v6, v11, v12 = g(v1, v6, v11, v12, m[3], m[6])
	v2, v7, v8, v13 = g(v2, v7, v8, v13, m[7], m[1])
	v3, v4, v9, v14 = g(v3, v4, v9, v14, m[9], m[4])
	// Round 3.
	v0, v4, v8, v12 = g(v0, v4, v8, v12, m[7], m[9])
	v1, v5, v9, v13 = g(v1, v5, v9, v13, m[3], m[1])
	v2, v6, v10, v14 = g(v2, v6, v10, v14, m[13], m[12])
	v3, v7, v11, v15 = g(v3, v7, v11, v15, m[11], m[14])
	v0, v5, v10, v15 = g(v0, v5, v10, v15, m[2], m[6])
	v1, v6, v11, v12 = g(v1, v6, v11, v12, m[5], m[10])
	v2, v7, v8, v13 = g(v2, v7, v8, v13, m[4], m[0])
	v3, v4, v9, v14 = g(v3, v4, v9, v14, m[15], m[8])
	// Round 4.
	v0, v4, v8, v12 = g(v0, v4, v8, v12, m[9], m[0])
	v1, v5, v9, v13 = g(v1, v5, v9, v13, m[5], m[7])
	v2, v6, v10, v14 = g(v2, v6, v10, v14, m[2], m[4])
	v3, v7, v11, v15 = g(v3, v7, v11, v15, m[10], m[15])
	v0, v5, v10, v15 = g(v0, v5, v10, v15, m[14], m[1])
	v1, v6, v11, v12 = g(v1, v6, v11, v12, m[11], m[12])
	v2, v7, v8, v13 = g(v2, v7, v8, v13, m[6], m[8])
	v3, v4, v9, v14 = g(v3, v4, v9, v14, m[3], m[13])
	// Round 5.
	v0, v4, v8, v12 = g(v0, v4, v8, v12, m[2], m[12])
	v1, v5, v9, v13 = g(v1, v5, v9, v13, m[6], m[10])
	v2, v6, v10, v14 = g(v2, v6, v10, v14, m[0], m[11])
	v3, v7, v11, v15 = g(v3, v7, v11, v15, m[8], m[3])
	v0, v5, v10, v15 = g(v0, v5, v10, v15, m[4], m[13])
	v1, v6, v11, v12 = g(v1, v6, v11, v12, m[7], m[5])
	v2, v7, v8, v13 = g(v2, v7, v8, v13, m[15], m[14])
	v3, v4, v9, v14 = g(v3, v4, v9, v14, m[1], m[9])
	// Round 6.
	v0, v4, v8, v12 = g(v0, v4, v8, v12, m[12], m[5])
	v1, v5, v9, v13 = g(v1, v5, v9, v13, m[1], m[15])
	v2, v6, v10, v14 = g(v2, v6, v10, v14, m[14], m[13])
	v3, v7, v11, v15 = g(v3, v7, v11, v15, m[4], m[10])
	v0, v5, v10, v15 = g(v0, v5, v10, v15, m[0], m[7])
	v1, v6, v11, v12 = g(v1, v6, v11, v12, m[6], m[3])
	v2, v7, v8, v13 = g(v2, v7, v8, v13, m[9], m[2])
	v3, v4, v9, v14 = g(v3, v4, v9, v14, m[8], m[11])
	// Round 7.
	v0, v4, v8, v12 = g(v0, v4, v8, v12, m[13], m[11])
	v1, v5, v9, v13 = g(v1, v5, v9, v13, m[7], m[14])
	v2, v6, v10, v14 = g(v2, v6, v10, v14, m[12], m[1])
	v3, v7, v11, v15 = g(v3, v7, v11, v15, m[3], m[9])
	v0, v5, v10, v15 = g(v0, v5, v10, v15, m[5], m[0])
	v1, v6, v11, v12 = g(v1, v6, v11, v12, m[15], m[4])
	v2, v7, v8, v13 = g(v2, v7, v8, v13, m[8], m[6])
	v3, v4, v9, v14 = g(v3, v4, v9, v14, m[2], m[10])
	// Round 8.
	v0, v4, v8, v12 = g(v0, v4, v8, v12, m[6], m[15])
	v1, v5, v9, v13 = g(v1, v5, v9, v13, m[14], m[9])
	v2, v6, v10, v14 = g(v2, v6, v10, v14, m[11], m[3])
	v3, v7, v11, v15 = g(v3, v7, v11, v15, m[0], m[8])
	v0, v5, v10, v15 = g(v0, v5, v10, v15, m[12], m[2])
	v1, v6, v11, v12 = g(v1, v6, v11, v12, m[13], m[7])
	v2, v7, v8, v13 = g(v2, v7, v8, v13, m[1], m[4])
	v3, v4, v9, v14 = g(v3, v4, v9, v14, m[10], m[5])
	// Round 9.
	v0, v4, v8, v12 = g(v0, v4, v8, v12, m[10], m[2])
	v1, v5, v9, v13 = g(v1, v5, v9, v13, m[8], m[4])
	v2, v6, v10, v14 = g(v2, v6, v10, v14, m[7], m[6])
	v3, v7, v11, v15 = g(v3, v7, v11, v15, m[1], m[5])
	v0, v5, v10, v15 = g(v0, v5, v10, v15, m[15], m[11])
	v1, v6, v11, v12 = g(v1, v6, v11, v12, m[9], m[14])
	v2, v7, v8, v13 = g(v2, v7, v8, v13, m[3], m[12])
	v3, v4, v9, v14 = g(v3, v4, v9, v14, m[13], m[0])
	// Round 10.
	v0, v4, v8, v12 = g(v0, v4, v8, v12, m[0], m[1])
	v1, v5, v9, v13 = g(v1, v5, v9, v13, m[2], m[3])
	v2, v6, v10, v14 = g(v2, v6, v10, v14, m[4], m[5])
	v3, v7, v11, v15 = g(v3, v7, v11, v15, m[6], m[7])
	v0, v5, v10, v15 = g(v0, v5, v10, v15, m[8], m[9])
	v1, v6, v11, v12 = g(v1, v6, v11, v12, m[10], m[11])
	v2, v7, v8, v13 = g(v2, v7, v8, v13, m[12], m[13])
	v3, v4, v9, v14 = g(v3, v4, v9, v14, m[14], m[15])
	// Round 11.
	v0, v4, v8, v12 = g(v0, v4, v8, v12, m[14], m[10])
	v1, v5, v9, v13 = g(v1, v5, v9, v13, m[4], m[8])
	v2, v6, v10, v14 = g(v2, v6, v10, v14, m[9], m[15])
	v3, v7, v11, v15 = g(v3, v7, v11, v15, m[13], m[6])
	v0, v5, v10, v15 = g(v0, v5, v10, v15, m[1], m[12])
	v1, v6, v11, v12 = g(v1, v6, v11, v12, m[0], m[2])
	v2, v7, v8, v13 = g(v2, v7, v8, v13, m[11], m[7])
	v3, v4, v9, v14 = g(v3, v4, v9, v14, m[5], m[3])
	h[0] ^= v0 ^ v8
	h[1] ^= v1 ^ v9
	h[2] ^= v2 ^ v10
	h[3] ^= v3 ^ v11
	h[4] ^= v4 ^ v12
	h[5] ^= v5 ^ v13
	h[6] ^= v6 ^ v14
	h[7] ^= v7 ^ v15
}

// fullBlocks returns the number of blocks of a message of total bytes that
// are compressed before its final block. The final block holds the
// remaining 0 to 128 bytes, zero-padded; only the empty message has an
// empty final block.
func fullBlocks(total int) int {
	if total == 0 {
		return 0
	}
	return (total - 1) / blockSize
}

// sumGeneric returns the Blake2b-256 digest of the message that is the p
// bytes of prefix (p is 0 or 1) followed by d. It mirrors the SIMD kernels:
// message words are read from d at offsets that are multiples of 8 and
// shifted left by 8*p bits, the byte shifted out of each word (or the
// prefix, for the first word) being carried into the next.
func sumGeneric(p int, prefix byte, d []byte) [Size]byte {
	h := iv
	h[0] ^= param0

	shift := uint(8 * p)
	carry := uint64(prefix) << 56 * uint64(p)
	var m [16]uint64

	total := p + len(d)
	nfull := fullBlocks(total)
	for j := range nfull {
		carry = loadBlock(&m, d[j*blockSize:], shift, carry)
		compress(&h, &m, uint64(j+1)*blockSize, false)
	}
	var tail [blockSize]byte
	copy(tail[:], d[nfull*blockSize:])
	loadBlock(&m, tail[:], shift, carry)
	compress(&h, &m, uint64(total), true)

	var out [Size]byte
	for i := range 4 {
		binary.LittleEndian.PutUint64(out[8*i:], h[i])
	}
	return out
}

// loadBlock sets m to the message words of the 128 bytes at the start of
// block shifted left by shift bits, carrying in the top bits of carry, and
// returns the carry for the next block.
func loadBlock(m *[16]uint64, block []byte, shift uint, carry uint64) uint64 {
	block = block[:blockSize]
	for w := range m {
		x := binary.LittleEndian.Uint64(block[8*w:])
		m[w] = x<<shift | carry>>(64-shift)
		carry = x
	}
	return carry
}
