package redstuff

import (
	"fmt"
	"testing"
)

var benchBlobSizes = []struct {
	name string
	size int
}{{"1B", 1}, {"1MiB", 1 << 20}, {"64MiB", 64 << 20}}

var benchShardCounts = []int{10, 100, 1000}

func benchBlob(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*131 + i>>8)
	}
	return b
}

// BenchmarkEncode measures a whole-blob encode with metadata (slivers, hashes, blob ID).
func BenchmarkEncode(b *testing.B) {
	for _, n := range benchShardCounts {
		for _, bs := range benchBlobSizes {
			b.Run(fmt.Sprintf("n=%d/%s", n, bs.name), func(b *testing.B) {
				c, _ := NewConfig(n)
				if uint64(bs.size) > c.MaxBlobSize() {
					b.Skipf("%s exceeds the maximum blob size %d at n=%d", bs.name, c.MaxBlobSize(), n)
				}
				blob := benchBlob(bs.size)
				b.SetBytes(int64(bs.size))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Encode(blob); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkDecode measures decoding with the default consistency check, from the
// systematic primary slivers and from the last n-2f primary slivers (all repair slivers
// where n-2f <= 2f).
func BenchmarkDecode(b *testing.B) {
	for _, n := range benchShardCounts {
		for _, bs := range benchBlobSizes {
			for _, from := range []string{"systematic", "repair"} {
				b.Run(fmt.Sprintf("n=%d/%s/%s", n, bs.name, from), func(b *testing.B) {
					c, _ := NewConfig(n)
					if uint64(bs.size) > c.MaxBlobSize() {
						b.Skipf("%s exceeds the maximum blob size %d at n=%d", bs.name, c.MaxBlobSize(), n)
					}
					enc, err := c.Encode(benchBlob(bs.size))
					if err != nil {
						b.Fatal(err)
					}
					R := c.SourceSymbols(Primary)
					var slivers []*Sliver
					for i := 0; i < R; i++ {
						p := i
						if from == "repair" {
							p = n - 1 - i
						}
						slivers = append(slivers, &enc.Pairs[p].Primary)
					}
					b.SetBytes(int64(bs.size))
					b.ReportAllocs()
					for b.Loop() {
						if _, err := c.Decode(enc.Metadata, slivers, ConsistencyDefault); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// BenchmarkEncodeRecycle measures a whole-blob encode on one Encoder that gets each
// encoding's sliver buffers back (Encoder.Recycle), as a caller that encodes blob after blob
// does: after the first call nothing large is allocated.
func BenchmarkEncodeRecycle(b *testing.B) {
	for _, n := range []int{100, 1000} {
		bs := benchBlobSizes[2]
		b.Run(fmt.Sprintf("n=%d/%s", n, bs.name), func(b *testing.B) {
			c, _ := NewConfig(n)
			blob := benchBlob(bs.size)
			e := c.NewEncoder()
			eb, err := e.Encode(blob)
			if err != nil {
				b.Fatal(err)
			}
			e.Recycle(eb)
			b.SetBytes(int64(bs.size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				eb, err := e.Encode(blob)
				if err != nil {
					b.Fatal(err)
				}
				e.Recycle(eb)
			}
		})
	}
}
