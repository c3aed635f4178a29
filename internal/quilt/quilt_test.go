package quilt

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// TestSymbolSize replays walrus-core's test_quilt_find_min_length table.
func TestSymbolSize(t *testing.T) {
	for i, c := range []struct {
		sizes              []int
		cols, rows, maxIdx int
		want               int
		err                error
	}{
		{[]int{2, 1, 2, 1}, 3, 3, 1, 0, ErrTooManyPatches},
		{[]int{1000, 1, 1}, 4, 7, 2, 72, nil},
		{[]int{1}, 3, 2, 1, 4, nil},
		{[]int{115, 80, 4}, 17, 9, 3, 6, nil},
		{[]int{20, 20, 20}, 3, 5, 2, 4, nil},
		{[]int{5, 5, 5}, 5, 1, 1, 6, nil},
		{[]int{25, 35, 45}, 200, 1, 3, 10, nil},
		{[]int{10, 0, 0, 0}, 17, 9, 2, 2, nil},
		{[]int{416, 253, 258, 384, 492, 303, 276, 464, 143, 251, 388, 263, 515, 433, 505,
			385, 346, 69, 48, 495, 329, 450, 494, 104, 539, 245, 109, 317, 60}, 34, 16, 3, 32, nil},
		{[]int{10, 1 << 30}, 4, 4, 10, 0, ErrTooLarge},
	} {
		got, err := symbolSize(c.sizes, c.cols, c.rows, c.maxIdx)
		if !errors.Is(err, c.err) || got != c.want {
			t.Errorf("case %d: %d, %v; want %d, %v", i, got, err, c.want, c.err)
		}
	}
}

func TestValidateIdentifier(t *testing.T) {
	for _, ok := range []string{"a", "index.html", "_x", "-x", ".x", "dir/file name.txt", "日本", strings.Repeat("x", MaxIdentifierLen)} {
		if err := ValidateIdentifier(ok); err != nil {
			t.Errorf("%q: %v", truncate(ok), err)
		}
	}
	for _, bad := range []string{"", "trailing ", "tab\t", "nbsp\u00a0", "ideographic\u3000", "ctl\x01x", "del\x7f", "c1\u0085x", "\xff\xfe", strings.Repeat("x", MaxIdentifierLen+1)} {
		if err := ValidateIdentifier(bad); !errors.Is(err, ErrInvalidIdentifier) {
			t.Errorf("%q: %v, want ErrInvalidIdentifier", truncate(bad), err)
		}
	}
}

func TestEncodeBadInput(t *testing.T) {
	cfg := mustConfig(t, 10)
	long := strings.Repeat("x", MaxIdentifierLen-2) // valid, but 3 bytes of length prefix make it too long
	bigTags := map[string]string{"k": strings.Repeat("v", MaxTagsLen)}
	for _, c := range []struct {
		name    string
		patches []Patch
		want    error
	}{
		{"empty identifier", []Patch{{Identifier: ""}}, ErrInvalidIdentifier},
		{"trailing space", []Patch{{Identifier: "a "}}, ErrInvalidIdentifier},
		{"encoded identifier too long", []Patch{{Identifier: long}}, ErrInvalidIdentifier},
		{"duplicate", []Patch{{Identifier: "a"}, {Identifier: "b"}, {Identifier: "a"}}, ErrDuplicateIdentifier},
		{"too many", make7("f"), ErrTooManyPatches},
		{"tags too large", []Patch{{Identifier: "a", Tags: bigTags}}, ErrInvalidTags},
		{"tag not UTF-8", []Patch{{Identifier: "a", Tags: map[string]string{"\xff": "v"}}}, ErrInvalidTags},
		{"too large", []Patch{{Identifier: "a", Data: make([]byte, int(cfg.MaxBlobSize()))}}, ErrTooLarge},
	} {
		if _, err := Encode(cfg, c.patches); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func make7(prefix string) []Patch {
	out := make([]Patch, 7)
	for i := range out {
		out[i] = Patch{Identifier: fmt.Sprintf("%s%d", prefix, i)}
	}
	return out
}

func mustConfig(t testing.TB, n int) *redstuff.Config {
	t.Helper()
	cfg, err := redstuff.NewConfig(n)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestRandomRoundTrip encodes random file sets for random shard counts and decodes every
// patch back from its columns; the same files in any order give the same quilt.
func TestRandomRoundTrip(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	for iter := 0; iter < 40; iter++ {
		n := []int{4, 7, 10, 13, 31, 100}[r.IntN(6)]
		cfg := mustConfig(t, n)
		count := r.IntN(MaxPatches(cfg) + 1)
		files := make([]Patch, count)
		for i := range files {
			files[i] = Patch{Identifier: fmt.Sprintf("f%d-%x", i, r.Uint32()), Data: make([]byte, r.IntN(3000))}
			for j := range files[i].Data {
				files[i].Data[j] = byte(r.Uint32())
			}
			if r.IntN(3) == 0 {
				files[i].Tags = map[string]string{"k": fmt.Sprint(r.IntN(3)), fmt.Sprintf("t%d", r.IntN(200)): "v"}
			}
		}
		q, err := Encode(cfg, files)
		if err != nil {
			t.Fatalf("seed %d iter %d: %v", seed, iter, err)
		}
		checkRoundTrip(t, cfg, q, files)
		shuffled := append([]Patch(nil), files...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		q2, err := Encode(cfg, shuffled)
		if err != nil || !bytes.Equal(q.Blob, q2.Blob) {
			t.Fatalf("seed %d iter %d: another order gave another quilt (%v)", seed, iter, err)
		}
		for _, p := range q.Index.ByTag("k", "1") {
			if !p.HasTag("k", "1") {
				t.Fatalf("ByTag returned %+v", p)
			}
		}
	}
}

func TestDecodeBadInput(t *testing.T) {
	cfg := mustConfig(t, 10)
	q, err := Encode(cfg, []Patch{{Identifier: "a", Data: []byte("hello"), Tags: map[string]string{"k": "v"}}})
	if err != nil {
		t.Fatal(err)
	}
	cols, err := Columns(cfg, q.Blob)
	if err != nil {
		t.Fatal(err)
	}
	p := q.Index.Patches[0]
	// Columns are 8 bytes here; join each part into one column so that the offsets below
	// are offsets in the patch or the index.
	patch, _ := concat(cols[p.Start:p.End])
	index, _ := concat(cols[:q.Index.Columns])
	mutate := func(col []byte, f func(b []byte)) [][]byte {
		b := append([]byte(nil), col...)
		f(b)
		return [][]byte{b}
	}
	for _, c := range []struct {
		name string
		cols [][]byte
	}{
		{"no columns", nil},
		{"short column", [][]byte{{1, 2}}},
		{"bad version", mutate(patch, func(b []byte) { b[0] = 2 })},
		{"length past columns", mutate(patch, func(b []byte) { b[1], b[2], b[3], b[4] = 0xff, 0xff, 0xff, 0x7f })},
		{"identifier length past patch", mutate(patch, func(b []byte) { b[6], b[7] = 0xff, 0xff })},
		{"identifier not BCS", mutate(patch, func(b []byte) { b[8] = 5 })},
		{"tags truncated", mutate(patch, func(b []byte) { b[12] = 9 })},
		{"tags not canonical", [][]byte{handPatch("a", []byte{2, 2, 'a', 'a', 0, 1, 'b', 0})}},
		{"tags with a repeated key", [][]byte{handPatch("a", []byte{2, 1, 'b', 0, 1, 'b', 0})}},
		{"columns of different sizes", [][]byte{patch, patch[:3]}},
	} {
		if _, err := DecodePatch(c.cols); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodePatch %s: %v, want ErrMalformed", c.name, err)
		}
	}
	for _, c := range []struct {
		name string
		cols [][]byte
	}{
		{"no columns", nil},
		{"bad version", mutate(index, func(b []byte) { b[0] = 0 })},
		{"index larger than ten columns", mutate(index, func(b []byte) { b[1], b[2], b[3], b[4] = 0xff, 0xff, 0, 0 })},
		{"index spans missing columns", mutate(index, func(b []byte) { b[1], b[2] = byte(len(b)), 0 })},
		{"end before start", mutate(index, func(b []byte) { b[6], b[7] = 0, 0 })},
		{"end past quilt", mutate(index, func(b []byte) { b[6], b[7] = 200, 0 })},
		{"trailing bytes", mutate(index, func(b []byte) { b[1]++ })},
	} {
		if _, err := DecodeIndex(c.cols, len(cols)); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeIndex %s: %v, want ErrMalformed", c.name, err)
		}
	}
	if _, err := Columns(cfg, q.Blob[:len(q.Blob)-1]); !errors.Is(err, ErrMalformed) {
		t.Errorf("Columns of a short blob: %v", err)
	}
	x, _ := DecodeIndex(cols, len(cols))
	if _, err := x.Lookup("missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup: %v", err)
	}
	if _, err := x.ByInternalID(InternalID{Start: 3, End: 4}); !errors.Is(err, ErrNotFound) {
		t.Errorf("ByInternalID: %v", err)
	}
}

// handPatch builds a tagged patch with the given raw BCS tags and no data.
func handPatch(id string, tags []byte) []byte {
	ident := bcsString(id)
	rest := 2 + len(ident) + 2 + len(tags)
	b := []byte{Version, byte(rest), 0, 0, 0, tagsMask, byte(len(ident)), 0}
	b = append(b, ident...)
	b = append(b, byte(len(tags)), 0)
	return append(b, tags...)
}

func TestParsePatchID(t *testing.T) {
	id := PatchID{Internal: InternalID{Start: 1, End: 3}}
	id.Quilt[0] = 0xfb
	s := id.String()
	if len(s) != PatchIDTextLen {
		t.Fatalf("%q has %d characters", s, len(s))
	}
	if got, err := ParsePatchID(s); err != nil || got != id {
		t.Fatalf("ParsePatchID(%q) = %v, %v", s, got, err)
	}
	b := id.Bytes()
	for _, bad := range []string{
		"", s[:49], s + "A", strings.Replace(s, s[:1], "+", 1), s[:49] + "=",
		encode(append(b[:32:32], 2, 1, 0, 3, 0)), // version 2
		encode(append(b[:32:32], 1, 3, 0, 3, 0)), // empty range
		encode(append(b[:32:32], 1, 4, 0, 3, 0)), // reversed range
	} {
		if _, err := ParsePatchID(bad); !errors.Is(err, ErrInvalidPatchID) {
			t.Errorf("ParsePatchID(%q): %v, want ErrInvalidPatchID", bad, err)
		}
	}
	// A non-canonical last character (unused low bits set) is rejected like Walrus does.
	last := s[len(s)-1]
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
		if byte(c) == last {
			continue
		}
		alt := s[:len(s)-1] + string(c)
		if got, err := ParsePatchID(alt); err == nil && got == id {
			t.Errorf("%q parsed to the same ID as %q", alt, s)
		}
	}
}
