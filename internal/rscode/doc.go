// Package rscode implements the systematic Reed–Solomon erasure code over GF(2^16) used by
// Walrus's RS2 encoding, byte-identical to the Rust crate reed-solomon-simd 3.1.0.
//
// # The code
//
// Field elements are 16-bit values in Cantor-basis coordinates: the value v stands for the
// field element φ(v), the XOR of the Cantor basis elements β_b over the set bits b of v, in
// GF(2)[x]/(x^16+x^5+x^3+x^2+1). Position t of the transform domain is the point ω_t = φ(t).
// With k original and m recovery shards, K = next_pow2(k) and M = next_pow2(m):
//
//   - low rate (K < M): the originals are the values at ω_0..ω_{k-1} of the polynomial f of
//     degree < K that is zero at ω_k..ω_{K-1}; recovery shard j is f(ω_{K+j});
//   - high rate (otherwise): the originals are split into chunks of M, chunk c placed at
//     ω_{M(c+1)}..; g_c interpolates chunk c (zero padded) with degree < M, and recovery
//     shard j is the sum over c of g_c(ω_j).
//
// When K == M both definitions give the same bytes. This is the rate choice of the crate.
//
// # Byte layout
//
// A shard of s bytes (s even) holds s/2 elements. In each full 64-byte block, bytes 0..31
// are the low bytes and bytes 32..63 the high bytes of 32 consecutive elements. A final
// partial block of t bytes holds t/2 elements: their t/2 low bytes, then their t/2 high bytes.
//
// # Batches
//
// Every operation takes a symbol size s and shards whose length is a multiple of s: a shard
// of c·s bytes carries symbol i of c independent codewords, one after another. A Walrus sliver
// is such a shard, so whole rows and columns of the blob matrix are coded in one call.
//
// # Concurrency and buffers
//
// A Code is immutable and safe for concurrent use. Callers own every shard buffer; the code
// never retains them. Internally it uses pooled work buffers, so steady-state calls do not
// allocate beyond what they return.
package rscode
