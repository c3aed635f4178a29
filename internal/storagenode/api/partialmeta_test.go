package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"testing"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
)

// onePeer is a committee in which this node is never a metadata holder and whose other
// members' copies assemble to full (nil: none).
type onePeer struct{ full *redstuff.Metadata }

func (onePeer) KeepsFull(redstuff.BlobID) bool { return false }

func (p onePeer) FetchFull(context.Context, redstuff.BlobID) (*redstuff.Metadata, error) {
	if p.full == nil {
		return nil, errors.New("no peer answers")
	}
	return p.full, nil
}

// TestPartialMetadataEndpoints covers our extensions: the node's own copy restricted to
// pairs, the pair proof on sliver reads (the body staying Walrus's), and /metadata on a
// node that keeps only its pairs.
func TestPartialMetadataEndpoints(t *testing.T) {
	a := newAPI(t, 10, []uint16{0, 1, 2, 3})
	b := a.Blob(5000, 9)
	id := b.Metadata.BlobID
	a.Node.SetMetadataPeers(onePeer{})
	a.Register(b, nodetest.ObjectID(1), 5, false)
	successData[string](t, a.do("PUT", metaPath(id), sn.MetadataBody(b.Metadata)), http.StatusCreated)
	p := a.OwnedPairs(b)[0]
	successData[string](t, a.do("PUT", sliverURL(id, p.Index, redstuff.Primary), p.Primary.Bytes()), http.StatusCreated)

	// Without peers, the full metadata cannot be assembled.
	a.do("GET", metaPath(id), nil).expect(t, notFound, "METADATA_NOT_FOUND")

	r := a.do("GET", metaPath(id)+"/pairs", nil)
	if r.code != http.StatusOK {
		t.Fatalf("pairs: %d %s", r.code, r.body)
	}
	pm, err := redstuff.DecodePartialMetadata(r.body)
	if err != nil || a.Enc.VerifyPartialMetadata(pm, id) != nil || len(pm.Pairs) != 4 {
		t.Fatalf("partial metadata: %v, %d pairs", err, len(pm.Pairs))
	}
	unowned := a.UnownedPair(b)
	r = a.do("GET", metaPath(id)+"/pairs?pairs="+itoa(p.Index)+","+itoa(unowned), nil)
	if pm, err := redstuff.DecodePartialMetadata(r.body); err != nil || len(pm.Pairs) != 1 || int(pm.Pairs[0]) != p.Index {
		t.Fatalf("pairs %d,%d: %v", p.Index, unowned, err)
	}
	badReq(t, a.do("GET", metaPath(id)+"/pairs?pairs=10", nil))
	badReq(t, a.do("GET", metaPath(id)+"/pairs?pairs=x", nil))
	badReq(t, a.do("GET", metaPath(id)+"/pairs?pairs=0,1,2,3,4,5,6,7,8,9,0", nil))

	plain := a.do("GET", sliverURL(id, p.Index, redstuff.Primary), nil)
	if plain.code != http.StatusOK || plain.header.Get(PairProofHeader) != "" || !bytes.Equal(plain.body, p.Primary.Bytes()) {
		t.Fatalf("plain sliver read: %d, header %q", plain.code, plain.header.Get(PairProofHeader))
	}
	proved := a.do("GET", sliverURL(id, p.Index, redstuff.Primary)+"?pair_proof=true", nil)
	if proved.code != http.StatusOK || !bytes.Equal(proved.body, plain.body) {
		t.Fatalf("sliver read with proof: %d", proved.code)
	}
	raw, err := base64.RawURLEncoding.DecodeString(proved.header.Get(PairProofHeader))
	if err != nil {
		t.Fatal(err)
	}
	pp, err := redstuff.DecodePairProof(raw)
	if err != nil || a.Enc.VerifyPairProof(pp, id) != nil || int(pp.Pair) != p.Index {
		t.Fatalf("pair proof: %v", err)
	}
	s, err := redstuff.DecodeSliver(proved.body, redstuff.Primary, len(proved.body))
	if err != nil {
		t.Fatal(err)
	}
	h, err := pp.SliverHash(redstuff.Primary, s.Index)
	if err != nil || a.Enc.VerifySliver(&redstuff.Metadata{BlobID: id, EncodingType: pp.EncodingType,
		UnencodedLength: pp.UnencodedLength, Hashes: hashesWith(10, p.Index, pp.Hashes)}, s) != nil || h != b.Metadata.Hashes[p.Index].Primary {
		t.Fatalf("sliver does not verify against its pair proof: %v", err)
	}
	badReq(t, a.do("GET", sliverURL(id, p.Index, redstuff.Primary)+"?pair_proof=maybe", nil))

	// With a peer, /metadata answers the assembled, verified copy.
	a.Node.SetMetadataPeers(onePeer{full: b.Metadata})
	if r := a.do("GET", metaPath(id), nil); r.code != http.StatusOK || !bytes.Equal(r.body, b.Metadata.Bytes()) {
		t.Fatalf("assembled metadata: %d", r.code)
	}
}

func hashesWith(n, pair int, h redstuff.PairHashes) []redstuff.PairHashes {
	out := make([]redstuff.PairHashes, n)
	out[pair] = h
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

func badReq(t *testing.T, r response) {
	t.Helper()
	if r.code != badRequest {
		t.Fatalf("HTTP %d, want %d: %s", r.code, badRequest, r.body)
	}
}
