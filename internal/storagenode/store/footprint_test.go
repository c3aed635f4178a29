package store

import (
	"bytes"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/walrus-go/walrus/internal/redstuff"
)

func TestBlobFootprint(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	defer s.Close()
	a, b := blobID(1), blobID(2)
	batch := s.NewBatch()
	batch.PutMetadata(a, bytes.Repeat([]byte{1}, 700))
	batch.PutMetadata(b, bytes.Repeat([]byte{2}, 50))
	batch.PutSliver(3, redstuff.Primary, a, bytes.Repeat([]byte{3}, 100))
	batch.PutSliver(3, redstuff.Secondary, a, bytes.Repeat([]byte{4}, 60))
	batch.PutSliver(9, redstuff.Primary, a, bytes.Repeat([]byte{5}, 100))
	batch.PutSliver(3, redstuff.Primary, b, bytes.Repeat([]byte{6}, 1000))
	commit(t, batch)

	fp, err := s.BlobFootprint(a)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Footprint{Slivers: 3, SliverBytes: 260, MetadataBytes: 700}); fp != want {
		t.Fatalf("footprint of a = %+v, want %+v", fp, want)
	}
	if fp.Total() != 960 {
		t.Fatalf("total %d", fp.Total())
	}
	fp, err = s.BlobFootprint(blobID(3))
	if err != nil || fp != (Footprint{}) {
		t.Fatalf("unknown blob: %+v, %v", fp, err)
	}
	batch = s.NewBatch()
	batch.DeleteSliver(3, redstuff.Primary, a)
	commit(t, batch)
	fp, _ = s.BlobFootprint(a)
	if fp.Slivers != 2 || fp.SliverBytes != 160 {
		t.Fatalf("after a delete: %+v", fp)
	}
	if sum := fp.Add(Footprint{Slivers: 1, SliverBytes: 1, MetadataBytes: 1}); sum != (Footprint{Slivers: 3, SliverBytes: 161, MetadataBytes: 701}) {
		t.Fatalf("add: %+v", sum)
	}
}
