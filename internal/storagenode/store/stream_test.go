package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// heldBuffers returns the number of chunk buffers a batch holds.
func heldBuffers(b *Batch) int {
	n := len(b.free)
	for _, c := range b.chunks {
		if c.buf != nil {
			n++
		}
	}
	return n
}

// TestBatchStreams puts many more slivers than a chunk holds: they reach the segment file
// before the commit, the batch holds at most three chunk buffers whatever its size, an open slot keeps its chunk in memory until it is put, and the commit stores
// exactly what was put.
func TestBatchStreams(t *testing.T) {
	fs := newFS(t)
	s := openMem(t, fs)
	defer s.Close()
	s.chunkBytes = 1 << 10
	id := blobID(7)
	b := s.NewBatch()
	// A slot left open while later slivers fill and write several chunks.
	early, earlyOff := b.AppendBuffer(300)
	copy(early, fill(300, 'e', id))
	const slivers, size = 64, 700
	for i := range slivers {
		buf, off := b.AppendBuffer(size)
		copy(buf, fill(size, byte(i), id))
		b.PutSliverAt(uint16(i), redstuff.Primary, id, off, size)
		if held := heldBuffers(b); held > 3 {
			t.Fatalf("after %d slivers the batch holds %d chunk buffers, want at most 3 (the open slot's, the one being filled and one free)", i+1, held)
		}
	}
	if b.chunks[0].buf == nil {
		t.Fatal("the chunk of an open slot was reused")
	}
	b.PutSliverAt(1000, redstuff.Secondary, id, earlyOff, 300)
	if b.chunks[0].buf != nil {
		t.Fatal("the chunk of the last open slot was kept after the slot was put")
	}
	if got := segmentBytes(t, fs); got < (slivers-2)*size {
		t.Fatalf("segments hold %d bytes before the commit, want the written chunks (at least %d)", got, (slivers-2)*size)
	}
	if _, err := s.Sliver(0, redstuff.Primary, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a sliver written to a segment is visible before the commit: %v", err)
	}
	commit(t, b)
	for i := range slivers {
		if got, err := s.Sliver(uint16(i), redstuff.Primary, id); err != nil || string(got) != string(fill(size, byte(i), id)) {
			t.Fatalf("sliver %d: %v, equal %v", i, err, string(got) == string(fill(size, byte(i), id)))
		}
	}
	if got, err := s.Sliver(1000, redstuff.Secondary, id); err != nil || string(got) != string(fill(300, 'e', id)) {
		t.Fatalf("early sliver: %v", err)
	}
}

// TestBatchAbortedStreamIsGarbage closes a batch after it wrote chunks to the segments:
// nothing of it is visible, before or after a crash that keeps every byte written, and
// compaction reclaims the bytes once their segment is no longer the active one.
func TestBatchAbortedStreamIsGarbage(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s, err := Open("db", Options{FS: fs, SegmentBytes: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	s.chunkBytes = 1 << 10
	durable, aborted := blobID(8), blobID(9)
	b := s.NewBatch()
	b.PutSliver(0, redstuff.Primary, durable, fill(500, 'd', durable))
	commit(t, b)

	b = s.NewBatch()
	b.PutMetadata(aborted, fill(10, 'm', aborted))
	for i := range 20 {
		b.PutSliver(uint16(i), redstuff.Primary, aborted, fill(900, 'a', aborted))
	}
	if segmentBytes(t, fs) < 19*900 {
		t.Fatal("the batch wrote no chunk before it was closed")
	}
	b.Close()
	check := func(s *Store, when string) {
		t.Helper()
		for i := range 20 {
			if _, err := s.Sliver(uint16(i), redstuff.Primary, aborted); !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s: sliver %d of the closed batch: %v, want ErrNotFound", when, i, err)
			}
		}
		if ok, _ := s.HasMetadata(aborted); ok {
			t.Fatalf("%s: metadata of the closed batch is visible", when)
		}
		if got, err := s.Sliver(0, redstuff.Primary, durable); err != nil || string(got) != string(fill(500, 'd', durable)) {
			t.Fatalf("%s: committed sliver: %v", when, err)
		}
	}
	check(s, "after close")
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 100, RNG: rand.New(rand.NewPCG(1, 2))})
	s.Close()
	s = openMem(t, crashed)
	defer s.Close()
	check(s, "after a crash")
	// The store appends to a new segment after the crash: every earlier one is now
	// compacted, the garbage deleted or rewritten away.
	b = s.NewBatch()
	b.PutSliver(1, redstuff.Primary, durable, fill(10, 'x', durable))
	commit(t, b)
	stats, err := s.CompactSegments(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if stats.BytesReclaimed < 19*900 {
		t.Fatalf("compaction reclaimed %d bytes, want at least the %d written by the closed batch", stats.BytesReclaimed, 19*900)
	}
	if got, want := segmentBytes(t, crashed), int64(500+10); got != want {
		t.Fatalf("segments hold %d bytes after compaction, want the %d live ones", got, want)
	}
	check(s, "after compaction")
}

// TestCompactionSpareStreamingBatch is the attack on streaming writes: a batch writes chunks
// to a segment, other commits move the active segment on, and compaction runs before the
// batch commits. The segment holds no live sliver in the index yet; compaction must leave
// it alone, so that the batch's commit points to bytes that exist.
func TestCompactionSpareStreamingBatch(t *testing.T) {
	s, err := Open("db", Options{FS: newFS(t), SegmentBytes: 2 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.chunkBytes = 1 << 10
	id, other := blobID(10), blobID(11)
	b := s.NewBatch()
	for i := range 4 {
		b.PutSliver(uint16(i), redstuff.Primary, id, fill(900, byte(i), id))
	}
	first := b.chunks[0].seg
	for i := range 4 {
		o := s.NewBatch()
		o.PutSliver(uint16(i), redstuff.Secondary, other, fill(1500, 'o', other))
		commit(t, o)
	}
	if _, active, _ := s.segs.snapshot(); active == first {
		t.Fatal("the streaming batch's first segment is still the active one")
	}
	if _, err := s.CompactSegments(context.Background()); err != nil {
		t.Fatal(err)
	}
	commit(t, b)
	for i := range 4 {
		if got, err := s.Sliver(uint16(i), redstuff.Primary, id); err != nil || string(got) != string(fill(900, byte(i), id)) {
			t.Fatalf("sliver %d of the batch committed after compaction: %v", i, err)
		}
	}
	// Once committed, the batch's segments are compacted like any other.
	if len(s.segs.pins) != 0 {
		t.Fatalf("segments still pinned after the commit: %v", s.segs.pins)
	}
}
