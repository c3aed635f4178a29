package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/devnet"
	"github.com/walrus-go/walrus/internal/gateway"
)

// devnetReadyTimeout bounds how long the devnet waits for its parts to answer.
const devnetReadyTimeout = 2 * time.Minute

type devnetFlags struct {
	dir           string
	nodes, shards int
	epoch         time.Duration
	http          string
	metrics       string
	chainRPC      string
	chainP2P      string
	nodePort      int
}

func devnetCommand(e *env) *cobra.Command {
	var f devnetFlags
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a complete local Walrus network",
		Long: "Run a complete local network in one directory: a CometBFT validator, each storage node\n" +
			"as its own process, and a publisher/aggregator daemon. The first run creates keys, a\n" +
			"funded wallet, the genesis and the configurations; later runs resume the same network\n" +
			"with its data. Prints 'devnet ready', the endpoints and an 'export WALRUS_CONFIG=...'\n" +
			"line once everything answers. Ctrl-C stops all of it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runDevnet(e, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "dir", ".walrus-devnet", "directory of the network (created on first run)")
	fl.IntVar(&f.nodes, "nodes", 4, "number of storage nodes (first run only)")
	fl.IntVar(&f.shards, "shards", 100, "number of shards (first run only)")
	fl.DurationVar(&f.epoch, "epoch-duration", 10*time.Minute, "epoch length in block time (first run only)")
	fl.StringVar(&f.http, "http", defaultDaemonAddr, "address of the publisher/aggregator API")
	fl.StringVar(&f.metrics, "metrics-address", "off", "address of the daemon's Prometheus metrics, or 'off'")
	fl.StringVar(&f.chainRPC, "chain-rpc", "127.0.0.1:26657", "validator JSON-RPC address (first run only)")
	fl.StringVar(&f.chainP2P, "chain-p2p", "127.0.0.1:26656", "validator peer-to-peer address (first run only)")
	fl.IntVar(&f.nodePort, "node-port", 9185, "REST port of storage node 0; node i uses +i, metrics +100+i (first run only)")
	return cmd
}

func runDevnet(e *env, f devnetFlags) error {
	dir, err := filepath.Abs(f.dir)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	o := devnet.Options{
		Dir: dir, Nodes: f.nodes, Shards: f.shards, EpochDuration: f.epoch,
		ChainRPC: f.chainRPC, ChainP2P: f.chainP2P, NodePort: f.nodePort, Logger: log,
	}
	if err := o.Validate(); err != nil {
		return usageError{err}
	}
	created, err := devnet.Init(o)
	if err != nil {
		return err
	}
	l := devnet.Layout{Dir: dir}
	extra := []string{f.http}
	if f.metrics != "off" && f.metrics != "" {
		extra = append(extra, f.metrics)
	}
	if err := devnet.CheckPorts(dir, extra...); err != nil {
		return withHint(err, "stop the other process, or choose other addresses with --http and --metrics-address")
	}
	netw, err := devnet.Start(o)
	if err != nil {
		return err
	}
	defer netw.Close()
	ends := netw.Endpoints()
	if created {
		if err := writeClientConfig(l.ClientConfig(), ends.ChainRPC, ends.ChainID, "wallet.json"); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "walrus: created a devnet in %s\n", dir)
	}

	// The publisher/aggregator daemon runs in this process until the devnet stops.
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	de := *e
	de.ctx = ctx
	ce := &clientEnv{env: &de, configPath: l.ClientConfig()}
	daemonDone := make(chan error, 1)
	go func() {
		daemonDone <- runDaemon(ce, daemonFlags{
			bind: f.http, metrics: f.metrics, maxBodyKiB: gateway.DefaultMaxBodySize >> 10,
			maxStores: gateway.DefaultMaxConcurrentStores, maxReads: gateway.DefaultMaxConcurrentReads,
			defaultEpochs: gateway.DefaultEpochs,
		}, true, true)
	}()

	rctx, rcancel := context.WithTimeout(ctx, devnetReadyTimeout)
	defer rcancel()
	if err := netw.WaitReady(rctx); err != nil {
		return withHint(err, "see the node logs in "+filepath.Join(dir, "nodes", "<i>", "node.log"))
	}
	daemonURL := "http://" + f.http
	if err := devnet.WaitHTTP(rctx, &http.Client{Timeout: 2 * time.Second}, daemonURL+"/status", daemonDone); err != nil {
		return fmt.Errorf("the publisher/aggregator did not become ready: %w", err)
	}
	fmt.Fprintln(e.stdout, "devnet ready")
	fmt.Fprintf(e.stdout, "  chain rpc:            %s\n", ends.ChainRPC)
	for i, u := range ends.Nodes {
		fmt.Fprintf(e.stdout, "  storage node %d:       %s\n", i, u)
	}
	fmt.Fprintf(e.stdout, "  publisher/aggregator: %s\n", daemonURL)
	fmt.Fprintf(e.stdout, "export WALRUS_CONFIG=%s\n", l.ClientConfig())

	select {
	case <-e.ctx.Done():
		cancel()
		<-daemonDone
		return nil
	case err := <-daemonDone:
		if err == nil {
			err = errors.New("the publisher/aggregator stopped")
		}
		return err
	}
}
