package nodeclient_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/api"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
)

// TestBareRecoverySymbols fetches symbols without proofs over real HTTP: they are the
// same symbols as those served with proofs, in request order, skipping those the node
// cannot serve; the extension's bad parameters are refused.
func TestBareRecoverySymbols(t *testing.T) {
	ctx := context.Background()
	e := nodetest.New(t, 10, []uint16{0, 3, 5, 9})
	srv := httptest.NewServer(api.NewHandler(e.Node, api.Options{}))
	t.Cleanup(srv.Close)
	c, err := nodeclient.New(srv.URL, nodeclient.Options{NShards: e.N})
	if err != nil {
		t.Fatal(err)
	}
	b := e.Blob(30000, 2)
	id := b.Metadata.BlobID
	e.Register(b, nodetest.ObjectID(1), 5, false)
	if _, err := c.StoreSlivers(ctx, b.Metadata, e.OwnedPairs(b)); err != nil {
		t.Fatal(err)
	}
	sym, err := e.Enc.SymbolSize(b.Metadata.UnencodedLength)
	if err != nil {
		t.Fatal(err)
	}
	for _, axis := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
		var ids []sn.SymbolID
		for src := range e.N {
			if axis == redstuff.Primary {
				ids = append(ids, sn.SymbolID{Primary: src, Secondary: 4})
			} else {
				ids = append(ids, sn.SymbolID{Primary: 6, Secondary: src})
			}
		}
		bare, err := c.BareRecoverySymbols(ctx, id, ids, axis, sym)
		if err != nil {
			t.Fatalf("%s: %v", axis, err)
		}
		proven, err := c.RecoverySymbols(ctx, id, ids, &axis)
		if err != nil {
			t.Fatalf("%s: %v", axis, err)
		}
		if len(bare) != len(proven) || len(bare) != len(e.OwnedPairs(b)) {
			t.Fatalf("%s: %d bare symbols, %d with proofs, want one per owned shard", axis, len(bare), len(proven))
		}
		for i := range bare {
			p := proven[i]
			if bare[i].Axis != p.Axis || bare[i].Index != p.Index || bare[i].Target != p.Target || !bytes.Equal(bare[i].Data, p.Data) {
				t.Fatalf("%s: bare symbol %s differs from %s with proof", axis, bare[i].ID(), p.ID())
			}
		}
	}
	// Asking for the wrong size is a bad answer, not a wrong symbol.
	ids := []sn.SymbolID{{Primary: 0, Secondary: 1}}
	if _, err := c.BareRecoverySymbols(ctx, id, ids, redstuff.Primary, sym+2); err == nil {
		t.Fatal("symbols of another size accepted")
	}
	// proofs=false without proofAxis, or with a bad value, is refused.
	for _, q := range []string{"?id=0-1&proofs=false", "?id=0-1&proofAxis=primary&proofs=no", "?targetSliver=1&targetType=primary&proofs=false"} {
		resp, err := http.Get(srv.URL + "/v1/blobs/" + id.String() + "/recoverySymbols" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, resp.StatusCode)
		}
	}
}
