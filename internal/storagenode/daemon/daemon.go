package daemon

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/api"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// Options are what a program running a node in-process may supply instead of the
// configuration's files and addresses. The zero value is valid.
type Options struct {
	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger
	// Chain is the chain client to use instead of dialing Config.ChainRPC and ChainRPCs (for example
	// one over an in-process validator). The daemon does not close it.
	Chain *chainclient.Client
	// BLSKey, NetworkKey and Wallet replace Config.BLSKeyFile, Config.NetworkKeyFile and
	// Config.WalletKeyFile.
	BLSKey     *bls.SecretKey
	NetworkKey ed25519.PrivateKey
	Wallet     *chainclient.Signer
	// Now is the clock the TLS certificate's validity starts from; nil means time.Now.
	Now func() time.Time
	// Registry receives the node's metrics; nil means a registry of its own. The metrics
	// endpoint serves this registry. Daemons cannot share one (the series carry no node
	// label).
	Registry *prometheus.Registry
	// StartTimeout bounds how long Start waits for the chain to answer; 0 means 1 min.
	StartTimeout time.Duration
	// ShutdownTimeout bounds how long Close waits for API requests in flight (and for
	// connections that sent none yet) before closing them; 0 means 5 s, negative closes
	// them at once.
	ShutdownTimeout time.Duration
	// NodeConfig and APIOptions, if not nil, edit the node core's configuration and the
	// REST API's options after Start filled them from Config: a program embedding the
	// daemon may bound the buffer of pending uploads, or serve only Walrus's upload routes.
	NodeConfig func(*sn.Config)
	APIOptions func(*api.Options)
	// Listener, if not nil, is the REST API's listener instead of one Start opens on
	// Config.Listen (which then only names the address): a program that reserved the
	// address before it could start the node (because the address had to be on chain
	// first) hands it over without freeing the port in between. Start closes it on
	// failure, Close otherwise.
	Listener net.Listener
}

// Daemon is a running storage node: the node core over its store, the REST API and
// metrics servers, and the drivers that follow the chain, sync blobs and shards and
// collect garbage. Its methods are safe for concurrent use.
type Daemon struct {
	cfg    Config
	log    *slog.Logger
	key    *bls.SecretKey
	wallet *chainclient.Signer
	chain  *chainclient.Client
	ownCC  bool
	params chain.Params
	n      int
	enc    *redstuff.Config
	store  *store.Store
	node   *sn.Node
	view   *chainView

	counters     counters
	chalCounters challengeCounters
	rebuildCount rebuildCounters // test fault RebuildChallenged
	chalKick     chan struct{}   // wakes the challenge driver (kickChallenger)
	metrics      *metrics
	peerSem      chan struct{}
	// maxSymbolIDs bounds the symbol IDs of one recovery request (the API's default cap
	// is the shard count).
	maxSymbolIDs int

	blobs  *blobSyncer
	shards *shardSyncer
	gc     *gcDriver

	invalidMu    sync.Mutex
	invalidating map[redstuff.BlobID]bool

	apiSrv, metricsSrv *http.Server
	apiAddr            string
	metricsAddr        string
	shutdownTimeout    time.Duration

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	done      chan struct{}
	closeOnce sync.Once
	errMu     sync.Mutex
	err       error
}

// Start starts a storage node: it loads the keys, connects to the chain (waiting up to
// Options.StartTimeout for it to answer, or until ctx ends), opens the database in
// Config.DataDir, listens on Config.Listen and Config.MetricsListen and starts the
// node's drivers in the background. ctx bounds only the start; Close stops the node.
func Start(ctx context.Context, cfg Config, opts Options) (_ *Daemon, err error) {
	if err := cfg.validate(opts.Chain == nil, opts.BLSKey == nil, opts.NetworkKey == nil, opts.Wallet == nil); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	d := &Daemon{cfg: cfg, log: opts.Logger, key: opts.BLSKey, wallet: opts.Wallet, chain: opts.Chain,
		invalidating: map[redstuff.BlobID]bool{}, done: make(chan struct{}), shutdownTimeout: opts.ShutdownTimeout,
		chalKick: make(chan struct{}, 1)}
	if d.shutdownTimeout == 0 {
		d.shutdownTimeout = 5 * time.Second
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	var cleanup []func()
	if opts.Listener != nil {
		cleanup = append(cleanup, func() { opts.Listener.Close() })
	}
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}
	}()
	if d.key == nil {
		if d.key, err = LoadBLSKey(cfg.BLSKeyFile); err != nil {
			return nil, err
		}
	}
	netKey := opts.NetworkKey
	if netKey == nil {
		if netKey, err = nodetls.LoadKey(cfg.NetworkKeyFile); err != nil {
			return nil, fmt.Errorf("daemon: network_key_file: %w", err)
		}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	tlsConfig, err := nodetls.ServerConfig(netKey, now())
	if err != nil {
		return nil, err
	}
	if d.wallet == nil {
		if d.wallet, err = chainclient.LoadSigner(cfg.WalletKeyFile); err != nil {
			return nil, fmt.Errorf("daemon: wallet_key_file: %w", err)
		}
	}
	if d.chain == nil {
		if d.chain, err = chainclient.DialAll(cfg.ChainEndpoints(), chainclient.Options{Logger: d.log}); err != nil {
			return nil, fmt.Errorf("daemon: chain_rpc: %w", err)
		}
		d.ownCC = true
		cleanup = append(cleanup, func() { d.chain.Close() })
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	if d.params, err = waitParams(ctx, d.chain, timeout, d.log); err != nil {
		return nil, err
	}
	d.n = int(d.params.NShards)
	if d.enc, err = redstuff.NewConfig(d.n); err != nil {
		return nil, fmt.Errorf("daemon: chain has %d shards: %w", d.n, err)
	}

	if d.store, err = store.Open(filepath.Join(cfg.DataDir, "db"), store.Options{Logger: d.log, MemTableBytes: cfg.MemTableBytes}); err != nil {
		return nil, fmt.Errorf("daemon: data_dir: %w", err)
	}
	cleanup = append(cleanup, func() { d.store.Close() })
	nodeCfg := sn.Config{NShards: d.n, Key: d.key, Store: d.store, Encoding: d.enc, Logger: d.log, CacheBytes: cfg.CacheBytes,
		ForgeChallengeAnswers: cfg.TestFaults.ForgeChallengeAnswers}
	if opts.NodeConfig != nil {
		opts.NodeConfig(&nodeCfg)
	}
	if d.node, err = sn.New(nodeCfg); err != nil {
		return nil, err
	}
	d.counters.cursor.Store(int64(d.node.Cursor()))
	d.counters.epoch.Store(int64(d.node.Epoch()))

	peerHTTP := &http.Client{Transport: countingTransport{base: nodetls.NewTransport(&http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	})}}
	d.view = newChainView(d.chain, d.node.PublicKey(), nodeclient.Options{HTTPClient: peerHTTP, Timeout: cfg.PeerTimeout, NShards: d.n})
	d.peerSem = make(chan struct{}, cfg.PeerRequestConcurrency)
	if !cfg.FullMetadata {
		d.node.SetMetadataPeers(metaPeers{d})
	}
	d.maxSymbolIDs = min(d.n, 1000)

	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	d.metrics = newMetrics(reg, &d.counters, d.node)
	registerChallengeMetrics(reg, &d.chalCounters, d.node)
	if cfg.TestFaults.RebuildChallenged {
		registerRebuildMetrics(reg, &d.rebuildCount)
	}

	apiLn := opts.Listener
	if apiLn == nil {
		if apiLn, err = net.Listen("tcp", cfg.Listen); err != nil {
			return nil, fmt.Errorf("daemon: listen: %w", err)
		}
		cleanup = append(cleanup, func() { apiLn.Close() })
	}
	d.apiAddr = apiLn.Addr().String()
	if !cfg.PlainHTTP {
		apiLn = nodetls.NewListener(apiLn, tlsConfig)
	}
	apiOpts := api.Options{
		Logger: d.log, MaxUploadBytes: cfg.MaxUploadBytes, ShardOwners: d.view, ChallengeMembers: d.view,
		MinBodyRate: cfg.MinBodyRate, BodyGrace: cfg.BodyGrace,
	}
	if opts.APIOptions != nil {
		opts.APIOptions(&apiOpts)
	}
	d.apiSrv = api.NewServer(d.apiAddr, d.node, apiOpts)
	d.apiSrv.Handler = countBytes(d.apiSrv.Handler, d.metrics, &d.counters)
	var metricsLn net.Listener
	if cfg.MetricsListen != MetricsOff {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			return nil, fmt.Errorf("daemon: metrics_listen: %w", err)
		}
		d.metricsAddr = metricsLn.Addr().String()
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		if cfg.Pprof {
			pprofRoutes(mux)
		}
		d.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	}

	runCtx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.blobs = newBlobSyncer(d)
	d.shards = newShardSyncer(d)
	d.gc = newGCDriver(d)
	d.gc.schedule(d.node.Epoch())

	d.goServe("node API", d.apiSrv, apiLn)
	if d.metricsSrv != nil {
		d.goServe("metrics", d.metricsSrv, metricsLn)
	}
	d.goRun(runCtx, "event follower", d.follow)
	d.goRun(runCtx, "blob sync", d.blobs.run)
	d.goRun(runCtx, "shard sync", d.shards.run)
	d.goRun(runCtx, "garbage collection", d.gc.run)
	d.goRun(runCtx, "event lag", d.measureLag)
	d.goRun(runCtx, "startup scan", d.blobs.scan)
	d.goRun(runCtx, "storage challenges", newChallenger(d, &d.chalCounters).run)
	d.log.Info("storage node started", "api", d.apiAddr, "metrics", d.metricsAddr, "shards", d.n,
		"epoch", d.node.Epoch(), "cursor", d.node.Cursor(), "public_key", d.node.PublicKey())
	return d, nil
}

// waitParams reads the chain parameters, retrying while the chain does not answer.
func waitParams(ctx context.Context, c *chainclient.Client, timeout time.Duration, log *slog.Logger) (chain.Params, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	backoff := 50 * time.Millisecond
	for {
		p, err := c.Params(ctx)
		if err == nil {
			return p, nil
		}
		var ce *chainclient.Error
		if errors.As(err, &ce) {
			return p, fmt.Errorf("daemon: chain parameters: %w", err)
		}
		log.Info("waiting for the chain", "err", err)
		if !sleep(ctx, backoff) {
			return p, fmt.Errorf("daemon: chain not reachable: %w", err)
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// goServe serves an HTTP server in the background; a failure stops the daemon.
func (d *Daemon) goServe(name string, srv *http.Server, ln net.Listener) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.fail(fmt.Errorf("daemon: %s server: %w", name, err))
		}
	}()
}

// goRun runs a driver in the background; an error stops the daemon.
func (d *Daemon) goRun(ctx context.Context, name string, fn func(context.Context) error) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			d.fail(fmt.Errorf("daemon: %s: %w", name, err))
		}
	}()
}

// fail records a fatal error and stops the daemon.
func (d *Daemon) fail(err error) {
	d.log.Error("storage node failed", "err", err)
	d.errMu.Lock()
	if d.err == nil {
		d.err = err
	}
	d.errMu.Unlock()
	go d.Close()
}

// lagInterval is how often the daemon measures its event lag (a query to the chain each
// time).
const lagInterval = 10 * time.Second

// measureLag updates the event lag from the chain's next event sequence number.
func (d *Daemon) measureLag(ctx context.Context) error {
	t := time.NewTicker(lagInterval)
	defer t.Stop()
	for {
		if sys, err := d.chain.System(ctx); err == nil {
			lag := int64(sys.NextEventSeq) - int64(d.node.Cursor())
			d.counters.eventLag.Store(max(lag, 0))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Close stops the node: the servers, then the drivers, then the database. It is
// idempotent and returns the error that stopped the daemon, if one did.
func (d *Daemon) Close() error {
	d.closeOnce.Do(func() {
		if d.shutdownTimeout > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), d.shutdownTimeout)
			d.apiSrv.Shutdown(ctx) //nolint:errcheck // best effort; Close follows
			cancel()
		}
		d.apiSrv.Close()
		if d.metricsSrv != nil {
			d.metricsSrv.Close()
		}
		d.cancel()
		d.wg.Wait()
		if err := d.store.Close(); err != nil {
			d.errMu.Lock()
			if d.err == nil {
				d.err = err
			}
			d.errMu.Unlock()
		}
		if d.ownCC {
			d.chain.Close()
		}
		close(d.done)
	})
	<-d.done
	return d.Err()
}

// Done is closed when the daemon has stopped (Close, or a fatal error).
func (d *Daemon) Done() <-chan struct{} { return d.done }

// Err returns the error that stopped the daemon, or nil.
func (d *Daemon) Err() error {
	d.errMu.Lock()
	defer d.errMu.Unlock()
	return d.err
}

// Node returns the node core, for in-process callers.
func (d *Daemon) Node() *sn.Node { return d.node }

// URL returns the base URL of the node REST API as it listens: "https://host:port", or
// "http://host:port" with Config.PlainHTTP.
func (d *Daemon) URL() string {
	if d.cfg.PlainHTTP {
		return "http://" + d.apiAddr
	}
	return "https://" + d.apiAddr
}

// MetricsAddr returns the address of the metrics endpoint, "" if there is none.
func (d *Daemon) MetricsAddr() string { return d.metricsAddr }

// Stats returns the daemon's counters.
func (d *Daemon) Stats() Stats { return d.counters.stats() }

// Config returns the configuration with defaults filled in.
func (d *Daemon) Config() Config { return d.cfg }
