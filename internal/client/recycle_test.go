package client_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testnet"
)

// heldUploads is a client transport that holds every sliver upload (PUT) to one node
// until released, so that those uploads become the tails of the stores and go on after
// the stores returned.
type heldUploads struct {
	base http.RoundTripper
	host string
	gate chan struct{}
}

func (h *heldUploads) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && r.URL.Host == h.host {
		select {
		case <-h.gate:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return h.base.RoundTrip(r)
}

// Stores recycle their encodings' sliver buffers for the next stores, but only once
// nothing sends them any more. Concurrent stores run while one node's uploads are held,
// so that every store returns with a tail still to send its slivers to that node and the
// stores after it encode meanwhile: a buffer recycled when its store returned would be
// overwritten by a later encode before the tail reads it, and the node would get (and
// refuse) other bytes. Every node must end up holding exactly the slivers of a fresh
// encoding of each blob. Then, with the uploads flowing, more stores encode into the
// recycled buffers, and their slivers must be right too.
func TestStoreRecyclesEncodingsAfterTails(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	held := &heldUploads{base: nodetls.NewTransport(&http.Transport{}), host: net.Nodes[0].Addr, gate: make(chan struct{})}
	cfg := net.ClientConfig()
	cfg.HTTPClient = &http.Client{Transport: held}
	// The tails wait for the gate, not for a deadline; but they do end (a tail that keeps
	// failing, as one sending overwritten slivers would, ends with the check failing).
	cfg.TailBase = 5 * time.Minute
	c, err := net.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const size = 150_000 // the same size for every blob: each encode fits the recycled buffers
	var mu sync.Mutex
	var blobs []storedBlob
	storeAll := func(round, workers, each int) {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					data := randomBlob(size, uint64(1000*round+10*w+i))
					res, err := c.Store(testContext(t), data, client.StoreOptions{Epochs: 1})
					if err != nil {
						t.Errorf("round %d, store %d.%d: %v", round, w, i, err)
						return
					}
					id, err := redstuff.ParseBlobID(res.BlobID())
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					blobs = append(blobs, storedBlob{id, data})
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	// Every store returns with its upload to node 0 held (the others hold a quorum).
	storeAll(1, 3, 3)
	keptWhileHeld := c.KeptEncodings()
	close(held.gate)
	c.WaitTail()
	if t.Failed() {
		return
	}
	checkSliversOnNodes(t, net, blobs)
	if anyKept(keptWhileHeld) {
		t.Fatalf("with every store's tail held, the client kept recycled buffers: %v", keptWhileHeld)
	}
	if got := c.KeptEncodings(); !anyKept(got) {
		t.Fatalf("after the tails ended, the client keeps no recycled buffers: %v", got)
	}
	// These encode into the recycled buffers, concurrently with their recycling.
	storeAll(2, 3, 3)
	c.WaitTail()
	if t.Failed() {
		return
	}
	checkSliversOnNodes(t, net, blobs)
	// Unused for the idle time, the buffers are dropped.
	c.TrimEncodings(time.Now().Add(client.SpareIdle))
	if got := c.KeptEncodings(); len(got) != 0 {
		t.Fatalf("idle for %v, the client still keeps %v", client.SpareIdle, got)
	}
}

func anyKept(m map[int]int) bool {
	for _, bytes := range m {
		if bytes > 0 {
			return true
		}
	}
	return false
}

type storedBlob struct {
	id   redstuff.BlobID
	data []byte
}

// checkSliversOnNodes checks that the nodes together hold both slivers of every pair of
// every blob, each byte for byte those of a fresh encoding.
func checkSliversOnNodes(t *testing.T, net *testnet.Network, blobs []storedBlob) {
	t.Helper()
	enc, err := redstuff.NewConfig(testnet.DefaultShards)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blobs {
		want, err := enc.NewEncoder().Encode(b.data)
		if err != nil {
			t.Fatal(err)
		}
		if want.Metadata.BlobID != b.id {
			t.Fatalf("blob %s encodes to %s", b.id, want.Metadata.BlobID)
		}
		for p, pair := range want.Pairs {
			for _, s := range []redstuff.Sliver{pair.Primary, pair.Secondary} {
				holders, right := 0, 0
				var errs []string
				for i, node := range net.Nodes {
					got, err := node.Node().Sliver(b.id, p, s.Axis)
					if err != nil {
						errs = append(errs, fmt.Sprintf("node %d: %v", i, err))
						continue
					}
					holders++
					if d, err := redstuff.DecodeSliver(got, s.Axis, len(got)); err == nil && d.Index == s.Index && bytes.Equal(d.Data, s.Data) {
						right++
					}
				}
				if holders != 1 || right != 1 {
					t.Fatalf("blob %s, %s sliver of pair %d: held by %d nodes, %d of them right (want 1 and 1); %s",
						b.id, s.Axis, p, holders, right, strings.Join(errs, "; "))
				}
			}
		}
	}
}
