package chainclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
)

// Every devnet used to have the chain ID "walrus-devnet", so a transaction signed for one
// was valid on every other: a wallet used on two devnets could be replayed between them.
// Now each genesis draws its own chain ID, and a client pinned to one chain refuses to sign
// for another.
func TestChainIDReplayBetweenDevnets(t *testing.T) {
	a := newDevnet(t, devnetOptions{chainID: "generate", seed: 1})
	b := newDevnet(t, devnetOptions{chainID: "generate", seed: 2})
	idA, idB := a.genesis.Params.ChainID, b.genesis.Params.ChainID
	if idA == idB || !strings.HasPrefix(idA, "walrus-devnet-") {
		t.Fatalf("chain IDs %q and %q", idA, idB)
	}
	ctx := context.Background()
	alice := testSigner("alice") // funded on both chains
	bob := testSigner("bob").Address()

	// Alice signs a transfer on devnet A; an attacker broadcasts the same bytes to B.
	tx, err := a.client.Sign(ctx, alice, &chain.Transfer{To: bob, Amount: 7}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.client.Broadcast(ctx, tx.Encode()); !errors.Is(err, chain.ErrBadSignature) {
		t.Fatalf("a transaction signed for %s replayed on %s: %v, want a bad signature", idA, idB, err)
	}
	if acct, err := b.client.Account(ctx, bob); err != nil || acct.Balance != 0 {
		t.Fatalf("bob on %s: %+v, %v", idB, acct, err)
	}
	// On A the same bytes are valid.
	p, err := a.client.Broadcast(ctx, tx.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if res, err := p.Wait(ctx); err != nil || res.Code != chain.CodeOK {
		t.Fatalf("transfer on %s: %+v, %v", idA, res, err)
	}

	// A client pinned to A's ID connected to B signs nothing.
	pinned, err := chainclient.New(b.node.Client(), chainclient.Options{ChainID: idA, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer pinned.Close()
	if _, err := pinned.Params(ctx); !errors.Is(err, chainclient.ErrChainID) {
		t.Fatalf("Params from the wrong chain: %v", err)
	}
	if _, err := pinned.Sign(ctx, alice, &chain.Transfer{To: bob, Amount: 7}, 0, 0); !errors.Is(err, chainclient.ErrChainID) {
		t.Fatalf("Sign for the wrong chain: %v", err)
	}
	if _, err := pinned.Submit(ctx, alice, &chain.Transfer{To: bob, Amount: 7}); !errors.Is(err, chainclient.ErrChainID) {
		t.Fatalf("Submit for the wrong chain: %v", err)
	}
	// Pinned to the right ID it works.
	right, err := chainclient.New(b.node.Client(), chainclient.Options{ChainID: idB, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer right.Close()
	if res, err := right.Submit(ctx, alice, &chain.Transfer{To: bob, Amount: 7}); err != nil || res.Code != chain.CodeOK {
		t.Fatalf("transfer on %s: %+v, %v", idB, res, err)
	}
}
