package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/gateway"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// failing is a fakeBlobs whose calls fail with the errors set.
type failing struct {
	*fakeBlobs
	storeErr, openErr, objectErr error
}

func (b failing) Store(ctx context.Context, data []byte, opts client.StoreOptions) (*client.StoreResult, error) {
	if b.storeErr != nil {
		return nil, b.storeErr
	}
	return b.fakeBlobs.Store(ctx, data, opts)
}

func (b failing) Open(ctx context.Context, id redstuff.BlobID, opts client.ReadOptions) (gateway.Stream, error) {
	if b.openErr != nil {
		return nil, b.openErr
	}
	return b.fakeBlobs.Open(ctx, id, opts)
}

func (b failing) BlobObject(ctx context.Context, id chain.ObjectID) (*chain.Blob, error) {
	if b.objectErr != nil {
		return nil, b.objectErr
	}
	return b.fakeBlobs.BlobObject(ctx, id)
}

// nonWalrus are the only (code, status) pairs outside Walrus's table the gateway may
// send: answers Walrus sends without a JSON body.
var nonWalrus = map[int]string{http.StatusMethodNotAllowed: "UNIMPLEMENTED", http.StatusPreconditionFailed: "FAILED_PRECONDITION"}

// walrusError checks that w is an error answer a Walrus client parses (its
// api::errors::Status: code, status, message and one ErrorInfo with reason, domain and a
// metadata object, nothing else) with a pair of Walrus's table, and that it is a row of
// the gateway's error table. It returns the reason.
func walrusError(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error *struct {
			Code    int    `json:"code"`
			Status  string `json:"status"`
			Message string `json:"message"`
			Details []struct {
				Type     string          `json:"@type"`
				Reason   string          `json:"reason"`
				Domain   string          `json:"domain"`
				Metadata *map[string]any `json:"metadata"`
			} `json:"details"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Error == nil {
		t.Fatalf("%d: not a Walrus error body (%v): %s", w.Code, err, w.Body)
	}
	e := body.Error
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%d %s: Content-Type %q", w.Code, e.Status, ct)
	}
	if e.Code != w.Code || e.Message == "" || len(e.Details) != 1 {
		t.Fatalf("%d: code %d, message %q, %d details: %s", w.Code, e.Code, e.Message, len(e.Details), w.Body)
	}
	d := e.Details[0]
	if d.Type != "ErrorInfo" || d.Reason == "" || d.Metadata == nil || (d.Domain != gateway.Domain && d.Domain != gateway.AuthDomain) {
		t.Fatalf("%d: ErrorInfo %+v: %s", w.Code, d, w.Body)
	}
	if code, ok := gateway.WalrusStatus[e.Status]; (!ok || code != e.Code) && nonWalrus[e.Code] != e.Status {
		t.Errorf("(%d, %s) is not a pair of Walrus's table: %s", e.Code, e.Status, w.Body)
	}
	if !slices.ContainsFunc(gateway.ErrorTable(), func(s gateway.ErrorSpec) bool {
		return s.Code == e.Code && s.Status == e.Status && s.Reason == d.Reason && s.Domain == d.Domain
	}) {
		t.Errorf("(%d, %s, %s, %s) is not a row of the error table", e.Code, e.Status, d.Reason, d.Domain)
	}
	return d.Reason
}

// TestErrorTable: every row's (code, status) pair is in Walrus's table but the two
// answers Walrus sends without a body.
func TestErrorTable(t *testing.T) {
	for _, s := range gateway.ErrorTable() {
		if code, ok := gateway.WalrusStatus[s.Status]; (!ok || code != s.Code) && nonWalrus[s.Code] != s.Status {
			t.Errorf("%v: (%d, %s) is not in Walrus's table", s.Err, s.Code, s.Status)
		}
		if s.Reason == "" || (s.Domain != gateway.Domain && s.Domain != gateway.AuthDomain) {
			t.Errorf("%v: reason %q, domain %q", s.Err, s.Reason, s.Domain)
		}
		if got := gateway.SpecOf(fmt.Errorf("wrapped: %w", s.Err)); got.Reason != s.Reason && got.Code != s.Code {
			t.Errorf("%v wrapped maps to %+v", s.Err, got)
		}
	}
	if s := gateway.SpecOf(errors.New("something else")); s.Err != gateway.ErrInternal || s.Code != 500 {
		t.Errorf("an unknown error maps to %+v", s)
	}
}

// TestErrorAnswers is the attack of a client that gets every error of every route: each
// answer is one Walrus's client parses, with its pair and reason.
func TestErrorAnswers(t *testing.T) {
	f := newFake()
	data := []byte("0123456789")
	res, err := f.Store(context.Background(), data, client.StoreOptions{Epochs: 1})
	if err != nil {
		t.Fatal(err)
	}
	id, obj := res.NewlyCreated.BlobObject.BlobID, res.NewlyCreated.BlobObject.ID
	uncertified := chain.ObjectID{0xee}
	f.objects[uncertified] = &chain.Blob{ID: uncertified, BlobID: mustID(t, id)}
	unknown := redstuff.DeriveBlobID(1, 1, [32]byte{9}).String()
	unknownObj := chain.ObjectID{0xdd}.String()
	big := strings.Repeat(id+",", gateway.MaxConcatIDs+1)

	plain := func(c *gateway.Config) {}
	withAuth := func(c *gateway.Config) { c.Auth = &gateway.AuthConfig{Secret: testSecret, ExpiringSec: 3600} }
	for _, c := range []struct {
		name         string
		blobs        func() gateway.Blobs
		mod          func(*gateway.Config)
		method, path string
		body         []byte
		hdr          []string
		code         int
		reason       string
	}{
		// Paths and methods.
		{name: "unknown path", method: "GET", path: "/v2/blobs", code: 404, reason: "NOT_FOUND"},
		{name: "unknown op", method: "GET", path: "/v1/blobs/" + id + "/nope", code: 404, reason: "NOT_FOUND"},
		{name: "DELETE store", method: "DELETE", path: "/v1/blobs", code: 405, reason: "METHOD_NOT_ALLOWED"},
		{name: "POST read", method: "POST", path: "/v1/blobs/" + id, code: 405, reason: "METHOD_NOT_ALLOWED"},
		{name: "PUT by object", method: "PUT", path: "/v1/blobs/by-object-id/" + obj, code: 405, reason: "METHOD_NOT_ALLOWED"},
		{name: "POST byte-range", method: "POST", path: "/v1/blobs/" + id + "/byte-range?start=0&length=1", code: 405, reason: "METHOD_NOT_ALLOWED"},
		{name: "POST stream", method: "POST", path: "/v1alpha/blobs/" + id + "/stream", code: 405, reason: "METHOD_NOT_ALLOWED"},
		{name: "PUT concat", method: "PUT", path: "/v1alpha/blobs/concat", code: 405, reason: "METHOD_NOT_ALLOWED"},
		{name: "POST status", method: "POST", path: "/status", code: 405, reason: "METHOD_NOT_ALLOWED"},
		{name: "DELETE api", method: "DELETE", path: "/v1/api", code: 405, reason: "METHOD_NOT_ALLOWED"},
		{name: "read on a publisher", mod: func(c *gateway.Config) { c.Aggregator = false }, method: "GET", path: "/v1/blobs/" + id, code: 405, reason: "METHOD_NOT_ALLOWED"},
		{name: "store on an aggregator", mod: func(c *gateway.Config) { c.Publisher = false }, method: "PUT", path: "/v1/blobs", body: data, code: 405, reason: "METHOD_NOT_ALLOWED"},
		{name: "unhealthy", mod: func(c *gateway.Config) { c.Health = func(context.Context) error { return errors.New("chain down") } }, method: "GET", path: "/status", code: 503, reason: "UNHEALTHY"},

		// Reads: bad input.
		{name: "bad blob ID", method: "GET", path: "/v1/blobs/xyz", code: 400, reason: "INVALID_BLOB_ID"},
		{name: "bad blob ID, HEAD", method: "HEAD", path: "/v1/blobs/xyz", code: 400, reason: "INVALID_BLOB_ID"},
		{name: "bad blob ID, stream", method: "GET", path: "/v1alpha/blobs/xyz/stream", code: 400, reason: "INVALID_BLOB_ID"},
		{name: "bad blob ID, byte-range", method: "GET", path: "/v1/blobs/xyz/byte-range?start=0&length=1", code: 400, reason: "INVALID_BLOB_ID"},
		{name: "bad object ID", method: "GET", path: "/v1/blobs/by-object-id/0xzz", code: 400, reason: "INVALID_OBJECT_ID"},
		{name: "both checks", method: "GET", path: "/v1/blobs/" + id + "?strict_consistency_check=true&skip_consistency_check=true", code: 400, reason: "INVALID_CONSISTENCY_CHECK"},
		{name: "both checks by object", method: "GET", path: "/v1/blobs/by-object-id/" + obj + "?strict_consistency_check=true&skip_consistency_check=1", code: 400, reason: "INVALID_CONSISTENCY_CHECK"},
		{name: "both checks concat", method: "GET", path: "/v1alpha/blobs/concat?ids=" + id + "&strict_consistency_check=true&skip_consistency_check=true", code: 400, reason: "INVALID_CONSISTENCY_CHECK"},
		{name: "both checks concat POST", method: "POST", path: "/v1alpha/blobs/concat", body: []byte(`{"ids":["` + id + `"],"strict_consistency_check":true,"skip_consistency_check":true}`), code: 400, reason: "INVALID_CONSISTENCY_CHECK"},
		{name: "check not a bool", method: "GET", path: "/v1/blobs/" + id + "?strict_consistency_check=maybe", code: 400, reason: "INVALID_ARGUMENT"},
		{name: "check twice", method: "GET", path: "/v1/blobs/" + id + "?skip_consistency_check=true&skip_consistency_check=true", code: 400, reason: "INVALID_ARGUMENT"},
		{name: "range past the end", method: "GET", path: "/v1/blobs/" + id, hdr: []string{"Range", "bytes=50-60"}, code: 416, reason: "INVALID_BYTE_RANGE"},
		{name: "range past the end by object", method: "GET", path: "/v1/blobs/by-object-id/" + obj, hdr: []string{"Range", "bytes=10-"}, code: 416, reason: "INVALID_BYTE_RANGE"},
		{name: "malformed range", method: "GET", path: "/v1/blobs/" + id, hdr: []string{"Range", "bytes=x-y"}, code: 416, reason: "INVALID_BYTE_RANGE"},
		{name: "If-Match other", method: "GET", path: "/v1/blobs/" + id, hdr: []string{"If-Match", `"other"`}, code: 412, reason: "PRECONDITION_FAILED"},
		{name: "byte-range without length", method: "GET", path: "/v1/blobs/" + id + "/byte-range?start=0", code: 400, reason: "INVALID_BYTE_RANGE"},
		{name: "byte-range length 0", method: "GET", path: "/v1/blobs/" + id + "/byte-range?start=0&length=0", code: 400, reason: "INVALID_BYTE_RANGE"},
		{name: "byte-range overflow", method: "GET", path: "/v1/blobs/" + id + "/byte-range?start=18446744073709551615&length=2", code: 400, reason: "INVALID_BYTE_RANGE"},
		{name: "byte-range past the end", method: "GET", path: "/v1/blobs/" + id + "/byte-range?start=5&length=6", code: 400, reason: "INVALID_BYTE_RANGE"},
		{name: "concat without IDs", method: "GET", path: "/v1alpha/blobs/concat", code: 400, reason: "INVALID_ARGUMENT"},
		{name: "concat bad ID", method: "GET", path: "/v1alpha/blobs/concat?ids=nope", code: 400, reason: "INVALID_ID_FORMAT"},
		{name: "concat too many", method: "GET", path: "/v1alpha/blobs/concat?ids=" + big, code: 400, reason: "INVALID_ARGUMENT"},
		{name: "concat bad JSON", method: "POST", path: "/v1alpha/blobs/concat", body: []byte(`{"ids":`), code: 400, reason: "INVALID_ARGUMENT"},
		{name: "concat unknown field", method: "POST", path: "/v1alpha/blobs/concat", body: []byte(`{"ids":["` + id + `"],"x":1}`), code: 400, reason: "INVALID_ARGUMENT"},

		// Reads: not found and failures of the network.
		{name: "unknown blob", method: "GET", path: "/v1/blobs/" + unknown, code: 404, reason: "BLOB_NOT_FOUND"},
		{name: "unknown blob, HEAD", method: "HEAD", path: "/v1/blobs/" + unknown, code: 404, reason: "BLOB_NOT_FOUND"},
		{name: "unknown blob, stream", method: "GET", path: "/v1alpha/blobs/" + unknown + "/stream", code: 404, reason: "BLOB_NOT_FOUND"},
		{name: "unknown blob, byte-range", method: "GET", path: "/v1/blobs/" + unknown + "/byte-range?start=0&length=1", code: 404, reason: "BLOB_NOT_FOUND"},
		{name: "unknown blob, concat", method: "GET", path: "/v1alpha/blobs/concat?ids=" + id + "," + unknown, code: 404, reason: "BLOB_NOT_FOUND"},
		{name: "unknown object", method: "GET", path: "/v1/blobs/by-object-id/" + unknownObj, code: 404, reason: "OBJECT_NOT_FOUND"},
		{name: "unknown object, concat", method: "POST", path: "/v1alpha/blobs/concat", body: []byte(`{"ids":["` + unknownObj + `"]}`), code: 404, reason: "OBJECT_NOT_FOUND"},
		{name: "uncertified object", method: "GET", path: "/v1/blobs/by-object-id/" + uncertified.String(), code: 404, reason: "BLOB_NOT_FOUND"},
		{name: "unavailable", blobs: func() gateway.Blobs { return failing{fakeBlobs: f, openErr: client.ErrUnavailable} }, method: "GET", path: "/v1/blobs/" + id, code: 503, reason: "BLOB_UNAVAILABLE"},
		{name: "unavailable, stream", blobs: func() gateway.Blobs { return failing{fakeBlobs: f, openErr: client.ErrUnavailable} }, method: "GET", path: "/v1alpha/blobs/" + id + "/stream", code: 503, reason: "BLOB_UNAVAILABLE"},
		{name: "unavailable, byte-range", blobs: func() gateway.Blobs { return failing{fakeBlobs: f, openErr: client.ErrUnavailable} }, method: "GET", path: "/v1/blobs/" + id + "/byte-range?start=0&length=1", code: 503, reason: "BLOB_UNAVAILABLE"},
		{name: "unavailable, concat", blobs: func() gateway.Blobs { return failing{fakeBlobs: f, openErr: client.ErrUnavailable} }, method: "GET", path: "/v1alpha/blobs/concat?ids=" + id, code: 503, reason: "BLOB_UNAVAILABLE"},
		{name: "invalid blob", blobs: func() gateway.Blobs { return failing{fakeBlobs: f, openErr: client.ErrInvalidBlob} }, method: "GET", path: "/v1/blobs/" + id, code: 404, reason: "BLOB_INVALID"},
		{name: "invalid manifest", blobs: func() gateway.Blobs { return failing{fakeBlobs: f, openErr: client.ErrInvalidManifest} }, method: "GET", path: "/v1/blobs/" + id, code: 500, reason: "INVALID_MANIFEST"},
		{name: "read timeout", blobs: func() gateway.Blobs { return failing{fakeBlobs: f, openErr: context.DeadlineExceeded} }, method: "GET", path: "/v1/blobs/" + id, code: 504, reason: "TIMEOUT"},
		{name: "chain failure", blobs: func() gateway.Blobs { return failing{fakeBlobs: f, objectErr: errors.New("rpc: broken pipe")} }, method: "GET", path: "/v1/blobs/by-object-id/" + obj, code: 500, reason: "INTERNAL"},
		{name: "rows over the read buffer", mod: func(c *gateway.Config) { c.MaxReadBytes = 3 }, method: "GET", path: "/v1/blobs/" + id, code: 503, reason: "READ_BUFFER_TOO_SMALL"},
		{name: "strict read over the read buffer", mod: func(c *gateway.Config) { c.MaxReadBytes = 9 }, method: "GET", path: "/v1/blobs/" + id + "?strict_consistency_check=true", code: 403, reason: "BLOB_TOO_LARGE"},
		{name: "strict concat over the read buffer", mod: func(c *gateway.Config) { c.MaxReadBytes = 9 }, method: "GET", path: "/v1alpha/blobs/concat?strict_consistency_check=true&ids=" + id, code: 403, reason: "BLOB_TOO_LARGE"},

		// Stores.
		{name: "unknown parameter", method: "PUT", path: "/v1/blobs?color=red", body: data, code: 400, reason: "UNKNOWN_PARAMETER"},
		{name: "repeated parameter", method: "PUT", path: "/v1/blobs?epochs=1&epochs=2", body: data, code: 400, reason: "INVALID_ARGUMENT"},
		{name: "epochs 0", method: "PUT", path: "/v1/blobs?epochs=0", body: data, code: 400, reason: "INVALID_EPOCHS"},
		{name: "anonymous epochs over the cap", method: "PUT", path: "/v1/blobs?epochs=11", body: data, code: 400, reason: "EPOCHS_ABOVE_MAX"},
		{name: "bad address", method: "PUT", path: "/v1/blobs?send_object_to=0x12", body: data, code: 400, reason: "INVALID_ADDRESS"},
		{name: "bad encoding", method: "PUT", path: "/v1/blobs?encoding_type=RS1", body: data, code: 400, reason: "INVALID_ENCODING_TYPE"},
		{name: "bad bool", method: "PUT", path: "/v1/blobs?force=yes", body: data, code: 400, reason: "INVALID_ARGUMENT"},
		{name: "body too large", mod: func(c *gateway.Config) { c.MaxBodySize = 5 }, method: "PUT", path: "/v1/blobs", body: data, code: 403, reason: "BODY_TOO_LARGE"},
		{name: "from a web page", method: "PUT", path: "/v1/blobs", body: data, hdr: []string{"Origin", "https://evil.example"}, code: 403, reason: "BROWSER_STORE_REFUSED"},
		{name: "over the budget", mod: func(c *gateway.Config) { c.Anonymous.GlobalBudget = 1 }, method: "PUT", path: "/v1/blobs", body: data, code: 429, reason: "ANONYMOUS_BUDGET_EXHAUSTED"},
		{name: "no quorum", blobs: func() gateway.Blobs {
			return failing{fakeBlobs: f, storeErr: fmt.Errorf("%w: 3 of 10", client.ErrNoQuorum)}
		}, method: "PUT", path: "/v1/blobs", body: data, code: 504, reason: "INSUFFICIENT_CONFIRMATIONS"},
		{name: "blob too large for the system", blobs: func() gateway.Blobs { return failing{fakeBlobs: f, storeErr: client.ErrTooLarge} }, method: "PUT", path: "/v1/blobs", body: data, code: 403, reason: "BLOB_TOO_LARGE"},
		{name: "no funds", blobs: func() gateway.Blobs { return failing{fakeBlobs: f, storeErr: chain.ErrInsufficientFunds} }, method: "PUT", path: "/v1/blobs", body: data, code: 503, reason: "INSUFFICIENT_FUNDS"},
		{name: "store timeout", blobs: func() gateway.Blobs { return failing{fakeBlobs: f, storeErr: context.DeadlineExceeded} }, method: "PUT", path: "/v1/blobs", body: data, code: 504, reason: "TIMEOUT"},
		{name: "store cancelled", blobs: func() gateway.Blobs { return failing{fakeBlobs: f, storeErr: context.Canceled} }, method: "PUT", path: "/v1/blobs", body: data, code: 503, reason: "CANCELLED"},
		{name: "store internal", blobs: func() gateway.Blobs { return failing{fakeBlobs: f, storeErr: errors.New("disk on fire")} }, method: "PUT", path: "/v1/blobs", body: data, code: 500, reason: "INTERNAL"},
		{name: "no token", mod: withAuth, method: "PUT", path: "/v1/blobs", body: data, code: 401, reason: "MISSING_TOKEN"},
		{name: "bad token", mod: withAuth, method: "PUT", path: "/v1/blobs", body: data, hdr: []string{"Authorization", "Bearer a.b.c"}, code: 401, reason: "INVALID_TOKEN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var blobs gateway.Blobs = f
			if c.blobs != nil {
				blobs = c.blobs()
			}
			mod := c.mod
			if mod == nil {
				mod = plain
			}
			h := newHandler(t, blobs, mod)
			w := do(h, c.method, c.path, c.body, c.hdr...)
			if w.Code != c.code {
				t.Fatalf("%d, want %d: %s", w.Code, c.code, w.Body)
			}
			if got := walrusError(t, w); got != c.reason {
				t.Errorf("reason %s, want %s", got, c.reason)
			}
			switch w.Code {
			case 405:
				if _, ok := w.Header()["Allow"]; !ok {
					t.Errorf("405 without Allow")
				}
			case 416:
				if cr := w.Header().Get("Content-Range"); cr != fmt.Sprintf("bytes */%d", len(data)) {
					t.Errorf("416 with Content-Range %q", cr)
				}
			}
			for _, k := range []string{"ETag", "Cache-Control"} {
				if v := w.Header().Get(k); v != "" {
					t.Errorf("error answer with %s %q", k, v)
				}
			}
		})
	}
}

// TestReadConsistency: the two flags reach the SDK's read as its consistency check, on
// every route that takes them; HEAD reads only metadata, so it never reads strictly.
func TestReadConsistency(t *testing.T) {
	f := newFake()
	h := newHandler(t, f, nil)
	res, err := f.Store(context.Background(), []byte("0123456789"), client.StoreOptions{Epochs: 1})
	if err != nil {
		t.Fatal(err)
	}
	id, obj := res.NewlyCreated.BlobObject.BlobID, res.NewlyCreated.BlobObject.ID
	for _, c := range []struct {
		method, path string
		body         []byte
		want         []redstuff.Consistency
	}{
		{"GET", "/v1/blobs/" + id, nil, []redstuff.Consistency{redstuff.ConsistencyDefault}},
		{"GET", "/v1/blobs/" + id + "?skip_consistency_check=true", nil, []redstuff.Consistency{redstuff.ConsistencySkip}},
		{"GET", "/v1/blobs/" + id + "?strict_consistency_check=true&skip_consistency_check=false&cachebust=1", nil,
			// The metadata first (to reserve the size), then the strict read.
			[]redstuff.Consistency{redstuff.ConsistencyDefault, redstuff.ConsistencyStrict}},
		{"HEAD", "/v1/blobs/" + id + "?strict_consistency_check=true", nil, []redstuff.Consistency{redstuff.ConsistencyDefault}},
		{"GET", "/v1/blobs/by-object-id/" + obj + "?skip_consistency_check=true", nil, []redstuff.Consistency{redstuff.ConsistencySkip}},
		{"GET", "/v1/blobs/by-object-id/" + obj + "?strict_consistency_check=true", nil, []redstuff.Consistency{redstuff.ConsistencyDefault, redstuff.ConsistencyStrict}},
		{"GET", "/v1alpha/blobs/concat?skip_consistency_check=true&ids=" + id + "," + obj, nil, []redstuff.Consistency{redstuff.ConsistencySkip, redstuff.ConsistencySkip}},
		{"POST", "/v1alpha/blobs/concat", []byte(`{"ids":["` + id + `","` + id + `"],"strict_consistency_check":true}`),
			// Both opened for their metadata, then each strictly just before it is sent.
			[]redstuff.Consistency{redstuff.ConsistencyDefault, redstuff.ConsistencyDefault, redstuff.ConsistencyStrict, redstuff.ConsistencyStrict}},
	} {
		f.mu.Lock()
		f.opened = nil
		f.mu.Unlock()
		w := do(h, c.method, c.path, c.body)
		f.mu.Lock()
		got := f.opened
		f.mu.Unlock()
		if w.Code != 200 || !slices.Equal(got, c.want) {
			t.Errorf("%s %s: %d, opened with %v, want %v", c.method, c.path, w.Code, got, c.want)
		}
	}
}

// TestContentType: the Content-Type of a read follows Walrus's rules on every read
// route.
func TestContentType(t *testing.T) {
	f := newFake()
	h := newHandler(t, f, nil)
	res, err := f.Store(context.Background(), []byte("0123456789"), client.StoreOptions{Epochs: 1})
	if err != nil {
		t.Fatal(err)
	}
	id, obj := res.NewlyCreated.BlobObject.BlobID, res.NewlyCreated.BlobObject.ID
	routes := []string{"/v1/blobs/" + id, "/v1alpha/blobs/" + id + "/stream", "/v1/blobs/" + id + "/byte-range?start=1&length=3", "/v1alpha/blobs/concat?ids=" + id}
	for _, c := range []struct {
		name   string
		method string
		hdr    []string
		want   string
	}{
		{"nothing", "GET", nil, "application/octet-stream"},
		{"Accept without wildcard", "GET", []string{"Accept", "image/png"}, "image/png"},
		{"Accept with a wildcard", "GET", []string{"Accept", "text/html, */*;q=0.8"}, "application/octet-stream"},
		{"Content-Type of a GET", "GET", []string{"Content-Type", "text/css"}, "text/css"},
		{"Accept wins", "GET", []string{"Accept", "image/png", "Content-Type", "text/css"}, "image/png"},
		{"Content-Type of a HEAD", "HEAD", []string{"Content-Type", "text/css"}, "application/octet-stream"},
	} {
		for _, path := range routes {
			w := do(h, c.method, path, nil, c.hdr...)
			if w.Code != 200 || w.Header().Get("Content-Type") != c.want {
				t.Errorf("%s, %s %s: %d, Content-Type %q, want %q", c.name, c.method, path, w.Code, w.Header().Get("Content-Type"), c.want)
			}
		}
	}
	// By object ID the blob's content-type attribute applies unless Accept or the
	// request's Content-Type set one (Walrus's attributes overwrite nothing).
	for hdr, want := range map[string]string{"": "text/plain", "image/png": "image/png"} {
		var h2 []string
		if hdr != "" {
			h2 = []string{"Accept", hdr}
		}
		w := do(h, "GET", "/v1/blobs/by-object-id/"+obj, nil, h2...)
		if w.Code != 200 || w.Header().Get("Content-Type") != want {
			t.Errorf("by object, Accept %q: %d, Content-Type %q, want %q", hdr, w.Code, w.Header().Get("Content-Type"), want)
		}
	}
}
