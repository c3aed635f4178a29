package daemon_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestGarbageCollection checks that every node deletes the data of blobs whose
// registrations expired or were deleted, and keeps the data of blobs that another live
// registration still needs.
//
// Nothing here depends on how long a step takes: the registrations that must outlive the
// test last testnet.MaxEpochs, every registration that keeps a blob alive is on chain
// before the one that expires (so no node can collect between them), and a one-epoch store
// that an epoch change overtakes is made again with a new registration.
func TestGarbageCollection(t *testing.T) {
	const epoch = 3 * time.Second
	const long = testnet.MaxEpochs // longer than the test, however loaded the machine
	net := testnet.NewCluster(t, testnet.Options{EpochDuration: epoch})
	startAll(t, net)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	store := func(seed uint64, o testnet.StoreOptions) *testnet.Blob {
		t.Helper()
		for {
			b, err := net.Store(ctx, randomData(seed, 5000+int(seed)*1000), o)
			if o.Epochs == 1 && errors.Is(err, chain.ErrExpired) {
				continue // the epoch ended before the certificate: register again
			}
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	// renewed: a second (deletable, uncertified) registration that lasts, then a permanent
	// one for one epoch that is certified.
	renewedData := randomData(2, 5000+2*1000)
	renewedEnc, err := net.Enc.Encode(renewedData)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.Register(ctx, renewedEnc, long, true); err != nil {
		t.Fatal(err)
	}
	renewed := store(2, testnet.StoreOptions{Epochs: 1})
	// expiring: one permanent registration for one epoch, stored after renewed so that its
	// expiry (which the test observes) comes no earlier than renewed's.
	expiring := store(1, testnet.StoreOptions{Epochs: 1})
	// deleted: a deletable blob deleted by its owner.
	deleted := store(3, testnet.StoreOptions{Deletable: true, Epochs: long})
	// shared: a deletable blob deleted while a second registration keeps it.
	shared := store(4, testnet.StoreOptions{Deletable: true, Epochs: long})
	if _, err := net.Register(ctx, shared.Encoded, long, true); err != nil {
		t.Fatal(err)
	}
	// kept: a long-lived permanent blob.
	kept := store(5, testnet.StoreOptions{Epochs: long})
	for _, b := range []*testnet.Blob{deleted, shared} {
		if _, err := net.Chain.Submit(ctx, net.Wallet, &chain.DeleteBlob{Blob: b.Object}); err != nil {
			t.Fatal(err)
		}
	}
	if renewed.Epoch > expiring.Epoch {
		t.Fatalf("renewed certified in epoch %d, after expiring (%d)", renewed.Epoch, expiring.Epoch)
	}

	gone := func(id redstuff.BlobID) (bool, error) {
		for _, nd := range net.Nodes {
			st, err := net.Client(nd.Addr).MetadataStatus(ctx, id)
			if err != nil || st != sn.StatusNonexistent {
				return false, err
			}
		}
		return true, nil
	}
	testnet.WaitFor(t, time.Minute, "the deleted blob's data to go", func() (bool, error) { return gone(deleted.ID) })
	// A one-epoch registration ends at the epoch after its certificate's, and only a
	// garbage collection at that epoch or later removes it; so once expiring's data is
	// gone from every node, every node has also expired renewed's one-epoch registration
	// (it ends no later).
	testnet.WaitFor(t, time.Minute, "the expired blob's data to go", func() (bool, error) { return gone(expiring.ID) })
	for _, b := range []*testnet.Blob{expiring, deleted} {
		for _, nd := range net.Nodes {
			st, err := net.Client(nd.Addr).BlobStatus(ctx, b.ID)
			if err != nil || st.Kind != sn.BlobStatusNonexistent {
				t.Fatalf("%s: status of collected blob %s: %+v, %v", nd.Name, b.ID, st, err)
			}
		}
	}
	for _, b := range []*testnet.Blob{renewed, shared, kept} {
		got, err := net.Read(ctx, b.ID)
		if err != nil || string(got) != string(b.Data) {
			t.Fatalf("read of blob %s that a live registration keeps: %v", b.ID, err)
		}
		cmt, err := net.Chain.Committee(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range cmt.Members {
			if ok, err := net.HoldsAll(ctx, m.NetworkAddress, b.ID, m.Shards); err != nil || !ok {
				t.Fatalf("%s lost slivers of blob %s that a live registration keeps: %v", m.Name, b.ID, err)
			}
		}
	}
}
