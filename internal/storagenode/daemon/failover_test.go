package daemon_test

import (
	"context"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/testnet"
)

// TestValidatorFailover runs four storage nodes on a chain of four validators, each node
// configured with every validator's JSON-RPC. With validator 0 stopped (the first validator
// of nodes 0 and 4 and of the test's own client), the chain goes on with three of four
// votes, blobs are still registered, stored and certified, and every node, including those
// that talked to the stopped validator, applies the new events.
func TestValidatorFailover(t *testing.T) {
	net := testnet.NewCluster(t, testnet.Options{Validators: 4, Nodes: 4, Shards: 8})
	if got := net.Nodes[1].Config.ChainEndpoints(); len(got) != 4 || got[0] != "http://"+net.RPCAddrs[1] {
		t.Fatalf("node 1 validators %v, want all four starting with validator 1", got)
	}
	startAll(t, net)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	before, err := net.Store(ctx, randomData(1, 50_000), testnet.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h0, err := net.Chain.Height(ctx)
	if err != nil {
		t.Fatal(err)
	}

	t.Logf("stored with four validators at height %d", h0)
	net.StopValidatorAt(0)
	t.Log("validator 0 stopped")
	after, err := net.Store(ctx, randomData(2, 50_000), testnet.StoreOptions{})
	if err != nil {
		t.Fatalf("store with validator 0 stopped: %v", err)
	}
	h1, err := net.Chain.Height(ctx)
	if err != nil || h1 <= h0 {
		t.Fatalf("height %d after the stop, %d before (%v)", h1, h0, err)
	}
	t.Logf("stored with three validators, height %d", h1)
	cmt, err := net.Chain.Committee(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range cmt.Members {
		waitCaughtUp(t, net, m.NetworkAddress)
		for _, b := range []*testnet.Blob{before, after} {
			testnet.WaitFor(t, 2*time.Minute, m.NetworkAddress+" to hold its slivers of "+b.ID.String(), func() (bool, error) {
				return net.HoldsAll(ctx, m.NetworkAddress, b.ID, m.Shards)
			})
		}
	}
	got, err := net.Read(ctx, after.ID)
	if err != nil || string(got) != string(after.Data) {
		t.Fatalf("read back: %v", err)
	}
}
