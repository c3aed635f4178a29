package portal

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/quilt"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// fakeChain and fakeBlobs stand in for the chain and the storage network: the portal's own
// logic (resolution, verification, headers) is what these tests exercise.
type fakeChain struct {
	sites     map[chain.ObjectID]chain.Site
	resources map[chain.ObjectID]map[string]chain.Resource
	names     map[string]chain.ObjectID
}

func (f *fakeChain) Site(_ context.Context, id chain.ObjectID) (chain.Site, error) {
	s, ok := f.sites[id]
	if !ok {
		return s, chain.ErrUnknownObject
	}
	return s, nil
}

func (f *fakeChain) Resource(_ context.Context, site chain.ObjectID, p string) (chain.Resource, error) {
	r, ok := f.resources[site][p]
	if !ok {
		return r, chain.ErrNotFound
	}
	return r, nil
}

func (f *fakeChain) SiteName(_ context.Context, name string) (chain.SiteName, error) {
	id, ok := f.names[name]
	if !ok {
		return chain.SiteName{}, chain.ErrNotFound
	}
	return chain.SiteName{Name: name, Site: id}, nil
}

type fakeBlobs struct{ blobs map[redstuff.BlobID][]byte }

func (f *fakeBlobs) ReadBlob(_ context.Context, id redstuff.BlobID) ([]byte, error) {
	b, ok := f.blobs[id]
	if !ok {
		return nil, io.ErrUnexpectedEOF
	}
	return b, nil
}

func (f *fakeBlobs) ReadPatch(_ context.Context, id redstuff.BlobID, patch quilt.InternalID) ([]byte, error) {
	b, ok := f.blobs[id]
	if !ok {
		return nil, io.ErrUnexpectedEOF
	}
	// The fake stores patches as whole blobs keyed by the quilt ID with the start column in
	// the first byte.
	b2, ok := f.blobs[redstuff.BlobID{id[0], byte(patch.Start)}]
	if ok {
		return b2, nil
	}
	return b, nil
}

type testSite struct {
	chain *fakeChain
	blobs *fakeBlobs
	id    chain.ObjectID
	next  byte
}

func newTestSite() *testSite {
	id := chain.ObjectID{0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	t := &testSite{
		chain: &fakeChain{sites: map[chain.ObjectID]chain.Site{}, resources: map[chain.ObjectID]map[string]chain.Resource{},
			names: map[string]chain.ObjectID{}},
		blobs: &fakeBlobs{blobs: map[redstuff.BlobID][]byte{}},
		id:    id,
		next:  1,
	}
	t.chain.sites[id] = chain.Site{ID: id, Name: "test", Routes: []chain.Route{{Pattern: "/app/*", Path: "/index.html"}}}
	t.chain.resources[id] = map[string]chain.Resource{}
	return t
}

func (t *testSite) put(p, content string, headers ...chain.Attribute) {
	blob := redstuff.BlobID{t.next}
	t.next++
	t.blobs.blobs[blob] = []byte(content)
	t.chain.resources[t.id][p] = chain.Resource{Path: p, BlobID: blob, Hash: sha256.Sum256([]byte(content)),
		Size: uint64(len(content)), Headers: headers}
}

func (t *testSite) portal(tb testing.TB) *Portal {
	p, err := New(Config{Chain: t.chain, Blobs: t.blobs})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func get(t *testing.T, h http.Handler, method, url string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestResolve(t *testing.T) {
	s := newTestSite()
	s.put("/index.html", "<h1>home</h1>")
	s.put("/docs/index.html", "docs")
	s.put("/style.css", "body{}", chain.Attribute{Key: "cache-control", Value: "max-age=60"},
		chain.Attribute{Key: "set-cookie", Value: "a=b; Domain=localhost"}, chain.Attribute{Key: "x-custom", Value: "1"})
	s.chain.names["blog"] = s.id
	p := s.portal(t)
	host := "http://" + Base36(s.id) + ".localhost:8080"
	for _, tc := range []struct {
		url, want string
		status    int
	}{
		{host + "/", "<h1>home</h1>", 200},
		{host + "/index.html", "<h1>home</h1>", 200},
		{host + "/docs/", "docs", 200},
		{host + "/docs", "docs", 200},
		{host + "/app/settings/1", "<h1>home</h1>", 200},
		{host + "/app", "<h1>home</h1>", 200},
		{host + "/style.css", "body{}", 200},
		{host + "/../style.css", "body{}", 200},
		{"http://blog.localhost:8080/style.css", "body{}", 200},
		{host + "/missing", "no such resource", 404},
		{"http://nosuchname.localhost/", "no site of that name", 404},
		{"http://" + Base36(chain.ObjectID{1, 2, 3}) + ".localhost/", "no such site", 404},
		{"http://UPPER_case.localhost/", "neither a site name nor a base36", 400},
		{"http://a.b.localhost/", "not a site address", 400},
		{"http://example.com/", "not a site address", 400},
		{"http://localhost:8080/", "Walrus Sites portal", 200},
	} {
		r := get(t, p, "GET", tc.url)
		if b := body(t, r); r.StatusCode != tc.status || !strings.Contains(b, tc.want) {
			t.Errorf("GET %s: %d %q, want %d containing %q", tc.url, r.StatusCode, b, tc.status, tc.want)
		}
	}
	r := get(t, p, "GET", host+"/style.css")
	if got := r.Header.Get("Cache-Control"); got != "max-age=60" {
		t.Errorf("stored cache-control not sent: %q", got)
	}
	if r.Header.Get("Set-Cookie") != "" {
		t.Error("a stored set-cookie header reached the browser")
	}
	if r.Header.Get("X-Custom") != "1" || r.Header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("headers: %v", r.Header)
	}
	etag := r.Header.Get("ETag")
	if want := `"` + hexHash("body{}") + `"`; etag != want {
		t.Errorf("ETag %s, want %s", etag, want)
	}
	if r := get(t, p, "GET", host+"/style.css", "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", r.StatusCode)
	}
	// Revalidation needs no read: the ETag is the hash on chain.
	blob := s.chain.resources[s.id]["/style.css"].BlobID
	delete(s.blobs.blobs, blob)
	if r := get(t, p, "GET", host+"/style.css", "If-None-Match", `"other", `+etag); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match without the content at hand: %d, want 304", r.StatusCode)
	}
	if r := get(t, p, "GET", host+"/style.css"); r.StatusCode != http.StatusBadGateway {
		t.Errorf("GET with the content gone: %d, want 502", r.StatusCode)
	}
	s.blobs.blobs[blob] = []byte("body{}")
	if r := get(t, p, "GET", host+"/style.css", "Range", "bytes=1-2"); r.StatusCode != 206 || body(t, r) != "od" {
		t.Errorf("Range: %d", r.StatusCode)
	}
	if r := get(t, p, "POST", host+"/"); r.StatusCode != 405 {
		t.Errorf("POST: %d, want 405", r.StatusCode)
	}
	if r := get(t, p, "HEAD", host+"/"); r.StatusCode != 200 || body(t, r) != "" {
		t.Errorf("HEAD: %d", r.StatusCode)
	}
}

func hexHash(s string) string {
	h := sha256.Sum256([]byte(s))
	const digits = "0123456789abcdef"
	var b strings.Builder
	for _, c := range h {
		b.WriteByte(digits[c>>4])
		b.WriteByte(digits[c&15])
	}
	return b.String()
}

func TestSite404(t *testing.T) {
	s := newTestSite()
	s.chain.sites[s.id] = chain.Site{ID: s.id}
	s.put("/404.html", "<p>lost</p>")
	p := s.portal(t)
	r := get(t, p, "GET", "http://"+Base36(s.id)+".localhost/nothing/here")
	if b := body(t, r); r.StatusCode != 404 || b != "<p>lost</p>" {
		t.Fatalf("%d %q, want the site's 404 page with 404", r.StatusCode, b)
	}
}

// TestHashMismatchAttack: a storage network (or aggregator) that returns other bytes than
// the site stored, of the same length or not, must not get them to the browser.
func TestHashMismatchAttack(t *testing.T) {
	s := newTestSite()
	s.put("/index.html", "<h1>genuine</h1>")
	r := s.chain.resources[s.id]["/index.html"]
	p := s.portal(t)
	url := "http://" + Base36(s.id) + ".localhost/"
	for _, evil := range []string{"<h1>EVIL!!!</h1>", "<script>steal()</script>", ""} {
		s.blobs.blobs[r.BlobID] = []byte(evil)
		resp := get(t, p, "GET", url)
		b := body(t, resp)
		if resp.StatusCode != http.StatusBadGateway || strings.Contains(b, "EVIL") || strings.Contains(b, "steal") {
			t.Errorf("tampered content %q: %d %q", evil, resp.StatusCode, b)
		}
		if !strings.Contains(b, "does not match") {
			t.Errorf("page does not say why: %q", b)
		}
	}
}

func TestRange(t *testing.T) {
	s := newTestSite()
	s.put("/index.html", "0123456789")
	r := s.chain.resources[s.id]["/index.html"]
	r.HasRange, r.Start, r.End, r.Size = true, 2, 5, 3
	r.Hash = sha256.Sum256([]byte("234"))
	s.chain.resources[s.id]["/index.html"] = r
	resp := get(t, s.portal(t), "GET", "http://"+Base36(s.id)+".localhost/")
	if b := body(t, resp); resp.StatusCode != 200 || b != "234" {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
	r.End = 50
	s.chain.resources[s.id]["/index.html"] = r
	if resp := get(t, s.portal(t), "GET", "http://"+Base36(s.id)+".localhost/"); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("range past the blob: %d", resp.StatusCode)
	}
}

func TestTooLarge(t *testing.T) {
	s := newTestSite()
	s.put("/index.html", "0123456789")
	p, err := New(Config{Chain: s.chain, Blobs: s.blobs, MaxResourceSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	if r := get(t, p, "GET", "http://"+Base36(s.id)+".localhost/"); r.StatusCode != http.StatusBadGateway {
		t.Fatalf("%d", r.StatusCode)
	}
}

func TestRoute(t *testing.T) {
	routes := []chain.Route{{Pattern: "/*", Path: "/index.html"}, {Pattern: "/app/*", Path: "/app.html"},
		{Pattern: "/exact", Path: "/e.html"}}
	for _, tc := range []struct{ path, want string }{
		{"/x", "/index.html"}, {"/app/a/b", "/app.html"}, {"/app", "/app.html"}, {"/exact", "/e.html"},
		{"/exact/more", "/index.html"},
	} {
		if got, _ := Route(routes, tc.path); got != tc.want {
			t.Errorf("Route(%s) = %s, want %s", tc.path, got, tc.want)
		}
	}
	if _, ok := Route(nil, "/x"); ok {
		t.Error("no routes matched")
	}
}

func TestBase36(t *testing.T) {
	for _, id := range []chain.ObjectID{{}, {1}, {31: 1}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff}} {
		s := Base36(id)
		got, err := ParseBase36(s)
		if err != nil || got != id || len(s) > MaxBase36Len {
			t.Errorf("%x: %q -> %x, %v", id, s, got, err)
		}
	}
	for _, bad := range []string{"", "ABC", "a-b", strings.Repeat("z", 51), strings.Repeat("z", 50)} {
		if _, err := ParseBase36(bad); err == nil {
			t.Errorf("ParseBase36(%q) accepted", bad)
		}
	}
}

func FuzzParseBase36(f *testing.F) {
	f.Add("0")
	f.Add(Base36(chain.ObjectID{1, 2, 3}))
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseBase36(s)
		if err != nil {
			return
		}
		if got, _ := ParseBase36(Base36(id)); got != id {
			t.Fatalf("%q: round trip %x != %x", s, got, id)
		}
	})
}
