// Package devnet runs a complete local Walrus network from one directory: a CometBFT
// validator in-process, every storage node as its own OS process (`walrus node --config
// DIR/nodes/<i>/node.yaml`), and whatever the caller serves on top (the CLI starts the
// publisher/aggregator daemon).
//
// # Directory
//
//	DIR/devnet.json          what Init chose (node count, shards, ports); Run reads it
//	DIR/chain/               the validator's home (genesis, keys, CometBFT data, app state)
//	DIR/nodes/<i>/node.yaml  storage node i's configuration
//	DIR/nodes/<i>/bls.key    its BLS protocol key; operator.json its operator account key
//	DIR/nodes/<i>/db/        its pebble store; node.log its output; pid while it runs
//	DIR/wallet.json          the funded client wallet
//	DIR/client.yaml          client configuration (written by the caller's hook)
//
// The first run of a directory creates all of it (Init); later runs resume the same network
// with its data, with the node and shard counts, ports and epoch duration it was created
// with (Recorded). The caller checks the ports first (Options.Addresses, CheckAddresses),
// and removes a network whose first run failed (Discard), so that a failed first run
// leaves nothing behind. A storage node process that dies is logged and not restarted: tests kill
// and restart nodes on purpose, with the command line recorded in the log.
package devnet

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/storagenode/daemon"
)

// Options configure a devnet. The zero value of every field but Dir has a default.
type Options struct {
	// Dir holds the whole network (required).
	Dir string
	// Nodes is the number of storage nodes; default 4. Used only when the directory is new.
	Nodes int
	// Shards is the number of shards; default 100. Used only when the directory is new.
	Shards int
	// EpochDuration is the length of an epoch in block time; default 10m.
	EpochDuration time.Duration
	// ChainRPC and ChainP2P are the validator's listen addresses; defaults
	// 127.0.0.1:26657 and 127.0.0.1:26656.
	ChainRPC, ChainP2P string
	// NodePort is the REST port of storage node 0; node i listens on NodePort+i and serves
	// metrics on NodePort+100+i. Default 9185.
	NodePort int
	// Executable is the walrus binary that runs the storage nodes; default os.Executable().
	Executable string
	// Logger receives the devnet's own logs; nil discards them.
	Logger *slog.Logger
	// PprofListen, if not empty, is an address on which this process (the validator, and
	// whatever else runs in it) serves Go's runtime profiles (/debug/pprof/). Not recorded:
	// each run chooses.
	PprofListen string
}

func (o Options) withDefaults() Options {
	if o.Nodes == 0 {
		o.Nodes = 4
	}
	if o.Shards == 0 {
		o.Shards = 100
	}
	if o.EpochDuration == 0 {
		o.EpochDuration = 10 * time.Minute
	}
	if o.ChainRPC == "" {
		o.ChainRPC = "127.0.0.1:26657"
	}
	if o.ChainP2P == "" {
		o.ChainP2P = "127.0.0.1:26656"
	}
	if o.NodePort == 0 {
		o.NodePort = 9185
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Validate names the first bad field.
func (o Options) Validate() error {
	switch {
	case o.Dir == "":
		return errors.New("devnet: --dir is required")
	case o.Nodes < 1 || o.Nodes > 100:
		return fmt.Errorf("devnet: --nodes %d: want 1..100", o.Nodes)
	case o.Shards < 4 || o.Shards > 4096 || o.Shards < o.Nodes:
		return fmt.Errorf("devnet: --shards %d: want 4..4096 and at least one per node", o.Shards)
	case o.EpochDuration < 10*time.Second:
		return fmt.Errorf("devnet: --epoch-duration %v: want at least 10s", o.EpochDuration)
	case o.NodePort < 1024 || o.NodePort+200 > 65535:
		return fmt.Errorf("devnet: --node-port %d: want 1024..65335", o.NodePort)
	}
	for _, a := range []struct{ flag, addr string }{{"--chain-rpc", o.ChainRPC}, {"--chain-p2p", o.ChainP2P}} {
		if a.addr == "" {
			continue // the default
		}
		_, port, err := net.SplitHostPort(a.addr)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
			return fmt.Errorf("devnet: %s %q: want host:port with a fixed port", a.flag, a.addr)
		}
	}
	return nil
}

// state is what Init recorded in DIR/devnet.json.
type state struct {
	Nodes         int           `json:"nodes"`
	Shards        int           `json:"shards"`
	EpochDuration time.Duration `json:"epochDuration"`
	ChainRPC      string        `json:"chainRpc"`
	ChainP2P      string        `json:"chainP2p"`
	NodePort      int           `json:"nodePort"`
	// ChainID is the chain's ID, unique to this devnet ("" in a directory made before it
	// was recorded).
	ChainID string `json:"chainId,omitempty"`
}

// Layout names the files of a devnet directory.
type Layout struct{ Dir string }

func (l Layout) state() string           { return filepath.Join(l.Dir, "devnet.json") }
func (l Layout) ChainHome() string       { return filepath.Join(l.Dir, "chain") }
func (l Layout) NodeDir(i int) string    { return filepath.Join(l.Dir, "nodes", strconv.Itoa(i)) }
func (l Layout) NodeConfig(i int) string { return filepath.Join(l.NodeDir(i), "node.yaml") }
func (l Layout) NodeNetworkKey(i int) string {
	return filepath.Join(l.NodeDir(i), "network.key")
}
func (l Layout) Wallet() string       { return filepath.Join(l.Dir, "wallet.json") }
func (l Layout) ClientConfig() string { return filepath.Join(l.Dir, "client.yaml") }

// owned lists the entries of the directory that belong to the devnet, devnet.json first.
func (l Layout) owned() []string {
	return []string{l.state(), l.ChainHome(), filepath.Join(l.Dir, "nodes"), l.Wallet(), l.ClientConfig()}
}

// clientFunds is the client wallet's genesis balance.
const clientFunds = 1_000_000 * chain.FrostPerWAL

// Init creates a new devnet in o.Dir unless devnet.json is already there; it reports
// whether it created one. It writes the genesis, the validator home, each storage node's
// keys and configuration, and the funded client wallet. If it fails, it removes what it
// wrote (see Discard), so that a later Init starts afresh.
func Init(o Options) (created bool, err error) {
	o = o.withDefaults()
	if err := o.Validate(); err != nil {
		return false, err
	}
	l := Layout{o.Dir}
	if _, err := os.Stat(l.state()); err == nil {
		return false, nil
	}
	// Discard must remove only what this Init wrote: leftovers of an interrupted Init (or
	// files of another program with the same names) are the user's to remove.
	for _, p := range l.owned() {
		if _, err := os.Lstat(p); err == nil {
			return false, fmt.Errorf("devnet: %s holds %s but no devnet.json (an interrupted first run?): remove it, or choose another directory", o.Dir, filepath.Base(p))
		}
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return false, fmt.Errorf("devnet: %w", err)
	}
	defer func() {
		if err != nil {
			Discard(o.Dir)
		}
	}()
	if err = initFiles(o, l); err != nil {
		return false, err
	}
	return true, nil
}

func initFiles(o Options, l Layout) error {
	wallet, err := chainclient.GenerateSigner(rand.Reader)
	if err != nil {
		return err
	}
	addrs := make([]string, o.Nodes)
	for i := range addrs {
		addrs[i] = net.JoinHostPort("127.0.0.1", strconv.Itoa(o.NodePort+i))
	}
	g, keys, err := chainnode.DevnetGenesis(chainnode.DevnetOptions{
		NShards:              uint16(o.Shards),
		EpochDuration:        o.EpochDuration,
		GenesisTime:          time.Now(),
		FaucetMax:            1000 * chain.FrostPerWAL,
		Accounts:             []chain.GenesisAccount{{Address: wallet.Address(), Balance: clientFunds}},
		StorageNodes:         o.Nodes,
		StorageNodeAddresses: addrs,
	})
	if err != nil {
		return err
	}
	if _, err := chainnode.GenerateSingle(chainnode.Config{Home: l.ChainHome(), RPCListen: o.ChainRPC, P2PListen: o.ChainP2P}, g); err != nil {
		return err
	}
	for i, k := range keys {
		dir := l.NodeDir(i)
		if err := daemon.SaveBLSKey(filepath.Join(dir, "bls.key"), k.BLS); err != nil {
			return err
		}
		if err := nodetls.SaveKey(l.NodeNetworkKey(i), k.Network); err != nil {
			return err
		}
		if err := chainclient.NewSigner(k.Operator).SaveNew(filepath.Join(dir, "operator.json")); err != nil {
			return err
		}
		if err := os.WriteFile(l.NodeConfig(i), nodeYAML(o, i), 0o600); err != nil {
			return fmt.Errorf("devnet: %w", err)
		}
	}
	if err := wallet.SaveNew(l.Wallet()); err != nil {
		return err
	}
	st := state{Nodes: o.Nodes, Shards: o.Shards, EpochDuration: o.EpochDuration, ChainRPC: o.ChainRPC, ChainP2P: o.ChainP2P, NodePort: o.NodePort,
		ChainID: g.Params.ChainID}
	b, _ := json.MarshalIndent(st, "", "  ")
	// devnet.json is written last: a directory without it is an interrupted Init.
	if err := os.WriteFile(l.state(), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("devnet: %w", err)
	}
	return nil
}

// Discard removes a devnet's files from dir (devnet.json first, then the chain, the nodes,
// the wallet and the client configuration), then dir itself if nothing else is left in
// it: files of other programs are never removed. It is meant for a devnet whose first run
// failed; the network's keys and data are lost.
func Discard(dir string) error {
	var errs []error
	for _, p := range (Layout{dir}).owned() {
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
		}
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) == 0 {
		os.Remove(dir)
	}
	return errors.Join(errs...)
}

// Exists reports whether dir holds an initialized devnet (its devnet.json).
func Exists(dir string) bool {
	_, err := os.Stat(Layout{dir}.state())
	return err == nil
}

// Recorded returns the options the devnet in dir was created with: Dir, Nodes, Shards,
// EpochDuration, ChainRPC, ChainP2P and NodePort. They are fixed for the devnet's life.
func Recorded(dir string) (Options, error) {
	st, err := readState(dir)
	if err != nil {
		return Options{}, err
	}
	return st.options(dir), nil
}

func (st state) options(dir string) Options {
	return Options{Dir: dir, Nodes: st.Nodes, Shards: st.Shards, EpochDuration: st.EpochDuration,
		ChainRPC: st.ChainRPC, ChainP2P: st.ChainP2P, NodePort: st.NodePort}
}

// Address is one address a devnet listens on.
type Address struct {
	Addr string // host:port
	What string // what listens there, e.g. "chain RPC", "storage node 2 metrics"
	Flag string // the walrus devnet flag that chooses it on a first run
}

// Addresses lists the addresses the validator and the storage nodes of a devnet with
// options o (after defaults) listen on.
func (o Options) Addresses() []Address {
	o = o.withDefaults()
	addrs := []Address{
		{o.ChainRPC, "chain RPC", "--chain-rpc"},
		{o.ChainP2P, "chain P2P", "--chain-p2p"},
	}
	for i := 0; i < o.Nodes; i++ {
		addrs = append(addrs,
			Address{net.JoinHostPort("127.0.0.1", strconv.Itoa(o.NodePort+i)), fmt.Sprintf("storage node %d", i), "--node-port"},
			Address{net.JoinHostPort("127.0.0.1", strconv.Itoa(o.NodePort+100+i)), fmt.Sprintf("storage node %d metrics", i), "--node-port"})
	}
	return addrs
}

// ListenError reports an address a devnet needs but cannot listen on: another process
// listens there (Err is syscall.EADDRINUSE), or it is not an address of this machine.
type ListenError struct {
	Address
	Err error
}

func (e *ListenError) Error() string {
	if errors.Is(e.Err, syscall.EADDRINUSE) {
		return fmt.Sprintf("devnet: %s address %s is in use (is another devnet running?)", e.What, e.Addr)
	}
	return fmt.Sprintf("devnet: cannot listen on %s for the %s: %v", e.Addr, e.What, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// CheckAddresses returns a *ListenError for the first of addrs that cannot be listened
// on now. Another process may still take an address between the check and its use.
func CheckAddresses(addrs []Address) error {
	for _, a := range addrs {
		l, err := net.Listen("tcp", a.Addr)
		if err != nil {
			return &ListenError{Address: a, Err: err}
		}
		l.Close()
	}
	return nil
}

// nodeYAML is storage node i's configuration file (see package daemon for the format).
func nodeYAML(o Options, i int) []byte {
	port := o.NodePort + i
	return []byte(fmt.Sprintf(`# Storage node %d of a walrus devnet (walrus node --config node.yaml).
name: devnet-node-%d
data_dir: db
chain_rpc: http://%s
bls_key_file: bls.key
network_key_file: network.key
wallet_key_file: operator.json
listen: 127.0.0.1:%d
public_url: https://127.0.0.1:%d
metrics_listen: 127.0.0.1:%d
# A small storage engine: a few MiB of disk per node instead of about 70 MB.
memtable_bytes: %d
# Keep freed memory for reuse rather than returning it to the system between uploads.
memory_limit: %d
`, i, i, o.ChainRPC, port, port, port+100, daemon.DevnetMemTableBytes, daemon.DevnetMemoryLimit))
}

func readState(dir string) (state, error) {
	var st state
	b, err := os.ReadFile(Layout{dir}.state())
	if err != nil {
		return st, fmt.Errorf("devnet: %s is not an initialized devnet: %w", dir, err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("devnet: %s: %w", Layout{dir}.state(), err)
	}
	return st, nil
}
