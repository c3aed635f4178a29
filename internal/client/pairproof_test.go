package client_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/api"
	"github.com/walrus-go/walrus/internal/testnet"
)

// proofTransport changes what the nodes answer about pair proofs: walrusLike answers as
// Walrus's nodes do (no partial-metadata route, no pair-proof header), forge replaces the
// primary hash in every pair proof, as a lying node would.
type proofTransport struct {
	base              http.RoundTripper
	walrusLike, forge bool
}

func (p proofTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if p.walrusLike && strings.HasSuffix(req.URL.Path, "/metadata/pairs") {
		return &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("not found")), Request: req}, nil
	}
	resp, err := p.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	v := resp.Header.Get(api.PairProofHeader)
	switch {
	case v == "":
	case p.walrusLike:
		resp.Header.Del(api.PairProofHeader)
	case p.forge:
		raw, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil {
			return nil, err
		}
		pp, err := redstuff.DecodePairProof(raw)
		if err != nil {
			return nil, err
		}
		pp.Hashes.Primary[0] ^= 1
		resp.Header.Set(api.PairProofHeader, base64.RawURLEncoding.EncodeToString(pp.Bytes()))
	}
	return resp, nil
}

// TestBlobReaderPairProofs reads a range through nodes that send pair proofs (the full
// metadata is never fetched), through nodes that do not (it is, once, and the read is the
// same), and through nodes whose proofs are forged (every sliver is refused and its row
// rebuilt from recovery symbols checked against the full metadata: never a wrong byte).
func TestBlobReaderPairProofs(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	c := newClient(t, net)
	ctx := testContext(t)
	data := randomBlob(200_000, 5)
	res := mustStore(t, c, data, client.StoreOptions{Epochs: 2})
	c.WaitTail()
	id, err := redstuff.ParseBlobID(res.BlobID())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name              string
		walrusLike, forge bool
	}{{"proofs", false, false}, {"walrus-like nodes", true, false}, {"forged proofs", false, true}} {
		cfg := net.ClientConfig()
		cfg.HTTPClient = &http.Client{Transport: proofTransport{base: nodetls.NewTransport(nil), walrusLike: tc.walrusLike, forge: tc.forge}}
		rc, err := net.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		br, err := rc.OpenBlob(ctx, id, client.ReadOptions{})
		if err != nil {
			t.Fatalf("%s: open: %v", tc.name, err)
		}
		if br.Size() != int64(len(data)) {
			t.Fatalf("%s: size %d, want %d", tc.name, br.Size(), len(data))
		}
		p := make([]byte, 1000)
		if got, err := br.ReadAt(p, 5000); got != len(p) || err != nil || !bytes.Equal(p, data[5000:6000]) {
			t.Fatalf("%s: ReadAt: %d, %v (equal %v)", tc.name, got, err, bytes.Equal(p, data[5000:6000]))
		}
		st := br.Stats()
		t.Logf("%s: %+v", tc.name, st)
		switch {
		case !tc.walrusLike && !tc.forge && (st.Metadata || st.Recovered != 0):
			t.Fatalf("%s: fetched the full metadata (%v) or rebuilt %d rows", tc.name, st.Metadata, st.Recovered)
		case tc.walrusLike && (!st.Metadata || st.Recovered != 0):
			t.Fatalf("%s: metadata fetched %v, %d rows rebuilt; want the metadata and none rebuilt", tc.name, st.Metadata, st.Recovered)
		case tc.forge && (st.Recovered == 0 && !st.FellBack):
			t.Fatalf("%s: a sliver with a forged proof was accepted: %+v", tc.name, st)
		}
		br.Close()
	}
}
