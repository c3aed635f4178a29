package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestStoreReadDaemon runs the client against storage node daemons: stores and reads with
// every node up and with one stopped, which recovers the blob it missed after a restart
// (blob sync).
func TestStoreReadDaemon(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	c := newClient(t, net)
	ctx := testContext(t)
	for _, size := range []int{0, 1, 1 << 20} {
		data := randomBlob(size, uint64(size)+40)
		res := mustStore(t, c, data, client.StoreOptions{Epochs: 2})
		mustRead(t, c, res.NewlyCreated.BlobObject.BlobID, data)
	}
	down := net.Nodes[1]
	if err := down.Stop(); err != nil {
		t.Fatal(err)
	}
	data := randomBlob(300_000, 50)
	res := mustStore(t, c, data, client.StoreOptions{Epochs: 2, Permanent: true})
	mustRead(t, c, res.NewlyCreated.BlobObject.BlobID, data)
	if err := down.Start(); err != nil {
		t.Fatal(err)
	}
	// The restarted node syncs the certified blob it missed.
	id, _ := redstuff.ParseBlobID(res.NewlyCreated.BlobObject.BlobID)
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		node := down.Node()
		shards := node.OwnedShards()
		pair := id.ShardPair(int(shards[0]), int(net.Genesis.Params.NShards))
		st, err := node.SliverStatus(id, pair, redstuff.Secondary)
		if err == nil && st == sn.StatusStored {
			break
		}
		select {
		case <-wctx.Done():
			t.Fatalf("the restarted node did not recover the blob: %v %v", st, err)
		case <-time.After(10 * time.Millisecond): // polling interval
		}
	}
	mustRead(t, c, res.NewlyCreated.BlobObject.BlobID, data)
}
