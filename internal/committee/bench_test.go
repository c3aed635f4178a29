package committee

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchStakes returns n stakes spread over three orders of magnitude, from a fixed seed.
func benchStakes(n int) []uint64 {
	r := rand.New(rand.NewPCG(1, 2))
	s := make([]uint64, n)
	for i := range s {
		s[i] = 1_000_000_000 * (1 + r.Uint64N(1000)) // 1 to 1000 WAL in FROST
	}
	return s
}

func BenchmarkApportion(b *testing.B) {
	for _, nodes := range []int{100, 1000} {
		b.Run(fmt.Sprintf("nodes=%d/shards=1000", nodes), func(b *testing.B) {
			stakes := benchStakes(nodes)
			limit := MaxShardsPerNode(nodes, 1000)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Apportion(stakes, 1000, limit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAssign(b *testing.B) {
	const n = 1000
	stakes := benchStakes(100)
	before, err := Apportion(stakes, n, MaxShardsPerNode(100, n))
	if err != nil {
		b.Fatal(err)
	}
	prev, err := Assign(nil, before, n)
	if err != nil {
		b.Fatal(err)
	}
	for i := range stakes {
		if i%3 == 0 {
			stakes[i] *= 2
		}
	}
	after, err := Apportion(stakes, n, MaxShardsPerNode(100, n))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Assign(prev, after, n); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWeightOfSigners(b *testing.B) {
	const n = 1000
	counts, err := Apportion(benchStakes(100), n, MaxShardsPerNode(100, n))
	if err != nil {
		b.Fatal(err)
	}
	shards, err := Assign(nil, counts, n)
	if err != nil {
		b.Fatal(err)
	}
	var ms []Member
	for i := range shards {
		if len(shards[i]) > 0 {
			ms = append(ms, Member{NodeID: [32]byte{byte(i)}, Shards: shards[i]})
		}
	}
	c, err := New(1, n, ms)
	if err != nil {
		b.Fatal(err)
	}
	bitmap := make([]byte, (c.Len()+7)/8)
	for i := range bitmap {
		bitmap[i] = 0xb7
	}
	bitmap[len(bitmap)-1] &= 0x0f
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.WeightOfSigners(bitmap); err != nil {
			b.Fatal(err)
		}
	}
}
