package bls

import "testing"

// certSigners is 2f+1 for n = 1000 shards when every node holds one shard: the number of
// signatures a certificate carries in the worst case the chain must verify.
const certSigners = 667

func BenchmarkSign(b *testing.B) {
	sk := mustKey(b, testRand(30))
	msg := make([]byte, 40) // a permanent-blob confirmation
	b.ReportAllocs()
	for b.Loop() {
		sk.Sign(msg)
	}
}

func BenchmarkVerify(b *testing.B) {
	sk := mustKey(b, testRand(31))
	msg := make([]byte, 40)
	pk, sig := sk.PublicKey(), sk.Sign(msg)
	b.ReportAllocs()
	for b.Loop() {
		if err := Verify(pk, msg, sig); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPublicKeyFromBytes(b *testing.B) {
	pk := mustKey(b, testRand(32)).PublicKey().Bytes()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PublicKeyFromBytes(pk[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignatureFromBytes(b *testing.B) {
	sig := mustKey(b, testRand(33)).Sign(nil).Bytes()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SignatureFromBytes(sig[:]); err != nil {
			b.Fatal(err)
		}
	}
}

type certFixture struct {
	pks      []PublicKey
	sigs     []Signature
	encoded  [][]byte
	msg      []byte
	agg      Signature
	total    PublicKey // sum over a 1000-member committee that includes the signers
	nonSigns []PublicKey
}

func newCertFixture(b *testing.B) certFixture {
	b.Helper()
	ss := signers(b, 1000, 34)
	fx := certFixture{msg: make([]byte, 40)}
	all := make([]PublicKey, len(ss))
	for i, s := range ss {
		all[i] = s.pk
		if i >= certSigners {
			fx.nonSigns = append(fx.nonSigns, s.pk)
			continue
		}
		sig := s.sk.Sign(fx.msg)
		enc := sig.Bytes()
		fx.pks = append(fx.pks, s.pk)
		fx.sigs = append(fx.sigs, sig)
		fx.encoded = append(fx.encoded, enc[:])
	}
	var err error
	if fx.agg, err = AggregateSignatures(fx.sigs); err != nil {
		b.Fatal(err)
	}
	if fx.total, err = AggregatePublicKeys(all); err != nil {
		b.Fatal(err)
	}
	return fx
}

// BenchmarkAggregateSignatures667 sums 667 already-decoded signatures.
func BenchmarkAggregateSignatures667(b *testing.B) {
	fx := newCertFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AggregateSignatures(fx.sigs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeAndAggregate667 is an aggregator's real cost: decode (with subgroup check)
// 667 signatures received from nodes and sum them.
func BenchmarkDecodeAndAggregate667(b *testing.B) {
	fx := newCertFixture(b)
	sigs := make([]Signature, len(fx.encoded))
	b.ReportAllocs()
	for b.Loop() {
		for i, enc := range fx.encoded {
			var err error
			if sigs[i], err = SignatureFromBytes(enc); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := AggregateSignatures(sigs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFastAggregateVerify667 verifies a certificate with 667 signers from their keys.
func BenchmarkFastAggregateVerify667(b *testing.B) {
	fx := newCertFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := FastAggregateVerify(fx.pks, fx.msg, fx.agg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCertificateBySubtraction667 verifies the same certificate the way the chain does:
// a stored committee total (1000 members) minus the 333 non-signers, then one Verify.
func BenchmarkCertificateBySubtraction667(b *testing.B) {
	fx := newCertFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		key, err := SubtractPublicKeys(fx.total, fx.nonSigns)
		if err != nil {
			b.Fatal(err)
		}
		if err := Verify(key, fx.msg, fx.agg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAggregatePublicKeys667(b *testing.B) {
	fx := newCertFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AggregatePublicKeys(fx.pks); err != nil {
			b.Fatal(err)
		}
	}
}
