package chainclient_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
)

// resultsFirst is a node's RPC that answers a block only once the results of the same
// block have been asked for: a client that reads a block and then its results, one round
// trip after the other, never gets the block (the gate gives up after a generous
// deadline, or when the caller's call times out first, and reports it on sequential).
type resultsFirst struct {
	rpcclient.Client

	mu         sync.Mutex
	asked      map[int64]chan struct{}
	sequential chan struct{}
	once       sync.Once
}

func (r *resultsFirst) askedFor(h int64) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch, ok := r.asked[h]
	if !ok {
		ch = make(chan struct{})
		r.asked[h] = ch
	}
	return ch
}

func (r *resultsFirst) BlockResults(ctx context.Context, h *int64) (*ctypes.ResultBlockResults, error) {
	if h != nil {
		ch := r.askedFor(*h)
		select {
		case <-ch:
		default:
			close(ch)
		}
	}
	return r.Client.BlockResults(ctx, h)
}

var errSequentialReads = errors.New("test: block read before its results were asked for")

func (r *resultsFirst) Block(ctx context.Context, h *int64) (*ctypes.ResultBlock, error) {
	if h != nil {
		t := time.NewTimer(30 * time.Second)
		defer t.Stop()
		select {
		case <-r.askedFor(*h):
		case <-t.C:
			r.once.Do(func() { close(r.sequential) })
			return nil, errSequentialReads
		case <-ctx.Done():
			// The caller gave up (its call timeout) before asking for the results.
			r.once.Do(func() { close(r.sequential) })
			return nil, ctx.Err()
		}
	}
	return r.Client.Block(ctx, h)
}

// TestWaitReadsBlockAndResultsConcurrently: waiting for a transaction costs one round trip
// to the node per block scanned, not two (the block, then its results), which on a WAN is
// a round trip less for each transaction of a store.
func TestWaitReadsBlockAndResultsConcurrently(t *testing.T) {
	d := newDevnet(t, devnetOptions{})
	rpc := &resultsFirst{Client: d.node.Client(), asked: map[int64]chan struct{}{}, sequential: make(chan struct{})}
	c, err := chainclient.New(rpc, chainclient.Options{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pend, err := c.SubmitAsync(ctx, testSigner("alice"), &chain.Transfer{To: testSigner("bob").Address(), Amount: 7}, 0)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-pend.Done():
	case <-rpc.sequential:
		t.Fatal("the client read a block before asking for its results: two round trips in a row per block")
	case <-ctx.Done():
		t.Fatal("no outcome for the transaction")
	}
	res, err := pend.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != chain.CodeOK {
		t.Fatalf("transfer: code %v", res.Code)
	}
}
