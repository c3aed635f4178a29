package redstuff_test

// Property tests of the RS2 codec: random shard counts, random blobs, random subsets of
// slivers and symbols. rapid prints the seed and the drawn values of a failing case; rerun
// it with the printed -rapid.seed (or -rapid.failfile). Use -rapid.checks to run more or
// fewer cases (100 by default, 20 with -short).
//
// Cases draw n from three classes so the suite stays fast under -race: n in 4..40 with
// blobs up to 20 KiB (most cases), n in 41..100 with blobs up to 4 KiB, and, rarely, n in
// 101..300 with blobs up to 1 KiB. Shrinking moves towards the small class.

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/walrus-go/walrus/internal/merkle"
	"github.com/walrus-go/walrus/internal/redstuff"
	"pgregory.net/rapid"
)

const (
	primary   = redstuff.Primary
	secondary = redstuff.Secondary
)

// propConfigs caches one Config per shard count; a Config is immutable and safe for
// concurrent use.
var propConfigs sync.Map

type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

func propConfig(t fataler, n int) *redstuff.Config {
	t.Helper()
	if c, ok := propConfigs.Load(n); ok {
		return c.(*redstuff.Config)
	}
	c, err := redstuff.NewConfig(n)
	if err != nil {
		t.Fatalf("NewConfig(%d): %v", n, err)
	}
	got, _ := propConfigs.LoadOrStore(n, c)
	return got.(*redstuff.Config)
}

// propCase is an encoded random blob.
type propCase struct {
	n    int
	cfg  *redstuff.Config
	blob []byte
	enc  *redstuff.EncodedBlob
	sym  int
}

func (c *propCase) meta() *redstuff.Metadata { return c.enc.Metadata }

// sliver returns sliver index i of axis a (pair i for primary, pair n-1-i for secondary).
func (c *propCase) sliver(a redstuff.Axis, i int) *redstuff.Sliver {
	return propSliver(c.enc, a, i)
}

func propSliver(enc *redstuff.EncodedBlob, a redstuff.Axis, i int) *redstuff.Sliver {
	if a == primary {
		return &enc.Pairs[i].Primary
	}
	return &enc.Pairs[len(enc.Pairs)-1-i].Secondary
}

// drawShape draws a shard count and the largest blob size used with it. Within the two
// larger classes n is spread evenly (rapid favours small values), so n = 300 comes up too.
func drawShape(t *rapid.T) (n, maxLen int) {
	switch class := rapid.IntRange(0, 39).Draw(t, "sizeClass"); {
	case class >= 34:
		return 101 + int(rapid.Uint64().Draw(t, "nSeed")%200), 1 << 10
	case class >= 28:
		return 41 + int(rapid.Uint64().Draw(t, "nSeed")%60), 4 << 10
	default:
		return rapid.IntRange(4, 40).Draw(t, "n"), 20 << 10
	}
}

// drawBlob draws a blob of at most maxLen bytes. The contents come from a seeded PRNG, in
// one of several patterns: blobs that are mostly zero give many equal symbols and slivers,
// which exercises the cases where a modified index or target is still a true value.
func drawBlob(t *rapid.T, maxLen int) []byte {
	size := rapid.IntRange(0, maxLen).Draw(t, "blobLen")
	pattern := rapid.SampledFrom([]string{"random", "zeros", "sparse", "repeat"}).Draw(t, "pattern")
	seed := rapid.Uint64().Draw(t, "blobSeed")
	return makeBlob(size, pattern, seed)
}

func makeBlob(size int, pattern string, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, size)
	switch pattern {
	case "random":
		fillRandom(rng, b)
	case "sparse":
		for i := 0; i < size/64+1 && size > 0; i++ {
			b[rng.IntN(size)] = byte(rng.Uint32())
		}
	case "repeat":
		unit := make([]byte, 1+rng.IntN(7))
		fillRandom(rng, unit)
		for i := range b {
			b[i] = unit[i%len(unit)]
		}
	}
	return b
}

func fillRandom(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

// drawCase draws n and a blob and encodes it, checking the metadata on the way.
func drawCase(t *rapid.T) *propCase {
	n, maxLen := drawShape(t)
	return encodeCase(t, n, drawBlob(t, maxLen))
}

func encodeCase(t fataler, n int, blob []byte) *propCase {
	t.Helper()
	cfg := propConfig(t, n)
	orig := bytes.Clone(blob)
	enc, err := cfg.Encode(blob)
	if err != nil {
		t.Fatalf("Encode(%d bytes, n=%d): %v", len(blob), n, err)
	}
	if !bytes.Equal(blob, orig) {
		t.Fatalf("Encode modified its input")
	}
	sym, err := cfg.SymbolSize(uint64(len(blob)))
	if err != nil {
		t.Fatalf("SymbolSize: %v", err)
	}
	m := enc.Metadata
	if err := cfg.VerifyMetadata(m); err != nil {
		t.Fatalf("VerifyMetadata of fresh encoding: %v", err)
	}
	if len(enc.Pairs) != n || len(m.Hashes) != n || m.UnencodedLength != uint64(len(blob)) {
		t.Fatalf("encoding has %d pairs, %d hashes, length %d; want %d, %d, %d",
			len(enc.Pairs), len(m.Hashes), m.UnencodedLength, n, n, len(blob))
	}
	return &propCase{n: n, cfg: cfg, blob: blob, enc: enc, sym: sym}
}

func cloneSliver(s *redstuff.Sliver) *redstuff.Sliver {
	c := *s
	c.Data = bytes.Clone(s.Data)
	return &c
}

func cloneSymbol(s redstuff.RecoverySymbol) redstuff.RecoverySymbol {
	s.Data = bytes.Clone(s.Data)
	s.Proof.Path = slices.Clone(s.Proof.Path)
	return s
}

func cloneMetadata(m *redstuff.Metadata) *redstuff.Metadata {
	c := *m
	c.Hashes = slices.Clone(m.Hashes)
	return &c
}

func indices(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// expectErr fails unless err wraps want and, when substr is not empty, mentions it.
func expectErr(t fataler, what string, err, want error, substr string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
	if substr != "" && !strings.Contains(err.Error(), substr) {
		t.Fatalf("%s: error %q does not mention %q", what, err, substr)
	}
}

var allChecks = []redstuff.Consistency{redstuff.ConsistencyDefault, redstuff.ConsistencyStrict, redstuff.ConsistencySkip}

func checkName(c redstuff.Consistency) string {
	return [...]string{"default", "strict", "skip"}[c]
}

// TestPropDecodeSubsets: any SourceSymbols(a) slivers of an axis, or more, decode to the
// blob under every consistency check, without modifying the slivers; one fewer distinct
// sliver fails with ErrNotEnough, duplicates notwithstanding.
func TestPropDecodeSubsets(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := drawCase(t)
		a := rapid.SampledFrom([]redstuff.Axis{primary, secondary}).Draw(t, "axis")
		k := c.cfg.SourceSymbols(a)
		perm := rapid.Permutation(indices(c.n)).Draw(t, "order")
		extra := rapid.IntRange(0, c.n-k).Draw(t, "extra")

		var slivers []*redstuff.Sliver
		for _, i := range perm[:k+extra] {
			slivers = append(slivers, c.sliver(a, i))
		}
		before := make([][]byte, len(slivers))
		for i, s := range slivers {
			before[i] = bytes.Clone(s.Data)
		}
		for _, check := range allChecks {
			got, err := c.cfg.Decode(c.meta(), slivers, check)
			if err != nil {
				t.Fatalf("Decode(%s, %d slivers %v, %s): %v", a, len(slivers), perm[:k+extra], checkName(check), err)
			}
			if !bytes.Equal(got, c.blob) {
				t.Fatalf("Decode(%s, %s) returned a different blob (%d bytes, want %d)", a, checkName(check), len(got), len(c.blob))
			}
			// The result is the caller's: it shares no memory with the slivers.
			clear(got)
		}
		for i, s := range slivers {
			if !bytes.Equal(s.Data, before[i]) {
				t.Fatalf("Decode modified input %s sliver %d", a, s.Index)
			}
		}

		// One fewer distinct sliver, with repeats of the ones present, is not enough.
		short := slices.Clone(slivers[:k-1])
		dups := rapid.IntRange(0, min(3, k-1)).Draw(t, "duplicates")
		for i := 0; i < dups; i++ {
			short = append(short, cloneSliver(short[i]))
		}
		for _, check := range allChecks {
			_, err := c.cfg.Decode(c.meta(), short, check)
			expectErr(t, "Decode with one sliver too few", err, redstuff.ErrNotEnough, "need")
		}
	})
}

// TestPropVerifySliver: every sliver verifies, and a sliver with a flipped bit, another
// index, axis, symbol size or length is rejected.
func TestPropVerifySliver(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := drawCase(t)
		m := c.meta()
		for _, a := range []redstuff.Axis{primary, secondary} {
			check := indices(c.n)
			if c.n > 48 {
				check = rapid.SliceOfNDistinct(rapid.IntRange(0, c.n-1), 6, 6, rapid.ID[int]).Draw(t, "verified_"+a.String())
			}
			for _, i := range check {
				s := c.sliver(a, i)
				if s.Axis != a || s.Index != i || s.SymbolSize != c.sym || len(s.Data) != c.cfg.SliverSize(a, c.sym) {
					t.Fatalf("%s sliver %d has axis %s, index %d, symbol size %d, %d bytes",
						a, i, s.Axis, s.Index, s.SymbolSize, len(s.Data))
				}
				if err := c.cfg.VerifySliver(m, s); err != nil {
					t.Fatalf("VerifySliver(%s %d): %v", a, i, err)
				}
				if p := s.Pair(c.n); p < 0 || p >= c.n || c.enc.Pairs[p].Index != p ||
					c.enc.Pairs[p].Primary.Index != p || c.enc.Pairs[p].Secondary.Index != c.n-1-p {
					t.Fatalf("%s sliver %d: Pair(%d) = %d, and that pair is %d with slivers %d and %d",
						a, i, c.n, p, c.enc.Pairs[p].Index, c.enc.Pairs[p].Primary.Index, c.enc.Pairs[p].Secondary.Index)
				}
			}
		}

		a := rapid.SampledFrom([]redstuff.Axis{primary, secondary}).Draw(t, "axis")
		i := rapid.IntRange(0, c.n-1).Draw(t, "index")
		orig := c.sliver(a, i)

		flip := cloneSliver(orig)
		bit := rapid.IntRange(0, 8*len(flip.Data)-1).Draw(t, "flippedBit")
		flip.Data[bit/8] ^= 1 << (bit % 8)
		expectErr(t, "flipped bit", c.cfg.VerifySliver(m, flip), redstuff.ErrSliverHash, a.String())

		// Another valid index is only accepted if that sliver holds the same data.
		other := rapid.IntRange(0, c.n-2).Draw(t, "otherIndex")
		if other >= i {
			other++
		}
		moved := cloneSliver(orig)
		moved.Index = other
		err := c.cfg.VerifySliver(m, moved)
		if bytes.Equal(c.sliver(a, other).Data, orig.Data) {
			if err != nil {
				t.Fatalf("%s sliver %d holds the data of sliver %d but is rejected: %v", a, other, i, err)
			}
		} else {
			expectErr(t, "wrong index", err, redstuff.ErrSliverHash, "")
		}

		type bad struct {
			name   string
			mutate func(s *redstuff.Sliver)
			substr string
		}
		bads := []bad{
			{"index n", func(s *redstuff.Sliver) { s.Index = c.n }, "out of range"},
			{"index -1", func(s *redstuff.Sliver) { s.Index = -1 }, "out of range"},
			{"symbol size +2", func(s *redstuff.Sliver) { s.SymbolSize += 2 }, "symbol size"},
			{"symbol size -1", func(s *redstuff.Sliver) { s.SymbolSize-- }, "symbol size"},
			{"one byte short", func(s *redstuff.Sliver) { s.Data = s.Data[:len(s.Data)-1] }, "bytes, want"},
			{"one symbol short", func(s *redstuff.Sliver) { s.Data = s.Data[:len(s.Data)-c.sym] }, "bytes, want"},
			{"one symbol long", func(s *redstuff.Sliver) { s.Data = append(s.Data, make([]byte, c.sym)...) }, "bytes, want"},
			{"empty", func(s *redstuff.Sliver) { s.Data = nil }, "bytes, want"},
			{"other axis", func(s *redstuff.Sliver) { s.Axis = s.Axis.Orthogonal() }, "bytes, want"},
			{"unknown axis", func(s *redstuff.Sliver) { s.Axis = 2 }, "unknown axis"},
		}
		for _, b := range bads {
			s := cloneSliver(orig)
			b.mutate(s)
			expectErr(t, b.name, c.cfg.VerifySliver(m, s), redstuff.ErrInvalidSliver, b.substr)
			if _, err := c.cfg.Expand(m, s); !errors.Is(err, redstuff.ErrInvalidSliver) {
				t.Fatalf("Expand of %s sliver: %v, want ErrInvalidSliver", b.name, err)
			}
			if s.Axis == a { // Decode takes its axis from the first sliver
				_, err := c.cfg.Decode(m, []*redstuff.Sliver{s}, redstuff.ConsistencyDefault)
				expectErr(t, "Decode of "+b.name+" sliver", err, redstuff.ErrInvalidSliver, b.substr)
			}
		}

		// BCS round trip.
		got, err := redstuff.DecodeSliver(orig.Bytes(), a, len(orig.Data))
		if err != nil || !reflect.DeepEqual(got, orig) {
			t.Fatalf("DecodeSliver(Bytes()) = %+v, %v; want the sliver back", got, err)
		}
	})
}

// symbolsFor builds the recovery symbols for sliver target of axis a from the given source
// slivers of the orthogonal axis, checking each against the metadata.
func symbolsFor(t *rapid.T, c *propCase, m *redstuff.Metadata, enc *redstuff.EncodedBlob, a redstuff.Axis, target int, sources []int) []redstuff.RecoverySymbol {
	t.Helper()
	out := make([]redstuff.RecoverySymbol, 0, len(sources))
	for _, src := range sources {
		x, err := c.cfg.Expand(m, propSliver(enc, a.Orthogonal(), src))
		if err != nil {
			t.Fatalf("Expand(%s %d): %v", a.Orthogonal(), src, err)
		}
		if x.Root() != m.SliverHash(a.Orthogonal(), src) {
			t.Fatalf("expanded %s sliver %d has root %v, metadata %v", a.Orthogonal(), src, x.Root(), m.SliverHash(a.Orthogonal(), src))
		}
		s, err := x.RecoverySymbol(target)
		if err != nil {
			t.Fatalf("RecoverySymbol(%d) of %s %d: %v", target, a.Orthogonal(), src, err)
		}
		if s.Axis != a || s.Index != src || s.Target != target || len(s.Data) != c.sym {
			t.Fatalf("symbol of %s %d for %s %d has axis %s, index %d, target %d, %d bytes",
				a.Orthogonal(), src, a, target, s.Axis, s.Index, s.Target, len(s.Data))
		}
		if err := c.cfg.VerifyRecoverySymbol(m, &s); err != nil {
			t.Fatalf("VerifyRecoverySymbol(%s): %v", s.ID(), err)
		}
		out = append(out, s)
	}
	return out
}

// trueSymbol returns E[r][c] for a symbol of target axis a from source src to target.
func trueSymbol(t *rapid.T, c *propCase, a redstuff.Axis, src, target int) []byte {
	t.Helper()
	x, err := c.cfg.Expand(c.meta(), c.sliver(a.Orthogonal(), src))
	if err != nil {
		t.Fatalf("Expand: %v", err)
	}
	s, err := x.RecoverySymbol(target)
	if err != nil {
		t.Fatalf("RecoverySymbol: %v", err)
	}
	return s.Data
}

// TestPropRecovery: recovery symbols from any sufficient set of orthogonal slivers verify
// and rebuild exactly the lost sliver; tampered symbols fail verification.
func TestPropRecovery(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := drawCase(t)
		m := c.meta()
		a := rapid.SampledFrom([]redstuff.Axis{primary, secondary}).Draw(t, "targetAxis")
		target := rapid.IntRange(0, c.n-1).Draw(t, "target")
		need := c.cfg.RecoverySymbolsNeeded(a)
		if need != c.cfg.SourceSymbols(a.Orthogonal()) || need != c.cfg.SliverSymbols(a) {
			t.Fatalf("RecoverySymbolsNeeded(%s) = %d", a, need)
		}
		extra := rapid.IntRange(0, min(3, c.n-need)).Draw(t, "extra")
		sources := rapid.Permutation(indices(c.n)).Draw(t, "sources")[:need+extra]
		syms := symbolsFor(t, c, m, c.enc, a, target, sources)
		before := make([]redstuff.RecoverySymbol, len(syms))
		for i, s := range syms {
			before[i] = cloneSymbol(s)
		}

		want := c.sliver(a, target)
		got, err := c.cfg.RecoverSliver(m, a, target, syms)
		if err != nil {
			t.Fatalf("RecoverSliver(%s %d from %v): %v", a, target, sources, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("RecoverSliver(%s %d) = %+v, want %+v", a, target, got, want)
		}
		if !reflect.DeepEqual(syms, before) {
			t.Fatalf("RecoverSliver modified its input symbols")
		}
		_, err = c.cfg.RecoverSliver(m, a, target, append(slices.Clone(syms[:need-1]), syms[0]))
		expectErr(t, "RecoverSliver with one distinct symbol too few", err, redstuff.ErrNotEnough, "need")

		// BCS round trips of one symbol and of the list.
		list, err := redstuff.DecodeSymbolList(redstuff.EncodeSymbolList(syms), len(syms), c.sym)
		if err != nil || !reflect.DeepEqual(list, syms) {
			t.Fatalf("DecodeSymbolList(EncodeSymbolList) = %v; symbols differ: %v", err, !reflect.DeepEqual(list, syms))
		}

		// Tampering. A changed index, target or axis may only be accepted if the symbol
		// really is the value at the new position (common in mostly-zero blobs).
		pick := rapid.IntRange(0, len(syms)-1).Draw(t, "tampered")
		orig := syms[pick]
		src := orig.Index

		s := cloneSymbol(orig)
		bit := rapid.IntRange(0, 8*c.sym-1).Draw(t, "dataBit")
		s.Data[bit/8] ^= 1 << (bit % 8)
		expectErr(t, "flipped data bit", c.cfg.VerifyRecoverySymbol(m, &s), redstuff.ErrInvalidSymbol, s.ID())
		// Fed to RecoverSliver unverified, the tampered symbol is used (it comes first)
		// and the result cannot match; the "proof" it yields is refused.
		_, err = c.cfg.RecoverSliver(m, a, target, append([]redstuff.RecoverySymbol{s}, syms...))
		var ie *redstuff.InconsistencyError
		if !errors.As(err, &ie) {
			t.Fatalf("RecoverSliver with a tampered symbol first: %v, want an *InconsistencyError", err)
		}
		expectErr(t, "proof with a tampered symbol", c.cfg.VerifyInconsistencyProof(m, ie.Proof), redstuff.ErrInvalidSymbol, s.ID())

		if depth := len(orig.Proof.Path); depth > 0 {
			level := rapid.IntRange(0, depth-1).Draw(t, "proofLevel")
			nb := rapid.IntRange(0, 8*merkle.Size-1).Draw(t, "proofBit")
			s := cloneSymbol(orig)
			v := s.Proof.Path[level].Value()
			v[nb/8] ^= 1 << (nb % 8)
			s.Proof.Path[level] = merkle.DigestNode(v)
			expectErr(t, "flipped proof bit", c.cfg.VerifyRecoverySymbol(m, &s), redstuff.ErrInvalidSymbol, "")
			if !orig.Proof.Path[level].IsEmpty() {
				s := cloneSymbol(orig)
				s.Proof.Path[level] = merkle.PathNode{}
				expectErr(t, "proof node made empty", c.cfg.VerifyRecoverySymbol(m, &s), redstuff.ErrInvalidSymbol, "empty")
			}
		}
		{
			s := cloneSymbol(orig)
			s.Proof.Path = s.Proof.Path[:len(s.Proof.Path)-1]
			expectErr(t, "proof one node short", c.cfg.VerifyRecoverySymbol(m, &s), redstuff.ErrInvalidSymbol, "path")
			s = cloneSymbol(orig)
			s.Proof.Path = append(s.Proof.Path, merkle.DigestNode(merkle.Node{1}))
			expectErr(t, "proof one node long", c.cfg.VerifyRecoverySymbol(m, &s), redstuff.ErrInvalidSymbol, "path")
		}

		otherSrc := rapid.IntRange(0, c.n-2).Draw(t, "wrongIndex")
		if otherSrc >= src {
			otherSrc++
		}
		s = cloneSymbol(orig)
		s.Index = otherSrc
		err = c.cfg.VerifyRecoverySymbol(m, &s)
		if bytes.Equal(trueSymbol(t, c, a, otherSrc, target), orig.Data) {
			if err != nil {
				// The value is right, but the proof may differ; both are fine.
				expectErr(t, "wrong index, same value", err, redstuff.ErrInvalidSymbol, "")
			}
		} else {
			expectErr(t, "wrong index", err, redstuff.ErrInvalidSymbol, "")
		}

		otherTarget := rapid.IntRange(0, c.n-2).Draw(t, "wrongTarget")
		if otherTarget >= target {
			otherTarget++
		}
		s = cloneSymbol(orig)
		s.Target = otherTarget
		err = c.cfg.VerifyRecoverySymbol(m, &s)
		if !bytes.Equal(trueSymbol(t, c, a, src, otherTarget), orig.Data) {
			expectErr(t, "wrong target", err, redstuff.ErrInvalidSymbol, "")
		} else if err != nil {
			expectErr(t, "wrong target, same value", err, redstuff.ErrInvalidSymbol, "")
		}
		// A verified symbol for another target is refused by RecoverSliver.
		_, err = c.cfg.RecoverSliver(m, a, otherTarget, syms)
		expectErr(t, "RecoverSliver with symbols for another target", err, redstuff.ErrInvalidSymbol, "not")

		s = cloneSymbol(orig)
		s.Axis = a.Orthogonal()
		err = c.cfg.VerifyRecoverySymbol(m, &s)
		if !bytes.Equal(trueSymbol(t, c, a.Orthogonal(), src, target), orig.Data) {
			expectErr(t, "wrong axis", err, redstuff.ErrInvalidSymbol, "")
		} else if err != nil {
			expectErr(t, "wrong axis, same value", err, redstuff.ErrInvalidSymbol, "")
		}

		for name, mutate := range map[string]func(*redstuff.RecoverySymbol){
			"index n":      func(s *redstuff.RecoverySymbol) { s.Index = c.n },
			"index -1":     func(s *redstuff.RecoverySymbol) { s.Index = -1 },
			"target n":     func(s *redstuff.RecoverySymbol) { s.Target = c.n },
			"target 65535": func(s *redstuff.RecoverySymbol) { s.Target = 65535 },
			"short data":   func(s *redstuff.RecoverySymbol) { s.Data = s.Data[:len(s.Data)-1] },
			"long data":    func(s *redstuff.RecoverySymbol) { s.Data = append(s.Data, 0, 0) },
			"unknown axis": func(s *redstuff.RecoverySymbol) { s.Axis = 7 },
		} {
			s := cloneSymbol(orig)
			mutate(&s)
			expectErr(t, name, c.cfg.VerifyRecoverySymbol(m, &s), redstuff.ErrInvalidSymbol, "")
			_, err := c.cfg.RecoverSliver(m, a, target, []redstuff.RecoverySymbol{s})
			if !errors.Is(err, redstuff.ErrInvalidSymbol) {
				t.Fatalf("RecoverSliver with a symbol with %s: %v, want ErrInvalidSymbol", name, err)
			}
		}
	})
}

// TestPropInconsistency builds an inconsistent encoding: a repair primary sliver p is
// replaced by garbage and the metadata commits to the garbage (hash of its expansion,
// recomputed blob ID). Every sliver still verifies on its own, but recovering sliver p from
// the secondary slivers, or a secondary sliver whose symbol from p changed, yields an
// InconsistencyError whose proof verifies and round-trips; decoding from primary slivers
// that use p fails the default check; the strict check always fails.
func TestPropInconsistency(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := drawCase(t)
		cfg, m := c.cfg, c.meta()
		R := cfg.SourceSymbols(primary)
		p := rapid.IntRange(R, c.n-1).Draw(t, "badPrimary")
		orig := c.sliver(primary, p)
		rng := rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "garbageSeed"), 1))
		bad := cloneSliver(orig)
		fillRandom(rng, bad.Data)
		if bytes.Equal(bad.Data, orig.Data) {
			bad.Data[0] ^= 1
		}
		xbad, err := cfg.Expand(m, bad)
		if err != nil {
			t.Fatalf("Expand(garbage): %v", err)
		}
		m2 := cloneMetadata(m)
		m2.Hashes[p].Primary = xbad.Root()
		m2.BlobID = m2.ComputeBlobID()
		if err := cfg.VerifyMetadata(m2); err != nil {
			t.Fatalf("VerifyMetadata(inconsistent): %v", err)
		}
		if err := cfg.VerifySliver(m2, bad); err != nil {
			t.Fatalf("garbage sliver does not verify against the metadata made for it: %v", err)
		}
		expectErr(t, "original sliver against inconsistent metadata", cfg.VerifySliver(m2, orig), redstuff.ErrSliverHash, "")
		enc2 := &redstuff.EncodedBlob{Metadata: m2, Pairs: slices.Clone(c.enc.Pairs)}
		enc2.Pairs[p].Primary = *bad
		for _, a := range []redstuff.Axis{primary, secondary} {
			i := rapid.IntRange(0, c.n-1).Draw(t, "alsoVerifies_"+a.String())
			if err := cfg.VerifySliver(m2, propSliver(enc2, a, i)); err != nil {
				t.Fatalf("%s sliver %d of the inconsistent encoding: %v", a, i, err)
			}
		}

		checkProof := func(what string, err error, a redstuff.Axis, target int) {
			t.Helper()
			var ie *redstuff.InconsistencyError
			if !errors.As(err, &ie) || !errors.Is(err, redstuff.ErrInconsistent) {
				t.Fatalf("%s: got %v, want an *InconsistencyError", what, err)
			}
			proof := ie.Proof
			if proof.Axis != a || proof.Target != target || len(proof.Symbols) != cfg.RecoverySymbolsNeeded(a) {
				t.Fatalf("%s: proof for %s %d with %d symbols, want %s %d with %d",
					what, proof.Axis, proof.Target, len(proof.Symbols), a, target, cfg.RecoverySymbolsNeeded(a))
			}
			if !strings.Contains(err.Error(), "inconsistent") {
				t.Fatalf("%s: error %q", what, err)
			}
			if err := cfg.VerifyInconsistencyProof(m2, proof); err != nil {
				t.Fatalf("%s: VerifyInconsistencyProof: %v", what, err)
			}
			b := proof.Bytes()
			back, err := redstuff.DecodeInconsistencyProof(b, a, len(proof.Symbols), c.sym)
			if err != nil {
				t.Fatalf("%s: DecodeInconsistencyProof: %v", what, err)
			}
			if !reflect.DeepEqual(back, proof) || !bytes.Equal(back.Bytes(), b) {
				t.Fatalf("%s: proof does not round-trip through BCS", what)
			}
			if err := cfg.VerifyInconsistencyProof(m2, back); err != nil {
				t.Fatalf("%s: VerifyInconsistencyProof(decoded): %v", what, err)
			}
			// Dropping a symbol makes the proof invalid.
			short := &redstuff.InconsistencyProof{Axis: a, Target: target, Symbols: proof.Symbols[1:]}
			expectErr(t, what+": short proof", cfg.VerifyInconsistencyProof(m2, short), redstuff.ErrInvalidSymbol, "need exactly")
		}

		// Rebuilding p from secondary slivers gives the original data, not the garbage.
		need := cfg.RecoverySymbolsNeeded(primary)
		sources := rapid.Permutation(indices(c.n)).Draw(t, "secondarySources")[:need]
		syms := symbolsFor(t, c, m2, enc2, primary, p, sources)
		_, err = cfg.RecoverSliver(m2, primary, p, syms)
		checkProof("recover primary p", err, primary, p)
		// The same symbols verify against the consistent metadata and prove nothing there.
		expectErr(t, "proof against consistent metadata",
			cfg.VerifyInconsistencyProof(m, &redstuff.InconsistencyProof{Axis: primary, Target: p, Symbols: syms}),
			redstuff.ErrProofNotInconsistent, "")

		// A secondary sliver j whose symbol in row p changed, rebuilt with p's symbol.
		var changed []int
		for j := 0; j < c.n; j++ {
			sb, _ := xbad.RecoverySymbol(j)
			if !bytes.Equal(sb.Data, trueSymbol(t, c, secondary, p, j)) {
				changed = append(changed, j)
			}
		}
		if len(changed) == 0 {
			t.Fatalf("garbage sliver %d expands to the original row", p)
		}
		j := rapid.SampledFrom(changed).Draw(t, "secondaryTarget")
		others := slices.DeleteFunc(indices(c.n), func(i int) bool { return i == p })
		others = rapid.Permutation(others).Draw(t, "primarySources")[:R-1]
		at := rapid.IntRange(0, R-1).Draw(t, "badSymbolPosition")
		rows := slices.Insert(slices.Clone(others), at, p)
		syms = symbolsFor(t, c, m2, enc2, secondary, j, rows)
		_, err = cfg.RecoverSliver(m2, secondary, j, syms)
		checkProof("recover secondary j", err, secondary, j)

		// Decoding from primary slivers. The default check fails exactly when p is used
		// and a systematic sliver is missing; the strict check always fails, because the
		// metadata commits to no blob.
		extra := rapid.IntRange(0, c.n-R).Draw(t, "extraPrimary")
		set := rapid.Permutation(indices(c.n)).Draw(t, "decodeSet")[:R+extra]
		if !slices.Contains(set, p) && rapid.Bool().Draw(t, "forceBad") {
			set[0] = p
		}
		slivers := make([]*redstuff.Sliver, len(set))
		for i, idx := range set {
			slivers[i] = propSliver(enc2, primary, idx)
		}
		missingSystematic := false
		for r := 0; r < R; r++ {
			missingSystematic = missingSystematic || !slices.Contains(set, r)
		}
		got, err := cfg.Decode(m2, slivers, redstuff.ConsistencyDefault)
		if slices.Contains(set, p) && missingSystematic {
			expectErr(t, "default decode using the bad sliver", err, redstuff.ErrInconsistent, "does not match")
		} else if err != nil || !bytes.Equal(got, c.blob) {
			t.Fatalf("default decode from %v (bad %d not used): err %v, blob equal %v", set, p, err, bytes.Equal(got, c.blob))
		}
		_, err = cfg.Decode(m2, slivers, redstuff.ConsistencyStrict)
		expectErr(t, "strict decode of inconsistent blob", err, redstuff.ErrInconsistent, "blob ID")

		// A proof made of symbols of a consistent blob is rejected.
		a := rapid.SampledFrom([]redstuff.Axis{primary, secondary}).Draw(t, "consistentAxis")
		tgt := rapid.IntRange(0, c.n-1).Draw(t, "consistentTarget")
		srcs := rapid.Permutation(indices(c.n)).Draw(t, "consistentSources")[:cfg.RecoverySymbolsNeeded(a)]
		good := &redstuff.InconsistencyProof{Axis: a, Target: tgt, Symbols: symbolsFor(t, c, m, c.enc, a, tgt, srcs)}
		expectErr(t, "proof from a consistent blob", cfg.VerifyInconsistencyProof(m, good), redstuff.ErrProofNotInconsistent, "")
	})
}

// TestPropBlobIDText: blob IDs round-trip through text and u256 forms, and ParseBlobID
// rejects every malformed text form.
func TestPropBlobIDText(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	rapid.Check(t, func(t *rapid.T) {
		var id redstuff.BlobID
		copy(id[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "id"))
		text := id.String()
		if len(text) != 43 || strings.ContainsAny(text, "+/=") {
			t.Fatalf("String() = %q", text)
		}
		if got, err := redstuff.ParseBlobID(text); err != nil || got != id {
			t.Fatalf("ParseBlobID(%q) = %x, %v", text, got, err)
		}
		u := id.U256()
		if u.Sign() < 0 || u.BitLen() > 256 {
			t.Fatalf("U256() = %v", u)
		}
		if got, err := redstuff.BlobIDFromU256(u.String()); err != nil || got != id {
			t.Fatalf("BlobIDFromU256(%s) = %x, %v", u, got, err)
		}
		if got := id.Hex(); len(got) != 64 {
			t.Fatalf("Hex() = %q", got)
		}

		reject := func(what, s string) {
			t.Helper()
			if got, err := redstuff.ParseBlobID(s); !errors.Is(err, redstuff.ErrInvalidBlobID) {
				t.Fatalf("ParseBlobID(%q) (%s) = %x, %v; want ErrInvalidBlobID", s, what, got, err)
			}
		}
		cut := rapid.IntRange(0, 42).Draw(t, "cut")
		reject("too short", text[:cut])
		reject("too long", text+string(alphabet[rapid.IntRange(0, 63).Draw(t, "extraChar")]))
		reject("padded", text+"=")
		reject("padding inside", text[:42]+"=")
		pos := rapid.IntRange(0, 42).Draw(t, "badPos")
		for _, ch := range []string{"+", "/", "=", " ", "\n", "\r", ".", "é"[:1]} {
			reject("character "+ch, text[:pos]+ch+text[pos+1:])
		}
		// The last character carries 4 bits of the ID and 2 bits that must be zero.
		last := strings.IndexByte(alphabet, text[42])
		if last&3 != 0 {
			t.Fatalf("String() ends in %q, whose low bits are not zero", text[42])
		}
		low := rapid.IntRange(1, 3).Draw(t, "trailingBits")
		reject("non-canonical trailing bits", text[:42]+string(alphabet[last|low]))
	})
}

// TestBlobIDFromU256Rejects covers the fixed malformed decimal forms.
func TestBlobIDFromU256Rejects(t *testing.T) {
	for _, s := range []string{
		"", "-1", "abc", "0x10", "1e5", " 1",
		"115792089237316195423570985008687907853269984665640564039457584007913129639936", // 2^256
	} {
		if _, err := redstuff.BlobIDFromU256(s); !errors.Is(err, redstuff.ErrInvalidBlobID) {
			t.Errorf("BlobIDFromU256(%q) = %v, want ErrInvalidBlobID", s, err)
		}
	}
	max := "115792089237316195423570985008687907853269984665640564039457584007913129639935"
	id, err := redstuff.BlobIDFromU256(max)
	if err != nil || !bytes.Equal(id[:], bytes.Repeat([]byte{0xff}, 32)) {
		t.Fatalf("BlobIDFromU256(2^256-1) = %x, %v", id, err)
	}
	if id, err := redstuff.BlobIDFromU256("1"); err != nil || id != (redstuff.BlobID{0: 1}) {
		t.Fatalf("BlobIDFromU256(1) = %x, %v (the u256 is read little-endian)", id, err)
	}
}
