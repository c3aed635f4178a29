package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/devnet"
	"github.com/walrus-go/walrus/internal/explorer"
	"github.com/walrus-go/walrus/internal/gateway"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// devnetReadyTimeout bounds how long the devnet waits for its parts to answer.
const devnetReadyTimeout = 2 * time.Minute

// devnetMaxBodySize is the devnet publisher's default --max-body-size: larger than a
// production publisher's (gateway.DefaultMaxBodySize, 10 MiB), so that large files can be
// tried locally, and lowered to what the devnet's shards hold.
const devnetMaxBodySize = 100 << 20

type devnetFlags struct {
	dir           string
	nodes, shards int
	epoch         time.Duration
	http          string
	metrics       string
	pprof         string
	chainRPC      string
	chainP2P      string
	nodePort      int
	maxBodyKiB    int64
	memoryMiB     int64
	s3            string
	portal        string
	// healthInterval is the explorer's health sampling interval.
	healthInterval time.Duration
	// changed reports whether a flag was given on the command line.
	changed func(name string) bool
}

func devnetCommand(e *env) *cobra.Command {
	var f devnetFlags
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a complete local Walrus network",
		Long: "Run a complete local network in one directory: a CometBFT validator, each storage node\n" +
			"as its own process, a publisher/aggregator daemon, an S3 gateway and a Walrus Sites portal.\n" +
			"The first run creates keys, a funded wallet, the genesis and the configurations; later runs\n" +
			"resume the same network with its data, and refuse the first-run flags if they differ from\n" +
			"what the network was created with. A first run that fails leaves nothing behind. Prints\n" +
			"'devnet ready', the endpoints and an 'export WALRUS_CONFIG=...' line once everything\n" +
			"answers. Ctrl-C (SIGINT), SIGTERM or SIGHUP (a closed terminal) stops all of it.\n\n" +
			"Ports (defaults): chain RPC 26657 (--chain-rpc), chain P2P 26656 (--chain-p2p),\n" +
			"storage node i 9185+i and its metrics 9285+i (--node-port), publisher/aggregator\n" +
			"31415 (--http), S3 gateway 9000 (--s3), sites portal 3000 (--portal), all on 127.0.0.1.\n" +
			"The S3 gateway's credentials and wallet are created on the first run and kept in the\n" +
			"directory.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.changed = func(name string) bool { return cmd.Flags().Changed(name) }
			return runDevnet(e, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "dir", ".walrus-devnet", "directory of the network (created on first run)")
	fl.IntVar(&f.nodes, "nodes", 4, "number of storage nodes (first run only)")
	fl.IntVar(&f.shards, "shards", 100, "number of shards (first run only)")
	fl.DurationVar(&f.epoch, "epoch-duration", 10*time.Minute, "epoch length in block time (first run only)")
	fl.StringVar(&f.http, "http", defaultDaemonAddr, "address of the publisher/aggregator API")
	fl.StringVar(&f.metrics, "metrics-address", "off", "address of the daemon's Prometheus metrics, or 'off'")
	fl.StringVar(&f.pprof, "pprof", "off", "address on which this process (validator, publisher/aggregator) serves Go's runtime profiles at /debug/pprof/, or 'off'")
	fl.DurationVar(&f.healthInterval, "explorer-health-interval", explorer.DefaultHealthInterval, "how often the explorer samples the storage nodes' health")
	fl.StringVar(&f.chainRPC, "chain-rpc", "127.0.0.1:26657", "validator JSON-RPC address (first run only)")
	fl.StringVar(&f.chainP2P, "chain-p2p", "127.0.0.1:26656", "validator peer-to-peer address (first run only)")
	fl.IntVar(&f.nodePort, "node-port", 9185, "REST port of storage node 0; node i uses +i, metrics +100+i (first run only)")
	fl.StringVar(&f.s3, "s3", defaultS3Addr, "address of the S3 gateway, or 'off'")
	fl.StringVar(&f.portal, "portal", defaultPortalAddr, "address of the Walrus Sites portal, or 'off'")
	fl.Int64Var(&f.maxBodyKiB, "max-body-size", devnetMaxBodySize>>10,
		"largest blob the publisher accepts, in KiB (default lowered to what the devnet's shards hold)")
	fl.Int64Var(&f.memoryMiB, "memory-limit", 0,
		"soft memory limit of this process (chain, publisher/aggregator, S3, portal) in MiB (Go's GOMEMLIMIT, which wins if set); 0: 128 MiB plus the memory the publisher/aggregator's stores, bodies, reads and kept buffers hold, following them, negative: none")
	return cmd
}

// devnetFixedFlags are the flags whose values a devnet records at its first run.
var devnetFixedFlags = []string{"nodes", "shards", "epoch-duration", "chain-rpc", "chain-p2p", "node-port"}

// checkResume refuses first-run flags given with values other than those the devnet was
// created with (rec): they cannot apply to an existing network.
func checkResume(f devnetFlags, rec devnet.Options) error {
	type pair struct{ given, have string }
	vals := map[string]pair{
		"nodes":          {strconv.Itoa(f.nodes), strconv.Itoa(rec.Nodes)},
		"shards":         {strconv.Itoa(f.shards), strconv.Itoa(rec.Shards)},
		"epoch-duration": {f.epoch.String(), rec.EpochDuration.String()},
		"chain-rpc":      {f.chainRPC, rec.ChainRPC},
		"chain-p2p":      {f.chainP2P, rec.ChainP2P},
		"node-port":      {strconv.Itoa(f.nodePort), strconv.Itoa(rec.NodePort)},
	}
	var bad, had []string
	for _, name := range devnetFixedFlags {
		if v := vals[name]; f.changed(name) && v.given != v.have {
			bad = append(bad, "--"+name+" "+v.given)
			had = append(had, "--"+name+" "+v.have)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	err := fmt.Errorf("%s cannot apply: the devnet in %s was created with %s, and its ports, node and shard counts and epoch duration are fixed when it is created",
		strings.Join(bad, ", "), rec.Dir, strings.Join(had, ", "))
	return withHint(usageError{err}, fmt.Sprintf(
		"leave these flags out to resume this devnet; for one with other settings run 'walrus devnet --dir NEW_DIR %s', or remove %s (its blobs are lost) and run again",
		strings.Join(bad, " "), rec.Dir))
}

// portHint says how to get past an address the devnet cannot listen on.
func portHint(e *devnet.ListenError, resumed bool, dir string) string {
	if e.Flag == "--http" || e.Flag == "--metrics-address" || e.Flag == "--pprof" || !resumed {
		what := "choose another address with " + e.Flag
		if e.Flag == "--node-port" {
			what = "choose another first port with --node-port (node i uses it +i, its metrics +100+i)"
		}
		if !errors.Is(e.Err, syscall.EADDRINUSE) {
			return what
		}
		return "stop the process listening there, or " + what
	}
	return fmt.Sprintf("stop the process listening there; the devnet in %s keeps the ports it was created with, so for other ports run a new one with 'walrus devnet --dir NEW_DIR %s ...'",
		dir, e.Flag)
}

// devnetMaxBody returns the publisher's largest blob in bytes: --max-body-size, or by
// default devnetMaxBodySize lowered to the largest blob nShards shards hold.
func devnetMaxBody(f devnetFlags, nShards int) (int64, error) {
	enc, err := redstuff.NewConfig(nShards)
	if err != nil {
		return 0, err
	}
	most := int64(enc.MaxBlobSize())
	if !f.changed("max-body-size") {
		return min(devnetMaxBodySize, most), nil
	}
	switch {
	case f.maxBodyKiB <= 0:
		return 0, usageError{errors.New("--max-body-size must be positive")}
	case f.maxBodyKiB<<10 > most:
		return 0, usageError{fmt.Errorf("--max-body-size %d: at most %d KiB fit %d shards", f.maxBodyKiB, most>>10, nShards)}
	}
	return f.maxBodyKiB << 10, nil
}

// devnetMemoryBounds are the memory bounds of the devnet process's publisher/aggregator.
type devnetMemoryBounds struct {
	storeMiB, readMiB int64 // the publisher's store memory, the aggregator's read buffer
}

// devnetMemory returns the memory bounds of a devnet whose publisher accepts blobs of up
// to maxBody bytes. A devnet serves one user: its publisher runs one store of the largest
// blob at a time (or several smaller ones; the others wait) and its aggregator holds the
// largest blob's rows for its reads (in windows). The process's soft memory limit
// follows what they hold (runDaemon's memoryLimiter, unless --memory-limit is given).
func devnetMemory(maxBody int64) devnetMemoryBounds {
	const mib = 1 << 20
	return devnetMemoryBounds{
		storeMiB: (gateway.StoreMemory(maxBody) + mib - 1) / mib,
		readMiB:  (maxBody + mib - 1) / mib,
	}
}

func runDevnet(e *env, f devnetFlags) (err error) {
	dir, err := filepath.Abs(f.dir)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	o := devnet.Options{
		Dir: dir, Nodes: f.nodes, Shards: f.shards, EpochDuration: f.epoch,
		ChainRPC: f.chainRPC, ChainP2P: f.chainP2P, NodePort: f.nodePort,
	}
	if err := o.Validate(); err != nil {
		return usageError{err}
	}
	resumed := devnet.Exists(dir)
	if resumed {
		rec, err := devnet.Recorded(dir)
		if err != nil {
			return err
		}
		if err := checkResume(f, rec); err != nil {
			return err
		}
		o = rec
	}
	o.Logger = log
	if f.pprof != "off" {
		o.PprofListen = f.pprof
	}
	maxBody, err := devnetMaxBody(f, o.Shards)
	if err != nil {
		return err
	}
	// Every port is checked before anything is written, so that a clash on a first run
	// leaves no devnet behind with the clashing ports.
	addrs := append(o.Addresses(), devnet.Address{Addr: f.http, What: "publisher/aggregator", Flag: "--http"})
	if f.metrics != "off" && f.metrics != "" {
		addrs = append(addrs, devnet.Address{Addr: f.metrics, What: "metrics", Flag: "--metrics-address"})
	}
	if o.PprofListen != "" {
		addrs = append(addrs, devnet.Address{Addr: o.PprofListen, What: "runtime profiles", Flag: "--pprof"})
	}
	if f.s3 != "off" && f.s3 != "" {
		addrs = append(addrs, devnet.Address{Addr: f.s3, What: "S3 gateway", Flag: "--s3"})
	}
	if f.portal != "off" && f.portal != "" {
		addrs = append(addrs, devnet.Address{Addr: f.portal, What: "portal", Flag: "--portal"})
	}
	if err := devnet.CheckAddresses(addrs); err != nil {
		var le *devnet.ListenError
		if errors.As(err, &le) {
			return withHint(err, portHint(le, resumed, dir))
		}
		return err
	}
	created, err := devnet.Init(o)
	if err != nil {
		return err
	}
	l := devnet.Layout{Dir: dir}
	ready := false
	if created {
		// A first run that fails before the devnet is ready removes it again. The
		// network and the daemon are stopped first (deferred later, run earlier).
		defer func() {
			if err != nil && !ready {
				if derr := devnet.Discard(dir); derr != nil {
					fmt.Fprintf(e.stderr, "walrus: cannot remove the failed devnet in %s: %v\n", dir, derr)
				}
			}
		}()
	}
	netw, err := devnet.Start(o)
	if err != nil {
		return err
	}
	defer netw.Close()
	ends := netw.Endpoints()
	if _, serr := os.Stat(l.ClientConfig()); created || serr != nil {
		if err := writeClientConfig(l.ClientConfig(), ends.ChainRPC, ends.ChainID, "wallet.json"); err != nil {
			return err
		}
	}

	// The publisher/aggregator daemon runs in this process until the devnet stops.
	mem := devnetMemory(maxBody)
	ctx, cancel := context.WithCancel(e.ctx)
	de := *e
	de.ctx = ctx
	// The publisher/aggregator, the S3 gateway and the portal call the validator in this
	// process directly.
	ce := &clientEnv{env: &de, configPath: l.ClientConfig(), localChain: netw.ChainClient()}
	var daemonErr error
	daemonStopped := make(chan struct{})
	go func() {
		defer close(daemonStopped)
		daemonErr = runDaemon(ce, daemonFlags{
			bind: f.http, metrics: f.metrics, maxBodyKiB: maxBody >> 10,
			maxStores: gateway.DefaultMaxConcurrentStores, maxReads: gateway.DefaultMaxConcurrentReads,
			defaultEpochs:  gateway.DefaultEpochs,
			healthInterval: f.healthInterval, nodeMetrics: ends.NodeMetrics,
			storeMemoryMiB: mem.storeMiB, readBufferMiB: mem.readMiB, memoryLimitMiB: f.memoryMiB,
		}, true, true)
	}()
	defer func() {
		cancel()
		<-daemonStopped
	}()
	daemonFailed := make(chan error, 1)
	go func() {
		<-daemonStopped
		daemonFailed <- daemonErr
	}()

	rctx, rcancel := context.WithTimeout(ctx, devnetReadyTimeout)
	defer rcancel()
	if err := netw.WaitReady(rctx); err != nil {
		return withHint(err, "see the node logs in "+filepath.Join(dir, "nodes", "<i>", "node.log"))
	}
	daemonURL := "http://" + f.http
	if err := devnet.WaitHTTP(rctx, &http.Client{Timeout: 2 * time.Second}, daemonURL+"/status", daemonFailed); err != nil {
		return fmt.Errorf("the publisher/aggregator did not become ready: %w", err)
	}
	s3Line, s3Stopped, s3Wait, err := startDevnetS3(ce, f, dir)
	if err != nil {
		return err
	}
	defer func() {
		cancel()
		s3Wait()
	}()
	portalLine, portalStopped, portalWait, err := startDevnetPortal(ce, f.portal)
	if err != nil {
		return err
	}
	defer func() {
		cancel()
		portalWait()
	}()
	ready = true
	if created {
		fmt.Fprintf(e.stderr, "walrus: created a devnet in %s\n", dir)
	}
	fmt.Fprintln(e.stdout, "devnet ready")
	fmt.Fprintf(e.stdout, "  chain rpc:            %s\n", ends.ChainRPC)
	for i, u := range ends.Nodes {
		fmt.Fprintf(e.stdout, "  storage node %d:       %s\n", i, u)
	}
	fmt.Fprintf(e.stdout, "  publisher/aggregator: %s\n", daemonURL)
	fmt.Fprintf(e.stdout, "  explorer:             %s/explorer/\n", daemonURL)
	if s3Line != "" {
		fmt.Fprintf(e.stdout, "  s3:                   %s\n", s3Line)
	}
	if portalLine != "" {
		fmt.Fprintf(e.stdout, "  portal:               %s\n", portalLine)
	}
	fmt.Fprintf(e.stdout, "  epoch duration:       %s (a blob stored for N epochs lives until epoch current+N begins)\n", o.EpochDuration)
	fmt.Fprintf(e.stdout, "export WALRUS_CONFIG=%s\n", l.ClientConfig())

	select {
	case <-e.ctx.Done():
		return nil
	case <-daemonStopped:
		if daemonErr == nil {
			return errors.New("the publisher/aggregator stopped")
		}
		return daemonErr
	case err := <-s3Stopped:
		if err == nil {
			return errors.New("the S3 gateway stopped")
		}
		return err
	case err := <-portalStopped:
		if err == nil {
			return errors.New("the portal stopped")
		}
		return err
	}
}
