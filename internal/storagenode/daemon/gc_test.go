package daemon_test

import (
	"context"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/nodenet"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// TestGarbageCollection checks that every node deletes the data of blobs whose
// registrations expired or were deleted, and keeps the data of blobs that another live
// registration still needs.
func TestGarbageCollection(t *testing.T) {
	const epoch = 3 * time.Second
	net := nodenet.New(t, nodenet.Options{EpochDuration: epoch})
	startAll(t, net)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	store := func(seed uint64, o nodenet.StoreOptions) *nodenet.Blob {
		t.Helper()
		b, err := net.Store(ctx, randomData(seed, 5000+int(seed)*1000), o)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// expiring: one permanent registration for one epoch.
	expiring := store(1, nodenet.StoreOptions{Epochs: 1})
	// renewed: the same, plus a second (deletable, uncertified) registration that lasts.
	renewed := store(2, nodenet.StoreOptions{Epochs: 1})
	if _, err := net.Register(ctx, renewed.Encoded, 10, true); err != nil {
		t.Fatal(err)
	}
	// deleted: a deletable blob deleted by its owner.
	deleted := store(3, nodenet.StoreOptions{Deletable: true, Epochs: 10})
	// shared: a deletable blob deleted while a second registration keeps it.
	shared := store(4, nodenet.StoreOptions{Deletable: true, Epochs: 10})
	if _, err := net.Register(ctx, shared.Encoded, 10, true); err != nil {
		t.Fatal(err)
	}
	// kept: a long-lived permanent blob.
	kept := store(5, nodenet.StoreOptions{Epochs: 10})
	for _, b := range []*nodenet.Blob{deleted, shared} {
		if _, err := net.Chain.Submit(ctx, net.Wallet, &chain.DeleteBlob{Blob: b.Object}); err != nil {
			t.Fatal(err)
		}
	}
	end := expiring.Epoch + 1 // the epoch at which the one-epoch registrations end

	gone := func(id redstuff.BlobID) (bool, error) {
		for _, nd := range net.Nodes {
			st, err := net.Client(nd.Addr).MetadataStatus(ctx, id)
			if err != nil || st != sn.StatusNonexistent {
				return false, err
			}
		}
		return true, nil
	}
	nodenet.WaitFor(t, 10*time.Second, "the deleted blob's data to go", func() (bool, error) { return gone(deleted.ID) })
	nodenet.WaitFor(t, 4*epoch, "the expired blob's data to go", func() (bool, error) { return gone(expiring.ID) })
	// Every node collected garbage at the epoch the registrations ended.
	nodenet.WaitFor(t, 4*epoch, "garbage collection on every node", func() (bool, error) {
		for _, nd := range net.Nodes {
			if nd.Daemon.Node().Epoch() < end || nd.Daemon.Stats().GCRuns < 2 {
				return false, nil
			}
		}
		return true, nil
	})
	for _, b := range []*nodenet.Blob{expiring, deleted} {
		for _, nd := range net.Nodes {
			st, err := net.Client(nd.Addr).BlobStatus(ctx, b.ID)
			if err != nil || st.Kind != sn.BlobStatusNonexistent {
				t.Fatalf("%s: status of collected blob %s: %+v, %v", nd.Name, b.ID, st, err)
			}
		}
	}
	for _, b := range []*nodenet.Blob{renewed, shared, kept} {
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
