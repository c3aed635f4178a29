package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
)

// Defaults of Config.
const (
	DefaultMaxConcurrentSliverReads   = 64
	DefaultMaxConcurrentMetadataReads = 3
	DefaultRequestTimeout             = 5 * time.Minute
	DefaultMaxRetries                 = 5
	DefaultRetryMin                   = 50 * time.Millisecond
	DefaultRetryMax                   = 5 * time.Second
	DefaultRegistrationTimeout        = 30 * time.Second
	DefaultTailFactor                 = 0.5
	DefaultTailBase                   = 500 * time.Millisecond
	DefaultMaxEpochChangeRetries      = 3
	DefaultHedgeDelay                 = time.Second
)

// Config configures a Client. Chain is required; every other field has the documented
// default when zero.
type Config struct {
	// Chain is the chain client (required). The Client does not close it.
	Chain *chainclient.Client
	// Signer is the wallet that pays for and owns stored blobs; nil allows only reads and
	// queries (operations that send transactions fail with ErrNoWallet).
	Signer *chainclient.Signer
	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger
	// HTTPClient sends the requests to storage nodes; nil means a client of the Client's
	// own over a nodetls.Transport with keep-alive connections. Its transport is wrapped to
	// count requests. Nodes are reached over TLS and authenticated by the network key
	// registered on chain: a transport given here must be (or wrap) a nodetls.Transport, or
	// every request fails.
	HTTPClient *http.Client
	// MaxConcurrentUploads bounds the nodes uploaded to at once by one store; 0 means
	// every committee member at once (each node gets one batched request).
	MaxConcurrentUploads int
	// MaxConcurrentSliverReads bounds the sliver requests of one read in flight; 0 means
	// DefaultMaxConcurrentSliverReads.
	MaxConcurrentSliverReads int
	// MaxConcurrentMetadataReads bounds the nodes asked for metadata at once; 0 means
	// DefaultMaxConcurrentMetadataReads (Walrus's default).
	MaxConcurrentMetadataReads int
	// RequestTimeout bounds each request to a storage node; 0 means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MaxRetries bounds the retries of a request that failed in a way that may pass
	// (overload, unavailability, network errors); 0 means DefaultMaxRetries, negative
	// means none.
	MaxRetries int
	// RetryMin and RetryMax bound the exponential backoff between retries; defaults
	// DefaultRetryMin and DefaultRetryMax.
	RetryMin, RetryMax time.Duration
	// RegistrationTimeout bounds how long an upload waits for a node to see the blob's
	// registration (or its shards for a new epoch); 0 means DefaultRegistrationTimeout.
	RegistrationTimeout time.Duration
	// TailFactor and TailBase bound the tail of a store: once a quorum confirmed,
	// uploads to the other nodes go on in the background for TailFactor times the time
	// the quorum took plus TailBase (Walrus's sliver_write_extra_time). Defaults
	// DefaultTailFactor and DefaultTailBase; a negative TailBase cancels them at once.
	TailFactor float64
	TailBase   time.Duration
	// MaxEpochChangeRetries bounds how often a store collects confirmations again after
	// the epoch moved under it; 0 means DefaultMaxEpochChangeRetries.
	MaxEpochChangeRetries int
	// HedgeDelay is how long a read waits without any sliver arriving before it asks other
	// nodes for the slivers still outstanding, so that nodes that accept requests and
	// never answer delay a read by about this much instead of RequestTimeout; 0 means DefaultHedgeDelay, negative
	// means never.
	HedgeDelay time.Duration
	// DisablePendingUploads makes a store upload slivers only after its registration
	// transaction landed. By default a store starts uploading while the registration is
	// in flight, with Walrus's pending uploads (?pending=true), falling back per node to
	// uploading after the registration when a node refuses them.
	DisablePendingUploads bool
	// EncodingParallelism is the number of goroutines encoding and verification may use;
	// 0 means GOMAXPROCS.
	EncodingParallelism int
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxConcurrentSliverReads <= 0 {
		c.MaxConcurrentSliverReads = DefaultMaxConcurrentSliverReads
	}
	if c.MaxConcurrentMetadataReads <= 0 {
		c.MaxConcurrentMetadataReads = DefaultMaxConcurrentMetadataReads
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	if c.RetryMin <= 0 {
		c.RetryMin = DefaultRetryMin
	}
	if c.RetryMax <= 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = c.RetryMin
	}
	if c.RegistrationTimeout <= 0 {
		c.RegistrationTimeout = DefaultRegistrationTimeout
	}
	if c.TailFactor <= 0 {
		c.TailFactor = DefaultTailFactor
	}
	if c.TailBase == 0 {
		c.TailBase = DefaultTailBase
	}
	if c.MaxEpochChangeRetries <= 0 {
		c.MaxEpochChangeRetries = DefaultMaxEpochChangeRetries
	}
	if c.HedgeDelay == 0 {
		c.HedgeDelay = DefaultHedgeDelay
	}
	return c
}

// Validate checks the configuration and names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Chain == nil:
		return errors.New("client: Config.Chain is required")
	case c.MaxConcurrentUploads < 0:
		return errors.New("client: Config.MaxConcurrentUploads is negative")
	case c.TailFactor < 0:
		return errors.New("client: Config.TailFactor is negative")
	}
	return nil
}

// Client stores and reads blobs. It is safe for concurrent use; Close waits for the
// background tail uploads of earlier stores.
type Client struct {
	cfg   Config
	chain *chainclient.Client
	log   *slog.Logger
	hc    *http.Client

	mu         sync.Mutex
	nodes      map[nodeKey]*nodeclient.Client
	encodings  map[int]*redstuff.Config  // by shard count
	committees map[uint32]*committeeView // by epoch
	keys       map[[48]byte]bls.PublicKey
	claimed    map[chain.ObjectID]bool // owned objects used by stores in progress

	tails    tailCounter
	encoders encoderPool // sliver buffers of finished stores, for the next encode
	closed   atomic.Bool
	bad      [numBadKinds]atomic.Int64
}

// Kinds of bad node responses counted by BadResponses.
const (
	badMetadata = iota
	badSliver
	numBadKinds
)

// BadResponses counts the answers of storage nodes that arrived but failed verification
// since the Client was created: metadata that is malformed or does not match the blob ID,
// and slivers that are malformed, not the one asked for, or do not match the metadata. Each is also logged at warning level with the node's name.
// Such answers come from faulty or Byzantine nodes (or a corrupting network); the read
// goes on with other nodes.
type BadResponses struct {
	Metadata, Slivers int64
}

// BadResponses returns the counts of node answers that failed verification.
func (c *Client) BadResponses() BadResponses {
	return BadResponses{Metadata: c.bad[badMetadata].Load(), Slivers: c.bad[badSliver].Load()}
}

func (c *Client) badResponse(kind int, node string, id redstuff.BlobID, err error) {
	c.bad[kind].Add(1)
	what := [numBadKinds]string{"metadata", "sliver"}[kind]
	c.log.Warn("storage node answered with data that failed verification", "node", node, "kind", what, "blob", id, "err", err)
}

// New returns a Client.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: nodetls.NewTransport(&http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		})}
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	counted := *hc
	counted.Transport = countingTransport{base: base}
	return &Client{
		cfg: cfg, chain: cfg.Chain, log: cfg.Logger, hc: &counted,
		nodes: make(map[nodeKey]*nodeclient.Client), encodings: make(map[int]*redstuff.Config),
		committees: make(map[uint32]*committeeView), keys: make(map[[48]byte]bls.PublicKey),
		claimed: make(map[chain.ObjectID]bool),
	}, nil
}

// Close waits for the tail uploads of earlier stores (each bounded in time) and releases
// idle connections. It does not close the chain client. It is idempotent.
func (c *Client) Close() error {
	c.closed.Store(true)
	c.tails.wait()
	c.encoders.close()
	c.hc.CloseIdleConnections()
	return nil
}

// WaitTail waits until the background tail uploads of earlier stores have ended.
func (c *Client) WaitTail() { c.tails.wait() }

// Chain returns the chain client.
func (c *Client) Chain() *chainclient.Client { return c.chain }

// Address returns the wallet's address, or the zero address without a wallet.
func (c *Client) Address() chain.Address {
	if c.cfg.Signer == nil {
		return chain.Address{}
	}
	return c.cfg.Signer.Address()
}

// Encoding returns the RedStuff configuration for n shards (cached).
func (c *Client) Encoding(n int) (*redstuff.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if enc, ok := c.encodings[n]; ok {
		return enc, nil
	}
	enc, err := redstuff.NewConfig(n)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	enc.Parallelism = c.cfg.EncodingParallelism
	c.encodings[n] = enc
	return enc, nil
}

// member is one committee member as the client talks to it.
type member struct {
	index  int // position in the committee (bit of the signer bitmap)
	info   chain.MemberInfo
	key    bls.PublicKey
	node   *nodeclient.Client // nil if the network address is unusable
	weight int
	err    error // why node is nil
}

// committeeView is a committee with node clients and a shard-to-member map.
type committeeView struct {
	epoch   uint32
	n       int
	members []*member
	owner   []*member // by shard
	enc     *redstuff.Config
}

// excluding returns v with the members at the network addresses in addrs unusable
// (failing with ErrExcluded); v itself, shared through the cache, is not changed.
func (v *committeeView) excluding(addrs []string) *committeeView {
	if len(addrs) == 0 {
		return v
	}
	out := *v
	out.members = make([]*member, len(v.members))
	out.owner = make([]*member, len(v.owner))
	for i, m := range v.members {
		if slices.Contains(addrs, m.info.NetworkAddress) {
			cp := *m
			cp.node, cp.err = nil, ErrExcluded
			m = &cp
		}
		out.members[i] = m
		for _, s := range m.info.Shards {
			out.owner[s] = m
		}
	}
	return &out
}

// f returns the maximum number of faulty shards.
func (v *committeeView) f() int { return (v.n - 1) / 3 }

// committee returns the committee of epoch, cached.
func (c *Client) committee(ctx context.Context, epoch uint32) (*committeeView, error) {
	c.mu.Lock()
	v, ok := c.committees[epoch]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	info, err := c.chain.CommitteeAt(ctx, epoch)
	if err != nil {
		return nil, fmt.Errorf("client: committee of epoch %d: %w", epoch, err)
	}
	v, err = c.newView(info)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.committees[epoch] = v
	c.mu.Unlock()
	return v, nil
}

func (c *Client) newView(info chain.CommitteeInfo) (*committeeView, error) {
	n := int(info.NShards)
	enc, err := c.Encoding(n)
	if err != nil {
		return nil, err
	}
	v := &committeeView{epoch: info.Epoch, n: n, owner: make([]*member, n), enc: enc}
	for i, mi := range info.Members {
		m := &member{index: i, info: mi, weight: len(mi.Shards)}
		if m.key, err = c.publicKey(mi.PublicKey); err != nil {
			return nil, fmt.Errorf("client: committee of epoch %d: member %s: %w", info.Epoch, mi.NodeID, err)
		}
		m.node, m.err = c.nodeClient(mi, n)
		for _, s := range mi.Shards {
			if int(s) >= n || v.owner[s] != nil {
				return nil, fmt.Errorf("client: committee of epoch %d: shard %d assigned twice or out of range", info.Epoch, s)
			}
			v.owner[s] = m
		}
		v.members = append(v.members, m)
	}
	for s, m := range v.owner {
		if m == nil {
			return nil, fmt.Errorf("client: committee of epoch %d: shard %d has no owner", info.Epoch, s)
		}
	}
	return v, nil
}

func (c *Client) publicKey(b [48]byte) (bls.PublicKey, error) {
	c.mu.Lock()
	pk, ok := c.keys[b]
	c.mu.Unlock()
	if ok {
		return pk, nil
	}
	pk, err := bls.PublicKeyFromBytes(b[:])
	if err != nil {
		return pk, err
	}
	c.mu.Lock()
	c.keys[b] = pk
	c.mu.Unlock()
	return pk, nil
}

// NodeURL turns a node's network address into the base URL of its API
// (nodeclient.URL): https://host:port.
func NodeURL(addr string) string { return nodeclient.URL(addr) }

// nodeKey identifies a node's client: its URL and the network key its certificate must be
// over.
type nodeKey struct {
	url string
	key [chain.NetworkKeySize]byte
}

// nodeClient returns the client of a committee member, over TLS pinned to its registered
// network key.
func (c *Client) nodeClient(mi chain.MemberInfo, n int) (*nodeclient.Client, error) {
	k := nodeKey{url: NodeURL(mi.NetworkAddress), key: mi.NetworkPublicKey}
	c.mu.Lock()
	defer c.mu.Unlock()
	if nc, ok := c.nodes[k]; ok {
		return nc, nil
	}
	nc, err := nodeclient.New(k.url, nodeclient.Options{HTTPClient: c.hc, NetworkKey: k.key, Timeout: c.cfg.RequestTimeout, NShards: n})
	if err != nil {
		return nil, err
	}
	c.nodes[k] = nc
	return nc, nil
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
