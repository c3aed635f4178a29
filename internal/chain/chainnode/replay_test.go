package chainnode_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/abciapp"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
)

// TestAppLostBlocksReplayed gives a validator back an application database from several
// blocks earlier, as a crash may leave it (block commits are not synced), and checks that
// CometBFT's handshake replays the missing blocks from its block store at the start: the
// node resumes at the height and app hash it had, with the lost transactions' effects, and
// goes on making blocks.
func TestAppLostBlocksReplayed(t *testing.T) {
	g := testGenesis(t)
	home := t.TempDir()
	cfg, err := chainnode.GenerateSingle(chainnode.Config{Home: home, P2PListen: "127.0.0.1:0", RPCListen: freeAddr(t), Logger: testLogger()}, g)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	alice, bob := testSigner("alice"), testSigner("bob")
	// transfer sends amount from alice to bob through a node and waits for its block.
	transfer := func(n *chainnode.Node, amount uint64) {
		t.Helper()
		c, err := chainclient.Dial(n.RPCAddr(), chainclient.Options{Logger: testLogger()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for range 3 {
			if _, err := c.Submit(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: amount}); err != nil {
				t.Fatal(err)
			}
		}
	}
	balance := func(n *chainnode.Node) uint64 {
		t.Helper()
		var b uint64
		if err := n.App().ReadState(func(v *chain.View, _ abciapp.Commit) error {
			b = v.Account(bob.Address()).Balance
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return b
	}

	n, err := chainnode.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	transfer(n, 1)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	early, _ := n.App().LastCommit()
	// The application database as of the early height.
	snapshot := t.TempDir() + "/app"
	if err := os.CopyFS(snapshot, os.DirFS(chainnode.AppDir(home))); err != nil {
		t.Fatal(err)
	}

	if n, err = chainnode.Start(cfg); err != nil {
		t.Fatal(err)
	}
	transfer(n, 10)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	late, _ := n.App().LastCommit()
	if late.Height < early.Height+3 || late.AppHash == early.AppHash {
		t.Fatalf("the second run committed %+v after %+v", late, early)
	}

	// The application loses the blocks after the early height.
	if err := os.RemoveAll(chainnode.AppDir(home)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(snapshot, chainnode.AppDir(home)); err != nil {
		t.Fatal(err)
	}
	if n, err = chainnode.Start(cfg); err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	// Start returns after the handshake: the lost blocks are replayed. (An empty proof
	// block may follow: same app hash.)
	if got, _ := n.App().LastCommit(); got.Height < late.Height || got.AppHash != late.AppHash {
		t.Fatalf("after the restart %+v, want height %d with app hash %X", got, late.Height, late.AppHash)
	}
	if b := balance(n); b != 33 {
		t.Fatalf("bob holds %d after the replay, want 33", b)
	}
	// And the chain goes on.
	transfer(n, 100)
	if b := balance(n); b != 333 {
		t.Fatalf("bob holds %d, want 333", b)
	}
}
