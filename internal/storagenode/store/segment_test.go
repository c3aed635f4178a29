package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// segmentFiles returns the names and sizes of the segment files.
func segmentFiles(t *testing.T, fs vfs.FS) map[string]int64 {
	t.Helper()
	dir := fs.PathJoin("db", segmentDir)
	names, err := fs.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, name := range names {
		st, err := fs.Stat(fs.PathJoin(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = st.Size()
	}
	return out
}

func segmentBytes(t *testing.T, fs vfs.FS) int64 {
	var total int64
	for _, n := range segmentFiles(t, fs) {
		total += n
	}
	return total
}

func TestBatchSliverOrder(t *testing.T) {
	s := openMem(t, newFS(t))
	defer s.Close()
	id := blobID(4)
	b := s.NewBatch()
	b.PutSliver(1, redstuff.Primary, id, []byte("first"))
	b.PutSliver(1, redstuff.Primary, id, []byte("second"))
	b.PutSliver(2, redstuff.Primary, id, []byte("gone"))
	b.DeleteBlobData(id, []uint16{2})
	b.PutSliver(3, redstuff.Primary, id, []byte("dropped"))
	b.DropShard(3)
	b.PutSliver(4, redstuff.Secondary, id, []byte("deleted then put"))
	b.DeleteBlobData(id, []uint16{4})
	b.PutSliver(4, redstuff.Secondary, id, []byte("put again"))
	if ok, _ := b.HasSliver(2, redstuff.Primary, id); ok {
		t.Fatal("batch sees a sliver it deleted")
	}
	if ok, _ := b.HasSliver(4, redstuff.Secondary, id); !ok {
		t.Fatal("batch misses a sliver put after a deletion")
	}
	commit(t, b)
	for _, c := range []struct {
		shard uint16
		axis  redstuff.Axis
		want  string // "" for absent
	}{{1, redstuff.Primary, "second"}, {2, redstuff.Primary, ""}, {3, redstuff.Primary, ""}, {4, redstuff.Secondary, "put again"}} {
		got, err := s.Sliver(c.shard, c.axis, id)
		if c.want == "" && !errors.Is(err, ErrNotFound) || c.want != "" && (err != nil || string(got) != c.want) {
			t.Fatalf("shard %d: Sliver = %q, %v; want %q", c.shard, got, err, c.want)
		}
	}
}

func TestSegmentRotation(t *testing.T) {
	fs := newFS(t)
	// Slivers of the direct I/O alignment: each batch's write is the same on both paths.
	const sliver = directAlign
	s, err := Open("db", Options{FS: fs, SegmentBytes: 3 * sliver})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		b := s.NewBatch()
		b.PutSliver(0, redstuff.Primary, blobID(i), fill(sliver, 'p', blobID(i)))
		commit(t, b)
	}
	if n := len(segmentFiles(t, fs)); n != 4 {
		t.Fatalf("%d segment files for 10 slivers in segments of 3, want 4: %v", n, segmentFiles(t, fs))
	}
	s.Close()
	// A reopened store appends to a new segment and still reads the old ones.
	s, err = Open("db", Options{FS: fs, SegmentBytes: 3 * sliver})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := s.NewBatch()
	b.PutSliver(0, redstuff.Primary, blobID(10), fill(10, 'p', blobID(10)))
	commit(t, b)
	if n := len(segmentFiles(t, fs)); n != 5 {
		t.Fatalf("%d segment files after reopening, want 5", n)
	}
	for i := range 11 {
		size := sliver
		if i == 10 {
			size = 10
		}
		if got, err := s.Sliver(0, redstuff.Primary, blobID(i)); err != nil || !bytes.Equal(got, fill(size, 'p', blobID(i))) {
			t.Fatalf("sliver %d: %v", i, err)
		}
	}
}

// TestCompactSegments deletes slivers in a pattern and checks that compaction removes
// empty segments without copying, rewrites mostly-dead ones once, leaves mostly-live
// ones alone, and that every live sliver reads back afterwards.
func TestCompactSegments(t *testing.T) {
	fs := newFS(t)
	const sliver = directAlign // each batch's write is the same on both paths
	s, err := Open("db", Options{FS: fs, SegmentBytes: 4 * sliver})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }() // the store reopened at the end too
	// Segments of 4 slivers each, one batch per segment: blobs 4k..4k+3 in segment k+1.
	for seg := range 4 {
		b := s.NewBatch()
		for j := range 4 {
			id := blobID(4*seg + j)
			b.PutSliver(0, redstuff.Primary, id, fill(sliver, 'p', id))
		}
		commit(t, b)
	}
	// Segment 1: all deleted. Segment 2: 3 of 4 deleted (compacted). Segment 3: 1 of 4
	// deleted (kept). Segment 4 is the active one: untouched.
	deleted := map[int]bool{0: true, 1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 8: true, 12: true, 13: true, 14: true, 15: true}
	b := s.NewBatch()
	for i := range deleted {
		b.DeleteBlobData(blobID(i), []uint16{0})
	}
	commit(t, b)
	before := segmentBytes(t, fs)

	stats, err := s.CompactSegments(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := CompactStats{SegmentsRemoved: 2, BytesReclaimed: 8 * sliver, SliversMoved: 1, BytesMoved: sliver}
	if stats != want {
		t.Fatalf("CompactSegments = %+v, want %+v", stats, want)
	}
	if after := segmentBytes(t, fs); after != before-8*sliver+sliver {
		t.Fatalf("segments hold %d bytes after compaction, want %d", after, before-7*sliver)
	}
	check := func() {
		t.Helper()
		for i := range 16 {
			got, err := s.Sliver(0, redstuff.Primary, blobID(i))
			switch {
			case deleted[i] && !errors.Is(err, ErrNotFound):
				t.Fatalf("deleted sliver %d: %v", i, err)
			case !deleted[i] && (err != nil || !bytes.Equal(got, fill(sliver, 'p', blobID(i)))):
				t.Fatalf("live sliver %d after compaction: %v", i, err)
			}
		}
	}
	check()
	// The moved sliver did not fit in segment 4, which was active and so left alone, and
	// went to a new segment 5. The second pass removes segment 4 (all dead) without
	// moving anything; a third finds nothing to do.
	if stats, err := s.CompactSegments(context.Background()); err != nil || stats != (CompactStats{SegmentsRemoved: 1, BytesReclaimed: 4 * sliver}) {
		t.Fatalf("second pass = %+v, %v; want segment 4 removed", stats, err)
	}
	if stats, err := s.CompactSegments(context.Background()); err != nil || stats != (CompactStats{}) {
		t.Fatalf("third pass = %+v, %v; want nothing", stats, err)
	}
	s.Close()
	if s, err = Open("db", Options{FS: fs, SegmentBytes: 4 * sliver}); err != nil {
		t.Fatal(err)
	}
	check()
}

// TestCompactConcurrent runs compaction while other goroutines read, delete and add
// slivers, and checks that no read fails and no deleted sliver comes back.
func TestCompactConcurrent(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 3))
	fs := newFS(t)
	s, err := Open("db", Options{FS: fs, SegmentBytes: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const blobs = 200
	live := map[int]bool{}
	for i := range blobs {
		b := s.NewBatch()
		b.PutSliver(1, redstuff.Secondary, blobID(i), fill(100+i, 's', blobID(i)))
		commit(t, b)
		live[i] = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if _, err := s.CompactSegments(ctx); err != nil && ctx.Err() == nil {
				done <- err
				return
			}
		}
	}()
	for round := range 300 {
		i := rng.IntN(blobs)
		b := s.NewBatch()
		if live[i] {
			b.DeleteBlobData(blobID(i), []uint16{1})
		} else {
			b.PutSliver(1, redstuff.Secondary, blobID(i), fill(100+i, 's', blobID(i)))
		}
		commit(t, b)
		live[i] = !live[i]
		j := rng.IntN(blobs)
		got, err := s.Sliver(1, redstuff.Secondary, blobID(j))
		if live[j] != (err == nil) || live[j] && !bytes.Equal(got, fill(100+j, 's', blobID(j))) {
			t.Fatalf("round %d: sliver %d (live %v): %v", round, j, live[j], err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompactSegments(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := 0
	err = s.ShardSlivers(1, redstuff.Secondary, redstuff.BlobID{}, func(id redstuff.BlobID, v []byte) (bool, error) {
		n++
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for i := range blobs {
		if live[i] {
			want++
			if got, err := s.Sliver(1, redstuff.Secondary, blobID(i)); err != nil || !bytes.Equal(got, fill(100+i, 's', blobID(i))) {
				t.Fatalf("sliver %d after compaction: %v", i, err)
			}
		}
	}
	if n != want {
		t.Fatalf("ShardSlivers lists %d slivers, want %d", n, want)
	}
}

// TestTornSegmentTail crashes while a batch's slivers are being written to a segment,
// before its index commit: a random prefix of the write survives. The committed upload
// before it must be intact, the torn one absent, and the store must take new uploads
// that survive the next crash.
func TestTornSegmentTail(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 4))
	for iter := range 8 {
		size := 1 + rng.IntN(32<<10)
		fs := vfs.NewCrashableMem()
		s := openMem(t, fs)
		durable, torn, after := blobID(3*iter), blobID(3*iter+1), blobID(3*iter+2)
		if err := uploadBatch(s, durable, 1, size).Commit(); err != nil {
			t.Fatal(err)
		}
		// Write the next batch's slivers as it and its commit would, a chunk at a time
		// (chunks of random size, so that some are written as the slivers are put), without
		// syncing and without the index commit, and crash with a random part of the
		// writes kept.
		s.chunkBytes = 1 + rng.IntN(64<<10)
		b := uploadBatch(s, torn, 2, size)
		if c := b.filling(); c != nil {
			if err := b.writeChunk(c); err != nil {
				t.Fatal(err)
			}
		}
		b.Close()
		crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rand.New(rand.NewPCG(rng.Uint64(), 0))})
		s.Close()

		s = openMem(t, crashed)
		if p, n := visible(t, s, durable, size); p != n {
			t.Fatalf("iteration %d: committed upload has %d of %d records", iter, p, n)
		}
		if p, _ := visible(t, s, torn, size); p != 0 {
			t.Fatalf("iteration %d: torn upload has %d records", iter, p)
		}
		if err := uploadBatch(s, after, 3, size).Commit(); err != nil {
			t.Fatal(err)
		}
		crashed = crashed.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
		s.Close()
		s = openMem(t, crashed)
		for _, id := range []redstuff.BlobID{durable, after} {
			if p, n := visible(t, s, id, size); p != n {
				t.Fatalf("iteration %d: upload %s has %d of %d records after the second crash", iter, id, p, n)
			}
		}
		// Compaction reclaims the torn bytes: the segment they are in holds only the
		// durable upload's slivers and the garbage.
		if _, err := s.CompactSegments(context.Background()); err != nil {
			t.Fatal(fmt.Errorf("iteration %d: %w", iter, err))
		}
		if p, n := visible(t, s, durable, size); p != n {
			t.Fatalf("iteration %d: committed upload has %d of %d records after compaction", iter, p, n)
		}
		s.Close()
	}
}

// TestBatchAppendBuffer fills slivers in place in the batch's buffer, mixed with copied
// ones, gives one back, and checks that exactly what was put is stored, and that the
// segment holds no given-back bytes.
func TestBatchAppendBuffer(t *testing.T) {
	fs := newFS(t)
	s := openMem(t, fs)
	defer s.Close()
	id := blobID(5)
	b := s.NewBatch()
	buf, off := b.AppendBuffer(len("in place"))
	copy(buf, "in place")
	b.PutSliverAt(1, redstuff.Primary, id, off, len(buf))
	b.PutSliver(1, redstuff.Secondary, id, []byte("copied"))
	buf, off = b.AppendBuffer(len("given back"))
	copy(buf, "given back")
	b.TrimBuffer(off)
	buf, off = b.AppendBuffer(len("after the trim"))
	copy(buf, "after the trim")
	b.PutSliverAt(2, redstuff.Primary, id, off, len(buf))
	if ok, _ := b.HasSliver(2, redstuff.Primary, id); !ok {
		t.Fatal("batch misses a sliver put in place")
	}
	commit(t, b)
	for _, c := range []struct {
		shard uint16
		axis  redstuff.Axis
		want  string
	}{{1, redstuff.Primary, "in place"}, {1, redstuff.Secondary, "copied"}, {2, redstuff.Primary, "after the trim"}} {
		if got, err := s.Sliver(c.shard, c.axis, id); err != nil || string(got) != c.want {
			t.Fatalf("shard %d %s: Sliver = %q, %v; want %q", c.shard, c.axis, got, err, c.want)
		}
	}
	want := int64(len("in place") + len("copied") + len("after the trim"))
	if s.segs.direct.Load() {
		want = alignUp(want) // the write is padded
	}
	if got := segmentBytes(t, fs); got != want {
		t.Fatalf("segments hold %d bytes, want %d", got, want)
	}
}

// TestBatchAppendBufferMisuse checks that a put outside the buffer and a trim of a stored
// sliver fail the batch instead of storing wrong bytes.
func TestBatchAppendBufferMisuse(t *testing.T) {
	s := openMem(t, newFS(t))
	defer s.Close()
	id := blobID(6)

	b := s.NewBatch()
	buf, off := b.AppendBuffer(4)
	copy(buf, "data")
	b.PutSliverAt(1, redstuff.Primary, id, off, 5)
	if err := b.Commit(); err == nil {
		t.Fatal("Commit of a sliver past the buffer succeeded")
	}

	b = s.NewBatch()
	buf, off = b.AppendBuffer(4)
	copy(buf, "data")
	b.PutSliverAt(1, redstuff.Primary, id, off, 4)
	b.TrimBuffer(off)
	if err := b.Commit(); err == nil {
		t.Fatal("Commit after trimming a stored sliver succeeded")
	}
	if _, err := s.Sliver(1, redstuff.Primary, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Sliver after failed commits: %v, want ErrNotFound", err)
	}

	// A put of a slot never handed out, or of one already put, fails the batch too.
	b = s.NewBatch()
	b.PutSliverAt(1, redstuff.Primary, id, 0, 4)
	if err := b.Commit(); err == nil {
		t.Fatal("Commit of a put without a slot succeeded")
	}
	b = s.NewBatch()
	buf, off = b.AppendBuffer(4)
	copy(buf, "data")
	b.PutSliverAt(1, redstuff.Primary, id, off, 4)
	b.PutSliverAt(2, redstuff.Primary, id, off, 4)
	if err := b.Commit(); err == nil {
		t.Fatal("Commit after putting a slot twice succeeded")
	}

	b.Close()
	if buf, _ := b.AppendBuffer(4); buf != nil {
		t.Fatal("AppendBuffer of a closed batch returned a buffer")
	}
}
