package bls

import (
	"bytes"
	"testing"
)

// FuzzPublicKeyFromBytes checks that decoding never panics and that every accepted input is
// the canonical encoding of a usable key.
func FuzzPublicKeyFromBytes(f *testing.F) {
	pk := mustKey(f, testRand(20)).PublicKey()
	b := pk.Bytes()
	f.Add(b[:])
	f.Add(make([]byte, PublicKeySize))
	inf := make([]byte, PublicKeySize)
	inf[0] = 0xc0
	f.Add(inf)
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > PublicKeySize {
			in = in[:PublicKeySize] // spend the effort on the point decoder, not the length check
		}
		pk, err := PublicKeyFromBytes(in)
		if err != nil {
			if !pk.IsZero() {
				t.Fatalf("non-zero key returned with error %v", err)
			}
			return
		}
		if pk.IsZero() {
			t.Fatal("accepted input decoded to the zero key")
		}
		out := pk.Bytes()
		if !bytes.Equal(out[:], in) {
			t.Fatalf("accepted non-canonical encoding %x (canonical %x)", in, out)
		}
		if _, err := AggregatePublicKeys([]PublicKey{pk, pk}); err != nil {
			t.Fatalf("accepted key cannot be aggregated: %v", err)
		}
	})
}

// FuzzSignatureFromBytes checks that decoding never panics, that every accepted input is
// canonical, and that verifying an accepted signature fails cleanly.
func FuzzSignatureFromBytes(f *testing.F) {
	sk := mustKey(f, testRand(21))
	pk := sk.PublicKey()
	sig := sk.Sign([]byte("fuzz"))
	b := sig.Bytes()
	f.Add(b[:])
	f.Add(make([]byte, SignatureSize))
	inf := make([]byte, SignatureSize)
	inf[0] = 0xc0
	f.Add(inf)
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > SignatureSize {
			in = in[:SignatureSize] // spend the effort on the point decoder, not the length check
		}
		sig, err := SignatureFromBytes(in)
		if err != nil {
			if !sig.IsZero() {
				t.Fatalf("non-zero signature returned with error %v", err)
			}
			return
		}
		out := sig.Bytes()
		if !bytes.Equal(out[:], in) {
			t.Fatalf("accepted non-canonical encoding %x (canonical %x)", in, out)
		}
		err = Verify(pk, []byte("fuzz"), sig)
		if (err == nil) != bytes.Equal(in, b[:]) {
			t.Fatalf("Verify = %v for %x", err, in)
		}
	})
}
