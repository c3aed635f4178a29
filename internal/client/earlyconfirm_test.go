package client_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"

	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/testnet"
)

// confirmationSeen is a storage-node transport that notes the confirmation requests.
type confirmationSeen struct {
	base   http.RoundTripper
	count  atomic.Int64
	once   sync.Once
	asked  chan struct{}
	counts atomic.Bool
}

func (c *confirmationSeen) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.counts.Load() && strings.Contains(r.URL.Path, "/confirmation/") {
		c.count.Add(1)
		c.once.Do(func() { close(c.asked) })
	}
	return c.base.RoundTrip(r)
}

// resultsHeld is a validator's RPC whose block results (how a client learns that its
// transaction landed) are held, while gated, until a confirmation was asked for. A store
// that asks for confirmations only after it saw its registration land never gets past
// the gate (it gives up when the caller's call times out, or after a generous deadline,
// and reports it on held).
type resultsHeld struct {
	rpcclient.Client
	gated atomic.Bool
	seen  *confirmationSeen
	held  chan struct{}
	once  sync.Once
}

var errResultsHeld = errors.New("test: no confirmation was asked for before the registration's block was read")

func (r *resultsHeld) BlockResults(ctx context.Context, h *int64) (*ctypes.ResultBlockResults, error) {
	if r.gated.Load() {
		t := time.NewTimer(30 * time.Second)
		defer t.Stop()
		select {
		case <-r.seen.asked:
		case <-t.C:
			r.once.Do(func() { close(r.held) })
			return nil, errResultsHeld
		case <-ctx.Done():
			r.once.Do(func() { close(r.held) })
			return nil, ctx.Err()
		}
	}
	return r.Client.BlockResults(ctx, h)
}

// TestConfirmationsAskedBeforeTheRegistrationIsSeen: after pending uploads, a store asks
// the nodes for their confirmations as soon as its registration transaction was
// admitted (the nodes answer once they have seen it land and stored the data), not only
// after the client itself saw the registration's block: the client's and the nodes' view
// of the registration overlap instead of following each other.
func TestConfirmationsAskedBeforeTheRegistrationIsSeen(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	seen := &confirmationSeen{base: nodetls.NewTransport(nil), asked: make(chan struct{})}
	rpc := &resultsHeld{Client: net.Chain.RPC(), seen: seen, held: make(chan struct{})}
	cc, err := chainclient.New(rpc, chainclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	cfg := net.ClientConfig()
	cfg.Chain = cc
	cfg.HTTPClient = &http.Client{Transport: seen}
	c, err := net.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A first store warms the caches (committee, nonce).
	mustStore(t, c, randomBlob(1000, 3), client.StoreOptions{Epochs: 1})

	seen.counts.Store(true)
	rpc.gated.Store(true)
	ctx := testContext(t)
	type outcome struct {
		res *client.StoreResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := c.Store(ctx, randomBlob(1000, 4), client.StoreOptions{Epochs: 1})
		done <- outcome{res, err}
	}()
	var o outcome
	select {
	case o = <-done:
	case <-rpc.held:
		t.Fatal("the store asked for no confirmation before it saw its registration land")
	}
	if o.err != nil {
		t.Fatal(o.err)
	}
	if o.res.NewlyCreated == nil || o.res.NewlyCreated.BlobObject.CertifiedEpoch == nil {
		t.Fatalf("store: %+v, want a newly created certified blob", o.res)
	}
	// Each node was asked once: the confirmations asked for early were for the object
	// the registration created.
	if n, nodes := seen.count.Load(), int64(len(net.Nodes)); n > nodes {
		t.Errorf("%d confirmation requests to %d nodes", n, nodes)
	}
}
