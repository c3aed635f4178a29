package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
)

// apiEnv is a node behind the API handler, called in-process (no sockets).
type apiEnv struct {
	*nodetest.Env
	h *Handler
}

func newAPI(t testing.TB, n int, shards []uint16, opts ...Options) *apiEnv {
	t.Helper()
	e := nodetest.New(t, n, shards)
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	o.noRecover = true
	return &apiEnv{Env: e, h: NewHandler(e.Node, o)}
}

type response struct {
	code   int
	body   []byte
	header http.Header
}

func (a *apiEnv) do(method, path string, body []byte) response {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	return response{rec.Code, rec.Body.Bytes(), rec.Header()}
}

func (r response) errorReason(t testing.TB) (string, ErrorStatus) {
	t.Helper()
	var body ErrorBody
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("HTTP %d: body is not an error envelope: %v: %s", r.code, err, r.body)
	}
	s := body.Error
	if s.Code != r.code || len(s.Details) != 1 || s.Details[0].Type != "ErrorInfo" || s.Details[0].Metadata == nil || s.Status == "" || s.Message == "" {
		t.Fatalf("malformed error envelope: %s", r.body)
	}
	checkWalrusPair(t, r.code, s.Status, s.Reason(), s.Details[0].Domain)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error answer with Content-Type %q", ct)
	}
	return s.Reason(), s
}

// checkWalrusPair checks that an error answer's (code, status) pair is in Walrus's table
// (or is the 405 of a wrong method) and that its (code, reason) is a row of ours, with
// that row's status and domain.
func checkWalrusPair(t testing.TB, code int, status, reason, domain string) {
	t.Helper()
	if want, ok := WalrusStatus[status]; (!ok || want != code) && !(code == http.StatusMethodNotAllowed && reason == "METHOD_NOT_ALLOWED") {
		t.Fatalf("(HTTP %d, %s) is not in Walrus's status table", code, status)
	}
	for _, row := range errorTable {
		if row.Code == code && row.Reason == reason {
			if row.Status != status || row.Domain != domain {
				t.Fatalf("(HTTP %d, %s) answered with status %s domain %s, the table says %s %s", code, reason, status, domain, row.Status, row.Domain)
			}
			return
		}
	}
	t.Fatalf("(HTTP %d, %s) is not a row of the error table", code, reason)
}

// expect checks an error answer's status code and reason.
func (r response) expect(t testing.TB, code int, reason string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("HTTP %d, want %d: %s", r.code, code, r.body)
	}
	if got, _ := r.errorReason(t); got != reason {
		t.Fatalf("reason %s, want %s: %s", got, reason, r.body)
	}
}

func successData[T any](t testing.TB, r response, code int) T {
	t.Helper()
	if r.code != code {
		t.Fatalf("HTTP %d, want %d: %s", r.code, code, r.body)
	}
	var body SuccessBody[T]
	if err := json.Unmarshal(r.body, &body); err != nil || body.Success.Code != code {
		t.Fatalf("malformed success envelope: %v: %s", err, r.body)
	}
	return body.Success.Data
}

func metaPath(id redstuff.BlobID) string { return "/v1/blobs/" + id.String() + "/metadata" }

func sliverURL(id redstuff.BlobID, pair int, a redstuff.Axis) string {
	return fmt.Sprintf("/v1/blobs/%s/slivers/%d/%s", id, pair, a)
}

func batchBody(m *redstuff.Metadata, pairs []*redstuff.SliverPair) []byte {
	segs, size := EncodeBatch(m, pairs)
	out := bytes.Join(segs, nil)
	if int64(len(out)) != size {
		panic("EncodeBatch size")
	}
	return out
}

// unchanged runs fn and fails if the store changed.
func (a *apiEnv) unchanged(t testing.TB, name string, fn func()) {
	t.Helper()
	before := a.Fingerprint(t)
	fn()
	if a.Fingerprint(t) != before {
		t.Fatalf("%s changed the store", name)
	}
}

const (
	badRequest = http.StatusBadRequest
	notFound   = http.StatusNotFound
)

func TestMetadataEndpoints(t *testing.T) {
	a := newAPI(t, 7, []uint16{0, 1, 2})
	b := a.Blob(3000, 1)
	id := b.Metadata.BlobID
	body := sn.MetadataBody(b.Metadata)
	if len(body) != a.Node.MetadataSize() {
		t.Fatalf("metadata body %d bytes, MetadataSize %d", len(body), a.Node.MetadataSize())
	}

	a.do("GET", metaPath(id), nil).expect(t, notFound, "METADATA_NOT_FOUND")
	a.do("GET", "/v1/blobs/not-a-blob-id/metadata", nil).expect(t, badRequest, "INVALID_BLOB_ID")
	if st := successData[string](t, a.do("GET", metaPath(id)+"/status", nil), 200); st != "nonexistent" {
		t.Fatalf("status %q", st)
	}
	a.unchanged(t, "metadata of an unregistered blob", func() {
		a.do("PUT", metaPath(id), body).expect(t, badRequest, "NOT_REGISTERED")
	})
	a.Register(b, nodetest.ObjectID(1), 3, false)

	other := a.Blob(3000, 2)
	tampered := bytes.Clone(body)
	tampered[len(tampered)-1] ^= 1
	rs := bytes.Clone(body)
	rs[1] = 0 // encoding type
	for _, c := range []struct {
		name   string
		body   []byte
		code   int
		reason string
	}{
		{"metadata of another blob", sn.MetadataBody(other.Metadata), badRequest, "INVALID_METADATA"},
		{"tampered hash", tampered, badRequest, "INVALID_METADATA"},
		{"RaptorQ", rs, badRequest, "UNSUPPORTED_ENCODING_TYPE"},
		{"garbage", []byte("garbage"), badRequest, "MALFORMED_REQUEST"},
		{"empty", []byte{}, badRequest, "MALFORMED_REQUEST"},
		{"trailing byte", append(bytes.Clone(body), 0)[:len(body)+1][:len(body)], 0, ""},
		{"one byte over", append(bytes.Clone(body), 0), http.StatusForbidden, "BODY_TOO_LARGE"},
		{"metadata for fewer shards", sn.MetadataBody(nodetest.EncodeBlob(t, nodetest.Encoding(t, 4), 100, 1).Metadata), badRequest, "INVALID_METADATA"},
	} {
		if c.code == 0 {
			continue
		}
		a.unchanged(t, c.name, func() {
			a.do("PUT", metaPath(id), c.body).expect(t, c.code, c.reason)
		})
	}

	if msg := successData[string](t, a.do("PUT", metaPath(id), body), http.StatusCreated); msg != "metadata successfully stored" {
		t.Fatalf("message %q", msg)
	}
	successData[string](t, a.do("PUT", metaPath(id), body), http.StatusOK)
	r := a.do("GET", metaPath(id), nil)
	if r.code != 200 || !bytes.Equal(r.body, b.Metadata.Bytes()) || r.header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("GET metadata: %d %q", r.code, r.header.Get("Content-Type"))
	}
	if r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatal("no CORS header on a read")
	}
	if st := successData[string](t, a.do("GET", metaPath(id)+"/status", nil), 200); st != "stored" {
		t.Fatalf("status %q", st)
	}

	// Expired and invalid blobs.
	b2 := a.Blob(100, 3)
	a.Register(b2, nodetest.ObjectID(2), 2, true)
	a.Apply(sn.EpochChangeStart{Epoch: 2, Shards: []uint16{0, 1, 2}})
	a.unchanged(t, "metadata of an expired blob", func() {
		a.do("PUT", metaPath(b2.Metadata.BlobID), sn.MetadataBody(b2.Metadata)).expect(t, badRequest, "BLOB_EXPIRED")
	})
	a.Apply(sn.BlobInvalid{Epoch: 2, BlobID: id})
	a.unchanged(t, "metadata of an invalid blob", func() {
		a.do("PUT", metaPath(id), body).expect(t, badRequest, "INVALID_BLOB")
	})
	a.do("GET", metaPath(id), nil).expect(t, notFound, "METADATA_NOT_FOUND")
}

func TestSliverEndpoints(t *testing.T) {
	a := newAPI(t, 10, []uint16{0, 1, 2, 3})
	b := a.Blob(20000, 4)
	id := b.Metadata.BlobID
	owned := a.OwnedPairs(b)
	p := owned[0]
	put := func(pair int, ax redstuff.Axis, body []byte) response {
		return a.do("PUT", sliverURL(id, pair, ax), body)
	}

	a.unchanged(t, "sliver of an unregistered blob", func() {
		put(p.Index, redstuff.Primary, p.Primary.Bytes()).expect(t, badRequest, "NOT_REGISTERED")
	})
	a.Register(b, nodetest.ObjectID(1), 5, false)
	a.unchanged(t, "sliver before metadata", func() {
		put(p.Index, redstuff.Primary, p.Primary.Bytes()).expect(t, badRequest, "METADATA_NOT_FOUND")
	})
	successData[string](t, a.do("PUT", metaPath(id), sn.MetadataBody(b.Metadata)), http.StatusCreated)

	unowned := a.UnownedPair(b)
	tampered := p.Primary
	tampered.Data = bytes.Clone(tampered.Data)
	tampered.Data[5] ^= 0x40
	short := p.Primary
	short.Data = short.Data[:len(short.Data)-2]
	otherSize := p.Primary
	otherSize.SymbolSize += 2
	wrongIndex := b.Pairs[owned[1].Index].Primary
	long := p.Primary
	long.Data = append(bytes.Clone(long.Data), 0, 0)
	for _, c := range []struct {
		name   string
		pair   string
		axis   string
		body   []byte
		code   int
		reason string
	}{
		{"hash mismatch", fmt.Sprint(p.Index), "primary", tampered.Bytes(), badRequest, "INVALID_SLIVER"},
		{"short sliver", fmt.Sprint(p.Index), "primary", short.Bytes(), badRequest, "INVALID_SLIVER"},
		{"wrong symbol size", fmt.Sprint(p.Index), "primary", otherSize.Bytes(), badRequest, "INVALID_SLIVER"},
		{"sliver of another pair", fmt.Sprint(p.Index), "primary", wrongIndex.Bytes(), badRequest, "INVALID_SLIVER"},
		{"primary sent as secondary", fmt.Sprint(p.Index), "secondary", p.Primary.Bytes(), http.StatusForbidden, "BODY_TOO_LARGE"},
		{"long sliver", fmt.Sprint(p.Index), "primary", long.Bytes(), http.StatusForbidden, "BODY_TOO_LARGE"},
		{"unowned shard", fmt.Sprint(unowned), "primary", b.Pairs[unowned].Primary.Bytes(), badRequest, "SHARD_NOT_ASSIGNED"},
		{"pair out of range", "10", "primary", p.Primary.Bytes(), badRequest, "INDEX_OUT_OF_RANGE"},
		{"pair not a number", "x", "primary", p.Primary.Bytes(), badRequest, "MALFORMED_REQUEST"},
		{"pair over u16", "65536", "primary", p.Primary.Bytes(), badRequest, "MALFORMED_REQUEST"},
		{"unknown sliver type", fmt.Sprint(p.Index), "tertiary", p.Primary.Bytes(), badRequest, "MALFORMED_REQUEST"},
		{"malformed BCS", fmt.Sprint(p.Index), "primary", []byte{0xff, 0xff}, badRequest, "MALFORMED_REQUEST"},
		{"trailing bytes", fmt.Sprint(p.Index), "primary", append(short.Bytes(), 1, 2), badRequest, "MALFORMED_REQUEST"},
	} {
		a.unchanged(t, c.name, func() {
			r := a.do("PUT", "/v1/blobs/"+id.String()+"/slivers/"+c.pair+"/"+c.axis, c.body)
			if testing.Verbose() {
				t.Logf("%s: %s", c.name, r.body)
			}
			r.expect(t, c.code, c.reason)
		})
	}

	a.do("GET", sliverURL(id, p.Index, redstuff.Primary), nil).expect(t, notFound, "SLIVER_NOT_FOUND")
	if st := successData[string](t, a.do("GET", sliverURL(id, p.Index, redstuff.Primary)+"/status", nil), 200); st != "nonexistent" {
		t.Fatalf("status %q", st)
	}
	if msg := successData[string](t, put(p.Index, redstuff.Primary, p.Primary.Bytes()), http.StatusCreated); msg != "sliver stored successfully" {
		t.Fatalf("message %q", msg)
	}
	successData[string](t, put(p.Index, redstuff.Primary, p.Primary.Bytes()), http.StatusOK)
	successData[string](t, put(p.Index, redstuff.Secondary, p.Secondary.Bytes()), http.StatusCreated)
	for _, ax := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
		r := a.do("GET", sliverURL(id, p.Index, ax), nil)
		want := p.Primary.Bytes()
		if ax == redstuff.Secondary {
			want = p.Secondary.Bytes()
		}
		if r.code != 200 || !bytes.Equal(r.body, want) {
			t.Fatalf("GET %s sliver: %d", ax, r.code)
		}
		if st := successData[string](t, a.do("GET", sliverURL(id, p.Index, ax)+"/status", nil), 200); st != "stored" {
			t.Fatalf("status %q", st)
		}
	}
	a.do("GET", sliverURL(id, unowned, redstuff.Primary), nil).expect(t, badRequest, "SHARD_NOT_ASSIGNED")
	a.do("GET", sliverURL(id, 10, redstuff.Primary), nil).expect(t, badRequest, "INDEX_OUT_OF_RANGE")
	a.do("GET", "/v1/blobs/"+id.String()+"/slivers/1/left", nil).expect(t, badRequest, "MALFORMED_REQUEST")
	a.do("GET", "/v1/blobs/"+id.String()+"/slivers/1/primary/status/x", nil).expect(t, notFound, "NOT_FOUND")

	// Locked shard, expired blob.
	lost := a.Node.OwnedShards()[0]
	lp := a.PairOf(b, lost)
	a.Apply(sn.EpochChangeStart{Epoch: 2, Shards: a.Node.OwnedShards()[1:]})
	a.unchanged(t, "sliver of a locked shard", func() {
		put(lp, redstuff.Primary, b.Pairs[lp].Primary.Bytes()).expect(t, badRequest, "SHARD_LOCKED")
	})
	a.Apply(sn.EpochChangeStart{Epoch: 5, Shards: a.Node.OwnedShards()})
	a.unchanged(t, "sliver of an expired blob", func() {
		put(owned[1].Index, redstuff.Primary, owned[1].Primary.Bytes()).expect(t, badRequest, "BLOB_EXPIRED")
	})
}

func TestBatchEndpoint(t *testing.T) {
	a := newAPI(t, 10, []uint16{1, 4, 7, 8})
	b := a.Blob(30000, 5)
	id := b.Metadata.BlobID
	owned := a.OwnedPairs(b)
	path := "/v1/blobs/" + id.String() + "/slivers"
	good := batchBody(b.Metadata, owned)

	a.unchanged(t, "batch of an unregistered blob", func() {
		a.do("PUT", path, good).expect(t, badRequest, "NOT_REGISTERED")
	})
	a.Register(b, nodetest.ObjectID(1), 5, false)

	tamperedPair := *owned[2]
	tamperedPair.Secondary.Data = bytes.Clone(tamperedPair.Secondary.Data)
	tamperedPair.Secondary.Data[0] ^= 1
	shortPair := *owned[1]
	shortPair.Primary.Data = shortPair.Primary.Data[:len(shortPair.Primary.Data)-2]
	swapped := *owned[1]
	swapped.Primary = owned[2].Primary
	replace := func(i int, p *redstuff.SliverPair) []*redstuff.SliverPair {
		out := append([]*redstuff.SliverPair(nil), owned...)
		out[i] = p
		return out
	}
	unowned := &b.Pairs[a.UnownedPair(b)]
	outOfRange := *owned[3]
	outOfRange.Index = 10
	otherMeta := a.Blob(30000, 6).Metadata
	descending := bytes.Join(func() [][]byte {
		segs, _ := EncodeBatch(b.Metadata, owned[:2])
		// Swap the two pairs: header, then per pair 5 segments.
		out := [][]byte{segs[0]}
		out = append(out, segs[6:11]...)
		return append(out, segs[1:6]...)
	}(), nil)
	for _, c := range []struct {
		name   string
		body   []byte
		code   int
		reason string
	}{
		{"hash mismatch in the last pair", batchBody(b.Metadata, replace(2, &tamperedPair)), badRequest, "INVALID_SLIVER"},
		{"short sliver", batchBody(b.Metadata, replace(1, &shortPair)), badRequest, "INVALID_SLIVER"},
		{"sliver of another pair", batchBody(b.Metadata, replace(1, &swapped)), badRequest, "INVALID_SLIVER"},
		{"unowned pair", batchBody(b.Metadata, replace(0, unowned)), badRequest, "SHARD_NOT_ASSIGNED"},
		{"pair out of range", batchBody(b.Metadata, replace(3, &outOfRange)), badRequest, "INDEX_OUT_OF_RANGE"},
		{"metadata of another blob", batchBody(otherMeta, owned), badRequest, "INVALID_METADATA"},
		{"truncated", good[:len(good)-1], badRequest, "MALFORMED_REQUEST"},
		{"truncated in metadata", good[:100], badRequest, "MALFORMED_REQUEST"},
		{"trailing byte", append(bytes.Clone(good), 0), badRequest, "MALFORMED_REQUEST"},
		{"pairs out of order", descending, badRequest, "MALFORMED_REQUEST"},
		{"duplicate pair", batchBody(b.Metadata, []*redstuff.SliverPair{owned[0], owned[0]}), badRequest, "MALFORMED_REQUEST"},
		{"more pairs than owned shards", batchBody(b.Metadata, append(owned, unowned)), badRequest, "MALFORMED_REQUEST"},
		{"garbage", []byte{1, 2, 3}, badRequest, "MALFORMED_REQUEST"},
		{"text", []byte("not bcs at all"), badRequest, "INVALID_METADATA"},
		{"empty", []byte{}, badRequest, "MALFORMED_REQUEST"},
		{"more bytes than the owned shards' slivers", make([]byte, maxBatchSize(a.Node)+1), http.StatusBadRequest, "SHARD_NOT_ASSIGNED"},
		{"huge", make([]byte, batchSizeFor(a.Node, a.Node.NShards())+1), http.StatusForbidden, "BODY_TOO_LARGE"},
	} {
		a.unchanged(t, c.name, func() {
			r := a.do("PUT", path, c.body)
			if testing.Verbose() {
				t.Logf("%s: %s", c.name, r.body)
			}
			r.expect(t, c.code, c.reason)
		})
	}
	// Without a Content-Length.
	a.unchanged(t, "chunked batch", func() {
		req := httptest.NewRequest("PUT", path, io.MultiReader(bytes.NewReader(good)))
		req.ContentLength = -1
		rec := httptest.NewRecorder()
		a.h.ServeHTTP(rec, req)
		response{rec.Code, rec.Body.Bytes(), rec.Header()}.expect(t, badRequest, "MALFORMED_REQUEST")
	})

	res := successData[sn.UploadResult](t, a.do("PUT", path, good), http.StatusCreated)
	if res != (sn.UploadResult{MetadataCreated: true, SliversCreated: 2 * len(owned)}) {
		t.Fatalf("result %+v", res)
	}
	res = successData[sn.UploadResult](t, a.do("PUT", path, good), http.StatusOK)
	if res != (sn.UploadResult{SliversPresent: 2 * len(owned)}) {
		t.Fatalf("repeated result %+v", res)
	}
	if _, err := a.Node.Confirm(id, sn.Persistence{}); err != nil {
		t.Fatalf("confirmation after the batch: %v", err)
	}
	// Metadata only (no pairs) is a valid batch.
	b2 := a.Blob(100, 7)
	a.Register(b2, nodetest.ObjectID(2), 5, false)
	res = successData[sn.UploadResult](t, a.do("PUT", "/v1/blobs/"+b2.Metadata.BlobID.String()+"/slivers", batchBody(b2.Metadata, nil)), http.StatusCreated)
	if !res.MetadataCreated || res.SliversCreated != 0 {
		t.Fatalf("metadata-only batch %+v", res)
	}
	// Locked shard.
	lost := a.Node.OwnedShards()[0]
	a.Apply(sn.EpochChangeStart{Epoch: 2, Shards: a.Node.OwnedShards()[1:]})
	b3 := a.Blob(5000, 8)
	a.Register(b3, nodetest.ObjectID(3), 5, false)
	a.unchanged(t, "batch with a locked shard", func() {
		a.do("PUT", "/v1/blobs/"+b3.Metadata.BlobID.String()+"/slivers",
			batchBody(b3.Metadata, []*redstuff.SliverPair{&b3.Pairs[a.PairOf(b3, lost)]})).expect(t, badRequest, "SHARD_LOCKED")
	})
}

func TestConfirmationEndpoints(t *testing.T) {
	a := newAPI(t, 7, []uint16{0, 3, 5})
	b := a.Blob(7000, 9)
	id := b.Metadata.BlobID
	obj := nodetest.ObjectID(4)
	perm := "/v1/blobs/" + id.String() + "/confirmation/permanent"
	del := "/v1/blobs/" + id.String() + "/confirmation/deletable/" + obj.String()

	a.do("GET", perm, nil).expect(t, badRequest, "NOT_REGISTERED")
	a.do("GET", del, nil).expect(t, badRequest, "NOT_REGISTERED")
	a.do("GET", "/v1/blobs/"+id.String()+"/confirmation/deletable/0x12", nil).expect(t, badRequest, "INVALID_OBJECT_ID")
	a.Register(b, obj, 5, true)
	a.Register(b, nodetest.ObjectID(5), 5, false)
	a.do("GET", perm, nil).expect(t, badRequest, "MISSING_SLIVERS")
	successData[sn.UploadResult](t, a.do("PUT", "/v1/blobs/"+id.String()+"/slivers", batchBody(b.Metadata, a.OwnedPairs(b))), http.StatusCreated)

	for _, c := range []struct {
		path string
		p    sn.Persistence
	}{{perm, sn.Persistence{}}, {del, sn.Persistence{Deletable: true, ObjectID: obj}}, {strings.Replace(del, "0x", "", 1), sn.Persistence{Deletable: true, ObjectID: obj}}} {
		r := a.do("GET", c.path, nil)
		// The JSON shape, field by field.
		var raw struct {
			Success struct {
				Code int `json:"code"`
				Data struct {
					Signed struct {
						SerializedMessage string `json:"serializedMessage"`
						Signature         string `json:"signature"`
					} `json:"signed"`
				} `json:"data"`
			} `json:"success"`
		}
		if err := json.Unmarshal(r.body, &raw); err != nil || r.code != 200 || raw.Success.Code != 200 {
			t.Fatalf("confirmation: %d %v %s", r.code, err, r.body)
		}
		msg, err1 := base64.StdEncoding.DecodeString(raw.Success.Data.Signed.SerializedMessage)
		sig, err2 := base64.StdEncoding.DecodeString(raw.Success.Data.Signed.Signature)
		if err1 != nil || err2 != nil || len(sig) != bls.SignatureSize {
			t.Fatalf("confirmation encoding: %v %v", err1, err2)
		}
		if want := sn.ConfirmationMessage(1, id, c.p); !bytes.Equal(msg, want) {
			t.Fatalf("message %x, want %x", msg, want)
		}
		s, err := bls.SignatureFromBytes(sig)
		if err != nil || bls.Verify(a.Key.PublicKey(), msg, s) != nil {
			t.Fatalf("signature does not verify: %v", err)
		}
	}
	a.Apply(sn.BlobInvalid{Epoch: 1, BlobID: id})
	a.do("GET", perm, nil).expect(t, badRequest, "INVALID_BLOB")
}

func symbolsPath(id redstuff.BlobID, query string) string {
	return "/v1/blobs/" + id.String() + "/recoverySymbols?" + query
}

func TestRecoverySymbolEndpoint(t *testing.T) {
	a := newAPI(t, 7, []uint16{0, 1, 2, 3, 4, 5, 6})
	b := a.Blob(7000, 10)
	id := b.Metadata.BlobID
	a.do("GET", symbolsPath(id, "id=1-2"), nil).expect(t, notFound, "METADATA_NOT_FOUND")
	a.Register(b, nodetest.ObjectID(1), 5, false)
	successData[sn.UploadResult](t, a.do("PUT", "/v1/blobs/"+id.String()+"/slivers", batchBody(b.Metadata, a.OwnedPairs(b))), http.StatusCreated)

	decode := func(r response) []redstuff.RecoverySymbol {
		t.Helper()
		if r.code != 200 {
			t.Fatalf("HTTP %d: %s", r.code, r.body)
		}
		syms, err := redstuff.DecodeSymbolList(r.body, 100, 1<<16)
		if err != nil {
			t.Fatal(err)
		}
		for i := range syms {
			if err := a.Enc.VerifyRecoverySymbol(b.Metadata, &syms[i]); err != nil {
				t.Fatal(err)
			}
		}
		return syms
	}
	syms := decode(a.do("GET", symbolsPath(id, "id=1-2&id=3-4&id=1-2"), nil))
	if len(syms) != 2 || syms[0].ID() != "1-2" || syms[1].ID() != "3-4" {
		t.Fatalf("by ID: %v", syms)
	}
	syms = decode(a.do("GET", symbolsPath(id, "id=1-2&proofAxis=secondary"), nil))
	if len(syms) != 1 || syms[0].Axis != redstuff.Primary {
		t.Fatalf("by ID from secondary slivers: %+v", syms)
	}
	syms = decode(a.do("GET", symbolsPath(id, "targetSliver=3&targetType=primary"), nil))
	if len(syms) != 7 {
		t.Fatalf("for a target: %d symbols", len(syms))
	}
	if _, err := a.Enc.RecoverSliver(b.Metadata, redstuff.Primary, 3, syms); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		query  string
		code   int
		reason string
	}{
		{"", badRequest, "NO_SYMBOLS_SPECIFIED"},
		{"id=1-2&targetSliver=1&targetType=primary", badRequest, "INVALID_FILTER"},
		{"id=12", badRequest, "INVALID_FILTER"},
		{"id=1-x", badRequest, "INVALID_FILTER"},
		{"id=1-7", badRequest, "INDEX_OUT_OF_RANGE"},
		{"targetSliver=7&targetType=primary", badRequest, "INDEX_OUT_OF_RANGE"},
		{"targetSliver=-1&targetType=primary", badRequest, "INVALID_FILTER"},
		{"targetSliver=1", badRequest, "INVALID_FILTER"},
		{"targetSliver=1&targetType=diagonal", badRequest, "INVALID_FILTER"},
		{"targetSliver=1&targetType=primary&proofAxis=primary", badRequest, "INVALID_FILTER"},
		{"id=1-2&proofAxis=up", badRequest, "INVALID_FILTER"},
		{"colour=red", badRequest, "INVALID_FILTER"},
		{"targetSliver=1&targetSliver=2&targetType=primary", badRequest, "INVALID_FILTER"},
		{"id=%zz", badRequest, "INVALID_FILTER"},
		{"id=" + strings.Repeat("1-1&id=", 7) + "1-1", badRequest, "INVALID_FILTER"},
	} {
		a.do("GET", symbolsPath(id, c.query), nil).expect(t, c.code, c.reason)
	}

	// A node holding one shard cannot serve symbols of other slivers.
	a2 := newAPI(t, 7, []uint16{2})
	a2.Register(b, nodetest.ObjectID(1), 5, false)
	successData[sn.UploadResult](t, a2.do("PUT", "/v1/blobs/"+id.String()+"/slivers", batchBody(b.Metadata, a2.OwnedPairs(b))), http.StatusCreated)
	p := a2.PairOf(b, 2)
	q := (p + 1) % 7
	a2.do("GET", symbolsPath(id, fmt.Sprintf("id=%d-%d", q, 7-1-q)), nil).expect(t, badRequest, "SYMBOL_NOT_PRESENT_AT_SHARDS")
}

func TestInconsistencyProofEndpoint(t *testing.T) {
	a := newAPI(t, 7, []uint16{0, 1, 2, 3, 4, 5, 6})
	b, bad := nodetest.Inconsistent(t, a.Enc, 5000, 11)
	id := b.Metadata.BlobID
	proof := nodetest.InconsistencyProof(t, a.Enc, b, bad)
	path := "/v1/blobs/" + id.String() + "/inconsistencyProof/primary"
	a.do("POST", path, proof.Bytes()).expect(t, badRequest, "METADATA_NOT_FOUND")
	a.Register(b, nodetest.ObjectID(1), 5, false)
	successData[sn.UploadResult](t, a.do("PUT", "/v1/blobs/"+id.String()+"/slivers", batchBody(b.Metadata, a.OwnedPairs(b))), http.StatusCreated)

	msg := successData[sn.SignedMessage](t, a.do("POST", path, proof.Bytes()), 200)
	if !bytes.Equal(msg.Message, sn.InvalidBlobMessage(1, id)) || msg.Verify(a.Key.PublicKey()) != nil {
		t.Fatalf("attestation %x", msg.Message)
	}

	shortProof := *proof
	shortProof.Symbols = proof.Symbols[:len(proof.Symbols)-1]
	tampered := *proof
	tampered.Symbols = append([]redstuff.RecoverySymbol(nil), proof.Symbols...)
	tampered.Symbols[0].Data = bytes.Clone(tampered.Symbols[0].Data)
	tampered.Symbols[0].Data[0] ^= 1
	var e bcs.Encoder
	e.U16(0)
	e.Len(1 << 20)
	for _, c := range []struct {
		name, axis string
		body       []byte
		code       int
		reason     string
	}{
		{"short proof", "primary", shortProof.Bytes(), badRequest, "INVALID_PROOF"},
		{"tampered symbol", "primary", tampered.Bytes(), badRequest, "INVALID_PROOF"},
		{"wrong axis", "secondary", proof.Bytes(), http.StatusForbidden, "BODY_TOO_LARGE"},
		{"garbage", "primary", []byte{1, 2, 3}, badRequest, "MALFORMED_REQUEST"},
		{"huge count", "primary", e.Out(), badRequest, "MALFORMED_REQUEST"},
		{"oversized", "primary", append(proof.Bytes(), make([]byte, 1000)...), http.StatusForbidden, "BODY_TOO_LARGE"},
		{"bad axis", "sideways", proof.Bytes(), badRequest, "MALFORMED_REQUEST"},
	} {
		a.unchanged(t, c.name, func() {
			a.do("POST", "/v1/blobs/"+id.String()+"/inconsistencyProof/"+c.axis, c.body).expect(t, c.code, c.reason)
		})
	}
}

func TestStatusAndHealthEndpoints(t *testing.T) {
	a := newAPI(t, 7, []uint16{0, 1})
	b := a.Blob(100, 12)
	id := b.Metadata.BlobID
	var raw json.RawMessage = successData[json.RawMessage](t, a.do("GET", "/v1/blobs/"+id.String()+"/status", nil), 200)
	if string(raw) != `"nonexistent"` {
		t.Fatalf("status %s", raw)
	}
	a.Register(b, nodetest.ObjectID(1), 5, false)
	st := successData[sn.BlobStatus](t, a.do("GET", "/v1/blobs/"+id.String()+"/status", nil), 200)
	if st.Kind != sn.BlobStatusPermanent || st.EndEpoch != 5 {
		t.Fatalf("status %+v", st)
	}
	a.do("GET", "/v1/blobs/x/status", nil).expect(t, badRequest, "INVALID_BLOB_ID")

	h := successData[sn.HealthInfo](t, a.do("GET", "/v1/health", nil), 200)
	if h.Epoch != 1 || h.ShardSummary.Owned != 2 || h.ShardDetail != nil || h.NodeStatus != "Active" {
		t.Fatalf("health %+v", h)
	}
	h = successData[sn.HealthInfo](t, a.do("GET", "/v1/health?detailed=true", nil), 200)
	if h.ShardDetail == nil || len(h.ShardDetail.Owned) != 2 {
		t.Fatalf("detailed health %+v", h)
	}
	a.do("GET", "/v1/health?detailed=maybe", nil).expect(t, badRequest, "MALFORMED_REQUEST")
	var raw2 map[string]map[string]map[string]any
	json.Unmarshal(a.do("GET", "/v1/health", nil).body, &raw2)
	for _, k := range []string{"uptime", "epoch", "publicKey", "nodeStatus", "eventProgress", "shardSummary"} {
		if _, ok := raw2["success"]["data"][k]; !ok {
			t.Fatalf("health has no %q: %v", k, raw2)
		}
	}
}

func TestRoutingAndLimits(t *testing.T) {
	// The only upload slot is never freed while an upload waits for it below, so the wait
	// always ends in 429; it is short only to keep the test fast.
	a := newAPI(t, 7, []uint16{0, 1}, Options{MaxConcurrentUploads: 1, MaxUploadBytes: 500, UploadSlotWait: time.Millisecond})
	b := a.Blob(100, 13)
	id := b.Metadata.BlobID
	a.Register(b, nodetest.ObjectID(1), 5, false)

	a.do("GET", "/v2/anything", nil).expect(t, notFound, "NOT_FOUND")
	a.do("DELETE", "/v2/anything", nil).expect(t, notFound, "NOT_FOUND")
	r := a.do("OPTIONS", metaPath(id), nil)
	if r.code != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "GET") || r.header.Get("Allow") != "GET, HEAD, PUT, OPTIONS" {
		t.Fatalf("preflight: %d %v", r.code, r.header)
	}
	// CORS is the same for every method and answer (Walrus's nodes send it everywhere).
	for _, m := range []string{"GET", "PUT", "POST", "DELETE"} {
		if r := a.do(m, metaPath(id), nil); r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Access-Control-Allow-Methods") != "GET, HEAD, PUT, POST, OPTIONS" {
			t.Fatalf("%s: CORS headers %v", m, r.header)
		}
	}

	// The metadata (473 bytes at n=7) fits the budget of 500 bytes; a batch never does.
	a.unchanged(t, "batch over the memory budget", func() {
		a.do("PUT", "/v1/blobs/"+id.String()+"/slivers", batchBody(b.Metadata, a.OwnedPairs(b))).expect(t, http.StatusForbidden, "BODY_TOO_LARGE")
	})
	// With the budget in use, the metadata must wait.
	a.h.memory.tryAcquire(100)
	a.unchanged(t, "upload while the budget is in use", func() {
		a.do("PUT", metaPath(id), sn.MetadataBody(b.Metadata)).expect(t, http.StatusTooManyRequests, "TOO_MANY_REQUESTS")
	})
	a.h.memory.release(100)
	// With the only upload slot taken, uploads get 429 and reads go on.
	a.h.uploads <- struct{}{}
	a.unchanged(t, "upload over the concurrency limit", func() {
		a.do("PUT", metaPath(id), sn.MetadataBody(b.Metadata)).expect(t, http.StatusTooManyRequests, "TOO_MANY_REQUESTS")
	})
	if r := a.do("GET", "/v1/health", nil); r.code != 200 {
		t.Fatalf("read while uploads are saturated: %d", r.code)
	}
	<-a.h.uploads
	successData[string](t, a.do("PUT", metaPath(id), sn.MetadataBody(b.Metadata)), http.StatusCreated)
	for i := 0; i < cap(a.h.all); i++ {
		a.h.all <- struct{}{}
	}
	a.do("GET", "/v1/health", nil).expect(t, http.StatusTooManyRequests, "TOO_MANY_REQUESTS")
}

// TestWrongMethod: a known path requested with a method it does not serve gets 405 with
// an Allow header naming the methods it does serve, not 404.
func TestWrongMethod(t *testing.T) {
	a := newAPI(t, 7, []uint16{0, 1})
	id := a.Blob(100, 1).Metadata.BlobID
	sliver := sliverURL(id, 0, redstuff.Primary)
	for _, c := range []struct {
		method, path, allow string
	}{
		{"DELETE", metaPath(id), "GET, HEAD, PUT, OPTIONS"},
		{"POST", metaPath(id), "GET, HEAD, PUT, OPTIONS"},
		{"PUT", metaPath(id) + "/status", "GET, HEAD, OPTIONS"},
		{"GET", "/v1/blobs/" + id.String() + "/slivers", "PUT, OPTIONS"},
		{"POST", sliver, "GET, HEAD, PUT, OPTIONS"},
		{"PATCH", sliver + "/status", "GET, HEAD, OPTIONS"},
		{"PUT", "/v1/blobs/" + id.String() + "/confirmation/permanent", "GET, HEAD, OPTIONS"},
		{"POST", "/v1/blobs/" + id.String() + "/recoverySymbols", "GET, HEAD, OPTIONS"},
		{"GET", "/v1/blobs/" + id.String() + "/inconsistencyProof/primary", "POST, OPTIONS"},
		{"DELETE", "/v1/health", "GET, HEAD, OPTIONS"},
		{"GET", syncPath, "POST, OPTIONS"},
		{"PUT", syncPath, "POST, OPTIONS"},
	} {
		r := a.do(c.method, c.path, nil)
		r.expect(t, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
		if got := r.header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
	if r := a.do("HEAD", "/v1/health", nil); r.code != http.StatusOK {
		t.Fatalf("HEAD of a GET endpoint: %d", r.code)
	}
	a.do("DELETE", "/v1/nothing/here", nil).expect(t, notFound, "NOT_FOUND")
}

func TestPanicBecomesInternalError(t *testing.T) {
	e := nodetest.New(t, 4, nil)
	h := NewHandler(e.Node, Options{})
	h.mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	response{rec.Code, rec.Body.Bytes(), rec.Header()}.expect(t, http.StatusInternalServerError, "INTERNAL_ERROR")
	if strings.Contains(rec.Body.String(), "boom") {
		t.Fatal("internal details leaked")
	}
}

func TestErrorTable(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range errorTable {
		key := fmt.Sprint(s.Code, s.Reason)
		if seen[key] {
			t.Errorf("(%d, %s) appears twice: the client could not map it back", s.Code, s.Reason)
		}
		seen[key] = true
		if ErrorFor(s.Code, s.Reason) != s.Err {
			t.Errorf("ErrorFor(%d, %s) != %v", s.Code, s.Reason, s.Err)
		}
		if SpecOf(fmt.Errorf("context: %w", s.Err)) != s {
			t.Errorf("SpecOf(wrapped %v) is another row", s.Err)
		}
	}
	if SpecOf(io.EOF).Reason != "INTERNAL_ERROR" {
		t.Error("unknown errors are not internal")
	}
}

// TestBatchPartlyHeld sends a batch whose pairs the node partly holds already,
// interleaved with new ones (the batch reads each sliver into the upload's write buffer
// and gives back those it holds), then a batch with a forged sliver after valid new ones,
// and checks that exactly the sent slivers are stored, byte for byte.
func TestBatchPartlyHeld(t *testing.T) {
	a := newAPI(t, 10, []uint16{0, 2, 3, 5, 6, 9})
	b := a.Blob(60000, 9)
	if len(a.OwnedPairs(b))%2 != 0 {
		t.Fatal("the test wants an even number of owned pairs")
	}
	id := b.Metadata.BlobID
	owned := a.OwnedPairs(b)
	path := "/v1/blobs/" + id.String() + "/slivers"
	a.Register(b, nodetest.ObjectID(1), 5, false)
	var first []*redstuff.SliverPair
	for i, p := range owned {
		if i%2 == 1 {
			first = append(first, p)
		}
	}
	res := successData[sn.UploadResult](t, a.do("PUT", path, batchBody(b.Metadata, first)), http.StatusCreated)
	if res != (sn.UploadResult{MetadataCreated: true, SliversCreated: 2 * len(first)}) {
		t.Fatalf("first batch %+v", res)
	}
	// A forged sliver in the last new pair: the valid new slivers before it are not
	// stored. (A held sliver is not read again, so a forged one would be skipped.)
	last := len(owned) - 2
	forged := *owned[last]
	forged.Primary.Data = bytes.Clone(forged.Primary.Data)
	forged.Primary.Data[len(forged.Primary.Data)-1] ^= 0x80
	withForged := append([]*redstuff.SliverPair(nil), owned...)
	withForged[last] = &forged
	a.unchanged(t, "forged sliver after held and new pairs", func() {
		a.do("PUT", path, batchBody(b.Metadata, withForged)).expect(t, badRequest, "INVALID_SLIVER")
	})
	res = successData[sn.UploadResult](t, a.do("PUT", path, batchBody(b.Metadata, owned)), http.StatusCreated)
	want := sn.UploadResult{SliversCreated: 2 * (len(owned) - len(first)), SliversPresent: 2 * len(first)}
	if res != want {
		t.Fatalf("second batch %+v, want %+v", res, want)
	}
	for _, p := range owned {
		for _, s := range []*redstuff.Sliver{&p.Primary, &p.Secondary} {
			got, err := a.Node.Sliver(id, p.Index, s.Axis)
			if err != nil || !bytes.Equal(got, s.Bytes()) {
				t.Fatalf("pair %d %s sliver: stored %d bytes (%v), differs from the sent one", p.Index, s.Axis, len(got), err)
			}
		}
	}
}
