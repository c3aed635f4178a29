package store

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// testDisk, set while TestDiskPaths runs, makes newFS return the operating system's
// filesystem in a fresh working directory instead of a fresh in-memory filesystem.
var testDisk bool

// newFS returns the filesystem a test's store lives on: in memory, or on disk under
// TestDiskPaths.
func newFS(t *testing.T) vfs.FS {
	if !testDisk {
		return vfs.NewMem()
	}
	t.Chdir(t.TempDir())
	return vfs.Default
}

// diskModes runs fn on disk with direct I/O and with the buffered fallback. The direct
// mode is skipped where the temporary directory's file system has no direct I/O (and
// fails if it has but the store does not use it).
func diskModes(t *testing.T, fn func(t *testing.T, direct bool)) {
	for _, direct := range []bool{true, false} {
		name := map[bool]string{true: "direct", false: "buffered"}[direct]
		t.Run(name, func(t *testing.T) {
			if direct && !directSupported(t) {
				t.Skipf("no direct I/O on %s/%s for the temporary directory", runtime.GOOS, runtime.GOARCH)
			}
			testDisk, forceBuffered = true, !direct
			defer func() { testDisk, forceBuffered = false, false }()
			s := openMem(t, newFS(t))
			if s.segs.direct.Load() != direct {
				s.Close()
				t.Fatalf("store opened with direct I/O %v, want %v", s.segs.direct.Load(), direct)
			}
			s.Close()
			fn(t, direct)
		})
	}
}

// directSupported reports whether a file in a temporary directory takes O_DIRECT.
func directSupported(t *testing.T) bool {
	f, err := vfs.Default.Create(vfs.Default.PathJoin(t.TempDir(), "probe"), vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return setDirect(f)
}

// TestDiskPaths runs the store's tests on the real filesystem, with segments written and
// read with direct I/O and through the page cache.
func TestDiskPaths(t *testing.T) {
	tests := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"RoundTripAndReopen", TestRoundTripAndReopen},
		{"EmptyStore", TestEmptyStore},
		{"ShardSliversOrder", TestShardSliversOrder},
		{"DeleteBlobDataAndDropShard", TestDeleteBlobDataAndDropShard},
		{"BatchReadsOwnWrites", TestBatchReadsOwnWrites},
		{"Close", TestClose},
		{"CorruptRecords", TestCorruptRecords},
		{"BatchSliverOrder", TestBatchSliverOrder},
		{"SegmentRotation", TestSegmentRotation},
		{"CompactSegments", TestCompactSegments},
		{"CompactConcurrent", TestCompactConcurrent},
		{"BatchAppendBuffer", TestBatchAppendBuffer},
		{"BatchAppendBufferMisuse", TestBatchAppendBufferMisuse},
		{"BatchStreams", TestBatchStreams},
		{"CompactionSpareStreamingBatch", TestCompactionSpareStreamingBatch},
	}
	diskModes(t, func(t *testing.T, _ bool) {
		for _, tc := range tests {
			t.Run(tc.name, tc.fn)
		}
	})
}

// TestAlignmentPadding writes many batches of odd sizes, several open at once so that
// their chunks interleave in the segments, some closed without a commit, with small odd
// chunks and segments, compacts, reopens and reads every committed sliver back
// byte-exact: the padding of direct writes never overwrites or shifts a neighbour. With
// direct I/O every segment is a whole number of aligned blocks and every large sliver
// starts on a block boundary.
func TestAlignmentPadding(t *testing.T) {
	diskModes(t, func(t *testing.T, direct bool) {
		seed := time.Now().UnixNano()
		t.Logf("seed %d", seed)
		rng := rand.New(rand.NewPCG(uint64(seed), 5))
		fs := newFS(t)
		opts := Options{FS: fs, SegmentBytes: 1 << 20, ChunkBytes: 5000 + rng.IntN(400000)}
		s, err := Open("db", opts)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { s.Close() }()         // the store reopened at the end too
		want := map[redstuff.BlobID][]byte{} // committed slivers, all in shard 0, primary
		type open struct {
			b     *Batch
			puts  map[redstuff.BlobID][]byte
			abort bool
		}
		next := 0
		var batches []*open
		for round := range 60 {
			for len(batches) < 3 {
				batches = append(batches, &open{b: s.NewBatch(), puts: map[redstuff.BlobID][]byte{}, abort: rng.IntN(5) == 0})
			}
			// Put a few odd-sized slivers into a random open batch, some in place.
			o := batches[rng.IntN(len(batches))]
			for range 1 + rng.IntN(4) {
				id := blobID(next)
				next++
				size := 1 + rng.IntN(20000)
				if rng.IntN(4) == 0 {
					size = alignedSliverMin + rng.IntN(200000) // starts on a block with direct I/O
				}
				data := fill(size, byte(next), id)
				if rng.IntN(2) == 0 {
					o.b.PutSliver(0, redstuff.Primary, id, data)
				} else {
					buf, off := o.b.AppendBuffer(len(data))
					copy(buf, data)
					o.b.PutSliverAt(0, redstuff.Primary, id, off, len(data))
				}
				o.puts[id] = data
			}
			// Finish a random batch now and then.
			if rng.IntN(3) == 0 {
				i := rng.IntN(len(batches))
				o := batches[i]
				batches = slices.Delete(batches, i, i+1)
				if o.abort {
					o.b.Close()
					continue
				}
				commit(t, o.b)
				for id, data := range o.puts {
					want[id] = data
				}
			}
			if round%20 == 19 {
				if _, err := s.CompactSegments(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, o := range batches {
			o.b.Close()
		}
		// Delete a third of the committed slivers and compact, so that compaction moves
		// slivers out of padded segments.
		b := s.NewBatch()
		for id := range want {
			if rng.IntN(3) == 0 {
				b.DeleteSliver(0, redstuff.Primary, id)
				delete(want, id)
			}
		}
		commit(t, b)
		stats, err := s.CompactSegments(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d slivers committed and kept, compaction: %+v", len(want), stats)
		check := func(when string) {
			t.Helper()
			n := 0
			err := s.ShardSlivers(0, redstuff.Primary, redstuff.BlobID{}, func(id redstuff.BlobID, v []byte) (bool, error) {
				if !bytes.Equal(v, want[id]) {
					return false, fmt.Errorf("sliver %x: %d bytes, want %d, equal %v", id[:4], len(v), len(want[id]), bytes.Equal(v, want[id]))
				}
				n++
				return true, nil
			})
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if n != len(want) {
				t.Fatalf("%s: %d slivers listed, want %d", when, n, len(want))
			}
			for id, data := range want {
				if got, err := s.Sliver(0, redstuff.Primary, id); err != nil || !bytes.Equal(got, data) {
					t.Fatalf("%s: sliver %x: %v", when, id[:4], err)
				}
			}
		}
		check("before reopening")
		if direct {
			snap := s.db.NewSnapshot()
			err := scanPointers(snap, func(_ []byte, p pointer) error {
				if p.len >= alignedSliverMin && p.off%directAlign != 0 {
					return fmt.Errorf("sliver of %d bytes at %d, not on a block boundary", p.len, p.off)
				}
				return nil
			})
			snap.Close()
			if err != nil {
				t.Fatal(err)
			}
			for name, size := range segmentFiles(t, fs) {
				if size%directAlign != 0 {
					t.Fatalf("segment %s written with direct I/O has %d bytes, not whole blocks", name, size)
				}
			}
		}
		s.Close()
		if s, err = Open("db", opts); err != nil {
			t.Fatal(err)
		}
		check("after reopening")
	})
}
