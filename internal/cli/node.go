package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/storagenode/daemon"
)

func nodeCommand(e *env) *cobra.Command {
	var path, logLevel string
	cmd := &cobra.Command{
		Use:   "node --config FILE",
		Short: "Run a storage node, or register one on chain",
		Long: "Run the storage node configured by FILE (YAML, read strictly: unknown keys are errors)\n" +
			"until SIGINT or SIGTERM. Logs go to standard error.\n\n" +
			"Minimal configuration:\n\n" +
			"  data_dir: db                      # the node's database\n" +
			"  chain_rpc: http://127.0.0.1:26657 # a chain validator's JSON-RPC\n" +
			"  chain_rpcs: [http://10.0.0.2:26657] # optional: more validators, for failover\n" +
			"  bls_key_file: bls.key             # the node's BLS key (hex, mode 0600)\n" +
			"  network_key_file: network.key     # the node's TLS key (ed25519 PKCS#8 PEM, mode 0600)\n" +
			"  wallet_key_file: operator.json    # the operator account's key file\n" +
			"  listen: 127.0.0.1:9185            # the node REST API (HTTPS)\n" +
			"  metrics_listen: 127.0.0.1:9184    # Prometheus metrics, or off\n\n" +
			"Relative paths are relative to the directory of FILE.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runNode(e, path, logLevel) },
	}
	cmd.Flags().StringVar(&path, "config", "", "storage node configuration file (required)")
	cmd.Flags().StringVar(&logLevel, "log-level", "", "log level: debug, info, warn or error (default: the configuration's)")
	cmd.MarkFlagRequired("config") //nolint:errcheck // the flag exists
	cmd.AddCommand(nodeRegisterCommand(e), nodeChallengesCommand(e))
	return cmd
}

// loadNodeConfig reads a storage node configuration file strictly (unknown keys are errors
// naming their line), resolves its relative paths against the file's directory and
// validates it.
func loadNodeConfig(path string) (daemon.Config, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return daemon.Config{}, withHint(fmt.Errorf("%s not found", path), "write a configuration file (see 'walrus node --help')")
	}
	if err != nil {
		return daemon.Config{}, fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))
	}
	var c daemon.Config
	if err := yaml.UnmarshalWithOptions(raw, &c, yaml.DisallowUnknownField()); err != nil {
		if key := badDuration(raw); key != "" {
			return daemon.Config{}, fmt.Errorf("%s: %s: %w", path, key, err)
		}
		return daemon.Config{}, fmt.Errorf("%s: %s", path, strings.TrimSpace(yaml.FormatError(err, false, true)))
	}
	c.ResolvePaths(filepath.Dir(path))
	if err := c.Validate(); err != nil {
		return daemon.Config{}, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "daemon: config: "))
	}
	return c, nil
}

func runNode(e *env, path, logLevel string) error {
	cfg, err := loadNodeConfig(path)
	if err != nil {
		return err
	}
	level := cfg.Level()
	if logLevel != "" {
		if err := level.UnmarshalText([]byte(logLevel)); err != nil {
			return usageError{fmt.Errorf("--log-level %q: %w", logLevel, err)}
		}
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	if cfg.MemoryLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cfg.MemoryLimit)
	}
	d, err := daemon.Start(e.ctx, cfg, daemon.Options{Logger: logger})
	if err != nil {
		return err
	}
	select {
	case <-e.ctx.Done():
		return d.Close()
	case <-d.Done():
		if err := d.Err(); err != nil {
			return err
		}
		return errors.New("the storage node stopped")
	}
}

type nodeRegisterOptions struct {
	config       string
	stake        string
	commission   uint16
	storagePrice uint64
	writePrice   uint64
	capacity     uint64
}

// nodeRegisterResult is the output of 'walrus node register'.
type nodeRegisterResult struct {
	NodeID         string `json:"nodeId"`
	Registered     bool   `json:"registered"`
	Name           string `json:"name"`
	NetworkAddress string `json:"networkAddress"`
	Operator       string `json:"operator"`
	StakedWal      string `json:"stakedWal,omitempty"`
	Stake          uint64 `json:"stakeFrost"`
}

func nodeRegisterCommand(e *env) *cobra.Command {
	var o nodeRegisterOptions
	cmd := &cobra.Command{
		Use:   "register --config FILE --stake WAL",
		Short: "Register the storage node as a candidate and stake with it",
		Long: "Register the storage node configured by FILE on chain: its name, public URL, BLS key\n" +
			"(with a proof of possession) and network key under the operator account of\n" +
			"wallet_key_file, then stake WAL from that account with it. A missing bls_key_file or\n" +
			"network_key_file is created. The node joins a committee at a later epoch change if its stake ranks high\n" +
			"enough. Running it again for a registered key only stakes.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runNodeRegister(e, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "storage node configuration file (required)")
	f.StringVar(&o.stake, "stake", "0", "WAL to stake with the node")
	f.Uint16Var(&o.commission, "commission", chainnode.DefaultCommissionRate, "commission rate in basis points")
	f.Uint64Var(&o.storagePrice, "storage-price", chainnode.DefaultStoragePrice, "storage price vote, FROST per MiB per epoch")
	f.Uint64Var(&o.writePrice, "write-price", chainnode.DefaultWritePrice, "write price vote, FROST per MiB")
	f.Uint64Var(&o.capacity, "capacity", chainnode.DefaultNodeCapacity, "capacity vote, bytes")
	cmd.MarkFlagRequired("config") //nolint:errcheck // the flag exists
	return cmd
}

func runNodeRegister(e *env, o nodeRegisterOptions) error {
	stake, err := parseWAL(o.stake)
	if err != nil {
		return usageError{fmt.Errorf("--stake: %w", err)}
	}
	if o.commission > 10_000 {
		return usageError{fmt.Errorf("--commission %d: at most 10000 basis points", o.commission)}
	}
	cfg, err := loadNodeConfig(o.config)
	if err != nil {
		return err
	}
	key, err := daemon.LoadBLSKey(cfg.BLSKeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		if key, err = bls.GenerateKey(rand.Reader); err == nil {
			err = daemon.SaveBLSKey(cfg.BLSKeyFile, key)
		}
	}
	if err != nil {
		return err
	}
	netKey, err := nodetls.LoadKey(cfg.NetworkKeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		if netKey, err = nodetls.GenerateKey(nil); err == nil {
			err = nodetls.SaveKey(cfg.NetworkKeyFile, netKey)
		}
	}
	if err != nil {
		return err
	}
	wallet, err := chainclient.LoadSigner(cfg.WalletKeyFile)
	if err != nil {
		return err
	}
	full := cfg
	if full.PublicURL == "" {
		full.PublicURL = "https://" + cfg.Listen
		if cfg.Listen == "" {
			full.PublicURL = "https://" + daemon.DefaultListen
		}
	}
	addr, err := daemon.NetworkAddress(full.PublicURL)
	if err != nil {
		return err
	}
	name := cfg.Name
	if name == "" {
		name = daemon.DefaultName
	}
	c, err := chainclient.DialAll(cfg.ChainEndpoints(), chainclient.Options{})
	if err != nil {
		return fmt.Errorf("chain_rpc: %w", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(e.ctx, chainTimeout)
	defer cancel()
	res, err := daemon.Register(ctx, c, wallet, key, daemon.Registration{
		Name: name, NetworkAddress: addr, NetworkKey: nodetls.PublicKey(netKey), CommissionRate: o.commission,
		StoragePrice: o.storagePrice, WritePrice: o.writePrice, Capacity: o.capacity, Stake: stake,
	})
	if err != nil {
		var ce *chainclient.Error
		if !errors.As(err, &ce) {
			return withHint(err, "is a validator running at "+strings.Join(cfg.ChainEndpoints(), " or ")+"?")
		}
		return err
	}
	out := nodeRegisterResult{NodeID: res.NodeID.String(), Registered: res.Registered, Name: name, NetworkAddress: addr,
		Operator: wallet.Address().String(), Stake: stake}
	if stake > 0 {
		out.StakedWal = res.StakedWal.String()
	}
	if e.json {
		return e.printJSON(out)
	}
	if res.Registered {
		fmt.Fprintf(e.stdout, "Registered storage node %s (%s at %s), operator %s\n", out.NodeID, name, addr, out.Operator)
	} else {
		fmt.Fprintf(e.stdout, "Storage node %s was already registered, operator %s\n", out.NodeID, out.Operator)
	}
	if stake > 0 {
		fmt.Fprintf(e.stdout, "Staked %s WAL (StakedWal %s)\n", formatWAL(stake), out.StakedWal)
	}
	return nil
}

// badDuration returns the key of the first duration field of a node configuration whose
// value does not parse, or "" (the YAML decoder reports duration errors without the key).
func badDuration(raw []byte) string {
	var m map[string]any
	if yaml.Unmarshal(raw, &m) != nil {
		return ""
	}
	t := reflect.TypeFor[daemon.Config]()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type != reflect.TypeFor[time.Duration]() {
			continue
		}
		key := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if v, ok := m[key]; ok {
			if _, err := time.ParseDuration(fmt.Sprint(v)); err != nil {
				return key
			}
		}
	}
	return ""
}
