package committee

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func nodeID(b byte) [32]byte { return [32]byte{b} }

func TestQuorumValidity(t *testing.T) {
	tests := []struct {
		w, n             int
		quorum, validity bool
	}{
		{667, 1000, true, true},
		{666, 1000, false, true},
		{334, 1000, false, true},
		{333, 1000, false, false},
		{1000, 1000, true, true},
		{0, 1000, false, false},
		{7, 10, true, true},
		{6, 10, false, true},
		{4, 10, false, true},
		{3, 10, false, false},
		{1, 1, true, true},
		{0, 1, false, false},
		{3, 4, true, true},
		{2, 4, false, true},
		{1, 4, false, false},
	}
	for _, tt := range tests {
		if got := Quorum(tt.w, tt.n); got != tt.quorum {
			t.Errorf("Quorum(%d, %d) = %v, want %v", tt.w, tt.n, got, tt.quorum)
		}
		if got := Validity(tt.w, tt.n); got != tt.validity {
			t.Errorf("Validity(%d, %d) = %v, want %v", tt.w, tt.n, got, tt.validity)
		}
	}
}

func TestNewSortsAndIndexes(t *testing.T) {
	c, err := New(5, 6, []Member{
		{NodeID: nodeID(3), PublicKey: [48]byte{3}, Shards: []int{5, 0}},
		{NodeID: nodeID(1), PublicKey: [48]byte{1}, Shards: []int{3}},
		{NodeID: nodeID(2), PublicKey: [48]byte{2}, Shards: []int{4, 2, 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Epoch() != 5 || c.NShards() != 6 || c.Len() != 3 {
		t.Fatalf("Epoch, NShards, Len = %d, %d, %d", c.Epoch(), c.NShards(), c.Len())
	}
	wantShards := [][]int{{3}, {1, 2, 4}, {0, 5}}
	for i, want := range wantShards {
		m := c.Member(i)
		if m.NodeID != nodeID(byte(i+1)) || m.PublicKey != [48]byte{byte(i + 1)} {
			t.Errorf("member %d = %x, not sorted by node ID", i, m.NodeID[:1])
		}
		if !slices.Equal(c.ShardsOf(i), want) || !slices.Equal(m.Shards, want) {
			t.Errorf("ShardsOf(%d) = %v, want %v", i, c.ShardsOf(i), want)
		}
		if c.WeightOf(i) != len(want) {
			t.Errorf("WeightOf(%d) = %d", i, c.WeightOf(i))
		}
		if idx, ok := c.IndexOf(m.NodeID); !ok || idx != i {
			t.Errorf("IndexOf(%x) = %d, %v", m.NodeID[:1], idx, ok)
		}
	}
	owners := []int{2, 1, 1, 0, 1, 2}
	for s, want := range owners {
		if got := c.ShardOwner(s); got != want {
			t.Errorf("ShardOwner(%d) = %d, want %d", s, got, want)
		}
	}
	if c.ShardOwner(-1) != -1 || c.ShardOwner(6) != -1 {
		t.Errorf("ShardOwner out of range should be -1")
	}
	if c.ShardsOf(3) != nil || c.ShardsOf(-1) != nil || c.WeightOf(3) != 0 {
		t.Errorf("out-of-range member accessors should be empty")
	}
	if _, ok := c.IndexOf(nodeID(9)); ok {
		t.Errorf("IndexOf(unknown) found a member")
	}
	// Returned slices are copies.
	c.ShardsOf(0)[0] = 99
	c.Members()[1].Shards[0] = 99
	if c.ShardsOf(0)[0] != 3 || c.ShardsOf(1)[0] != 1 {
		t.Errorf("committee modified through an accessor")
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		members []Member
		msg     string
	}{
		{"zero shards", 0, nil, "0 shards"},
		{"too many shards", MaxShards + 1, nil, "shards"},
		{"no members", 2, nil, "shard 0 held by no member"},
		{"duplicate node", 2, []Member{{NodeID: nodeID(1), Shards: []int{0}}, {NodeID: nodeID(1), Shards: []int{1}}}, "duplicate node"},
		{"member without shards", 1, []Member{{NodeID: nodeID(1), Shards: []int{0}}, {NodeID: nodeID(2)}}, "holds no shards"},
		{"shard out of range", 2, []Member{{NodeID: nodeID(1), Shards: []int{0, 2}}}, "holds shard 2"},
		{"negative shard", 2, []Member{{NodeID: nodeID(1), Shards: []int{-1, 0, 1}}}, "holds shard -1"},
		{"shard twice", 2, []Member{{NodeID: nodeID(1), Shards: []int{0, 1}}, {NodeID: nodeID(2), Shards: []int{1}}}, "shard 1 held twice"},
		{"shard twice in one member", 2, []Member{{NodeID: nodeID(1), Shards: []int{0, 1, 1}}}, "shard 1 held twice"},
		{"shard missing", 3, []Member{{NodeID: nodeID(1), Shards: []int{0, 2}}}, "shard 1 held by no member"},
	}
	for _, tt := range tests {
		_, err := New(1, tt.n, tt.members)
		if !errors.Is(err, ErrInvalidCommittee) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: New = %v, want ErrInvalidCommittee containing %q", tt.name, err, tt.msg)
		}
	}
}

// tenMembers has 10 members, member i holding i+1 shards (55 in all).
func tenMembers(t *testing.T) *Committee {
	t.Helper()
	var ms []Member
	next := 0
	for i := range 10 {
		m := Member{NodeID: nodeID(byte(i))}
		for range i + 1 {
			m.Shards = append(m.Shards, next)
			next++
		}
		ms = append(ms, m)
	}
	c, err := New(1, next, ms)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWeightOfSigners(t *testing.T) {
	c := tenMembers(t)
	tests := []struct {
		name   string
		bitmap []byte
		weight int
		err    bool
	}{
		{"nil", nil, 0, false},
		{"empty", []byte{}, 0, false},
		{"member 0", []byte{0x01}, 1, false},
		{"member 7", []byte{0x80}, 8, false},
		{"first byte full", []byte{0xff}, 36, false},
		{"all", []byte{0xff, 0x03}, 55, false},
		{"member 9 only", []byte{0x00, 0x02}, 10, false},
		{"members 0 and 8, LSB first", []byte{0x01, 0x01}, 10, false},
		{"bit for member 10", []byte{0xff, 0x04}, 0, true},
		{"high bit of last byte", []byte{0x00, 0x80}, 0, true},
		{"too long", []byte{0xff, 0x03, 0x00}, 0, true},
	}
	for _, tt := range tests {
		w, err := c.WeightOfSigners(tt.bitmap)
		if tt.err {
			if !errors.Is(err, ErrInvalidBitmap) {
				t.Errorf("%s: err = %v, want ErrInvalidBitmap", tt.name, err)
			}
			continue
		}
		if err != nil || w != tt.weight {
			t.Errorf("%s: WeightOfSigners = %d, %v, want %d", tt.name, w, err, tt.weight)
		}
	}

	// With a multiple of 8 members, a full last byte is valid.
	var ms []Member
	for i := range 16 {
		ms = append(ms, Member{NodeID: nodeID(byte(i)), Shards: []int{i}})
	}
	c16, err := New(1, 16, ms)
	if err != nil {
		t.Fatal(err)
	}
	if w, err := c16.WeightOfSigners([]byte{0xff, 0xff}); err != nil || w != 16 {
		t.Errorf("16 members, full bitmap: %d, %v", w, err)
	}
	if _, err := c16.WeightOfSigners([]byte{0xff, 0xff, 0x00}); !errors.Is(err, ErrInvalidBitmap) {
		t.Errorf("16 members, 3 bytes: %v", err)
	}
}

func TestSignersBitmap(t *testing.T) {
	c := tenMembers(t)
	bm, err := c.Bitmap([]int{9, 0, 3, 3})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(bm, []byte{0x09, 0x02}) {
		t.Errorf("Bitmap = %x, want 0902", bm)
	}
	if s, _ := c.Signers(bm); !slices.Equal(s, []int{0, 3, 9}) {
		t.Errorf("Signers = %v", s)
	}
	if s, _ := c.NonSigners(bm); !slices.Equal(s, []int{1, 2, 4, 5, 6, 7, 8}) {
		t.Errorf("NonSigners = %v", s)
	}
	if s, _ := c.NonSigners(nil); len(s) != 10 {
		t.Errorf("NonSigners(nil) = %v", s)
	}
	if _, err := c.Bitmap([]int{10}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Bitmap(out of range) = %v", err)
	}
	if _, err := c.Signers([]byte{0, 0, 0}); !errors.Is(err, ErrInvalidBitmap) {
		t.Errorf("Signers(too long) = %v", err)
	}
}

// randomCommittee draws a committee with random shard ownership.
func randomCommittee(t *rapid.T) *Committee {
	nMembers := rapid.IntRange(1, 40).Draw(t, "members")
	nShards := rapid.IntRange(nMembers, 200).Draw(t, "shards")
	ms := make([]Member, nMembers)
	for i := range ms {
		ms[i].NodeID = nodeID(byte(i))
		ms[i].NodeID[31] = rapid.Byte().Draw(t, "id")
		ms[i].Shards = []int{i} // everyone holds at least one shard
	}
	for s := nMembers; s < nShards; s++ {
		o := rapid.IntRange(0, nMembers-1).Draw(t, "owner")
		ms[o].Shards = append(ms[o].Shards, s)
	}
	c, err := New(0, nShards, ms)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBitmapProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := randomCommittee(t)
		signers := rapid.SliceOfDistinct(rapid.IntRange(0, c.Len()-1), rapid.ID[int]).Draw(t, "signers")
		slices.Sort(signers)
		bm, err := c.Bitmap(signers)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Signers(bm)
		if err != nil || !slices.Equal(got, signers) {
			t.Fatalf("Signers(Bitmap(%v)) = %v, %v", signers, got, err)
		}
		non, _ := c.NonSigners(bm)
		want := 0
		for _, i := range signers {
			want += c.WeightOf(i)
		}
		w, err := c.WeightOfSigners(bm)
		if err != nil || w != want {
			t.Fatalf("WeightOfSigners = %d, %v, want %d", w, err, want)
		}
		nonWeight := 0
		for _, i := range non {
			nonWeight += c.WeightOf(i)
		}
		if w+nonWeight != c.NShards() || len(non)+len(signers) != c.Len() {
			t.Fatalf("signers and non-signers do not partition the committee")
		}
		// Trailing zero bytes may be dropped.
		trimmed := bm
		for len(trimmed) > 0 && trimmed[len(trimmed)-1] == 0 {
			trimmed = trimmed[:len(trimmed)-1]
		}
		if w2, err := c.WeightOfSigners(trimmed); err != nil || w2 != w {
			t.Fatalf("trimmed bitmap: %d, %v", w2, err)
		}
		// Shard ownership agrees with shard lists.
		for i := range c.Len() {
			for _, s := range c.ShardsOf(i) {
				if c.ShardOwner(s) != i {
					t.Fatalf("ShardOwner(%d) = %d, want %d", s, c.ShardOwner(s), i)
				}
			}
		}
	})
}

func TestErrorPrefix(t *testing.T) {
	for _, err := range []error{ErrInvalidCommittee, ErrInvalidBitmap, ErrInvalidArgument, ErrNoStake, ErrCapacity} {
		if !strings.HasPrefix(err.Error(), "committee: ") {
			t.Errorf("%q lacks the committee: prefix", err)
		}
	}
}
