package bls

import (
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"runtime"

	blst "github.com/supranational/blst/bindings/go"
)

// SecretKey is a BLS12-381 secret scalar. Create one with [GenerateKey] or
// [SecretKeyFromBytes]; the zero value is not usable and its key methods panic.
//
// A SecretKey is safe for concurrent use except for [SecretKey.Zeroize], which must not race
// with other calls. Formatting it with fmt or slog prints a redacted placeholder, never the
// scalar.
type SecretKey struct {
	// s is allocated separately so that a cleanup attached to the SecretKey can zero it.
	s *blst.SecretKey
}

// GenerateKey draws 32 bytes of input keying material from rand and derives a secret key
// from it with the IETF KeyGen procedure. The caller supplies the randomness source
// (normally crypto/rand.Reader); the keying material is zeroed before returning.
func GenerateKey(rand io.Reader) (*SecretKey, error) {
	var ikm [32]byte
	defer clear(ikm[:])
	if _, err := io.ReadFull(rand, ikm[:]); err != nil {
		return nil, fmt.Errorf("bls: generate key: %w", err)
	}
	k := blst.KeyGen(ikm[:])
	if k == nil {
		return nil, fmt.Errorf("bls: generate key: keygen failed")
	}
	sk := newSecretKey(k)
	k.Zeroize()
	return sk, nil
}

// SecretKeyFromBytes decodes a 32-byte big-endian scalar, as written by [SecretKey.Bytes] and
// by fastcrypto. It rejects zero and values not below the group order with
// [ErrInvalidSecretKey]. The caller keeps ownership of b and should zero it after use.
func SecretKeyFromBytes(b []byte) (*SecretKey, error) {
	if len(b) != SecretKeySize {
		return nil, fmt.Errorf("%w: length %d, want %d", ErrInvalidSecretKey, len(b), SecretKeySize)
	}
	var k blst.SecretKey
	defer k.Zeroize()
	if k.Deserialize(b) == nil {
		return nil, ErrInvalidSecretKey
	}
	return newSecretKey(&k), nil
}

func newSecretKey(k *blst.SecretKey) *SecretKey {
	s := new(blst.SecretKey)
	*s = *k
	sk := &SecretKey{s: s}
	runtime.AddCleanup(sk, func(s *blst.SecretKey) { s.Zeroize() }, s)
	return sk
}

// Bytes returns the 32-byte big-endian encoding of the scalar. The caller owns the result and
// should zero it once it is stored.
func (sk *SecretKey) Bytes() [SecretKeySize]byte {
	var out [SecretKeySize]byte
	b := sk.s.Serialize()
	copy(out[:], b)
	clear(b)
	runtime.KeepAlive(sk) // the cleanup must not zero sk.s while it is read
	return out
}

// PublicKey returns the public key sk·G1.
func (sk *SecretKey) PublicKey() PublicKey {
	var p blst.P1Affine
	p.From(sk.s)
	runtime.KeepAlive(sk)
	return newPublicKey(&p)
}

// Sign signs msg under [DST]. Callers sign only intent-prefixed protocol messages (see the
// package documentation).
func (sk *SecretKey) Sign(msg []byte) Signature {
	var p blst.P2Affine
	p.Sign(sk.s, msg, dst)
	runtime.KeepAlive(sk)
	return newSignature(&p)
}

// Zeroize overwrites the scalar with zeros. The key must not be used afterwards (it would
// sign with the zero scalar).
func (sk *SecretKey) Zeroize() {
	sk.s.Zeroize()
}

const redacted = "bls.SecretKey(REDACTED)"

// The redaction methods have value receivers so that they also cover a dereferenced key.

// String returns a placeholder; the scalar is never printed.
func (SecretKey) String() string { return redacted }

// GoString returns a placeholder; the scalar is never printed.
func (SecretKey) GoString() string { return redacted }

// Format writes a placeholder for every verb; the scalar is never printed.
func (SecretKey) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// LogValue makes slog print a placeholder.
func (SecretKey) LogValue() slog.Value { return slog.StringValue(redacted) }

// PublicKey is a validated BLS12-381 G1 point with its compressed encoding. The zero value is
// a placeholder that every verification rejects (see [PublicKey.IsZero]).
type PublicKey struct {
	p blst.P1Affine
	b [PublicKeySize]byte
}

// PublicKeyFromBytes decodes a 48-byte compressed G1 point. It is strict: it rejects wrong
// lengths, non-canonical or malformed encodings, points off the curve or outside the
// prime-order subgroup, and the point at infinity, all with [ErrInvalidPublicKey]. b is not
// retained.
func PublicKeyFromBytes(b []byte) (PublicKey, error) {
	if len(b) != PublicKeySize {
		return PublicKey{}, fmt.Errorf("%w: length %d, want %d", ErrInvalidPublicKey, len(b), PublicKeySize)
	}
	var pk PublicKey
	if pk.p.Uncompress(b) == nil || !pk.p.KeyValidate() {
		return PublicKey{}, ErrInvalidPublicKey
	}
	copy(pk.b[:], b)
	return pk, nil
}

// newPublicKey wraps a point already known to be in G1.
func newPublicKey(p *blst.P1Affine) PublicKey {
	pk := PublicKey{p: *p}
	copy(pk.b[:], p.Compress())
	return pk
}

// Bytes returns the 48-byte compressed encoding.
func (pk PublicKey) Bytes() [PublicKeySize]byte { return pk.b }

// IsZero reports whether pk is the zero value rather than a decoded or derived key.
func (pk PublicKey) IsZero() bool { return pk.b == [PublicKeySize]byte{} }

// Equal reports whether pk and other are the same key.
func (pk PublicKey) Equal(other PublicKey) bool {
	return pk.b == other.b
}

// String returns the hex encoding of the compressed key.
func (pk PublicKey) String() string { return hex.EncodeToString(pk.b[:]) }

// Signature is a validated BLS12-381 G2 point with its compressed encoding. The zero value is
// a placeholder that every verification rejects (see [Signature.IsZero]).
type Signature struct {
	p blst.P2Affine
	b [SignatureSize]byte
}

// SignatureFromBytes decodes a 96-byte compressed G2 point. It is strict: it rejects wrong
// lengths, non-canonical or malformed encodings, points off the curve or outside the
// prime-order subgroup, and the point at infinity, all with [ErrInvalidSignature]. The
// subgroup check dominates its cost (see the benchmarks). b is not retained.
func SignatureFromBytes(b []byte) (Signature, error) {
	if len(b) != SignatureSize {
		return Signature{}, fmt.Errorf("%w: length %d, want %d", ErrInvalidSignature, len(b), SignatureSize)
	}
	var sig Signature
	if sig.p.Uncompress(b) == nil || !sig.p.SigValidate(true) {
		return Signature{}, ErrInvalidSignature
	}
	copy(sig.b[:], b)
	return sig, nil
}

// newSignature wraps a point already known to be in G2.
func newSignature(p *blst.P2Affine) Signature {
	sig := Signature{p: *p}
	copy(sig.b[:], p.Compress())
	return sig
}

// Bytes returns the 96-byte compressed encoding.
func (sig Signature) Bytes() [SignatureSize]byte { return sig.b }

// IsZero reports whether sig is the zero value rather than a decoded or computed signature.
func (sig Signature) IsZero() bool { return sig.b == [SignatureSize]byte{} }

// Equal reports whether sig and other are the same signature.
func (sig Signature) Equal(other Signature) bool { return sig.b == other.b }

// String returns the hex encoding of the compressed signature.
func (sig Signature) String() string { return hex.EncodeToString(sig.b[:]) }
