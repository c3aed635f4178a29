package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestEpochChange stores across an epoch change (the certificate of the first committee
// is refused, the confirmations are collected again) and reads during an epoch change
// that is held open by nodes that have not signalled their sync.
func TestEpochChange(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for epoch changes")
	}
	// The sync deadline is far: the test holds an epoch change open on purpose.
	net := testnet.New(t, testnet.Options{EpochDuration: 2 * time.Second, EpochSyncTimeout: time.Hour})
	c := newClient(t, net)
	ctx := testContext(t)
	a := randomBlob(5000, 11)
	resA := mustStore(t, c, a, client.StoreOptions{Epochs: 50}) // 100 s of epochs that are not held open

	// Hold the store at certification until the epoch moved: the first certificate is
	// for the old epoch, so the client collects confirmations again. (The epoch is read
	// when certification starts: the registration may already be in a later epoch than
	// the one before the store.)
	held := false
	var heldEpoch uint32
	b := randomBlob(7000, 12)
	resB, err := c.Store(ctx, b, client.StoreOptions{Epochs: 50, Progress: func(p client.Progress) {
		if p.Phase != "certifying" || held {
			return
		}
		held = true
		sys, err := net.Chain.System(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		heldEpoch = sys.Epoch
		if err := net.WaitEpochState(ctx, sys.Epoch+1, chain.StateEpochChangeDone); err != nil {
			t.Error(err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if resB.Stats.EpochChanges < 1 || resB.NewlyCreated.BlobObject.CertifiedEpoch == nil || *resB.NewlyCreated.BlobObject.CertifiedEpoch <= heldEpoch {
		t.Fatalf("store across an epoch change: %d epoch changes, blob %+v", resB.Stats.EpochChanges, resB.NewlyCreated.BlobObject)
	}
	mustRead(t, c, resB.NewlyCreated.BlobObject.BlobID, b)

	// Keep the next epoch change open: nodes holding half the shards do not signal.
	net.Nodes[0].HoldTransactions.Store(true)
	net.Nodes[1].HoldTransactions.Store(true)
	sys, err := net.Chain.System(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := net.WaitEpochState(ctx, sys.Epoch+1, chain.StateEpochChangeSync); err != nil {
		t.Fatal(err)
	}
	sys2, _ := net.Chain.System(ctx)
	if sys2.EpochState != chain.StateEpochChangeSync {
		t.Fatalf("epoch state %v", sys2.EpochState)
	}
	mustRead(t, c, resA.NewlyCreated.BlobObject.BlobID, a)
	mustRead(t, c, resB.NewlyCreated.BlobObject.BlobID, b)
	cdata := randomBlob(9000, 13)
	resC := mustStore(t, c, cdata, client.StoreOptions{Epochs: 5})
	mustRead(t, c, resC.NewlyCreated.BlobObject.BlobID, cdata)
	if sys3, _ := net.Chain.System(ctx); sys3.Epoch != sys2.Epoch || sys3.EpochState != chain.StateEpochChangeSync {
		t.Fatalf("the epoch change ended during the test: %+v", sys3)
	}
	net.Nodes[0].HoldTransactions.Store(false)
	net.Nodes[1].HoldTransactions.Store(false)
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := net.WaitEpochState(wctx, sys2.Epoch, chain.StateEpochChangeDone); err != nil {
		t.Fatal(err)
	}
	mustRead(t, c, resA.NewlyCreated.BlobObject.BlobID, a)
}
