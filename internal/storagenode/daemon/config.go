package daemon

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
)

// Config is a storage node's configuration: the YAML file that `walrus node --config FILE`
// reads (see the package documentation for the file format), or a struct filled in by a
// program that runs a node in-process. Every field but DataDir, ChainRPC, BLSKeyFile,
// NetworkKeyFile and WalletKeyFile has a documented default used when it is zero; ChainRPC,
// BLSKeyFile, NetworkKeyFile and WalletKeyFile may also be left empty when Options supplies
// the chain client or keys.
type Config struct {
	// DataDir holds the node's database (DataDir/db). Required.
	DataDir string `yaml:"data_dir"`
	// Listen is the host:port of the node REST API. Default DefaultListen. Port 0 picks a
	// free port (Daemon.URL reports it).
	Listen string `yaml:"listen"`
	// MetricsListen is the host:port of the Prometheus metrics endpoint (/metrics); "off"
	// serves no metrics. Default DefaultMetricsListen.
	MetricsListen string `yaml:"metrics_listen"`
	// Pprof serves Go's runtime profiles (net/http/pprof: /debug/pprof/, CPU profiles at
	// /debug/pprof/profile?seconds=N) on the metrics listener, never on the node API. It
	// requires MetricsListen. Default false: a profile costs CPU and reveals internals, so
	// keep the metrics listener private (loopback or an admin network) when it is on.
	Pprof bool `yaml:"pprof"`
	// ChainRPC is the CometBFT JSON-RPC address of a chain validator
	// ("http://host:port"). This or ChainRPCs is required unless Options.Chain is set.
	ChainRPC string `yaml:"chain_rpc"`
	// ChainRPCs are more validators' JSON-RPC addresses, of the same chain. The node talks
	// to one validator at a time, ChainRPC first if set, then these in order, and moves to
	// the next one when a validator stops answering (chainclient.DialAll), so that it keeps
	// working while any validator listed is up.
	ChainRPCs []string `yaml:"chain_rpcs"`
	// BLSKeyFile is the node's BLS protocol key: 64 hex digits (the 32-byte secret scalar)
	// and a newline, mode 0600, as 'walrus chain init' writes bls.key. Required unless
	// Options.BLSKey is set.
	BLSKeyFile string `yaml:"bls_key_file"`
	// NetworkKeyFile is the node's network key: an ed25519 private key as PKCS#8 PEM, mode
	// 0600, as 'walrus chain init' writes network.key. The API is served over TLS with a
	// self-signed certificate over it, and its public key is registered on chain, where
	// clients and peers read it to authenticate the node. Required unless
	// Options.NetworkKey is set.
	NetworkKeyFile string `yaml:"network_key_file"`
	// PlainHTTP serves the API without TLS, for a node behind a TLS-terminating proxy.
	// Clients still connect over TLS and accept only a certificate over the node's
	// registered network key, so the proxy must serve one (see the package documentation).
	// Default false.
	PlainHTTP bool `yaml:"plain_http"`
	// WalletKeyFile is the key file (chainclient format, mode 0600) of the account that
	// operates the node on chain: it pays for and signs EpochSyncDone and invalid-blob
	// transactions and 'walrus node register'. Required unless Options.Wallet is set.
	WalletKeyFile string `yaml:"wallet_key_file"`
	// PublicURL is how clients and peers reach the REST API ("https://host:port");
	// 'walrus node register' announces its host:port on chain. Default "https://" +
	// Listen.
	PublicURL string `yaml:"public_url"`
	// Name is the node's name on chain ('walrus node register'). Default "storage-node".
	Name string `yaml:"name"`
	// LogLevel is debug, info, warn or error. Default info.
	LogLevel string `yaml:"log_level"`

	// CacheBytes bounds the node's cache of decoded metadata and expanded slivers.
	// Default storagenode.DefaultCacheBytes (64 MiB); negative disables it.
	CacheBytes int64 `yaml:"cache_bytes"`
	// MemTableBytes is the size of a memtable of the node's storage engine, which also
	// preallocates each write-ahead log file to about 1.1 times it on disk. Default
	// store.DefaultMemTableBytes (64 MiB); devnets use DevnetMemTableBytes. At least
	// MinMemTableBytes when set.
	MemTableBytes uint64 `yaml:"memtable_bytes"`
	// MaxUploadBytes bounds the upload bodies held in memory at once. Default 1 GiB.
	MaxUploadBytes int64 `yaml:"max_upload_bytes"`
	// MemoryLimit is the soft memory limit of the Go runtime (runtime/debug.SetMemoryLimit)
	// that the process running the node sets ('walrus node run'; the GOMEMLIMIT
	// environment variable, if set, wins). Under it the runtime keeps freed memory for
	// reuse instead of returning it and faulting it in again, and collects harder near
	// it. 0 (the default) sets no limit.
	MemoryLimit int64 `yaml:"memory_limit"`
	// MinBodyRate (bytes per second) and BodyGrace bound how slowly a request body may
	// arrive at the REST API: a body must be complete within BodyGrace +
	// length/MinBodyRate, or the request gets 408 and its connection is closed, so that
	// clients that stall cannot hold the node's upload resources. Defaults 64 KiB/s and
	// 10s.
	MinBodyRate int64         `yaml:"min_body_rate"`
	BodyGrace   time.Duration `yaml:"body_grace"`
	// EventPageSize is the number of chain events read and applied per batch. Default
	// 1000 (the chain's maximum).
	EventPageSize int `yaml:"event_page_size"`
	// BlobSyncConcurrency bounds the blobs recovered at once. Default 10.
	BlobSyncConcurrency int `yaml:"blob_sync_concurrency"`
	// PeerRequestConcurrency bounds the requests to other storage nodes in flight at once
	// (recovery symbols, metadata, shard sync, inconsistency proofs). Default 32.
	PeerRequestConcurrency int `yaml:"peer_request_concurrency"`
	// PeerTimeout bounds one request to another storage node. Default 30s.
	PeerTimeout time.Duration `yaml:"peer_timeout"`
	// FullMetadata keeps the full metadata (2n sliver hashes) of every blob, as Walrus
	// does. Default false: the node keeps it only for the blobs it is a metadata holder
	// of and the hashes of its own pairs for the others (docs/design.md).
	FullMetadata bool `yaml:"full_metadata"`
	// RetryMin and RetryMax bound the exponential backoff of blob and shard syncs that
	// failed (peers unreachable, not enough symbols yet). Defaults 1s and 1m. The shard
	// syncer also makes a pass every RetryMin while an epoch change has work left to
	// retry, and every RetryMax while it has none (the chain's epoch change events start
	// one at once).
	RetryMin time.Duration `yaml:"retry_min"`
	RetryMax time.Duration `yaml:"retry_max"`
	// IngestQuiet is how long the node waits, after it learns that a blob it lacks data of
	// is certified and after an upload of the blob to it ended, before it recovers what
	// is missing: a client's upload may still be streaming in when the certificate lands
	// (or arrive with the store's tail), and recovering those slivers from peers would
	// download them twice. While uploads of the blob are in progress it waits on, for at
	// most IngestWaitMax in all. Defaults 1s and 30s; a negative IngestQuiet
	// recovers at once.
	IngestQuiet   time.Duration `yaml:"ingest_quiet"`
	IngestWaitMax time.Duration `yaml:"ingest_wait_max"`
	// ShardSyncPageSize is the number of slivers asked for per shard sync request.
	// Default 1000.
	ShardSyncPageSize int `yaml:"shard_sync_page_size"`
	// ShardSyncConcurrency bounds the shards synced at once. Default 10.
	ShardSyncConcurrency int `yaml:"shard_sync_concurrency"`
	// ShardSyncFallbackAfter is how long a shard's previous owner may fail to answer
	// before the node recovers the shard from the whole committee with RedStuff instead.
	// Default 10m.
	ShardSyncFallbackAfter time.Duration `yaml:"shard_sync_fallback_after"`
	// GCMaxDelay bounds the delay after the start of an epoch before garbage collection
	// runs; the delay is derived from the node's key and the epoch, so nodes do not all
	// collect at once. Default (0) half the epoch duration; negative means no delay.
	GCMaxDelay time.Duration `yaml:"gc_max_delay"`
	// ChallengePoll is how often the node reads the state of the current epoch's storage
	// challenge from the chain (to reveal, learn the items, open and close the challenge
	// window, verify its peers and collect its certificate). Default 2s.
	ChallengePoll time.Duration `yaml:"challenge_poll"`
	// TestFaults turns on fault modes for tests of storage challenges. Never set outside
	// tests.
	TestFaults TestFaults `yaml:"test_faults"`
}

// TestFaults are the storage challenge fault modes of a node under test (docs/challenges.md).
// The zero value is an honest node.
type TestFaults struct {
	// LazyFraction, in [0, 1], makes a lazy node: once a certified blob is stored, it
	// deletes both slivers of the blob in a fixed pseudo-random fraction of its shards
	// (storagenode.LazyDrop) and does not repair them.
	LazyFraction float64 `yaml:"lazy_fraction"`
	// ForgeChallengeAnswers makes a forger: it answers challenges with forged symbols.
	ForgeChallengeAnswers bool `yaml:"forge_challenge_answers"`
	// RebuildChallenged makes a lazy node (LazyFraction above 0) try, once the seed is
	// known, to rebuild the challenged slivers it dropped: from other nodes' recovery
	// symbols and by reading the blob as a client and re-encoding it. Outcomes are counted
	// in walrus_node_test_rebuild_{recovery,read}_{refused,rebuilt}_total.
	RebuildChallenged bool `yaml:"rebuild_challenged"`
	// NoOwnCertificate makes the node never submit its own challenge certificate (it still
	// answers and attests): another member must submit it.
	NoOwnCertificate bool `yaml:"no_own_certificate"`
}

// DefaultChallengePoll is the default of Config.ChallengePoll.
const DefaultChallengePoll = 2 * time.Second

// Defaults of Config.
const (
	DefaultListen                 = "127.0.0.1:9185"
	DefaultMetricsListen          = "127.0.0.1:9184"
	DefaultName                   = "storage-node"
	DefaultEventPageSize          = 1000
	DefaultBlobSyncConcurrency    = 10
	DefaultPeerRequestConcurrency = 32
	DefaultPeerTimeout            = 30 * time.Second
	DefaultRetryMin               = time.Second
	DefaultIngestQuiet            = time.Second
	DefaultIngestWaitMax          = 30 * time.Second
	DefaultRetryMax               = time.Minute
	DefaultShardSyncPageSize      = 1000
	DefaultShardSyncConcurrency   = 10
	DefaultShardSyncFallbackAfter = 10 * time.Minute
	DefaultMaxUploadBytes         = 1 << 30
	DefaultMinBodyRate            = 64 << 10
	DefaultBodyGrace              = 10 * time.Second
	// MinMemTableBytes is the smallest MemTableBytes accepted.
	MinMemTableBytes = 1 << 20
	// DevnetMemTableBytes is the MemTableBytes of a devnet's nodes: a few MiB of disk
	// each instead of about 70 MB.
	DevnetMemTableBytes = 4 << 20
	// DevnetMemoryLimit is the MemoryLimit of a devnet's nodes. An upload holds a few
	// 4 MiB chunks of slivers whatever the blob's size (store.Batch), plus the pooled
	// chunks (32 MiB), the verifiers' scratch and pebble's memtables; 128 MiB leaves room
	// for them and for the caches a devnet fills, with freed memory kept for the next
	// upload. A node idles at about 50 MiB of RSS.
	DevnetMemoryLimit = 128 << 20
)

// MetricsOff as Config.MetricsListen serves no metrics.
const MetricsOff = "off"

// withDefaults returns c with defaults filled in.
func (c Config) withDefaults() Config {
	set := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	setInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	set(&c.Listen, DefaultListen)
	set(&c.MetricsListen, DefaultMetricsListen)
	set(&c.Name, DefaultName)
	set(&c.LogLevel, "info")
	if c.PublicURL == "" {
		c.PublicURL = "https://" + c.Listen
	}
	if c.MaxUploadBytes == 0 {
		c.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if c.MinBodyRate == 0 {
		c.MinBodyRate = DefaultMinBodyRate
	}
	setDur(&c.BodyGrace, DefaultBodyGrace)
	setDur(&c.ChallengePoll, DefaultChallengePoll)
	setInt(&c.EventPageSize, DefaultEventPageSize)
	setInt(&c.BlobSyncConcurrency, DefaultBlobSyncConcurrency)
	setInt(&c.PeerRequestConcurrency, DefaultPeerRequestConcurrency)
	setInt(&c.ShardSyncPageSize, DefaultShardSyncPageSize)
	setInt(&c.ShardSyncConcurrency, DefaultShardSyncConcurrency)
	setDur(&c.PeerTimeout, DefaultPeerTimeout)
	setDur(&c.RetryMin, DefaultRetryMin)
	setDur(&c.RetryMax, DefaultRetryMax)
	setDur(&c.IngestQuiet, DefaultIngestQuiet)
	setDur(&c.IngestWaitMax, DefaultIngestWaitMax)
	setDur(&c.ShardSyncFallbackAfter, DefaultShardSyncFallbackAfter)
	return c
}

// Validate checks the configuration (after defaults) and names the first bad field by its
// YAML key. needChain, needBLS, needNet and needWallet say whether ChainRPC, BLSKeyFile,
// NetworkKeyFile and WalletKeyFile are required (Options may supply them instead).
func (c Config) validate(needChain, needBLS, needNet, needWallet bool) error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("daemon: config: %s: %s", field, fmt.Sprintf(format, args...))
	}
	c = c.withDefaults()
	switch {
	case c.DataDir == "":
		return bad("data_dir", "required")
	case !(c.TestFaults.LazyFraction >= 0 && c.TestFaults.LazyFraction <= 1):
		return bad("test_faults.lazy_fraction", "%v is not in [0, 1]", c.TestFaults.LazyFraction)
	case c.ChallengePoll < 0:
		return bad("challenge_poll", "%v is negative", c.ChallengePoll)
	case needChain && len(c.ChainEndpoints()) == 0:
		return bad("chain_rpc", "required (or chain_rpcs)")
	case needBLS && c.BLSKeyFile == "":
		return bad("bls_key_file", "required")
	case needNet && c.NetworkKeyFile == "":
		return bad("network_key_file", "required")
	case needWallet && c.WalletKeyFile == "":
		return bad("wallet_key_file", "required")
	case c.MemTableBytes != 0 && (c.MemTableBytes < MinMemTableBytes || c.MemTableBytes >= 4<<30):
		return bad("memtable_bytes", "%d out of range %d..4 GiB", c.MemTableBytes, MinMemTableBytes)
	case c.MemoryLimit < 0:
		return bad("memory_limit", "%d is negative", c.MemoryLimit)
	case c.EventPageSize < 0 || c.EventPageSize > DefaultEventPageSize:
		return bad("event_page_size", "%d out of range 1..%d", c.EventPageSize, DefaultEventPageSize)
	case c.BlobSyncConcurrency < 0:
		return bad("blob_sync_concurrency", "%d is negative", c.BlobSyncConcurrency)
	case c.PeerRequestConcurrency < 0:
		return bad("peer_request_concurrency", "%d is negative", c.PeerRequestConcurrency)
	case c.ShardSyncPageSize < 0:
		return bad("shard_sync_page_size", "%d is negative", c.ShardSyncPageSize)
	case c.ShardSyncConcurrency < 0:
		return bad("shard_sync_concurrency", "%d is negative", c.ShardSyncConcurrency)
	case c.PeerTimeout < 0:
		return bad("peer_timeout", "%v is negative", c.PeerTimeout)
	case c.RetryMin < 0:
		return bad("retry_min", "%v is negative", c.RetryMin)
	case c.RetryMax < c.RetryMin:
		return bad("retry_max", "%v is below retry_min %v", c.RetryMax, c.RetryMin)
	case c.IngestWaitMax < 0:
		return bad("ingest_wait_max", "%v is negative", c.IngestWaitMax)
	case c.ShardSyncFallbackAfter < 0:
		return bad("shard_sync_fallback_after", "%v is negative", c.ShardSyncFallbackAfter)
	case c.MaxUploadBytes < 0:
		return bad("max_upload_bytes", "%d is negative", c.MaxUploadBytes)
	case c.MinBodyRate < 0:
		return bad("min_body_rate", "%d is negative", c.MinBodyRate)
	case c.BodyGrace < 0:
		return bad("body_grace", "%v is negative", c.BodyGrace)
	}
	for i, a := range c.ChainRPCs {
		if a == "" {
			return bad(fmt.Sprintf("chain_rpcs[%d]", i), "empty")
		}
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return bad("listen", "%q is not host:port", c.Listen)
	}
	if c.MetricsListen != MetricsOff {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			return bad("metrics_listen", "%q is not host:port or %q", c.MetricsListen, MetricsOff)
		}
	} else if c.Pprof {
		return bad("pprof", "needs metrics_listen (profiles are served on the metrics listener)")
	}
	if u, err := url.Parse(c.PublicURL); err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return bad("public_url", "%q is not https://host:port (nodes are reached over TLS)", c.PublicURL)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return bad("log_level", "%v", err)
	}
	return nil
}

// ChainEndpoints returns the validators' JSON-RPC addresses in the order the node tries
// them: ChainRPC (if set), then ChainRPCs.
func (c Config) ChainEndpoints() []string {
	var out []string
	if c.ChainRPC != "" {
		out = append(out, c.ChainRPC)
	}
	return append(out, c.ChainRPCs...)
}

// Validate checks a configuration that names its chain and key files, as a configuration
// file must, and names the first bad field by its YAML key.
func (c Config) Validate() error { return c.validate(true, true, true, true) }

// ResolvePaths makes the relative file paths of c (data_dir, bls_key_file,
// network_key_file, wallet_key_file) relative to dir, the directory of the configuration
// file.
func (c *Config) ResolvePaths(dir string) {
	for _, p := range []*string{&c.DataDir, &c.BLSKeyFile, &c.NetworkKeyFile, &c.WalletKeyFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// Level returns the configured log level.
func (c Config) Level() slog.Level {
	l, _ := parseLevel(c.withDefaults().LogLevel)
	return l
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
	}
	return l, nil
}

// NetworkAddress returns the network address to announce on chain for a public URL: its
// host:port (clients and peers reach it over TLS, nodeclient.URL). The chain accepts
// host:port only (chain.CheckNetworkAddress), so a public URL that is not https, or has a
// path, query or user information, is an error.
func NetworkAddress(publicURL string) (string, error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" || u.Scheme != "https" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("daemon: public URL %q is not https://host:port", publicURL)
	}
	if err := chain.CheckNetworkAddress(u.Host); err != nil {
		return "", fmt.Errorf("daemon: public URL %q: %w", publicURL, err)
	}
	return u.Host, nil
}
