package chainclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
)

// TestResendsTransactionsLostWithTheMempool admits a transaction to the mempool, restarts
// the validator before the transaction's block (the mempool is not persisted, so it is
// lost), and submits the sender's next transaction. The chain rejects that one's nonce;
// the client reads the nonce again, sends the lost transaction again and retries, so both
// commit and the first one's wait ends with its result.
func TestResendsTransactionsLostWithTheMempool(t *testing.T) {
	d := newDevnet(t, devnetOptions{rpc: true, timeoutCommit: 5 * time.Second})
	c, err := chainclient.Dial(d.rpcURL(), chainclient.Options{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	alice, bob := testSigner("alice"), testSigner("bob")
	// A committed transaction: the next block is at least timeoutCommit away.
	if _, err := c.Submit(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 1}); err != nil {
		t.Fatal(err)
	}
	lost, err := c.SubmitAsync(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 10}, 0)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-lost.Done():
		t.Skip("the transaction was committed before the restart; the machine is too slow for this test's timing")
	default:
	}
	d.restart()
	if _, err := c.Submit(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 100}); err != nil {
		t.Fatalf("submission after the validator lost its mempool: %v", err)
	}
	if _, err := lost.Wait(ctx); err != nil {
		t.Fatalf("the lost transaction: %v", err)
	}
	acct, err := c.Account(ctx, bob.Address())
	if err != nil {
		t.Fatal(err)
	}
	if acct.Balance != 111 {
		t.Fatalf("bob's balance is %d, want 111", acct.Balance)
	}
}
