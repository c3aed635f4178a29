package daemon_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/api"
	"github.com/walrus-go/walrus/internal/storagenode/daemon"
	"github.com/walrus-go/walrus/internal/testnet"
)

// heldUpload is a batched upload to one node whose body is held after its first pair.
type heldUpload struct {
	data     []byte
	eb       *redstuff.EncodedBlob
	obj      chain.ObjectID
	shards   []uint16
	rest     [][]byte
	body     *io.PipeWriter
	answered chan heldAnswer
}

type heldAnswer struct {
	code int
	body []byte
	err  error
}

// holdUpload registers a blob and starts its upload to nd, sending the metadata and the
// first pair's primary sliver only: the node has opened the upload but lacks the slivers.
// The node must be configured with heldBodyGrace, or it ends the held upload with 408 when
// the test takes longer than the default grace (10 s) on a loaded machine.
func holdUpload(t *testing.T, ctx context.Context, net *testnet.Cluster, nd *testnet.ClusterNode, seed uint64) *heldUpload {
	t.Helper()
	data := randomData(seed, 300_000)
	eb, err := net.Enc.Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	h := &heldUpload{data: data, eb: eb, answered: make(chan heldAnswer, 1)}
	if h.obj, err = net.Register(ctx, eb, 0, false); err != nil {
		t.Fatal(err)
	}
	cmt, err := net.Chain.Committee(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []*redstuff.SliverPair
	for _, m := range cmt.Members {
		if m.NetworkAddress == nd.Addr {
			h.shards = m.Shards
			for _, s := range m.Shards {
				pairs = append(pairs, &eb.Pairs[eb.Metadata.BlobID.ShardPair(int(s), net.Enc.NShards())])
			}
		}
	}
	if len(pairs) == 0 {
		t.Fatalf("%s owns no shard", nd.Name)
	}
	id := eb.Metadata.BlobID
	testnet.WaitFor(t, 2*time.Minute, "the node to see the registration", func() (bool, error) {
		return nd.Daemon.Node().CheckWritable(id) == nil, nil
	})
	segments, size := api.EncodeBatch(eb.Metadata, pairs)
	pr, pw := io.Pipe()
	h.body = pw
	req, err := net.NewRequest(ctx, http.MethodPut, nd, "/v1/blobs/"+id.String()+"/slivers", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	go func() {
		resp, err := net.HTTPClient().Do(req)
		if err != nil {
			h.answered <- heldAnswer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		h.answered <- heldAnswer{resp.StatusCode, body, err}
	}()
	const head = 3 // metadata and pair count; the first pair's index and length; its primary data
	h.rest = segments[head:]
	for _, seg := range segments[:head] {
		if _, err := pw.Write(seg); err != nil {
			t.Fatal(err)
		}
	}
	testnet.WaitFor(t, 2*time.Minute, "the upload to open", func() (bool, error) {
		active, _ := nd.Daemon.Node().UploadActivity(id)
		return active == 1, nil
	})
	return h
}

// heldBodyGrace lets an upload body stall for as long as a test may run.
const heldBodyGrace = 10 * time.Minute

// TestRecoveryWaitsForUpload certifies a blob while a client's upload to one node is still
// streaming in: the node must not download recovery symbols for slivers that are arriving
// anyway. It puts the blob's sync off while the upload runs and, once the upload has
// stored everything, has nothing left to recover.
func TestRecoveryWaitsForUpload(t *testing.T) {
	net := testnet.NewCluster(t, testnet.Options{Shards: 8, Config: func(i int, c *daemon.Config) {
		c.BodyGrace = heldBodyGrace
		c.IngestWaitMax = heldBodyGrace // the sync waits for the held upload, however long the test takes
	}})
	startAll(t, net)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	victim := net.Nodes[2]
	h := holdUpload(t, ctx, net, victim, 7)

	// Certify with the other nodes' confirmations (the store reuses the registration).
	if b, err := net.Store(ctx, h.data, testnet.StoreOptions{Skip: []string{victim.Addr}}); err != nil {
		t.Fatal(err)
	} else if b.Object != h.obj {
		t.Fatalf("the store certified object %s, not the registration %s", b.Object, h.obj)
	}
	testnet.WaitFor(t, 2*time.Minute, "the victim to put the blob's sync off", func() (bool, error) {
		return victim.Daemon.Stats().BlobSyncsDeferred > 0, nil
	})
	if st := victim.Daemon.Stats(); st.RecoveryDownloadedBytes != 0 {
		t.Fatalf("the node downloaded %d bytes for recovery while the upload was in progress", st.RecoveryDownloadedBytes)
	}

	// The rest of the body arrives; the upload stores everything.
	for _, seg := range h.rest {
		if _, err := h.body.Write(seg); err != nil {
			t.Fatal(err)
		}
	}
	h.body.Close()
	a := <-h.answered
	if a.err != nil || a.code != http.StatusCreated {
		t.Fatalf("upload: %d %s %v", a.code, bytes.TrimSpace(a.body), a.err)
	}
	testnet.WaitFor(t, 2*time.Minute, "the blob's sync to end", func() (bool, error) {
		return victim.Daemon.Stats().BlobSyncsPending == 0, nil
	})
	st := victim.Daemon.Stats()
	if st.RecoveryDownloadedBytes != 0 || st.RecoveredSlivers != 0 {
		t.Fatalf("the node downloaded %d bytes and rebuilt %d slivers that its upload brought", st.RecoveryDownloadedBytes, st.RecoveredSlivers)
	}
	if ok, err := net.HoldsAll(ctx, victim.Addr, h.eb.Metadata.BlobID, h.shards); err != nil || !ok {
		t.Fatalf("the node does not hold its slivers: %v", err)
	}
}

// TestRecoveryAfterStalledUpload: an upload that stops midway does not hold recovery off
// for longer than IngestWaitMax; the node then recovers its slivers from its peers.
func TestRecoveryAfterStalledUpload(t *testing.T) {
	net := testnet.NewCluster(t, testnet.Options{Shards: 8, Config: func(i int, c *daemon.Config) {
		c.IngestQuiet = 100 * time.Millisecond
		c.IngestWaitMax = 500 * time.Millisecond
		c.BodyGrace = heldBodyGrace // the stalled upload stays open to the end of the test
	}})
	startAll(t, net)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	victim := net.Nodes[2]
	h := holdUpload(t, ctx, net, victim, 8)
	defer h.body.CloseWithError(io.ErrUnexpectedEOF)

	if b, err := net.Store(ctx, h.data, testnet.StoreOptions{Skip: []string{victim.Addr}}); err != nil {
		t.Fatal(err)
	} else if b.Object != h.obj {
		t.Fatalf("the store certified object %s, not the registration %s", b.Object, h.obj)
	}
	id := h.eb.Metadata.BlobID
	testnet.WaitFor(t, 2*time.Minute, "the node to recover its slivers past the stalled upload", func() (bool, error) {
		return net.HoldsAll(ctx, victim.Addr, id, h.shards)
	})
	testnet.WaitFor(t, 2*time.Minute, "the blob's sync to end", func() (bool, error) {
		return victim.Daemon.Stats().BlobSyncsPending == 0, nil
	})
	st := victim.Daemon.Stats()
	if st.BlobSyncsDeferred == 0 || st.RecoveredSlivers != int64(2*len(h.shards)) {
		t.Fatalf("%d syncs deferred, %d slivers rebuilt; want some deferred and %d rebuilt", st.BlobSyncsDeferred, st.RecoveredSlivers, 2*len(h.shards))
	}
	if active, _ := victim.Daemon.Node().UploadActivity(id); active != 1 {
		t.Fatalf("%d uploads in progress, want the stalled one", active)
	}
}

// TestRecoveryWaitsForTail: a node that got nothing of a blob before its certificate
// landed waits IngestQuiet before recovering it, and a client upload arriving in that time
// (a store's tail, or its retry to a node that just restarted) leaves nothing to recover.
func TestRecoveryWaitsForTail(t *testing.T) {
	net := testnet.NewCluster(t, testnet.Options{Shards: 8, Config: func(i int, c *daemon.Config) {
		// Time for the late upload, even on a heavily loaded machine; the test waits this
		// long for the deferred sync to look again.
		c.IngestQuiet = 20 * time.Second
		c.IngestWaitMax = time.Minute
	}})
	startAll(t, net)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	victim := net.Nodes[1]
	b, err := net.Store(ctx, randomData(9, 200_000), testnet.StoreOptions{Skip: []string{victim.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	testnet.WaitFor(t, 2*time.Minute, "the victim to put the blob's sync off", func() (bool, error) {
		return victim.Daemon.Stats().BlobSyncsDeferred > 0, nil
	})
	cmt, err := net.Chain.Committee(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var shards []uint16
	var pairs []*redstuff.SliverPair
	for _, m := range cmt.Members {
		if m.NetworkAddress == victim.Addr {
			shards = m.Shards
			for _, s := range m.Shards {
				pairs = append(pairs, &b.Encoded.Pairs[b.ID.ShardPair(int(s), net.Enc.NShards())])
			}
		}
	}
	if _, err := net.Client(victim.Addr).StoreSlivers(ctx, b.Encoded.Metadata, pairs); err != nil {
		t.Fatalf("the late upload: %v", err)
	}
	testnet.WaitFor(t, 2*time.Minute, "the blob's sync to end", func() (bool, error) {
		return victim.Daemon.Stats().BlobSyncsPending == 0, nil
	})
	st := victim.Daemon.Stats()
	if st.RecoveryDownloadedBytes != 0 || st.RecoveredSlivers != 0 {
		t.Fatalf("the node downloaded %d bytes and rebuilt %d slivers that the late upload brought", st.RecoveryDownloadedBytes, st.RecoveredSlivers)
	}
	if ok, err := net.HoldsAll(ctx, victim.Addr, b.ID, shards); err != nil || !ok {
		t.Fatalf("the node does not hold its slivers: %v", err)
	}
}
