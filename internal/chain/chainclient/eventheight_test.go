package chainclient_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
)

// TestWaitEndsOnTheAnnouncedBlock: a dialed client learns that a waited-for transaction's
// block is committed from the node's new-block event alone, without asking the node for
// its height (a round trip on the path of every transaction wait). The node's answer to
// abci_info is frozen at the height before the transaction, so a client that relied on it
// would never look at the transaction's block.
func TestWaitEndsOnTheAnnouncedBlock(t *testing.T) {
	d := newDevnet(t, devnetOptions{rpc: true})
	var frozen atomic.Int64 // 0: forward abci_info
	var asked atomic.Int64
	proxy := rpcProxy(t, d.rpcURL(), func(method string, _ []byte) string {
		if method != "abci_info" {
			return ""
		}
		asked.Add(1)
		h := frozen.Load()
		if h == 0 {
			return ""
		}
		return fmt.Sprintf(`{"response":{"data":"walrus-go","version":"walrus-go/1","app_version":"1","last_block_height":"%d"}}`, h)
	})
	c, err := chainclient.Dial(proxy.URL, chainclient.Options{Logger: testLogger(), CallTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	alice, bob := testSigner("alice"), testSigner("bob")
	// A first transfer warms the client up (nonce, parameters, subscription).
	if _, err := c.Submit(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 1}); err != nil {
		t.Fatal(err)
	}
	h, err := c.Height(ctx)
	if err != nil {
		t.Fatal(err)
	}
	frozen.Store(h)
	res, err := c.Submit(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 2})
	if err != nil {
		t.Fatalf("transfer with the node's height frozen at %d: %v", h, err)
	}
	if res.Height <= h {
		t.Fatalf("transfer committed at height %d, not after %d", res.Height, h)
	}
	t.Logf("abci_info asked %d times", asked.Load())
}
