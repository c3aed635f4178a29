package nodeclient_test

import (
	"context"
	"net/http/httptest"
	"testing"

	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/api"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
)

// TestPerSliverFallback stores through StoreSlivers at a node without the batched
// route, as a Walrus node: the client falls back to the per-sliver endpoints, remembers
// it, and the node confirms the blob.
func TestPerSliverFallback(t *testing.T) {
	ctx := context.Background()
	e := nodetest.New(t, 10, []uint16{0, 3, 5, 9})
	srv := httptest.NewServer(api.NewHandler(e.Node, api.Options{DisableBatchedUploads: true}))
	t.Cleanup(srv.Close)
	c, err := nodeclient.New(srv.URL, nodeclient.Options{NShards: e.N})
	if err != nil {
		t.Fatal(err)
	}
	b := e.Blob(30000, 1)
	e.Register(b, nodetest.ObjectID(1), 5, false)
	res, err := c.StoreSlivers(ctx, b.Metadata, e.OwnedPairs(b))
	if err != nil || !res.MetadataCreated || res.SliversCreated != 8 || !c.PerSliver() {
		t.Fatalf("StoreSlivers = %+v, %v (per sliver %v)", res, err, c.PerSliver())
	}
	if _, err := c.Confirmation(ctx, b.Metadata.BlobID, sn.Persistence{}); err != nil {
		t.Fatalf("Confirmation: %v", err)
	}
	// Pending, per sliver, before the registration.
	d := e.Blob(20000, 2)
	res, err = c.StoreSliversPending(ctx, d.Metadata, e.OwnedPairs(d))
	if err != nil || !res.Pending || res.SliversCreated != 8 {
		t.Fatalf("StoreSliversPending = %+v, %v", res, err)
	}
	e.Register(d, nodetest.ObjectID(2), 5, false)
	if _, err := c.Confirmation(ctx, d.Metadata.BlobID, sn.Persistence{}); err != nil {
		t.Fatalf("Confirmation of the pending upload: %v", err)
	}
	// A node with the batched route is not switched.
	c2 := serve(t, e)
	if _, err := c2.StoreSlivers(ctx, b.Metadata, e.OwnedPairs(b)); err != nil || c2.PerSliver() {
		t.Fatalf("StoreSlivers at a batched node: %v (per sliver %v)", err, c2.PerSliver())
	}
}
