package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/testnet"
)

func randomBlob(size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newClient(t *testing.T, net *testnet.Network) *client.Client {
	t.Helper()
	c, err := net.NewClient(net.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustStore(t *testing.T, c *client.Client, data []byte, opts client.StoreOptions) *client.StoreResult {
	t.Helper()
	res, err := c.Store(testContext(t), data, opts)
	if err != nil {
		t.Fatalf("store %d bytes: %v", len(data), err)
	}
	return res
}

func mustRead(t *testing.T, c *client.Client, id string, want []byte) {
	t.Helper()
	bid, err := redstuff.ParseBlobID(id)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Read(testContext(t), bid, client.ReadOptions{})
	if err != nil {
		t.Fatalf("read %s: %v", id, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %s: got %d bytes, want %d (contents differ)", id, len(got), len(want))
	}
}

func TestStoreRead(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	c := newClient(t, net)
	sizes := []int{0, 1, 1 << 20}
	if !testing.Short() {
		sizes = append(sizes, 32<<20+3)
	}
	for i, size := range sizes {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			data := randomBlob(size, uint64(i))
			res := mustStore(t, c, data, client.StoreOptions{Epochs: 2, Permanent: i%2 == 0})
			nc := res.NewlyCreated
			if nc == nil {
				t.Fatalf("store: %+v, want newlyCreated", res)
			}
			if nc.BlobObject.Size != uint64(size) || nc.BlobObject.CertifiedEpoch == nil || nc.BlobObject.Deletable != (i%2 != 0) {
				t.Fatalf("blob object %+v", nc.BlobObject)
			}
			if nc.ResourceOperation.RegisterFromScratch == nil || nc.ResourceOperation.RegisterFromScratch.EpochsAhead != 2 {
				t.Fatalf("resource operation %+v", nc.ResourceOperation)
			}
			if nc.BlobObject.Storage.EndEpoch != nc.BlobObject.RegisteredEpoch+2 {
				t.Fatalf("storage %+v", nc.BlobObject.Storage)
			}
			if nc.Cost == 0 {
				t.Fatal("zero cost")
			}
			st := res.Stats
			t.Logf("%d B: %d HTTP requests, %d uploads (%d refused by nodes behind the chain), encode %v, register %v, upload %v, certify %v, total %v",
				size, st.HTTPRequests, st.SliverUploads, st.UploadsBehind, st.Encode, st.Register, st.Upload, st.Certify, st.Total)
			// One upload per node, apart from those a node refused because it had not
			// seen the registration yet (a loaded machine delays event following).
			if st.SliverUploads-st.UploadsBehind > int64(len(net.Nodes)) {
				t.Errorf("%d sliver uploads (%d refused by nodes behind) for %d nodes", st.SliverUploads, st.UploadsBehind, len(net.Nodes))
			}
			mustRead(t, c, nc.BlobObject.BlobID, data)
		})
	}
}

func TestAlreadyCertified(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	c := newClient(t, net)
	data := randomBlob(1000, 1)
	first := mustStore(t, c, data, client.StoreOptions{Epochs: 3, Permanent: true})
	if first.NewlyCreated == nil {
		t.Fatalf("first store: %+v", first)
	}
	if err := net.WaitSynced(testContext(t)); err != nil {
		t.Fatal(err)
	}
	// Permanent and certified for longer than asked: nothing is uploaded.
	for _, opts := range []client.StoreOptions{{Epochs: 2, Permanent: true}, {Epochs: 3}} {
		again := mustStore(t, c, data, opts)
		ac := again.AlreadyCertified
		if ac == nil {
			t.Fatalf("second store %+v: %+v, want alreadyCertified", opts, again)
		}
		if ac.BlobID != first.NewlyCreated.BlobObject.BlobID || ac.EndEpoch != first.NewlyCreated.BlobObject.Storage.EndEpoch || ac.Event == nil {
			t.Fatalf("alreadyCertified %+v", ac)
		}
		if again.Stats.SliverUploads != 0 || again.Stats.Transactions != 0 {
			t.Fatalf("alreadyCertified store uploaded %d times, sent %d transactions", again.Stats.SliverUploads, again.Stats.Transactions)
		}
	}
	// Longer than the certification: a new registration.
	longer := mustStore(t, c, data, client.StoreOptions{Epochs: 5, Permanent: true})
	if longer.NewlyCreated == nil {
		t.Fatalf("longer store: %+v", longer)
	}
	// Force: stored again.
	forced := mustStore(t, c, data, client.StoreOptions{Epochs: 1, Force: true})
	if forced.NewlyCreated == nil || forced.Stats.SliverUploads == 0 {
		t.Fatalf("forced store: %+v", forced)
	}
	// An owned certified deletable blob counts for deletable stores.
	other := randomBlob(500, 2)
	d := mustStore(t, c, other, client.StoreOptions{Epochs: 2})
	again := mustStore(t, c, other, client.StoreOptions{Epochs: 1})
	if again.AlreadyCertified == nil || again.AlreadyCertified.Object != d.NewlyCreated.BlobObject.ID || again.Stats.SliverUploads != 0 {
		t.Fatalf("deletable again: %+v", again)
	}
}

func TestDeleteExtend(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	c := newClient(t, net)
	ctx := testContext(t)
	data := randomBlob(3000, 3)
	res := mustStore(t, c, data, client.StoreOptions{Epochs: 2})
	obj, _ := chain.ParseObjectID(res.NewlyCreated.BlobObject.ID)
	id, _ := redstuff.ParseBlobID(res.NewlyCreated.BlobObject.BlobID)

	// Extend moves the end epoch.
	b, err := c.Extend(ctx, obj, 3)
	if err != nil {
		t.Fatal(err)
	}
	if b.EndEpoch() != res.NewlyCreated.BlobObject.Storage.EndEpoch+3 {
		t.Fatalf("end epoch %d after extending %d by 3", b.EndEpoch(), res.NewlyCreated.BlobObject.Storage.EndEpoch)
	}
	if _, err := c.Extend(ctx, obj, 1000); !errors.Is(err, client.ErrInvalidEpochs) {
		t.Fatalf("extend beyond the maximum: %v", err)
	}
	blobs, err := c.ListBlobs(ctx, false)
	if err != nil || len(blobs) != 1 || blobs[0].ID != obj {
		t.Fatalf("list: %v %v", blobs, err)
	}

	// Delete makes it unreadable and returns the storage.
	deleted, err := c.DeleteBlobID(ctx, id)
	if err != nil || len(deleted) != 1 || deleted[0] != obj {
		t.Fatalf("delete: %v %v", deleted, err)
	}
	if _, err := c.Read(ctx, id, client.ReadOptions{}); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("read after delete: %v", err)
	}
	if _, err := c.DeleteBlobID(ctx, id); !errors.Is(err, client.ErrNotOwned) {
		t.Fatalf("second delete: %v", err)
	}
	// The storage returned by the deletion is reused by the next store of the same size.
	again := mustStore(t, c, data, client.StoreOptions{Epochs: 2})
	if again.NewlyCreated == nil || again.NewlyCreated.ResourceOperation.ReuseStorage == nil {
		t.Fatalf("store after delete: %+v", again.NewlyCreated)
	}
	mustRead(t, c, again.NewlyCreated.BlobObject.BlobID, data)
	// Permanent blobs cannot be deleted.
	p := mustStore(t, c, randomBlob(10, 4), client.StoreOptions{Epochs: 1, Permanent: true})
	pid, _ := redstuff.ParseBlobID(p.NewlyCreated.BlobObject.BlobID)
	if _, err := c.DeleteBlobID(ctx, pid); !errors.Is(err, chain.ErrNotDeletable) {
		t.Fatalf("delete permanent: %v", err)
	}
}

func TestNodeDown(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	c := newClient(t, net)
	ctx := testContext(t)
	before := randomBlob(1<<20, 5)
	res := mustStore(t, c, before, client.StoreOptions{Epochs: 1})
	c.WaitTail()
	if err := net.Nodes[0].Stop(); err != nil {
		t.Fatal(err)
	}
	// Stored before the node stopped: read from the others (repair slivers replace the
	// systematic ones it held).
	mustRead(t, c, res.NewlyCreated.BlobObject.BlobID, before)
	// Stored while it is down: three nodes of four are a quorum.
	for _, size := range []int{0, 1, 1 << 20} {
		data := randomBlob(size, uint64(size)+6)
		r := mustStore(t, c, data, client.StoreOptions{Epochs: 1})
		mustRead(t, c, r.NewlyCreated.BlobObject.BlobID, data)
	}
	// A second node down: no quorum, and the error says so.
	if err := net.Nodes[1].Stop(); err != nil {
		t.Fatal(err)
	}
	_, err := c.Store(ctx, randomBlob(100, 9), client.StoreOptions{Epochs: 1})
	if !errors.Is(err, client.ErrNoQuorum) {
		t.Fatalf("store with two of four nodes down: %v", err)
	}
	if err := net.Nodes[0].Start(); err != nil {
		t.Fatal(err)
	}
	if err := net.Nodes[1].Start(); err != nil {
		t.Fatal(err)
	}
	if err := net.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	mustRead(t, c, res.NewlyCreated.BlobObject.BlobID, before)
}

func TestBadInput(t *testing.T) {
	net := testnet.New(t, testnet.Options{MaxEpochsAhead: 10})
	c := newClient(t, net)
	ctx := testContext(t)
	unknown := redstuff.DeriveBlobID(redstuff.EncodingRS2, 5, [32]byte{1})
	if _, err := c.Read(ctx, unknown, client.ReadOptions{}); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("read unknown: %v", err)
	}
	for _, opts := range []client.StoreOptions{{}, {Epochs: 11}, {Epochs: 1, EndEpoch: 2}, {EndEpoch: 0 + 11}} {
		if _, err := c.Store(ctx, []byte("x"), opts); !errors.Is(err, client.ErrInvalidEpochs) {
			t.Fatalf("store %+v: %v", opts, err)
		}
	}
	// A wallet without enough funds: nothing is sent.
	poor, err := net.FundedSigner(ctx, "poor", 5000)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.NewClient(client.Config{Signer: poor})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pc.Store(ctx, randomBlob(100, 1), client.StoreOptions{Epochs: 1})
	if !errors.Is(err, chain.ErrInsufficientFunds) {
		t.Fatalf("poor store: %v", err)
	}
	acc, _ := net.Chain.Account(ctx, poor.Address())
	if acc.Balance != 5000 || acc.Nonce != 0 {
		t.Fatalf("poor account after failed store: %+v", acc)
	}
	if blobs, _ := pc.ListBlobs(ctx, true); len(blobs) != 0 {
		t.Fatalf("poor account owns %d blobs", len(blobs))
	}
	// No wallet: reads only.
	ro, err := net.NewClient(client.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Store(ctx, []byte("x"), client.StoreOptions{Epochs: 1}); !errors.Is(err, client.ErrNoWallet) {
		t.Fatalf("store without wallet: %v", err)
	}
}

func TestConcurrentStores(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	c := newClient(t, net)
	ctx := testContext(t)
	// A storage resource to fight over: every store could reuse it, only one may.
	first := mustStore(t, c, randomBlob(2000, 20), client.StoreOptions{Epochs: 3})
	id, _ := redstuff.ParseBlobID(first.NewlyCreated.BlobObject.BlobID)
	if _, err := c.DeleteBlobID(ctx, id); err != nil {
		t.Fatal(err)
	}
	const n = 6
	blobs := make([][]byte, n)
	results := make([]*client.StoreResult, n)
	errs := make([]error, n)
	done := make(chan int)
	for i := range n {
		blobs[i] = randomBlob(2000, uint64(30+i))
		go func() {
			results[i], errs[i] = c.Store(ctx, blobs[i], client.StoreOptions{Epochs: 2})
			done <- i
		}()
	}
	reused := 0
	for range n {
		i := <-done
		if errs[i] != nil {
			t.Fatalf("store %d: %v", i, errs[i])
		}
		if results[i].NewlyCreated.ResourceOperation.ReuseStorage != nil {
			reused++
		}
	}
	if reused > 1 {
		t.Fatalf("%d stores reused the one storage resource", reused)
	}
	for i := range n {
		mustRead(t, c, results[i].NewlyCreated.BlobObject.BlobID, blobs[i])
	}
}

func TestStatus(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	c := newClient(t, net)
	ctx := testContext(t)
	res := mustStore(t, c, randomBlob(2000, 7), client.StoreOptions{Epochs: 4, Permanent: true})
	id, _ := redstuff.ParseBlobID(res.NewlyCreated.BlobObject.BlobID)
	if err := net.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Kind != sn.BlobStatusPermanent || !st.IsCertified || st.EndEpoch != res.NewlyCreated.BlobObject.Storage.EndEpoch {
		t.Fatalf("status %+v", st)
	}
	unknown := redstuff.DeriveBlobID(redstuff.EncodingRS2, 5, [32]byte{2})
	st, err = c.Status(ctx, unknown)
	if err != nil || st.Kind != sn.BlobStatusNonexistent {
		t.Fatalf("status of unknown blob: %+v %v", st, err)
	}
}
