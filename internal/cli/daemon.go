package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/explorer"
	"github.com/walrus-go/walrus/internal/gateway"
)

// Defaults of the daemon commands (Walrus's).
const (
	defaultDaemonAddr  = "127.0.0.1:31415"
	defaultMetricsAddr = "127.0.0.1:27182"
)

type daemonFlags struct {
	bind          string
	metrics       string
	maxBodyKiB    int64
	maxStores     int
	maxReads      int
	defaultEpochs uint32
	// Authentication of stores (Walrus's --jwt-* flags); no secret: anonymous stores.
	jwtSecret      string
	jwtAlgorithm   string
	jwtExpiringSec int64
	jwtCacheSize   int
	// Limits of anonymous stores; 0 means the gateway's default.
	anonMaxEpochs    uint32
	anonMaxSizeKiB   int64
	anonClientBudget int64 // MiB-epochs per hour
	anonGlobalBudget int64 // MiB-epochs per hour
	// Bytes of blob rows all reads hold at once, in MiB; 0 means the gateway's default.
	readBufferMiB int64
	// Memory of the stores running at once (gateway.Config.MaxStoreMemory), in MiB; 0
	// means the gateway's default.
	storeMemoryMiB int64
	// The soft memory limit of the process, in MiB (applyMemoryLimit): 0 means one that
	// follows what the gateway holds (memoryLimiter), negative none.
	memoryLimitMiB int64
	// The network explorer (/explorer/ and /v1/network/): off, the health sampling
	// interval, and the storage nodes' metrics URLs it reads recovery bandwidth from.
	noExplorer     bool
	healthInterval time.Duration
	nodeMetrics    []string
}

func publisherCommand(ce *clientEnv) *cobra.Command {
	return newDaemonCommand(ce, "publisher", "Run a publisher: store blobs over HTTP (PUT /v1/blobs)", true, false)
}

func aggregatorCommand(ce *clientEnv) *cobra.Command {
	return newDaemonCommand(ce, "aggregator", "Run an aggregator: read blobs over HTTP (GET /v1/blobs/{blobId})", false, true)
}

func daemonCommand(ce *clientEnv) *cobra.Command {
	return newDaemonCommand(ce, "daemon", "Run a publisher and an aggregator on one address", true, true)
}

func newDaemonCommand(ce *clientEnv, name, short string, publisher, aggregator bool) *cobra.Command {
	var f daemonFlags
	cmd := &cobra.Command{
		Use:   name,
		Short: short,
		Long: short + ".\nThe API follows Walrus's (OpenAPI document at /v1/api); Prometheus metrics are served on\n" +
			"--metrics-address. Stops cleanly on interrupt.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDaemon(ce, f, publisher, aggregator)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.bind, "bind-address", defaultDaemonAddr, "address to serve the API on")
	fl.StringVar(&f.metrics, "metrics-address", defaultMetricsAddr, "address to serve Prometheus metrics on ('off' for none)")
	if publisher {
		fl.Int64Var(&f.maxBodyKiB, "max-body-size", gateway.DefaultMaxBodySize>>10, "largest blob accepted, in KiB")
		fl.IntVar(&f.maxStores, "max-concurrent-requests", gateway.DefaultMaxConcurrentStores, "stores served at once; more get 429")
		fl.Uint32Var(&f.defaultEpochs, "default-epochs", gateway.DefaultEpochs, "epochs a blob is stored for when the request does not say")
		fl.StringVar(&f.jwtSecret, "jwt-decode-secret", "", "require a JWT signed with this HMAC secret (0x-prefixed hex, or the text itself) for every store, and allow stores from web pages")
		fl.StringVar(&f.jwtAlgorithm, "jwt-algorithm", gateway.DefaultJWTAlgorithm, "signature algorithm of the JWTs: HS256, HS384 or HS512")
		fl.Int64Var(&f.jwtExpiringSec, "jwt-expiring-sec", 0, "if positive, JWTs must carry iat and live at most this many seconds")
		fl.IntVar(&f.jwtCacheSize, "jwt-cache-size", gateway.DefaultReplayCacheSize, "used JWT IDs remembered until they expire; when full, stores get 503")
		fl.Uint32Var(&f.anonMaxEpochs, "anonymous-max-epochs", gateway.DefaultAnonymousMaxEpochs, "without --jwt-decode-secret: the most epochs one store may last")
		fl.Int64Var(&f.anonMaxSizeKiB, "anonymous-max-size", 0, "without --jwt-decode-secret: the largest blob one store may hold, in KiB (0: --max-body-size)")
		fl.Int64Var(&f.anonClientBudget, "anonymous-client-budget", gateway.DefaultAnonymousClientBudget>>20,
			"without --jwt-decode-secret: MiB x epochs one client address may store per hour; more get 429")
		fl.Int64Var(&f.anonGlobalBudget, "anonymous-global-budget", gateway.DefaultAnonymousGlobalBudget>>20,
			"without --jwt-decode-secret: MiB x epochs all clients together may store per hour; more get 429")
		fl.Int64Var(&f.storeMemoryMiB, "max-store-memory", gateway.DefaultMaxStoreMemory>>20,
			"MiB the stores running at once may hold (a store holds about 4.5 times its blob: the body and its encoding); more wait")
	}
	fl.Int64Var(&f.memoryLimitMiB, "memory-limit", 0,
		"soft memory limit of the process in MiB (Go's GOMEMLIMIT, which wins if set); 0: 128 MiB plus the memory the stores, bodies, reads and kept buffers hold, following them, negative: none")
	fl.BoolVar(&f.noExplorer, "no-explorer", false, "do not serve the network explorer (/explorer/ and /v1/network/)")
	fl.DurationVar(&f.healthInterval, "explorer-health-interval", explorer.DefaultHealthInterval, "how often the explorer samples the committee's health")
	fl.StringSliceVar(&f.nodeMetrics, "explorer-node-metrics", nil, "URLs of storage nodes' Prometheus metrics, for the explorer's recovery bandwidth (repeatable)")
	if aggregator {
		fl.IntVar(&f.maxReads, "max-concurrent-reads", gateway.DefaultMaxConcurrentReads, "reads served at once; more get 429")
		fl.Int64Var(&f.readBufferMiB, "max-read-buffer", gateway.DefaultMaxReadBytes>>20, "MiB of blob data all reads hold at once; reads stream in windows of rows and wait for room")
	}
	return cmd
}

func runDaemon(ce *clientEnv, f daemonFlags, publisher, aggregator bool) error {
	if publisher && (f.maxBodyKiB <= 0 || f.maxStores <= 0 || f.defaultEpochs == 0) {
		return usageError{errors.New("--max-body-size, --max-concurrent-requests and --default-epochs must be positive")}
	}
	if aggregator && (f.maxReads <= 0 || f.readBufferMiB < 0) {
		return usageError{errors.New("--max-concurrent-reads must be positive and --max-read-buffer not negative")}
	}
	if f.healthInterval < 0 {
		return usageError{errors.New("--explorer-health-interval must not be negative")}
	}
	if publisher && f.storeMemoryMiB <= 0 {
		return usageError{errors.New("--max-store-memory must be positive")}
	}
	if f.jwtExpiringSec < 0 || f.jwtCacheSize < 0 || f.anonMaxSizeKiB < 0 || f.anonClientBudget < 0 || f.anonGlobalBudget < 0 {
		return usageError{errors.New("--jwt-expiring-sec, --jwt-cache-size and the --anonymous-* limits must not be negative")}
	}
	var auth *gateway.AuthConfig
	if f.jwtSecret != "" {
		secret, err := parseSecret(f.jwtSecret)
		if err != nil {
			return usageError{err}
		}
		auth = &gateway.AuthConfig{Secret: secret, Algorithm: f.jwtAlgorithm, ExpiringSec: f.jwtExpiringSec, ReplayCacheSize: f.jwtCacheSize}
	}
	s, err := ce.connect(ce.ctx, publisher)
	if err != nil {
		return err
	}
	defer s.close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	log := ce.logger()
	var onHeld func(int64)
	switch {
	case f.memoryLimitMiB > 0:
		applyMemoryLimit(f.memoryLimitMiB << 20)
	case f.memoryLimitMiB == 0:
		if l := newMemoryLimiter(processMemoryBase); l != nil {
			defer l.stop()
			onHeld = l.setHeld
		}
	}
	h, err := gateway.New(gateway.Config{
		Blobs: gateway.SDK{Client: s.client}, Publisher: publisher, Aggregator: aggregator,
		MaxBodySize: f.maxBodyKiB << 10, MaxConcurrentStores: f.maxStores, MaxConcurrentReads: f.maxReads,
		DefaultEpochs: f.defaultEpochs, Logger: log, Registerer: reg,
		Auth: auth,
		Anonymous: gateway.AnonymousLimits{
			MaxEpochs: f.anonMaxEpochs, MaxSize: f.anonMaxSizeKiB << 10,
			ClientBudget: f.anonClientBudget << 20, GlobalBudget: f.anonGlobalBudget << 20,
		},
		MaxReadBytes: f.readBufferMiB << 20, MaxStoreMemory: f.storeMemoryMiB << 20,
		Health:       func(ctx context.Context) error { _, err := s.chain.System(ctx); return err },
		OnHeldMemory: onHeld,
	})
	if err != nil {
		return err
	}
	var api http.Handler = h
	var x *explorer.Explorer
	if !f.noExplorer {
		x, err = explorer.New(ce.ctx, explorer.Config{Chain: s.chain, HealthInterval: f.healthInterval, Gateway: reg,
			NodeMetrics: f.nodeMetrics, Registerer: reg, Logger: log})
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("/", h)
		mux.Handle("/explorer/", x.Handler())
		mux.Handle("/v1/network/", x.Handler())
		api = mux
	}
	l, err := net.Listen("tcp", f.bind)
	if err != nil {
		return withHint(fmt.Errorf("cannot listen on %s: %w", f.bind, err), "choose another address with --bind-address")
	}
	var ml net.Listener
	if f.metrics != "off" && f.metrics != "" {
		if ml, err = net.Listen("tcp", f.metrics); err != nil {
			l.Close()
			return withHint(fmt.Errorf("cannot listen on %s for metrics: %w", f.metrics, err), "choose another address with --metrics-address, or 'off'")
		}
	}
	fmt.Fprintf(ce.stderr, "walrus: serving the %s API on http://%s\n", daemonKind(publisher, aggregator), l.Addr())
	if ml != nil {
		fmt.Fprintf(ce.stderr, "walrus: serving metrics on http://%s/metrics\n", ml.Addr())
	}
	if x != nil {
		fmt.Fprintf(ce.stderr, "walrus: serving the network explorer on http://%s/explorer/\n", l.Addr())
		ctx, cancel := context.WithCancel(ce.ctx)
		done := make(chan struct{})
		go func() { defer close(done); x.Run(ctx) }()
		defer func() { cancel(); <-done }()
	}
	return gateway.Serve(ce.ctx, l, api, ml, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
}

// parseSecret parses --jwt-decode-secret: 0x-prefixed hex, or the text itself (as
// Walrus reads it).
func parseSecret(s string) ([]byte, error) {
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("--jwt-decode-secret: invalid hex after 0x: %w", err)
		}
		return b, nil
	}
	return []byte(s), nil
}

func daemonKind(publisher, aggregator bool) string {
	switch {
	case publisher && aggregator:
		return "publisher and aggregator"
	case publisher:
		return "publisher"
	}
	return "aggregator"
}
