package chainnode

import (
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
)

// Defaults of Config. They suit a devnet on one machine: blocks as soon as transactions
// arrive, a heartbeat block every few seconds so that BFT time (and with it the epochs)
// advances while the chain is idle, and short network timeouts between validators on
// loopback.
const (
	DefaultMoniker                     = "walrus-validator"
	DefaultP2PListen                   = "127.0.0.1:26656"
	DefaultRPCListen                   = "127.0.0.1:26657"
	DefaultHeartbeat                   = 3 * time.Second
	DefaultTimeoutPropose              = 3 * time.Second
	DefaultNetworkTimeoutPropose       = time.Second
	DefaultTimeoutVote                 = time.Second
	DefaultFlushThrottle               = 10 * time.Millisecond
	DefaultPeerGossipSleep             = 10 * time.Millisecond
	DefaultMempoolSize                 = 50_000
	DefaultSubscriptionBuffer          = 20_000
	DefaultAppCacheBytes         int64 = 32 << 20
)

// Config configures a validator. The zero value of every field except Home has the
// documented default, so Config{Home: dir} runs a single-validator devnet node on the
// default loopback ports.
type Config struct {
	// Home is the validator's directory (required): config/genesis.json,
	// config/priv_validator_key.json, config/node_key.json (written by GenerateSingle or
	// GenerateNetwork), data/ (CometBFT's databases and consensus WAL) and data/app (the
	// application state, pebble).
	Home string
	// Moniker names the node to its peers; default DefaultMoniker.
	Moniker string
	// P2PListen is the host:port of the peer-to-peer listener; default DefaultP2PListen.
	// Port 0 picks a free port (useful only for a single validator, whose peers need not
	// dial it).
	P2PListen string
	// RPCListen is the host:port of the CometBFT JSON-RPC server (HTTP and websocket);
	// default DefaultRPCListen. "off" runs no RPC server: in-process clients use
	// Node.Client.
	RPCListen string
	// PprofListen is the host:port of a listener serving Go's runtime profiles only
	// (net/http/pprof: /debug/pprof/, CPU profiles at /debug/pprof/profile?seconds=N),
	// apart from the RPC and P2P listeners. "" (the default) serves none. Keep it private
	// (loopback or an admin network): a profile costs CPU and reveals internals.
	PprofListen string
	// PersistentPeers are the peers to stay connected to, as "nodeID@host:port".
	PersistentPeers []string
	// TimeoutCommit is how long a validator waits after a commit for late precommits
	// before starting the next height. 0 (the default) moves on at once
	// (skip_timeout_commit): the proven setting for one validator and for a small network
	// on a LAN.
	TimeoutCommit time.Duration
	// TimeoutPropose is how long validators wait for a round's proposal before moving to
	// the next round (another proposer): what a stopped validator costs at the heights it
	// should propose. 0 means DefaultTimeoutPropose, except in the configurations
	// GenerateNetwork writes for several validators, which get DefaultNetworkTimeoutPropose:
	// about three times a proposal's gossip across a WAN (one-way delays of up to 80 ms
	// between regions plus the skew of the validators' round starts, about 0.3 s in all),
	// and above a block's time on a loaded testbed (0.7 s), so that a live proposer is never
	// skipped while a dead one costs a third of the single-validator default at each of its
	// heights. CometBFT adds 0.5 s per further round, so a round lost to a slow proposal is
	// followed by a longer one.
	TimeoutPropose time.Duration
	// TimeoutVote is how long validators wait for more prevotes or precommits once they
	// have two thirds of them, without agreement; 0 means DefaultTimeoutVote.
	TimeoutVote time.Duration
	// Heartbeat is the interval of empty blocks while no transaction arrives; the chain
	// never makes empty blocks faster (create_empty_blocks=false). 0 means
	// DefaultHeartbeat; a negative value makes no empty blocks at all (then BFT time, and
	// the epochs, advance only with transactions).
	Heartbeat time.Duration
	// FlushThrottle is p2p.flush_throttle_timeout; 0 means DefaultFlushThrottle.
	FlushThrottle time.Duration
	// PeerGossipSleep is consensus.peer_gossip_sleep_duration; 0 means
	// DefaultPeerGossipSleep.
	PeerGossipSleep time.Duration
	// MempoolSize bounds the number of pending transactions; 0 means DefaultMempoolSize.
	MempoolSize int
	// SubscriptionBuffer is the capacity of each RPC event subscription (and of the
	// websocket write buffer); 0 means DefaultSubscriptionBuffer. CometBFT's default (200)
	// drops subscriptions under load; clients of this project follow the chain's event log
	// instead, but CometBFT tools may subscribe.
	SubscriptionBuffer int
	// AppCacheBytes is the application database's block cache; 0 means
	// DefaultAppCacheBytes.
	AppCacheBytes int64
	// Logger receives the node's logs (see NewCometLogger for the level mapping); nil
	// discards them.
	Logger *slog.Logger
}

// RPCOff is the RPCListen value that disables the RPC server.
const RPCOff = "off"

// withDefaults returns c with defaults filled in.
func (c Config) withDefaults() Config {
	if c.Moniker == "" {
		c.Moniker = DefaultMoniker
	}
	if c.P2PListen == "" {
		c.P2PListen = DefaultP2PListen
	}
	if c.RPCListen == "" {
		c.RPCListen = DefaultRPCListen
	}
	if c.TimeoutPropose == 0 {
		c.TimeoutPropose = DefaultTimeoutPropose
	}
	if c.TimeoutVote == 0 {
		c.TimeoutVote = DefaultTimeoutVote
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.FlushThrottle == 0 {
		c.FlushThrottle = DefaultFlushThrottle
	}
	if c.PeerGossipSleep == 0 {
		c.PeerGossipSleep = DefaultPeerGossipSleep
	}
	if c.MempoolSize == 0 {
		c.MempoolSize = DefaultMempoolSize
	}
	if c.SubscriptionBuffer == 0 {
		c.SubscriptionBuffer = DefaultSubscriptionBuffer
	}
	if c.AppCacheBytes == 0 {
		c.AppCacheBytes = DefaultAppCacheBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate checks the configuration and names the first bad field.
func (c Config) Validate() error {
	c = c.withDefaults()
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("chainnode: config: %s: %s", field, fmt.Sprintf(format, args...))
	}
	if c.Home == "" {
		return bad("Home", "required")
	}
	if err := checkHostPort(c.P2PListen); err != nil {
		return bad("P2PListen", "%v", err)
	}
	if c.RPCListen != RPCOff {
		if err := checkHostPort(c.RPCListen); err != nil {
			return bad("RPCListen", "%v", err)
		}
	}
	if c.PprofListen != "" {
		if err := checkHostPort(c.PprofListen); err != nil {
			return bad("PprofListen", "%v", err)
		}
	}
	for i, p := range c.PersistentPeers {
		id, addr, ok := strings.Cut(p, "@")
		if !ok || len(id) != 40 {
			return bad(fmt.Sprintf("PersistentPeers[%d]", i), "%q is not nodeID@host:port", p)
		}
		if err := checkHostPort(addr); err != nil {
			return bad(fmt.Sprintf("PersistentPeers[%d]", i), "%v", err)
		}
	}
	switch {
	case c.TimeoutCommit < 0:
		return bad("TimeoutCommit", "negative")
	case c.TimeoutPropose < 0:
		return bad("TimeoutPropose", "negative")
	case c.TimeoutVote < 0:
		return bad("TimeoutVote", "negative")
	case c.FlushThrottle < 0:
		return bad("FlushThrottle", "negative")
	case c.PeerGossipSleep < 0:
		return bad("PeerGossipSleep", "negative")
	case c.MempoolSize < 0:
		return bad("MempoolSize", "negative")
	case c.SubscriptionBuffer < 100:
		return bad("SubscriptionBuffer", "%d is below CometBFT's minimum of 100", c.SubscriptionBuffer)
	case c.AppCacheBytes < 0:
		return bad("AppCacheBytes", "negative")
	}
	return nil
}

func checkHostPort(s string) error {
	if strings.Contains(s, "://") {
		return fmt.Errorf("%q: want host:port without a scheme", s)
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if host == "" || port == "" {
		return fmt.Errorf("%q: want host:port", s)
	}
	return nil
}

// AppDir returns the directory of the application database in home.
func AppDir(home string) string { return filepath.Join(home, "data", "app") }

// cometConfig builds CometBFT's configuration from c (defaults applied).
func (c Config) cometConfig() (*cmtcfg.Config, error) {
	cfg := cmtcfg.DefaultConfig()
	cfg.SetRoot(c.Home)
	cfg.Moniker = c.Moniker
	cfg.ProxyApp = "" // the application runs in-process
	cfg.P2P.ListenAddress = "tcp://" + c.P2PListen
	cfg.P2P.PersistentPeers = strings.Join(c.PersistentPeers, ",")
	cfg.P2P.AddrBookStrict = false
	cfg.P2P.AllowDuplicateIP = true
	cfg.P2P.PexReactor = false
	cfg.P2P.FlushThrottleTimeout = c.FlushThrottle
	cfg.P2P.PersistentPeersMaxDialPeriod = 2 * time.Second
	cfg.P2P.DialTimeout = time.Second
	cfg.P2P.HandshakeTimeout = 5 * time.Second
	// The RPC server is run by this package (see rpc.go), not by the node.
	cfg.RPC.ListenAddress = ""
	cfg.RPC.SubscriptionBufferSize = c.SubscriptionBuffer
	cfg.RPC.WebSocketWriteBufferSize = c.SubscriptionBuffer
	cfg.RPC.PprofListenAddress = ""
	cfg.RPC.GRPCListenAddress = ""
	cfg.Consensus.TimeoutCommit = c.TimeoutCommit
	cfg.Consensus.SkipTimeoutCommit = c.TimeoutCommit == 0
	cfg.Consensus.TimeoutPropose = c.TimeoutPropose
	cfg.Consensus.TimeoutPrevote = c.TimeoutVote
	cfg.Consensus.TimeoutPrecommit = c.TimeoutVote
	cfg.Consensus.CreateEmptyBlocks = false
	cfg.Consensus.CreateEmptyBlocksInterval = max(c.Heartbeat, 0)
	cfg.Consensus.PeerGossipSleepDuration = c.PeerGossipSleep
	cfg.Mempool.Size = c.MempoolSize
	cfg.TxIndex.Indexer = "null"
	cfg.Instrumentation.Prometheus = false
	if err := cfg.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("chainnode: config: %w", err)
	}
	return cfg, nil
}
