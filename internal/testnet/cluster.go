package testnet

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/daemon"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
	"github.com/walrus-go/walrus/internal/testvec"
)

// ClusterShards is a Cluster's default number of shards.
const ClusterShards = 10

// MaxEpochs is how many epochs ahead the chain of a Cluster sells storage (Walrus sells
// 53): with epochs of a few seconds, a blob stored for MaxEpochs outlives any test, however
// loaded the machine.
const MaxEpochs = 200

// Cluster is a network for the tests of the storage node daemon: the chain (as for a
// Network, or a validator process, or several validators) and prepared storage nodes,
// which the test starts one by one, in this process (StartInProcess) or as `walrus node`
// processes (StartProcess), stops, kills and adds after genesis (Join). Its methods may
// be called from several goroutines, except those that start and stop nodes and
// validators.
type Cluster struct {
	// validatorSet holds the chain: Validator (nil when it runs as a process), Chain,
	// RPCAddr, and with several validators Validators and RPCAddrs.
	*validatorSet

	T       testing.TB
	Dir     string
	Opts    Options
	Genesis *chain.Genesis
	Wallet  *chainclient.Signer
	Enc     *redstuff.Config
	Nodes   []*ClusterNode

	candidates []ed25519.PrivateKey
	mu         sync.Mutex
	hc         *http.Client   // HTTPClient, made on first use
	sdk        *client.Client // SDK, made on first use
	clients    map[string]*nodeclient.Client
}

// Logger, FreeAddr and WaitFor are testvec's, for the callers of this package.
var (
	Logger   = testvec.Logger
	FreeAddr = testvec.FreeAddr
	WaitFor  = testvec.WaitFor
)

// ClusterNode is one storage node of a Cluster: its directory (node.yaml, bls.key,
// network.key, operator.json, data/), its configuration and, while it runs, its
// in-process daemon or its process.
type ClusterNode struct {
	Index    int
	Name     string
	Addr     string // host:port of the REST API, announced on chain
	Dir      string
	Config   daemon.Config
	Keys     chainnode.StorageNodeKeys
	Daemon   *daemon.Daemon
	Proc     *exec.Cmd
	procDone chan struct{}
}

// NewCluster starts the chain with a devnet genesis and prepares (does not start) the
// genesis storage nodes; Close is registered with t.Cleanup. Its defaults differ from a
// Network's: ClusterShards shards, MaxEpochs epochs ahead, no fees (NoFees is implied), a
// heartbeat of 100 ms when EpochDuration is set (none otherwise), a directory in
// t.TempDir() and Logger() unless Options say otherwise. Options.Pending and NodeAPI apply
// to the nodes started in this process, Config to every node.
func NewCluster(t testing.TB, o Options) *Cluster {
	t.Helper()
	if o.Nodes <= 0 {
		o.Nodes = DefaultNodes
	}
	if o.Shards <= 0 {
		o.Shards = ClusterShards
	}
	if o.MaxEpochsAhead == 0 {
		o.MaxEpochsAhead = MaxEpochs
	}
	o.NoFees = true
	changing := o.EpochDuration > 0
	if !changing {
		o.EpochDuration = DefaultEpochDuration
	}
	if o.EpochSyncTimeout <= 0 {
		o.EpochSyncTimeout = tenEpochs(o.EpochDuration)
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = -1
		if changing {
			o.Heartbeat = 100 * time.Millisecond
		}
	}
	if o.WalletBalance == 0 {
		o.WalletBalance = DefaultWalletBalance
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Logger == nil {
		o.Logger = Logger()
	}
	if len(o.NodeAddrs) == 0 {
		for range o.Nodes {
			o.NodeAddrs = append(o.NodeAddrs, FreeAddr(t))
		}
	}
	if len(o.NodeAddrs) != o.Nodes {
		t.Fatalf("testnet: %d node addresses for %d nodes", len(o.NodeAddrs), o.Nodes)
	}
	kr, err := makeGenesis(o, o.NodeAddrs)
	if err != nil {
		t.Fatal(err)
	}
	n := &Cluster{T: t, Dir: o.Dir, Opts: o, Genesis: kr.genesis, Wallet: kr.wallet, candidates: kr.candidates, clients: map[string]*nodeclient.Client{}}
	if n.Enc, err = redstuff.NewConfig(o.Shards); err != nil {
		t.Fatal(err)
	}
	vs, err := startValidators(o, kr.genesis, o.Dir, o.Logger, func() (string, error) { return FreeAddr(t), nil })
	if err != nil {
		t.Fatal(err)
	}
	n.validatorSet = vs
	t.Cleanup(n.Close)
	for i, k := range kr.nodes {
		n.Nodes = append(n.Nodes, n.prepare(i, k, o.NodeAddrs[i]))
	}
	return n
}

// StopValidatorAt stops validator i of a network of several (Options.Validators): its
// JSON-RPC and peer connections close, as when its host dies. The others go on while more
// than two thirds of the voting power remains.
func (n *Cluster) StopValidatorAt(i int) {
	n.T.Helper()
	if err := n.Validators[i].Close(); err != nil {
		n.T.Fatal(err)
	}
}

// RestartValidator stops the validator and starts it again on the same home and
// addresses. Nodes running as processes (over JSON-RPC) ride through it; in-process
// nodes, whose chain client calls the old validator directly, do not.
func (n *Cluster) RestartValidator() {
	n.T.Helper()
	if err := n.stop(syscall.SIGTERM); err != nil {
		n.T.Fatal(err)
	}
	if err := n.start(); err != nil {
		n.T.Fatal(err)
	}
}

// KillValidator kills the validator process with SIGKILL (ValidatorBinary only);
// StartValidator starts it again.
func (n *Cluster) KillValidator() {
	n.T.Helper()
	if n.proc == nil {
		n.T.Fatal("KillValidator: the validator is not a process")
	}
	n.stop(syscall.SIGKILL) //nolint:errcheck // a process stop has no error
}

// StartValidator starts the validator after KillValidator.
func (n *Cluster) StartValidator() {
	n.T.Helper()
	if err := n.start(); err != nil {
		n.T.Fatal(err)
	}
}

// prepare writes a node's directory: keys and configuration.
func (n *Cluster) prepare(i int, k chainnode.StorageNodeKeys, addr string) *ClusterNode {
	t := n.T
	t.Helper()
	dir := filepath.Join(n.Dir, fmt.Sprintf("node-%d", i))
	nd := &ClusterNode{Index: i, Name: k.Name, Addr: addr, Dir: dir, Keys: k}
	if err := daemon.SaveBLSKey(filepath.Join(dir, "bls.key"), k.BLS); err != nil {
		t.Fatal(err)
	}
	if err := nodetls.SaveKey(filepath.Join(dir, "network.key"), k.Network); err != nil {
		t.Fatal(err)
	}
	if err := chainclient.NewSigner(k.Operator).SaveNew(filepath.Join(dir, "operator.json")); err != nil {
		t.Fatal(err)
	}
	// A Cluster's node reads its keys from files (a process has no other way) and logs at
	// debug level to its node.log; it gives up on a peer and on shard sync sooner than a
	// production node.
	nd.Config = nodeConfig(k.Name, addr, filepath.Join(dir, "data"))
	nd.Config.BLSKeyFile = filepath.Join(dir, "bls.key")
	nd.Config.NetworkKeyFile = filepath.Join(dir, "network.key")
	nd.Config.WalletKeyFile = filepath.Join(dir, "operator.json")
	nd.Config.PeerTimeout, nd.Config.ShardSyncFallbackAfter = 10*time.Second, 10*time.Second
	nd.Config.LogLevel = "debug"
	switch {
	case len(n.RPCAddrs) > 1:
		for j := range n.RPCAddrs {
			u := "http://" + n.RPCAddrs[(i+j)%len(n.RPCAddrs)]
			if j == 0 {
				nd.Config.ChainRPC = u
			} else {
				nd.Config.ChainRPCs = append(nd.Config.ChainRPCs, u)
			}
		}
	case n.RPCAddr != "":
		nd.Config.ChainRPC = "http://" + n.RPCAddr
	}
	if n.Opts.Config != nil {
		n.Opts.Config(i, &nd.Config)
	}
	return nd
}

// AddCandidate prepares a storage node that is not in the genesis, operated by the i-th
// candidate account (Options.Candidates); the test registers it (daemon.Register) and
// starts it.
func (n *Cluster) AddCandidate(i int) (*ClusterNode, *chainclient.Signer) {
	n.T.Helper()
	rnd := seededReader(n.Opts.Seed*1000 + uint64(i) + 1)
	sk, err := bls.GenerateKey(rnd)
	if err != nil {
		n.T.Fatal(err)
	}
	netKey, err := nodetls.GenerateKey(rnd)
	if err != nil {
		n.T.Fatal(err)
	}
	op := n.candidates[i]
	addr := FreeAddr(n.T)
	k := chainnode.StorageNodeKeys{Name: fmt.Sprintf("candidate-%d", i), NetworkAddress: addr, BLS: sk, Network: netKey, Operator: op}
	nd := n.prepare(len(n.Nodes), k, addr)
	n.Nodes = append(n.Nodes, nd)
	return nd, chainclient.NewSigner(op)
}

// Close stops every node and the validators.
func (n *Cluster) Close() {
	for _, nd := range n.Nodes {
		n.Stop(nd)
	}
	n.mu.Lock()
	if n.sdk != nil {
		n.sdk.Close() //nolint:errcheck // best effort at cleanup
		n.sdk = nil
	}
	n.mu.Unlock()
	n.validatorSet.close() //nolint:errcheck // best effort at cleanup
}

// StartInProcess starts a node's daemon in this process.
func (n *Cluster) StartInProcess(nd *ClusterNode) {
	n.T.Helper()
	var c *chainclient.Client
	var err error
	if len(n.Validators) > 1 {
		c, err = chainclient.DialAll(nd.Config.ChainEndpoints(), chainclient.Options{Logger: n.Opts.Logger})
	} else {
		c, err = chainclient.New(n.Validator.Client(), chainclient.Options{Logger: n.Opts.Logger})
	}
	if err != nil {
		n.T.Fatal(err)
	}
	d, err := startDaemon(nd.Config, daemon.Options{
		Logger: n.Opts.Logger.With("node", nd.Name), Chain: c, ShutdownTimeout: -1,
		NodeConfig: nodeOptions(n.Opts), APIOptions: apiOptions(n.Opts, nd.Index),
	})
	if err != nil {
		n.T.Fatalf("start %s: %v", nd.Name, err)
	}
	nd.Daemon = d
}

// WriteConfig writes the node's configuration as DIR/node.yaml and returns its path.
func (n *Cluster) WriteConfig(nd *ClusterNode) string {
	n.T.Helper()
	b, err := yaml.Marshal(nd.Config)
	if err != nil {
		n.T.Fatal(err)
	}
	path := filepath.Join(nd.Dir, "node.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		n.T.Fatal(err)
	}
	return path
}

// StartProcess starts the node as a `walrus node --config` process of binary; its logs go
// to DIR/node.log.
func (n *Cluster) StartProcess(nd *ClusterNode, binary string) {
	n.T.Helper()
	path := n.WriteConfig(nd)
	log, err := os.OpenFile(filepath.Join(nd.Dir, "node.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		n.T.Fatal(err)
	}
	cmd := exec.Command(binary, "node", "--config", path)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		n.T.Fatal(err)
	}
	nd.Proc = cmd
	nd.procDone = make(chan struct{})
	go func() {
		cmd.Wait() //nolint:errcheck // a killed process reports its signal
		log.Close()
		close(nd.procDone)
	}()
}

// Kill kills the node's process with SIGKILL and waits for it.
func (n *Cluster) Kill(nd *ClusterNode) {
	if nd.Proc == nil {
		return
	}
	nd.Proc.Process.Signal(syscall.SIGKILL) //nolint:errcheck // it may have exited
	<-nd.procDone
	nd.Proc = nil
}

// Stop stops the node, in-process (Close) or as a process (SIGTERM, then SIGKILL).
func (n *Cluster) Stop(nd *ClusterNode) {
	if nd.Daemon != nil {
		nd.Daemon.Close()
		nd.Daemon = nil
	}
	if nd.Proc != nil {
		nd.Proc.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may have exited
		select {
		case <-nd.procDone:
		case <-time.After(10 * time.Second):
			nd.Proc.Process.Signal(syscall.SIGKILL) //nolint:errcheck // it may have exited
			<-nd.procDone
		}
		nd.Proc = nil
	}
}

// HTTPClient returns an HTTP client for raw requests to the Net's nodes (NewRequest): its
// transport is a nodetls.Transport.
func (n *Cluster) HTTPClient() *http.Client {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.hc == nil {
		n.hc = &http.Client{Transport: nodetls.NewTransport(nil)}
	}
	return n.hc
}

// NewRequest returns a request to path on node nd's API at its network address, over TLS
// pinned to the node's network key (send it with HTTPClient).
func (n *Cluster) NewRequest(ctx context.Context, method string, nd *ClusterNode, path string, body io.Reader) (*http.Request, error) {
	ctx = nodetls.WithPeerKey(ctx, nodetls.PublicKey(nd.Keys.Network))
	return http.NewRequestWithContext(ctx, method, nodeclient.URL(nd.Addr)+path, body)
}

// Client returns a node API client for an address of one of the Net's nodes: its network
// address, over TLS pinned to the node's network key, or the listen address of a node
// that serves plain HTTP (daemon.Config.PlainHTTP, behind a proxy).
func (n *Cluster) Client(addr string) *nodeclient.Client {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c, ok := n.clients[addr]; ok {
		return c
	}
	url := nodeclient.URL(addr)
	var key [nodetls.KeySize]byte
	for _, nd := range n.Nodes {
		switch {
		case nd.Config.PlainHTTP && nd.Config.Listen == addr:
			url = "http://" + addr
		case nd.Addr == addr || nd.Config.Listen == addr:
			key = nodetls.PublicKey(nd.Keys.Network)
		}
	}
	c, err := nodeclient.New(url, nodeclient.Options{NetworkKey: key, NShards: n.Opts.Shards, Timeout: 20 * time.Second})
	if err != nil {
		n.T.Fatal(err)
	}
	n.clients[addr] = c
	return c
}

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// Binary builds the walrus command once per test process (go build, into a temporary
// directory that RemoveBinary deletes) and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "walrus-bin-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "walrus")
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/walrus-go/walrus/cmd/walrus")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// RemoveBinary deletes the binary Binary built; TestMain calls it.
func RemoveBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}
