package client_test

import (
	"bytes"
	"testing"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/api"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestStoreToNodesWithoutBatchedRoute stores through the client to a network in which
// half the nodes serve only Walrus's per-sliver upload routes: the client falls back to
// them for those nodes and the blob is certified and reads back. The nodes with the
// batched route hold at most 6 of the 10 shards (4 nodes), fewer than the quorum of 7,
// so the certificate needs confirmations of nodes written per sliver.
func TestStoreToNodesWithoutBatchedRoute(t *testing.T) {
	net := testnet.New(t, testnet.Options{Shards: 10, NodeAPI: func(i int, o *api.Options) {
		o.DisableBatchedUploads = i%2 == 0
	}})
	c := newClient(t, net)
	data := randomBlob(100_000, 7)
	res := mustStore(t, c, data, client.StoreOptions{Epochs: 2})
	if res.NewlyCreated == nil {
		t.Fatalf("store: %+v, want newlyCreated", res)
	}
	id, err := redstuff.ParseBlobID(res.NewlyCreated.BlobObject.BlobID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Read(testContext(t), id, client.ReadOptions{})
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %d bytes, %v", len(got), err)
	}
}
