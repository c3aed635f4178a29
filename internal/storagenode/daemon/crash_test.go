package daemon_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/merkle"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/api"
	"github.com/walrus-go/walrus/internal/storagenode/daemon"
	"github.com/walrus-go/walrus/internal/testnet"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testnet.RemoveBinary()
	os.Exit(code)
}

// waitCaughtUp waits until a node has applied every chain event and returns its health.
func waitCaughtUp(t *testing.T, net *testnet.Cluster, addr string) sn.HealthInfo {
	t.Helper()
	var h sn.HealthInfo
	testnet.WaitFor(t, 2*time.Minute, "the node to apply every chain event", func() (bool, error) {
		sys, err := net.Chain.System(context.Background())
		if err != nil {
			return false, err
		}
		h, err = net.Client(addr).Health(context.Background(), false)
		return err == nil && h.EventProgress.Persisted >= sys.NextEventSeq, nil
	})
	return h
}

// submitAll submits payloads pipelined from one signer and returns their results.
func submitAll(t *testing.T, c *chainclient.Client, s *chainclient.Signer, ps []chain.Payload) []*chainclient.TxResult {
	t.Helper()
	ctx := context.Background()
	pending := make([]*chainclient.Pending, len(ps))
	for i, p := range ps {
		var err error
		if pending[i], err = c.SubmitAsync(ctx, s, p, 0); err != nil {
			t.Fatalf("submit %s: %v", chain.PayloadName(p), err)
		}
	}
	out := make([]*chainclient.TxResult, len(ps))
	for i, p := range pending {
		res, err := p.Wait(ctx)
		if err != nil {
			t.Fatalf("%s: %v", chain.PayloadName(ps[i]), err)
		}
		out[i] = res
	}
	return out
}

// blobState returns what the node stores of a blob of which it owns every shard: whether
// the metadata is stored and how many slivers.
func blobState(t *testing.T, net *testnet.Cluster, addr string, id redstuff.BlobID) (bool, int) {
	t.Helper()
	ctx := context.Background()
	c := net.Client(addr)
	st, err := c.MetadataStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	slivers := 0
	for p := range net.Enc.NShards() {
		for _, a := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
			s, err := c.SliverStatus(ctx, id, p, a)
			if err != nil {
				t.Fatal(err)
			}
			if s == sn.StatusStored {
				slivers++
			}
		}
	}
	return st == sn.StatusStored, slivers
}

// TestCrashDuringIngest kills a storage node process (SIGKILL) while batched uploads are
// in flight, one of them cut off in the middle of its body. After a restart every blob is
// either stored whole (metadata and every sliver of the upload) or not at all, and
// retried uploads succeed and are confirmed.
func TestCrashDuringIngest(t *testing.T) {
	bin := testnet.Binary(t)
	net := testnet.NewCluster(t, testnet.Options{Nodes: 1, RPC: true})
	nd := net.Nodes[0]
	net.StartProcess(nd, bin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	const count = 12
	var blobs []*redstuff.EncodedBlob
	for i := range count {
		eb, err := net.Enc.Encode(randomData(uint64(100+i), 200_000+i*10_000))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := net.Register(ctx, eb, 5, false); err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, eb)
	}
	waitCaughtUp(t, net, nd.Addr)
	c := net.Client(nd.Addr)
	pairs := func(eb *redstuff.EncodedBlob) []*redstuff.SliverPair {
		out := make([]*redstuff.SliverPair, len(eb.Pairs))
		for i := range eb.Pairs {
			out[i] = &eb.Pairs[i]
		}
		return out
	}

	// A torn upload: half of blob 0's body, then nothing until the node dies.
	segments, size := api.EncodeBatch(blobs[0].Metadata, pairs(blobs[0]))
	body := bytes.Join(segments, nil)
	pr, pw := io.Pipe()
	req, err := net.NewRequest(ctx, http.MethodPut, nd, "/v1/blobs/"+blobs[0].Metadata.BlobID.String()+"/slivers", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	tornDone := make(chan error, 1)
	go func() {
		resp, err := net.HTTPClient().Do(req)
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("torn upload answered %s", resp.Status)
		}
		tornDone <- err
	}()
	if _, err := pw.Write(body[:len(body)/2]); err != nil {
		t.Fatal(err)
	}

	// Concurrent uploads of the other blobs; kill the node once some have landed.
	var stored atomic.Int64
	var wg sync.WaitGroup
	next := atomic.Int64{}
	next.Store(1)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= count {
					return
				}
				if _, err := c.StoreSlivers(ctx, blobs[i].Metadata, pairs(blobs[i])); err == nil {
					stored.Add(1)
				}
			}
		}()
	}
	testnet.WaitFor(t, 2*time.Minute, "some uploads to land", func() (bool, error) { return stored.Load() >= 2, nil })
	net.Kill(nd)
	pw.CloseWithError(io.ErrUnexpectedEOF)
	wg.Wait()
	<-tornDone
	t.Logf("killed the node with %d of %d uploads answered, one torn", stored.Load(), count-1)

	net.StartProcess(nd, bin)
	waitCaughtUp(t, net, nd.Addr)
	whole := 0
	for i, eb := range blobs {
		meta, slivers := blobState(t, net, nd.Addr, eb.Metadata.BlobID)
		switch {
		case meta && slivers == 2*len(eb.Pairs):
			whole++
		case !meta && slivers == 0:
			if i == 0 {
				continue
			}
		default:
			t.Fatalf("blob %d half stored after the crash: metadata %v, %d of %d slivers", i, meta, slivers, 2*len(eb.Pairs))
		}
		if i == 0 && meta {
			t.Fatal("the torn upload was stored")
		}
	}
	if whole < int(stored.Load()) {
		t.Fatalf("%d blobs stored after the crash, but %d uploads were acknowledged", whole, stored.Load())
	}
	// Retried uploads succeed, and the node confirms every blob.
	pk, err := bls.PublicKeyFromBytes(net.Genesis.Nodes[0].PublicKey[:])
	if err != nil {
		t.Fatal(err)
	}
	for i, eb := range blobs {
		res, err := c.StoreSlivers(ctx, eb.Metadata, pairs(eb))
		if err != nil {
			t.Fatalf("retried upload of blob %d: %v", i, err)
		}
		if res.SliversCreated+res.SliversPresent != 2*len(eb.Pairs) {
			t.Fatalf("retried upload of blob %d: %+v", i, res)
		}
		msg, err := c.Confirmation(ctx, eb.Metadata.BlobID, sn.Persistence{})
		if err != nil || msg.Verify(pk) != nil {
			t.Fatalf("confirmation of blob %d after the retry: %v", i, err)
		}
	}
}

// TestCrashDuringEventProcessing kills a storage node process (SIGKILL) while it applies
// a long run of chain events (registrations, second registrations, deletions), one event
// per batch, restarts it and compares its view of every blob with that of a node that
// applied the same events without crashing: no event is lost or applied twice.
func TestCrashDuringEventProcessing(t *testing.T) {
	bin := testnet.Binary(t)
	net := testnet.NewCluster(t, testnet.Options{Nodes: 1, RPC: true, Candidates: 1, Config: func(i int, c *daemon.Config) {
		c.EventPageSize = 1
	}})
	nd := net.Nodes[0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// While the node is down: 400 registrations of 300 blob IDs (100 registered twice),
	// then deletions of a sixth of the registrations.
	const blobsN, twice = 300, 100
	var ids []redstuff.BlobID
	var roots [][32]byte
	for range blobsN {
		var root [32]byte
		rand.Read(root[:])
		roots = append(roots, root)
		ids = append(ids, redstuff.DeriveBlobID(redstuff.EncodingRS2, 1000, merkle.Node(root)))
	}
	encoded, err := net.Enc.EncodedLength(1000)
	if err != nil {
		t.Fatal(err)
	}
	var reserves []chain.Payload
	for range blobsN + twice {
		reserves = append(reserves, &chain.ReserveSpace{Size: encoded, EpochsAhead: 5})
	}
	storages := submitAll(t, net.Chain, net.Wallet, reserves)
	var registers []chain.Payload
	for i := range blobsN + twice {
		b := i % blobsN
		registers = append(registers, &chain.RegisterBlob{Storage: storages[i].Created[0], BlobID: ids[b], RootHash: roots[b],
			Size: 1000, EncodingType: redstuff.EncodingRS2, Deletable: i%2 == 0})
	}
	objects := submitAll(t, net.Chain, net.Wallet, registers)
	var deletes []chain.Payload
	for i, r := range objects {
		if i%2 == 0 && i%3 == 0 {
			deletes = append(deletes, &chain.DeleteBlob{Blob: r.Created[0]})
		}
	}
	submitAll(t, net.Chain, net.Wallet, deletes)
	sys, err := net.Chain.System(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// The reference: a node (in the committee of no epoch) that applies the same events.
	ref, _ := net.AddCandidate(0)
	net.StartInProcess(ref)

	// Kill it twice while it applies the events, each time after it made some progress.
	var at uint64
	for round := range 2 {
		net.StartProcess(nd, bin)
		last := at
		testnet.WaitFor(t, 2*time.Minute, "the node to be applying events", func() (bool, error) {
			h, err := net.Client(nd.Addr).Health(ctx, false)
			if err != nil {
				return false, nil // not listening yet
			}
			at = h.EventProgress.Persisted
			return at > last+10, nil
		})
		net.Kill(nd)
		if at >= sys.NextEventSeq {
			t.Fatalf("kill %d: the node applied all %d events before it could be killed", round+1, sys.NextEventSeq)
		}
		t.Logf("kill %d: the node had applied %d of %d events", round+1, at, sys.NextEventSeq)
	}

	net.StartProcess(nd, bin)
	waitCaughtUp(t, net, nd.Addr)
	waitCaughtUp(t, net, ref.Addr)
	for _, id := range ids {
		got, err := net.Client(nd.Addr).BlobStatus(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want, err := net.Client(ref.Addr).BlobStatus(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("blob %s after the crash: status %+v, the reference node has %+v", id, got, want)
		}
	}
}

// TestChainRestart restarts the validator under a running storage node process: the
// node's event follower rides through the restart, and blobs stored after it are applied,
// stored and confirmed as before.
func TestChainRestart(t *testing.T) {
	bin := testnet.Binary(t)
	net := testnet.NewCluster(t, testnet.Options{Nodes: 1, RPC: true})
	nd := net.Nodes[0]
	net.StartProcess(nd, bin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	waitCaughtUp(t, net, nd.Addr)
	before, err := net.Store(ctx, randomData(1, 10_000), testnet.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	net.RestartValidator()
	after, err := net.Store(ctx, randomData(2, 20_000), testnet.StoreOptions{})
	if err != nil {
		t.Fatalf("store after the chain restart: %v", err)
	}
	waitCaughtUp(t, net, nd.Addr)
	for _, b := range []*testnet.Blob{before, after} {
		got, err := net.Read(ctx, b.ID)
		if err != nil || !bytes.Equal(got, b.Data) {
			t.Fatalf("read %s: %v", b.ID, err)
		}
	}
}
