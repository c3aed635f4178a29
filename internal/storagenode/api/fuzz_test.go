package api

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
)

// The fuzz targets send arbitrary bodies to the writing endpoints of a node (n = 7, four
// shards owned) and check that the handler does not panic (recovery is off), answers with
// a well-formed envelope, and leaves the store exactly as it was unless it answered with
// success.

type fuzzEnv struct {
	*apiEnv
	stored  *redstuff.EncodedBlob // registered, metadata and slivers stored
	fresh   *redstuff.EncodedBlob // registered, nothing stored
	invalid *redstuff.EncodedBlob // registered and stored, inconsistent encoding
	bad     int                   // the inconsistent primary sliver of invalid
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	a := newAPI(f, 7, []uint16{0, 2, 4, 6})
	e := &fuzzEnv{apiEnv: a, stored: a.Blob(2000, 1), fresh: a.Blob(1500, 2)}
	e.invalid, e.bad = nodetest.Inconsistent(f, a.Enc, 1200, 3)
	for i, b := range []*redstuff.EncodedBlob{e.stored, e.fresh, e.invalid} {
		a.Register(b, nodetest.ObjectID(i), 10, false)
	}
	for _, b := range []*redstuff.EncodedBlob{e.stored, e.invalid} {
		r := a.do("PUT", "/v1/blobs/"+b.Metadata.BlobID.String()+"/slivers", batchBody(b.Metadata, a.OwnedPairs(b)))
		if r.code != 201 {
			f.Fatalf("setup: %d %s", r.code, r.body)
		}
	}
	return e
}

// check sends a request and verifies the answer and the store invariant.
func (e *fuzzEnv) check(t *testing.T, method, path string, body []byte) {
	before := e.Fingerprint(t)
	r := e.do(method, path, body)
	changed := e.Fingerprint(t) != before
	switch {
	case r.code == 200 || r.code == 201:
		var v SuccessBody[json.RawMessage]
		if err := json.Unmarshal(r.body, &v); err != nil || v.Success.Code != r.code {
			t.Fatalf("malformed success answer %d: %s", r.code, r.body)
		}
		if r.code == 200 && changed && method == "PUT" {
			t.Fatalf("200 (already stored) but the store changed: %s", r.body)
		}
	default:
		reason, _ := r.errorReason(t)
		if reason == "" || reason == "INTERNAL_ERROR" {
			t.Fatalf("answer %d %s: %s", r.code, reason, r.body)
		}
		if changed {
			t.Fatalf("rejected request (%d %s) changed the store", r.code, reason)
		}
	}
}

func FuzzPutMetadata(f *testing.F) {
	e := newFuzzEnv(f)
	good := sn.MetadataBody(e.fresh.Metadata)
	f.Add(uint8(0), good)
	f.Add(uint8(1), good)
	f.Add(uint8(2), good[:len(good)-1])
	f.Add(uint8(0), append(good, 0))
	f.Add(uint8(0), []byte{})
	f.Add(uint8(3), sn.MetadataBody(e.stored.Metadata))
	ids := []redstuff.BlobID{e.fresh.Metadata.BlobID, e.stored.Metadata.BlobID, e.invalid.Metadata.BlobID, e.Blob(10, 9).Metadata.BlobID}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		e.check(t, "PUT", metaPath(ids[int(which)%len(ids)]), body)
	})
}

func FuzzPutSliver(f *testing.F) {
	e := newFuzzEnv(f)
	for _, b := range []*redstuff.EncodedBlob{e.stored, e.fresh} {
		for _, p := range e.OwnedPairs(b) {
			f.Add(b == e.stored, uint16(p.Index), false, p.Primary.Bytes())
			f.Add(b == e.stored, uint16(p.Index), true, p.Secondary.Bytes())
		}
	}
	f.Add(true, uint16(7), false, []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, stored bool, pair uint16, secondary bool, body []byte) {
		b := e.fresh
		if stored {
			b = e.stored
		}
		a := redstuff.Primary
		if secondary {
			a = redstuff.Secondary
		}
		e.check(t, "PUT", sliverURL(b.Metadata.BlobID, int(pair), a), body)
	})
}

func FuzzBatchUpload(f *testing.F) {
	e := newFuzzEnv(f)
	for _, b := range []*redstuff.EncodedBlob{e.stored, e.fresh} {
		pairs := e.OwnedPairs(b)
		f.Add(b == e.stored, batchBody(b.Metadata, pairs))
		f.Add(b == e.stored, batchBody(b.Metadata, pairs[:1]))
		f.Add(b == e.stored, batchBody(b.Metadata, nil))
	}
	f.Fuzz(func(t *testing.T, stored bool, body []byte) {
		b := e.fresh
		if stored {
			b = e.stored
		}
		e.check(t, "PUT", "/v1/blobs/"+b.Metadata.BlobID.String()+"/slivers", body)
	})
}

func FuzzInconsistencyProof(f *testing.F) {
	e := newFuzzEnv(f)
	proof := nodetest.InconsistencyProof(f, e.Enc, e.invalid, e.bad)
	f.Add(false, false, proof.Bytes())
	f.Add(false, true, proof.Bytes())
	f.Add(true, false, proof.Bytes())
	f.Add(false, false, proof.Bytes()[:40])
	f.Fuzz(func(t *testing.T, consistent, secondary bool, body []byte) {
		b := e.invalid
		if consistent {
			b = e.stored
		}
		a := redstuff.Primary
		if secondary {
			a = redstuff.Secondary
		}
		e.check(t, "POST", fmt.Sprintf("/v1/blobs/%s/inconsistencyProof/%s", b.Metadata.BlobID, a), body)
	})
}
