package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/go-cmp/cmp"

	"github.com/walrus-go/walrus/internal/redstuff"
)

func openMem(t *testing.T, fs vfs.FS) *Store {
	t.Helper()
	s, err := Open("db", Options{FS: fs})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func blobID(i int) redstuff.BlobID {
	var id redstuff.BlobID
	binary.BigEndian.PutUint64(id[:], uint64(i)*0x9e3779b97f4a7c15)
	id[31] = byte(i)
	return id
}

func commit(t *testing.T, b *Batch) {
	t.Helper()
	if err := b.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func sampleInfo() BlobInfo {
	return BlobInfo{
		EncodingType: 1, Size: 12345,
		PermanentTotal: 2, PermanentEndEpoch: 9, PermanentEvent: EventID{TxDigest: [32]byte{1}, Seq: 7},
		PermanentCertified: 1, PermanentCertifiedEndEpoch: 8, PermanentCertifiedEvent: EventID{Seq: 8},
		DeletableTotal: 3, DeletableCertified: 1, DeletableEndEpoch: 12,
		Certified: true, InitialCertifiedEpoch: 4,
		Invalid: true, InvalidEvent: EventID{TxDigest: [32]byte{9: 9}, Seq: 99},
	}
}

func TestRoundTripAndReopen(t *testing.T) {
	fs := newFS(t)
	s := openMem(t, fs)
	id := blobID(1)
	obj := [32]byte{0xaa}
	info := sampleInfo()
	oinfo := ObjectInfo{BlobID: id, Deletable: true, RegisteredEpoch: 2, EndEpoch: 5, Certified: true, CertifiedEpoch: 3, Event: EventID{Seq: 4}}
	state := NodeState{Status: NodeActive, Epoch: 6, ChangeDoneEpoch: 5}

	b := s.NewBatch()
	b.PutMetadata(id, []byte("metadata"))
	b.PutBlobInfo(id, info)
	b.PutObjectInfo(obj, oinfo)
	b.PutSliver(3, redstuff.Primary, id, []byte("p3"))
	b.PutSliver(3, redstuff.Secondary, id, []byte("s3"))
	b.PutSliver(0xffff, redstuff.Primary, id, []byte("pmax"))
	b.SetShardStatus(3, ShardActive)
	b.SetShardStatus(0xffff, ShardLockedToMove)
	b.SetShardStatus(7, ShardActiveSync)
	b.SetShardStatus(7, ShardNone)
	b.SetCursor(42)
	b.SetNodeState(state)
	commit(t, b)

	check := func(s *Store) {
		t.Helper()
		if m, err := s.Metadata(id); err != nil || string(m) != "metadata" {
			t.Fatalf("Metadata = %q, %v", m, err)
		}
		if got, err := s.BlobInfo(id); err != nil || got != info {
			t.Fatalf("BlobInfo = %+v, %v; diff %s", got, err, cmp.Diff(info, got))
		}
		if got, err := s.ObjectInfo(obj); err != nil || got != oinfo {
			t.Fatalf("ObjectInfo = %+v, %v", got, err)
		}
		for _, c := range []struct {
			shard uint16
			a     redstuff.Axis
			want  string
		}{{3, redstuff.Primary, "p3"}, {3, redstuff.Secondary, "s3"}, {0xffff, redstuff.Primary, "pmax"}} {
			if v, err := s.Sliver(c.shard, c.a, id); err != nil || string(v) != c.want {
				t.Fatalf("Sliver(%d, %s) = %q, %v", c.shard, c.a, v, err)
			}
		}
		if _, err := s.Sliver(3, redstuff.Primary, blobID(2)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Sliver of another blob: %v, want ErrNotFound", err)
		}
		if ok, err := s.HasSliver(0xffff, redstuff.Secondary, id); ok || err != nil {
			t.Fatalf("HasSliver(absent) = %v, %v", ok, err)
		}
		shards, err := s.Shards()
		want := []ShardState{{3, ShardActive}, {0xffff, ShardLockedToMove}}
		if err != nil || !slices.Equal(shards, want) {
			t.Fatalf("Shards = %v, %v; want %v", shards, err, want)
		}
		if c, err := s.Cursor(); err != nil || c != 42 {
			t.Fatalf("Cursor = %d, %v", c, err)
		}
		if st, err := s.NodeState(); err != nil || st != state {
			t.Fatalf("NodeState = %+v, %v", st, err)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openMem(t, fs)
	defer s.Close()
	check(s)
}

func TestEmptyStore(t *testing.T) {
	s := openMem(t, newFS(t))
	defer s.Close()
	if c, err := s.Cursor(); err != nil || c != 0 {
		t.Fatalf("Cursor = %d, %v", c, err)
	}
	if st, err := s.NodeState(); err != nil || st != (NodeState{}) {
		t.Fatalf("NodeState = %+v, %v", st, err)
	}
	if _, err := s.BlobInfo(blobID(1)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("BlobInfo: %v", err)
	}
	if _, err := s.ObjectInfo([32]byte{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ObjectInfo: %v", err)
	}
	if _, err := s.Metadata(blobID(1)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Metadata: %v", err)
	}
	if sh, err := s.Shards(); err != nil || len(sh) != 0 {
		t.Fatalf("Shards = %v, %v", sh, err)
	}
}

func TestShardSliversOrder(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	s := openMem(t, newFS(t))
	defer s.Close()

	var ids []redstuff.BlobID
	b := s.NewBatch()
	for i := 0; i < 200; i++ {
		var id redstuff.BlobID
		for j := range id {
			id[j] = byte(rng.UintN(256))
		}
		ids = append(ids, id)
		b.PutSliver(5, redstuff.Primary, id, id[:4])
		// Neighbours that the scan must not return.
		b.PutSliver(5, redstuff.Secondary, id, []byte("other axis"))
		b.PutSliver(4, redstuff.Primary, id, []byte("other shard"))
		b.PutSliver(6, redstuff.Primary, id, []byte("other shard"))
	}
	commit(t, b)
	slices.SortFunc(ids, func(a, b redstuff.BlobID) int { return bytes.Compare(a[:], b[:]) })

	var got []redstuff.BlobID
	err := s.ShardSlivers(5, redstuff.Primary, redstuff.BlobID{}, func(id redstuff.BlobID, v []byte) (bool, error) {
		if !bytes.Equal(v, id[:4]) {
			t.Fatalf("sliver of %s = %q", id, v)
		}
		got = append(got, id)
		return true, nil
	})
	if err != nil || !slices.Equal(got, ids) {
		t.Fatalf("ShardSlivers: %v; got %d ids in order %v", err, len(got), slices.Equal(got, ids))
	}

	// Paging: from the 100th blob ID, stop after 10.
	got = got[:0]
	err = s.ShardSlivers(5, redstuff.Primary, ids[100], func(id redstuff.BlobID, _ []byte) (bool, error) {
		got = append(got, id)
		return len(got) < 10, nil
	})
	if err != nil || !slices.Equal(got, ids[100:110]) {
		t.Fatalf("paged ShardSlivers = %v, %v", got, err)
	}

	stop := errors.New("stop")
	if err := s.ShardSlivers(5, redstuff.Primary, redstuff.BlobID{}, func(redstuff.BlobID, []byte) (bool, error) { return false, stop }); err != stop {
		t.Fatalf("callback error not returned: %v", err)
	}
}

func TestDeleteBlobDataAndDropShard(t *testing.T) {
	s := openMem(t, newFS(t))
	defer s.Close()
	a, c := blobID(1), blobID(2)
	b := s.NewBatch()
	for _, id := range []redstuff.BlobID{a, c} {
		b.PutMetadata(id, []byte("m"))
		b.PutBlobInfo(id, BlobInfo{PermanentTotal: 1})
		for _, sh := range []uint16{0, 1, 0xffff} {
			b.PutSliver(sh, redstuff.Primary, id, []byte("p"))
			b.PutSliver(sh, redstuff.Secondary, id, []byte("s"))
			b.SetShardStatus(sh, ShardActive)
		}
	}
	commit(t, b)

	b = s.NewBatch()
	b.DeleteBlobData(a, []uint16{0, 1, 0xffff})
	commit(t, b)
	if ok, _ := s.HasMetadata(a); ok {
		t.Fatal("metadata of a survives DeleteBlobData")
	}
	if _, err := s.BlobInfo(a); err != nil {
		t.Fatalf("DeleteBlobData removed the blob info: %v", err)
	}
	for _, sh := range []uint16{0, 1, 0xffff} {
		for _, ax := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
			if ok, _ := s.HasSliver(sh, ax, a); ok {
				t.Fatalf("sliver %d/%s of a survives", sh, ax)
			}
			if ok, _ := s.HasSliver(sh, ax, c); !ok {
				t.Fatalf("sliver %d/%s of c deleted", sh, ax)
			}
		}
	}

	for _, drop := range []uint16{0xffff, 0} {
		b = s.NewBatch()
		b.DropShard(drop)
		commit(t, b)
		for _, sh := range []uint16{0, 1, 0xffff} {
			ok, _ := s.HasSliver(sh, redstuff.Secondary, c)
			if dropped := sh == 0 && drop == 0 || sh == 0xffff; ok == dropped {
				t.Fatalf("after dropping %d: shard %d has sliver %v", drop, sh, ok)
			}
		}
	}
	shards, _ := s.Shards()
	if want := []ShardState{{1, ShardActive}}; !slices.Equal(shards, want) {
		t.Fatalf("Shards after drops = %v, want %v", shards, want)
	}
	if ok, _ := s.HasMetadata(c); !ok {
		t.Fatal("DropShard removed metadata")
	}
}

func TestBatchReadsOwnWrites(t *testing.T) {
	s := openMem(t, newFS(t))
	defer s.Close()
	id := blobID(3)
	b := s.NewBatch()
	if _, err := b.BlobInfo(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("BlobInfo in empty batch: %v", err)
	}
	b.PutBlobInfo(id, BlobInfo{DeletableTotal: 4})
	b.PutSliver(2, redstuff.Primary, id, []byte("x"))
	b.PutObjectInfo([32]byte{1}, ObjectInfo{BlobID: id, EndEpoch: 3})
	if got, err := b.BlobInfo(id); err != nil || got.DeletableTotal != 4 {
		t.Fatalf("batch BlobInfo = %+v, %v", got, err)
	}
	if got, err := b.ObjectInfo([32]byte{1}); err != nil || got.EndEpoch != 3 {
		t.Fatalf("batch ObjectInfo = %+v, %v", got, err)
	}
	if ok, err := b.HasSliver(2, redstuff.Primary, id); !ok || err != nil {
		t.Fatalf("batch HasSliver = %v, %v", ok, err)
	}
	if _, err := s.BlobInfo(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("uncommitted write visible in the store: %v", err)
	}
	b.Close()
	b.Close()
	if _, err := s.BlobInfo(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("discarded write visible: %v", err)
	}
	if err := b.Commit(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Commit after Close: %v", err)
	}
}

func TestClose(t *testing.T) {
	s := openMem(t, newFS(t))
	pending := s.NewBatch()
	pending.SetCursor(1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Cursor(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Cursor after Close: %v", err)
	}
	if err := s.ShardSlivers(0, redstuff.Primary, redstuff.BlobID{}, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("ShardSlivers after Close: %v", err)
	}
	if err := pending.Commit(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Commit of a batch made before Close: %v", err)
	}
	b := s.NewBatch()
	b.SetCursor(2)
	if err := b.Commit(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Commit of a batch made after Close: %v", err)
	}
	b.Close()
}

func TestFormatCheck(t *testing.T) {
	fs := vfs.NewMem()
	db, err := pebble.Open("db", &pebble.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set(keyFormat, []byte{1, 0, 0, 0}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// A store of version 1 (slivers inside the database) is refused with an error that
	// says what to do.
	_, err = Open("db", Options{FS: fs})
	if !errors.Is(err, ErrFormat) {
		t.Fatalf("Open of another format: %v, want ErrFormat", err)
	}
	for _, want := range []string{"version 1", "empty data directory"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not mention %q", err, want)
		}
	}
}

func TestCorruptRecords(t *testing.T) {
	s := openMem(t, newFS(t))
	defer s.Close()
	id := blobID(1)
	for _, k := range [][]byte{blobInfoKey(id), objectInfoKey(id), keyNodeState, keyCursor, shardKey(1)} {
		if err := s.db.Set(k, []byte{0, 1, 2}, pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.BlobInfo(id); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("BlobInfo: %v", err)
	}
	if _, err := s.ObjectInfo(id); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("ObjectInfo: %v", err)
	}
	if _, err := s.NodeState(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("NodeState: %v", err)
	}
	if _, err := s.Cursor(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Cursor: %v", err)
	}
	if _, err := s.Shards(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Shards: %v", err)
	}
}
