// Package nodenet runs a small Walrus network for the tests of the storage node daemon:
// a CometBFT validator in-process (package chainnode) with a devnet genesis, and storage
// nodes (package daemon) either in-process or as separate `walrus node` processes, with
// their stores on disk and HTTP on loopback. It stores and reads blobs through the client
// SDK (package client); only blobs no client would make (inconsistent encodings) take a
// narrow path of their own (StoreEncoded). It is imported only by tests.
package nodenet

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
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

// Options configure New. The zero value is a network of 4 genesis nodes over 10 shards
// with epochs too long to change during a test.
type Options struct {
	// Nodes is the number of genesis storage nodes; default 4.
	Nodes int
	// Shards is the number of shards; default 10.
	Shards uint16
	// EpochDuration is the epoch length; default 10 years (no epoch change).
	EpochDuration time.Duration
	// EpochSyncTimeout is how long an epoch change waits for EpochSyncDone from a quorum
	// before it completes without the laggards (chain.Params.EpochSyncTimeout); 0 means
	// ten epochs (at most 2^60 ns), so that a slow shard sync does not end a change early.
	EpochSyncTimeout time.Duration
	// Heartbeat is the interval of empty blocks; default none when epochs do not change,
	// 100 ms otherwise (BFT time must advance for epochs to change).
	Heartbeat time.Duration
	// Candidates is the number of extra funded operator accounts for nodes that register
	// after genesis (AddCandidate).
	Candidates int
	// RPC serves the validator's JSON-RPC on loopback (needed by node processes).
	RPC bool
	// Config edits each node's configuration.
	Config func(i int, c *daemon.Config)
	// Seed makes keys reproducible; 0 means 1.
	Seed uint64
	// Challenge, if enabled (SampleSize > 0), turns on storage challenges in the genesis
	// parameters; the zero value leaves them off.
	Challenge chain.ChallengeParams
	// ValidatorBinary, if set, runs the validator as a `walrus chain start` process of this
	// binary (JSON-RPC on loopback, implies RPC) instead of in this process, so tests can
	// kill it; Validator is then nil and Chain talks to it over HTTP.
	ValidatorBinary string
	// Validators is the number of validators, all in this process; default 1. With more,
	// each serves JSON-RPC on loopback (RPC is implied), Validator is validator 0, Chain
	// and in-process nodes talk to the validators over HTTP with failover
	// (chainclient.DialAll), each node's configuration lists every validator (ChainRPC,
	// then ChainRPCs; node i starts with validator i mod Validators), and StopValidatorAt
	// stops one. Not with ValidatorBinary.
	Validators int
}

// MaxEpochs is how many epochs ahead the chain of a Net sells storage (Walrus sells 53):
// with epochs of a few seconds, a blob stored for MaxEpochs outlives any test, however
// loaded the machine.
const MaxEpochs = 200

// Net is a running network. Its methods may be called from several goroutines, except
// those that start and stop nodes.
type Net struct {
	T         testing.TB
	Dir       string
	Opts      Options
	Genesis   *chain.Genesis
	Validator *chainnode.Node // nil when the validator runs as a process
	Chain     *chainclient.Client
	RPCAddr   string // host:port of the validator's JSON-RPC, if Options.RPC
	// Validators and RPCAddrs are every validator and its JSON-RPC host:port, with
	// Options.Validators > 1 (a stopped validator stays in the list).
	Validators []*chainnode.Node
	RPCAddrs   []string
	Wallet     *chainclient.Signer
	Enc        *redstuff.Config
	Nodes      []*Node

	candidates []ed25519.PrivateKey
	vcfg       chainnode.Config
	vproc      *exec.Cmd
	vdone      chan struct{}
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

// Node is one storage node of a Net: its directory (node.yaml, bls.key, network.key,
// operator.json, db/), its configuration and, while it runs, its in-process daemon or its process.
type Node struct {
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

type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func seededReader(seed uint64) seeded {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return seeded{rand.NewChaCha8(s)}
}

// New starts a validator with a devnet genesis and prepares (does not start) the genesis
// storage nodes. Close is registered with t.Cleanup.
func New(t testing.TB, o Options) *Net {
	t.Helper()
	if o.Nodes == 0 {
		o.Nodes = 4
	}
	if o.Shards == 0 {
		o.Shards = 10
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	changing := o.EpochDuration != 0
	if o.EpochDuration == 0 {
		o.EpochDuration = 10 * 365 * 24 * time.Hour
	}
	if o.EpochSyncTimeout <= 0 {
		o.EpochSyncTimeout = 1 << 60
		if o.EpochDuration < (1<<60)/10 {
			o.EpochSyncTimeout = 10 * o.EpochDuration
		}
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = -1
		if changing {
			o.Heartbeat = 100 * time.Millisecond
		}
	}
	rnd := seededReader(o.Seed)
	n := &Net{T: t, Dir: t.TempDir(), Opts: o, clients: map[string]*nodeclient.Client{}}
	var err error
	if n.Wallet, err = chainclient.GenerateSigner(rnd); err != nil {
		t.Fatal(err)
	}
	accounts := []chain.GenesisAccount{{Address: n.Wallet.Address(), Balance: 1_000_000 * chain.FrostPerWAL}}
	for range o.Candidates {
		seed := make([]byte, ed25519.SeedSize)
		rnd.Read(seed)
		k := ed25519.NewKeyFromSeed(seed)
		n.candidates = append(n.candidates, k)
		addr := chain.AddressOf(k.Public().(ed25519.PublicKey))
		accounts = append(accounts, chain.GenesisAccount{Address: addr, Balance: 100_000 * chain.FrostPerWAL})
	}
	addrs := make([]string, o.Nodes)
	for i := range addrs {
		addrs[i] = FreeAddr(t)
	}
	g, keys, err := chainnode.DevnetGenesis(chainnode.DevnetOptions{
		ChainID: "nodenet", NShards: o.Shards, EpochDuration: o.EpochDuration, EpochSyncTimeout: o.EpochSyncTimeout, GenesisTime: time.Now(),
		Accounts: accounts, StorageNodes: o.Nodes, StorageNodeAddresses: addrs, Rand: rnd, MaxEpochsAhead: MaxEpochs,
		MinFee: chainnode.NoFee, SignatureFee: chainnode.NoFee, NodeRegistrationFee: chainnode.NoFee,
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.Challenge.Enabled() {
		g.Params.Challenge = o.Challenge
	}
	n.Genesis = g
	if n.Enc, err = redstuff.NewConfig(int(o.Shards)); err != nil {
		t.Fatal(err)
	}
	if o.Validators > 1 {
		if o.ValidatorBinary != "" {
			t.Fatal("nodenet: Validators > 1 with ValidatorBinary")
		}
		n.startValidators(g)
		t.Cleanup(n.Close)
		for i, k := range keys {
			n.Nodes = append(n.Nodes, n.prepare(i, k, addrs[i]))
		}
		return n
	}
	cfg := chainnode.Config{Home: filepath.Join(n.Dir, "validator"), P2PListen: "127.0.0.1:0", RPCListen: chainnode.RPCOff,
		Heartbeat: o.Heartbeat, Logger: Logger()}
	if o.RPC || o.ValidatorBinary != "" {
		n.RPCAddr = FreeAddr(t)
		cfg.RPCListen = n.RPCAddr
	}
	if cfg, err = chainnode.GenerateSingle(cfg, g); err != nil {
		t.Fatal(err)
	}
	if o.ValidatorBinary != "" {
		cfg.P2PListen = FreeAddr(t) // fixed across restarts of the process
		n.writeValidatorConfig(cfg)
	}
	n.vcfg = cfg
	n.startValidator()
	t.Cleanup(n.Close)
	for i, k := range keys {
		n.Nodes = append(n.Nodes, n.prepare(i, k, addrs[i]))
	}
	return n
}

// startValidators generates and starts Options.Validators in-process validators with
// JSON-RPC on loopback, and dials Chain to all of them.
func (n *Net) startValidators(g *chain.Genesis) {
	t := n.T
	cfgs := make([]chainnode.Config, n.Opts.Validators)
	for i := range cfgs {
		cfgs[i] = chainnode.Config{
			Home: filepath.Join(n.Dir, fmt.Sprintf("validator-%d", i)), Moniker: fmt.Sprintf("validator-%d", i),
			P2PListen: FreeAddr(t), RPCListen: FreeAddr(t), Heartbeat: n.Opts.Heartbeat,
			TimeoutPropose: 400 * time.Millisecond, TimeoutVote: 200 * time.Millisecond, Logger: Logger(),
		}
	}
	cfgs, err := chainnode.GenerateNetwork(cfgs, g)
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for i, c := range cfgs {
		v, err := chainnode.Start(c)
		if err != nil {
			for _, v := range n.Validators {
				v.Close()
			}
			t.Fatalf("start validator %d: %v", i, err)
		}
		n.Validators = append(n.Validators, v)
		n.RPCAddrs = append(n.RPCAddrs, c.RPCListen)
		urls = append(urls, "http://"+c.RPCListen)
	}
	n.Validator, n.RPCAddr = n.Validators[0], n.RPCAddrs[0]
	if n.Chain, err = chainclient.DialAll(urls, chainclient.Options{Logger: Logger()}); err != nil {
		t.Fatal(err)
	}
}

// StopValidatorAt stops validator i of a network of several (Options.Validators): its
// JSON-RPC and peer connections close, as when its host dies. The others go on while more
// than two thirds of the voting power remains.
func (n *Net) StopValidatorAt(i int) {
	n.T.Helper()
	if err := n.Validators[i].Close(); err != nil {
		n.T.Fatal(err)
	}
}

func (n *Net) startValidator() {
	var err error
	if n.Opts.ValidatorBinary != "" {
		n.startValidatorProcess()
		if n.Chain != nil {
			return // the HTTP client outlives restarts of the process
		}
		n.Chain, err = chainclient.Dial(n.RPCAddr, chainclient.Options{Logger: Logger()})
	} else {
		if n.Validator, err = chainnode.Start(n.vcfg); err != nil {
			n.T.Fatal(err)
		}
		n.Chain, err = chainclient.New(n.Validator.Client(), chainclient.Options{Logger: Logger()})
	}
	if err != nil {
		n.T.Fatal(err)
	}
}

// writeValidatorConfig writes the chain.yaml that `walrus chain start --home` reads.
func (n *Net) writeValidatorConfig(cfg chainnode.Config) {
	b, err := yaml.Marshal(map[string]string{
		"p2p_listen": cfg.P2PListen, "rpc_listen": cfg.RPCListen, "heartbeat": cfg.Heartbeat.String(), "log_level": "info",
	})
	if err == nil {
		err = os.WriteFile(filepath.Join(cfg.Home, "chain.yaml"), b, 0o600)
	}
	if err != nil {
		n.T.Fatal(err)
	}
}

// startValidatorProcess runs `walrus chain start --home` with its output appended to
// HOME/validator.log and waits until its JSON-RPC answers.
func (n *Net) startValidatorProcess() {
	t := n.T
	t.Helper()
	log, err := os.OpenFile(filepath.Join(n.vcfg.Home, "validator.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(n.Opts.ValidatorBinary, "chain", "start", "--home", n.vcfg.Home)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		t.Fatal(err)
	}
	done := make(chan struct{})
	n.vproc, n.vdone = cmd, done
	go func() {
		cmd.Wait() //nolint:errcheck // a killed process reports its signal
		log.Close()
		close(done)
	}()
	WaitFor(t, time.Minute, "the validator's JSON-RPC", func() (bool, error) {
		select {
		case <-done:
			return false, fmt.Errorf("the validator process exited; see %s", filepath.Join(n.vcfg.Home, "validator.log"))
		default:
		}
		c, err := net.DialTimeout("tcp", n.RPCAddr, time.Second)
		if err != nil {
			return false, nil
		}
		c.Close()
		return true, nil
	})
}

// stopValidator stops the validator: in-process, or its process with sig (SIGTERM waits
// up to 20 s before SIGKILL).
func (n *Net) stopValidator(sig syscall.Signal) error {
	if n.vproc == nil {
		if n.Validator == nil {
			return nil
		}
		n.Chain.Close()
		return n.Validator.Close()
	}
	n.vproc.Process.Signal(sig) //nolint:errcheck // it may have exited
	select {
	case <-n.vdone:
	case <-time.After(20 * time.Second):
		n.vproc.Process.Kill() //nolint:errcheck // it may have exited
		<-n.vdone
	}
	n.vproc = nil
	return nil
}

// RestartValidator stops the validator and starts it again on the same home and
// addresses. Nodes running as processes (over JSON-RPC) ride through it; in-process
// nodes, whose chain client calls the old validator directly, do not.
func (n *Net) RestartValidator() {
	n.T.Helper()
	if err := n.stopValidator(syscall.SIGTERM); err != nil {
		n.T.Fatal(err)
	}
	n.startValidator()
}

// KillValidator kills the validator process with SIGKILL (ValidatorBinary only);
// StartValidator starts it again.
func (n *Net) KillValidator() {
	n.T.Helper()
	if n.vproc == nil {
		n.T.Fatal("KillValidator: the validator is not a process")
	}
	n.stopValidator(syscall.SIGKILL) //nolint:errcheck // a process stop has no error
}

// StartValidator starts the validator after KillValidator.
func (n *Net) StartValidator() {
	n.T.Helper()
	n.startValidator()
}

// prepare writes a node's directory: keys and configuration.
func (n *Net) prepare(i int, k chainnode.StorageNodeKeys, addr string) *Node {
	t := n.T
	t.Helper()
	dir := filepath.Join(n.Dir, fmt.Sprintf("node-%d", i))
	nd := &Node{Index: i, Name: k.Name, Addr: addr, Dir: dir, Keys: k}
	if err := daemon.SaveBLSKey(filepath.Join(dir, "bls.key"), k.BLS); err != nil {
		t.Fatal(err)
	}
	if err := nodetls.SaveKey(filepath.Join(dir, "network.key"), k.Network); err != nil {
		t.Fatal(err)
	}
	if err := chainclient.NewSigner(k.Operator).SaveNew(filepath.Join(dir, "operator.json")); err != nil {
		t.Fatal(err)
	}
	nd.Config = daemon.Config{
		DataDir: filepath.Join(dir, "data"), Listen: addr, MetricsListen: daemon.MetricsOff, Name: k.Name,
		BLSKeyFile: filepath.Join(dir, "bls.key"), NetworkKeyFile: filepath.Join(dir, "network.key"),
		WalletKeyFile: filepath.Join(dir, "operator.json"),
		RetryMin:      50 * time.Millisecond, RetryMax: time.Second, PeerTimeout: 10 * time.Second,
		ShardSyncFallbackAfter: 10 * time.Second, GCMaxDelay: -1, LogLevel: "debug",
	}
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
func (n *Net) AddCandidate(i int) (*Node, *chainclient.Signer) {
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

// Close stops every node and the validator.
func (n *Net) Close() {
	for _, nd := range n.Nodes {
		n.Stop(nd)
	}
	n.mu.Lock()
	if n.sdk != nil {
		n.sdk.Close() //nolint:errcheck // best effort at cleanup
		n.sdk = nil
	}
	n.mu.Unlock()
	n.stopValidator(syscall.SIGTERM) //nolint:errcheck // best effort at cleanup
	for _, v := range n.Validators {
		v.Close() // idempotent: validator 0 was closed above
	}
	n.Chain.Close()
}

// StartInProcess starts a node's daemon in this process.
func (n *Net) StartInProcess(nd *Node) {
	n.T.Helper()
	var c *chainclient.Client
	var err error
	if len(n.Validators) > 1 {
		c, err = chainclient.DialAll(nd.Config.ChainEndpoints(), chainclient.Options{Logger: Logger()})
	} else {
		c, err = chainclient.New(n.Validator.Client(), chainclient.Options{Logger: Logger()})
	}
	if err != nil {
		n.T.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := daemon.Start(ctx, nd.Config, daemon.Options{Logger: Logger().With("node", nd.Name), Chain: c, ShutdownTimeout: -1})
	if err != nil {
		c.Close()
		n.T.Fatalf("start %s: %v", nd.Name, err)
	}
	nd.Daemon = d
	go func() {
		<-d.Done()
		c.Close()
	}()
}

// WriteConfig writes the node's configuration as DIR/node.yaml and returns its path.
func (n *Net) WriteConfig(nd *Node) string {
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
func (n *Net) StartProcess(nd *Node, binary string) {
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
func (n *Net) Kill(nd *Node) {
	if nd.Proc == nil {
		return
	}
	nd.Proc.Process.Signal(syscall.SIGKILL) //nolint:errcheck // it may have exited
	<-nd.procDone
	nd.Proc = nil
}

// Stop stops the node, in-process (Close) or as a process (SIGTERM, then SIGKILL).
func (n *Net) Stop(nd *Node) {
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
func (n *Net) HTTPClient() *http.Client {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.hc == nil {
		n.hc = &http.Client{Transport: nodetls.NewTransport(nil)}
	}
	return n.hc
}

// NewRequest returns a request to path on node nd's API at its network address, over TLS
// pinned to the node's network key (send it with HTTPClient).
func (n *Net) NewRequest(ctx context.Context, method string, nd *Node, path string, body io.Reader) (*http.Request, error) {
	ctx = nodetls.WithPeerKey(ctx, nodetls.PublicKey(nd.Keys.Network))
	return http.NewRequestWithContext(ctx, method, nodeclient.URL(nd.Addr)+path, body)
}

// Client returns a node API client for an address of one of the Net's nodes: its network
// address, over TLS pinned to the node's network key, or the listen address of a node
// that serves plain HTTP (daemon.Config.PlainHTTP, behind a proxy).
func (n *Net) Client(addr string) *nodeclient.Client {
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
	c, err := nodeclient.New(url, nodeclient.Options{NetworkKey: key, NShards: int(n.Opts.Shards), Timeout: 20 * time.Second})
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
