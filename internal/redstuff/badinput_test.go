package redstuff_test

// Table tests of malformed and out-of-range input: each must fail with the right sentinel
// error and a message that names the problem, and nothing may panic.

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/merkle"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// smallBlob is a 7-shard encoding of a 100-byte blob, shared by the table tests and the
// fuzz seeds.
func smallBlob(t fataler) *propCase {
	t.Helper()
	return encodeCase(t, 7, makeBlob(100, "random", 7))
}

// recoverySymbols returns all n symbols that help rebuild sliver target of axis a.
func recoverySymbols(t fataler, c *propCase, a redstuff.Axis, target int) []redstuff.RecoverySymbol {
	t.Helper()
	out := make([]redstuff.RecoverySymbol, c.n)
	for i := range out {
		x, err := c.cfg.Expand(c.meta(), c.sliver(a.Orthogonal(), i))
		if err != nil {
			t.Fatalf("Expand: %v", err)
		}
		if out[i], err = x.RecoverySymbol(target); err != nil {
			t.Fatalf("RecoverySymbol: %v", err)
		}
	}
	return out
}

func TestNewConfigShardCount(t *testing.T) {
	for _, n := range []int{math.MinInt, -1, 0, 1, 2, 3, 65535, 65536, 1 << 20, math.MaxInt} {
		c, err := redstuff.NewConfig(n)
		if c != nil {
			t.Errorf("NewConfig(%d) returned a config", n)
		}
		expectErr(t, "NewConfig("+strconv.Itoa(n)+")", err, redstuff.ErrShardCount, strconv.Itoa(n))
	}
	for _, tc := range []struct{ n, f, rows, columns int }{
		{4, 1, 2, 3}, {7, 2, 3, 5}, {10, 3, 4, 7}, {31, 10, 11, 21}, {100, 33, 34, 67}, {301, 100, 101, 201}, {1000, 333, 334, 667},
	} {
		c, err := redstuff.NewConfig(tc.n)
		if err != nil {
			t.Fatalf("NewConfig(%d): %v", tc.n, err)
		}
		if c.NShards() != tc.n || c.MaxFaulty() != tc.f || c.SourceSymbols(primary) != tc.rows || c.SourceSymbols(secondary) != tc.columns ||
			c.SliverSymbols(primary) != tc.columns || c.SliverSymbols(secondary) != tc.rows {
			t.Errorf("NewConfig(%d): n %d, f %d, source symbols %d/%d", tc.n, c.NShards(), c.MaxFaulty(), c.SourceSymbols(primary), c.SourceSymbols(secondary))
		}
	}
}

func TestDataTooLarge(t *testing.T) {
	c := propConfig(t, 4)
	max := c.MaxBlobSize()
	if max != 2*3*65534 {
		t.Fatalf("MaxBlobSize() = %d at n=4", max)
	}
	if s, err := c.SymbolSize(max); err != nil || s != redstuff.MaxSymbolSize {
		t.Fatalf("SymbolSize(max) = %d, %v", s, err)
	}
	if got := propConfig(t, 1000).MaxBlobSize(); got != 14_599_533_452 {
		t.Fatalf("MaxBlobSize() = %d at n=1000", got)
	}
	tooBig := make([]byte, max+1)
	for name, call := range map[string]func() error{
		"SymbolSize":      func() error { _, err := c.SymbolSize(max + 1); return err },
		"SymbolSize(max)": func() error { _, err := c.SymbolSize(math.MaxUint64); return err },
		"EncodedLength":   func() error { _, err := c.EncodedLength(max + 1); return err },
		"Encode":          func() error { _, err := c.Encode(tooBig); return err },
		"ComputeMetadata": func() error { _, err := c.ComputeMetadata(tooBig); return err },
	} {
		expectErr(t, name, call(), redstuff.ErrDataTooLarge, "at most "+strconv.FormatUint(max, 10))
	}
}

func TestVerifyMetadataErrors(t *testing.T) {
	c := smallBlob(t)
	good := c.meta()
	rehash := func(m *redstuff.Metadata) { m.BlobID = m.ComputeBlobID() }
	for _, tc := range []struct {
		name   string
		mutate func(m *redstuff.Metadata)
		want   error
		substr string
	}{
		{"one hash pair too few", func(m *redstuff.Metadata) { m.Hashes = m.Hashes[:6]; rehash(m) }, redstuff.ErrInvalidMetadata, "6 sliver pair hashes for 7 shards"},
		{"one hash pair too many", func(m *redstuff.Metadata) { m.Hashes = append(m.Hashes, m.Hashes[0]); rehash(m) }, redstuff.ErrInvalidMetadata, "8 sliver pair hashes"},
		{"no hashes", func(m *redstuff.Metadata) { m.Hashes = nil; rehash(m) }, redstuff.ErrInvalidMetadata, "0 sliver pair hashes"},
		{"RaptorQ encoding", func(m *redstuff.Metadata) { m.EncodingType = 0; rehash(m) }, redstuff.ErrEncodingType, ": 0"},
		{"unknown encoding", func(m *redstuff.Metadata) { m.EncodingType = 2; rehash(m) }, redstuff.ErrEncodingType, ": 2"},
		{"length over max", func(m *redstuff.Metadata) { m.UnencodedLength = c.cfg.MaxBlobSize() + 1; rehash(m) }, redstuff.ErrInvalidMetadata, "exceeds the maximum"},
		{"length max u64", func(m *redstuff.Metadata) { m.UnencodedLength = math.MaxUint64; rehash(m) }, redstuff.ErrInvalidMetadata, "exceeds the maximum"},
		{"blob ID bit", func(m *redstuff.Metadata) { m.BlobID[31] ^= 0x80 }, redstuff.ErrBlobIDMismatch, "claimed"},
		{"length changed", func(m *redstuff.Metadata) { m.UnencodedLength++ }, redstuff.ErrBlobIDMismatch, good.BlobID.String()},
		{"primary hash changed", func(m *redstuff.Metadata) { m.Hashes[3].Primary[0] ^= 1 }, redstuff.ErrBlobIDMismatch, ""},
		{"secondary hash changed", func(m *redstuff.Metadata) { m.Hashes[6].Secondary[31] ^= 1 }, redstuff.ErrBlobIDMismatch, ""},
		{"pairs swapped", func(m *redstuff.Metadata) { m.Hashes[0], m.Hashes[1] = m.Hashes[1], m.Hashes[0] }, redstuff.ErrBlobIDMismatch, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := cloneMetadata(good)
			tc.mutate(m)
			expectErr(t, "VerifyMetadata", c.cfg.VerifyMetadata(m), tc.want, tc.substr)
		})
	}
	if err := c.cfg.VerifyMetadata(good); err != nil {
		t.Fatalf("mutations changed the original metadata: %v", err)
	}
	// A 7-shard blob's metadata is not valid for 10 shards.
	expectErr(t, "metadata for another n", propConfig(t, 10).VerifyMetadata(good), redstuff.ErrInvalidMetadata, "for 10 shards")
}

// TestOversizedLengthMetadata: unverified metadata whose length implies no valid symbol
// size is refused by every operation that derives the symbol size, without panicking.
func TestOversizedLengthMetadata(t *testing.T) {
	c := smallBlob(t)
	m := cloneMetadata(c.meta())
	m.UnencodedLength = c.cfg.MaxBlobSize() + 1
	s := c.sliver(primary, 0)
	syms := recoverySymbols(t, c, secondary, 0)
	for name, call := range map[string]func() error{
		"VerifySliver": func() error { return c.cfg.VerifySliver(m, s) },
		"Expand":       func() error { _, err := c.cfg.Expand(m, s); return err },
		"Decode": func() error {
			_, err := c.cfg.Decode(m, []*redstuff.Sliver{s}, redstuff.ConsistencyDefault)
			return err
		},
		"VerifyRecoverySymbol": func() error { return c.cfg.VerifyRecoverySymbol(m, &syms[0]) },
		"RecoverSliver":        func() error { _, err := c.cfg.RecoverSliver(m, secondary, 0, syms); return err },
		"VerifyInconsistencyProof": func() error {
			return c.cfg.VerifyInconsistencyProof(m, &redstuff.InconsistencyProof{Axis: secondary, Symbols: syms[:3]})
		},
	} {
		expectErr(t, name, call(), redstuff.ErrDataTooLarge, "")
	}
}

// encodings returns valid BCS of every decoded type, from a real blob.
func encodings(t fataler) map[string][]byte {
	c := smallBlob(t)
	syms := recoverySymbols(t, c, secondary, 2)
	need := c.cfg.RecoverySymbolsNeeded(secondary)
	proof := &redstuff.InconsistencyProof{Axis: secondary, Target: 2, Symbols: syms[:need]}
	return map[string][]byte{
		"metadata":          c.meta().Bytes(),
		"primary sliver":    c.sliver(primary, 4).Bytes(),
		"secondary sliver":  c.sliver(secondary, 6).Bytes(),
		"recovery symbol":   syms[5].Bytes(),
		"symbol list":       redstuff.EncodeSymbolList(syms[:3]),
		"empty symbol list": redstuff.EncodeSymbolList(nil),
		"proof":             proof.Bytes(),
	}
}

const fuzzMaxData = 1 << 16

// decodeAny decodes b as the type named by kind and re-encodes it.
func decodeAny(kind string, b []byte) ([]byte, error) {
	switch kind {
	case "metadata":
		m, err := redstuff.DecodeMetadata(b)
		if err != nil {
			return nil, err
		}
		return m.Bytes(), nil
	case "primary sliver", "secondary sliver":
		s, err := redstuff.DecodeSliver(b, primary, fuzzMaxData)
		if err != nil {
			return nil, err
		}
		return s.Bytes(), nil
	case "recovery symbol":
		d := bcs.NewDecoder(b)
		s, err := redstuff.DecodeRecoverySymbol(d, fuzzMaxData)
		if err != nil {
			return nil, err
		}
		if err := d.Finish(); err != nil {
			return nil, err
		}
		return s.Bytes(), nil
	case "symbol list", "empty symbol list":
		l, err := redstuff.DecodeSymbolList(b, 1000, fuzzMaxData)
		if err != nil {
			return nil, err
		}
		return redstuff.EncodeSymbolList(l), nil
	case "proof":
		p, err := redstuff.DecodeInconsistencyProof(b, secondary, 1000, fuzzMaxData)
		if err != nil {
			return nil, err
		}
		return p.Bytes(), nil
	}
	panic("unknown kind " + kind)
}

// TestTruncatedBCS: every proper prefix of a valid encoding, and the encoding with a byte
// appended, fails with ErrMalformed.
func TestTruncatedBCS(t *testing.T) {
	for kind, b := range encodings(t) {
		t.Run(kind, func(t *testing.T) {
			got, err := decodeAny(kind, b)
			if err != nil || !bytes.Equal(got, b) {
				t.Fatalf("valid encoding: %v, round trip equal %v", err, bytes.Equal(got, b))
			}
			for i := 0; i < len(b); i++ {
				_, err := decodeAny(kind, slices.Clip(b[:i]))
				if !errors.Is(err, redstuff.ErrMalformed) {
					t.Fatalf("prefix of %d of %d bytes: %v, want ErrMalformed", i, len(b), err)
				}
			}
			if kind != "recovery symbol" { // DecodeRecoverySymbol reads one value from a stream
				_, err := decodeAny(kind, append(slices.Clone(b), 0))
				expectErr(t, "trailing byte", err, redstuff.ErrMalformed, "trailing")
			}
		})
	}
}

func TestMalformedBCS(t *testing.T) {
	enc := encodings(t)
	meta, sym, list, proof := enc["metadata"], enc["recovery symbol"], enc["symbol list"], enc["proof"]
	patch := func(b []byte, off int, with ...byte) []byte {
		b = slices.Clone(b)
		copy(b[off:], with)
		return b
	}
	splice := func(b []byte, off, drop int, with ...byte) []byte {
		return slices.Concat(b[:off], with, b[off+drop:])
	}
	// Metadata: id 0..31, variant 32, type 33, length 34..41, count 42, nodes from 43.
	// Symbol: axis 0, index 1..2, data length 3, data, target, proof length, nodes.
	symProof := 4 + int(sym[3]) + 2
	// Proof: target 0..1, count 2, first symbol: index 3..4, data length 5, data, proof.
	proofPath := 6 + int(proof[5])
	bigPath := func() []byte {
		var e bcs.Encoder
		merkle.Proof{Path: make([]merkle.PathNode, 17)}.MarshalBCS(&e)
		return e.Out()
	}()
	for _, tc := range []struct {
		name, kind string
		in         []byte
		substr     string
		sentinel   error
	}{
		{"metadata variant 1", "metadata", patch(meta, 32, 1), "variant", bcs.ErrInvalidVariant},
		{"metadata empty primary hash", "metadata", splice(meta, 43, 33, 0), "empty sliver hash", nil},
		{"metadata empty secondary hash", "metadata", splice(meta, 43+33, 33, 0), "pair 0: empty sliver hash", nil},
		{"metadata node variant 2", "metadata", patch(meta, 43, 2), "merkle node variant 2", bcs.ErrInvalidVariant},
		{"metadata more pairs than bytes", "metadata", patch(meta, 42, 8), "", bcs.ErrTruncated},
		{"metadata pair count over u16", "metadata", splice(meta, 42, 1, 0x80, 0x80, 0x04), "exceeds limit", bcs.ErrTooLong},
		{"metadata non-canonical count", "metadata", splice(meta, 42, 1, 0x87, 0x00), "", bcs.ErrNonCanonical},
		{"metadata pair count huge", "metadata", patch(meta, 42, 0xff, 0xff, 0xff, 0xff, 0x0f), "", bcs.ErrTooLong},
		{"sliver data over limit", "primary sliver", slices.Concat([]byte{0x81, 0x80, 0x04}, make([]byte, fuzzMaxData+1), []byte{2, 0, 0, 0}), "exceeds limit", bcs.ErrTooLong},
		{"sliver length past end", "primary sliver", []byte{5, 1, 2}, "", bcs.ErrTruncated},
		{"symbol axis variant 2", "recovery symbol", patch(sym, 0, 2), "variant", bcs.ErrInvalidVariant},
		{"symbol proof node variant 2", "recovery symbol", patch(sym, symProof+1, 2), "merkle node variant", bcs.ErrInvalidVariant},
		{"symbol proof of 17 nodes", "recovery symbol", slices.Concat(sym[:symProof], bigPath), "proof", bcs.ErrTooLong},
		{"proof symbol proof of 17 nodes", "proof", slices.Concat(proof[:proofPath], bigPath), "proof", bcs.ErrTooLong},
		{"proof symbol node variant 3", "proof", patch(proof, proofPath+1, 3), "merkle node variant 3", bcs.ErrInvalidVariant},
		{"symbol list count over limit", "symbol list", splice(list, 0, 1, 0xe9, 0x07), "exceeds limit", bcs.ErrTooLong},
		{"symbol list count past end", "symbol list", patch(list, 0, 4), "", bcs.ErrTruncated},
		{"proof count over limit", "proof", splice(proof, 2, 1, 0xe9, 0x07), "exceeds limit", bcs.ErrTooLong},
		{"proof count past end", "proof", patch(proof, 2, 0x7f), "", bcs.ErrTruncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeAny(tc.kind, tc.in)
			expectErr(t, tc.name, err, redstuff.ErrMalformed, tc.substr)
			// The bcs cause is formatted into the message, not wrapped.
			if tc.sentinel != nil && !strings.Contains(err.Error(), tc.sentinel.Error()) {
				t.Fatalf("%s: %v does not report %q", tc.name, err, tc.sentinel)
			}
		})
	}
	if _, err := redstuff.ParseAxis("Primary"); !errors.Is(err, redstuff.ErrMalformed) {
		t.Errorf("ParseAxis(Primary) = %v", err)
	}
	for _, a := range []redstuff.Axis{primary, secondary} {
		if got, err := redstuff.ParseAxis(a.String()); err != nil || got != a {
			t.Errorf("ParseAxis(%q) = %v, %v", a.String(), got, err)
		}
	}
	if got := redstuff.Axis(2).String(); got != "axis(2)" {
		t.Errorf("Axis(2).String() = %q", got)
	}
}

// TestWrongProofs: recovery symbols with proofs of the wrong length, and inconsistency
// proofs with the wrong number of symbols, duplicates or mismatched targets, are rejected.
func TestWrongProofs(t *testing.T) {
	c := smallBlob(t)
	m := c.meta()
	syms := recoverySymbols(t, c, primary, 1)
	depth := merkle.Depth(c.n)
	if len(syms[0].Proof.Path) != depth {
		t.Fatalf("proof has %d nodes, want %d", len(syms[0].Proof.Path), depth)
	}
	for _, l := range []int{0, depth - 1, depth + 1, 16, 17} {
		s := cloneSymbol(syms[0])
		s.Proof.Path = make([]merkle.PathNode, l)
		copy(s.Proof.Path, syms[0].Proof.Path)
		for i := depth; i < l; i++ {
			s.Proof.Path[i] = merkle.DigestNode(merkle.Node{byte(i)})
		}
		expectErr(t, "proof of "+strconv.Itoa(l)+" nodes", c.cfg.VerifyRecoverySymbol(m, &s), redstuff.ErrInvalidSymbol, "path")
	}

	need := c.cfg.RecoverySymbolsNeeded(primary)
	good := func() *redstuff.InconsistencyProof {
		return &redstuff.InconsistencyProof{Axis: primary, Target: 1, Symbols: slices.Clone(syms[:need])}
	}
	expectErr(t, "consistent proof", c.cfg.VerifyInconsistencyProof(m, good()), redstuff.ErrProofNotInconsistent, "")
	for _, tc := range []struct {
		name   string
		mutate func(p *redstuff.InconsistencyProof)
		substr string
	}{
		{"no symbols", func(p *redstuff.InconsistencyProof) { p.Symbols = nil }, "0 symbols, need exactly"},
		{"one symbol short", func(p *redstuff.InconsistencyProof) { p.Symbols = p.Symbols[:need-1] }, "need exactly"},
		{"one symbol extra", func(p *redstuff.InconsistencyProof) { p.Symbols = append(p.Symbols, syms[need]) }, "need exactly"},
		{"duplicate symbol", func(p *redstuff.InconsistencyProof) { p.Symbols[1] = p.Symbols[0] }, "duplicate symbol index"},
		{"symbol for another target", func(p *redstuff.InconsistencyProof) { p.Symbols[2].Target = 2 }, "does not target"},
		{"symbol of the other axis", func(p *redstuff.InconsistencyProof) { p.Symbols[2].Axis = secondary }, "does not target"},
		{"target out of range", func(p *redstuff.InconsistencyProof) { p.Target = c.n }, "out of range"},
		{"negative target", func(p *redstuff.InconsistencyProof) { p.Target = -1 }, "out of range"},
		{"tampered symbol", func(p *redstuff.InconsistencyProof) {
			p.Symbols[0] = cloneSymbol(p.Symbols[0])
			p.Symbols[0].Data[0] ^= 1
		}, "invalid proof"},
		{"short proof path", func(p *redstuff.InconsistencyProof) {
			p.Symbols[0] = cloneSymbol(p.Symbols[0])
			p.Symbols[0].Proof.Path = p.Symbols[0].Proof.Path[1:]
		}, "path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := good()
			tc.mutate(p)
			expectErr(t, tc.name, c.cfg.VerifyInconsistencyProof(m, p), redstuff.ErrInvalidSymbol, tc.substr)
		})
	}
}

func TestRecoverAndDecodeBadArguments(t *testing.T) {
	c := smallBlob(t)
	m := c.meta()
	syms := recoverySymbols(t, c, secondary, 3)
	for _, target := range []int{-1, c.n, 1 << 16} {
		_, err := c.cfg.RecoverSliver(m, secondary, target, syms)
		expectErr(t, "RecoverSliver target "+strconv.Itoa(target), err, redstuff.ErrInvalidSymbol, "out of range")
	}
	_, err := c.cfg.RecoverSliver(m, secondary, 3, nil)
	expectErr(t, "RecoverSliver without symbols", err, redstuff.ErrNotEnough, "0 distinct symbols")
	_, err = c.cfg.RecoverSliver(m, primary, 3, syms)
	expectErr(t, "RecoverSliver of the wrong axis", err, redstuff.ErrInvalidSymbol, "not primary sliver 3")
	x, err := c.cfg.Expand(m, c.sliver(primary, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []int{-1, c.n} {
		_, err := x.RecoverySymbol(target)
		expectErr(t, "RecoverySymbol("+strconv.Itoa(target)+")", err, redstuff.ErrInvalidSymbol, "out of range")
	}

	_, err = c.cfg.Decode(m, nil, redstuff.ConsistencyDefault)
	expectErr(t, "Decode without slivers", err, redstuff.ErrNotEnough, "no slivers")
	mixed := []*redstuff.Sliver{c.sliver(primary, 0), c.sliver(secondary, 0), c.sliver(primary, 1)}
	_, err = c.cfg.Decode(m, mixed, redstuff.ConsistencyDefault)
	expectErr(t, "Decode of mixed axes", err, redstuff.ErrInvalidSliver, "mixed")
	_, err = c.cfg.Decode(m, []*redstuff.Sliver{c.sliver(primary, 0), c.sliver(primary, 0), c.sliver(primary, 0)}, redstuff.ConsistencyDefault)
	expectErr(t, "Decode of one sliver three times", err, redstuff.ErrNotEnough, "1 distinct primary slivers, need 3")
}
