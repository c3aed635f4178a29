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
	"strings"
	"time"

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

// clientConfigFile is the YAML client configuration. The committee (storage node
// addresses, keys, shards) is not configured: it comes from the chain.
//
//	rpc_url: http://127.0.0.1:26657   # CometBFT JSON-RPC of a chain validator
//	chain_id: walrus-devnet-1a2b3c4d  # optional; the client refuses any other chain
//	wallet: wallet.key                # ed25519 key file, relative to this file's directory
//	communication:                    # optional; zero values keep the SDK defaults
//	  max_concurrent_uploads: 0
//	  request_timeout: 5m
type clientConfigFile struct {
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

const clientConfigHeader = `# Walrus client configuration (walrus store, read, publisher, ...). The storage nodes
# come from the chain's committee. 'wallet' is an ed25519 key file (mode 0600), relative
# to this file's directory unless absolute. 'chain_id' pins the chain: the client signs
# nothing for a chain with another ID.
`

// writeClientConfig writes a client configuration for the chain chainID at rpcURL and a
// wallet key file (a path relative to the configuration's directory, or absolute). The
// devnet command uses it to write DIR/client.yaml.
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

// clientEnv is what the commands that talk to a Walrus network share: the command
// environment and the --config flag.
type clientEnv struct {
	*env
	configPath string
	// httpClient, if set, sends the SDK's requests to storage nodes (bench counts them).
	httpClient *http.Client
}

// addClientCommands adds the client, publisher and aggregator commands and the --config
// flag to root.
func addClientCommands(root *cobra.Command, e *env) {
	ce := &clientEnv{env: e}
	root.PersistentFlags().StringVar(&ce.configPath, "config", "",
		"client configuration file (default $"+clientConfigEnv+", then ~/.config/walrus/"+clientConfigName+")")
	root.AddCommand(
		storeCommand(ce), readCommand(ce), blobStatusCommand(ce), listBlobsCommand(ce), deleteCommand(ce),
		extendCommand(ce), healthCommand(ce), stakeCommand(ce), benchCommand(ce),
		publisherCommand(ce), aggregatorCommand(ce), daemonCommand(ce),
	)
	root.AddCommand(clientCommands(ce)...)
}

// resolveConfigPath returns the configuration file to use: --config, then
// $WALRUS_CONFIG, then the default location.
func (ce *clientEnv) resolveConfigPath() (string, error) {
	if ce.configPath != "" {
		return ce.configPath, nil
	}
	if p := os.Getenv(clientConfigEnv); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", withHint(fmt.Errorf("no client configuration: %w", err), "pass --config FILE or set $"+clientConfigEnv)
	}
	return filepath.Join(dir, "walrus", clientConfigName), nil
}

// loadClientConfig reads the configuration strictly (unknown keys are errors naming their
// line) and returns it with the wallet path resolved.
func (ce *clientEnv) loadClientConfig() (clientConfigFile, string, error) {
	path, err := ce.resolveConfigPath()
	if err != nil {
		return clientConfigFile{}, "", err
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return clientConfigFile{}, path, withHint(fmt.Errorf("no client configuration: %s not found", path),
			"start a local network with 'walrus devnet' and export the WALRUS_CONFIG it prints, or pass --config FILE")
	}
	if err != nil {
		return clientConfigFile{}, path, fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))
	}
	var c clientConfigFile
	if err := yaml.UnmarshalWithOptions(raw, &c, yaml.DisallowUnknownField()); err != nil {
		return c, path, fmt.Errorf("%s: %s", path, strings.TrimSpace(yaml.FormatError(err, false, true)))
	}
	if c.RPCURL == "" {
		return c, path, fmt.Errorf("%s: rpc_url is missing", path)
	}
	if u, err := url.Parse(c.RPCURL); err != nil || u.Host == "" {
		return c, path, fmt.Errorf("%s: rpc_url %q: want http://host:port", path, c.RPCURL)
	}
	if c.Wallet != "" {
		c.Wallet = expandPath(c.Wallet, filepath.Dir(path))
	}
	return c, path, nil
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

// connect loads the configuration, dials the chain and checks that it answers, and loads
// the wallet if needWallet (or if one is configured).
func (ce *clientEnv) connect(ctx context.Context, needWallet bool) (*session, error) {
	cfg, path, err := ce.loadClientConfig()
	if err != nil {
		return nil, err
	}
	var signer *chainclient.Signer
	if cfg.Wallet != "" {
		signer, err = chainclient.LoadSigner(cfg.Wallet)
		if err != nil && needWallet {
			return nil, withHint(fmt.Errorf("cannot load the wallet %s: %w", cfg.Wallet, unwrapPathError(err)),
				"check 'wallet' in "+path)
		}
		if err != nil {
			signer = nil
		}
	} else if needWallet {
		return nil, withHint(fmt.Errorf("%s configures no wallet", path), "add 'wallet: KEYFILE' to "+path)
	}
	log := ce.logger()
	cc, err := chainclient.Dial(cfg.RPCURL, chainclient.Options{Logger: log, ChainID: cfg.ChainID})
	if err != nil {
		return nil, fmt.Errorf("%s: rpc_url: %w", path, err)
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
				"check rpc_url and chain_id in "+path+"; a wallet signs only for the chain it was configured for")
		}
		return nil, withHint(fmt.Errorf("cannot reach the chain at %s: %s", cfg.RPCURL, rootCause(err)),
			"is the network running? check rpc_url in "+path)
	}
	sc := client.Config{Chain: cc, Signer: signer, Logger: log, HTTPClient: ce.httpClient}
	if err := cfg.Communication.apply(&sc, path); err != nil {
		cc.Close()
		return nil, err
	}
	c, err := client.New(sc)
	if err != nil {
		cc.Close()
		return nil, err
	}
	return &session{client: c, chain: cc, signer: signer, rpcURL: cfg.RPCURL, params: params}, nil
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

// cliError is an error whose message was cleaned up for the command line; it unwraps to
// the original.
type cliError struct {
	err error
	msg string
}

func (e cliError) Error() string { return e.msg }
func (e cliError) Unwrap() error { return e.err }

// explain turns an SDK or chain error into a command line error: package prefixes are
// dropped, hints added, and invalid epochs reported as usage errors.
func explain(err error, s *session) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, p := range []string{"client: ", "chainclient: ", "chain: ", "nodeclient: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	ce := cliError{err: err, msg: msg}
	switch {
	case errors.Is(err, client.ErrInvalidEpochs), errors.Is(err, chain.ErrInvalidEpochs):
		max := ""
		if s != nil {
			max = fmt.Sprintf(" (at most %d epochs ahead)", s.params.MaxEpochsAhead)
		}
		return usageError{withHint(ce, "store for 1 or more epochs"+max)}
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
	}
	return ce
}
