package redstuff_test

// Fuzz targets. The decoders must never panic, and whatever they accept must re-encode to
// the input byte for byte (BCS is canonical). The codec targets pick n, a blob and a subset
// of slivers or symbols; decoding and recovery must give the right answer or a typed error.
//
//	go test -run '^$' -fuzz FuzzDecodeMetadata -fuzztime 10s -fuzzminimizetime 200x ./internal/redstuff/

import (
	"bytes"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/merkle"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// fuzzFixture is the small real blob that seeds the decoder targets and against which
// decoded values are verified.
type fuzzFixture struct {
	c *propCase
	// expanded[a][i] is sliver i of axis a expanded, to look up the true symbols.
	expanded [2][]*redstuff.ExpandedSliver
}

var (
	fixtureOnce sync.Once
	fixture     *fuzzFixture
)

type panicker struct{}

func (panicker) Helper()                           {}
func (panicker) Fatalf(format string, args ...any) { panic("fuzz fixture: " + format) }

func getFixture() *fuzzFixture {
	fixtureOnce.Do(func() {
		c := smallBlob(panicker{})
		fx := &fuzzFixture{c: c}
		for _, a := range []redstuff.Axis{primary, secondary} {
			for i := 0; i < c.n; i++ {
				x, err := c.cfg.Expand(c.meta(), c.sliver(a, i))
				if err != nil {
					panic(err)
				}
				fx.expanded[a] = append(fx.expanded[a], x)
			}
		}
		fixture = fx
	})
	return fixture
}

// trueValue returns the data of the symbol that a valid recovery symbol s must carry.
func (fx *fuzzFixture) trueValue(s *redstuff.RecoverySymbol) []byte {
	x := fx.expanded[s.Axis.Orthogonal()][s.Index]
	v, err := x.RecoverySymbol(s.Target)
	if err != nil {
		panic(err)
	}
	return v.Data
}

func addSeeds(f *testing.F, kinds ...string) {
	enc := encodings(f)
	for _, k := range kinds {
		b := enc[k]
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(append(bytes.Clone(b), 0))
	}
	f.Add([]byte{})
}

func FuzzDecodeMetadata(f *testing.F) {
	addSeeds(f, "metadata")
	fx := getFixture()
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := redstuff.DecodeMetadata(b)
		if err != nil {
			if !errors.Is(err, redstuff.ErrMalformed) {
				t.Fatalf("DecodeMetadata error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if got := m.Bytes(); !bytes.Equal(got, b) {
			t.Fatalf("DecodeMetadata is not canonical:\n in  %x\n out %x", b, got)
		}
		// Whatever VerifyMetadata accepts for the fixture's 7 shards is RS2 metadata with 7
		// pairs that commits to its own blob ID.
		if err := fx.c.cfg.VerifyMetadata(m); err == nil {
			if m.EncodingType != redstuff.EncodingRS2 || len(m.Hashes) != 7 || m.ComputeBlobID() != m.BlobID {
				t.Fatalf("VerifyMetadata accepted %+v", m)
			}
		} else if !errors.Is(err, redstuff.ErrEncodingType) && !errors.Is(err, redstuff.ErrInvalidMetadata) && !errors.Is(err, redstuff.ErrBlobIDMismatch) {
			t.Fatalf("VerifyMetadata: untyped error %v", err)
		}
	})
}

func FuzzDecodeSliver(f *testing.F) {
	addSeeds(f, "primary sliver", "secondary sliver")
	fx := getFixture()
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, a := range []redstuff.Axis{primary, secondary} {
			s, err := redstuff.DecodeSliver(b, a, fuzzMaxData)
			if err != nil {
				if !errors.Is(err, redstuff.ErrMalformed) {
					t.Fatalf("DecodeSliver error %v does not wrap ErrMalformed", err)
				}
				return
			}
			if got := s.Bytes(); !bytes.Equal(got, b) {
				t.Fatalf("DecodeSliver is not canonical:\n in  %x\n out %x", b, got)
			}
			// A sliver that verifies against the fixture is the true sliver.
			if err := fx.c.cfg.VerifySliver(fx.c.meta(), s); err == nil {
				if want := fx.c.sliver(a, s.Index); !bytes.Equal(s.Data, want.Data) {
					t.Fatalf("VerifySliver accepted a false %s sliver %d", a, s.Index)
				}
			} else if !errors.Is(err, redstuff.ErrInvalidSliver) && !errors.Is(err, redstuff.ErrSliverHash) {
				t.Fatalf("VerifySliver: untyped error %v", err)
			}
		}
	})
}

// checkFuzzSymbol verifies a decoded symbol against the fixture: if it verifies it must
// carry the true value.
func checkFuzzSymbol(t *testing.T, fx *fuzzFixture, s *redstuff.RecoverySymbol) {
	t.Helper()
	err := fx.c.cfg.VerifyRecoverySymbol(fx.c.meta(), s)
	if err == nil {
		if !bytes.Equal(s.Data, fx.trueValue(s)) {
			t.Fatalf("VerifyRecoverySymbol accepted a false symbol %s", s.ID())
		}
	} else if !errors.Is(err, redstuff.ErrInvalidSymbol) {
		t.Fatalf("VerifyRecoverySymbol: untyped error %v", err)
	}
}

func FuzzDecodeRecoverySymbol(f *testing.F) {
	addSeeds(f, "recovery symbol")
	fx := getFixture()
	f.Fuzz(func(t *testing.T, b []byte) {
		d := bcs.NewDecoder(b)
		s, err := redstuff.DecodeRecoverySymbol(d, fuzzMaxData)
		if err != nil {
			if !errors.Is(err, redstuff.ErrMalformed) {
				t.Fatalf("DecodeRecoverySymbol error %v does not wrap ErrMalformed", err)
			}
			return
		}
		// The decoder reads one value from a stream: re-encoding reproduces the bytes
		// it consumed.
		if got := s.Bytes(); !bytes.Equal(got, b[:d.Offset()]) {
			t.Fatalf("DecodeRecoverySymbol is not canonical:\n in  %x\n out %x", b[:d.Offset()], got)
		}
		checkFuzzSymbol(t, fx, &s)
	})
}

func FuzzDecodeSymbolList(f *testing.F) {
	addSeeds(f, "symbol list", "empty symbol list")
	fx := getFixture()
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := redstuff.DecodeSymbolList(b, 64, fuzzMaxData)
		if err != nil {
			if !errors.Is(err, redstuff.ErrMalformed) {
				t.Fatalf("DecodeSymbolList error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if got := redstuff.EncodeSymbolList(l); !bytes.Equal(got, b) {
			t.Fatalf("DecodeSymbolList is not canonical:\n in  %x\n out %x", b, got)
		}
		for i := range l {
			checkFuzzSymbol(t, fx, &l[i])
		}
	})
}

func FuzzDecodeInconsistencyProof(f *testing.F) {
	addSeeds(f, "proof")
	fx := getFixture()
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, a := range []redstuff.Axis{primary, secondary} {
			p, err := redstuff.DecodeInconsistencyProof(b, a, 64, fuzzMaxData)
			if err != nil {
				if !errors.Is(err, redstuff.ErrMalformed) {
					t.Fatalf("DecodeInconsistencyProof error %v does not wrap ErrMalformed", err)
				}
				return
			}
			if got := p.Bytes(); !bytes.Equal(got, b) {
				t.Fatalf("DecodeInconsistencyProof is not canonical:\n in  %x\n out %x", b, got)
			}
			// The fixture is consistent: no proof can be valid against it.
			err = fx.c.cfg.VerifyInconsistencyProof(fx.c.meta(), p)
			if err == nil {
				t.Fatalf("VerifyInconsistencyProof accepted a proof against a consistent blob")
			}
			if !errors.Is(err, redstuff.ErrInvalidSymbol) && !errors.Is(err, redstuff.ErrProofNotInconsistent) {
				t.Fatalf("VerifyInconsistencyProof: untyped error %v", err)
			}
		}
	})
}

// fuzzCase maps fuzz inputs to an encoded blob: n in 4..40, at most 4 KiB of blob.
func fuzzCase(t *testing.T, nSeed uint8, blob []byte) *propCase {
	t.Helper()
	if len(blob) > 4<<10 {
		blob = blob[:4<<10]
	}
	return encodeCase(t, 4+int(nSeed)%37, blob)
}

func maskBit(mask []byte, i int) bool {
	return i/8 < len(mask) && mask[i/8]>>(i%8)&1 == 1
}

func addCodecSeeds(f *testing.F) {
	f.Add(uint8(3), []byte("hello walrus"), []byte{0x55}, false, uint8(0), uint16(0))
	f.Add(uint8(0), []byte{}, []byte{0xff}, true, uint8(1), uint16(3))
	f.Add(uint8(6), bytes.Repeat([]byte{1, 2, 3}, 100), []byte{0xf0, 0x0f}, false, uint8(2), uint16(9))
	f.Add(uint8(36), make([]byte, 1000), []byte{0xff, 0xff, 0xff, 0xff, 0xff}, true, uint8(0), uint16(1))
}

// FuzzDecode: a reader verifies the slivers it received (one may be corrupted) and decodes
// from those that verify. Decoding succeeds with the blob exactly when enough distinct
// slivers verify, and fails with ErrNotEnough otherwise. Unverified slivers passed to
// Decode with the strict check give the blob or an error, never a wrong blob.
func FuzzDecode(f *testing.F) {
	addCodecSeeds(f)
	f.Fuzz(func(t *testing.T, nSeed uint8, blob, mask []byte, useSecondary bool, check uint8, corrupt uint16) {
		c := fuzzCase(t, nSeed, blob)
		a := primary
		if useSecondary {
			a = secondary
		}
		consistency := redstuff.Consistency(int(check) % 3)
		var received []*redstuff.Sliver
		for i := 0; i < c.n; i++ {
			if maskBit(mask, i) {
				received = append(received, c.sliver(a, i))
			}
		}
		if corrupt != 0 && len(received) > 0 {
			at := int(corrupt) % len(received)
			s := cloneSliver(received[at])
			bit := int(corrupt) * 7919 % (8 * len(s.Data))
			s.Data[bit/8] ^= 1 << (bit % 8)
			received[at] = s

			got, err := c.cfg.Decode(c.meta(), received, redstuff.ConsistencyStrict)
			if err == nil && !bytes.Equal(got, c.blob) {
				t.Fatalf("strict Decode of a corrupted sliver returned a wrong blob")
			}
			for _, check := range allChecks {
				_, err := c.cfg.Decode(c.meta(), received, check)
				if err != nil && !errors.Is(err, redstuff.ErrNotEnough) && !errors.Is(err, redstuff.ErrInconsistent) {
					t.Fatalf("Decode (%s) of unverified slivers: untyped error %v", checkName(check), err)
				}
			}
		}
		var verified []*redstuff.Sliver
		for _, s := range received {
			if err := c.cfg.VerifySliver(c.meta(), s); err == nil {
				verified = append(verified, s)
			} else if !errors.Is(err, redstuff.ErrSliverHash) {
				t.Fatalf("VerifySliver(%s %d): %v", s.Axis, s.Index, err)
			}
		}
		if corrupt != 0 && len(received) > 0 && len(verified) != len(received)-1 {
			t.Fatalf("%d of %d slivers verify with one corrupted", len(verified), len(received))
		}
		got, err := c.cfg.Decode(c.meta(), verified, consistency)
		if len(verified) >= c.cfg.SourceSymbols(a) {
			if err != nil || !bytes.Equal(got, c.blob) {
				t.Fatalf("Decode(%s, %d verified slivers, %s): err %v, blob equal %v", a, len(verified), checkName(consistency), err, bytes.Equal(got, c.blob))
			}
		} else if !errors.Is(err, redstuff.ErrNotEnough) {
			t.Fatalf("Decode(%s, %d verified slivers): %v, want ErrNotEnough", a, len(verified), err)
		}
	})
}

// FuzzRecoverSliver: symbols from the slivers picked by the mask, one possibly tampered,
// are verified, and the verified ones rebuild the target exactly when there are enough.
func FuzzRecoverSliver(f *testing.F) {
	addCodecSeeds(f)
	f.Fuzz(func(t *testing.T, nSeed uint8, blob, mask []byte, useSecondary bool, target uint8, corrupt uint16) {
		c := fuzzCase(t, nSeed, blob)
		m := c.meta()
		a := primary
		if useSecondary {
			a = secondary
		}
		tgt := int(target) % c.n
		var syms []redstuff.RecoverySymbol
		for i := 0; i < c.n; i++ {
			if !maskBit(mask, i) {
				continue
			}
			x, err := c.cfg.Expand(m, c.sliver(a.Orthogonal(), i))
			if err != nil {
				t.Fatalf("Expand: %v", err)
			}
			s, err := x.RecoverySymbol(tgt)
			if err != nil {
				t.Fatalf("RecoverySymbol: %v", err)
			}
			syms = append(syms, s)
		}
		tampered := -1
		if corrupt != 0 && len(syms) > 0 {
			tampered = int(corrupt) % len(syms)
			s := cloneSymbol(syms[tampered])
			if corrupt&1 == 0 || len(s.Proof.Path) == 0 {
				bit := int(corrupt) * 7919 % (8 * len(s.Data))
				s.Data[bit/8] ^= 1 << (bit % 8)
			} else {
				level := int(corrupt>>1) % len(s.Proof.Path)
				v := s.Proof.Path[level].Value()
				v[int(corrupt>>4)%len(v)] ^= 1 << (corrupt >> 8 % 8)
				s.Proof.Path[level] = merkle.DigestNode(v)
			}
			syms[tampered] = s
		}
		var verified []redstuff.RecoverySymbol
		for i := range syms {
			err := c.cfg.VerifyRecoverySymbol(m, &syms[i])
			switch {
			case err == nil && i == tampered:
				t.Fatalf("tampered symbol %s verifies", syms[i].ID())
			case err == nil:
				verified = append(verified, syms[i])
			case i != tampered:
				t.Fatalf("VerifyRecoverySymbol(%s): %v", syms[i].ID(), err)
			case !errors.Is(err, redstuff.ErrInvalidSymbol):
				t.Fatalf("VerifyRecoverySymbol: untyped error %v", err)
			}
		}
		got, err := c.cfg.RecoverSliver(m, a, tgt, verified)
		if len(verified) >= c.cfg.RecoverySymbolsNeeded(a) {
			if err != nil || !reflect.DeepEqual(got, c.sliver(a, tgt)) {
				t.Fatalf("RecoverSliver(%s %d, %d verified symbols): %v", a, tgt, len(verified), err)
			}
		} else if !errors.Is(err, redstuff.ErrNotEnough) {
			t.Fatalf("RecoverSliver(%s %d, %d verified symbols): %v, want ErrNotEnough", a, tgt, len(verified), err)
		}
		// All symbols, tampered included: the right sliver or an error, no panic.
		if got, err := c.cfg.RecoverSliver(m, a, tgt, syms); err == nil && !reflect.DeepEqual(got, c.sliver(a, tgt)) {
			t.Fatalf("RecoverSliver returned a wrong sliver without an error")
		}
	})
}
