package redstuff

import (
	"fmt"
	"testing"
)

// BenchmarkComputeMetadata measures the blob-ID-only path (walrus blob-id).
func BenchmarkComputeMetadata(b *testing.B) {
	for _, n := range benchShardCounts {
		for _, bs := range benchBlobSizes {
			b.Run(fmt.Sprintf("n=%d/%s", n, bs.name), func(b *testing.B) {
				c, _ := NewConfig(n)
				if uint64(bs.size) > c.MaxBlobSize() {
					b.Skipf("%s exceeds the maximum blob size at n=%d", bs.name, n)
				}
				blob := benchBlob(bs.size)
				b.SetBytes(int64(bs.size))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.ComputeMetadata(blob); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
