// Package explorer serves the network explorer: web pages and JSON under /v1/network/ that
// show whether the network is decentralized, efficient and available, and the same numbers
// as Prometheus metrics.
//
// An Explorer reads chain state through a Chain (the chain client), keeps running totals
// of stored blobs from the chain's events (so no request reads all blobs), samples the
// committee's health every HealthInterval, reads the gateway's own latency histograms, and
// scrapes the storage nodes' Prometheus metrics for recovery bandwidth. Pages are rendered
// on the server with html/template and work without JavaScript; charts are inline SVG.
// Every list is paged. The formulas are those of package netmetrics (docs/metrics.md).
package explorer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/netmetrics"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
)

// Chain is the chain state the explorer reads (implemented by *chainclient.Client).
type Chain interface {
	Params(ctx context.Context) (chain.Params, error)
	System(ctx context.Context) (chain.SystemState, error)
	CommitteeAt(ctx context.Context, epoch uint32) (chain.CommitteeInfo, error)
	PoolPage(ctx context.Context, r chain.PoolsRequest) (chain.PoolPage, error)
	Object(ctx context.Context, id chain.ObjectID) (chain.Object, error)
	Account(ctx context.Context, addr chain.Address) (chain.Account, error)
	Owned(ctx context.Context, r chain.OwnedRequest) (chain.ObjectPage, error)
	Events(ctx context.Context, cursor uint64, limit uint32) (chain.EventPage, int64, error)
}

// Node is one storage node's API as the explorer uses it (implemented by
// *nodeclient.Client).
type Node interface {
	Health(ctx context.Context, detailed bool) (sn.HealthInfo, error)
	MetadataStatus(ctx context.Context, id redstuff.BlobID) (sn.StoredStatus, error)
}

// Defaults of Config.
const (
	DefaultHealthInterval = 5 * time.Second
	DefaultPageSize       = 20
	// MaxPageSize bounds the items one page shows (?limit=).
	MaxPageSize = 100
	// maxPools bounds the pools the explorer reads for the stake distribution each interval.
	maxPools = 10_000
)

// Config configures an Explorer. Chain is required; the zero value of every other field
// works.
type Config struct {
	Chain Chain
	// HealthInterval is how often the committee's health is sampled and the totals brought
	// up to date (default DefaultHealthInterval).
	HealthInterval time.Duration
	// NodeTimeout bounds one health or status request to a node (default HealthInterval).
	NodeTimeout time.Duration
	// Dial returns the API of the node at a registered network address with a network key
	// (default: a nodeclient over TLS pinned to the key).
	Dial func(networkAddress string, key [chain.NetworkKeySize]byte, nShards int) (Node, error)
	// Gateway is the registry of the publisher/aggregator's metrics, from which read and write
	// latencies are taken (nil: none shown).
	Gateway prometheus.Gatherer
	// NodeMetrics are the URLs of the storage nodes' Prometheus metrics, from which recovery
	// bandwidth is taken (none: not shown).
	NodeMetrics []string
	// HTTPClient fetches NodeMetrics (default: one with NodeTimeout).
	HTTPClient *http.Client
	// Registerer receives the explorer's Prometheus metrics (nil: not exported).
	Registerer prometheus.Registerer
	// PageSize is the default number of items per page (default DefaultPageSize).
	PageSize int
	Logger   *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Explorer collects the network's metrics and serves them. Run collects; Handler serves.
// It is safe for concurrent use.
type Explorer struct {
	cfg    Config
	params chain.Params

	runMu sync.Mutex // held by Run: one collector at a time

	// mu guards the fields below; collection builds new values off the lock and swaps them in.
	mu       sync.Mutex
	agg      *aggregate
	health   map[chain.ObjectID]*nodeHealth
	nodes    map[string]Node // by network address and key
	recovery recovery
	sampled  time.Time // last health sample
	samples  uint64    // health rounds done
	ready    chan struct{}
	lastErr  error
}

// nodeHealth is the sampled health of one committee member.
type nodeHealth struct {
	Uptime netmetrics.Uptime
	Up     bool
	Status string    // the node's status, or the error that kept it from answering
	At     time.Time // when the sample was asked for
}

// recovery is the storage nodes' recovery counters summed.
type recovery struct {
	Downloaded, Recovered uint64
	Scraped, Failed       int
}

// ErrNoChain is a Config without a Chain.
var ErrNoChain = errors.New("explorer: no chain")

// New returns an Explorer. It reads the chain's parameters once.
func New(ctx context.Context, cfg Config) (*Explorer, error) {
	if cfg.Chain == nil {
		return nil, ErrNoChain
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = DefaultHealthInterval
	}
	if cfg.NodeTimeout <= 0 {
		cfg.NodeTimeout = cfg.HealthInterval
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	cfg.PageSize = min(cfg.PageSize, MaxPageSize)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.NodeTimeout}
	}
	if cfg.Dial == nil {
		timeout := cfg.NodeTimeout
		cfg.Dial = func(addr string, key [chain.NetworkKeySize]byte, n int) (Node, error) {
			return nodeclient.New(nodeclient.URL(addr), nodeclient.Options{NetworkKey: [nodetls.KeySize]byte(key), NShards: n, Timeout: timeout})
		}
	}
	p, err := cfg.Chain.Params(ctx)
	if err != nil {
		return nil, fmt.Errorf("explorer: %w", err)
	}
	agg, err := newAggregate(int(p.NShards))
	if err != nil {
		return nil, fmt.Errorf("explorer: %w", err)
	}
	x := &Explorer{cfg: cfg, params: p, agg: agg, health: map[chain.ObjectID]*nodeHealth{}, nodes: map[string]Node{}, ready: make(chan struct{})}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(promCollector{x}); err != nil {
			return nil, fmt.Errorf("explorer: %w", err)
		}
	}
	return x, nil
}

// Run collects until ctx ends: every HealthInterval it applies new chain events, samples
// the committee's health and scrapes the nodes' metrics. Errors are logged and retried
// next round. It returns ctx's error.
func (x *Explorer) Run(ctx context.Context) error {
	x.runMu.Lock()
	defer x.runMu.Unlock()
	t := time.NewTicker(x.cfg.HealthInterval)
	defer t.Stop()
	for {
		x.Collect(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Collect does one round of collection (what Run does each interval).
func (x *Explorer) Collect(ctx context.Context) {
	err := x.follow(ctx)
	if err != nil {
		x.cfg.Logger.Warn("explorer: reading chain events", "err", err)
	}
	if herr := x.sampleHealth(ctx); herr != nil {
		x.cfg.Logger.Warn("explorer: sampling node health", "err", herr)
		err = errors.Join(err, herr)
	}
	x.scrapeNodes(ctx)
	x.mu.Lock()
	x.lastErr = err
	if x.samples == 0 || err == nil {
		select {
		case <-x.ready:
		default:
			close(x.ready)
		}
	}
	x.mu.Unlock()
}

// follow applies the chain events not yet applied, a page at a time, then the committees
// of the epochs reached.
func (x *Explorer) follow(ctx context.Context) error {
	x.mu.Lock()
	cursor := x.agg.cursor
	x.mu.Unlock()
	for {
		page, _, err := x.cfg.Chain.Events(ctx, cursor, chain.MaxPageSize)
		if err != nil {
			return err
		}
		x.mu.Lock()
		for _, ev := range page.Events {
			x.agg.apply(ev)
		}
		x.mu.Unlock()
		if len(page.Events) == 0 || page.Next == cursor {
			break
		}
		cursor = page.Next
	}
	if err := x.resolveOwners(ctx); err != nil {
		return err
	}
	sys, err := x.cfg.Chain.System(ctx)
	if err != nil {
		return err
	}
	x.mu.Lock()
	x.agg.advance(sys.Epoch)
	var todo []uint32
	for e := uint32(0); e <= sys.Epoch; e++ {
		if !x.agg.row(e).HasCommittee {
			todo = append(todo, e)
		}
	}
	x.mu.Unlock()
	// Committees are read once per epoch; old ones the chain no longer holds stay unknown.
	if len(todo) > 64 {
		todo = todo[len(todo)-64:]
	}
	for _, e := range todo {
		info, err := x.cfg.Chain.CommitteeAt(ctx, e)
		if err != nil {
			continue
		}
		var prev map[uint16]chain.ObjectID
		if e > 0 {
			if p, err := x.cfg.Chain.CommitteeAt(ctx, e-1); err == nil {
				prev = shardMap(p)
			}
		}
		shards := make([]uint64, 0, len(info.Members))
		for _, m := range info.Members {
			shards = append(shards, uint64(len(m.Shards)))
		}
		x.mu.Lock()
		r := x.agg.row(e)
		r.HasCommittee = true
		r.CommitteeSize = len(info.Members)
		r.ShardsMoved = netmetrics.ShardsMoved(prev, shardMap(info))
		r.NakamotoShards = netmetrics.Nakamoto(shards)
		x.mu.Unlock()
	}
	return nil
}

// ownerLookups bounds the concurrent object lookups of resolveOwners.
const ownerLookups = 8

// resolveOwners looks up, once each, the owner of the blobs registered since the last round
// (the BlobRegistered event does not name it) and adds them to the holders' totals. Blobs
// gone meanwhile are dropped; those whose lookup failed otherwise are retried next round.
func (x *Explorer) resolveOwners(ctx context.Context) error {
	x.mu.Lock()
	ids := x.agg.takePending()
	x.mu.Unlock()
	owners := make([]chain.Address, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	sem := make(chan struct{}, ownerLookups)
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			o, err := x.cfg.Chain.Object(ctx, id)
			if err == nil {
				owners[i] = o.OwnerAddress()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	var first error
	x.mu.Lock()
	defer x.mu.Unlock()
	for i, id := range ids {
		switch {
		case errs[i] == nil:
			x.agg.setOwner(id, owners[i])
		case errors.Is(errs[i], chain.ErrNotFound):
			// deleted or expired since: its BlobDeleted or the epoch change removes it
		default:
			x.agg.pending = append(x.agg.pending, id)
			first = cmp.Or(first, errs[i])
		}
	}
	x.agg.rankHolders()
	return first
}

func shardMap(c chain.CommitteeInfo) map[uint16]chain.ObjectID {
	m := make(map[uint16]chain.ObjectID, c.NShards)
	for _, mem := range c.Members {
		for _, s := range mem.Shards {
			m[s] = mem.NodeID
		}
	}
	return m
}

// node returns the (cached) API of a committee member.
func (x *Explorer) node(m chain.MemberInfo) (Node, error) {
	k := m.NetworkAddress + "\x00" + string(m.NetworkPublicKey[:])
	x.mu.Lock()
	defer x.mu.Unlock()
	if n, ok := x.nodes[k]; ok {
		return n, nil
	}
	n, err := x.cfg.Dial(m.NetworkAddress, m.NetworkPublicKey, int(x.params.NShards))
	if err != nil {
		return nil, err
	}
	x.nodes[k] = n
	return n, nil
}

// sampleHealth asks every member of the current committee for its health, concurrently.
func (x *Explorer) sampleHealth(ctx context.Context) error {
	sys, err := x.cfg.Chain.System(ctx)
	if err != nil {
		return err
	}
	info, err := x.cfg.Chain.CommitteeAt(ctx, sys.Epoch)
	if err != nil {
		return err
	}
	type result struct {
		up     bool
		status string
	}
	res := make([]result, len(info.Members))
	start := x.cfg.Now() // a sample's time is when it was asked for
	var wg sync.WaitGroup
	for i, m := range info.Members {
		n, err := x.node(m)
		if err != nil {
			res[i] = result{status: err.Error()}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			hctx, cancel := context.WithTimeout(ctx, x.cfg.NodeTimeout)
			defer cancel()
			h, err := n.Health(hctx, false)
			if err != nil {
				res[i] = result{status: "unreachable: " + err.Error()}
				return
			}
			res[i] = result{up: true, status: h.NodeStatus}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for i, m := range info.Members {
		h := x.health[m.NodeID]
		if h == nil {
			h = &nodeHealth{}
			x.health[m.NodeID] = h
		}
		h.Uptime.Add(res[i].up)
		h.Up, h.Status, h.At = res[i].up, res[i].status, start
	}
	x.sampled = start
	x.samples++
	return nil
}

// Ready is closed once the first collection round has finished.
func (x *Explorer) Ready() <-chan struct{} { return x.ready }

// healthOf returns a copy of a node's sampled health (ok false if never sampled).
func (x *Explorer) healthOf(id chain.ObjectID) (nodeHealth, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	h, ok := x.health[id]
	if !ok {
		return nodeHealth{}, false
	}
	return *h, true
}

// snapshot returns copies of the running totals.
func (x *Explorer) snapshot() (Stored, []EpochStats, recovery, uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.agg.stored, slices.Clone(x.agg.history), x.recovery, x.samples
}

// topHolders returns a copy of the largest holders and the number of accounts holding live
// blobs whose owner is known.
func (x *Explorer) topHolders() ([]holder, int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.agg.rankHolders()), len(x.agg.holders)
}
