package client_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/quilt"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestQuiltReadFetchesOnlyPatchColumns stores a quilt of 10 KiB files and reads one patch:
// the reader fetches only the index columns and the patch's columns (secondary slivers,
// each verified against the metadata), a small part of the quilt. CI runs 60 files on 100
// shards; WALRUS_QUILT_FULL=1 runs the 600 files on 1000 shards (make
// bench-quilt).
func TestQuiltReadFetchesOnlyPatchColumns(t *testing.T) {
	shards, files := 100, 60
	if full, _ := strconv.ParseBool(os.Getenv("WALRUS_QUILT_FULL")); full {
		shards, files = 1000, 600
	}
	net := testnet.New(t, testnet.Options{Shards: shards})
	c := newClient(t, net)
	ctx := testContext(t)
	patches := make([]quilt.Patch, files)
	for i := range patches {
		patches[i] = quilt.Patch{Identifier: fmt.Sprintf("file-%04d.bin", i), Data: randomBlob(10<<10, uint64(i)),
			Tags: map[string]string{"group": strconv.Itoa(i % 3)}}
	}
	res, err := c.StoreQuilt(ctx, patches, client.StoreOptions{Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.StoredQuiltBlobs) != files {
		t.Fatalf("%d stored patches, want %d", len(res.StoredQuiltBlobs), files)
	}
	id, err := redstuff.ParseBlobID(res.BlobStoreResult.BlobID())
	if err != nil {
		t.Fatal(err)
	}
	// The slivers counted below are those of a blob every node holds: the store returns
	// once a quorum confirmed, and a node still in its tail uploads would make the read
	// fetch other slivers.
	c.WaitTail()
	qr, err := c.OpenQuilt(ctx, id, client.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := patches[files/2]
	info, err := qr.Index().Lookup(want.Identifier)
	if err != nil {
		t.Fatal(err)
	}
	got, err := qr.ReadPatch(info)
	if err != nil {
		t.Fatal(err)
	}
	if got.Identifier != want.Identifier || !bytes.Equal(got.Data, want.Data) || got.Tags["group"] != want.Tags["group"] {
		t.Fatalf("read %q (%d bytes), want %q", got.Identifier, len(got.Data), want.Identifier)
	}
	st := qr.Stats()
	enc, _ := redstuff.NewConfig(shards)
	colSize := int64(len(want.Data)+64) / int64(enc.SourceSymbols(redstuff.Primary))
	colSize = (colSize + 2) * int64(enc.SourceSymbols(redstuff.Primary))
	cols := int64(qr.Index().Columns + info.End - info.Start)
	t.Logf("quilt %d bytes (%d files, %d shards); read one 10 KiB patch with %d slivers, %d sliver bytes (%.2f%% of the quilt), %d HTTP requests",
		st.QuiltSize, files, shards, st.Slivers, st.SliverBytes, 100*float64(st.SliverBytes)/float64(st.QuiltSize), st.HTTPRequests)
	if st.FellBack || st.Slivers != cols || st.SliverBytes > cols*colSize || st.SliverBytes*20 > st.QuiltSize {
		t.Fatalf("fetched %d slivers (%d bytes, fell back %v) for %d columns of a %d-byte quilt", st.Slivers, st.SliverBytes, st.FellBack, cols, st.QuiltSize)
	}
	// By patch ID, and a range the index does not have.
	pid, err := quilt.ParsePatchID(res.StoredQuiltBlobs[0].QuiltPatchID)
	if err != nil {
		t.Fatal(err)
	}
	if _, p, err := qr.ReadInternalID(pid.Internal); err != nil || p.Identifier != res.StoredQuiltBlobs[0].Identifier {
		t.Fatalf("ReadInternalID: %v", err)
	}
	if _, _, err := qr.ReadInternalID(quilt.InternalID{Start: 1, End: 3}); !errors.Is(err, quilt.ErrNotFound) {
		t.Fatalf("ReadInternalID of no patch: %v", err)
	}
	// An ordinary blob is not a quilt.
	plain := mustStore(t, c, []byte("not a quilt"), client.StoreOptions{Epochs: 1})
	pid2, _ := redstuff.ParseBlobID(plain.BlobID())
	if _, err := c.OpenQuilt(ctx, pid2, client.ReadOptions{}); !errors.Is(err, quilt.ErrMalformed) {
		t.Fatalf("OpenQuilt of a plain blob: %v", err)
	}
	// Bad input is refused before anything is sent.
	if _, err := c.StoreQuilt(ctx, []quilt.Patch{{Identifier: "a"}, {Identifier: "a"}}, client.StoreOptions{Epochs: 1}); !errors.Is(err, quilt.ErrDuplicateIdentifier) {
		t.Fatalf("duplicate identifiers: %v", err)
	}
}
