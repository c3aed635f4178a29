package store

import (
	"fmt"
	"testing"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// BenchmarkCommit stores one upload per iteration (metadata and a sliver pair in each of
// 25 shards, as a node of a 4-node, 100-shard devnet holds) on the real filesystem,
// synced, and reports the throughput of sliver bytes and the allocations per upload.
func BenchmarkCommit(b *testing.B) {
	for _, sliver := range []int{4 << 10, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("sliver=%dKiB", sliver>>10), func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			data := fill(sliver, 'p', blobID(0))
			meta := make([]byte, 8<<10)
			b.SetBytes(int64(2 * 25 * sliver))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				id := blobID(i)
				batch := s.NewBatch()
				batch.PutMetadata(id, meta)
				for sh := range uint16(25) {
					batch.PutSliver(sh, redstuff.Primary, id, data)
					batch.PutSliver(sh, redstuff.Secondary, id, data)
				}
				if err := batch.Commit(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAppendSliver reads a stored sliver into a reused buffer.
func BenchmarkAppendSliver(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const sliver = 1 << 20
	batch := s.NewBatch()
	batch.PutSliver(1, redstuff.Primary, blobID(1), fill(sliver, 'p', blobID(1)))
	if err := batch.Commit(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(sliver)
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		if buf, err = s.AppendSliver(buf, 1, redstuff.Primary, blobID(1)); err != nil {
			b.Fatal(err)
		}
	}
}
