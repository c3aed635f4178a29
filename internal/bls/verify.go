package bls

import (
	"fmt"

	blst "github.com/supranational/blst/bindings/go"
)

// blstSuccess is BLST_SUCCESS of the C enum BLST_ERROR, which the Go binding does not export.
const blstSuccess = 0

// Verify checks that sig is a signature on msg under pk. It returns nil on success,
// [ErrVerify] if the signature does not match, and [ErrInvalidPublicKey] or
// [ErrInvalidSignature] if pk or sig is a zero value.
func Verify(pk PublicKey, msg []byte, sig Signature) error {
	if pk.IsZero() {
		return ErrInvalidPublicKey
	}
	if sig.IsZero() {
		return ErrInvalidSignature
	}
	if !verifyPoint(&pk.p, msg, &sig.p) {
		return ErrVerify
	}
	return nil
}

// verifyPoint checks e(pk, H(msg)) == e(G1, sig) on the calling goroutine. Both points are
// already validated (subgroup, not infinity), so blst's own checks are skipped.
func verifyPoint(pk *blst.P1Affine, msg []byte, sig *blst.P2Affine) bool {
	ctx := blst.PairingCtx(true, dst)
	if blst.PairingAggregatePkInG1(ctx, pk, false, sig, false, msg) != blstSuccess {
		return false
	}
	blst.PairingCommit(ctx)
	return blst.PairingFinalVerify(ctx)
}

// FastAggregateVerify checks that sig is an aggregate of signatures on the same msg by the
// holders of pks (listed once per signature aggregated). It costs one sum of the keys and one
// signature verification. Every key must have a verified proof of possession (see the package
// documentation).
//
// It returns nil on success, [ErrEmpty] for no keys, [ErrInvalidPublicKey] or
// [ErrInvalidSignature] for zero values, [ErrIdentity] if the keys sum to the point at
// infinity, and [ErrVerify] if the signature does not match.
func FastAggregateVerify(pks []PublicKey, msg []byte, sig Signature) error {
	if sig.IsZero() {
		return ErrInvalidSignature
	}
	agg, err := AggregatePublicKeys(pks)
	if err != nil {
		return err
	}
	return Verify(agg, msg, sig)
}

// AggregateSignatures adds signatures (points of G2). The result verifies with
// [FastAggregateVerify] over the signers' keys when all signed the same message. Inputs are
// already validated, so this costs only point additions; decoding with [SignatureFromBytes]
// is the expensive step.
//
// It returns [ErrEmpty] for no signatures, [ErrInvalidSignature] if one is a zero value and
// [ErrIdentity] if the sum is the point at infinity.
func AggregateSignatures(sigs []Signature) (Signature, error) {
	if len(sigs) == 0 {
		return Signature{}, ErrEmpty
	}
	pts := make([]*blst.P2Affine, len(sigs))
	for i := range sigs {
		if sigs[i].IsZero() {
			return Signature{}, fmt.Errorf("%w: signature %d is zero", ErrInvalidSignature, i)
		}
		pts[i] = &sigs[i].p
	}
	sum := blst.P2AffinesAdd(pts)
	return signatureFromSum(sum)
}

// AggregatePublicKeys adds public keys (points of G1). The result, used with [Verify],
// checks an aggregate signature of all the keys' holders on one message, exactly as
// [FastAggregateVerify] does. A chain can store the aggregate of a whole committee once and
// derive the signers' key per certificate with [SubtractPublicKeys].
//
// It returns [ErrEmpty] for no keys, [ErrInvalidPublicKey] if one is a zero value and
// [ErrIdentity] if the sum is the point at infinity.
func AggregatePublicKeys(pks []PublicKey) (PublicKey, error) {
	if len(pks) == 0 {
		return PublicKey{}, ErrEmpty
	}
	pts := make([]*blst.P1Affine, len(pks))
	for i := range pks {
		if pks[i].IsZero() {
			return PublicKey{}, fmt.Errorf("%w: key %d is zero", ErrInvalidPublicKey, i)
		}
		pts[i] = &pks[i].p
	}
	sum := blst.P1AffinesAdd(pts)
	return publicKeyFromSum(sum)
}

// SubtractPublicKeys returns total minus the sum of pks. With total the aggregate of a
// committee's keys and pks the keys of the members that did not sign, the result is the
// aggregate key of the signers, as in Walrus's bls_aggregate.move; verifying a certificate
// then costs one batched sum of the non-signers' keys, one subtraction and one [Verify].
// Subtracting a key that is not part of total gives a meaningless key against which honest
// signatures fail.
//
// With no pks it returns total unchanged. It returns [ErrInvalidPublicKey] if total or one of
// pks is a zero value and [ErrIdentity] if the result is the point at infinity (every member
// subtracted).
func SubtractPublicKeys(total PublicKey, pks []PublicKey) (PublicKey, error) {
	if total.IsZero() {
		return PublicKey{}, fmt.Errorf("%w: total is zero", ErrInvalidPublicKey)
	}
	if len(pks) == 0 {
		return total, nil
	}
	pts := make([]*blst.P1Affine, len(pks))
	for i := range pks {
		if pks[i].IsZero() {
			return PublicKey{}, fmt.Errorf("%w: key %d is zero", ErrInvalidPublicKey, i)
		}
		pts[i] = &pks[i].p
	}
	// One batched affine sum and one subtraction are cheaper than len(pks) subtractions.
	sub := blst.P1AffinesAdd(pts)
	var acc blst.P1
	acc.FromAffine(&total.p)
	acc.SubAssign(sub)
	return publicKeyFromSum(&acc)
}

// publicKeyFromSum converts a sum of subgroup points; the sum stays in the subgroup, so only
// infinity needs checking.
func publicKeyFromSum(sum *blst.P1) (PublicKey, error) {
	pk := newPublicKey(sum.ToAffine())
	if isInfinity(pk.b[0]) {
		return PublicKey{}, ErrIdentity
	}
	return pk, nil
}

func signatureFromSum(sum *blst.P2) (Signature, error) {
	sig := newSignature(sum.ToAffine())
	if isInfinity(sig.b[0]) {
		return Signature{}, ErrIdentity
	}
	return sig, nil
}

// isInfinity reads the infinity flag (bit 6) of the first byte of a compressed point.
func isInfinity(b0 byte) bool { return b0&0x40 != 0 }
