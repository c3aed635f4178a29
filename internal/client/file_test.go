package client_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/manifest"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testnet"
)

func TestDefaultChunkSize(t *testing.T) {
	for _, tt := range []struct {
		max  uint64
		want int64
	}{{1_800_000, 1 << 20}, {150_000_000, 16 << 20}, {16 << 20, 16 << 20}, {16<<20 - 1, 8 << 20}, {1, 1}, {0, 0}} {
		if got := client.DefaultChunkSize(tt.max); got != tt.want {
			t.Errorf("DefaultChunkSize(%d) = %d, want %d", tt.max, got, tt.want)
		}
	}
}

// TestFile stores a file of several chunks on a real network and reads it back every
// way; then makes a chunk unavailable, corrupts manifests, and deletes the file.
func TestFile(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	c := newClient(t, net)
	ctx := testContext(t)
	const chunk = 200_000
	data := randomBlob(3*chunk+123, 21) // 4 chunks, the last of 123 bytes
	res, err := c.StoreFile(ctx, bytes.NewReader(data), client.StoreOptions{Epochs: 2, ChunkSize: chunk})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if res.File == nil || len(res.File.Chunks) != 4 || res.File.Size != uint64(len(data)) || res.File.SHA256 != hex.EncodeToString(sum[:]) || res.NewlyCreated == nil {
		t.Fatalf("store result: %+v", res)
	}
	for i, ch := range res.File.Chunks {
		if ch.Object == "" || ch.Size != min(chunk, uint64(len(data)-i*chunk)) {
			t.Fatalf("chunk %d: %+v", i, ch)
		}
	}
	id, _ := redstuff.ParseBlobID(res.BlobID())
	end := res.NewlyCreated.BlobObject.Storage.EndEpoch

	// Read resolves the manifest; OpenFile streams it; ranges cross chunk boundaries.
	mustRead(t, c, res.BlobID(), data)
	f, err := c.OpenFile(ctx, id, client.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Manifest() == nil || f.Size() != int64(len(data)) {
		t.Fatalf("OpenFile: manifest %v, size %d", f.Manifest(), f.Size())
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, f); err != nil || !bytes.Equal(buf.Bytes(), data) {
		t.Fatalf("streamed read: %v, %d bytes, equal %v", err, buf.Len(), bytes.Equal(buf.Bytes(), data))
	}
	for _, off := range []int64{0, chunk - 10, 2*chunk - 1, int64(len(data)) - 200} {
		p := make([]byte, 150)
		if n, err := f.ReadAt(p, off); n != len(p) || err != nil || !bytes.Equal(p, data[off:off+150]) {
			t.Fatalf("ReadAt(150, %d): %d %v", off, n, err)
		}
	}
	f.Close()
	raw, err := c.Read(ctx, id, client.ReadOptions{Raw: true})
	if err != nil || !manifest.HasMagic(raw) {
		t.Fatalf("raw read: %v", err)
	}
	m, err := manifest.Decode(raw)
	if err != nil || m.Hash != sum || len(m.Chunks) != 4 {
		t.Fatalf("raw manifest: %v %+v", err, m)
	}

	// A file within one chunk is a plain blob.
	small := randomBlob(chunk, 22)
	sres, err := c.StoreFile(ctx, bytes.NewReader(small), client.StoreOptions{Epochs: 2, ChunkSize: chunk})
	if err != nil || sres.File != nil || sres.NewlyCreated == nil || sres.NewlyCreated.BlobObject.Size != chunk {
		t.Fatalf("small file: %v %+v", err, sres)
	}

	// Extend applies to every part.
	obj, _ := chain.ParseObjectID(res.NewlyCreated.BlobObject.ID)
	if _, err := c.Extend(ctx, obj, 2); err != nil {
		t.Fatal(err)
	}
	blobs, err := c.ListBlobs(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]bool{res.NewlyCreated.BlobObject.ID: true}
	for _, ch := range res.File.Chunks {
		parts[ch.Object] = true
	}
	extended := 0
	for _, b := range blobs {
		if parts[b.ID.String()] {
			if b.EndEpoch() != end+2 {
				t.Fatalf("part %s ends in epoch %d after extending, want %d", b.ID, b.EndEpoch(), end+2)
			}
			extended++
		}
	}
	if extended != 5 {
		t.Fatalf("%d of the 5 parts found", extended)
	}

	// A manifest with a wrong hash: the whole read fails at the end, a range still reads.
	bad := *m
	bad.Hash[0] ^= 1
	badRaw, err := bad.Encode()
	if err != nil {
		t.Fatal(err)
	}
	badID := storeRaw(t, c, badRaw)
	if _, err := c.Read(ctx, badID, client.ReadOptions{}); !errors.Is(err, client.ErrHashMismatch) {
		t.Fatalf("read with a wrong hash: %v", err)
	}
	bf, err := c.OpenFile(ctx, badID, client.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := io.Copy(&got, bf); !errors.Is(err, client.ErrHashMismatch) || got.Len() >= len(data) {
		t.Fatalf("streamed read with a wrong hash: %v after %d of %d bytes", err, got.Len(), len(data))
	}
	bf.Close()

	// A truncated manifest is an error, not data; read raw it is its bytes.
	truncID := storeRaw(t, c, raw[:len(raw)-7])
	if _, err := c.Read(ctx, truncID, client.ReadOptions{}); !errors.Is(err, client.ErrInvalidManifest) {
		t.Fatalf("read of a truncated manifest: %v", err)
	}
	if _, err := c.OpenFile(ctx, truncID, client.ReadOptions{}); !errors.Is(err, client.ErrInvalidManifest) {
		t.Fatalf("open of a truncated manifest: %v", err)
	}
	if b, err := c.Read(ctx, truncID, client.ReadOptions{Raw: true}); err != nil || !bytes.Equal(b, raw[:len(raw)-7]) {
		t.Fatalf("raw read of a truncated manifest: %v", err)
	}

	// A chunk deleted: opening fails naming it, and nothing is returned.
	gone, _ := chain.ParseObjectID(res.File.Chunks[2].Object)
	if err := c.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	var ce *client.ChunkError
	if _, err := c.OpenFile(ctx, id, client.ReadOptions{}); !errors.As(err, &ce) || ce.Index != 2 || ce.BlobID.String() != res.File.Chunks[2].BlobID ||
		!errors.Is(err, client.ErrUnavailable) || errors.Is(err, client.ErrNotFound) {
		t.Fatalf("open with chunk 2 deleted: %v", err)
	}
	if b, err := c.Read(ctx, id, client.ReadOptions{}); !errors.As(err, &ce) || ce.Index != 2 || b != nil {
		t.Fatalf("read with chunk 2 deleted: %d bytes, %v", len(b), err)
	}
	t.Logf("error: %v", ce)

	// Deleting the file deletes the manifest and the chunks left.
	deleted, err := c.DeleteBlobID(ctx, id)
	if err != nil || len(deleted) != 4 {
		t.Fatalf("delete: %v %v", deleted, err)
	}
	blobs, err = c.ListBlobs(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blobs {
		if parts[b.ID.String()] {
			t.Fatalf("part %s (blob %s) survived the deletion", b.ID, b.BlobID)
		}
	}
}

// storeRaw stores b as a plain blob and returns its ID.
func storeRaw(t *testing.T, c *client.Client, b []byte) redstuff.BlobID {
	t.Helper()
	res := mustStore(t, c, b, client.StoreOptions{Epochs: 2})
	id, err := redstuff.ParseBlobID(res.BlobID())
	if err != nil {
		t.Fatal(err)
	}
	return id
}
