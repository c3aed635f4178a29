package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/gateway"
	"github.com/walrus-go/walrus/internal/manifest"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestStreamRoutesNetwork serves a file stored as chunks, and the byte-range, stream and
// concat routes, from a real network; then a manifest whose hash is wrong (the body is
// cut, never complete with 200) and one whose chunk was deleted (an error status before
// any byte).
func TestStreamRoutesNetwork(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	c, err := net.NewClient(net.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h := newHandler(t, gateway.SDK{Client: c}, func(cfg *gateway.Config) {
		cfg.MaxReadBytes, cfg.ReadWindow = 1<<20, 64<<10
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(method, path string, body []byte) (*http.Response, []byte, error) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}
	r := rand.New(rand.NewPCG(3, 4))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	const chunk = 150_000
	data := random(3*chunk + 77)
	res, err := c.StoreFile(ctx, bytes.NewReader(data), client.StoreOptions{Epochs: 2, ChunkSize: chunk})
	if err != nil || res.File == nil {
		t.Fatalf("StoreFile: %v %+v", err, res)
	}
	id := res.BlobID()

	resp, got, err := get("GET", "/v1/blobs/"+id, nil)
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, data) || resp.ContentLength != int64(len(data)) {
		t.Fatalf("GET file: %d, %v, %d bytes, equal %v", resp.StatusCode, err, len(got), bytes.Equal(got, data))
	}
	resp, got, _ = get("GET", "/v1alpha/blobs/"+id+"/stream", nil)
	if resp.StatusCode != 200 || !bytes.Equal(got, data) || resp.Header.Get("X-Walrus-Streaming") != "true" {
		t.Fatalf("stream: %d, %d bytes", resp.StatusCode, len(got))
	}
	// Byte ranges, across chunk boundaries too.
	for _, rg := range [][2]int{{0, 1}, {chunk - 5, 10}, {chunk - 100, chunk + 200}, {len(data) - 77, 77}} {
		resp, got, _ = get("GET", fmt.Sprintf("/v1/blobs/%s/byte-range?start=%d&length=%d", id, rg[0], rg[1]), nil)
		wantETag := fmt.Sprintf(`"%s-%d-%d"`, id, rg[0], rg[1])
		if resp.StatusCode != 200 || !bytes.Equal(got, data[rg[0]:rg[0]+rg[1]]) || resp.Header.Get("ETag") != wantETag {
			t.Fatalf("byte-range %v: %d, %d bytes, ETag %q", rg, resp.StatusCode, len(got), resp.Header.Get("ETag"))
		}
	}
	for _, q := range []string{"start=0&length=0", "start=0", "length=5", fmt.Sprintf("start=%d&length=1", len(data)),
		"start=10&length=" + fmt.Sprint(len(data)), "start=0&length=1&extra=1", "start=-1&length=1", "start=1&length=18446744073709551615"} {
		resp, _, _ = get("GET", "/v1/blobs/"+id+"/byte-range?"+q, nil)
		if resp.StatusCode != 400 {
			t.Fatalf("byte-range ?%s: %d, want 400", q, resp.StatusCode)
		}
	}
	if resp, _, _ = get("GET", "/v1/blobs/"+id+"/other", nil); resp.StatusCode != 404 {
		t.Fatalf("unknown sub-path: %d", resp.StatusCode)
	}

	// Concat: blob IDs and object IDs, by GET and POST.
	a, b := random(1000), random(70_000)
	ra, err := c.Store(ctx, a, client.StoreOptions{Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := c.Store(ctx, b, client.StoreOptions{Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	ids := ra.NewlyCreated.BlobObject.ID + "," + rb.BlobID() + "," + id
	want := append(append(bytes.Clone(a), b...), data...)
	resp, got, _ = get("GET", "/v1alpha/blobs/concat?ids="+ids, nil)
	sum := sha256.Sum256([]byte(ids))
	if resp.StatusCode != 200 || !bytes.Equal(got, want) || resp.Header.Get("ETag") != `"`+base64.RawURLEncoding.EncodeToString(sum[:])+`"` {
		t.Fatalf("concat GET: %d, %d bytes, ETag %q", resp.StatusCode, len(got), resp.Header.Get("ETag"))
	}
	body := fmt.Sprintf(`{"ids": [%q, %q], "strict_consistency_check": true}`, rb.BlobID(), ra.BlobID())
	resp, got, _ = get("POST", "/v1alpha/blobs/concat", []byte(body))
	if resp.StatusCode != 200 || !bytes.Equal(got, append(bytes.Clone(b), a...)) {
		t.Fatalf("concat POST: %d, %d bytes", resp.StatusCode, len(got))
	}
	unknown := redstuff.DeriveBlobID(1, 1, [32]byte{9}).String()
	for _, tt := range []struct {
		method, path, body string
		code               int
	}{
		{"GET", "/v1alpha/blobs/concat", "", 400},
		{"GET", "/v1alpha/blobs/concat?ids=nonsense", "", 400},
		{"GET", "/v1alpha/blobs/concat?ids=" + ra.BlobID() + "," + unknown, "", 404},
		{"GET", "/v1alpha/blobs/concat?ids=" + ra.BlobID() + "&bogus=1", "", 400},
		{"POST", "/v1alpha/blobs/concat", `{"ids": []}`, 400},
		{"POST", "/v1alpha/blobs/concat", `{"ids": ["x"], "extra": 1}`, 400},
		{"POST", "/v1alpha/blobs/concat", `{"ids": [` + strings.Repeat(`"a",`, gateway.MaxConcatIDs) + `"a"]}`, 400},
		{"PUT", "/v1alpha/blobs/concat", "", 405},
	} {
		if resp, _, _ := get(tt.method, tt.path, []byte(tt.body)); resp.StatusCode != tt.code {
			t.Fatalf("%s %s %s: %d, want %d", tt.method, tt.path, tt.body, resp.StatusCode, tt.code)
		}
	}

	// A manifest whose hash is wrong: the status line is out before the end, so the body
	// is cut short (a transfer error), never a complete 200.
	raw, err := c.Read(ctx, mustID(t, id), client.ReadOptions{Raw: true})
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	m.Hash[5] ^= 0x40
	badRaw, _ := m.Encode()
	bad, err := c.Store(ctx, badRaw, client.StoreOptions{Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/blobs/" + bad.BlobID(), "/v1alpha/blobs/" + bad.BlobID() + "/stream", "/v1alpha/blobs/concat?ids=" + bad.BlobID()} {
		resp, got, err = get("GET", path, nil)
		if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) || len(got) >= len(data) {
			t.Fatalf("%s with a wrong hash: status %d, %d of %d bytes, read error %v", path, resp.StatusCode, len(got), len(data), err)
		}
	}

	// A chunk deleted: every route answers an error status naming the chunk, no body.
	gone, _ := chain.ParseObjectID(res.File.Chunks[1].Object)
	if err := c.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/blobs/" + id, "/v1alpha/blobs/" + id + "/stream", "/v1/blobs/" + id + "/byte-range?start=0&length=10", "/v1alpha/blobs/concat?ids=" + id} {
		resp, got, _ = get("GET", path, nil)
		if resp.StatusCode != 503 || !bytes.Contains(got, []byte("chunk 1 of 4")) || !bytes.Contains(got, []byte(res.File.Chunks[1].BlobID)) {
			t.Fatalf("%s with chunk 1 deleted: %d %s", path, resp.StatusCode, got)
		}
	}
}

func mustID(t *testing.T, s string) redstuff.BlobID {
	t.Helper()
	id, err := redstuff.ParseBlobID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
