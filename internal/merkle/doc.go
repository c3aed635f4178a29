// Package merkle implements the Merkle trees of Walrus
// (MystenLabs/walrus crates/walrus-core/src/merkle.rs), byte for byte.
//
// The contract, from the Walrus specification (section 2.1):
//
//   - the hash is Blake2b-256;
//   - a leaf's hash is H(0x00 ‖ leaf bytes) ([LeafHash]);
//   - an inner node's hash is H(0x01 ‖ left ‖ right) ([InnerHash]);
//   - a level with an odd number of nodes gets an Empty right sibling for its
//     last node; Empty's value is 32 zero bytes, used as the child value
//     directly, not hashed;
//   - a tree of one leaf has the leaf hash as its root, and a tree of no
//     leaves has Empty (32 zero bytes) as its root;
//   - a proof lists the siblings on the path from a leaf to the root, bottom
//     up; each sibling is a value of Walrus's Node enum, Empty or Digest,
//     whose BCS form is 0x00 or 0x01 followed by 32 raw bytes.
//
// [Root] and [RootInto] compute a root from leaf hashes without keeping the
// tree; [Tree] keeps every level to produce proofs; [Proof.Verify] checks a
// proof. Trees are built over leaf hashes, so callers choose how leaves are
// hashed: [LeafHash] for a single leaf, [LeafHashes] or a [Hasher] for many.
//
// The package is pure computation: no I/O, no goroutines, no global state.
// Errors are prefixed "merkle: " and wrap the sentinel errors declared here
// (or, for malformed BCS, those of package bcs), for use with [errors.Is].
package merkle
