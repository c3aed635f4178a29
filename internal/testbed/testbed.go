// Package testbed runs a Walrus network over many emulated hosts on one Linux machine and
// measures it: validators, storage nodes and clients, each a `walrus` process in its own
// network namespace (package netns) with the delays of a latency matrix between regions.
// Where the machine cannot make namespaces, the same network runs as plain processes on
// loopback (Mode "loopback"), and the report says so.
//
// The network is made the way an operator makes one (docs/deploy.md): `walrus chain init`
// with every validator's and storage node's address, `walrus chain start` and `walrus node
// --config` per host. Clients run `walrus bench` (the client SDK) from their hosts.
package testbed

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/walrus-go/walrus/internal/netns"
)

// Modes of a run.
const (
	ModeAuto     = ""         // namespaces if the machine allows, else loopback
	ModeNetns    = "netns"    // every host in its own namespace
	ModeLoopback = "loopback" // every process on 127.0.0.1
)

// Config describes a testbed run. The zero value of every field but Binary and Dir has the
// documented default: the full size of the issue (4 validators, 30 storage nodes over 1000
// shards with uneven stake, 2 clients).
type Config struct {
	Binary string // the walrus binary (required)
	Dir    string // working directory (required): homes, logs
	// Matrix is the latency between regions; default netns.DefaultMatrix.
	Matrix *netns.Matrix
	// Validators (default 4), Nodes (default 30), Shards (default 1000), Clients
	// (default 2): hosts are spread over the regions round-robin.
	Validators, Nodes, Shards, Clients int
	// Sizes are the blob sizes of the benchmark (walrus bench --sizes); default 1KiB, 1MiB,
	// 20MiB, 130MiB. Count is the operations per size; default 5.
	Sizes []string
	Count int
	// Mode is ModeAuto (default), ModeNetns or ModeLoopback.
	Mode string
	// EpochDuration is the chain's epoch; default 10m. The run waits for the first epoch
	// change, storing meanwhile.
	EpochDuration time.Duration
	// ProfileDir, if set, turns on CPU profiles of the processes on a write's path while
	// the first client benchmarks: the client (walrus bench --cpuprofile), its validator
	// (pprof_listen) and storage nodes 0 and 1 (pprof on their metrics listener). The
	// profiles are written there and summarized in the report. Default "": no profiling.
	ProfileDir string
	// Log receives progress; nil discards it.
	Log *slog.Logger
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Validators, 4)
	def(&c.Nodes, 30)
	def(&c.Shards, 1000)
	def(&c.Clients, 2)
	def(&c.Count, 5)
	if c.EpochDuration == 0 {
		c.EpochDuration = 10 * time.Minute
	}
	if len(c.Sizes) == 0 {
		c.Sizes = []string{"1KiB", "1MiB", "20MiB", "130MiB"}
	}
	if c.Matrix == nil {
		c.Matrix, _ = netns.ParseMatrix(strings.NewReader(netns.DefaultMatrix))
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// BenchRow is one line of `walrus bench --json`.
type BenchRow struct {
	Op       string  `json:"op"`
	Size     int     `json:"size"`
	Count    int     `json:"count"`
	P50Ms    float64 `json:"p50Ms"`
	P90Ms    float64 `json:"p90Ms"`
	MBps     float64 `json:"mbPerSecond"`
	Requests float64 `json:"httpRequestsPerOp"`
	// Phases are a store's median phase durations (ms): encode, check, register, upload
	// (overlapping register), certify.
	Phases *struct {
		Encode, Check, Register, Upload, Certify float64
	} `json:"phasesP50Ms"`
	// StartUnixMs and EndUnixMs bound the row's operations (Unix milliseconds).
	StartUnixMs int64 `json:"startUnixMs"`
	EndUnixMs   int64 `json:"endUnixMs"`
}

// Report is what a run measured.
type Report struct {
	Mode string
	// Emulator is how the latency matrix was applied in ModeNetns: netns.EmulatorNetem, or
	// netns.EmulatorTUN (a userspace router in this process) where the kernel has no netem.
	Emulator string
	// Delay reports whether the latency matrix was applied (ModeNetns); DelayErr says why
	// not.
	Delay    bool
	DelayErr string
	Hosts    int
	// Sizes are the blob sizes benchmarked (Config.Sizes or its default).
	Sizes []string
	// Bench is each client's benchmark, by client host name.
	Bench map[string][]BenchRow
	// KilledValidator is the validator killed before AfterKill, a benchmark of small blobs
	// run with it down.
	KilledValidator string
	AfterKill       []BenchRow
	// Recovery is the failure of one storage node while blobs are stored, and its recovery.
	Recovery Recovery
	// EpochChange is the first epoch change, with stores running through it.
	EpochChange EpochChange
	// Router counts the packets of the userspace emulator (netns.EmulatorTUN).
	Router netns.RouterStats
	// Budgets are the CPU used during each client's stores of each size (Bench).
	Budgets []Budget
	// Profiles are the CPU profiles of the processes on the first client's write path
	// (Config.ProfileDir); none without it.
	Profiles []ProcessProfile
}

// Recovery describes a storage node killed while MissedBlobs blobs were stored, then
// restarted: it rebuilt RecoveredSlivers slivers (RecoveredBytes of sliver data) from
// DownloadedBytes fetched from its peers, in Duration after the restart.
type Recovery struct {
	Node                             string
	Shards, MissedBlobs              int
	RecoveredSlivers, RecoveredBytes int64
	DownloadedBytes                  int64
	Duration                         time.Duration
}

// EpochChange describes the first epoch change: Stores stores ran while it happened (all
// succeeded, or the run failed).
type EpochChange struct {
	Epoch  int
	Stores int
	Wait   time.Duration
}

// host is one emulated machine of the run.
type host struct {
	name   string
	region string
	ip     string      // its address (127.0.0.1 in loopback mode)
	ns     *netns.Host // nil in loopback mode
}

// Run builds the network, runs the benchmark from every client, kills one validator and
// benchmarks again, and tears everything down (also when ctx ends: cancel it on SIGINT or
// SIGTERM). Namespaces left by runs that were killed are removed first.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	if cfg.Binary == "" || cfg.Dir == "" {
		return nil, errors.New("testbed: Binary and Dir are required")
	}
	switch cfg.Mode {
	case ModeAuto, ModeNetns, ModeLoopback:
	default:
		return nil, fmt.Errorf("testbed: mode %q: want %q or %q", cfg.Mode, ModeNetns, ModeLoopback)
	}
	if cfg.Validators < 4 {
		return nil, fmt.Errorf("testbed: %d validators: want at least 4, so that the chain survives one killed", cfg.Validators)
	}
	rep := &Report{Mode: cfg.Mode, Sizes: cfg.Sizes, Bench: map[string][]BenchRow{}}
	if rep.Mode == ModeAuto {
		rep.Mode = ModeNetns
		if err := netns.Probe(ctx); err != nil {
			cfg.Log.Warn("testbed: no network namespaces; running on loopback", "err", err)
			rep.Mode = ModeLoopback
		}
	}
	// Hosts, round-robin over the regions.
	var specs []netns.HostSpec
	var hosts []*host
	add := func(name string, i int) *host {
		r := cfg.Matrix.Regions[i%len(cfg.Matrix.Regions)]
		h := &host{name: name, region: r, ip: "127.0.0.1"}
		specs = append(specs, netns.HostSpec{Name: name, Region: r})
		hosts = append(hosts, h)
		return h
	}
	var validators, nodes, clients []*host
	for i := range cfg.Validators {
		validators = append(validators, add(fmt.Sprintf("v%d", i), i))
	}
	for i := range cfg.Nodes {
		nodes = append(nodes, add(fmt.Sprintf("n%d", i), i))
	}
	for i := range cfg.Clients {
		clients = append(clients, add(fmt.Sprintf("c%d", i), i))
	}
	rep.Hosts = len(hosts)

	var network *netns.Network
	if rep.Mode == ModeNetns {
		if removed, err := netns.CleanStale(ctx); err != nil {
			return nil, err
		} else if len(removed) > 0 {
			cfg.Log.Info("testbed: removed stale namespaces", "names", removed)
		}
		var err error
		if network, err = netns.Create(ctx, netns.NewPrefix(1), cfg.Matrix, specs, cfg.Log); err != nil {
			return nil, err
		}
		defer network.Close()
		rep.Delay, rep.Emulator = network.Delay, network.Emulator
		cfg.Log.Info("testbed: latency emulation", "emulator", rep.Emulator, "delay", rep.Delay, "netem", network.NetemErr)
		if network.DelayErr != nil {
			rep.DelayErr = network.DelayErr.Error()
		}
		for _, h := range hosts {
			h.ns = network.Host(h.name)
			h.ip = h.ns.IP
		}
	}
	r := &runner{cfg: cfg, network: network, sampler: startSampler(), pprof: map[string]string{}}
	defer r.sampler.close()
	defer r.stopAll()
	if network != nil {
		defer func() { rep.Router = network.Stats() }()
	}
	if err := r.build(ctx, validators, nodes, clients); err != nil {
		return nil, err
	}
	for _, v := range validators {
		if err := r.start(v, "chain", "start", "--home", filepath.Join(cfg.Dir, "net", "validator-"+strings.TrimPrefix(v.name, "v"))); err != nil {
			return nil, err
		}
	}
	for i, n := range nodes {
		if err := r.start(n, "node", "--config", filepath.Join(cfg.Dir, "net", "storage-nodes", fmt.Sprintf("storage-node-%d", i), "node.yaml")); err != nil {
			return nil, err
		}
	}
	cfg.Log.Info("testbed: network started", "mode", rep.Mode, "delay", rep.Delay, "validators", len(validators), "nodes", len(nodes))
	if err := r.waitHealthy(ctx, clients[0], len(nodes)); err != nil {
		return nil, err
	}
	var rows []BenchRow
	var err error
	var profiled []ProcessProfile
	var profErrs map[string]error
	for ci, c := range clients {
		// The processes on the first client's write path are profiled while it runs.
		var col *collector
		if ci == 0 && cfg.ProfileDir != "" {
			if col, profiled, err = r.profileWritePath(ctx, c, validators[0], nodes); err != nil {
				return nil, err
			}
		}
		// One size at a time, each logged as it is measured.
		for _, size := range cfg.Sizes {
			prof := ""
			if col != nil {
				prof = filepath.Join(col.dir, c.name+"-"+size+".pprof")
			}
			if rows, err = r.bench(ctx, c, size, cfg.Count, prof); err != nil {
				if col != nil {
					col.finish()
				}
				return nil, err
			}
			for _, row := range rows {
				cfg.Log.Info("testbed: bench", "client", c.name, "op", row.Op, "size", row.Size, "p50Ms", row.P50Ms, "p90Ms", row.P90Ms, "MBps", row.MBps, "phases", row.Phases)
			}
			rep.Bench[c.name] = append(rep.Bench[c.name], rows...)
		}
		if col != nil {
			col.finish()
			profErrs = col.errs
		}
	}
	rep.Budgets = r.sampler.budgets(rep.Bench, clients)
	if rep.Recovery, err = r.failNode(ctx, clients[0], nodes[0], 0); err != nil {
		return nil, err
	}
	cfg.Log.Info("testbed: recovery", "recovery", rep.Recovery)
	if rep.EpochChange, err = r.epochUnderLoad(ctx, clients[0], clients[len(clients)-1]); err != nil {
		return nil, err
	}
	cfg.Log.Info("testbed: epoch change", "epochChange", rep.EpochChange)
	// One validator down: not the one the first client talks to, but the first choice of
	// some storage nodes, which must fail over.
	victim := validators[len(validators)-1]
	rep.KilledValidator = victim.name
	r.kill(victim)
	cfg.Log.Info("testbed: validator killed", "validator", victim.name)
	rows, err = r.bench(ctx, clients[0], cfg.Sizes[0], cfg.Count, "")
	if err != nil {
		return nil, fmt.Errorf("testbed: with validator %s killed: %w", victim.name, err)
	}
	rep.AfterKill = rows
	if profiled != nil {
		rep.Profiles = analyse(ctx, cfg.ProfileDir, profiled, profErrs)
	}
	return rep, nil
}

// runner starts and stops the processes of a run.
type runner struct {
	cfg     Config
	network *netns.Network
	procs   map[string]*exec.Cmd
	args    map[string][]string // the command line of each host's process
	clients map[string]string   // client host name → client configuration
	metrics string              // host:port of storage node 0's metrics
	sampler *cpuSampler         // CPU of every process started
	pprof   map[string]string   // host name → host:port of its runtime profiles (Config.ProfileDir)
}

// command returns a walrus command run on host h.
func (r *runner) command(ctx context.Context, h *host, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if h != nil && h.ns != nil {
		cmd = r.network.Command(ctx, h.ns, r.cfg.Binary, args...)
	} else {
		cmd = exec.CommandContext(ctx, r.cfg.Binary, args...)
	}
	// Killed with this process, even by SIGKILL.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// output runs a walrus command on h and returns its standard output.
func (r *runner) output(ctx context.Context, h *host, args ...string) ([]byte, error) {
	cmd := r.command(ctx, h, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Start()
	if err == nil {
		if h != nil {
			r.sampler.add(h.name, cmd.Process.Pid)
		}
		err = cmd.Wait()
	}
	if err != nil {
		return nil, fmt.Errorf("testbed: walrus %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// freePort returns a port free on loopback now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// build makes the wallets, the chain (walrus chain init) and the client configurations.
func (r *runner) build(ctx context.Context, validators, nodes, clients []*host) error {
	cfg := r.cfg
	r.procs = map[string]*exec.Cmd{}
	r.args = map[string][]string{}
	r.clients = map[string]string{}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "logs"), 0o700); err != nil {
		return err
	}
	port := func(h *host, fixed int) (string, error) {
		if h.ns != nil {
			return net.JoinHostPort(h.ip, strconv.Itoa(fixed)), nil
		}
		p, err := freePort()
		return net.JoinHostPort(h.ip, strconv.Itoa(p)), err
	}
	var p2p, rpc, storage, stakes []string
	for _, v := range validators {
		a, err := port(v, 26656)
		if err != nil {
			return err
		}
		b, err := port(v, 26657)
		if err != nil {
			return err
		}
		p2p, rpc = append(p2p, a), append(rpc, b)
	}
	for i, n := range nodes {
		a, err := port(n, 9185)
		if err != nil {
			return err
		}
		storage = append(storage, a)
		stakes = append(stakes, strconv.Itoa(1000*(1+i%4))) // uneven: 1000 to 4000 WAL
	}
	var funds []string
	wallets := map[string]string{}
	for _, c := range clients {
		w := filepath.Join(cfg.Dir, c.name+"-wallet.json")
		out, err := r.output(ctx, nil, "wallet", "new", "--wallet", w, "--json")
		if err != nil {
			return err
		}
		var res struct{ Address string }
		if err := json.Unmarshal(out, &res); err != nil {
			return fmt.Errorf("testbed: wallet new: %w", err)
		}
		funds = append(funds, "--fund", res.Address+"=1000000")
		wallets[c.name] = w
	}
	args := []string{"chain", "init", "--json", "--home", filepath.Join(cfg.Dir, "net"),
		"--validators", strconv.Itoa(len(validators)),
		"--addresses", strings.Join(p2p, ","), "--rpc-addresses", strings.Join(rpc, ","),
		"--storage-nodes", strconv.Itoa(len(nodes)), "--storage-node-addresses", strings.Join(storage, ","),
		"--storage-node-stakes", strings.Join(stakes, ","), "--storage-node-metrics-offset", "-1",
		"--n-shards", strconv.Itoa(cfg.Shards), "--epoch-duration", cfg.EpochDuration.String()}
	out, err := r.output(ctx, nil, append(args, funds...)...)
	if err != nil {
		return err
	}
	var res struct {
		ChainID string `json:"chainId"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return fmt.Errorf("testbed: chain init: %w", err)
	}
	// Storage node 0 serves metrics, for the recovery it will have to do.
	metrics, err := port(nodes[0], 9285)
	if err != nil {
		return err
	}
	r.metrics = metrics
	yml := filepath.Join(cfg.Dir, "net", "storage-nodes", "storage-node-0", "node.yaml")
	raw, err := os.ReadFile(yml)
	if err != nil {
		return err
	}
	if err := os.WriteFile(yml, bytes.Replace(raw, []byte("metrics_listen: off"), []byte("metrics_listen: "+metrics), 1), 0o600); err != nil {
		return err
	}
	if cfg.ProfileDir != "" {
		if err := r.enableProfiles(validators, nodes, port); err != nil {
			return err
		}
	}
	for i, c := range clients {
		path := filepath.Join(cfg.Dir, c.name+"-client.yaml")
		y := fmt.Sprintf("rpc_url: http://%s\nchain_id: %s\nwallet: %s\n", rpc[i%len(rpc)], res.ChainID, wallets[c.name])
		if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
			return err
		}
		r.clients[c.name] = path
	}
	return nil
}

// start runs a long-lived walrus process on h, with its output in DIR/logs/NAME.log.
func (r *runner) start(h *host, args ...string) error {
	log, err := os.OpenFile(filepath.Join(r.cfg.Dir, "logs", h.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := r.command(context.Background(), h, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("testbed: start %s: %w", h.name, err)
	}
	r.sampler.add(h.name, cmd.Process.Pid)
	go func() {
		cmd.Wait() //nolint:errcheck // killed at the end
		log.Close()
	}()
	r.procs[h.name] = cmd
	r.args[h.name] = args
	return nil
}

// logTail returns the end of h's log.
func (r *runner) logTail(h *host) string {
	b, _ := os.ReadFile(filepath.Join(r.cfg.Dir, "logs", h.name+".log"))
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// kill kills h's process with SIGKILL.
func (r *runner) kill(h *host) {
	if p := r.procs[h.name]; p != nil {
		p.Process.Kill() //nolint:errcheck // it may have exited
		delete(r.procs, h.name)
	}
}

func (r *runner) stopAll() {
	for name, p := range r.procs {
		p.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may have exited
		delete(r.procs, name)
	}
}

// waitHealthy waits until `walrus health` from client c reports all n storage nodes
// answering.
func (r *runner) waitHealthy(ctx context.Context, c *host, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var last error
	for {
		out, err := r.output(ctx, c, "--config", r.clients[c.name], "health", "--json")
		if err == nil {
			var h struct {
				HealthInfo []struct {
					HealthInfo struct {
						Ok *json.RawMessage `json:"Ok"`
					} `json:"healthInfo"`
				} `json:"healthInfo"`
			}
			if err = json.Unmarshal(out, &h); err == nil {
				ok := 0
				for _, e := range h.HealthInfo {
					if e.HealthInfo.Ok != nil {
						ok++
					}
				}
				if ok == n {
					return nil
				}
				err = fmt.Errorf("%d of %d storage nodes healthy", ok, n)
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("testbed: the network did not become healthy: %v (logs in %s)", last, filepath.Join(r.cfg.Dir, "logs"))
		case <-time.After(time.Second): // polling interval
		}
	}
}

// bench runs walrus bench on client c.
// A profile path writes a CPU profile of the client there.
func (r *runner) bench(ctx context.Context, c *host, sizes string, count int, profile string) ([]BenchRow, error) {
	// Three epochs: storage bought for the current epoch only (bench's default) expires
	// when an epoch change comes between the purchase and the registration.
	args := []string{"--config", r.clients[c.name], "bench", "--sizes", sizes, "--count", strconv.Itoa(count), "--epochs", "3", "--json"}
	if profile != "" {
		args = append(args, "--cpuprofile", profile)
	}
	out, err := r.output(ctx, c, args...)
	if err != nil {
		return nil, err
	}
	var rows []BenchRow
	if err := json.Unmarshal(out, &rows); err != nil {
		return nil, fmt.Errorf("testbed: bench output: %w", err)
	}
	return rows, nil
}

// nodeMetrics reads the Prometheus metrics of storage node 0 (on host h) as name → value.
func (r *runner) nodeMetrics(ctx context.Context, h *host) (map[string]float64, error) {
	tr := &http.Transport{}
	if h.ns != nil {
		tr.DialContext = h.ns.DialContext
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.metrics+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 4<<20))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				out[f[0]] = v
			}
		}
	}
	return out, sc.Err()
}

// failNode kills storage node idx (host h), stores blobs from client c while it is down,
// restarts it and waits until it has rebuilt its slivers of them.
func (r *runner) failNode(ctx context.Context, c, h *host, idx int) (Recovery, error) {
	rec := Recovery{Node: h.name, MissedBlobs: r.cfg.Count}
	out, err := r.output(ctx, c, "--config", r.clients[c.name], "health", "--json")
	if err != nil {
		return rec, err
	}
	var health struct {
		HealthInfo []struct {
			NodeName string `json:"nodeName"`
			Shards   int    `json:"shards"`
		} `json:"healthInfo"`
	}
	if err := json.Unmarshal(out, &health); err != nil {
		return rec, fmt.Errorf("testbed: health output: %w", err)
	}
	for _, e := range health.HealthInfo {
		if e.NodeName == fmt.Sprintf("storage-node-%d", idx) {
			rec.Shards = e.Shards
		}
	}
	if rec.Shards == 0 {
		return rec, fmt.Errorf("testbed: storage node %d holds no shard", idx)
	}
	args := r.args[h.name]
	r.kill(h)
	r.cfg.Log.Info("testbed: storage node killed", "node", h.name, "shards", rec.Shards)
	if _, err := r.bench(ctx, c, "1MiB", rec.MissedBlobs, ""); err != nil {
		return rec, fmt.Errorf("testbed: stores with %s down: %w", h.name, err)
	}
	if err := r.start(h, args...); err != nil {
		return rec, err
	}
	start := time.Now()
	want := float64(2 * rec.Shards * rec.MissedBlobs)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for {
		m, err := r.nodeMetrics(ctx, h)
		if err == nil && m["walrus_node_recovered_slivers_total"] >= want {
			rec.RecoveredSlivers = int64(m["walrus_node_recovered_slivers_total"])
			rec.RecoveredBytes = int64(m["walrus_node_recovered_bytes_total"])
			rec.DownloadedBytes = int64(m["walrus_node_recovery_downloaded_bytes_total"])
			rec.Duration = time.Since(start)
			return rec, nil
		}
		select {
		case <-ctx.Done():
			return rec, fmt.Errorf("testbed: %s did not recover %v slivers: metrics %v, %v; its log ends:\n%s", h.name, want, m["walrus_node_recovered_slivers_total"], err, r.logTail(h))
		case <-time.After(500 * time.Millisecond): // polling interval
		}
	}
}

// epoch returns the current epoch as client c sees it.
func (r *runner) epoch(ctx context.Context, c *host) (int, error) {
	out, err := r.output(ctx, c, "--config", r.clients[c.name], "info", "epoch", "--json")
	if err != nil {
		return 0, err
	}
	var e struct {
		CurrentEpoch int `json:"currentEpoch"`
	}
	if err := json.Unmarshal(out, &e); err != nil {
		return 0, fmt.Errorf("testbed: info epoch output: %w", err)
	}
	return e.CurrentEpoch, nil
}

// epochUnderLoad stores 1 MiB blobs from client load, one after another, until client
// watch sees the epoch change, and one more after it; every store must succeed.
func (r *runner) epochUnderLoad(ctx context.Context, watch, load *host) (EpochChange, error) {
	var ec EpochChange
	first, err := r.epoch(ctx, watch)
	if err != nil {
		return ec, err
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, r.cfg.EpochDuration+5*time.Minute)
	defer cancel()
	changed := false
	for {
		if _, err := r.bench(ctx, load, "1MiB", 1, ""); err != nil {
			return ec, fmt.Errorf("testbed: store %d during the epoch change: %w", ec.Stores+1, err)
		}
		ec.Stores++
		if changed {
			return ec, nil
		}
		e, err := r.epoch(ctx, watch)
		if err != nil {
			return ec, err
		}
		if e > first {
			changed, ec.Epoch, ec.Wait = true, e, time.Since(start)
		}
	}
}

// paper holds the figures of Walrus's paper (105 nodes, 1000 shards, 17 countries) and this
// issue's targets, by operation and size.
var paper = map[string]struct{ paper, target string }{
	"store 1024":      {"~6 s (fixed overhead)", "p50 < 2 s"},
	"store 20971520":  {"< 25 s", "< 6 s"},
	"read 20971520":   {"< 15 s", "< 3 s"},
	"store 136314880": {"~18 MB/s (plateau)", "> 40 MB/s"},
}

// Print writes the report as a table, the paper's figures beside ours.
func (rep *Report) Print(w io.Writer) {
	delay := "latency matrix applied by " + rep.Emulator
	if !rep.Delay {
		delay = "no latency emulation"
		if rep.DelayErr != "" {
			delay += " (" + rep.DelayErr + ")"
		}
	}
	fmt.Fprintf(w, "testbed: mode %s, %d hosts, %s\n", rep.Mode, rep.Hosts, delay)
	for client, rows := range rep.Bench {
		fmt.Fprintf(w, "\nclient %s\n%-6s %10s %10s %10s %9s  %-24s %s\n", client, "op", "size", "p50", "p90", "MB/s", "paper", "target")
		for _, row := range rows {
			p := paper[fmt.Sprintf("%s %d", row.Op, row.Size)]
			fmt.Fprintf(w, "%-6s %10d %8.0fms %8.0fms %9.1f  %-24s %s\n", row.Op, row.Size, row.P50Ms, row.P90Ms, row.MBps, p.paper, p.target)
		}
		for _, row := range rows {
			if ph := row.Phases; ph != nil {
				fmt.Fprintf(w, "  store %d phases (p50 ms): encode %.0f, check %.0f, register %.0f, upload %.0f (overlaps register), certify %.0f\n",
					row.Size, ph.Encode, ph.Check, ph.Register, ph.Upload, ph.Certify)
			}
		}
	}
	printBudgets(w, rep.Budgets)
	printProfiles(w, rep.Profiles)
	rc := rep.Recovery
	fmt.Fprintf(w, "\nnode %s (%d shards) down for %d blobs, restarted: rebuilt %d slivers (%d bytes) from %d bytes downloaded in %v\n",
		rc.Node, rc.Shards, rc.MissedBlobs, rc.RecoveredSlivers, rc.RecoveredBytes, rc.DownloadedBytes, rc.Duration.Round(time.Millisecond))
	fmt.Fprintf(w, "epoch change to %d after %v with %d stores through it, all certified\n",
		rep.EpochChange.Epoch, rep.EpochChange.Wait.Round(time.Second), rep.EpochChange.Stores)
	if rt := rep.Router; rt.Delivered > 0 {
		fmt.Fprintf(w, "userspace router: %d packets (%d bytes) delivered, %d lost, %d dropped on a full queue\n",
			rt.Delivered, rt.DeliveredBytes, rt.Lost, rt.Overflow)
	}
	fmt.Fprintf(w, "\nwith validator %s killed:\n", rep.KilledValidator)
	for _, row := range rep.AfterKill {
		fmt.Fprintf(w, "%-6s %10d %8.0fms %8.0fms %9.1f\n", row.Op, row.Size, row.P50Ms, row.P90Ms, row.MBps)
	}
}
