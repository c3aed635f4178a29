package client_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	cmtbytes "github.com/cometbft/cometbft/libs/bytes"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/testnet"
)

// queryLog is a validator's RPC that records the chain queries a store sends, in order,
// and the point at which the certifying transaction was broadcast. While gated, it holds
// the system-state query until the wallet's balance and Storage listing have been asked
// for: a store that reads them one after the other never gets past the gate.
type queryLog struct {
	rpcclient.Client

	mu        sync.Mutex
	gated     bool
	paths     []string
	certifyAt int // len(paths) when the CertifyBlob transaction was broadcast; -1 before
	account   chan struct{}
	storage   chan struct{}
	// sequential is set when the gate gave up: the store did not ask for the wallet's
	// reads while it waited for the system state.
	sequential bool
}

var errSequential = errors.New("test: the system state was read before the wallet's balance and Storage objects were asked for")

func newQueryLog(rpc rpcclient.Client) *queryLog {
	return &queryLog{Client: rpc, certifyAt: -1, account: make(chan struct{}), storage: make(chan struct{})}
}

func (q *queryLog) ABCIQuery(ctx context.Context, path string, data cmtbytes.HexBytes) (*coretypes.ResultABCIQuery, error) {
	q.mu.Lock()
	q.paths = append(q.paths, path)
	gated := q.gated
	switch {
	case !gated:
	case path == chain.QueryAccount:
		closeOnce(q.account)
	case path == chain.QueryOwned:
		closeOnce(q.storage)
	}
	q.mu.Unlock()
	if gated && path == chain.QuerySystem {
		// A generous deadline, only ever reached by a store that reads sequentially.
		wait := time.NewTimer(30 * time.Second)
		defer wait.Stop()
		for _, ch := range []chan struct{}{q.account, q.storage} {
			select {
			case <-ch:
			case <-wait.C:
				q.mu.Lock()
				q.sequential = true
				q.mu.Unlock()
				return nil, errSequential
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	return q.Client.ABCIQuery(ctx, path, data)
}

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func (q *queryLog) BroadcastTxSync(ctx context.Context, tx cmttypes.Tx) (*coretypes.ResultBroadcastTx, error) {
	if d, err := chain.DecodeTx(tx); err == nil {
		if _, ok := d.Payload.(*chain.CertifyBlob); ok {
			q.mu.Lock()
			q.certifyAt = len(q.paths)
			q.mu.Unlock()
		}
	}
	return q.Client.BroadcastTxSync(ctx, tx)
}

// TestStoreQueries checks the chain round trips of a store of a new blob: the wallet's
// balance and Storage listing are read concurrently with the system state (not each after
// the other), the system state is read once, and nothing is read from the chain after the
// certification (the Blob object comes from its registration and the certifying
// transaction's event).
func TestStoreQueries(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	q := newQueryLog(net.Chain.RPC())
	cc, err := chainclient.New(q, chainclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	cfg := net.ClientConfig()
	cfg.Chain = cc
	c, err := net.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A first store warms the caches (parameters, committee, nonce), as in a long-lived
	// client.
	mustStore(t, c, randomBlob(1000, 1), client.StoreOptions{Epochs: 1})

	q.mu.Lock()
	q.paths, q.certifyAt, q.gated = nil, -1, true
	q.mu.Unlock()
	res, err := c.Store(testContext(t), randomBlob(1000, 2), client.StoreOptions{Epochs: 1})
	q.mu.Lock()
	paths, certifyAt, sequential := q.paths, q.certifyAt, q.sequential
	q.mu.Unlock()
	t.Logf("queries: %v (certification broadcast after %d)", paths, certifyAt)
	if sequential {
		t.Fatalf("the store read the system state, the wallet's balance and its Storage objects one after the other: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-q.account:
	default:
		t.Error("the store did not read the wallet's balance")
	}
	select {
	case <-q.storage:
	default:
		t.Error("the store did not list the wallet's Storage objects")
	}
	count := map[string]int{}
	for _, p := range paths {
		count[p]++
	}
	if count[chain.QuerySystem] != 1 {
		t.Errorf("the store read the system state %d times, want 1", count[chain.QuerySystem])
	}
	if certifyAt < 0 {
		t.Fatal("no certifying transaction was broadcast")
	}
	if after := paths[certifyAt:]; len(after) > 0 {
		t.Errorf("the store queried the chain after broadcasting the certification: %v", after)
	}
	nc := res.NewlyCreated
	if nc == nil {
		t.Fatalf("store: %+v, want newlyCreated", res)
	}
	// The Blob object the store returns is the one on chain.
	id, err := chain.ParseObjectID(nc.BlobObject.ID)
	if err != nil {
		t.Fatal(err)
	}
	onChain, err := net.Chain.Blob(testContext(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if want := client.NewBlobObject(onChain); !reflect.DeepEqual(nc.BlobObject, want) {
		t.Errorf("the store returned the blob object %+v, the chain holds %+v", nc.BlobObject, want)
	}
	if !onChain.Certified {
		t.Error("the blob object on chain is not certified")
	}
}
