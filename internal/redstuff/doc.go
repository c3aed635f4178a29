// Package redstuff implements Walrus's RS2 ("RedStuff/Reed-Solomon") blob encoding: the
// two-dimensional layout of a blob into primary and secondary slivers, the sliver-pair to
// shard mapping, sliver and blob Merkle commitments, blob IDs, decoding with consistency
// checks, recovery symbols with Merkle proofs, sliver recovery and inconsistency proofs.
// Every value it computes is byte-identical to Walrus's walrus-core for the same shard count.
//
// # Layout
//
// With n shards, f = floor((n-1)/3), R = n-2f rows and C = n-f columns, a blob is padded to
// R·C symbols of s bytes and laid out row-major. Column encoding expands each column to n
// symbols (the rows of the result are the n primary slivers, C symbols each); row encoding
// expands each row to n symbols (the columns of the result are the n secondary slivers, R
// symbols each). E is the fully expanded n×n matrix. Sliver pair p holds primary sliver p and
// secondary sliver n-1-p and is stored on shard (p + id mod n) mod n, with the blob ID read as
// a big-endian integer.
//
// # Concurrency
//
// A Config is immutable and safe for concurrent use; its methods use up to Parallelism
// goroutines for large blobs and return only after they finish. Returned slivers and
// metadata are owned by the caller.
package redstuff
