package chainclient_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
)

// TestRejections sends transactions the chain rejects and checks that the client reports the
// chain's code (as an *chainclient.Error wrapping the chain's sentinel) and that nothing
// changed: no block, same state.
func TestRejections(t *testing.T) {
	d := newDevnet(t, devnetOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := d.client
	alice, bob, carol := testSigner("alice"), testSigner("bob"), testSigner("carol")

	// One accepted transaction, so that there is a nonce to replay.
	first, err := c.Sign(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 1}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	pend, err := c.Broadcast(ctx, first.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res, err := pend.Wait(ctx)
	if err != nil || res.Code != chain.CodeOK || res.Fee != chainnode.DefaultMinFee {
		t.Fatalf("first transfer: %+v, %v", res, err)
	}
	d.waitHeight(res.Height + 1)

	badSig, _ := c.Sign(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 1}, 1, 0)
	badSig.Signature[0] ^= 1
	otherChain := &chain.Tx{Nonce: 1, Fee: chainnode.DefaultMinFee, Payload: &chain.Transfer{To: bob.Address(), Amount: 1}}
	alice.Sign("another-chain", otherChain)
	replay, _ := c.Sign(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 2}, 0, 0)
	gap, _ := c.Sign(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 2}, 5, 0)
	cheap, _ := c.Sign(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 2}, 1, 1)
	poor, _ := c.Sign(ctx, bob, &chain.Transfer{To: alice.Address(), Amount: 1}, 0, 0)
	cases := []struct {
		name     string
		raw      []byte
		sentinel error
		code     chain.Code
	}{
		{"bad signature", badSig.Encode(), chain.ErrBadSignature, chain.CodeBadSignature},
		{"signed for another chain", otherChain.Encode(), chain.ErrBadSignature, chain.CodeBadSignature},
		{"replayed nonce", replay.Encode(), chain.ErrNonce, chain.CodeNonce},
		{"nonce gap", gap.Encode(), chain.ErrNonce, chain.CodeNonce},
		{"fee too low", cheap.Encode(), chain.ErrFeeTooLow, chain.CodeFeeTooLow},
		{"insufficient funds for the fee", poor.Encode(), chain.ErrInsufficientFunds, chain.CodeInsufficientFunds},
		{"malformed", []byte{1, 2, 3}, chain.ErrMalformed, chain.CodeMalformed},
	}
	before, height := stateDump(t, d)
	for _, tc := range cases {
		_, err := c.Broadcast(ctx, tc.raw)
		var ce *chainclient.Error
		if !errors.As(err, &ce) || ce.Code != tc.code || ce.Height != 0 || !errors.Is(err, tc.sentinel) || chain.CodeOf(err) != tc.code {
			t.Errorf("%s: %v, want a rejection with code %s", tc.name, err, chain.CodeName(tc.code))
		}
	}
	// The exact bytes of the committed transaction: the mempool cache or the nonce check
	// stops them.
	if _, err := c.Broadcast(ctx, first.Encode()); !errors.Is(err, chainclient.ErrDuplicateTx) && !errors.Is(err, chain.ErrNonce) {
		t.Errorf("replayed transaction: %v", err)
	}
	// Submit reports admission rejections the same way.
	if _, err := c.Submit(ctx, bob, &chain.Transfer{To: alice.Address(), Amount: 1}); !errors.Is(err, chain.ErrInsufficientFunds) {
		t.Errorf("submit from an empty account: %v", err)
	}
	after, afterHeight := stateDump(t, d)
	if afterHeight != height || !cmp.Equal(before, after) {
		t.Fatalf("rejected transactions changed the chain: height %d -> %d", height, afterHeight)
	}

	// A transaction that passes admission but fails in its block pays its fee and advances
	// its nonce, and changes nothing else.
	carolBefore, _ := c.Account(ctx, carol.Address())
	res, err = c.Submit(ctx, carol, &chain.Transfer{To: bob.Address(), Amount: 1000})
	if !errors.Is(err, chain.ErrInsufficientFunds) || res == nil || res.Height == 0 || res.Fee != chainnode.DefaultMinFee || len(res.Events) != 0 {
		t.Fatalf("overdrawn transfer: %+v, %v", res, err)
	}
	var ce *chainclient.Error
	if !errors.As(err, &ce) || ce.Height != res.Height {
		t.Fatalf("overdrawn transfer error %v", err)
	}
	carolAfter, _ := c.Account(ctx, carol.Address())
	bobAcct, _ := c.Account(ctx, bob.Address())
	if carolAfter.Balance != carolBefore.Balance-chainnode.DefaultMinFee || carolAfter.Nonce != carolBefore.Nonce+1 || bobAcct.Balance != 1 {
		t.Fatalf("after a failed transfer: carol %+v -> %+v, bob %+v", carolBefore, carolAfter, bobAcct)
	}

	// The nonce bookkeeping recovers from rejections: alice's next submissions succeed.
	for range 3 {
		if res, err := c.Submit(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 1}); err != nil {
			t.Fatalf("submit after rejections: %+v, %v", res, err)
		}
	}
}

// TestQueryErrors checks the typed queries' errors.
func TestQueryErrors(t *testing.T) {
	d := newDevnet(t, devnetOptions{})
	ctx := context.Background()
	if _, err := d.client.Object(ctx, chain.ObjectID{1}); !errors.Is(err, chain.ErrNotFound) {
		t.Errorf("unknown object: %v", err)
	}
	if _, _, err := d.client.Query(ctx, "/nope", nil); !errors.Is(err, chain.ErrUnknownQuery) {
		t.Errorf("unknown query: %v", err)
	}
	if _, err := d.client.CommitteeAt(ctx, 9); !errors.Is(err, chain.ErrNotFound) {
		t.Errorf("committee of a future epoch: %v", err)
	}
	p, err := d.client.Params(ctx)
	if err != nil || p.ChainID != d.genesis.Params.ChainID {
		t.Errorf("params %+v, %v", p, err)
	}
	pools, err := d.client.Pools(ctx)
	if err != nil || len(pools) != len(d.keys) {
		t.Errorf("pools: %d, %v", len(pools), err)
	}
	objs, err := d.client.AllOwned(ctx, chain.AddressOf(d.keys[0].Operator.Public().(ed25519.PublicKey)), chain.KindStakedWal)
	if err != nil || len(objs) != 1 {
		t.Errorf("staked WAL of an operator: %v, %v", objs, err)
	}
}

// TestConcurrentSubmits submits from one account in many goroutines: the client assigns
// consecutive nonces and every transaction commits.
func TestConcurrentSubmits(t *testing.T) {
	d := newDevnet(t, devnetOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	alice, bob := testSigner("alice"), testSigner("bob")
	const goroutines, each = 8, 10
	errs := make(chan error, goroutines*each)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, err := d.client.Submit(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 1}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	acct, err := d.client.Account(ctx, alice.Address())
	if err != nil || acct.Nonce != goroutines*each {
		t.Fatalf("alice %+v, %v", acct, err)
	}
	if b, _ := d.client.Account(ctx, bob.Address()); b.Balance != goroutines*each {
		t.Fatalf("bob %+v", b)
	}
}
