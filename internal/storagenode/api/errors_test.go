package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
)

// TestErrorTableIsWalrus checks every row of the error table: its (code, status) pair is
// in Walrus's status table (but the 405 of a wrong method), its domain is Walrus's, and
// (code, reason) pairs are unique so that the client can map answers back.
func TestErrorTableIsWalrus(t *testing.T) {
	seen := map[[2]string]bool{}
	for _, row := range errorTable {
		if code, ok := WalrusStatus[row.Status]; (!ok || code != row.Code) && row.Code != http.StatusMethodNotAllowed {
			t.Errorf("%v: (HTTP %d, %s) is not in Walrus's table", row.Err, row.Code, row.Status)
		}
		if row.Domain != Domain && row.Domain != GlobalDomain {
			t.Errorf("%v: domain %q", row.Err, row.Domain)
		}
		k := [2]string{http.StatusText(row.Code), row.Reason}
		if seen[k] {
			t.Errorf("%v: (HTTP %d, %s) is in the table twice", row.Err, row.Code, row.Reason)
		}
		seen[k] = true
		if ErrorFor(row.Code, row.Reason) != row.Err {
			t.Errorf("ErrorFor(%d, %s) = %v, want %v", row.Code, row.Reason, ErrorFor(row.Code, row.Reason), row.Err)
		}
	}
}

// TestEveryRouteErrorShape sends every route of the API requests that fail in the ways
// they can fail without a registered blob (bad blob ID, unknown blob, bad path elements,
// bad query, wrong method, oversized body) and checks that every error answer has
// Walrus's envelope, a (code, status) pair of Walrus's table and the row's domain, and
// open CORS headers; a wrong method gets 405 with an Allow header, an unknown path 404.
func TestEveryRouteErrorShape(t *testing.T) {
	a := newAPI(t, 10, []uint16{0, 3, 5, 9})
	b := a.Blob(2000, 1)
	id := b.Metadata.BlobID.String()
	reg := a.Blob(3000, 2)
	a.Register(reg, nodetest.ObjectID(2), 5, false)
	rid := reg.Metadata.BlobID.String()
	a.do("PUT", "/v1/blobs/"+rid+"/metadata", sn.MetadataBody(reg.Metadata))
	fill := func(path, blob string) string {
		r := strings.NewReplacer("{blob_id}", blob, "{sliver_pair_index}", "1", "{sliver_type}", "primary",
			"{object_id}", nodetest.ObjectID(1).String())
		return r.Replace(path)
	}
	reasons := map[string]bool{}
	check := func(what string, r response) {
		t.Helper()
		if r.code < 400 {
			return
		}
		reason, _ := r.errorReason(t)
		reasons[reason] = true
		if r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: HTTP %d without CORS headers", what, r.code)
		}
	}
	kinds := 0
	huge := make([]byte, batchSizeFor(a.Node, a.Node.NShards())+1)
	for _, rt := range a.h.endpoints() {
		var body []byte
		if rt.method == "PUT" || rt.method == "POST" {
			body = []byte{1, 2, 3}
		}
		for _, c := range []struct{ what, path string }{
			{"bad blob ID", fill(rt.path, "not-a-blob-id")},
			{"unknown blob", fill(rt.path, id)},
			{"bad pair index", strings.Replace(fill(rt.path, id), "/1/primary", "/70000/primary", 1)},
			{"pair index out of range", strings.Replace(fill(rt.path, rid), "/1/primary", "/10/primary", 1)},
			{"bad sliver type", strings.Replace(fill(rt.path, id), "primary", "tertiary", 1)},
			{"bad object ID", strings.Replace(fill(rt.path, id), nodetest.ObjectID(1).String(), "0xzz", 1)},
			{"bad query", fill(rt.path, id) + "?pending=maybe&wait_for_registration=perhaps&detailed=x&id=bad&targetSlivers=x"},
		} {
			r := a.do(rt.method, c.path, body)
			check(rt.method+" "+c.path+" ("+c.what+")", r)
			kinds++
		}
		// Oversized bodies.
		if body != nil {
			r := a.do(rt.method, fill(rt.path, rid), huge)
			check(rt.method+" "+rt.path+" (huge body)", r)
		}
		// Every method the path does not serve.
		for _, m := range []string{"GET", "PUT", "POST", "DELETE", "PATCH"} {
			r := a.do(m, fill(rt.path, id), nil)
			if r.code == http.StatusMethodNotAllowed {
				reason, _ := r.errorReason(t)
				if reason != "METHOD_NOT_ALLOWED" || !strings.Contains(r.header.Get("Allow"), rt.method) {
					t.Errorf("%s %s: 405 with reason %s, Allow %q", m, rt.path, reason, r.header.Get("Allow"))
				}
			}
			check(m+" "+rt.path, r)
		}
		// Preflight.
		r := a.do("OPTIONS", fill(rt.path, id), nil)
		if r.code/100 != 2 || r.header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.header.Get("Access-Control-Allow-Methods"), rt.method) {
			t.Errorf("OPTIONS %s: HTTP %d, CORS %v", rt.path, r.code, r.header)
		}
	}
	a.do("GET", "/v1/nothing-here", nil).expect(t, http.StatusNotFound, "NOT_FOUND")
	a.do("DELETE", "/v2/blobs", nil).expect(t, http.StatusNotFound, "NOT_FOUND")
	if kinds == 0 {
		t.Fatal("no route tested")
	}
	for _, want := range []string{"INVALID_BLOB_ID", "INVALID_OBJECT_ID", "MALFORMED_REQUEST", "NOT_REGISTERED",
		"METADATA_NOT_FOUND", "BODY_TOO_LARGE", "METHOD_NOT_ALLOWED", "INVALID_FILTER", "INDEX_OUT_OF_RANGE"} {
		if !reasons[want] {
			t.Errorf("no route answered %s; answered %v", want, reasons)
		}
	}
}

// TestCORSOnEveryMethod checks the CORS headers of successful PUT and POST answers, not
// only of reads, as browsers need them to read the answers of uploads.
func TestCORSOnEveryMethod(t *testing.T) {
	a := newAPI(t, 10, []uint16{0, 3, 5, 9})
	b := a.Blob(2000, 1)
	a.Register(b, nodetest.ObjectID(1), 5, false)
	r := a.do("PUT", "/v1/blobs/"+b.Metadata.BlobID.String()+"/slivers", batchBody(b.Metadata, a.OwnedPairs(b)))
	if r.code != http.StatusCreated || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("PUT: HTTP %d, headers %v", r.code, r.header)
	}
	r = a.do("GET", "/v1/health", nil)
	if r.code != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("GET: HTTP %d, headers %v", r.code, r.header)
	}
}

// TestOpenAPIDocument serves the OpenAPI document at /v1/api, which lists every route.
func TestOpenAPIDocument(t *testing.T) {
	a := newAPI(t, 10, []uint16{0, 3, 5, 9})
	r := a.do("GET", "/v1/api", nil)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if r.code != http.StatusOK || json.Unmarshal(r.body, &doc) != nil || doc.OpenAPI == "" {
		t.Fatalf("GET /v1/api: HTTP %d: %.200s", r.code, r.body)
	}
	for _, rt := range a.h.endpoints() {
		if doc.Paths[rt.path][strings.ToLower(rt.method)] == nil {
			t.Errorf("the OpenAPI document lacks %s %s", rt.method, rt.path)
		}
	}
}
