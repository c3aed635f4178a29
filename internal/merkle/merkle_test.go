package merkle

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/blake2b"
	"pgregory.net/rapid"

	"github.com/walrus-go/walrus/internal/bcs"
)

// naiveHash hashes the concatenation of parts, without the package's
// buffers.
func naiveHash(parts ...[]byte) Node {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return blake2b.Sum256(b)
}

// naiveRoot is a recursive reference for the root: the tree has depth
// ceil(log2(n)); a subtree whose first leaf index is past the last leaf is
// Empty (zeros), any other inner node hashes its two children.
func naiveRoot(leaves []Node) Node {
	if len(leaves) == 0 {
		return Node{}
	}
	depth := 0
	for 1<<depth < len(leaves) {
		depth++
	}
	return naiveNode(leaves, depth, 0)
}

func naiveNode(leaves []Node, level, idx int) Node {
	if idx<<level >= len(leaves) {
		return Node{}
	}
	if level == 0 {
		return leaves[idx]
	}
	l, r := naiveNode(leaves, level-1, 2*idx), naiveNode(leaves, level-1, 2*idx+1)
	return naiveHash([]byte{1}, l[:], r[:])
}

// distinctLeaves returns n leaf hashes that differ from one another, so
// that tampering with a proof can never be undone by a repeated value.
func distinctLeaves(n int, salt uint64) []Node {
	leaves := make([]Node, n)
	for i := range leaves {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], salt)
		binary.LittleEndian.PutUint64(b[8:], uint64(i))
		leaves[i] = LeafHash(b[:])
	}
	return leaves
}

func TestHashes(t *testing.T) {
	for _, n := range []int{0, 1, 2, 63, 64, 127, 128, 129, 1024, stackLeafMax, stackLeafMax + 1, 65534} {
		data := bytes.Repeat([]byte{0xa5}, n)
		want := naiveHash([]byte{0}, data)
		if got := LeafHash(data); got != want {
			t.Errorf("LeafHash of %d bytes = %v, want %v", n, got, want)
		}
		var h Hasher
		for range 2 { // the second call reuses the state
			if got := h.LeafHash(data); got != want {
				t.Errorf("Hasher.LeafHash of %d bytes = %v, want %v", n, got, want)
			}
		}
	}
	a, b := LeafHash([]byte("a")), LeafHash([]byte("b"))
	if got, want := InnerHash(a, b), naiveHash([]byte{1}, a[:], b[:]); got != want {
		t.Errorf("InnerHash = %v, want %v", got, want)
	}
	if got, want := InnerHash(a, Empty), naiveHash([]byte{1}, a[:], make([]byte, 32)); got != want {
		t.Errorf("InnerHash with Empty = %v, want %v", got, want)
	}
	// A leaf and an inner node over the same bytes differ: the prefixes
	// separate the domains.
	var ab [64]byte
	copy(ab[:], a[:])
	copy(ab[32:], b[:])
	if LeafHash(ab[:]) == InnerHash(a, b) {
		t.Error("leaf and inner hashes collide")
	}
}

func TestLeafHashes(t *testing.T) {
	for _, size := range []int{1, 2, 64, stackLeafMax, stackLeafMax + 2} {
		data := make([]byte, 5*size)
		for i := range data {
			data[i] = byte(i * 7)
		}
		prefix := []Node{{1}}
		got := LeafHashes(prefix, data, size)
		var h Hasher
		got2 := h.LeafHashes(nil, data, size)
		if len(got) != 6 || got[0] != (Node{1}) || len(got2) != 5 {
			t.Fatalf("leaf size %d: got %d and %d hashes", size, len(got), len(got2))
		}
		for i := range 5 {
			want := LeafHash(data[i*size : (i+1)*size])
			if got[i+1] != want || got2[i] != want {
				t.Errorf("leaf size %d, leaf %d: %v, %v; want %v", size, i, got[i+1], got2[i], want)
			}
		}
	}
	if got := LeafHashes(nil, nil, 4); len(got) != 0 {
		t.Errorf("no data gave %d hashes", len(got))
	}
	for _, c := range []struct{ n, size int }{{10, 0}, {10, -1}, {10, 3}} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "merkle: ") {
					t.Errorf("LeafHashes(%d bytes, leaf size %d): recovered %v, want a merkle panic", c.n, c.size, r)
				}
			}()
			LeafHashes(nil, make([]byte, c.n), c.size)
		}()
	}
}

func TestDepth(t *testing.T) {
	for n, want := range map[int]int{0: 0, 1: 0, 2: 1, 3: 2, 4: 2, 5: 3, 8: 3, 9: 4, 1000: 10, 1024: 10, 1025: 11} {
		if got := Depth(n); got != want {
			t.Errorf("Depth(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestSmallTrees(t *testing.T) {
	if Root(nil) != Empty || New(nil).Root() != Empty || New(nil).Len() != 0 {
		t.Error("empty tree root is not Empty")
	}
	if _, err := New(nil).Proof(0); !errors.Is(err, ErrIndexOutOfRange) {
		t.Errorf("Proof(0) of empty tree: %v", err)
	}
	l := LeafHash([]byte("Test"))
	tree := New([]Node{l})
	if tree.Root() != l || Root([]Node{l}) != l {
		t.Error("single-leaf root is not the leaf hash")
	}
	p, err := tree.Proof(0)
	if err != nil || len(p.Path) != 0 {
		t.Fatalf("single-leaf proof %v, %v", p.Path, err)
	}
	if err := p.VerifyLeaf(l, []byte("Test"), 0, 1); err != nil {
		t.Error(err)
	}
	for _, i := range []int{-1, 1} {
		if _, err := tree.Proof(i); !errors.Is(err, ErrIndexOutOfRange) || !strings.HasPrefix(err.Error(), "merkle: ") {
			t.Errorf("Proof(%d): %v", i, err)
		}
	}
	// New copies its input.
	leaves := distinctLeaves(3, 0)
	tree = New(leaves)
	root := tree.Root()
	leaves[0] = Node{}
	if tree.Root() != root {
		t.Error("Tree aliases the caller's leaf hashes")
	}
}

func TestRootInto(t *testing.T) {
	leaves := distinctLeaves(1000, 1)
	want := naiveRoot(leaves)
	scratch := make([]Node, ScratchLen(len(leaves)))
	if got := RootInto(scratch, leaves); got != want {
		t.Errorf("RootInto = %v, want %v", got, want)
	}
	if got := RootInto(scratch[:3], leaves); got != want {
		t.Errorf("RootInto with short scratch = %v, want %v", got, want)
	}
	if got := Root(leaves); got != want {
		t.Errorf("Root = %v, want %v", got, want)
	}
	if naiveRoot(leaves) != want {
		t.Error("Root or RootInto modified the leaf hashes")
	}
	if got := RootInto(leaves, leaves); got != want {
		t.Errorf("RootInto in place = %v, want %v", got, want)
	}
}

func TestAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	leaf := make([]byte, 1024)
	big := make([]byte, 64<<10)
	leaves := distinctLeaves(1000, 2)
	scratch := make([]Node, ScratchLen(len(leaves)))
	dst := make([]Node, 0, 64)
	data := make([]byte, 64*64)
	var h Hasher
	h.LeafHash(big)
	tree := New(leaves)
	p, _ := tree.Proof(17)
	root := tree.Root()
	for name, f := range map[string]func(){
		"LeafHash 1KiB":          func() { LeafHash(leaf) },
		"InnerHash":              func() { InnerHash(leaves[0], leaves[1]) },
		"Hasher.LeafHash 64KiB":  func() { h.LeafHash(big) },
		"RootInto":               func() { RootInto(scratch, leaves) },
		"LeafHashes":             func() { dst = LeafHashes(dst[:0], data, 64) },
		"Hasher.LeafHashes 64B":  func() { dst = h.LeafHashes(dst[:0], data, 64) },
		"Proof.Verify":           func() { _ = p.Verify(root, leaves[17], 17, len(leaves)) },
		"Tree.Root":              func() { tree.Root() },
		"Hasher.LeafHash 2bytes": func() { h.LeafHash(leaf[:2]) },
	} {
		if got := testing.AllocsPerRun(20, f); got != 0 {
			t.Errorf("%s: %v allocations, want 0", name, got)
		}
	}
}

// TestTreeProperties checks, for random trees of 0 to 300 leaves, that
// Root, RootInto and Tree agree with the naive reference, that every proof
// has the naive reference's siblings and verifies, and that tampering with
// the leaf, a sibling, the index, the root or the path length is detected.
func TestTreeProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 300).Draw(t, "n")
		leaves := distinctLeaves(n, rapid.Uint64().Draw(t, "salt"))
		want := naiveRoot(leaves)
		tree := New(leaves)
		if tree.Len() != n || tree.Root() != want || Root(leaves) != want {
			t.Fatalf("roots disagree: tree %v, Root %v, naive %v", tree.Root(), Root(leaves), want)
		}
		scratch := append([]Node(nil), leaves...)
		if got := RootInto(scratch, scratch); got != want {
			t.Fatalf("RootInto in place = %v, want %v", got, want)
		}
		if n == 0 {
			return
		}
		for i := range n {
			p, err := tree.Proof(i)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Path) != Depth(n) {
				t.Fatalf("leaf %d: path of %d nodes, want %d", i, len(p.Path), Depth(n))
			}
			for level, sib := range p.Path {
				s := (i >> level) ^ 1
				if wantEmpty := s<<level >= n; sib.IsEmpty() != wantEmpty || sib.Value() != naiveNode(leaves, level, s) {
					t.Fatalf("leaf %d level %d: sibling %v, want %v (empty %v)", i, level, sib, naiveNode(leaves, level, s), wantEmpty)
				}
			}
			if err := p.Verify(want, leaves[i], i, n); err != nil {
				t.Fatalf("leaf %d: %v", i, err)
			}
		}

		i := rapid.IntRange(0, n-1).Draw(t, "i")
		p, _ := tree.Proof(i)
		mustFail := func(what string, p Proof, root, leaf Node, idx, count int) {
			err := p.Verify(root, leaf, idx, count)
			if !errors.Is(err, ErrInvalidProof) || !strings.HasPrefix(err.Error(), "merkle: invalid proof: ") {
				t.Fatalf("%s: Verify returned %v, want ErrInvalidProof", what, err)
			}
		}
		bad := leaves[i]
		bad[rapid.IntRange(0, Size-1).Draw(t, "leafByte")] ^= 1 << rapid.IntRange(0, 7).Draw(t, "leafBit")
		mustFail("tampered leaf", p, want, bad, i, n)
		badRoot := want
		badRoot[0] ^= 0x80
		mustFail("wrong root", p, badRoot, leaves[i], i, n)
		mustFail("index -1", p, want, leaves[i], -1, n)
		mustFail("index n", p, want, leaves[i], n, n)
		mustFail("extra node", Proof{Path: append(p.Path[:len(p.Path):len(p.Path)], DigestNode(leaves[0]))}, want, leaves[i], i, n)
		mustFail("extra empty node", Proof{Path: append(p.Path[:len(p.Path):len(p.Path)], PathNode{})}, want, leaves[i], i, n)
		if n > 1 {
			mustFail("missing node", Proof{Path: p.Path[:len(p.Path)-1]}, want, leaves[i], i, n)

			j := rapid.IntRange(0, n-2).Draw(t, "j")
			if j >= i {
				j++
			}
			mustFail("other index", p, want, leaves[i], j, n)

			level := rapid.IntRange(0, len(p.Path)-1).Draw(t, "level")
			v := p.Path[level].Value()
			v[rapid.IntRange(0, Size-1).Draw(t, "sibByte")] ^= 1 << rapid.IntRange(0, 7).Draw(t, "sibBit")
			tampered := Proof{Path: append([]PathNode(nil), p.Path...)}
			tampered.Path[level] = DigestNode(v)
			mustFail("tampered sibling", tampered, want, leaves[i], i, n)
			if !p.Path[level].IsEmpty() {
				tampered.Path[level] = PathNode{}
				mustFail("sibling replaced by Empty", tampered, want, leaves[i], i, n)
			} else {
				// A zero Digest in place of Empty hashes the same bytes:
				// accepted, as Walrus does.
				tampered.Path[level] = DigestNode(Empty)
				if err := tampered.Verify(want, leaves[i], i, n); err != nil {
					t.Fatalf("zero Digest in place of Empty: %v", err)
				}
			}
		}
	})
}

// TestVerifyWalrusChecks pins the order and wording of Verify's checks.
func TestVerifyWalrusChecks(t *testing.T) {
	leaves := distinctLeaves(5, 3)
	tree := New(leaves)
	root := tree.Root()
	p4, _ := tree.Proof(4) // siblings: empty, empty, digest
	p0, _ := tree.Proof(0)
	tests := []struct {
		name   string
		p      Proof
		leaf   Node
		idx, n int
		want   string
	}{
		{"zero leaves", Proof{}, leaves[0], 0, 0, "leaf index 0 not in [0, 0)"},
		{"long path", Proof{Path: make([]PathNode, 4)}, leaves[0], 0, 5, "path of 4 nodes is longer than ceil(log2(5)) = 3"},
		{"index beyond path", Proof{Path: make([]PathNode, 2)}, leaves[4], 4, 5, "leaf index 4 does not fit in a path of 2 nodes"},
		{"short path", Proof{Path: p0.Path[:2]}, leaves[0], 0, 5, "path has 2 nodes, want 3 for 5 leaves"},
		{"padding not empty", Proof{Path: []PathNode{DigestNode(leaves[0]), p4.Path[1], p4.Path[2]}}, leaves[4], 4, 5, "sibling at level 0 must be empty padding"},
		{"node empty", Proof{Path: []PathNode{{}, p0.Path[1], p0.Path[2]}}, leaves[0], 0, 5, "sibling at level 0 is empty, but the tree has a node there"},
		{"wrong count", p4, leaves[4], 4, 6, "sibling at level 0 is empty"},
		{"root", p0, leaves[1], 0, 5, "recomputed root"},
	}
	for _, tt := range tests {
		err := tt.p.Verify(root, tt.leaf, tt.idx, tt.n)
		if !errors.Is(err, ErrInvalidProof) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want ErrInvalidProof with %q", tt.name, err, tt.want)
		}
	}
	if err := p4.Verify(root, leaves[4], 4, 5); err != nil {
		t.Error(err)
	}
}

func TestNodeBCS(t *testing.T) {
	var e bcs.Encoder
	EncodeNode(&e, PathNode{})
	EncodeNode(&e, DigestNode(Node{0xaa, 31: 0xbb}))
	EncodeNode(&e, DigestNode(Empty))
	want := "00" + "01aa" + strings.Repeat("00", 30) + "bb" + "01" + strings.Repeat("00", 32)
	if got := hex.EncodeToString(e.Out()); got != want {
		t.Fatalf("encoded %s, want %s", got, want)
	}
	d := bcs.NewDecoder(e.Out())
	a, b, c := DecodeNode(d), DecodeNode(d), DecodeNode(d)
	if err := d.Finish(); err != nil {
		t.Fatal(err)
	}
	if !a.IsEmpty() || b.IsEmpty() || b.Value() != (Node{0xaa, 31: 0xbb}) || c.IsEmpty() || c.Value() != Empty {
		t.Errorf("decoded %v %v %v", a, b, c)
	}

	for _, in := range []string{"02", "8000", "01aabb", ""} {
		d := bcs.NewDecoder(mustHex(t, in))
		DecodeNode(d)
		if d.Err() == nil {
			t.Errorf("DecodeNode(%s) accepted", in)
		}
	}
	d = bcs.NewDecoder([]byte{2})
	DecodeNode(d)
	if err := d.Err(); !errors.Is(err, bcs.ErrInvalidVariant) || !strings.Contains(err.Error(), "merkle node variant 2 at offset 0") {
		t.Errorf("unknown tag: %v", err)
	}
}

func TestDecodeProofErrors(t *testing.T) {
	tests := []struct {
		in      string
		max     int
		wantErr error
	}{
		{"04", 3, bcs.ErrTooLong},
		{"03" + "00" + "00", 3, bcs.ErrTruncated},
		{"02" + "00" + "05", 3, bcs.ErrInvalidVariant},
		{"01" + "01" + "aa", 3, bcs.ErrTruncated},
		{"8000", 3, bcs.ErrNonCanonical},
		{"", 3, bcs.ErrTruncated},
	}
	for _, tt := range tests {
		d := bcs.NewDecoder(mustHex(t, tt.in))
		p, err := DecodeProof(d, tt.max)
		if !errors.Is(err, tt.wantErr) || !strings.HasPrefix(err.Error(), "merkle: proof: bcs: ") || len(p.Path) != 0 {
			t.Errorf("DecodeProof(%s, %d) = %v, %v; want %v", tt.in, tt.max, p.Path, err, tt.wantErr)
		}
		if !errors.Is(d.Err(), tt.wantErr) {
			t.Errorf("DecodeProof(%s): decoder holds %v", tt.in, d.Err())
		}
	}
}

// FuzzDecodeProof checks that decoding arbitrary bytes never panics, that
// decoded proofs re-encode to exactly the input, and that verifying a
// decoded proof against arbitrary parameters never panics.
func FuzzDecodeProof(f *testing.F) {
	leaves := distinctLeaves(5, 4)
	tree := New(leaves)
	for i := range leaves {
		p, _ := tree.Proof(i)
		var e bcs.Encoder
		p.MarshalBCS(&e)
		f.Add(e.Out(), i, 5)
	}
	f.Add([]byte{0}, 0, 1)
	f.Add([]byte{1, 2}, 1, 2)
	f.Add([]byte{0x80, 0x00}, 0, 0)
	f.Fuzz(func(t *testing.T, data []byte, idx, count int) {
		d := bcs.NewDecoder(data)
		p, err := DecodeProof(d, 64)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "merkle: proof: bcs: ") {
				t.Fatalf("error %q lacks its prefixes", err)
			}
			return
		}
		if len(p.Path) > 64 {
			t.Fatalf("decoded a path of %d nodes with a limit of 64", len(p.Path))
		}
		if d.Finish() == nil {
			var e bcs.Encoder
			p.MarshalBCS(&e)
			if !bytes.Equal(e.Out(), data) {
				t.Fatalf("re-encoded %x as %x", data, e.Out())
			}
		}
		err = p.Verify(tree.Root(), leaves[0], idx, count)
		if err != nil && !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("Verify error %v does not wrap ErrInvalidProof", err)
		}
	})
}
