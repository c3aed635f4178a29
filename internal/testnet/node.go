package testnet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	cmtbytes "github.com/cometbft/cometbft/libs/bytes"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/api"
	"github.com/walrus-go/walrus/internal/storagenode/daemon"
)

// StorageNode is one storage node of a Network: a storage node daemon (package
// storagenode/daemon) over a store in Dir, with its REST API on Addr.
type StorageNode struct {
	Index  int
	Name   string
	Addr   string // host:port of the REST API (the node's network address on chain)
	Dir    string // the node's data directory
	Keys   chainnode.StorageNodeKeys
	NodeID chain.ObjectID

	// HoldTransactions, while set, keeps the node's transactions (EpochSyncDone among
	// them) from reaching the chain: its chain client refuses to broadcast them, and the
	// daemon tries again later. Tests set it on nodes holding a quorum of shards to hold
	// the chain in an epoch change.
	HoldTransactions atomic.Bool
	// HoldEvents, while set, keeps the chain's new events from the node: its chain client
	// fails the queries of the event log, so that the daemon's follower stops where it is
	// and retries (within a second of the hold's end). Tests set it to have a node lag
	// behind the chain.
	HoldEvents atomic.Bool

	net *Network
	log *slog.Logger

	mu     sync.Mutex
	daemon *daemon.Daemon
	chain  *chainclient.Client // the daemon's, over a holdingRPC
}

// Node returns the storage node core, or nil while the node is stopped.
func (s *StorageNode) Node() *sn.Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.daemon != nil {
		return s.daemon.Node()
	}
	return nil
}

// Daemon returns the storage node daemon, or nil while the node is stopped.
func (s *StorageNode) Daemon() *daemon.Daemon {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.daemon
}

// Running reports whether the node is started.
func (s *StorageNode) Running() bool { return s.Node() != nil }

// URL returns the base URL of the node's API (TLS with a certificate over Keys.Network).
func (s *StorageNode) URL() string { return "https://" + s.Addr }

// Start starts a stopped node again on the same address and store.
func (s *StorageNode) Start() error {
	var l net.Listener
	var err error
	// Stop closed the listener, so the port is normally free at once; the generous deadline
	// covers a slow close on a loaded machine.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if l, err = net.Listen("tcp", s.Addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("testnet: %s: %w", s.Name, err)
	}
	return s.start(l)
}

// start runs the node as a storage node daemon over Dir, serving its API on l (bound to
// Addr), which it closes on failure.
func (s *StorageNode) start(l net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.daemon != nil {
		l.Close()
		return fmt.Errorf("testnet: %s is running", s.Name)
	}
	cc, err := chainclient.New(holdingRPC{Client: s.net.Validator.Client(), txs: &s.HoldTransactions, events: &s.HoldEvents},
		chainclient.Options{Logger: s.log.With("component", "chainclient")})
	if err != nil {
		l.Close()
		return fmt.Errorf("testnet: %s: %w", s.Name, err)
	}
	o := s.net.opts
	d, err := startDaemon(nodeConfig(s.Name, s.Addr, s.Dir), daemon.Options{
		Logger: s.log, Chain: cc, BLSKey: s.Keys.BLS, NetworkKey: s.Keys.Network,
		Wallet:          chainclient.NewSigner(s.Keys.Operator),
		ShutdownTimeout: -1,
		Listener:        l,
		NodeConfig:      nodeOptions(o),
		APIOptions:      apiOptions(o, s.Index),
	})
	if err != nil {
		return fmt.Errorf("testnet: %s: %w", s.Name, err)
	}
	s.daemon, s.chain = d, cc
	return nil
}

// Stop stops the node: its API (open connections are closed), its drivers and its store.
// It is idempotent.
func (s *StorageNode) Stop() error {
	s.mu.Lock()
	d, cc := s.daemon, s.chain
	s.daemon, s.chain = nil, nil
	s.mu.Unlock()
	if d == nil {
		return nil
	}
	err := d.Close()
	cc.Close()
	return err
}

// WaitEpoch waits until the node has applied the start of epoch e or a later one.
func (s *StorageNode) WaitEpoch(ctx context.Context, e uint32) error {
	return poll(ctx, func() (bool, error) {
		node := s.Node()
		if node == nil {
			return false, fmt.Errorf("testnet: %s is stopped", s.Name)
		}
		return node.Epoch() >= e && len(node.OwnedShards()) > 0, nil
	})
}

// nodeConfig is the daemon configuration every node of a Network or a Cluster starts
// from: its API on listen, no metrics server, retries of failed work from 50 ms backing
// off to a second (so that a test does not wait out production back-offs), and garbage
// collection at the start of each epoch without the production's random delay.
func nodeConfig(name, listen, dataDir string) daemon.Config {
	return daemon.Config{
		DataDir: dataDir, Listen: listen, MetricsListen: daemon.MetricsOff, Name: name,
		RetryMin: 50 * time.Millisecond, RetryMax: time.Second, GCMaxDelay: -1,
	}
}

// nodeOptions applies Options.Pending to the core of an in-process node.
func nodeOptions(o Options) func(*sn.Config) {
	return func(c *sn.Config) {
		if o.Pending != (sn.PendingConfig{}) {
			c.Pending = o.Pending
		}
	}
}

// apiOptions applies Options.NodeAPI to the API of in-process node i.
func apiOptions(o Options, i int) func(*api.Options) {
	return func(a *api.Options) {
		if o.NodeAPI != nil {
			o.NodeAPI(i, a)
		}
	}
}

// startDaemon starts a storage node daemon in this process, the one way both a Network's
// and a Cluster's nodes run in-process (a Cluster's node processes run the same daemon
// through `walrus node`, from the same configuration). It closes opts.Chain when the
// daemon fails to start or ends.
func startDaemon(cfg daemon.Config, opts daemon.Options) (*daemon.Daemon, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := daemon.Start(ctx, cfg, opts)
	if err != nil {
		opts.Chain.Close()
		return nil, err
	}
	go func() {
		<-d.Done()
		opts.Chain.Close()
	}()
	return d, nil
}

// errHeld is the error of a broadcast or event query held back by StorageNode.HoldTransactions
// or HoldEvents.
var errHeld = errors.New("testnet: held")

// holdingRPC is a node's RPC client of the validator that refuses to broadcast while txs
// is set (StorageNode.HoldTransactions) and to answer event queries while events is
// (StorageNode.HoldEvents).
type holdingRPC struct {
	rpcclient.Client
	txs, events *atomic.Bool
}

func (h holdingRPC) BroadcastTxSync(ctx context.Context, tx cmttypes.Tx) (*coretypes.ResultBroadcastTx, error) {
	if h.txs.Load() {
		return nil, errHeld
	}
	return h.Client.BroadcastTxSync(ctx, tx)
}

func (h holdingRPC) BroadcastTxAsync(ctx context.Context, tx cmttypes.Tx) (*coretypes.ResultBroadcastTx, error) {
	if h.txs.Load() {
		return nil, errHeld
	}
	return h.Client.BroadcastTxAsync(ctx, tx)
}

func (h holdingRPC) BroadcastTxCommit(ctx context.Context, tx cmttypes.Tx) (*coretypes.ResultBroadcastTxCommit, error) {
	if h.txs.Load() {
		return nil, errHeld
	}
	return h.Client.BroadcastTxCommit(ctx, tx)
}

func (h holdingRPC) ABCIQuery(ctx context.Context, path string, data cmtbytes.HexBytes) (*coretypes.ResultABCIQuery, error) {
	if path == chain.QueryEvents && h.events.Load() {
		return nil, errHeld
	}
	return h.Client.ABCIQuery(ctx, path, data)
}

func (h holdingRPC) ABCIQueryWithOptions(ctx context.Context, path string, data cmtbytes.HexBytes, o rpcclient.ABCIQueryOptions) (*coretypes.ResultABCIQuery, error) {
	if path == chain.QueryEvents && h.events.Load() {
		return nil, errHeld
	}
	return h.Client.ABCIQueryWithOptions(ctx, path, data, o)
}
