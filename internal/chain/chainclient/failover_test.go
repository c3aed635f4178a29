package chainclient_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
)

// TestDialAllFailover runs four validators with JSON-RPC on loopback and a client dialed to
// all of them: with the validator it talks to killed, its transactions are still committed
// (through the next validator) and its queries answered.
func TestDialAllFailover(t *testing.T) {
	g, _, err := chainnode.DevnetGenesis(chainnode.DevnetOptions{
		ChainID: "chainclient-failover", GenesisTime: time.Now(), EpochDuration: testEpoch,
		Accounts: []chain.GenesisAccount{{Address: testSigner("alice").Address(), Balance: 1000 * chain.FrostPerWAL}},
		Rand:     seededRand(11),
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgs := make([]chainnode.Config, 4)
	for i := range cfgs {
		cfgs[i] = chainnode.Config{
			Home: filepath.Join(dir, fmt.Sprint("validator-", i)), Moniker: fmt.Sprint("validator-", i),
			P2PListen: freeAddr(t), RPCListen: freeAddr(t), Heartbeat: 300 * time.Millisecond,
			TimeoutPropose: 400 * time.Millisecond, TimeoutVote: 200 * time.Millisecond, Logger: testLogger(),
		}
	}
	if cfgs, err = chainnode.GenerateNetwork(cfgs, g); err != nil {
		t.Fatal(err)
	}
	nodes := make([]*chainnode.Node, len(cfgs))
	addrs := make([]string, len(cfgs))
	for i, c := range cfgs {
		if nodes[i], err = chainnode.Start(c); err != nil {
			t.Fatal(err)
		}
		addrs[i] = "http://" + c.RPCListen
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.Close()
		}
	})
	client, err := chainclient.DialAll(addrs, chainclient.Options{Logger: testLogger(), ChainID: "chainclient-failover"})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	fo, ok := client.RPC().(*chainclient.Failover)
	if !ok {
		t.Fatalf("DialAll of %d addresses returned a client over %T", len(addrs), client.RPC())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	alice, bob := testSigner("alice"), testSigner("bob")
	transfer := func() *chainclient.TxResult {
		t.Helper()
		res, err := client.Submit(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 1})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := transfer()
	if fo.Current() != addrs[0] {
		t.Fatalf("calls go to %s before any failure, want %s", fo.Current(), addrs[0])
	}

	// Kill the validator the client talks to: the other three hold 30 of 40 votes.
	if err := nodes[0].Close(); err != nil {
		t.Fatal(err)
	}
	var last *chainclient.TxResult
	for range 3 {
		last = transfer()
	}
	if last.Height <= first.Height {
		t.Fatalf("committed at height %d, not after %d", last.Height, first.Height)
	}
	if fo.Current() == addrs[0] {
		t.Fatalf("still calling the killed validator %s", addrs[0])
	}
	acct, err := client.Account(ctx, bob.Address())
	if err != nil || acct.Balance != 4 {
		t.Fatalf("bob %+v, %v; want 4 FROST", acct, err)
	}
}

// TestDialAllAllDown checks that a call fails with the last endpoint's error when no
// endpoint answers, and that DialAll refuses an empty list.
func TestDialAllAllDown(t *testing.T) {
	if _, err := chainclient.DialAll(nil, chainclient.Options{}); !errors.Is(err, chainclient.ErrNoEndpoint) {
		t.Fatalf("DialAll(nil): %v", err)
	}
	c, err := chainclient.DialAll([]string{freeAddr(t), freeAddr(t)}, chainclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var _ rpcclient.Client = c.RPC()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Height(ctx); err == nil {
		t.Fatal("Height succeeded with no validator listening")
	}
}
