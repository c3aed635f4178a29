package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/client"
)

// clientConfigName is the file name of the client configuration in its default directory
// ($XDG_CONFIG_HOME/walrus or ~/.config/walrus).
const clientConfigName = "client.yaml"

// clientConfigEnv names the environment variable holding the configuration path.
const clientConfigEnv = "WALRUS_CONFIG"

// clientConfigFile is the YAML client configuration, in one of two forms. The flat form
// holds one set of settings:
//
//	rpc_url: http://127.0.0.1:26657   # CometBFT JSON-RPC of a chain validator
//	chain_id: walrus-devnet-1a2b3c4d  # optional; the client refuses any other chain
//	wallet: wallet.key                # ed25519 key file, relative to this file's directory
//	communication:                    # optional; zero values keep the SDK defaults
//	  max_concurrent_uploads: 0
//	  request_timeout: 5m
//
// The context form, as in Walrus's client configuration, holds named sets of the same
// settings and the one used unless --context names another:
//
//	contexts:
//	  devnet: {rpc_url: http://127.0.0.1:26657, wallet: devnet.key}
//	  local:  {rpc_url: http://127.0.0.1:36657, wallet: local.key}
//	default_context: devnet
//
// The committee (storage node addresses, keys, shards) is not configured: it comes from
// the chain. docs/configuration.md describes every field.
type clientConfigFile struct {
	// The flat form's settings: the fields of clientContext.
	RPCURL        string              `yaml:"rpc_url,omitempty"`
	ChainID       string              `yaml:"chain_id,omitempty"`
	Wallet        string              `yaml:"wallet,omitempty"`
	Communication communicationConfig `yaml:"communication,omitempty"`
	// The context form.
	Contexts       map[string]clientContext `yaml:"contexts,omitempty"`
	DefaultContext string                   `yaml:"default_context,omitempty"`
}

// flat returns the flat form's settings.
func (f *clientConfigFile) flat() clientContext {
	return clientContext{RPCURL: f.RPCURL, ChainID: f.ChainID, Wallet: f.Wallet, Communication: f.Communication}
}

// fileOf returns c as the flat form.
func fileOf(c clientContext) clientConfigFile {
	return clientConfigFile{RPCURL: c.RPCURL, ChainID: c.ChainID, Wallet: c.Wallet, Communication: c.Communication}
}

// clientContext is one set of client settings: the whole flat form, or one context.
type clientContext struct {
	RPCURL        string              `yaml:"rpc_url"`
	ChainID       string              `yaml:"chain_id,omitempty"`
	Wallet        string              `yaml:"wallet"`
	Communication communicationConfig `yaml:"communication,omitempty"`
}

// communicationConfig overrides client.Config's tuning; durations are Go durations.
type communicationConfig struct {
	MaxConcurrentUploads       int     `yaml:"max_concurrent_uploads,omitempty"`
	MaxConcurrentSliverReads   int     `yaml:"max_concurrent_sliver_reads,omitempty"`
	MaxConcurrentMetadataReads int     `yaml:"max_concurrent_metadata_reads,omitempty"`
	RequestTimeout             string  `yaml:"request_timeout,omitempty"`
	MaxRetries                 int     `yaml:"max_retries,omitempty"`
	RetryMin                   string  `yaml:"retry_min,omitempty"`
	RetryMax                   string  `yaml:"retry_max,omitempty"`
	RegistrationTimeout        string  `yaml:"registration_timeout,omitempty"`
	TailFactor                 float64 `yaml:"tail_factor,omitempty"`
	TailBase                   string  `yaml:"tail_base,omitempty"`
}

const clientConfigHeader = `# Walrus client configuration (walrus store, read, info, wallet, faucet, publisher, ...).
# The storage nodes come from the chain's committee. 'wallet' is an ed25519 key file
# (mode 0600), relative to this file's directory unless absolute. 'chain_id' pins the
# chain: the client signs nothing for a chain with another ID.
`

// writeClientConfig writes a client configuration (flat form) for the chain chainID at
// rpcURL and a wallet key file (a path relative to the configuration's directory, or
// absolute). The devnet command uses it to write DIR/client.yaml.
func writeClientConfig(path, rpcURL, chainID, wallet string) error {
	b, err := yaml.Marshal(clientConfigFile{RPCURL: rpcURL, ChainID: chainID, Wallet: wallet})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(clientConfigHeader), b...), 0o600)
}

// parseClientConfig parses a configuration file's bytes strictly (unknown keys are errors
// naming their line) and returns the settings of the context named by contextName (""
// selects default_context, or the only context) and the name of the context used ("" for
// the flat form). Errors name path and the offending field. Paths are returned as written.
func parseClientConfig(raw []byte, path, contextName string) (clientContext, string, error) {
	var f clientConfigFile
	if err := yaml.UnmarshalWithOptions(raw, &f, yaml.DisallowUnknownField()); err != nil {
		return clientContext{}, "", fmt.Errorf("%s: %s", path, strings.TrimSpace(yaml.FormatError(err, false, true)))
	}
	if len(f.Contexts) == 0 {
		switch {
		case f.DefaultContext != "":
			return clientContext{}, "", fmt.Errorf("%s: default_context %q: the file has no contexts", path, f.DefaultContext)
		case contextName != "":
			return clientContext{}, "", usageError{withHint(fmt.Errorf("--context %s: %s has no contexts", contextName, path),
				"drop --context, or move the settings under 'contexts:' (see docs/configuration.md)")}
		}
		return f.flat(), "", nil
	}
	if f.flat() != (clientContext{}) {
		field := "rpc_url"
		switch {
		case f.RPCURL != "":
		case f.ChainID != "":
			field = "chain_id"
		case f.Wallet != "":
			field = "wallet"
		default:
			field = "communication"
		}
		return clientContext{}, "", fmt.Errorf("%s: %s: a file with contexts holds its settings inside them, not at the top level", path, field)
	}
	names := make([]string, 0, len(f.Contexts))
	for n := range f.Contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	if _, ok := f.Contexts[f.DefaultContext]; f.DefaultContext != "" && !ok {
		return clientContext{}, "", fmt.Errorf("%s: default_context %q: no such context (it has %s)", path, f.DefaultContext, strings.Join(names, ", "))
	}
	name, source := contextName, "--context"
	if name == "" {
		name, source = f.DefaultContext, "default_context"
		if name == "" {
			if len(names) > 1 {
				return clientContext{}, "", withHint(fmt.Errorf("%s: default_context is missing and there are %d contexts", path, len(names)),
					"add 'default_context: NAME' or pass --context NAME (one of "+strings.Join(names, ", ")+")")
			}
			name = names[0]
		}
	}
	c, ok := f.Contexts[name]
	if !ok {
		err := fmt.Errorf("%s %q: no such context in %s (it has %s)", source, name, path, strings.Join(names, ", "))
		if source == "--context" {
			return clientContext{}, "", usageError{err}
		}
		return clientContext{}, "", err
	}
	return c, name, nil
}

// configFlags are the global flags that select and override the client configuration.
type configFlags struct {
	path    string // --config
	context string // --context
	rpc     string // --rpc: overrides rpc_url
	wallet  string // --wallet: overrides wallet
}

// clientConfig is the configuration a command runs with: the settings of the selected
// context with the flags applied, the wallet path resolved, and where each came from.
type clientConfig struct {
	clientContext
	// Path is the configuration file; Found reports whether it exists (a command given
	// --rpc runs without one when the default file is missing).
	Path  string
	Found bool
	// Context is the selected context, "" for the flat form or no file.
	Context string
	// WalletFrom says where Wallet came from: "--wallet", "config" or "default".
	WalletFrom string
	// RPCFromFlag reports that --rpc overrode rpc_url.
	RPCFromFlag bool
}

// field names a setting for messages: "rpc_url in FILE", "contexts.NAME.wallet in FILE",
// or the overriding flag.
func (c clientConfig) field(name string) string {
	switch {
	case name == "rpc_url" && c.RPCFromFlag:
		return "--rpc"
	case name == "wallet" && c.WalletFrom == "--wallet":
		return "--wallet"
	case !c.Found:
		return name
	}
	if c.Context != "" {
		name = "contexts." + c.Context + "." + name
	}
	return name + " in " + c.Path
}

// resolveClientConfig finds, reads and validates the client configuration: the file
// named by --config, else $WALRUS_CONFIG (getenv), else clientConfigName under the
// default directory defaultDir (the user's configuration directory plus "walrus"; ""
// if there is none). Flags override the file's settings. A wallet path from the file is
// relative to the file's directory; without one in the flags or the file, the wallet is
// walletFileName in defaultDir. The file may be missing only when it is the default one
// and --rpc is given.
func resolveClientConfig(f configFlags, getenv func(string) string, defaultDir string) (clientConfig, error) {
	var c clientConfig
	explicit := ""
	switch {
	case f.path != "":
		c.Path, explicit = f.path, "--config"
	case getenv(clientConfigEnv) != "":
		c.Path, explicit = getenv(clientConfigEnv), "$"+clientConfigEnv
	case defaultDir != "":
		c.Path = filepath.Join(defaultDir, clientConfigName)
	}
	if c.Path != "" {
		raw, err := os.ReadFile(c.Path)
		switch {
		case err == nil:
			c.Found = true
			ctx, name, err := parseClientConfig(raw, c.Path, f.context)
			if err != nil {
				return c, err
			}
			c.clientContext, c.Context = ctx, name
		case !errors.Is(err, fs.ErrNotExist):
			return c, fmt.Errorf("cannot read %s: %w", c.Path, unwrapPathError(err))
		case explicit != "":
			return c, withHint(fmt.Errorf("no client configuration: %s not found", c.Path),
				"check "+explicit+"; 'walrus devnet' writes one and prints the WALRUS_CONFIG line to export")
		}
	}
	if !c.Found && f.context != "" {
		return c, usageError{fmt.Errorf("--context %s: no client configuration file (%s not found)", f.context, c.Path)}
	}
	if c.Wallet != "" {
		c.Wallet, c.WalletFrom = expandPath(c.Wallet, filepath.Dir(c.Path)), "config"
	}
	if f.wallet != "" {
		c.Wallet, c.WalletFrom = f.wallet, "--wallet"
	}
	if c.Wallet == "" && defaultDir != "" {
		c.Wallet, c.WalletFrom = filepath.Join(defaultDir, walletFileName), "default"
	}
	if f.rpc != "" {
		c.RPCURL, c.RPCFromFlag = f.rpc, true
		if !strings.Contains(c.RPCURL, "://") {
			c.RPCURL = "http://" + c.RPCURL
		}
	}
	if !c.Found && f.rpc == "" {
		// The wallet is resolved: commands that need only the wallet may go on.
		where := "no client configuration"
		if c.Path != "" {
			where += ": " + c.Path + " not found"
		}
		return c, withHint(errors.New(where),
			"start a local network with 'walrus devnet' and export the WALRUS_CONFIG=... line it prints, or pass --config FILE (or --rpc URL)")
	}
	if c.RPCURL == "" {
		return c, fmt.Errorf("%s is missing", c.field("rpc_url"))
	}
	if u, err := url.Parse(c.RPCURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return c, fmt.Errorf("%s %q: want http://host:port", c.field("rpc_url"), c.RPCURL)
	}
	return c, nil
}

// defaultConfigDir returns the directory of the default configuration and wallet, or ""
// if the user has no configuration directory.
func defaultConfigDir() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "walrus")
}

// clientEnv is what the commands that talk to a Walrus network share: the command
// environment and the global flags that select the configuration.
type clientEnv struct {
	*env
	// configPath is --config; the flags below are --context, --rpc and --wallet.
	configPath  string
	contextName string
	rpcFlag     string
	walletFlag  string
	// httpClient, if set, sends the SDK's requests to storage nodes (bench counts them).
	httpClient *http.Client
	// noPendingUploads, if set, makes stores upload only after the registration landed
	// (bench --no-pending-uploads).
	noPendingUploads bool
	// localChain, if set, is the in-process RPC client of the validator the configuration
	// names (walrus devnet runs both): the chain client calls it instead of dialing
	// rpc_url, without HTTP and JSON on the path of every transaction and query.
	localChain rpcclient.Client
}

// addClientCommands adds the client, publisher and aggregator commands to root, with the
// global flags --config, --context, --rpc and --wallet. It returns the clientEnv every
// command that reads the configuration shares.
func addClientCommands(root *cobra.Command, e *env) *clientEnv {
	ce := &clientEnv{env: e}
	pf := root.PersistentFlags()
	pf.StringVar(&ce.configPath, "config", "",
		"client configuration file (default $"+clientConfigEnv+", then ~/.config/walrus/"+clientConfigName+")")
	pf.StringVar(&ce.contextName, "context", "", "context of the client configuration to use (default: its default_context)")
	pf.StringVar(&ce.rpcFlag, "rpc", "", "CometBFT JSON-RPC URL of a validator (overrides rpc_url of the configuration)")
	pf.StringVar(&ce.walletFlag, "wallet", "", "wallet key file (overrides wallet of the configuration)")
	root.AddCommand(
		storeCommand(ce), readCommand(ce), blobStatusCommand(ce), listBlobsCommand(ce), deleteCommand(ce),
		extendCommand(ce), healthCommand(ce), stakeCommand(ce), benchCommand(ce),
		publisherCommand(ce), aggregatorCommand(ce), daemonCommand(ce), uploadRelayCommand(ce), s3Command(ce),
		siteCommand(ce), portalCommand(ce),
	)
	root.AddCommand(clientCommands(ce)...)
	return ce
}

// resolve returns the configuration of this command line.
func (ce *clientEnv) resolve() (clientConfig, error) {
	return resolveClientConfig(configFlags{path: ce.configPath, context: ce.contextName, rpc: ce.rpcFlag, wallet: ce.walletFlag},
		os.Getenv, defaultConfigDir())
}

// loadClientConfig reads the configuration (see resolveClientConfig) and returns the
// selected settings with flags applied and the wallet path resolved, and the file's path.
func (ce *clientEnv) loadClientConfig() (clientConfigFile, string, error) {
	c, err := ce.resolve()
	return fileOf(c.clientContext), c.Path, err
}

// expandPath resolves ~/ and paths relative to dir.
func expandPath(p, dir string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// loadWallet loads the configured wallet. The error says where the path came from and,
// when no configuration was found, how to point at one before suggesting a new wallet.
func (c clientConfig) loadWallet() (*chainclient.Signer, error) {
	if c.Wallet == "" {
		return nil, withHint(errors.New("no wallet: no --wallet, no configuration and no default directory"), "pass --wallet FILE")
	}
	s, err := chainclient.LoadSigner(c.Wallet)
	if err == nil {
		return s, nil
	}
	missing := errors.Is(err, fs.ErrNotExist)
	switch {
	case !missing:
		return nil, withHint(fmt.Errorf("cannot load the wallet %s: %w", c.Wallet, unwrapPathError(err)), "check "+c.field("wallet"))
	case c.WalletFrom == "--wallet":
		return nil, withHint(fmt.Errorf("no wallet at %s", c.Wallet), "create one with 'walrus wallet new', or check --wallet")
	case c.WalletFrom == "config":
		return nil, withHint(fmt.Errorf("no wallet at %s (%s)", c.Wallet, c.field("wallet")), "check 'wallet' in "+c.Path)
	case c.Found:
		return nil, withHint(fmt.Errorf("no wallet: %s names none and %s does not exist", c.Path, c.Wallet),
			"add 'wallet: KEYFILE' to "+c.Path+", or pass --wallet FILE")
	}
	return nil, withHint(fmt.Errorf("no wallet at %s, and no client configuration at %s", c.Wallet, c.Path),
		"point at your configuration with WALRUS_CONFIG=FILE or --config FILE ('walrus devnet' prints the line to export); "+
			"to start afresh instead, create a wallet with 'walrus wallet new' and fund it")
}

// sdkConfig converts the communication settings.
func (c communicationConfig) apply(cfg *client.Config, path string) error {
	cfg.MaxConcurrentUploads = c.MaxConcurrentUploads
	cfg.MaxConcurrentSliverReads = c.MaxConcurrentSliverReads
	cfg.MaxConcurrentMetadataReads = c.MaxConcurrentMetadataReads
	cfg.MaxRetries = c.MaxRetries
	cfg.TailFactor = c.TailFactor
	for _, d := range []struct {
		name string
		s    string
		out  *time.Duration
	}{
		{"request_timeout", c.RequestTimeout, &cfg.RequestTimeout},
		{"retry_min", c.RetryMin, &cfg.RetryMin},
		{"retry_max", c.RetryMax, &cfg.RetryMax},
		{"registration_timeout", c.RegistrationTimeout, &cfg.RegistrationTimeout},
		{"tail_base", c.TailBase, &cfg.TailBase},
	} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil {
			return fmt.Errorf("%s: communication.%s: %w", path, d.name, err)
		}
		*d.out = v
	}
	return nil
}

// session is a connection to a Walrus network: the SDK client and the chain client.
type session struct {
	client *client.Client
	chain  *chainclient.Client
	signer *chainclient.Signer
	rpcURL string
	params chain.Params
}

func (s *session) close() {
	s.client.Close()
	s.chain.Close()
}

// logger returns the CLI's logger: discarded unless $WALRUS_LOG names a level.
func (ce *clientEnv) logger() *slog.Logger {
	lvl := os.Getenv("WALRUS_LOG")
	if lvl == "" {
		return slog.New(slog.DiscardHandler)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(lvl)); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(ce.stderr, &slog.HandlerOptions{Level: level}))
}

// chainConn is a chain client dialled from the configuration, with the chain's parameters.
type chainConn struct {
	chain  *chainclient.Client
	params chain.Params
	config clientConfig
}

// dialChain resolves the configuration, dials the chain and checks that it answers (and,
// with chain_id configured, that it is that chain). The caller closes the client.
func (ce *clientEnv) dialChain(ctx context.Context) (*chainConn, error) {
	cfg, err := ce.resolve()
	if err != nil {
		return nil, err
	}
	return ce.dialConfigured(ctx, cfg)
}

func (ce *clientEnv) dialConfigured(ctx context.Context, cfg clientConfig) (*chainConn, error) {
	opts := chainclient.Options{Logger: ce.logger(), ChainID: cfg.ChainID}
	var cc *chainclient.Client
	var err error
	if ce.localChain != nil {
		cc, err = chainclient.New(ce.localChain, opts)
	} else {
		cc, err = chainclient.Dial(cfg.RPCURL, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.field("rpc_url"), err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	params, err := cc.Params(pctx)
	if err != nil {
		cc.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, chainclient.ErrChainID) {
			return nil, withHint(fmt.Errorf("the chain at %s is not the configured chain %s: %w", cfg.RPCURL, cfg.ChainID, err),
				"check "+cfg.field("rpc_url")+" and "+cfg.field("chain_id")+"; a wallet signs only for the chain it was configured for")
		}
		return nil, withHint(fmt.Errorf("cannot reach the chain at %s: %s", cfg.RPCURL, rootCause(err)),
			"is a validator running at "+cfg.RPCURL+"? ('walrus devnet' starts a local network); check "+cfg.field("rpc_url"))
	}
	return &chainConn{chain: cc, params: params, config: cfg}, nil
}

// connect loads the configuration, dials the chain and checks that it answers, and loads
// the wallet if needWallet (or if one exists where the configuration points).
func (ce *clientEnv) connect(ctx context.Context, needWallet bool) (*session, error) {
	cfg, err := ce.resolve()
	if err != nil {
		return nil, err
	}
	var signer *chainclient.Signer
	if needWallet {
		if signer, err = cfg.loadWallet(); err != nil {
			return nil, err
		}
	} else if cfg.Wallet != "" {
		signer, _ = chainclient.LoadSigner(cfg.Wallet) // optional: reads need no wallet
	}
	conn, err := ce.dialConfigured(ctx, cfg)
	if err != nil {
		return nil, err
	}
	sc := client.Config{Chain: conn.chain, Signer: signer, Logger: ce.logger(), HTTPClient: ce.httpClient,
		DisablePendingUploads: ce.noPendingUploads}
	if err := cfg.Communication.apply(&sc, cfg.Path); err != nil {
		conn.chain.Close()
		return nil, err
	}
	c, err := client.New(sc)
	if err != nil {
		conn.chain.Close()
		return nil, err
	}
	return &session{client: c, chain: conn.chain, signer: signer, rpcURL: cfg.RPCURL, params: conn.params}, nil
}

// rootCause shortens network errors to their last, most telling part.
func rootCause(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		return msg[i+2:]
	}
	return msg
}

// packagePrefixes are the package prefixes explain drops from error messages.
var packagePrefixes = []string{"chainclient: ", "nodeclient: ", "client: ", "chain: "}

// dropPackagePrefixes removes package prefixes ("chainclient: ") where they start the
// message or one of its wrapped parts (after ": "), and nowhere else: a prefix is a whole
// word, so "chainclient: transaction failed" loses "chainclient: ", never just "client: ".
func dropPackagePrefixes(msg string) string {
	var b strings.Builder
	atStart := true
	for len(msg) > 0 {
		if atStart {
			dropped := false
			for _, p := range packagePrefixes {
				if rest, ok := strings.CutPrefix(msg, p); ok {
					msg, dropped = rest, true
					break
				}
			}
			if dropped {
				continue
			}
		}
		if rest, ok := strings.CutPrefix(msg, ": "); ok {
			b.WriteString(": ")
			msg, atStart = rest, true
			continue
		}
		b.WriteByte(msg[0])
		msg, atStart = msg[1:], false
	}
	return b.String()
}

// cliError is an error whose message was cleaned up for the command line; it unwraps to
// the original.
type cliError struct {
	err error
	msg string
}

func (e cliError) Error() string { return e.msg }
func (e cliError) Unwrap() error { return e.err }

// explain turns an SDK or chain error into a command line error: package prefixes are
// dropped and hints added. It never makes a usage error: whatever the chain or the nodes
// refuse, the command line was well formed.
func explain(err error, s *session) error {
	if err == nil {
		return nil
	}
	ce := cliError{err: err, msg: dropPackagePrefixes(err.Error())}
	switch {
	case errors.Is(err, client.ErrInvalidEpochs), errors.Is(err, chain.ErrInvalidEpochs):
		max := ""
		if s != nil {
			max = fmt.Sprintf(" (at most %d epochs ahead)", s.params.MaxEpochsAhead)
		}
		// The chain or the SDK refused the epochs: not a usage error, the command line
		// was well formed (its own checks come first).
		return withHint(ce, "store for 1 or more epochs"+max)
	case errors.Is(err, chain.ErrInsufficientFunds):
		addr := "wallet"
		if s != nil && s.signer != nil {
			addr = "wallet " + s.signer.Address().String()
		}
		return withHint(ce, "fund the "+addr+", or store for fewer epochs")
	case errors.Is(err, client.ErrNotFound):
		return ce
	case errors.Is(err, client.ErrUnavailable), errors.Is(err, client.ErrNoQuorum):
		return withHint(ce, "not enough storage nodes answered; see 'walrus health'")
	case errors.Is(err, client.ErrTooLarge):
		return ce
	case errors.Is(err, client.ErrTipRefused):
		return withHint(ce, "pass --skip-tip-confirmation to pay it, or store without --upload-relay")
	}
	return ce
}
