package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/gateway"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testnet"
)

// fakeBlobs is an in-memory Blobs for the handler's unit tests.
type fakeBlobs struct {
	mu      sync.Mutex
	blobs   map[redstuff.BlobID][]byte
	objects map[chain.ObjectID]*chain.Blob
	block   chan struct{} // if not nil, Store and Open wait on it
	entered chan struct{} // if not nil, receives a value when a call starts waiting
	stores  int
	last    client.StoreOptions    // of the last store
	opened  []redstuff.Consistency // the check of every Open

	row         int64         // row size of streams; 0 means 4
	gate        chan struct{} // if not nil, every fetch of rows waits on it...
	gateEntered chan struct{} // ...after sending here
	// If strictGate is not nil, a strict Open sends on strictEntered once it holds its
	// blob, then waits on strictGate.
	strictGate, strictEntered chan struct{}
	held                      atomic.Int64 // bytes of rows held by all streams
	maxHeld                   atomic.Int64 // the most ever held
}

func newFake() *fakeBlobs {
	return &fakeBlobs{blobs: map[redstuff.BlobID][]byte{}, objects: map[chain.ObjectID]*chain.Blob{}}
}

func (f *fakeBlobs) wait(ctx context.Context) error {
	if f.block == nil {
		return nil
	}
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	select {
	case <-f.block:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fakeBlobs) Store(ctx context.Context, data []byte, opts client.StoreOptions) (*client.StoreResult, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	if opts.Epochs == 0 || opts.Epochs > 53 {
		return nil, fmt.Errorf("%w: %d epochs", client.ErrInvalidEpochs, opts.Epochs)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stores++
	f.last = opts
	var root [32]byte
	root[0] = byte(len(data))
	copy(root[1:], data)
	id := redstuff.DeriveBlobID(redstuff.EncodingRS2, uint64(len(data)), root)
	f.blobs[id] = bytes.Clone(data)
	obj := chain.ObjectID{byte(f.stores)}
	f.objects[obj] = &chain.Blob{ID: obj, BlobID: id, Size: uint64(len(data)), EncodingType: 1, Certified: true, Deletable: !opts.Permanent,
		Storage: chain.Storage{EndEpoch: opts.Epochs}, Attributes: []chain.Attribute{{Key: "content-type", Value: "text/plain"}, {Key: "x-secret", Value: "no"}}}
	return &client.StoreResult{NewlyCreated: &client.NewlyCreated{BlobObject: client.NewBlobObject(f.objects[obj])}}, nil
}

func (f *fakeBlobs) Open(ctx context.Context, id redstuff.BlobID, opts client.ReadOptions) (gateway.Stream, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.opened = append(f.opened, opts.Consistency)
	d, ok := f.blobs[id]
	row := f.row
	gate, entered := f.strictGate, f.strictEntered
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", client.ErrNotFound, id)
	}
	if row == 0 {
		row = 4
	}
	s := &fakeStream{f: f, data: d, row: row}
	if opts.Consistency == redstuff.ConsistencyStrict {
		// As the client's BlobReader: a strict read holds the whole blob from the start.
		s.whole = true
		s.hold(int64(len(d)))
		if gate != nil {
			entered <- struct{}{}
			<-gate
		}
	}
	return s, nil
}

// fakeStream is a Stream that keeps count, in its fakeBlobs, of the bytes of rows held
// by all streams and of the most ever held: the instrument of the read-budget tests.
type fakeStream struct {
	f      *fakeBlobs
	data   []byte
	row    int64
	lo, hi int64 // the rows held
	whole  bool  // the stream holds the whole blob (a strict read)
	closed bool
}

func (s *fakeStream) Size() int64 { return int64(len(s.data)) }

func (s *fakeStream) RowSize() int64 {
	if s.whole {
		return 0
	}
	return s.row
}

func (s *fakeStream) Prefetch(off, n int64) error {
	if s.closed {
		return client.ErrReaderClosed
	}
	if s.whole {
		return nil
	}
	size := int64(len(s.data))
	if off < 0 || n <= 0 || off >= size {
		return nil
	}
	lo, hi := off-off%s.row, (min(off+n, size)+s.row-1)/s.row*s.row
	if lo >= s.lo && hi <= s.hi {
		return nil
	}
	s.hold(hi - lo) // replaces the rows held before, as the client's BlobReader does
	s.lo, s.hi = lo, hi
	if s.f.gate != nil {
		s.f.gateEntered <- struct{}{}
		<-s.f.gate
	}
	return nil
}

func (s *fakeStream) hold(n int64) {
	cur := s.f.held.Add(n - (s.hi - s.lo))
	s.lo, s.hi = 0, n
	for {
		m := s.f.maxHeld.Load()
		if cur <= m || s.f.maxHeld.CompareAndSwap(m, cur) {
			return
		}
	}
}

func (s *fakeStream) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(s.data)) {
		return 0, io.EOF
	}
	if err := s.Prefetch(off, int64(len(p))); err != nil {
		return 0, err
	}
	n := copy(p, s.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (s *fakeStream) Close() error {
	s.hold(0)
	s.closed = true
	return nil
}

func (f *fakeBlobs) BlobObject(ctx context.Context, id chain.ObjectID) (*chain.Blob, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.objects[id]
	if !ok {
		return nil, fmt.Errorf("blob object %s: %w", id, chain.ErrNotFound)
	}
	return b, nil
}

func newHandler(t testing.TB, blobs gateway.Blobs, mod func(*gateway.Config)) *gateway.Handler {
	t.Helper()
	cfg := gateway.Config{Blobs: blobs, Publisher: true, Aggregator: true, MaxBodySize: 1 << 20, Registerer: prometheus.NewRegistry()}
	if mod != nil {
		mod(&cfg)
	}
	h, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func do(h http.Handler, method, target string, body []byte, hdr ...string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// reason returns the Walrus reason of an error answer, checking that it is one Walrus's
// client parses (walrusError).
func reason(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	return walrusError(t, w)
}

func TestHandler(t *testing.T) {
	f := newFake()
	h := newHandler(t, f, nil)
	data := []byte("0123456789abcdefghij")
	w := do(h, http.MethodPut, "/v1/blobs?epochs=3&permanent=true", data)
	var res client.StoreResult
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &res) != nil || res.NewlyCreated == nil || res.NewlyCreated.BlobObject.Deletable {
		t.Fatalf("PUT: %d %s", w.Code, w.Body)
	}
	id := res.NewlyCreated.BlobObject.BlobID

	w = do(h, http.MethodGet, "/v1/blobs/"+id, nil)
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), data) {
		t.Fatalf("GET: %d %q", w.Code, w.Body)
	}
	for k, v := range map[string]string{"ETag": `"` + id + `"`, "X-Content-Type-Options": "nosniff",
		"Cache-Control": "public, max-age=86400, stale-while-revalidate=3600", "Content-Type": "application/octet-stream",
		"Accept-Ranges": "bytes", "Access-Control-Allow-Origin": "*"} {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	w = do(h, http.MethodGet, "/v1/blobs/"+id, nil, "Range", "bytes=5-9")
	if w.Code != http.StatusPartialContent || w.Body.String() != "56789" || w.Header().Get("Content-Range") != "bytes 5-9/20" {
		t.Fatalf("range: %d %q %q", w.Code, w.Body, w.Header().Get("Content-Range"))
	}
	w = do(h, http.MethodGet, "/v1/blobs/"+id, nil, "Range", "bytes=-3")
	if w.Code != http.StatusPartialContent || w.Body.String() != "hij" {
		t.Fatalf("suffix range: %d %q", w.Code, w.Body)
	}
	w = do(h, http.MethodGet, "/v1/blobs/"+id, nil, "Range", "bytes=50-60")
	if w.Code != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("unsatisfiable range: %d", w.Code)
	}
	w = do(h, http.MethodGet, "/v1/blobs/"+id, nil, "If-None-Match", `"`+id+`"`)
	if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Fatalf("If-None-Match: %d", w.Code)
	}
	w = do(h, http.MethodHead, "/v1/blobs/"+id, nil)
	if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "20" {
		t.Fatalf("HEAD: %d %q %v", w.Code, w.Body, w.Header())
	}
	// By object ID: attributes that are allowed headers become headers.
	w = do(h, http.MethodGet, "/v1/blobs/by-object-id/"+res.NewlyCreated.BlobObject.ID, nil)
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), data) || w.Header().Get("Content-Type") != "text/plain" || w.Header().Get("X-Secret") != "" {
		t.Fatalf("by object: %d %v", w.Code, w.Header())
	}

	unknown := redstuff.DeriveBlobID(1, 1, [32]byte{9}).String()
	for _, c := range []struct {
		method, target string
		body           []byte
		code           int
		reason         string
	}{
		{"GET", "/v1/blobs/" + unknown, nil, 404, "BLOB_NOT_FOUND"},
		{"GET", "/v1/blobs/not-a-blob-id", nil, 400, "INVALID_BLOB_ID"},
		{"GET", "/v1/blobs/by-object-id/0x1234", nil, 400, "INVALID_OBJECT_ID"},
		{"GET", "/v1/blobs/by-object-id/0x" + strings.Repeat("77", 32), nil, 404, "OBJECT_NOT_FOUND"},
		{"PUT", "/v1/blobs?epochs=0", data, 400, "INVALID_EPOCHS"},
		{"PUT", "/v1/blobs?epochs=-1", data, 400, "INVALID_EPOCHS"},
		{"PUT", "/v1/blobs?epochs=abc", data, 400, "INVALID_EPOCHS"},
		{"PUT", "/v1/blobs?epochs=54", data, 400, "EPOCHS_ABOVE_MAX"},
		{"PUT", "/v1/blobs?permanent=true&deletable=true", data, 400, "INVALID_ARGUMENT"},
		{"PUT", "/v1/blobs?force=maybe", data, 400, "INVALID_ARGUMENT"},
		{"PUT", "/v1/blobs", make([]byte, 1<<20+1), 403, "BODY_TOO_LARGE"},
		{"POST", "/v1/blobs", data, 405, "METHOD_NOT_ALLOWED"},
		{"DELETE", "/v1/blobs/" + unknown, nil, 405, "METHOD_NOT_ALLOWED"},
		{"GET", "/v2/nothing", nil, 404, "NOT_FOUND"},
	} {
		w := do(h, c.method, c.target, c.body)
		if w.Code != c.code || reason(t, w) != c.reason {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.target, w.Code, w.Body, c.code, c.reason)
		}
	}
	if f.stores != 1 {
		t.Fatalf("%d stores, want 1 (bad requests must store nothing)", f.stores)
	}

	// /status and the OpenAPI document.
	w = do(h, http.MethodGet, "/status", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"status":"ok"`) {
		t.Fatalf("status: %d %s", w.Code, w.Body)
	}
	w = do(h, http.MethodGet, "/v1/api", nil)
	var doc struct {
		OpenAPI string         `yaml:"openapi"`
		Paths   map[string]any `yaml:"paths"`
	}
	if w.Code != 200 || yaml.Unmarshal(w.Body.Bytes(), &doc) != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi: %d %v", w.Code, doc)
	}
	for _, p := range []string{"/v1/blobs", "/v1/blobs/{blobId}", "/v1/blobs/by-object-id/{objectId}", "/status", "/v1/api",
		"/v1/blobs/{blobId}/byte-range", "/v1alpha/blobs/{blobId}/stream", "/v1alpha/blobs/concat",
		"/v1/quilts", "/v1/quilts/{quiltId}/patches", "/v1/blobs/by-quilt-patch-id/{patchId}", "/v1/blobs/by-quilt-id/{quiltId}/{identifier}"} {
		if doc.Paths[p] == nil {
			t.Errorf("OpenAPI document lacks %s", p)
		}
	}
}

func TestBodyLimitDeclared(t *testing.T) {
	f := newFake()
	h := newHandler(t, f, func(c *gateway.Config) { c.MaxBodySize = 10 })
	// A declared length over the limit is refused before the body is read.
	req := httptest.NewRequest(http.MethodPut, "/v1/blobs", io.LimitReader(neverEnding{}, 1<<30))
	req.ContentLength = 1 << 30
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 403 || reason(t, w) != "BODY_TOO_LARGE" {
		t.Fatalf("declared 1 GiB: %d", w.Code)
	}
	// An undeclared (chunked) body is cut at the limit.
	req = httptest.NewRequest(http.MethodPut, "/v1/blobs", io.LimitReader(neverEnding{}, 11))
	req.ContentLength = -1
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 403 || f.stores != 0 {
		t.Fatalf("chunked 11 bytes: %d, %d stores", w.Code, f.stores)
	}
}

type neverEnding struct{}

func (neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

func TestConcurrencyLimit(t *testing.T) {
	f := newFake()
	f.block = make(chan struct{})
	f.entered = make(chan struct{}, 2)
	h := newHandler(t, f, func(c *gateway.Config) { c.MaxConcurrentStores = 2; c.MaxConcurrentReads = 1 })
	srv := httptest.NewServer(h)
	defer srv.Close()
	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v1/blobs", bytes.NewReader([]byte{byte(i)}))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	// Both stores hold their slots: a third is refused at once.
	<-f.entered
	<-f.entered
	w := do(h, http.MethodPut, "/v1/blobs", []byte("third"))
	if w.Code != 429 || reason(t, w) != "TOO_MANY_REQUESTS" {
		t.Fatalf("third store: %d %s", w.Code, w.Body)
	}
	close(f.block)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Fatalf("blocked store answered %d", c)
		}
	}
}

func TestPublisherOnly(t *testing.T) {
	h := newHandler(t, newFake(), func(c *gateway.Config) { c.Aggregator = false })
	id := redstuff.DeriveBlobID(1, 1, [32]byte{9}).String()
	if w := do(h, http.MethodGet, "/v1/blobs/"+id, nil); w.Code != 405 && w.Code != 404 {
		t.Fatalf("GET on a publisher: %d", w.Code)
	}
	h = newHandler(t, newFake(), func(c *gateway.Config) { c.Publisher = false })
	if w := do(h, http.MethodPut, "/v1/blobs", []byte("x")); w.Code != 404 && w.Code != 405 {
		t.Fatalf("PUT on an aggregator: %d", w.Code)
	}
	if _, err := gateway.New(gateway.Config{Blobs: newFake()}); err == nil {
		t.Fatal("a handler serving nothing was accepted")
	}
}

func FuzzHandler(f *testing.F) {
	f.Add("PUT", "/v1/blobs?epochs=2&permanent=true", []byte("hello"), "")
	f.Add("GET", "/v1/blobs/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", []byte(nil), "bytes=0-3")
	f.Add("GET", "/v1/blobs/by-object-id/0x00", []byte(nil), "")
	f.Add("HEAD", "/status", []byte(nil), "bytes=-1")
	f.Add("GET", "/v1/api", []byte(nil), "")
	f.Add("OPTIONS", "/v1/blobs", []byte(nil), "")
	f.Add("GET", "/v1/blobs/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA?strict_consistency_check=true", []byte(nil), "bytes=5-1")
	f.Add("POST", "/v1alpha/blobs/concat", []byte(`{"ids":["0x01"],"skip_consistency_check":true}`), "")
	f.Add("GET", "/v1/blobs/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/byte-range?start=1&length=9", []byte(nil), "")
	fake := newFake()
	h := newHandler(f, fake, func(c *gateway.Config) { c.MaxBodySize = 4096 })
	// Something to read.
	do(h, http.MethodPut, "/v1/blobs", []byte("stored"))
	f.Fuzz(func(t *testing.T, method, target string, body []byte, rng string) {
		if !validMethod(method) || !strings.HasPrefix(target, "/") {
			return
		}
		req, err := http.NewRequest(method, "http://gateway"+target, bytes.NewReader(body))
		if err != nil {
			return
		}
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code < 200 || w.Code > 599 || w.Code == 500 {
			t.Fatalf("%s %s: %d %s", method, target, w.Code, w.Body)
		}
		if w.Code >= 400 && method != http.MethodHead {
			walrusError(t, w) // every error answer is one Walrus's client parses
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// TestGatewayNetwork stores and reads through the handler over HTTP on a real in-process
// network: 0 B, 1 B and 1 MiB, with Range reads, alreadyCertified, and a node down.
func TestGatewayNetwork(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	c, err := net.NewClient(net.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	// A read buffer smaller than the 1 MiB blobs (rows of about 31 KiB with 100 shards):
	// they are streamed a row at a time.
	h := newHandler(t, gateway.SDK{Client: c}, func(cfg *gateway.Config) {
		cfg.MaxBodySize, cfg.MaxReadBytes, cfg.ReadWindow = 8<<20, 128<<10, 1
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	put := func(data []byte, query string) (int, client.StoreResult) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v1/blobs"+query, bytes.NewReader(data))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var res client.StoreResult
		json.NewDecoder(resp.Body).Decode(&res)
		return resp.StatusCode, res
	}
	get := func(path string, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	r := rand.New(rand.NewPCG(1, 2))
	for round, down := range []bool{false, true} {
		if down {
			if err := net.Nodes[2].Stop(); err != nil {
				t.Fatal(err)
			}
		}
		for _, size := range []int{0, 1, 1 << 20} {
			data := make([]byte, size+round)
			for i := range data {
				data[i] = byte(r.Uint32())
			}
			code, res := put(data, "?epochs=2")
			if code != 200 || res.NewlyCreated == nil || !res.NewlyCreated.BlobObject.Deletable {
				t.Fatalf("PUT %d bytes (node down %v): %d %+v", len(data), down, code, res)
			}
			id := res.NewlyCreated.BlobObject.BlobID
			resp, got := get("/v1/blobs/" + id)
			if resp.StatusCode != 200 || !bytes.Equal(got, data) {
				t.Fatalf("GET %d bytes: %d, %d bytes", len(data), resp.StatusCode, len(got))
			}
			if l := len(data); l > 100 {
				// Ranges are read from the slivers that hold them (or, with the node
				// holding one down, from a whole read).
				for _, rg := range []struct {
					hdr    string
					lo, hi int
				}{
					{"bytes=10-99", 10, 100}, {"bytes=-50", l - 50, l},
					{fmt.Sprintf("bytes=%d-", l-7), l - 7, l}, {fmt.Sprintf("bytes=%d-%d", l/2, l/2+70000), l / 2, min(l/2+70001, l)},
				} {
					resp, got = get("/v1/blobs/"+id, "Range", rg.hdr)
					want := fmt.Sprintf("bytes %d-%d/%d", rg.lo, rg.hi-1, l)
					if resp.StatusCode != 206 || !bytes.Equal(got, data[rg.lo:rg.hi]) || resp.Header.Get("Content-Range") != want {
						t.Fatalf("range %s of %d bytes: %d, Content-Range %q (want %q), body equal %v",
							rg.hdr, l, resp.StatusCode, resp.Header.Get("Content-Range"), want, bytes.Equal(got, data[rg.lo:rg.hi]))
					}
				}
				resp, got = get("/v1/blobs/"+id, "Range", "bytes=0-4,20-29")
				if resp.StatusCode != 206 || !bytes.Contains(got, data[0:5]) || !bytes.Contains(got, data[20:30]) {
					t.Fatalf("multi-range: %d", resp.StatusCode)
				}
				resp, _ = get("/v1/blobs/"+id, "Range", fmt.Sprintf("bytes=%d-", l))
				if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
					t.Fatalf("range past the end: %d", resp.StatusCode)
				}
			}
			// HEAD answers the size from the metadata, without a body.
			req, _ := http.NewRequest(http.MethodHead, srv.URL+"/v1/blobs/"+id, nil)
			hresp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			hresp.Body.Close()
			if hresp.StatusCode != 200 || hresp.ContentLength != int64(len(data)) {
				t.Fatalf("HEAD of %d bytes: %d, Content-Length %d", len(data), hresp.StatusCode, hresp.ContentLength)
			}
			resp, got = get("/v1/blobs/by-object-id/" + res.NewlyCreated.BlobObject.ID)
			if resp.StatusCode != 200 || !bytes.Equal(got, data) {
				t.Fatalf("by object ID: %d", resp.StatusCode)
			}
		}
	}
	data := []byte("permanent")
	if code, res := put(data, "?epochs=3&permanent=true"); code != 200 || res.NewlyCreated == nil || res.NewlyCreated.BlobObject.Deletable {
		t.Fatalf("permanent: %d %+v", code, res)
	}
	code, res := put(data, "?epochs=2")
	if code != 200 || res.AlreadyCertified == nil {
		t.Fatalf("again: %d %+v", code, res)
	}
	// send_object_to: the new Blob object ends up owned by that address; share: shared.
	to := chain.Address{0xaa, 0xbb}
	code, res = put([]byte("sent to someone"), "?epochs=2&send_object_to="+to.String())
	if code != 200 || res.NewlyCreated == nil {
		t.Fatalf("send_object_to: %d %+v", code, res)
	}
	obj, err := chain.ParseObjectID(res.NewlyCreated.BlobObject.ID)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := c.BlobObject(context.Background(), obj); err != nil || b.Owner != to {
		t.Fatalf("send_object_to: the blob object is owned by %v (%v), want %s", b, err, to)
	}
	code, res = put([]byte("shared"), "?epochs=2&share=true")
	if code != 200 || res.NewlyCreated == nil || res.NewlyCreated.SharedBlobObject != res.NewlyCreated.BlobObject.ID {
		t.Fatalf("share: %d %+v", code, res)
	}
	obj, _ = chain.ParseObjectID(res.NewlyCreated.SharedBlobObject)
	if b, err := c.BlobObject(context.Background(), obj); err != nil || !b.Shared {
		t.Fatalf("share: the blob object is %+v (%v), want it shared", b, err)
	}
	// A shared blob object is read by its object ID as an owned one is.
	if resp, got := get("/v1/blobs/by-object-id/" + res.NewlyCreated.SharedBlobObject); resp.StatusCode != 200 || string(got) != "shared" {
		t.Fatalf("shared blob by object ID: %d %q", resp.StatusCode, got)
	}
	// The consistency flags: strict re-encodes the whole blob, skip checks only each
	// sliver; both read the same bytes. Both at once is refused.
	for _, q := range []string{"?strict_consistency_check=true", "?skip_consistency_check=true"} {
		resp, got := get("/v1/blobs/by-object-id/" + res.NewlyCreated.SharedBlobObject + q)
		if resp.StatusCode != 200 || string(got) != "shared" {
			t.Fatalf("read %s: %d %q", q, resp.StatusCode, got)
		}
	}
	// A strict read holds the whole blob: one larger than the read buffer (128 KiB
	// here) is refused with Walrus's BLOB_TOO_LARGE, and read without the flag.
	for _, size := range []int{100 << 10, 200 << 10} {
		big := make([]byte, size)
		for i := range big {
			big[i] = byte(r.Uint32())
		}
		code, res := put(big, "?epochs=2")
		if code != 200 || res.NewlyCreated == nil {
			t.Fatalf("PUT %d bytes: %d", size, code)
		}
		for _, q := range []string{"?strict_consistency_check=true", "?skip_consistency_check=true"} {
			resp, got := get("/v1/blobs/" + res.NewlyCreated.BlobObject.BlobID + q)
			if q == "?strict_consistency_check=true" && size > 128<<10 {
				if resp.StatusCode != 403 {
					t.Fatalf("strict read of %d bytes over a read buffer of 128 KiB: %d", size, resp.StatusCode)
				}
				continue
			}
			if resp.StatusCode != 200 || !bytes.Equal(got, big) {
				t.Fatalf("read %d bytes %s: %d, %d bytes", size, q, resp.StatusCode, len(got))
			}
		}
	}
	unknown := redstuff.DeriveBlobID(1, 1, [32]byte{9}).String()
	if resp, _ := get("/v1/blobs/" + unknown); resp.StatusCode != 404 {
		t.Fatalf("unknown: %d", resp.StatusCode)
	}
	if code, _ := put(data, "?epochs=1000"); code != 400 {
		t.Fatalf("epochs beyond the maximum: %d", code)
	}
	// Two nodes down: no quorum, 504 INSUFFICIENT_CONFIRMATIONS (Walrus's pair).
	if err := net.Nodes[3].Stop(); err != nil {
		t.Fatal(err)
	}
	if code, _ := put([]byte("no quorum"), ""); code != 504 {
		t.Fatalf("no quorum: %d", code)
	}
}
