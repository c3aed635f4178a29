package bls

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"

	blst "github.com/supranational/blst/bindings/go"
)

// testRand returns a deterministic randomness source for key generation in tests.
func testRand(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return rand.NewChaCha8(s)
}

func mustKey(t testing.TB, r *rand.ChaCha8) *SecretKey {
	t.Helper()
	sk, err := GenerateKey(r)
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSignVerify(t *testing.T) {
	r := testRand(1)
	sk, other := mustKey(t, r), mustKey(t, r)
	pk := sk.PublicKey()
	msg := []byte("walrus storage confirmation")
	sig := sk.Sign(msg)

	if err := Verify(pk, msg, sig); err != nil {
		t.Fatalf("Verify(valid) = %v", err)
	}
	if err := Verify(pk, []byte("walrus storage confirmatioN"), sig); !errors.Is(err, ErrVerify) {
		t.Errorf("Verify(wrong message) = %v, want ErrVerify", err)
	}
	if err := Verify(other.PublicKey(), msg, sig); !errors.Is(err, ErrVerify) {
		t.Errorf("Verify(wrong key) = %v, want ErrVerify", err)
	}
	if err := Verify(pk, msg, other.Sign(msg)); !errors.Is(err, ErrVerify) {
		t.Errorf("Verify(other signer) = %v, want ErrVerify", err)
	}
	if err := Verify(PublicKey{}, msg, sig); !errors.Is(err, ErrInvalidPublicKey) {
		t.Errorf("Verify(zero key) = %v, want ErrInvalidPublicKey", err)
	}
	if err := Verify(pk, msg, Signature{}); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("Verify(zero signature) = %v, want ErrInvalidSignature", err)
	}
	// Empty messages are ordinary messages.
	if err := Verify(pk, nil, sk.Sign(nil)); err != nil {
		t.Errorf("Verify(empty message) = %v", err)
	}
	// Signing is deterministic.
	if again := sk.Sign(msg); !again.Equal(sig) {
		t.Errorf("Sign is not deterministic")
	}
}

// TestDrandMainnetVector verifies a round of the drand League of Entropy mainnet beacon
// (chain 8990e7a9...), a BLS12-381 min-pk signature with the NUL ciphersuite that Sui
// contracts check with bls12381_min_pk_verify. It pins DST against an independent signer.
// The message of round r is sha256(previous_signature || r as big-endian u64). Values from
// the drand-verify README (noislabs/drand-verify, mcdcam/python-drand-verify).
func TestDrandMainnetVector(t *testing.T) {
	const round = 3311596
	pk, err := PublicKeyFromBytes(mustHex(t, "868f005eb8e6e4ca0a47c8a77ceaa5309a47978a7c71bc5cce96366b5d7a569937c529eeda66c7293784a9402801af31"))
	if err != nil {
		t.Fatal(err)
	}
	prev := mustHex(t, "8ed588f2a7716fb1349e2d9803da5db0005e98a83783c353d4a08f183236a9ad91d70ddb01266f4b7c576983db464b430e65680b9e0098552758afd6c1e6afcb77e3f62fe1b93d42d1cb63abbb2205512fe12fbf74ea9c5ac3b8f5c1e283a1d8")
	sigBytes := mustHex(t, "a696b9409ababce45749c3a4ec369074453dd4a79967734e1390d969c8ad8d98897d217b9121e92c8ddebbddda8d92f900e3bd6bf9deb166863b1a19390d743f82774001487594c5c09e581db7365f02b70a2c8cc41ce32446ef08e4890c4754")
	sig, err := SignatureFromBytes(sigBytes)
	if err != nil {
		t.Fatal(err)
	}
	msg := sha256.Sum256(binary.BigEndian.AppendUint64(bytes.Clone(prev), round))
	if err := Verify(pk, msg[:], sig); err != nil {
		t.Fatalf("drand round %d: %v", round, err)
	}
	if got, want := sha256.Sum256(sigBytes), mustHex(t, "647c07b2abbf7ff2afb4d670214f565e5cd9f9c91bfdcecb59a21f3c78d73920"); !bytes.Equal(got[:], want) {
		t.Errorf("randomness = %x, want %x", got, want)
	}
	wrong := sha256.Sum256(binary.BigEndian.AppendUint64(bytes.Clone(prev), round+1))
	if err := Verify(pk, wrong[:], sig); !errors.Is(err, ErrVerify) {
		t.Errorf("wrong round: %v, want ErrVerify", err)
	}
	// The same signature does not verify under the IETF proof-of-possession ciphersuite.
	var popSuite blst.P2Affine
	popSuite.Uncompress(sigBytes)
	pkPoint := new(blst.P1Affine).Uncompress(pk.b[:])
	if popSuite.Verify(true, pkPoint, true, msg[:], []byte("BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_")) {
		t.Errorf("drand signature verified under the _POP_ ciphersuite")
	}
}

func TestSecretKeyEncoding(t *testing.T) {
	// sk = 1 gives the G1 generator.
	var one [SecretKeySize]byte
	one[SecretKeySize-1] = 1
	sk, err := SecretKeyFromBytes(one[:])
	if err != nil {
		t.Fatal(err)
	}
	const g1 = "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb"
	if got := sk.PublicKey().String(); got != g1 {
		t.Errorf("PublicKey(1) = %s, want G1 generator %s", got, g1)
	}
	if sk.Bytes() != one {
		t.Errorf("Bytes round trip failed")
	}

	// Round trip of a random key.
	r := testRand(2)
	sk = mustKey(t, r)
	b := sk.Bytes()
	sk2, err := SecretKeyFromBytes(b[:])
	if err != nil {
		t.Fatal(err)
	}
	if !sk2.PublicKey().Equal(sk.PublicKey()) {
		t.Errorf("decoded key has a different public key")
	}

	order := mustHex(t, "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001")
	orderMinus1 := bytes.Clone(order)
	orderMinus1[len(orderMinus1)-1] = 0
	bad := map[string][]byte{
		"zero":   make([]byte, 32),
		"order":  order,
		"max":    bytes.Repeat([]byte{0xff}, 32),
		"short":  one[:31],
		"long":   append(one[:], 0),
		"nil":    nil,
		"empty":  {},
		"order+": append(order[:31:31], 2),
	}
	for name, b := range bad {
		if _, err := SecretKeyFromBytes(b); !errors.Is(err, ErrInvalidSecretKey) {
			t.Errorf("SecretKeyFromBytes(%s) = %v, want ErrInvalidSecretKey", name, err)
		}
	}
	if _, err := SecretKeyFromBytes(orderMinus1); err != nil {
		t.Errorf("SecretKeyFromBytes(order-1) = %v", err)
	}
}

func TestGenerateKeyErrors(t *testing.T) {
	if _, err := GenerateKey(bytes.NewReader(make([]byte, 10))); err == nil || !strings.HasPrefix(err.Error(), "bls: ") {
		t.Errorf("GenerateKey(short reader) = %v, want bls: error", err)
	}
	a, b := mustKey(t, testRand(3)), mustKey(t, testRand(3))
	if !a.PublicKey().Equal(b.PublicKey()) {
		t.Errorf("GenerateKey is not a function of its randomness")
	}
}

func TestSecretKeyNeverPrinted(t *testing.T) {
	sk := mustKey(t, testRand(4))
	b := sk.Bytes()
	secretHex := hex.EncodeToString(b[:])
	type wrapper struct{ Key *SecretKey }
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, sk), fmt.Sprintf(verb, *sk), fmt.Sprintf(verb, wrapper{sk}))
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("key", "sk", sk)
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("key", "sk", sk)
	outputs = append(outputs, logBuf.String())
	for _, out := range outputs {
		if strings.Contains(strings.ToLower(out), secretHex[:16]) {
			t.Errorf("secret key bytes printed: %q", out)
		}
		if !strings.Contains(out, "REDACTED") {
			t.Errorf("output %q lacks the redaction placeholder", out)
		}
	}
}

func TestZeroize(t *testing.T) {
	sk := mustKey(t, testRand(5))
	sk.Zeroize()
	if sk.Bytes() != [SecretKeySize]byte{} {
		t.Errorf("Zeroize left key material")
	}
}

// notInSubgroupG1 returns a compressed point that is on the curve but outside G1.
func notInSubgroupG1(t *testing.T) []byte {
	t.Helper()
	for x := byte(1); x < 255; x++ {
		b := make([]byte, PublicKeySize)
		b[0] = 0x80
		b[PublicKeySize-1] = x
		var p blst.P1Affine
		if p.Uncompress(b) != nil && !p.InG1() {
			return b
		}
	}
	t.Fatal("no on-curve point outside G1 found")
	return nil
}

// notInSubgroupG2 returns a compressed point that is on the curve but outside G2.
func notInSubgroupG2(t *testing.T) []byte {
	t.Helper()
	for x := byte(1); x < 255; x++ {
		b := make([]byte, SignatureSize)
		b[0] = 0x80
		b[SignatureSize-1] = x
		var p blst.P2Affine
		if p.Uncompress(b) != nil && !p.InG2() {
			return b
		}
	}
	t.Fatal("no on-curve point outside G2 found")
	return nil
}

// notOnCurve returns a compressed x for which x^3+b has no square root.
func notOnCurveG1(t *testing.T) []byte {
	t.Helper()
	for x := byte(1); x < 255; x++ {
		b := make([]byte, PublicKeySize)
		b[0] = 0x80
		b[PublicKeySize-1] = x
		var p blst.P1Affine
		if p.Uncompress(b) == nil {
			return b
		}
	}
	t.Fatal("no x off the curve found")
	return nil
}

// fieldModulus is p of BLS12-381, big-endian; it is not a canonical coordinate.
const fieldModulus = "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab"

func TestPublicKeyStrictDecoding(t *testing.T) {
	pk := mustKey(t, testRand(6)).PublicKey()
	good := pk.Bytes()
	got, err := PublicKeyFromBytes(good[:])
	if err != nil || !got.Equal(pk) {
		t.Fatalf("round trip: %v", err)
	}

	infinity := make([]byte, PublicKeySize)
	infinity[0] = 0xc0
	infinityDirty := bytes.Clone(infinity)
	infinityDirty[PublicKeySize-1] = 1
	uncompressedFlag := bytes.Clone(good[:])
	uncompressedFlag[0] &^= 0x80
	nonCanonical := mustHex(t, fieldModulus)
	nonCanonical[0] |= 0x80
	flipSign := bytes.Clone(good[:])
	flipSign[0] ^= 0x20 // the negated key is valid; make sure it is a different key
	if k, err := PublicKeyFromBytes(flipSign); err != nil || k.Equal(pk) {
		t.Errorf("sign-flipped key: %v", err)
	}

	cases := map[string][]byte{
		"nil":               nil,
		"short":             good[:47],
		"long":              append(good[:], 0),
		"uncompressed size": make([]byte, 96),
		"zeros":             make([]byte, PublicKeySize),
		"infinity":          infinity,
		"infinity dirty":    infinityDirty,
		"uncompressed flag": uncompressedFlag,
		"x = p":             nonCanonical,
		"not on curve":      notOnCurveG1(t),
		"not in subgroup":   notInSubgroupG1(t),
	}
	for name, b := range cases {
		if _, err := PublicKeyFromBytes(b); !errors.Is(err, ErrInvalidPublicKey) {
			t.Errorf("PublicKeyFromBytes(%s) = %v, want ErrInvalidPublicKey", name, err)
		}
	}
}

func TestSignatureStrictDecoding(t *testing.T) {
	sig := mustKey(t, testRand(7)).Sign([]byte("m"))
	good := sig.Bytes()
	got, err := SignatureFromBytes(good[:])
	if err != nil || !got.Equal(sig) {
		t.Fatalf("round trip: %v", err)
	}

	infinity := make([]byte, SignatureSize)
	infinity[0] = 0xc0
	uncompressedFlag := bytes.Clone(good[:])
	uncompressedFlag[0] &^= 0x80
	nonCanonical := append(mustHex(t, fieldModulus), make([]byte, 48)...)
	nonCanonical[0] |= 0x80

	cases := map[string][]byte{
		"nil":               nil,
		"short":             good[:95],
		"long":              append(good[:], 0),
		"public key size":   make([]byte, 48),
		"zeros":             make([]byte, SignatureSize),
		"infinity":          infinity,
		"uncompressed flag": uncompressedFlag,
		"x.c1 = p":          nonCanonical,
		"not in subgroup":   notInSubgroupG2(t),
	}
	for name, b := range cases {
		if _, err := SignatureFromBytes(b); !errors.Is(err, ErrInvalidSignature) {
			t.Errorf("SignatureFromBytes(%s) = %v, want ErrInvalidSignature", name, err)
		}
	}
}

type signer struct {
	sk *SecretKey
	pk PublicKey
}

func signers(t testing.TB, n int, seed uint64) []signer {
	t.Helper()
	r := testRand(seed)
	out := make([]signer, n)
	for i := range out {
		sk := mustKey(t, r)
		out[i] = signer{sk, sk.PublicKey()}
	}
	return out
}

func TestAggregate(t *testing.T) {
	const n = 100
	ss := signers(t, n, 8)
	msg := []byte("certify blob")
	pks := make([]PublicKey, n)
	sigs := make([]Signature, n)
	for i, s := range ss {
		pks[i] = s.pk
		sigs[i] = s.sk.Sign(msg)
	}
	agg, err := AggregateSignatures(sigs)
	if err != nil {
		t.Fatal(err)
	}
	if err := FastAggregateVerify(pks, msg, agg); err != nil {
		t.Fatalf("FastAggregateVerify(%d signers) = %v", n, err)
	}
	aggPK, err := AggregatePublicKeys(pks)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(aggPK, msg, agg); err != nil {
		t.Errorf("Verify(aggregate key) = %v", err)
	}
	// The aggregate round-trips through the strict decoders.
	if b := agg.Bytes(); !mustSig(t, b[:]).Equal(agg) {
		t.Errorf("aggregate signature does not round-trip")
	}
	if b := aggPK.Bytes(); !mustPK(t, b[:]).Equal(aggPK) {
		t.Errorf("aggregate key does not round-trip")
	}
	// Order does not matter.
	rev := make([]Signature, n)
	for i := range sigs {
		rev[n-1-i] = sigs[i]
	}
	if agg2, _ := AggregateSignatures(rev); !agg2.Equal(agg) {
		t.Errorf("aggregation depends on order")
	}

	t.Run("one signer signed another message", func(t *testing.T) {
		bad := append([]Signature(nil), sigs...)
		bad[37] = ss[37].sk.Sign([]byte("certify blog"))
		agg, err := AggregateSignatures(bad)
		if err != nil {
			t.Fatal(err)
		}
		if err := FastAggregateVerify(pks, msg, agg); !errors.Is(err, ErrVerify) {
			t.Errorf("got %v, want ErrVerify", err)
		}
	})
	t.Run("one wrong key", func(t *testing.T) {
		bad := append([]PublicKey(nil), pks...)
		bad[63] = mustKey(t, testRand(99)).PublicKey()
		if err := FastAggregateVerify(bad, msg, agg); !errors.Is(err, ErrVerify) {
			t.Errorf("got %v, want ErrVerify", err)
		}
	})
	t.Run("one key missing", func(t *testing.T) {
		if err := FastAggregateVerify(pks[1:], msg, agg); !errors.Is(err, ErrVerify) {
			t.Errorf("got %v, want ErrVerify", err)
		}
	})
	t.Run("duplicate signer counted twice", func(t *testing.T) {
		dupSig, err := AggregateSignatures(append([]Signature{sigs[5]}, sigs...))
		if err != nil {
			t.Fatal(err)
		}
		if err := FastAggregateVerify(append([]PublicKey{pks[5]}, pks...), msg, dupSig); err != nil {
			t.Errorf("got %v", err)
		}
		if err := FastAggregateVerify(pks, msg, dupSig); !errors.Is(err, ErrVerify) {
			t.Errorf("duplicate not accounted for: got %v", err)
		}
	})
	t.Run("single", func(t *testing.T) {
		one, err := AggregateSignatures(sigs[:1])
		if err != nil || !one.Equal(sigs[0]) {
			t.Errorf("aggregate of one = %v, %v", one, err)
		}
		if err := FastAggregateVerify(pks[:1], msg, sigs[0]); err != nil {
			t.Errorf("FastAggregateVerify(one) = %v", err)
		}
	})
}

func mustSig(t *testing.T, b []byte) Signature {
	t.Helper()
	s, err := SignatureFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustPK(t *testing.T, b []byte) PublicKey {
	t.Helper()
	k, err := PublicKeyFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAggregateErrors(t *testing.T) {
	ss := signers(t, 2, 9)
	msg := []byte("m")
	sig := ss[0].sk.Sign(msg)
	pk := ss[0].pk

	if _, err := AggregateSignatures(nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("AggregateSignatures(nil) = %v", err)
	}
	if _, err := AggregatePublicKeys(nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("AggregatePublicKeys(nil) = %v", err)
	}
	if err := FastAggregateVerify(nil, msg, sig); !errors.Is(err, ErrEmpty) {
		t.Errorf("FastAggregateVerify(no keys) = %v", err)
	}
	if err := FastAggregateVerify([]PublicKey{pk}, msg, Signature{}); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("FastAggregateVerify(zero sig) = %v", err)
	}
	if _, err := AggregateSignatures([]Signature{sig, {}}); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("AggregateSignatures(zero) = %v", err)
	}
	if _, err := AggregatePublicKeys([]PublicKey{pk, {}}); !errors.Is(err, ErrInvalidPublicKey) {
		t.Errorf("AggregatePublicKeys(zero) = %v", err)
	}
	if err := FastAggregateVerify([]PublicKey{{}}, msg, sig); !errors.Is(err, ErrInvalidPublicKey) {
		t.Errorf("FastAggregateVerify(zero key) = %v", err)
	}

	// pk + (-pk) is the point at infinity.
	neg, err := SubtractPublicKeys(pk, []PublicKey{pk, pk})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AggregatePublicKeys([]PublicKey{pk, neg}); !errors.Is(err, ErrIdentity) {
		t.Errorf("AggregatePublicKeys(pk, -pk) = %v, want ErrIdentity", err)
	}
	if err := FastAggregateVerify([]PublicKey{pk, neg}, msg, sig); !errors.Is(err, ErrIdentity) {
		t.Errorf("FastAggregateVerify(pk, -pk) = %v, want ErrIdentity", err)
	}
	negSig, err := AggregateSignatures([]Signature{sig})
	if err != nil {
		t.Fatal(err)
	}
	b := negSig.Bytes()
	b[0] ^= 0x20 // flip the sign bit: the negated signature
	negSig = mustSig(t, b[:])
	if _, err := AggregateSignatures([]Signature{sig, negSig}); !errors.Is(err, ErrIdentity) {
		t.Errorf("AggregateSignatures(s, -s) = %v, want ErrIdentity", err)
	}
}

func TestSubtractPublicKeys(t *testing.T) {
	const n = 20
	ss := signers(t, n, 10)
	msg := []byte("certificate")
	all := make([]PublicKey, n)
	for i, s := range ss {
		all[i] = s.pk
	}
	total, err := AggregatePublicKeys(all)
	if err != nil {
		t.Fatal(err)
	}

	nonSigners := map[int]bool{2: true, 3: true, 11: true, 19: true}
	var sigs []Signature
	var signerKeys, nonSignerKeys []PublicKey
	for i, s := range ss {
		if nonSigners[i] {
			nonSignerKeys = append(nonSignerKeys, s.pk)
			continue
		}
		signerKeys = append(signerKeys, s.pk)
		sigs = append(sigs, s.sk.Sign(msg))
	}
	agg, err := AggregateSignatures(sigs)
	if err != nil {
		t.Fatal(err)
	}
	key, err := SubtractPublicKeys(total, nonSignerKeys)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := AggregatePublicKeys(signerKeys)
	if err != nil {
		t.Fatal(err)
	}
	if !key.Equal(direct) {
		t.Errorf("total - non-signers != sum of signers")
	}
	if err := Verify(key, msg, agg); err != nil {
		t.Errorf("Verify(total - non-signers) = %v", err)
	}
	// Forgetting a non-signer makes verification fail.
	short, err := SubtractPublicKeys(total, nonSignerKeys[1:])
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(short, msg, agg); !errors.Is(err, ErrVerify) {
		t.Errorf("Verify(missing non-signer) = %v, want ErrVerify", err)
	}

	if got, err := SubtractPublicKeys(total, nil); err != nil || !got.Equal(total) {
		t.Errorf("SubtractPublicKeys(total, nil) = %v, %v", got, err)
	}
	if _, err := SubtractPublicKeys(total, all); !errors.Is(err, ErrIdentity) {
		t.Errorf("SubtractPublicKeys(total, all) = %v, want ErrIdentity", err)
	}
	if _, err := SubtractPublicKeys(PublicKey{}, all); !errors.Is(err, ErrInvalidPublicKey) {
		t.Errorf("SubtractPublicKeys(zero total) = %v", err)
	}
	if _, err := SubtractPublicKeys(total, []PublicKey{{}}); !errors.Is(err, ErrInvalidPublicKey) {
		t.Errorf("SubtractPublicKeys(zero key) = %v", err)
	}
}

func TestPopMessageLayout(t *testing.T) {
	pk := mustKey(t, testRand(11)).PublicKey()
	var addr [32]byte
	for i := range addr {
		addr[i] = byte(0xa0 + i)
	}
	msg := PopMessage(0x01020304, addr, pk)
	pkb := pk.Bytes()
	want := append([]byte{0, 0, 3, 0x04, 0x03, 0x02, 0x01}, addr[:]...)
	want = append(want, pkb[:]...)
	if !bytes.Equal(msg, want) {
		t.Errorf("PopMessage =\n%x\nwant\n%x", msg, want)
	}
	if len(msg) != PopMessageSize || PopMessageSize != 87 {
		t.Errorf("len = %d, PopMessageSize = %d, want 87", len(msg), PopMessageSize)
	}
}

func TestProofOfPossession(t *testing.T) {
	r := testRand(12)
	sk, other := mustKey(t, r), mustKey(t, r)
	pk := sk.PublicKey()
	addr := [32]byte{1, 2, 3}
	const epoch = 7
	proof := sk.ProvePossession(epoch, addr)

	if err := VerifyPossession(pk, epoch, addr, proof); err != nil {
		t.Fatalf("VerifyPossession(valid) = %v", err)
	}
	// It is a plain signature over PopMessage under DST, as Walrus checks it.
	if err := Verify(pk, PopMessage(epoch, addr, pk), proof); err != nil {
		t.Errorf("proof is not a signature over PopMessage: %v", err)
	}
	if err := VerifyPossession(pk, epoch+1, addr, proof); !errors.Is(err, ErrVerify) {
		t.Errorf("wrong epoch: %v", err)
	}
	if err := VerifyPossession(pk, epoch, [32]byte{1, 2, 4}, proof); !errors.Is(err, ErrVerify) {
		t.Errorf("wrong address: %v", err)
	}
	if err := VerifyPossession(other.PublicKey(), epoch, addr, proof); !errors.Is(err, ErrVerify) {
		t.Errorf("wrong key: %v", err)
	}
	// A key cannot borrow another key's proof even when it signs the other key's message.
	stolen := other.Sign(PopMessage(epoch, addr, pk))
	if err := VerifyPossession(other.PublicKey(), epoch, addr, stolen); !errors.Is(err, ErrVerify) {
		t.Errorf("proof over another key's message accepted: %v", err)
	}
	// A signature over an ordinary message is not a proof.
	if err := VerifyPossession(pk, epoch, addr, sk.Sign([]byte("hello"))); !errors.Is(err, ErrVerify) {
		t.Errorf("ordinary signature accepted as proof: %v", err)
	}
	// An IETF-style proof (the key bytes signed under the _POP_ tag) is not a Walrus proof.
	var ietf blst.P2Affine
	pkb := pk.Bytes()
	ietf.Sign(sk.s, pkb[:], []byte("BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"))
	if err := VerifyPossession(pk, epoch, addr, newSignature(&ietf)); !errors.Is(err, ErrVerify) {
		t.Errorf("IETF proof of possession accepted: %v", err)
	}
	if err := VerifyPossession(PublicKey{}, epoch, addr, proof); !errors.Is(err, ErrInvalidPublicKey) {
		t.Errorf("zero key: %v", err)
	}
	if err := VerifyPossession(pk, epoch, addr, Signature{}); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("zero proof: %v", err)
	}
}

func TestErrorPrefix(t *testing.T) {
	for _, err := range []error{ErrInvalidSecretKey, ErrInvalidPublicKey, ErrInvalidSignature, ErrVerify, ErrEmpty, ErrIdentity} {
		if !strings.HasPrefix(err.Error(), "bls: ") {
			t.Errorf("%q lacks the bls: prefix", err)
		}
	}
}
