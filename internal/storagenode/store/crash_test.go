package store

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/walrus-go/walrus/internal/redstuff"
)

var crashShards = []uint16{0, 7, 300, 0xffff}

// uploadBatch writes what one upload writes: metadata and a sliver pair in several shards,
// plus (as event application does) a cursor, so that the test sees every table at once.
func uploadBatch(s *Store, id redstuff.BlobID, cursor uint64, size int) *Batch {
	b := s.NewBatch()
	b.PutMetadata(id, fill(size, 'm', id))
	for _, sh := range crashShards {
		b.PutSliver(sh, redstuff.Primary, id, fill(size, 'p', id))
		b.PutSliver(sh, redstuff.Secondary, id, fill(size, 's', id))
	}
	b.PutBlobInfo(id, BlobInfo{PermanentTotal: 1, PermanentEndEpoch: uint32(cursor)})
	b.SetCursor(cursor)
	return b
}

func fill(n int, tag byte, id redstuff.BlobID) []byte {
	v := make([]byte, n)
	for i := range v {
		v[i] = tag ^ id[i%32] ^ byte(i)
	}
	return v
}

// walBytes returns the size of the WAL files of the database.
func walBytes(t *testing.T, fs vfs.FS) int64 {
	t.Helper()
	names, err := fs.List("db")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, name := range names {
		if strings.HasSuffix(name, ".log") {
			st, err := fs.Stat(fs.PathJoin("db", name))
			if err != nil {
				t.Fatal(err)
			}
			total += st.Size()
		}
	}
	return total
}

// visible counts how many of the upload's records are present and intact.
func visible(t *testing.T, s *Store, id redstuff.BlobID, size int) (present, total int) {
	t.Helper()
	check := func(v []byte, err error, want []byte) {
		total++
		if err != nil {
			return
		}
		if string(v) != string(want) {
			t.Fatalf("record of %s present but different", id)
		}
		present++
	}
	v, err := s.Metadata(id)
	check(v, err, fill(size, 'm', id))
	for _, sh := range crashShards {
		v, err = s.Sliver(sh, redstuff.Primary, id)
		check(v, err, fill(size, 'p', id))
		v, err = s.Sliver(sh, redstuff.Secondary, id)
		check(v, err, fill(size, 's', id))
	}
	total++
	if _, err := s.BlobInfo(id); err == nil {
		present++
	}
	return present, total
}

// TestCrashConsistency simulates crashes with pebble's crashable in-memory filesystem: only
// synced data is sure to survive, and a random part of the unsynced data does. A committed
// (synced) upload must survive whole; an upload whose commit was not synced must be either
// whole or absent, never half there, and the cursor must match what is visible.
func TestCrashConsistency(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 2))
	iterations := 16
	if testing.Short() {
		iterations = 4
	}
	outcomes := map[string]int{}
	for iter := 0; iter < iterations; iter++ {
		size := 1 + rng.IntN(64<<10)
		fs := vfs.NewCrashableMem()
		s := openMem(t, fs)
		durable, pending := blobID(2*iter), blobID(2*iter+1)
		if err := uploadBatch(s, durable, 1, size).Commit(); err != nil {
			t.Fatal(err)
		}
		// Chunks of random size: the pending upload's slivers are written in one or
		// several chunks, some as they are put.
		s.chunkBytes = 1 + rng.IntN(128<<10)
		b := uploadBatch(s, pending, 2, size)
		before := walBytes(t, fs)
		if err := b.commit(false); err != nil {
			t.Fatal(err)
		}
		want := b.indexBytes
		// The WAL writer writes the record in the background. Give it a moment to reach the
		// file (written, not synced) so that the crash can keep any part of it; if it has
		// not, the crash simply happens earlier and the upload must be absent.
		for deadline := time.Now().Add(2 * time.Second); walBytes(t, fs) < before+int64(want) && time.Now().Before(deadline); {
			time.Sleep(100 * time.Microsecond)
		}

		// Half the crashes keep all written data, so that both outcomes occur.
		percent := 100
		if iter%2 == 1 {
			percent = rng.IntN(100)
		}
		crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: percent, RNG: rand.New(rand.NewPCG(rng.Uint64(), 0))})
		s.Close()

		s = openMem(t, crashed)
		if p, n := visible(t, s, durable, size); p != n {
			t.Fatalf("iteration %d: synced upload has %d of %d records after a crash", iter, p, n)
		}
		p, n := visible(t, s, pending, size)
		cursor, err := s.Cursor()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case p == n && cursor == 2:
			outcomes["all"]++
		case p == 0 && cursor == 1:
			outcomes["none"]++
		default:
			t.Fatalf("iteration %d (%d%% unsynced data kept): unsynced upload has %d of %d records, cursor %d", iter, percent, p, n, cursor)
		}
		s.Close()
	}
	t.Logf("unsynced upload after a crash: %v", fmt.Sprint(outcomes))
}
