package committee

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

func TestAssign(t *testing.T) {
	tests := []struct {
		name   string
		prev   [][]int
		counts []int
		n      int
		want   [][]int
	}{
		{
			name:   "first epoch is sequential",
			counts: []int{3, 0, 2, 1},
			n:      6,
			want:   [][]int{{0, 1, 2}, {}, {3, 4}, {5}},
		},
		{
			name:   "empty prev is the first epoch",
			prev:   [][]int{},
			counts: []int{2, 2},
			n:      4,
			want:   [][]int{{0, 1}, {2, 3}},
		},
		{
			name:   "unchanged",
			prev:   [][]int{{5, 1}, {0, 2, 3, 4}},
			counts: []int{2, 4},
			n:      6,
			want:   [][]int{{1, 5}, {0, 2, 3, 4}},
		},
		{
			name:   "shrinking node gives up its highest shards",
			prev:   [][]int{{0, 1, 2, 3}, {4, 5}},
			counts: []int{2, 4},
			n:      6,
			want:   [][]int{{0, 1}, {2, 3, 4, 5}},
		},
		{
			name:   "leaving node's shards go to growing nodes in index order",
			prev:   [][]int{{0, 1}, {2, 3, 4}, {5}},
			counts: []int{3, 0, 3},
			n:      6,
			want:   [][]int{{0, 1, 2}, {}, {3, 4, 5}},
		},
		{
			name:   "new node takes the lowest freed shards",
			prev:   [][]int{{0, 1, 2, 3, 4, 5}, {}},
			counts: []int{4, 2},
			n:      6,
			want:   [][]int{{0, 1, 2, 3}, {4, 5}},
		},
		{
			name:   "pool is ascending across givers",
			prev:   [][]int{{4, 5, 6, 7}, {0, 1, 2, 3}, {}},
			counts: []int{2, 2, 4},
			n:      8,
			want:   [][]int{{4, 5}, {0, 1}, {2, 3, 6, 7}},
		},
		{
			name:   "shards nobody held are free",
			prev:   [][]int{{1}, {3}},
			counts: []int{2, 2},
			n:      4,
			want:   [][]int{{0, 1}, {2, 3}},
		},
	}
	for _, tt := range tests {
		got, err := Assign(tt.prev, tt.counts, tt.n)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: Assign mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestAssignDoesNotModifyPrev(t *testing.T) {
	prev := [][]int{{3, 2, 1, 0}, {}}
	if _, err := Assign(prev, []int{2, 2}, 4); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(prev[0], []int{3, 2, 1, 0}) {
		t.Errorf("prev modified: %v", prev)
	}
}

func TestAssignErrors(t *testing.T) {
	tests := []struct {
		name   string
		prev   [][]int
		counts []int
		n      int
	}{
		{"no shards", nil, nil, 0},
		{"too many shards", nil, []int{MaxShards + 1}, MaxShards + 1},
		{"sum too small", nil, []int{1, 1}, 3},
		{"sum too large", nil, []int{2, 2}, 3},
		{"negative count", nil, []int{-1, 4}, 3},
		{"prev length", [][]int{{0}}, []int{1, 1}, 2},
		{"prev shard out of range", [][]int{{0, 2}, {}}, []int{1, 1}, 2},
		{"prev negative shard", [][]int{{-1}, {}}, []int{1, 1}, 2},
		{"prev shard twice", [][]int{{0}, {0}}, []int{1, 1}, 2},
	}
	for _, tt := range tests {
		if _, err := Assign(tt.prev, tt.counts, tt.n); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", tt.name, err)
		}
	}
}

// drawCounts draws nodes shard counts summing to n, some of them zero.
func drawCounts(t *rapid.T, label string, nodes, n int) []int {
	counts := make([]int, nodes)
	for range n {
		counts[rapid.IntRange(0, nodes-1).Draw(t, label)]++
	}
	return counts
}

// drawAssignment draws a complete assignment of n shards to nodes with the given counts, with
// shards scattered (not contiguous) so that kept-shard choices matter.
func drawAssignment(t *rapid.T, counts []int, n int) [][]int {
	perm := rapid.Permutation(seq(n)).Draw(t, "shard order")
	out := make([][]int, len(counts))
	next := 0
	for i, c := range counts {
		out[i] = slices.Clone(perm[next : next+c])
		next += c
	}
	return out
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func checkAssignment(t *rapid.T, got [][]int, counts []int, n int) {
	owner := make([]int, n)
	for s := range owner {
		owner[s] = -1
	}
	for i, shards := range got {
		if len(shards) != counts[i] {
			t.Fatalf("node %d got %d shards, want %d", i, len(shards), counts[i])
		}
		if !slices.IsSorted(shards) {
			t.Fatalf("node %d shards not ascending: %v", i, shards)
		}
		for _, s := range shards {
			if s < 0 || s >= n || owner[s] >= 0 {
				t.Fatalf("shard %d assigned twice or out of range", s)
			}
			owner[s] = i
		}
	}
	for s, o := range owner {
		if o < 0 {
			t.Fatalf("shard %d unassigned", s)
		}
	}
}

func TestAssignProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 300).Draw(t, "shards")
		nodes := rapid.IntRange(1, 40).Draw(t, "nodes")
		prevCounts := drawCounts(t, "prev owner", nodes, n)
		prev := drawAssignment(t, prevCounts, n)
		counts := drawCounts(t, "owner", nodes, n)

		got, err := Assign(prev, counts, n)
		if err != nil {
			t.Fatal(err)
		}
		checkAssignment(t, got, counts, n)

		// Minimal movement: only surplus shards change owner.
		wantMoved := 0
		for i := range counts {
			wantMoved += max(0, len(prev[i])-counts[i])
		}
		moved := 0
		for i := range counts {
			old := make(map[int]bool, len(prev[i]))
			for _, s := range prev[i] {
				old[s] = true
			}
			for _, s := range got[i] {
				if !old[s] {
					moved++
				}
			}
			// Each node keeps its lowest-numbered previous shards.
			p := slices.Sorted(slices.Values(prev[i]))
			keep := p[:min(len(p), counts[i])]
			for _, s := range keep {
				if _, ok := slices.BinarySearch(got[i], s); !ok {
					t.Fatalf("node %d lost shard %d it should keep", i, s)
				}
			}
		}
		if moved != wantMoved {
			t.Fatalf("%d shards moved, want %d", moved, wantMoved)
		}

		again, _ := Assign(prev, counts, n)
		if !cmp.Equal(again, got) {
			t.Fatalf("not deterministic")
		}
		// The result is a valid committee when empty nodes are dropped.
		var ms []Member
		for i, shards := range got {
			if len(shards) > 0 {
				ms = append(ms, Member{NodeID: [32]byte{byte(i), byte(i >> 8)}, Shards: shards})
			}
		}
		if _, err := New(1, n, ms); err != nil {
			t.Fatalf("Assign result is not a committee: %v", err)
		}
	})
}

func TestAssignFirstEpochProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 300).Draw(t, "shards")
		nodes := rapid.IntRange(1, 40).Draw(t, "nodes")
		counts := drawCounts(t, "owner", nodes, n)
		got, err := Assign(nil, counts, n)
		if err != nil {
			t.Fatal(err)
		}
		checkAssignment(t, got, counts, n)
		next := 0
		for i, shards := range got {
			for _, s := range shards {
				if s != next {
					t.Fatalf("node %d: shard %d, want sequential %d", i, s, next)
				}
				next++
			}
		}
	})
}

// TestEpochPipeline runs apportionment and assignment over several epochs of changing stake,
// as the chain does, and checks that every epoch yields a valid committee.
func TestEpochPipeline(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		const n = 100
		nodes := rapid.IntRange(1, 30).Draw(t, "nodes")
		var prev [][]int
		for epoch := range 4 {
			stakes := rapid.SliceOfN(rapid.Uint64Range(0, 1000), nodes, nodes).Draw(t, fmt.Sprintf("stakes %d", epoch))
			stakes[0]++ // at least one node with stake
			counts, err := Apportion(stakes, n, n)
			if err != nil {
				t.Fatal(err)
			}
			next, err := Assign(prev, counts, n)
			if err != nil {
				t.Fatal(err)
			}
			checkAssignment(t, next, counts, n)
			prev = next
		}
	})
}
