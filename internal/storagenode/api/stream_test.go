package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// segmentBytes returns the bytes in the segment files of a store in directory dir.
func segmentBytes(t *testing.T, fs vfs.FS, dir string) int64 {
	t.Helper()
	names, err := fs.List(fs.PathJoin(dir, "slivers"))
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, name := range names {
		st, err := fs.Stat(fs.PathJoin(dir, "slivers", name))
		if err != nil {
			t.Fatal(err)
		}
		total += st.Size()
	}
	return total
}

// failingReader returns its bytes, then an error: a client that goes away mid-body.
type failingReader struct{ r io.Reader }

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("connection reset")
	}
	return n, err
}

// TestBatchStreamedFailureStoresNothing uploads batches whose slivers are written to the
// segment files as they arrive (chunks smaller than a sliver) and that fail after earlier
// slivers were written: a sliver failing verification at the end, a body cut off, a client
// that goes away. Each must leave nothing visible; a good upload afterwards is stored whole.
func TestBatchStreamedFailureStoresNothing(t *testing.T) {
	fs := vfs.NewMem()
	e := nodetest.New(t, 10, []uint16{1, 4, 7, 8}, nodetest.Options{Config: func(c *sn.Config) {
		st, err := store.Open("node", store.Options{FS: fs, ChunkBytes: 16 << 10})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		c.Store = st
	}})
	a := &apiEnv{Env: e, h: NewHandler(e.Node, Options{noRecover: true})}
	b := a.Blob(400000, 5)
	id := b.Metadata.BlobID
	a.Register(b, nodetest.ObjectID(1), 5, false)
	owned := a.OwnedPairs(b)
	// Slivers larger than a chunk, and large enough to be verified one by one as they
	// arrive (not in groups), so that every sliver read before a failure is verified and
	// written before the upload is aborted.
	if min(len(owned[0].Primary.Data), len(owned[0].Secondary.Data)) < 32<<10 {
		t.Fatalf("slivers of %d bytes: the test would not stream", len(owned[0].Secondary.Data))
	}
	path := "/v1/blobs/" + id.String() + "/slivers"
	good := batchBody(b.Metadata, owned)
	tampered := *owned[len(owned)-1]
	tampered.Secondary.Data = bytes.Clone(tampered.Secondary.Data)
	tampered.Secondary.Data[len(tampered.Secondary.Data)-1] ^= 1
	bad := batchBody(b.Metadata, append(append([]*redstuff.SliverPair(nil), owned[:len(owned)-1]...), &tampered))

	put := func(body io.Reader, size int64) response {
		req := httptest.NewRequest("PUT", path, body)
		req.ContentLength = size
		rec := httptest.NewRecorder()
		a.h.ServeHTTP(rec, req)
		return response{rec.Code, rec.Body.Bytes(), rec.Header()}
	}
	for _, c := range []struct {
		name   string
		body   io.Reader
		reason string
	}{
		{"last sliver fails verification", bytes.NewReader(bad), "INVALID_SLIVER"},
		{"body cut off before the last sliver", bytes.NewReader(good[:len(good)-100]), "MALFORMED_REQUEST"},
		{"client gone before the last sliver", &failingReader{bytes.NewReader(good[:len(good)-100])}, "MALFORMED_REQUEST"},
	} {
		before := segmentBytes(t, fs, "node")
		a.unchanged(t, c.name, func() {
			put(c.body, int64(len(good))).expect(t, badRequest, c.reason)
		})
		// The earlier slivers reached the segment file before the failure (the test
		// exercises the streamed path); unchanged checked that none is visible.
		if written := segmentBytes(t, fs, "node") - before; written < int64(len(owned[0].Primary.Data)) {
			t.Fatalf("%s: %d bytes written to the segments before the failure", c.name, written)
		}
	}
	res := successData[sn.UploadResult](t, put(bytes.NewReader(good), int64(len(good))), http.StatusCreated)
	if res != (sn.UploadResult{MetadataCreated: true, SliversCreated: 2 * len(owned)}) {
		t.Fatalf("result %+v", res)
	}
	if _, err := a.Node.Confirm(id, sn.Persistence{}); err != nil {
		t.Fatalf("confirmation after the streamed batch: %v", err)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestPendingBatchTooLargeRefusedUnread sends a pending batch of a blob not registered
// yet whose slivers exceed what the pending buffer holds for one blob: it is refused
// (CACHE_SATURATED, as a full buffer) after its metadata, without reading the slivers into
// memory, and a batch that fits is buffered.
func TestPendingBatchTooLargeRefusedUnread(t *testing.T) {
	e := nodetest.New(t, 10, []uint16{1, 4, 7, 8}, nodetest.Options{Config: func(c *sn.Config) { c.Pending.MaxBlobBytes = 64 << 10 }})
	a := &apiEnv{Env: e, h: NewHandler(e.Node, Options{noRecover: true})}
	b := a.Blob(200000, 5)
	owned := a.OwnedPairs(b)
	body := batchBody(b.Metadata, owned)
	path := "/v1/blobs/" + b.Metadata.BlobID.String() + "/slivers?pending=true"
	cr := &countingReader{r: bytes.NewReader(body)}
	req := httptest.NewRequest("PUT", path, cr)
	req.ContentLength = int64(len(body))
	rec := httptest.NewRecorder()
	a.unchanged(t, "too large pending batch", func() { a.h.ServeHTTP(rec, req) })
	response{rec.Code, rec.Body.Bytes(), rec.Header()}.expect(t, badRequest, "CACHE_SATURATED")
	if limit := int64(len(body) / 2); cr.n > limit {
		t.Fatalf("the node read %d of %d bytes before refusing", cr.n, len(body))
	}
	small := a.Blob(3000, 6)
	r := a.do("PUT", "/v1/blobs/"+small.Metadata.BlobID.String()+"/slivers?pending=true", batchBody(small.Metadata, a.OwnedPairs(small)))
	if r.code != http.StatusAccepted && r.code != http.StatusCreated {
		t.Fatalf("pending batch that fits: HTTP %d: %s", r.code, r.body)
	}
}
