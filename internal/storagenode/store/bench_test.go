package store

import (
	"fmt"
	"testing"
	"time"

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

// Slivers of the segment benchmarks: a 72 MB upload's worth of ~2 MB slivers (a node of a
// 4-node, 100-shard devnet stores about that for a 64 MiB blob), not block-aligned.
const (
	benchSliver  = 2_000_000
	benchSlivers = 36
)

// benchSegmentModes runs fn on a store on the real filesystem with direct I/O and with the
// page cache, and reports the CPU time per operation of the whole process (user and
// system, so the kernel's page-cache work counts).
func benchSegmentModes(b *testing.B, fn func(b *testing.B, s *Store)) {
	for _, direct := range []bool{true, false} {
		b.Run(map[bool]string{true: "io=direct", false: "io=buffered"}[direct], func(b *testing.B) {
			forceBuffered = !direct
			s, err := Open(b.TempDir(), Options{})
			forceBuffered = false
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if s.segs.direct.Load() != direct {
				b.Skip("no direct I/O on this file system")
			}
			b.SetBytes(benchSliver * benchSlivers)
			b.ReportAllocs()
			u0, s0 := cpuTimes(b)
			fn(b, s)
			u1, s1 := cpuTimes(b)
			n := float64(b.N)
			b.ReportMetric(float64((u1-u0)+(s1-s0))/float64(time.Millisecond)/n, "cpu-ms/op")
			b.ReportMetric(float64(s1-s0)/float64(time.Millisecond)/n, "sys-ms/op")
		})
	}
}

// writeBenchBatch commits one upload of benchSlivers slivers of blob id, filled in place
// from src as a node fills them from the network.
func writeBenchBatch(b *testing.B, s *Store, id int, src []byte) {
	batch := s.NewBatch()
	for sh := range uint16(benchSlivers) {
		buf, off := batch.AppendBuffer(len(src))
		copy(buf, src)
		batch.PutSliverAt(sh, redstuff.Primary, blobID(id), off, len(src))
	}
	if err := batch.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSegmentWrite commits a 72 MB batch of ~2 MB slivers per iteration, to fresh
// segment space each time, as uploads do.
func BenchmarkSegmentWrite(b *testing.B) {
	src := fill(benchSliver, 'w', blobID(0))
	benchSegmentModes(b, func(b *testing.B, s *Store) {
		for i := 0; b.Loop(); i++ {
			writeBenchBatch(b, s, i, src)
		}
	})
}

// BenchmarkSegmentRead reads back, sliver by sliver into a reused buffer, a 72 MB batch
// just written: a page-cache hit when written through the page cache, a device read with
// direct I/O.
func BenchmarkSegmentRead(b *testing.B) {
	src := fill(benchSliver, 'r', blobID(0))
	benchSegmentModes(b, func(b *testing.B, s *Store) {
		writeBenchBatch(b, s, 0, src)
		var buf []byte
		var err error
		for b.Loop() {
			for sh := range uint16(benchSlivers) {
				if buf, err = s.AppendSliver(buf, sh, redstuff.Primary, blobID(0)); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
