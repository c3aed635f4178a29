package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/gateway"
	"github.com/walrus-go/walrus/internal/quilt"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testnet"
)

// fakeShards is the shard count of the fake's quilts.
const fakeShards = 10

func (f *fakeBlobs) StoreQuilt(ctx context.Context, patches []quilt.Patch, opts client.StoreOptions) (*client.QuiltStoreResult, error) {
	enc, _ := redstuff.NewConfig(fakeShards)
	q, err := quilt.Encode(enc, patches)
	if err != nil {
		return nil, err
	}
	res, err := f.Store(ctx, q.Blob, opts)
	if err != nil {
		return nil, err
	}
	id, _ := redstuff.ParseBlobID(res.BlobID())
	out := &client.QuiltStoreResult{BlobStoreResult: res}
	for _, p := range q.Index.Patches {
		out.StoredQuiltBlobs = append(out.StoredQuiltBlobs, client.StoredQuiltPatch{Identifier: p.Identifier, QuiltPatchID: q.PatchID(id, p).String()})
	}
	return out, nil
}

// fakeQuilt serves a stored quilt from its columns and counts the columns read.
type fakeQuilt struct {
	cols  [][]byte
	index *quilt.Index
	read  *int
}

func (q *fakeQuilt) Index() *quilt.Index { return q.index }
func (q *fakeQuilt) ColumnSize() int64   { return int64(len(q.cols[0])) }
func (q *fakeQuilt) ReadPatch(p quilt.PatchInfo) (*quilt.Patch, error) {
	*q.read += p.End - p.Start
	return quilt.DecodePatch(q.cols[p.Start:p.End])
}

func (f *fakeBlobs) OpenQuilt(ctx context.Context, id redstuff.BlobID, opts client.ReadOptions) (gateway.QuiltReader, error) {
	f.mu.Lock()
	d, ok := f.blobs[id]
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", client.ErrNotFound, id)
	}
	enc, _ := redstuff.NewConfig(fakeShards)
	cols, err := quilt.Columns(enc, d)
	if err != nil {
		return nil, err
	}
	x, err := quilt.DecodeIndex(cols, len(cols))
	if err != nil {
		return nil, err
	}
	return &fakeQuilt{cols: cols, index: x, read: new(int)}, nil
}

// multipartBody builds a quilt store body: files (name → contents, in order) and, if
// not empty, a _metadata part.
func multipartBody(t *testing.T, files [][2]string, metadata string) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range files {
		w, err := mw.CreateFormFile(f[0], f[0]+".bin")
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f[1]))
	}
	if metadata != "" {
		mw.WriteField("_metadata", metadata)
	}
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

// TestQuiltEndpoints stores a quilt with PUT /v1/quilts and reads it back by patch ID,
// by identifier and as a list, with Walrus's headers.
func TestQuiltEndpoints(t *testing.T) {
	f := newFake()
	h := newHandler(t, f, nil)
	body, ct := multipartBody(t, [][2]string{{"index.html", "<h1>hi</h1>"}, {"dir/style.css", "body{}"}, {"empty", ""}},
		`[{"identifier": "index.html", "tags": {"content-type": "text/html", "version": 2}}, {"identifier": "unused", "tags": {}}]`)
	w := do(h, http.MethodPut, "/v1/quilts?epochs=2&quilt_version=V1", body, "Content-Type", ct)
	var res client.QuiltStoreResult
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &res) != nil || len(res.StoredQuiltBlobs) != 3 {
		t.Fatalf("PUT /v1/quilts: %d %s", w.Code, w.Body)
	}
	quiltID := res.BlobStoreResult.BlobID()
	ids := map[string]string{}
	for _, p := range res.StoredQuiltBlobs {
		ids[p.Identifier] = p.QuiltPatchID
	}

	w = do(h, http.MethodGet, "/v1/quilts/"+quiltID+"/patches", nil)
	var items []map[string]any
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &items) != nil || len(items) != 3 || items[0]["identifier"] != "dir/style.css" || items[0]["patch_id"] != ids["dir/style.css"] {
		t.Fatalf("patches: %d %s", w.Code, w.Body)
	}

	w = do(h, http.MethodGet, "/v1/blobs/by-quilt-patch-id/"+ids["index.html"], nil)
	if w.Code != 200 || w.Body.String() != "<h1>hi</h1>" || w.Header().Get("X-Quilt-Patch-Identifier") != "index.html" ||
		w.Header().Get("Content-Type") != "text/html" || w.Header().Get("Version") != "" || w.Header().Get("ETag") != `"`+ids["index.html"]+`"` {
		t.Fatalf("by patch ID: %d %q %v", w.Code, w.Body, w.Header())
	}
	w = do(h, http.MethodGet, "/v1/blobs/by-quilt-patch-id/"+ids["index.html"], nil, "If-None-Match", `"`+ids["index.html"]+`"`)
	if w.Code != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", w.Code)
	}
	w = do(h, http.MethodGet, "/v1/blobs/by-quilt-id/"+quiltID+"/dir/style.css", nil)
	if w.Code != 200 || w.Body.String() != "body{}" || w.Header().Get("X-Quilt-Patch-Identifier") != "dir/style.css" || w.Header().Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("by identifier: %d %q %v", w.Code, w.Body, w.Header())
	}
	w = do(h, http.MethodHead, "/v1/blobs/by-quilt-id/"+quiltID+"/empty", nil)
	if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "0" {
		t.Fatalf("HEAD empty: %d %v", w.Code, w.Header())
	}
}

// TestQuiltEndpointErrors: every bad request gets its row of the error table.
func TestQuiltEndpointErrors(t *testing.T) {
	f := newFake()
	h := newHandler(t, f, func(c *gateway.Config) { c.MaxBodySize = 4 << 20 })
	body, ct := multipartBody(t, [][2]string{{"a", "1"}}, "")
	w := do(h, http.MethodPut, "/v1/quilts?epochs=1", body, "Content-Type", ct)
	var res client.QuiltStoreResult
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &res) != nil {
		t.Fatalf("PUT: %d %s", w.Code, w.Body)
	}
	quiltID := res.BlobStoreResult.BlobID()
	plain := do(h, http.MethodPut, "/v1/blobs?epochs=1", []byte("plain blob"))
	var pr client.StoreResult
	json.Unmarshal(plain.Body.Bytes(), &pr)

	seven := make([][2]string, 7) // more than the 6 patches of a 10-shard quilt
	for i := range seven {
		seven[i] = [2]string{fmt.Sprintf("f%d", i), "x"}
	}
	tooMany, tooManyCT := multipartBody(t, seven, "")
	dup, dupCT := multipartBody(t, [][2]string{{"a", "1"}, {"a", "2"}}, "")
	badID, badIDCT := multipartBody(t, [][2]string{{"trailing ", "1"}}, "")
	none, noneCT := multipartBody(t, nil, `[]`)
	badMeta, badMetaCT := multipartBody(t, [][2]string{{"a", "1"}}, `{"identifier": "a"}`)
	dupMeta, dupMetaCT := multipartBody(t, [][2]string{{"a", "1"}}, `[{"identifier": "a"}, {"identifier": "a"}]`)
	big, bigCT := multipartBody(t, [][2]string{{"a", strings.Repeat("x", 4<<20)}}, "")
	// Two files of 1.5 MB need 6 columns each of at most 4·65534 bytes; 6 are free.
	huge, hugeCT := multipartBody(t, [][2]string{{"a", strings.Repeat("x", 1_500_000)}, {"b", strings.Repeat("y", 1_500_000)}}, "")
	for _, c := range []struct {
		name, method, path, ct string
		body                   []byte
		code                   int
		reason                 string
	}{
		{"not multipart", "PUT", "/v1/quilts?epochs=1", "application/octet-stream", []byte("x"), 400, "INVALID_BODY"},
		{"no boundary", "PUT", "/v1/quilts?epochs=1", "multipart/form-data", []byte("x"), 400, "INVALID_BODY"},
		{"broken multipart", "PUT", "/v1/quilts?epochs=1", "multipart/form-data; boundary=zz", []byte("--zz\r\nnot a header\r\n"), 400, "INVALID_BODY"},
		{"no files", "PUT", "/v1/quilts?epochs=1", noneCT, none, 400, "INVALID_BODY"},
		{"too many files", "PUT", "/v1/quilts?epochs=1", tooManyCT, tooMany, 400, "TOO_MANY_QUILT_PATCHES"},
		{"duplicate identifiers", "PUT", "/v1/quilts?epochs=1", dupCT, dup, 400, "DUPLICATE_QUILT_IDENTIFIER"},
		{"bad identifier", "PUT", "/v1/quilts?epochs=1", badIDCT, badID, 400, "INVALID_QUILT_IDENTIFIER"},
		{"metadata not a list", "PUT", "/v1/quilts?epochs=1", badMetaCT, badMeta, 400, "INVALID_BODY"},
		{"metadata duplicate", "PUT", "/v1/quilts?epochs=1", dupMetaCT, dupMeta, 400, "DUPLICATE_QUILT_IDENTIFIER"},
		{"body over the limit", "PUT", "/v1/quilts?epochs=1", bigCT, big, 403, "BODY_TOO_LARGE"},
		{"quilt too large for its symbols", "PUT", "/v1/quilts?epochs=1", hugeCT, huge, 403, "QUILT_TOO_LARGE"},
		{"unknown parameter", "PUT", "/v1/quilts?epochs=1&color=red", ct, body, 400, "UNKNOWN_PARAMETER"},
		{"unknown quilt version", "PUT", "/v1/quilts?epochs=1&quilt_version=V2", ct, body, 400, "INVALID_ARGUMENT"},
		{"bad quilt ID", "GET", "/v1/quilts/nope/patches", "", nil, 400, "INVALID_BLOB_ID"},
		{"unknown quilt", "GET", "/v1/quilts/" + strings.Repeat("A", 43) + "/patches", "", nil, 404, "BLOB_NOT_FOUND"},
		{"not a quilt", "GET", "/v1/quilts/" + pr.BlobID() + "/patches", "", nil, 400, "NOT_A_QUILT"},
		{"bad patch ID", "GET", "/v1/blobs/by-quilt-patch-id/nope", "", nil, 400, "INVALID_QUILT_PATCH_ID"},
		{"patch ID of no patch", "GET", "/v1/blobs/by-quilt-patch-id/" + quilt.PatchID{Quilt: mustID(t, quiltID), Internal: quilt.InternalID{Start: 3, End: 5}}.String(), "", nil, 404, "QUILT_PATCH_NOT_FOUND"},
		{"missing identifier", "GET", "/v1/blobs/by-quilt-id/" + quiltID + "/missing", "", nil, 404, "QUILT_PATCH_NOT_FOUND"},
		{"bad identifier in path", "GET", "/v1/blobs/by-quilt-id/" + quiltID + "/a%20", "", nil, 400, "INVALID_QUILT_IDENTIFIER"},
		{"bad quilt ID in path", "GET", "/v1/blobs/by-quilt-id/nope/a", "", nil, 400, "INVALID_BLOB_ID"},
		{"wrong method", "POST", "/v1/quilts", "", nil, 405, "METHOD_NOT_ALLOWED"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var hdr []string
			if c.ct != "" {
				hdr = []string{"Content-Type", c.ct}
			}
			w := do(h, c.method, c.path, c.body, hdr...)
			if w.Code != c.code {
				t.Fatalf("%d %s, want %d", w.Code, w.Body, c.code)
			}
			if got := reason(t, w); got != c.reason {
				t.Fatalf("reason %s, want %s (%s)", got, c.reason, w.Body)
			}
		})
	}
}

// TestQuiltNetwork stores a quilt with PUT /v1/quilts over HTTP on a real in-process
// network through the SDK and reads a patch back by patch ID and by identifier.
func TestQuiltNetwork(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	c, err := net.NewClient(net.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newHandler(t, gateway.SDK{Client: c}, nil))
	defer srv.Close()
	body, ct := multipartBody(t, [][2]string{{"index.html", "<p>quilt</p>"}, {"app.js", "console.log(1)"}},
		`[{"identifier": "index.html", "tags": {"content-type": "text/html"}}]`)
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v1/quilts?epochs=2", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var res client.QuiltStoreResult
	err = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if resp.StatusCode != 200 || err != nil || len(res.StoredQuiltBlobs) != 2 {
		t.Fatalf("PUT /v1/quilts: %d %v %+v", resp.StatusCode, err, res)
	}
	for _, path := range []string{
		"/v1/blobs/by-quilt-patch-id/" + res.StoredQuiltBlobs[1].QuiltPatchID,
		"/v1/blobs/by-quilt-id/" + res.BlobStoreResult.BlobID() + "/index.html",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "<p>quilt</p>" || resp.Header.Get("Content-Type") != "text/html" {
			t.Fatalf("GET %s: %d %q %v", path, resp.StatusCode, b, resp.Header)
		}
	}
}
