package resilience

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/committee"
	"github.com/walrus-go/walrus/internal/faultproxy"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/daemon"
	"github.com/walrus-go/walrus/internal/testnet"
)

// clusterOptions shape a cluster.
type clusterOptions struct {
	nodes      int
	shards     uint16
	epoch      time.Duration // 0: epochs never change during the test
	candidates int
	// fallback is the nodes' shard-sync fallback delay (default 10 s).
	fallback time.Duration
	// challenge turns storage challenges on when enabled.
	challenge chain.ChallengeParams
	// config edits node i's configuration after the defaults.
	config func(i int, cfg *daemon.Config)
}

// cluster is a running network of processes: the validator (`walrus chain start`), the
// storage nodes (`walrus node`), each behind its own fault proxy listening on the node's
// public address, and an SDK client in this process.
type cluster struct {
	t       *testing.T
	bin     string
	net     *testnet.Cluster
	proxies map[string]*faultproxy.Proxy // by node public address
	client  *client.Client
	logs    *logCounter // the client's warnings

	mu    sync.Mutex
	blobs []*stored // certified blobs that must stay readable
}

// stored is a certified blob and its content.
type stored struct {
	id   redstuff.BlobID
	data []byte
}

func newCluster(t *testing.T, o clusterOptions) *cluster {
	t.Helper()
	bin := testnet.Binary(t)
	if o.fallback == 0 {
		o.fallback = 10 * time.Second
	}
	c := &cluster{t: t, bin: bin, proxies: map[string]*faultproxy.Proxy{}, logs: &logCounter{}}
	c.net = testnet.NewCluster(t, testnet.Options{
		Nodes: o.nodes, Shards: int(o.shards), EpochDuration: o.epoch, Candidates: o.candidates,
		RPC: true, ValidatorBinary: bin, Challenge: o.challenge,
		Config: func(i int, cfg *daemon.Config) {
			// The node listens on a private address, in plain HTTP; its public (chain)
			// address is the proxy's, which terminates TLS with the node's network key.
			cfg.Listen = testnet.FreeAddr(t)
			cfg.PlainHTTP = true
			cfg.MetricsListen = testnet.FreeAddr(t)
			cfg.LogLevel = "info"
			cfg.PeerTimeout = 5 * time.Second
			cfg.ShardSyncFallbackAfter = o.fallback
			if o.config != nil {
				o.config(i, cfg)
			}
		},
	})
	for _, nd := range c.net.Nodes {
		c.addProxy(nd)
	}
	t.Cleanup(func() {
		for _, p := range c.proxies {
			p.Close()
		}
	})
	for _, nd := range c.net.Nodes {
		c.net.StartProcess(nd, bin)
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("WALRUS_RESILIENCE_LOGS") != "" {
			c.dumpLogs()
		}
	})
	for _, nd := range c.net.Nodes {
		c.waitHealthy(nd)
	}
	c.waitShards()
	var err error
	c.client, err = client.New(client.Config{
		Chain: c.net.Chain, Signer: c.net.Wallet,
		Logger:         slog.New(slog.NewTextHandler(c.logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		RequestTimeout: 5 * time.Second, RetryMax: time.Second, RegistrationTimeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.client.Close() })
	return c
}

// dumpLogs prints the warnings and errors in every node's log, for a failed run (or any
// run with WALRUS_RESILIENCE_LOGS set).
func (c *cluster) dumpLogs() {
	for _, nd := range c.net.Nodes {
		data, err := os.ReadFile(filepath.Join(nd.Dir, "node.log"))
		if err != nil {
			c.t.Logf("%s: no log: %v", nd.Name, err)
			continue
		}
		var lines []string
		for _, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
				lines = append(lines, l)
			}
		}
		if len(lines) > 40 {
			lines = append(lines[:20], append([]string{"..."}, lines[len(lines)-20:]...)...)
		}
		c.t.Logf("%s: %d warnings and errors:\n%s", nd.Name, len(lines), strings.Join(lines, "\n"))
	}
}

// addProxy puts a fault proxy on the node's public address, forwarding to its private one.
func (c *cluster) addProxy(nd *testnet.ClusterNode) {
	tlsConfig, err := nodetls.ServerConfig(nd.Keys.Network, time.Now())
	if err != nil {
		c.t.Fatal(err)
	}
	p, err := faultproxy.NewTLS(nd.Addr, nd.Config.Listen, tlsConfig)
	if err != nil {
		c.t.Fatal(err)
	}
	c.proxies[nd.Addr] = p
}

func (c *cluster) proxy(nd *testnet.ClusterNode) *faultproxy.Proxy { return c.proxies[nd.Addr] }

// healAll switches every proxy back to forwarding unchanged.
func (c *cluster) healAll() {
	for _, p := range c.proxies {
		p.Set(faultproxy.Fault{Kind: faultproxy.Pass})
	}
}

// waitHealthy waits until the node's own listener answers its health endpoint.
func (c *cluster) waitHealthy(nd *testnet.ClusterNode) {
	c.t.Helper()
	hc := &http.Client{Timeout: 2 * time.Second}
	testnet.WaitFor(c.t, 2*time.Minute, "storage node "+nd.Name+" to answer", func() (bool, error) {
		resp, err := hc.Get("http://" + nd.Config.Listen + "/v1/health")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// waitShards waits until every committee member has applied the chain's events that give
// it its shards: a node answers its health endpoint before its event follower has caught
// up, and a store before then would count on nodes that still refuse their slivers.
func (c *cluster) waitShards() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmt, nodes := c.committee(ctx)
	for i, nd := range nodes {
		want := len(cmt.Members[i].Shards)
		testnet.WaitFor(c.t, 2*time.Minute, nd.Name+" to hold its shards", func() (bool, error) {
			h, err := c.net.Client(nd.Addr).Health(ctx, false)
			return err == nil && h.ShardSummary.Owned == want, nil
		})
	}
}

// kill kills the node's process with SIGKILL.
func (c *cluster) kill(nd *testnet.ClusterNode) { c.net.Kill(nd) }

// start starts the node's process again and waits until it answers.
func (c *cluster) start(nd *testnet.ClusterNode) {
	c.net.StartProcess(nd, c.bin)
	c.waitHealthy(nd)
}

// committee returns the current committee and the nodes of its members in order.
func (c *cluster) committee(ctx context.Context) (chain.CommitteeInfo, []*testnet.ClusterNode) {
	c.t.Helper()
	cmt, err := c.net.Chain.Committee(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	var nodes []*testnet.ClusterNode
	for _, m := range cmt.Members {
		nodes = append(nodes, c.node(m.NetworkAddress))
	}
	return cmt, nodes
}

func (c *cluster) node(addr string) *testnet.ClusterNode {
	for _, nd := range c.net.Nodes {
		if nd.Addr == addr {
			return nd
		}
	}
	c.t.Fatalf("no node at %s", addr)
	return nil
}

// faultyNodes picks members, most shards first, while their shard weight stays within
// f = floor((n-1)/3) (within) or until it exceeds it so that no write quorum is left
// (beyond).
func faultyNodes(cmt chain.CommitteeInfo, beyond bool) []chain.MemberInfo {
	members := slices.Clone(cmt.Members)
	slices.SortStableFunc(members, func(a, b chain.MemberInfo) int { return len(b.Shards) - len(a.Shards) })
	n := int(cmt.NShards)
	f := (n - 1) / 3
	var out []chain.MemberInfo
	w := 0
	for _, m := range members {
		if beyond {
			if committee.Quorum(n-w, n) {
				out = append(out, m)
				w += len(m.Shards)
			}
			continue
		}
		if w+len(m.Shards) <= f {
			out = append(out, m)
			w += len(m.Shards)
		}
	}
	return out
}

// randomBlob returns fresh random content.
func (c *cluster) randomBlob(size int) []byte {
	b := make([]byte, size)
	rand.Read(b)
	return b
}

// store stores data with the SDK and records it as certified.
func (c *cluster) store(ctx context.Context, data []byte) (*stored, error) {
	res, err := c.client.Store(ctx, data, client.StoreOptions{Epochs: 50})
	if err != nil {
		return nil, err
	}
	id, err := redstuff.ParseBlobID(res.BlobID())
	if err != nil {
		return nil, err
	}
	s := &stored{id: id, data: data}
	c.mu.Lock()
	c.blobs = append(c.blobs, s)
	c.mu.Unlock()
	return s, nil
}

// writeBlobs stores one blob of each size and counts them in r; every store must succeed.
func (c *cluster) writeBlobs(ctx context.Context, r *row, sizes ...int) []*stored {
	c.t.Helper()
	var out []*stored
	for _, size := range sizes {
		s, err := c.store(ctx, c.randomBlob(size))
		if err != nil {
			c.t.Fatalf("%s: store of %d bytes: %v", r.name, size, err)
		}
		r.written++
		out = append(out, s)
	}
	return out
}

func (c *cluster) certified() []*stored {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.blobs)
}

// readAll reads every certified blob and compares it byte for byte; failures are counted
// in r and reported as test errors.
func (c *cluster) readAll(ctx context.Context, r *row) {
	c.t.Helper()
	for _, s := range c.certified() {
		c.readOne(ctx, r, s)
	}
}

func (c *cluster) readOne(ctx context.Context, r *row, s *stored) {
	c.t.Helper()
	r.reads++
	got, err := c.client.Read(ctx, s.id, client.ReadOptions{})
	switch {
	case err != nil:
		r.failed++
		c.t.Errorf("%s: read of %s (%d bytes): %v", r.name, s.id, len(s.data), err)
	case !bytes.Equal(got, s.data):
		r.failed++
		c.t.Errorf("%s: read of %s returned %d bytes that differ from the %d stored", r.name, s.id, len(got), len(s.data))
	}
}

// holdsAll waits until the node holds both slivers of every certified blob in the shards
// it owns now.
func (c *cluster) holdsAll(ctx context.Context, nd *testnet.ClusterNode, timeout time.Duration) {
	c.t.Helper()
	testnet.WaitFor(c.t, timeout, nd.Name+" to hold every certified blob of its shards", func() (bool, error) {
		cmt, err := c.net.Chain.Committee(ctx)
		if err != nil {
			return false, err
		}
		var shards []uint16
		for _, m := range cmt.Members {
			if m.NetworkAddress == nd.Addr {
				shards = m.Shards
			}
		}
		for _, s := range c.certified() {
			if ok, err := c.net.HoldsAll(ctx, nd.Config.Listen, s.id, shards); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	})
}

// metrics scrapes a node's Prometheus endpoint and returns each metric's value summed over
// its labels.
func (c *cluster) metrics(nd *testnet.ClusterNode) map[string]float64 {
	c.t.Helper()
	resp, err := http.Get("http://" + nd.Config.MetricsListen + "/metrics")
	if err != nil {
		c.t.Fatalf("metrics of %s: %v", nd.Name, err)
	}
	defer resp.Body.Close()
	out, err := parseMetrics(resp.Body)
	if err != nil {
		c.t.Fatalf("metrics of %s: %v", nd.Name, err)
	}
	return out
}

// parseMetrics reads Prometheus text format: "name{labels} value" lines.
func parseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			return nil, fmt.Errorf("bad metrics line %q", line)
		}
		name := line[:sp]
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("bad metrics line %q: %w", line, err)
		}
		out[name] += v
	}
	return out, sc.Err()
}

// rssHighWater returns the peak resident memory of a process in bytes (VmHWM).
func rssHighWater(pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM")
}

// fundedSigner makes a new account funded from the cluster's wallet.
func (c *cluster) fundedSigner(ctx context.Context) *chainclient.Signer {
	c.t.Helper()
	s, err := chainclient.GenerateSigner(rand.Reader)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.net.Chain.Submit(ctx, c.net.Wallet, &chain.Transfer{To: s.Address(), Amount: 10_000 * chain.FrostPerWAL}); err != nil {
		c.t.Fatal(err)
	}
	return s
}

// logCounter is an io.Writer for a text logger that counts the lines written.
type logCounter struct {
	mu    sync.Mutex
	lines []string
}

func (l *logCounter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.Split(strings.TrimRight(string(p), "\n"), "\n")...)
	return len(p), nil
}

// count returns the number of lines containing s.
func (l *logCounter) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}
