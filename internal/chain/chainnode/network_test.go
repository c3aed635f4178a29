package chainnode_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/blake2b"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/abciapp"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
	"github.com/walrus-go/walrus/internal/testvec"
)

var (
	testLogger = testvec.Logger
	freeAddr   = testvec.FreeAddr
)

func testSigner(name string) *chainclient.Signer {
	seed := blake2b.Sum256([]byte("chainnode-test:" + name))
	return chainclient.NewSigner(ed25519.NewKeyFromSeed(seed[:]))
}

func testGenesis(t testing.TB) *chain.Genesis {
	t.Helper()
	var seed [32]byte
	g, _, err := chainnode.DevnetGenesis(chainnode.DevnetOptions{
		ChainID: "chainnode-test", GenesisTime: time.Now(), EpochDuration: time.Hour,
		Accounts: []chain.GenesisAccount{{Address: testSigner("alice").Address(), Balance: 1000 * chain.FrostPerWAL}},
		Rand:     rand.NewChaCha8(seed),
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronization
	}
}

// TestFourValidators runs an in-process network of four validators on loopback: it keeps
// committing with one validator stopped, and the stopped one catches up after a restart to
// the same height and app hash.
func TestFourValidators(t *testing.T) {
	g := testGenesis(t)
	dir := t.TempDir()
	cfgs := make([]chainnode.Config, 4)
	for i := range cfgs {
		cfgs[i] = chainnode.Config{
			Home: filepath.Join(dir, fmt.Sprint("validator-", i)), Moniker: fmt.Sprint("validator-", i),
			P2PListen: freeAddr(t), RPCListen: chainnode.RPCOff, Heartbeat: 300 * time.Millisecond,
			TimeoutPropose: 400 * time.Millisecond, TimeoutVote: 200 * time.Millisecond, Logger: testLogger(),
		}
	}
	cfgs, err := chainnode.GenerateNetwork(cfgs, g)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs[0].PersistentPeers) != 3 {
		t.Fatalf("peers %v", cfgs[0].PersistentPeers)
	}
	nodes := make([]*chainnode.Node, 4)
	for i, c := range cfgs {
		if nodes[i], err = chainnode.Start(c); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, n := range nodes {
			if n != nil {
				n.Close()
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	client, err := chainclient.New(nodes[0].Client(), chainclient.Options{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	alice, bob := testSigner("alice"), testSigner("bob")
	transfer := func(n int) *chainclient.TxResult {
		t.Helper()
		var last *chainclient.TxResult
		for range n {
			res, err := client.Submit(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 1})
			if err != nil {
				t.Fatal(err)
			}
			last = res
		}
		return last
	}
	// converged waits until every running validator has committed at least height h with the
	// app hash of validator 0.
	converged := func(h int64) {
		t.Helper()
		waitFor(t, 3*time.Minute, fmt.Sprintf("validators at height %d", h), func() bool {
			want, _ := nodes[0].App().LastCommit()
			for _, n := range nodes {
				if n == nil {
					continue
				}
				c, _ := n.App().LastCommit()
				if c.Height < h || c.AppHash != want.AppHash {
					return false
				}
			}
			return true
		})
	}

	res := transfer(2)
	converged(res.Height + 1)

	// One validator down: the other three (30 of 40 votes) go on.
	stopped, _ := nodes[3].App().LastCommit()
	if err := nodes[3].Close(); err != nil {
		t.Fatal(err)
	}
	nodes[3] = nil
	res = transfer(4)
	if res.Height <= stopped.Height {
		t.Fatalf("committed at %d, not after the stop at %d", res.Height, stopped.Height)
	}
	converged(res.Height + 1)

	// Restarted, it replays and syncs the blocks it missed.
	if nodes[3], err = chainnode.Start(cfgs[3]); err != nil {
		t.Fatal(err)
	}
	converged(res.Height + 1)
	acct, err := client.Account(ctx, bob.Address())
	if err != nil || acct.Balance != 6 {
		t.Fatalf("bob %+v, %v", acct, err)
	}
	// And it takes part again: transactions submitted to it are committed.
	c3, err := chainclient.New(nodes[3].Client(), chainclient.Options{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	res, err = c3.Submit(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 1})
	if err != nil {
		t.Fatal(err)
	}
	converged(res.Height + 1)
	if _, err := c3.VerifyAppHashes(ctx, 0); err != nil {
		t.Fatal(err)
	}
}

// TestSingleValidatorLifecycle checks the generator's output, Close idempotence, refusal
// to overwrite a home, and a restart.
func TestSingleValidatorLifecycle(t *testing.T) {
	g := testGenesis(t)
	home := t.TempDir()
	cfg, err := chainnode.GenerateSingle(chainnode.Config{Home: home, P2PListen: "127.0.0.1:0", RPCListen: freeAddr(t), Logger: testLogger()}, g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chainnode.GenerateSingle(chainnode.Config{Home: home}, g); err == nil {
		t.Fatal("generated over an existing home")
	}
	back, err := chainnode.ReadGenesis(home)
	if err != nil || back.Digest() != g.Digest() {
		t.Fatalf("genesis read back: %v", err)
	}
	for _, f := range []string{"config/priv_validator_key.json", "config/node_key.json"} {
		st, err := os.Stat(filepath.Join(home, f))
		if err != nil || st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: %v, mode %v", f, err, st.Mode())
		}
	}
	n, err := chainnode.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, "block 1", func() bool { c, _ := n.App().LastCommit(); return c.Height >= 1 })
	id, err := chainnode.NodeID(home)
	if err != nil || id != n.NodeID() {
		t.Fatalf("node ID %q, %v; running %q", id, err, n.NodeID())
	}
	// A second node on the same home fails (the databases are locked) without harm.
	if _, err := chainnode.Start(cfg); err == nil {
		t.Fatal("started two nodes on one home")
	}
	c, err := chainclient.Dial(n.RPCAddr(), chainclient.Options{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := c.Submit(ctx, testSigner("alice"), &chain.Transfer{To: testSigner("bob").Address(), Amount: 5}); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := n.App().LastCommit() // the last commit before the stop
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := n.App().ReadState(func(*chain.View, abciapp.Commit) error { return nil }); !errors.Is(err, abciapp.ErrClosed) {
		t.Fatalf("reading a closed node's state: %v", err)
	}
	n, err = chainnode.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	// (An empty proof block may follow at once: same app hash.)
	after, _ := n.App().LastCommit()
	if after.AppHash != before.AppHash || after.Height < before.Height {
		t.Fatalf("after restart %+v, before %+v", after, before)
	}
	acct, err := c.Account(ctx, testSigner("bob").Address())
	if err != nil || acct.Balance != 5 {
		t.Fatalf("bob after restart: %+v, %v", acct, err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg   chainnode.Config
		field string
	}{
		{chainnode.Config{}, "Home"},
		{chainnode.Config{Home: "x", P2PListen: "tcp://1.2.3.4:5"}, "P2PListen"},
		{chainnode.Config{Home: "x", RPCListen: "nohost"}, "RPCListen"},
		{chainnode.Config{Home: "x", PprofListen: "http://127.0.0.1:1"}, "PprofListen"},
		{chainnode.Config{Home: "x", PersistentPeers: []string{"abc@1.2.3.4:5"}}, "PersistentPeers[0]"},
		{chainnode.Config{Home: "x", TimeoutCommit: -1}, "TimeoutCommit"},
		{chainnode.Config{Home: "x", SubscriptionBuffer: 10}, "SubscriptionBuffer"},
	} {
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: %v, want an error naming %s", tc.cfg, err, tc.field)
		}
	}
	if err := (chainnode.Config{Home: "x", RPCListen: chainnode.RPCOff}).Validate(); err != nil {
		t.Error(err)
	}
}

// TestHeartbeat checks the block production settings: no block without transactions except
// the heartbeat, whose blocks advance BFT time and with it the epochs.
func TestHeartbeat(t *testing.T) {
	var seed [32]byte
	start := time.Now()
	g, _, err := chainnode.DevnetGenesis(chainnode.DevnetOptions{
		ChainID: "heartbeat-test", GenesisTime: start, EpochDuration: 2 * time.Second, Rand: rand.NewChaCha8(seed),
	})
	if err != nil {
		t.Fatal(err)
	}
	const beat = 200 * time.Millisecond
	cfg, err := chainnode.GenerateSingle(chainnode.Config{Home: t.TempDir(), P2PListen: "127.0.0.1:0", RPCListen: chainnode.RPCOff,
		Heartbeat: beat, Logger: testLogger()}, g)
	if err != nil {
		t.Fatal(err)
	}
	n, err := chainnode.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	c, err := chainclient.New(n.Client(), chainclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	// Without transactions the epochs still advance: mid-epoch the next committee is
	// selected, at the end of the epoch the change starts.
	waitFor(t, 2*time.Minute, "epoch 1", func() bool {
		sys, err := c.System(ctx)
		return err == nil && sys.Epoch >= 1
	})
	elapsed := time.Since(start)
	h, err := c.Height(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// About one block per heartbeat (plus a proof block after each state change), not
	// blocks back to back.
	if max := int64(elapsed/beat)*2 + 4; h > max {
		t.Fatalf("%d blocks in %v with a %v heartbeat", h, elapsed, beat)
	}
	page, _, err := c.Events(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range page.Events {
		if ev.Height > 0 {
			types = append(types, ev.Type())
		}
	}
	if len(types) < 3 || types[0] != "EpochParametersSelected" || types[1] != "RewardsDistributed" || types[2] != "EpochChangeStart" {
		t.Fatalf("events of block processing: %v", types)
	}
}

// TestGenerateTimeoutPropose: a network of several validators gets the shorter network
// timeout_propose unless one is given; a single validator keeps the devnet default.
func TestGenerateTimeoutPropose(t *testing.T) {
	g := testGenesis(t)
	dir := t.TempDir()
	mk := func(name string, port int, propose time.Duration) chainnode.Config {
		return chainnode.Config{Home: filepath.Join(dir, name), P2PListen: fmt.Sprintf("127.0.0.1:%d", port),
			RPCListen: chainnode.RPCOff, TimeoutPropose: propose}
	}
	net, err := chainnode.GenerateNetwork([]chainnode.Config{mk("a", 41001, 0), mk("b", 41002, 0), mk("c", 41003, 2*time.Second)}, g)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []time.Duration{chainnode.DefaultNetworkTimeoutPropose, chainnode.DefaultNetworkTimeoutPropose, 2 * time.Second} {
		if got := net[i].TimeoutPropose; got != want {
			t.Errorf("validator %d: timeout_propose %v, want %v", i, got, want)
		}
	}
	single, err := chainnode.GenerateSingle(mk("single", 0, 0), g)
	if err != nil {
		t.Fatal(err)
	}
	if single.TimeoutPropose != chainnode.DefaultTimeoutPropose {
		t.Errorf("single validator: timeout_propose %v, want %v", single.TimeoutPropose, chainnode.DefaultTimeoutPropose)
	}
}
