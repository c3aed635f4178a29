// Package testnet starts Walrus networks for tests and benchmarks: the one way to start
// a network with real parts, a CometBFT validator (package chainnode) with a devnet
// genesis, storage nodes that are real storage node daemons (package storagenode/daemon:
// chain follower, blob sync, shard sync, garbage collection) over stores on disk with
// HTTP on loopback, and a funded wallet, storing through the client SDK (package client).
// It is imported only by tests.
//
// It offers two layers over one Options, one genesis and key derivation (the same Seed
// gives the same keys) and one way to start the chain:
//
//   - Network (New, Start): everything in this process and running when New returns,
//     for the tests of the client, CLI, gateway, S3 and upload relay packages (example
//     below). Storage nodes can be stopped and started again (same address, same
//     store) to test failures; a node's transactions can be held
//     (StorageNode.HoldTransactions: nodes holding a quorum of shards hold an epoch
//     change open) and so can the chain's events to it (StorageNode.HoldEvents: the node
//     lags behind the chain). Options.RPC serves the validator's JSON-RPC on loopback so
//     that out-of-process tools (the CLI) can reach the chain, and Network.WriteWallet
//     saves the wallet key for them.
//
//   - Cluster (NewCluster): for the storage node daemon's own tests and the resilience
//     suite. The chain is one validator in this process, one `walrus chain start`
//     process (Options.ValidatorBinary, which a test can kill and restart) or several
//     validators (Options.Validators, which a test can stop one by one); the storage nodes
//     are prepared with their keys and daemon configuration on disk, and the test starts
//     each in this process (Cluster.StartInProcess) or as a `walrus node` process of the
//     binary Binary builds (Cluster.StartProcess), and stops or kills it. Nodes can join
//     after genesis (Options.Candidates, Cluster.Join) and leave (Cluster.Leave). Blobs
//     are stored through the client SDK (Cluster.Store); only encodings no client would
//     make (inconsistent ones) take a narrow path of their own (Cluster.StoreEncoded).
//
// A Network, ready for a client:
//
//	net := testnet.New(t, testnet.Options{})        // 4 nodes, 100 shards
//	c, _ := client.New(net.ClientConfig())
//	res, err := c.Store(ctx, data, client.StoreOptions{Epochs: 1})
//
// Both run a node in this process the same way (the daemon over a chain client of the
// validator); a Cluster's node processes run the same daemon from the same
// configuration. The defaults differ where the callers need them to (NewCluster lists
// them). A Network and a Cluster are safe for concurrent use, except for the methods of a
// Cluster that start and stop nodes and validators. Close stops everything; New and
// NewCluster register it with t.Cleanup.
//
// # Harnesses
//
// Issue #17 asks for one way to start a network: in-process, as processes, or as
// processes in network namespaces, always with the real daemon and storing through the
// client SDK. Where that stands:
//
//   - testnet (this package): the networks of the tests, in-process or with validator
//     and node processes, as above.
//   - internal/devnet: the `walrus devnet` command, a persistent network in a directory
//     with a validator in its process and `walrus node` processes.
//   - internal/testbed: `walrus chain start` and `walrus node` processes in network
//     namespaces with emulated latencies, for measurements, configured through the CLI
//     (`walrus chain init`).
//
// All three run the same binaries and the same daemon: a Cluster's processes are the
// `walrus chain start --home` and `walrus node --config` commands that devnet and testbed
// run, and every configuration is a chainnode home (chainnode.GenerateSingle or
// GenerateNetwork) and a daemon.Config in YAML. What remains of the fold: devnet and
// testbed write those configurations with code of their own (devnet in Go, testbed through
// `walrus chain init`), not through this package; a Network's nodes take their keys in
// memory while a Cluster's read them from files; and a Network cannot yet run its nodes as
// processes or over several validators (those are a Cluster's).
package testnet

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/blake2b"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/client"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/api"
	"github.com/walrus-go/walrus/internal/storagenode/daemon"
	"github.com/walrus-go/walrus/internal/testvec"
)

// Defaults of Options.
const (
	DefaultNodes         = 4
	DefaultShards        = 100
	DefaultEpochDuration = 24 * time.Hour
	DefaultWalletBalance = 1_000_000 * chain.FrostPerWAL
)

// Options configures a Network (New, Start) or a Cluster (NewCluster). The zero value is
// valid except for Dir in Start. Defaults differ by constructor where noted: a Network is
// ready for clients (100 shards, default fees), a Cluster is sized for the storage node
// daemon's own tests (see NewCluster).
type Options struct {
	// Dir holds everything: the validators' homes, each node's store, the wallet key.
	// Required by Start; New and NewCluster use t.TempDir().
	Dir string
	// Nodes is the number of storage nodes; default DefaultNodes.
	Nodes int
	// Shards is the number of shards; default DefaultShards (a Cluster's ClusterShards).
	Shards int
	// EpochDuration is the length of an epoch in block time; default
	// DefaultEpochDuration (no epoch change during a test).
	EpochDuration time.Duration
	// EpochSyncTimeout is how long an epoch change waits for EpochSyncDone from a quorum
	// before it completes without the laggards (chain.Params.EpochSyncTimeout); 0 means
	// ten epochs, so that tests with short epochs do not see changes completed early by a
	// slow node.
	EpochSyncTimeout time.Duration
	// Heartbeat is the interval of empty blocks; 0 means none unless EpochDuration is
	// below a minute, then EpochDuration/20, so that epochs advance (a Cluster's: 100 ms
	// when EpochDuration is set).
	Heartbeat time.Duration
	// MaxEpochsAhead bounds storage purchases; default chainnode.DefaultMaxEpochsAhead (a
	// Cluster's MaxEpochs).
	MaxEpochsAhead uint32
	// WalletBalance funds the wallet; default DefaultWalletBalance.
	WalletBalance uint64
	// Accounts are funded at genesis besides the wallet.
	Accounts []chain.GenesisAccount
	// RPC serves the validator's JSON-RPC on loopback (see Network.RPCURL), on RPCAddr.
	RPC bool
	// NodeAddrs are the host:ports of the storage nodes' APIs (a node restarted by
	// StorageNode.Start binds its port again); empty means free loopback ports, which New
	// takes below the kernel's ephemeral range (testvec.FreeAddr), so that no outgoing
	// connection can hold a stopped node's port.
	NodeAddrs []string
	// RPCAddr is the host:port of the JSON-RPC with RPC; empty means a free loopback port
	// (New takes one below the kernel's ephemeral range, testvec.FreeAddr, so that no
	// outgoing connection can take it before the validator binds it).
	RPCAddr string
	// Seed makes the keys reproducible; the same seed gives the same genesis keys.
	Seed uint64
	// Pending bounds the buffer of pending uploads of each storage node in this process;
	// the zero value is storagenode's defaults.
	Pending sn.PendingConfig
	// NodeAPI, if set, edits the REST API options of each storage node in this process
	// (by index): a test can make some nodes serve only Walrus's routes
	// (api.Options.DisableBatchedUploads), say.
	NodeAPI func(index int, o *api.Options)
	// Logger receives the logs of every component; nil discards them (set
	// WALRUS_TEST_LOG=1 to log to stderr in tests).
	Logger *slog.Logger
	// NoFees makes transactions and node registrations free (chainnode.NoFee); a
	// Cluster's default.
	NoFees bool
	// Challenge, if enabled (SampleSize > 0), turns on storage challenges in the genesis
	// parameters; the zero value leaves them off.
	Challenge chain.ChallengeParams
	// Candidates is the number of extra operator accounts, funded with CandidateBalance,
	// for nodes that register after genesis (Cluster.AddCandidate, Cluster.Join).
	Candidates int

	// The options below are a Cluster's only (Start refuses ValidatorBinary and
	// Validators; Config applies to nodes that run from their configuration).

	// Config edits each node's daemon configuration.
	Config func(i int, c *daemon.Config)
	// ValidatorBinary, if set, runs the validator as a `walrus chain start` process of this
	// binary (JSON-RPC on loopback, implies RPC) instead of in this process, so tests can
	// kill it; Validator is then nil and Chain talks to it over HTTP.
	ValidatorBinary string
	// Validators is the number of validators, all in this process; default 1. With more,
	// each serves JSON-RPC on loopback (RPC is implied), Validator is validator 0, Chain
	// and in-process nodes talk to the validators over HTTP with failover
	// (chainclient.DialAll), each node's configuration lists every validator (ChainRPC,
	// then ChainRPCs; node i starts with validator i mod Validators), and
	// Cluster.StopValidatorAt stops one. Not with ValidatorBinary.
	Validators int
}

// freeLoopback returns a loopback host:port that was free a moment ago (for Start, which
// has no testing.TB for testvec.FreeAddr).
func freeLoopback() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("testnet: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Network is a running in-process Walrus network.
type Network struct {
	// validatorSet holds the chain: Validator, the validator, and Chain, a client of it
	// (and RPCAddr, its JSON-RPC's host:port with Options.RPC).
	*validatorSet
	// Dir is the network's directory.
	Dir string
	// Genesis is the chain genesis.
	Genesis *chain.Genesis
	// Wallet is the funded account that clients use.
	Wallet *chainclient.Signer
	// Nodes are the storage nodes, in genesis order.
	Nodes []*StorageNode

	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	closed  bool
	clients []*client.Client
}

// New starts a Network in t.TempDir() and stops it when the test ends.
func New(t testing.TB, o Options) *Network {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Logger == nil && os.Getenv("WALRUS_TEST_LOG") != "" {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if len(o.NodeAddrs) == 0 {
		nodes := o.Nodes
		if nodes <= 0 {
			nodes = DefaultNodes
		}
		for range nodes {
			o.NodeAddrs = append(o.NodeAddrs, testvec.FreeAddr(t))
		}
	}
	if o.RPC && o.RPCAddr == "" {
		o.RPCAddr = testvec.FreeAddr(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := Start(ctx, o)
	if err != nil {
		t.Fatalf("testnet: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("testnet: close: %v", err)
		}
	})
	return n
}

// Start starts a network and returns once every storage node has applied the genesis
// events.
func Start(ctx context.Context, o Options) (n *Network, err error) {
	if o.Dir == "" {
		return nil, errors.New("testnet: Options.Dir is required")
	}
	if o.Nodes <= 0 {
		o.Nodes = DefaultNodes
	}
	if o.Shards <= 0 {
		o.Shards = DefaultShards
	}
	if o.EpochDuration <= 0 {
		o.EpochDuration = DefaultEpochDuration
	}
	if o.EpochSyncTimeout <= 0 {
		o.EpochSyncTimeout = tenEpochs(o.EpochDuration)
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = -1
		if o.EpochDuration < time.Minute {
			o.Heartbeat = max(o.EpochDuration/20, 10*time.Millisecond)
		}
	}
	if o.WalletBalance == 0 {
		o.WalletBalance = DefaultWalletBalance
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.ValidatorBinary != "" || o.Validators > 1 {
		return nil, errors.New("testnet: a validator process or several validators are a Cluster's (NewCluster)")
	}

	// Reserve the nodes' addresses first: they go into the genesis. Each daemon serves on
	// its reserved listener, so that no other socket can take the port in between.
	listeners := make([]net.Listener, o.Nodes)
	addrs := make([]string, o.Nodes)
	defer func() {
		for _, l := range listeners {
			if l != nil {
				l.Close()
			}
		}
	}()
	if len(o.NodeAddrs) != 0 && len(o.NodeAddrs) != o.Nodes {
		return nil, fmt.Errorf("testnet: %d node addresses for %d nodes", len(o.NodeAddrs), o.Nodes)
	}
	for i := range listeners {
		addr := "127.0.0.1:0"
		if len(o.NodeAddrs) != 0 {
			addr = o.NodeAddrs[i]
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("testnet: %w", err)
		}
		listeners[i], addrs[i] = l, l.Addr().String()
	}
	kr, err := makeGenesis(o, addrs)
	if err != nil {
		return nil, err
	}
	vs, err := startValidators(o, kr.genesis, o.Dir, log, freeLoopback)
	if err != nil {
		return nil, err
	}
	g, keys, cc := kr.genesis, kr.nodes, vs.Chain
	n = &Network{validatorSet: vs, Dir: o.Dir, Genesis: g, Wallet: kr.wallet, opts: o, log: log}
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	info, err := cc.Committee(ctx)
	if err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	for i, k := range keys {
		sn := &StorageNode{
			Index: i, Name: k.Name, Addr: addrs[i], Dir: filepath.Join(o.Dir, "nodes", fmt.Sprint(i)),
			Keys: k, net: n, log: log.With("component", k.Name),
		}
		pk := k.BLS.PublicKey().Bytes()
		for _, m := range info.Members {
			if m.PublicKey == pk {
				sn.NodeID = m.NodeID
			}
		}
		n.Nodes = append(n.Nodes, sn)
		l := listeners[i]
		listeners[i] = nil // start closes it on failure
		if err := sn.start(l); err != nil {
			return nil, err
		}
	}
	// Wait until every node applied the genesis events (it then owns its shards).
	for _, sn := range n.Nodes {
		if err := sn.WaitEpoch(ctx, 0); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Close stops the clients made by NewClient, the storage nodes and the validator. It is
// idempotent.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	clients := n.clients
	n.mu.Unlock()
	var errs []error
	for _, c := range clients {
		c.Close()
	}
	for _, sn := range n.Nodes {
		if err := sn.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := n.validatorSet.close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// RPCURL returns the URL of the validator's JSON-RPC server ("" unless Options.RPC).
func (n *Network) RPCURL() string {
	if a := n.Validator.RPCAddr(); a != "" {
		return "http://" + a
	}
	return ""
}

// ClientConfig returns a client configuration for this network with the wallet; the
// caller may adjust it before client.New.
func (n *Network) ClientConfig() client.Config {
	return client.Config{Chain: n.Chain, Signer: n.Wallet, Logger: n.log.With("component", "client")}
}

// NewClient returns a client of the network with the wallet (or another signer), closed
// with the network.
func (n *Network) NewClient(cfg client.Config) (*client.Client, error) {
	if cfg.Chain == nil {
		cfg.Chain = n.Chain
	}
	if cfg.Logger == nil {
		cfg.Logger = n.log.With("component", "client")
	}
	c, err := client.New(cfg)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.clients = append(n.clients, c)
	n.mu.Unlock()
	return c, nil
}

// WriteWallet saves the wallet key to path (0600), for tools that load it from a file.
func (n *Network) WriteWallet(path string) error {
	return n.Wallet.SaveNew(path)
}

// FundedSigner returns a new account funded with amount FROST from the wallet.
func (n *Network) FundedSigner(ctx context.Context, name string, amount uint64) (*chainclient.Signer, error) {
	seed := blake2b.Sum256([]byte("testnet-signer:" + name))
	s := chainclient.NewSigner(ed25519.NewKeyFromSeed(seed[:]))
	if amount > 0 {
		if _, err := n.Chain.Submit(ctx, n.Wallet, &chain.Transfer{To: s.Address(), Amount: amount}); err != nil {
			return nil, fmt.Errorf("testnet: funding %s: %w", name, err)
		}
	}
	return s, nil
}

// WaitEpoch waits until the chain is in epoch e (or later) and every running storage node
// has applied its start.
func (n *Network) WaitEpoch(ctx context.Context, e uint32) error {
	for _, sn := range n.Nodes {
		if !sn.Running() {
			continue
		}
		if err := sn.WaitEpoch(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// WaitEpochState waits until the chain's epoch is at least e and its epoch state is st.
func (n *Network) WaitEpochState(ctx context.Context, e uint32, st chain.EpochState) error {
	return poll(ctx, func() (bool, error) {
		sys, err := n.Chain.System(ctx)
		if err != nil {
			return false, err
		}
		return sys.Epoch > e || (sys.Epoch == e && sys.EpochState == st), nil
	})
}

// WaitSynced waits until every running node has applied every event the chain has logged
// so far.
func (n *Network) WaitSynced(ctx context.Context) error {
	sys, err := n.Chain.System(ctx)
	if err != nil {
		return err
	}
	for _, sn := range n.Nodes {
		if !sn.Running() {
			continue
		}
		if err := poll(ctx, func() (bool, error) {
			node := sn.Node()
			return node != nil && node.Cursor() >= sys.NextEventSeq, nil
		}); err != nil {
			return fmt.Errorf("testnet: %s: %w", sn.Name, err)
		}
	}
	return nil
}

// poll evaluates cond every few milliseconds until it holds, fails or ctx ends. It is a
// polling interval on state that other goroutines change, not a synchronization sleep.
func poll(ctx context.Context, cond func() (bool, error)) error {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
