// Package bls implements the BLS12-381 "min-pk" signature scheme that Walrus storage nodes
// use: public keys are points of G1 (48 bytes compressed), signatures are points of G2
// (96 bytes compressed). It wraps supranational/blst (cgo) and is the only package in this
// module that imports it.
//
// # Ciphersuite
//
// Messages are hashed to G2 with the domain separation tag [DST],
// "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_" (the IETF "basic" ciphersuite). This is the
// tag of fastcrypto's bls12381::min_pk module (its constant DST_G2), which Walrus nodes sign
// with and which Sui's bls12381::bls12381_min_pk_verify, the check used by the Walrus Move
// contracts for certificates and proofs of possession, verifies with. The same tag is used by
// the drand League of Entropy mainnet beacon, whose signatures Sui contracts verify with that
// function; the tests pin one drand round as an external known-answer vector.
//
// # Proof of possession
//
// Walrus does not use the IETF proof-of-possession tag (BLS_POP_..._POP_) and does not sign
// the bare public key. Its proof of possession is an ordinary signature, under [DST], over
// the BCS message built by [PopMessage]: the 3-byte intent (0, 0, 3), the epoch, the 32-byte
// account address and the 48 public key bytes (Move walrus::messages::ProofOfPossessionMessage,
// checked with bls12381_min_pk_verify). This package follows Walrus so that keys and proofs
// are interchangeable with it. Domain separation between proofs of possession and other
// signed messages comes from the intent header instead of the tag: every message a node
// signs starts with an intent whose first byte (the intent type) is 0 only for a proof of
// possession. Callers must therefore sign only intent-prefixed protocol messages with a
// node key, never caller-chosen raw bytes.
//
// Aggregation over a single message ([FastAggregateVerify], [AggregateKey]) is secure only
// when every public key involved has had its proof of possession verified (rogue-key
// defense); the chain checks it when a node registers or rotates its key.
//
// # Values and validation
//
// [PublicKey] and [Signature] are immutable values holding a decompressed, validated point
// and its canonical compressed encoding; they are safe for concurrent use and cheap to copy.
// Every non-zero value is on the curve, in the prime-order subgroup and not the point at
// infinity: [PublicKeyFromBytes] and [SignatureFromBytes] reject anything else, and
// aggregation functions return an error rather than produce the point at infinity. The zero
// values are placeholders that every verification rejects.
//
// [SecretKey] never prints its value (all fmt verbs and slog show a redacted string) and is
// zeroed when garbage collected or when [SecretKey.Zeroize] is called.
//
// Verification is synchronous: it starts no goroutines.
package bls

import "errors"

// Sizes of encodings, in bytes.
const (
	SecretKeySize = 32 // big-endian scalar
	PublicKeySize = 48 // compressed G1 point
	SignatureSize = 96 // compressed G2 point
)

// DST is the hash-to-curve domain separation tag used for every signature this package makes
// or checks, including proofs of possession (see the package documentation).
const DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_"

// Errors returned by this package; compare with errors.Is.
var (
	// ErrInvalidSecretKey reports a secret key encoding that is not a non-zero scalar below
	// the group order.
	ErrInvalidSecretKey = errors.New("bls: invalid secret key")
	// ErrInvalidPublicKey reports a public key encoding that is malformed, not on the curve,
	// not in the subgroup or the point at infinity, or a zero-valued PublicKey.
	ErrInvalidPublicKey = errors.New("bls: invalid public key")
	// ErrInvalidSignature reports a signature encoding that is malformed, not on the curve,
	// not in the subgroup or the point at infinity, or a zero-valued Signature.
	ErrInvalidSignature = errors.New("bls: invalid signature encoding")
	// ErrVerify reports a well-formed signature that does not verify.
	ErrVerify = errors.New("bls: signature verification failed")
	// ErrEmpty reports an aggregation or verification over no keys or signatures.
	ErrEmpty = errors.New("bls: nothing to aggregate")
	// ErrIdentity reports an aggregate that is the point at infinity.
	ErrIdentity = errors.New("bls: aggregate is the point at infinity")
)

// dst is DST as bytes, shared read-only by all calls.
var dst = []byte(DST)
