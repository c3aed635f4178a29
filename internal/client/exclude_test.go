package client_test

import (
	"errors"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/internal/testvec"
	"github.com/walrus-go/walrus/internal/uploadrelay"
)

// TestStoreExcludeNodes: a store that excludes a node certifies with the others'
// confirmations and sends the excluded node nothing (it recovers its slivers from its
// peers once the blob is certified); excluding nodes that hold more than a third of the
// shards leaves no quorum; ExcludeNodes is refused with an upload relay, which chooses
// the nodes itself.
func TestStoreExcludeNodes(t *testing.T) {
	net := testnet.New(t, testnet.Options{Shards: 10})
	c := newClient(t, net)
	excluded := net.Nodes[1]
	data := randomBlob(50_000, 61)
	res := mustStore(t, c, data, client.StoreOptions{Epochs: 2, ExcludeNodes: []string{excluded.Addr}})
	mustRead(t, c, res.NewlyCreated.BlobObject.BlobID, data)
	testvec.WaitFor(t, 2*time.Minute, "the excluded node to recover its slivers", func() (bool, error) {
		return excluded.Daemon().Stats().RecoveredSlivers > 0, nil
	})

	_, err := c.Store(testContext(t), randomBlob(50_000, 62), client.StoreOptions{Epochs: 2, ExcludeNodes: []string{net.Nodes[0].Addr, net.Nodes[2].Addr}})
	if !errors.Is(err, client.ErrNoQuorum) || !errors.Is(err, client.ErrExcluded) {
		t.Fatalf("store excluding half the nodes: %v, want ErrNoQuorum naming ErrExcluded", err)
	}

	_, err = c.Store(testContext(t), randomBlob(1000, 63), client.StoreOptions{Epochs: 2, ExcludeNodes: []string{excluded.Addr}, UploadRelay: &uploadrelay.Client{}})
	if !errors.Is(err, client.ErrInvalidOptions) {
		t.Fatalf("ExcludeNodes with an upload relay: %v, want ErrInvalidOptions", err)
	}
}
