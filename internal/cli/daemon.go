package cli

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

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
	}
	if aggregator {
		fl.IntVar(&f.maxReads, "max-concurrent-reads", gateway.DefaultMaxConcurrentReads, "reads served at once; more get 429")
	}
	return cmd
}

func runDaemon(ce *clientEnv, f daemonFlags, publisher, aggregator bool) error {
	if publisher && (f.maxBodyKiB <= 0 || f.maxStores <= 0 || f.defaultEpochs == 0) {
		return usageError{errors.New("--max-body-size, --max-concurrent-requests and --default-epochs must be positive")}
	}
	if aggregator && f.maxReads <= 0 {
		return usageError{errors.New("--max-concurrent-reads must be positive")}
	}
	s, err := ce.connect(ce.ctx, publisher)
	if err != nil {
		return err
	}
	defer s.close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	log := ce.logger()
	h, err := gateway.New(gateway.Config{
		Blobs: s.client, Publisher: publisher, Aggregator: aggregator,
		MaxBodySize: f.maxBodyKiB << 10, MaxConcurrentStores: f.maxStores, MaxConcurrentReads: f.maxReads,
		DefaultEpochs: f.defaultEpochs, Logger: log, Registerer: reg,
		Health: func(ctx context.Context) error { _, err := s.chain.System(ctx); return err },
	})
	if err != nil {
		return err
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
	return gateway.Serve(ce.ctx, l, h, ml, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
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
