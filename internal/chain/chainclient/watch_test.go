package chainclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
)

// TestDialedClientWakesOnNewBlocks polls so rarely (every 10 minutes) that only the
// websocket new-block subscription can end the waits in time: transactions submitted
// through a dialed client are found in their blocks, and a restart of the validator (the
// subscription's connection breaks) does not stop it.
func TestDialedClientWakesOnNewBlocks(t *testing.T) {
	d := newDevnet(t, devnetOptions{rpc: true})
	never := 10 * time.Minute
	c, err := chainclient.Dial(d.rpcURL(), chainclient.Options{
		Logger: testLogger(), PollMin: never, PollMax: never, IdlePoll: never, RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	alice, bob := testSigner("alice"), testSigner("bob")
	transfer := func(amount uint64) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := c.Submit(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: amount}); err != nil {
			t.Fatalf("transfer of %d: %v", amount, err)
		}
	}
	for i := range 3 {
		transfer(uint64(1 + i))
	}
	d.restart()
	transfer(10)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	acct, err := c.Account(ctx, bob.Address())
	if err != nil {
		t.Fatal(err)
	}
	if acct.Balance != 16 {
		t.Fatalf("bob's balance is %d, want 16", acct.Balance)
	}
}
