package cli

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
	"github.com/walrus-go/walrus/internal/nodetls"
)

// Default addresses of 'walrus chain init': validator i listens for peers on port
// 26656+10i and serves JSON-RPC on the port after it.
const (
	defaultChainHost = "127.0.0.1"
	defaultP2PPort   = 26656
)

func chainCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chain",
		Short: "Create and run validators of the Walrus chain (the control plane)",
	}
	cmd.AddCommand(chainInitCommand(e), chainStartCommand(e))
	return cmd
}

type chainInitOptions struct {
	home             string
	validators       int
	addresses        []string
	rpcAddresses     []string
	chainID          string
	nShards          int
	epochDuration    time.Duration
	epochSyncTimeout time.Duration
	faucet           bool
	faucetMax        string
	storageNodes     int
	storageAddresses []string
	fund             []string
	challenges       bool
}

// chainInitResult is the --json output of chain init.
type chainInitResult struct {
	ChainID      string               `json:"chainId"`
	GenesisTime  time.Time            `json:"genesisTime"`
	NShards      uint16               `json:"nShards"`
	FaucetMax    uint64               `json:"faucetMax"`
	Validators   []validatorInitInfo  `json:"validators"`
	StorageNodes []storageNodeKeyInfo `json:"storageNodes"`
}

type validatorInitInfo struct {
	Home   string `json:"home"`
	NodeID string `json:"nodeId"`
	P2P    string `json:"p2pAddress"`
	RPC    string `json:"rpcAddress"`
}

type storageNodeKeyInfo struct {
	Name            string `json:"name"`
	NetworkAddress  string `json:"networkAddress"`
	Operator        string `json:"operator"`
	KeyDir          string `json:"keyDir"`
	BLSPublicKeyHex string `json:"blsPublicKey"`
	// NetworkPublicKeyHex is the node's TLS key, registered on chain (network.key).
	NetworkPublicKeyHex string `json:"networkPublicKey"`
}

func chainInitCommand(e *env) *cobra.Command {
	var o chainInitOptions
	cmd := &cobra.Command{
		Use:   "init --home DIR",
		Short: "Create the genesis, keys and configuration of a new chain",
		Long: "Create a new chain: its genesis (parameters, funded accounts, genesis storage nodes), the\n" +
			"validator keys and the validator configuration (" + validatorConfigFile + ").\n\n" +
			"With one validator (the default) DIR is its home. With --validators N, DIR holds one home\n" +
			"per validator (validator-0 ...), each listing the others as peers.\n\n" +
			"The keys of the genesis storage nodes (BLS protocol key and operator account key) are\n" +
			"written to DIR/storage-nodes/NAME/.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runChainInit(e, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.home, "home", "", "directory of the new chain (required)")
	f.IntVar(&o.validators, "validators", 1, "number of validators")
	f.StringSliceVar(&o.addresses, "addresses", nil, "peer-to-peer host:port of each validator (default 127.0.0.1:26656, :26666, ...)")
	f.StringSliceVar(&o.rpcAddresses, "rpc-addresses", nil, "JSON-RPC host:port of each validator, or off (default: the port after its peer port)")
	f.StringVar(&o.chainID, "chain-id", "", "chain ID (default "+chainnode.DefaultChainID+"-<random>, unique to this chain)")
	f.IntVar(&o.nShards, "n-shards", chainnode.DefaultDevnetShards, "number of shards")
	f.DurationVar(&o.epochDuration, "epoch-duration", chainnode.DefaultEpochDuration, "epoch length in block time")
	f.DurationVar(&o.epochSyncTimeout, "epoch-sync-timeout", 0, "block time an epoch change waits for a quorum of EpochSyncDone before it completes without the laggards (default: half an epoch)")
	f.BoolVar(&o.faucet, "faucet", false, "enable the faucet (a development chain)")
	f.StringVar(&o.faucetMax, "faucet-max", "1000", "most WAL one faucet request may mint, with --faucet")
	f.IntVar(&o.storageNodes, "storage-nodes", chainnode.DefaultStorageNodes, "number of genesis storage nodes")
	f.StringSliceVar(&o.storageAddresses, "storage-node-addresses", nil, "network host:port of each genesis storage node (default 127.0.0.1:9185, :9186, ...)")
	f.StringArrayVar(&o.fund, "fund", nil, "fund an account at genesis: ADDRESS=WAL (repeatable)")
	f.BoolVar(&o.challenges, "challenges", false, "enable storage challenges with the default parameters (docs/challenges.md)")
	cmd.MarkFlagRequired("home") //nolint:errcheck // the flag exists
	return cmd
}

func runChainInit(e *env, o chainInitOptions) error {
	if o.validators < 1 {
		return usageError{fmt.Errorf("--validators %d: want at least 1", o.validators)}
	}
	if o.nShards < 1 || o.nShards > 65535 {
		return usageError{fmt.Errorf("--n-shards %d out of range", o.nShards)}
	}
	addrs, rpcAddrs, err := validatorAddresses(o)
	if err != nil {
		return usageError{err}
	}
	var accounts []chain.GenesisAccount
	for _, f := range o.fund {
		addr, amount, ok := strings.Cut(f, "=")
		if !ok {
			return usageError{fmt.Errorf("--fund %q: want ADDRESS=WAL", f)}
		}
		a, err := chain.ParseAddress(addr)
		if err != nil {
			return usageError{fmt.Errorf("--fund: %w", err)}
		}
		frost, err := parseWAL(amount)
		if err != nil {
			return usageError{fmt.Errorf("--fund %q: %w", f, err)}
		}
		accounts = append(accounts, chain.GenesisAccount{Address: a, Balance: frost})
	}
	var faucetMax uint64
	if o.faucet {
		if faucetMax, err = parseWAL(o.faucetMax); err != nil || faucetMax == 0 {
			return usageError{fmt.Errorf("--faucet-max %q: want a positive amount of WAL", o.faucetMax)}
		}
	}
	if _, err := os.Stat(o.home); err == nil {
		if entries, _ := os.ReadDir(o.home); len(entries) > 0 {
			return withHint(fmt.Errorf("%s exists and is not empty", o.home), "choose a new directory; a chain is initialized once")
		}
	}
	g, keys, err := chainnode.DevnetGenesis(chainnode.DevnetOptions{
		ChainID: o.chainID, NShards: uint16(o.nShards), EpochDuration: o.epochDuration, EpochSyncTimeout: o.epochSyncTimeout,
		GenesisTime: time.Now().UTC().Truncate(time.Millisecond), FaucetMax: faucetMax, Accounts: accounts,
		StorageNodes: o.storageNodes, StorageNodeAddresses: o.storageAddresses,
		Challenge: challengeParams(o.challenges),
	})
	if err != nil {
		return err
	}
	cfgs := make([]chainnode.Config, o.validators)
	for i := range cfgs {
		cfgs[i] = chainnode.Config{Home: o.home, Moniker: "validator", P2PListen: addrs[i], RPCListen: rpcAddrs[i]}
		if o.validators > 1 {
			cfgs[i].Home = filepath.Join(o.home, fmt.Sprintf("validator-%d", i))
			cfgs[i].Moniker = fmt.Sprintf("validator-%d", i)
		}
	}
	cfgs, err = chainnode.GenerateNetwork(cfgs, g)
	if err != nil {
		return err
	}
	res := chainInitResult{ChainID: g.Params.ChainID, GenesisTime: time.Unix(0, g.Params.GenesisTime).UTC(), NShards: g.Params.NShards, FaucetMax: faucetMax}
	for _, c := range cfgs {
		if err := writeValidatorConfig(c.Home, newValidatorConfig(c)); err != nil {
			return fmt.Errorf("cannot write the configuration: %w", err)
		}
		id, err := chainnode.NodeID(c.Home)
		if err != nil {
			return err
		}
		res.Validators = append(res.Validators, validatorInitInfo{Home: c.Home, NodeID: id, P2P: c.P2PListen, RPC: c.RPCListen})
	}
	for _, k := range keys {
		dir := filepath.Join(o.home, "storage-nodes", k.Name)
		info, err := writeStorageNodeKeys(dir, k)
		if err != nil {
			return err
		}
		res.StorageNodes = append(res.StorageNodes, info)
	}
	if e.json {
		return e.printJSON(res)
	}
	fmt.Fprintf(e.stdout, "Chain %s created (genesis %s, %d shards", res.ChainID, res.GenesisTime.Format(time.RFC3339), res.NShards)
	if faucetMax > 0 {
		fmt.Fprintf(e.stdout, ", faucet up to %s WAL", formatWAL(faucetMax))
	}
	fmt.Fprintln(e.stdout, ")")
	for _, v := range res.Validators {
		fmt.Fprintf(e.stdout, "Validator %s: home %s, peer address %s, RPC %s\n", v.NodeID, v.Home, v.P2P, v.RPC)
	}
	for _, n := range res.StorageNodes {
		fmt.Fprintf(e.stdout, "Storage node %s at %s: operator %s, keys in %s\n", n.Name, n.NetworkAddress, n.Operator, n.KeyDir)
	}
	fmt.Fprintf(e.stdout, "Start a validator with: walrus chain start --home %s\n", res.Validators[0].Home)
	return nil
}

// validatorAddresses returns the peer and RPC addresses of the validators.
func validatorAddresses(o chainInitOptions) (p2p, rpc []string, err error) {
	n := o.validators
	if len(o.addresses) > 0 && len(o.addresses) != n {
		return nil, nil, fmt.Errorf("--addresses lists %d addresses for %d validators", len(o.addresses), n)
	}
	if len(o.rpcAddresses) > 0 && len(o.rpcAddresses) != n {
		return nil, nil, fmt.Errorf("--rpc-addresses lists %d addresses for %d validators", len(o.rpcAddresses), n)
	}
	for i := range n {
		a := net.JoinHostPort(defaultChainHost, strconv.Itoa(defaultP2PPort+10*i))
		if len(o.addresses) > 0 {
			a = o.addresses[i]
		}
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			return nil, nil, fmt.Errorf("--addresses %q: %w", a, err)
		}
		r := chainnode.RPCOff
		if len(o.rpcAddresses) > 0 {
			r = o.rpcAddresses[i]
		} else if p, err := strconv.Atoi(port); err == nil && p > 0 && p < 65535 {
			r = net.JoinHostPort(host, strconv.Itoa(p+1))
		}
		p2p, rpc = append(p2p, a), append(rpc, r)
	}
	return p2p, rpc, nil
}

// writeStorageNodeKeys writes a genesis storage node's keys: bls.key (the BLS secret key,
// hex, mode 0600), network.key (the TLS key, PKCS#8 PEM, mode 0600) and operator.json (the
// operator account's key file).
func writeStorageNodeKeys(dir string, k chainnode.StorageNodeKeys) (storageNodeKeyInfo, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return storageNodeKeyInfo{}, err
	}
	sk := k.BLS.Bytes()
	f, err := os.OpenFile(filepath.Join(dir, "bls.key"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return storageNodeKeyInfo{}, err
	}
	_, err = fmt.Fprintln(f, hex.EncodeToString(sk[:]))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return storageNodeKeyInfo{}, err
	}
	if err := nodetls.SaveKey(filepath.Join(dir, "network.key"), k.Network); err != nil {
		return storageNodeKeyInfo{}, err
	}
	op := chainclient.NewSigner(k.Operator)
	if err := op.SaveNew(filepath.Join(dir, "operator.json")); err != nil {
		return storageNodeKeyInfo{}, err
	}
	pk, nk := k.BLS.PublicKey().Bytes(), nodetls.PublicKey(k.Network)
	return storageNodeKeyInfo{Name: k.Name, NetworkAddress: k.NetworkAddress, Operator: op.Address().String(), KeyDir: dir,
		BLSPublicKeyHex: hex.EncodeToString(pk[:]), NetworkPublicKeyHex: hex.EncodeToString(nk[:])}, nil
}

func chainStartCommand(e *env) *cobra.Command {
	var home, logLevel string
	cmd := &cobra.Command{
		Use:   "start --home DIR",
		Short: "Run a validator until interrupted",
		Long: "Run the validator whose home is DIR (see 'walrus chain init') until SIGINT or SIGTERM.\n" +
			"Logs go to standard error.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runChainStart(e, home, logLevel) },
	}
	cmd.Flags().StringVar(&home, "home", "", "validator home directory (required)")
	cmd.Flags().StringVar(&logLevel, "log-level", "", "log level: debug, info, warn or error (default: the configuration's)")
	cmd.MarkFlagRequired("home") //nolint:errcheck // the flag exists
	return cmd
}

func runChainStart(e *env, home, logLevel string) error {
	cfg, level, err := loadValidatorConfig(home)
	if err != nil {
		return err
	}
	if logLevel != "" {
		if err := level.UnmarshalText([]byte(logLevel)); err != nil {
			return usageError{fmt.Errorf("--log-level %q: %w", logLevel, err)}
		}
	}
	cfg.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	node, err := chainnode.Start(cfg)
	if err != nil {
		return err
	}
	select {
	case <-e.ctx.Done():
	case <-node.Done():
		node.Close()
		return errors.New("the validator stopped")
	}
	return node.Close()
}

// challengeParams returns the default challenge parameters if enabled, else none.
func challengeParams(enabled bool) chain.ChallengeParams {
	if !enabled {
		return chain.ChallengeParams{}
	}
	return chain.DefaultChallengeParams()
}
