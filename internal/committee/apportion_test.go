package committee

import (
	"errors"
	"math"
	"math/big"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func TestMaxShardsPerNode(t *testing.T) {
	tests := []struct{ nodes, shards, want int }{
		{20, 1000, 100},
		{111, 1000, 100},
		{19, 1000, 106}, // ceil(20000/190)
		{4, 1000, 500},
		{4, 777, 389},
		{6, 1000, 334},
		{1, 1000, 1000}, // 2000 capped at n
		{2, 1000, 1000},
		{3, 1000, 667},
		{10, 1000, 200},
		{0, 1000, 1000},
		{25, 5, 0}, // n/10 rounds down: Walrus needs n >= 10 with 20+ nodes
	}
	for _, tt := range tests {
		if got := MaxShardsPerNode(tt.nodes, tt.shards); got != tt.want {
			t.Errorf("MaxShardsPerNode(%d, %d) = %d, want %d", tt.nodes, tt.shards, got, tt.want)
		}
	}
	// With at least 10 shards, the nodes can always hold them all.
	for nodes := 1; nodes <= 150; nodes++ {
		for shards := 10; shards <= 1200; shards++ {
			if c := MaxShardsPerNode(nodes, shards); c < 1 || nodes*c < shards {
				t.Fatalf("MaxShardsPerNode(%d, %d) = %d cannot hold the shards", nodes, shards, c)
			}
		}
	}
}

// TestApportionWalrusVectors pins the cases of Walrus's Move test test_dhondt_basic
// (staking_inner_tests.move), where the cap is max_shards_per_node(len(stakes), n) and ties go
// to the earlier node.
func TestApportionWalrusVectors(t *testing.T) {
	tests := []struct {
		shards int
		stakes []uint64
		want   []int
	}{
		{4, []uint64{25000, 25000, 25000, 25000}, []int{1, 1, 1, 1}},
		{778, []uint64{25000, 25000, 25000, 25000}, []int{195, 195, 194, 194}},
		{1000, []uint64{25000, 25000, 25000, 25000}, []int{250, 250, 250, 250}},
		{4, []uint64{50000, 30000, 15000, 5000}, []int{2, 2, 0, 0}},
		{777, []uint64{50000, 30000, 15000, 5000}, []int{389, 234, 116, 38}},
		{1000, []uint64{50000, 30000, 15000, 5000}, []int{500, 300, 150, 50}},
		{4, []uint64{50000, 50000, 30000, 15000, 15000, 5000}, []int{2, 1, 1, 0, 0, 0}},
		{777, []uint64{50000, 50000, 30000, 15000, 15000, 5000}, []int{236, 236, 142, 70, 70, 23}},
		{1000, []uint64{50000, 50000, 30000, 15000, 15000, 5000}, []int{303, 303, 182, 91, 91, 30}},
	}
	for _, tt := range tests {
		got, err := Apportion(tt.stakes, tt.shards, MaxShardsPerNode(len(tt.stakes), tt.shards))
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Apportion(%v, %d) = %v, %v, want %v", tt.stakes, tt.shards, got, err, tt.want)
		}
	}
}

func TestApportion(t *testing.T) {
	const top = math.MaxUint64
	tests := []struct {
		name   string
		stakes []uint64
		shards int
		limit  int
		want   []int
	}{
		{"single node", []uint64{7}, 10, 10, []int{10}},
		{"zero stake gets nothing", []uint64{0, 5, 0, 5}, 4, 4, []int{0, 2, 0, 2}},
		{"tie goes to lower index", []uint64{1, 1, 1}, 2, 2, []int{1, 1, 0}},
		{"tie after cap", []uint64{3, 1, 1}, 3, 1, []int{1, 1, 1}},
		{"cap binds", []uint64{100, 1, 1}, 10, 4, []int{4, 3, 3}},
		{"D'Hondt favours large nodes", []uint64{10, 6, 3}, 5, 5, []int{3, 2, 0}},
		{"huge stakes do not overflow", []uint64{top, top - 1, top / 2}, 5, 5, []int{2, 2, 1}},
		{"huge and tiny", []uint64{top, 1}, 3, 3, []int{3, 0}},
		{"equal huge stakes tie by index", []uint64{top, top}, 3, 3, []int{2, 1}},
		{"no stakes listed beyond", []uint64{1}, 1, 1, []int{1}},
	}
	for _, tt := range tests {
		got, err := Apportion(tt.stakes, tt.shards, tt.limit)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: Apportion(%v, %d, %d) = %v, %v, want %v", tt.name, tt.stakes, tt.shards, tt.limit, got, err, tt.want)
		}
		if ref := naiveApportion(tt.stakes, tt.shards, tt.limit); !slices.Equal(ref, tt.want) {
			t.Errorf("%s: reference gives %v, table says %v", tt.name, ref, tt.want)
		}
	}
}

func TestApportionErrors(t *testing.T) {
	tests := []struct {
		name   string
		stakes []uint64
		shards int
		limit  int
		want   error
	}{
		{"no shards", []uint64{1}, 0, 1, ErrInvalidArgument},
		{"negative shards", []uint64{1}, -1, 1, ErrInvalidArgument},
		{"zero cap", []uint64{1}, 1, 0, ErrInvalidArgument},
		{"no nodes", nil, 1, 1, ErrNoStake},
		{"all zero", []uint64{0, 0}, 1, 1, ErrNoStake},
		{"capacity", []uint64{1, 1, 0}, 5, 2, ErrCapacity},
	}
	for _, tt := range tests {
		if _, err := Apportion(tt.stakes, tt.shards, tt.limit); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	// Exactly enough capacity is fine.
	if got, err := Apportion([]uint64{1, 1, 0}, 4, 2); err != nil || !slices.Equal(got, []int{2, 2, 0}) {
		t.Errorf("exact capacity: %v, %v", got, err)
	}
}

// naiveApportion is the textbook capped D'Hondt with exact rational arithmetic: for each seat,
// scan all nodes and give the seat to the first node with the strictly highest quotient.
func naiveApportion(stakes []uint64, nShards, limit int) []int {
	counts := make([]int, len(stakes))
	quot := func(i int) *big.Rat {
		return new(big.Rat).SetFrac(new(big.Int).SetUint64(stakes[i]), big.NewInt(int64(counts[i]+1)))
	}
	for range nShards {
		best := -1
		for i, s := range stakes {
			if s == 0 || counts[i] >= limit {
				continue
			}
			if best < 0 || quot(i).Cmp(quot(best)) > 0 {
				best = i
			}
		}
		if best < 0 {
			return nil
		}
		counts[best]++
	}
	return counts
}

func drawStakes(t *rapid.T) []uint64 {
	kind := rapid.IntRange(0, 3).Draw(t, "stake kind")
	var g *rapid.Generator[uint64]
	switch kind {
	case 0: // small stakes: many ties
		g = rapid.Uint64Range(0, 5)
	case 1:
		g = rapid.Uint64Range(0, 1_000_000)
	case 2: // near the top of uint64: products need 128 bits
		g = rapid.Uint64Min(math.MaxUint64 - 1000)
	default:
		g = rapid.Uint64()
	}
	return rapid.SliceOfN(g, 1, 60).Draw(t, "stakes")
}

func TestApportionProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		stakes := drawStakes(t)
		nShards := rapid.IntRange(1, 400).Draw(t, "shards")
		limit := rapid.IntRange(1, nShards+5).Draw(t, "limit")
		if rapid.Bool().Draw(t, "walrus cap") {
			limit = max(1, MaxShardsPerNode(len(stakes), nShards))
		}
		got, err := Apportion(stakes, nShards, limit)

		positive := 0
		for _, s := range stakes {
			if s > 0 {
				positive++
			}
		}
		switch {
		case positive == 0:
			if !errors.Is(err, ErrNoStake) {
				t.Fatalf("no stake: err = %v", err)
			}
			return
		case positive*min(limit, nShards) < nShards:
			if !errors.Is(err, ErrCapacity) {
				t.Fatalf("insufficient capacity: err = %v", err)
			}
			return
		case err != nil:
			t.Fatal(err)
		}

		if ref := naiveApportion(stakes, nShards, limit); !slices.Equal(got, ref) {
			t.Fatalf("Apportion = %v, reference = %v", got, ref)
		}
		again, _ := Apportion(slices.Clone(stakes), nShards, limit)
		if !slices.Equal(again, got) {
			t.Fatalf("not deterministic")
		}

		sum := 0
		for i, c := range got {
			sum += c
			if c < 0 || c > limit {
				t.Fatalf("node %d: %d shards, cap %d", i, c, limit)
			}
			if stakes[i] == 0 && c != 0 {
				t.Fatalf("node %d without stake got %d shards", i, c)
			}
		}
		if sum != nShards {
			t.Fatalf("counts sum to %d, want %d", sum, nShards)
		}
		checkDHondtOrder(t, stakes, got, limit)
		if limit >= nShards {
			checkQuota(t, stakes, got, positive)
		}
	})
}

// checkDHondtOrder checks the condition that characterizes capped D'Hondt with ties to the
// lower index: no node below the cap has a next quotient stakes[i]/(c_i+1) above the last
// quotient stakes[j]/c_j that another node j won with, nor equal to it when i < j.
func checkDHondtOrder(t *rapid.T, stakes []uint64, counts []int, limit int) {
	for i := range stakes {
		if stakes[i] == 0 || counts[i] >= limit {
			continue
		}
		for j := range stakes {
			if j == i || counts[j] == 0 {
				continue
			}
			// Compare stakes[i]/(c_i+1) with stakes[j]/c_j.
			lhs := new(big.Int).Mul(new(big.Int).SetUint64(stakes[i]), big.NewInt(int64(counts[j])))
			rhs := new(big.Int).Mul(new(big.Int).SetUint64(stakes[j]), big.NewInt(int64(counts[i]+1)))
			cmp := lhs.Cmp(rhs)
			if cmp > 0 || (cmp == 0 && i < j) {
				t.Fatalf("node %d (stake %d, %d shards) outranks node %d's last shard (stake %d, %d shards)",
					i, stakes[i], counts[i], j, stakes[j], counts[j])
			}
		}
	}
}

// checkQuota checks the bounds of uncapped D'Hondt for N shards and total stake S: every node
// gets at least its lower quota floor(N·s/S) and at most s·(N+m-1)/S, where m is the number
// of nodes with stake.
func checkQuota(t *rapid.T, stakes []uint64, counts []int, m int) {
	n := 0
	total := new(big.Int)
	for i, s := range stakes {
		n += counts[i]
		total.Add(total, new(big.Int).SetUint64(s))
	}
	for i, s := range stakes {
		bs := new(big.Int).SetUint64(s)
		lower := new(big.Int).Div(new(big.Int).Mul(bs, big.NewInt(int64(n))), total)
		if big.NewInt(int64(counts[i])).Cmp(lower) < 0 {
			t.Fatalf("node %d: %d shards, below lower quota %v", i, counts[i], lower)
		}
		lhs := new(big.Int).Mul(big.NewInt(int64(counts[i])), total)
		rhs := new(big.Int).Mul(bs, big.NewInt(int64(n+m-1)))
		if lhs.Cmp(rhs) > 0 {
			t.Fatalf("node %d: %d shards, above D'Hondt upper bound", i, counts[i])
		}
	}
}
