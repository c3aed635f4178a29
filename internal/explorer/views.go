package explorer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/netmetrics"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// Errors of the views (mapped to HTTP statuses in one table, see statusOf).
var (
	ErrBadID    = errors.New("explorer: not a blob ID, object ID or address")
	ErrNotFound = errors.New("explorer: not found")
	ErrNotReady = errors.New("explorer: still reading the chain")
)

// Member is a committee member as the overview shows it.
type Member struct {
	NodeID string  `json:"nodeId"`
	Name   string  `json:"name"`
	Shards int     `json:"shards"`
	Up     bool    `json:"up"`
	Uptime float64 `json:"uptime"`
	Status string  `json:"status"`
}

// Recovery is recovery bandwidth from the nodes' metrics.
type Recovery struct {
	DownloadedBytes uint64  `json:"downloadedBytes"`
	RecoveredBytes  uint64  `json:"recoveredBytes"`
	PerLostByte     float64 `json:"perLostByte"`
	NodesScraped    int     `json:"nodesScraped"`
	NodesFailed     int     `json:"nodesFailed"`
}

// LargestHolder is one of the accounts holding the most stored data.
type LargestHolder struct {
	Address string  `json:"address"`
	Blobs   uint64  `json:"blobs"`
	Bytes   uint64  `json:"bytes"`
	Share   float64 `json:"share"` // of the unencoded bytes of live blobs
}

// Overview is the network overview (GET /v1/network/overview).
type Overview struct {
	Epoch         uint32  `json:"epoch"`
	EpochState    string  `json:"epochState"`
	EpochStart    string  `json:"epochStart"`    // RFC 3339 UTC
	NextEpochAt   string  `json:"nextEpochAt"`   // RFC 3339 UTC, estimated
	EpochProgress float64 `json:"epochProgress"` // 0..1 of the epoch's duration elapsed
	NShards       int     `json:"nShards"`
	// Prices are FROST per MiB of encoded size (per epoch for storage, once for writes).
	StoragePrice  uint64  `json:"storagePrice"`
	WritePrice    uint64  `json:"writePrice"`
	TotalCapacity uint64  `json:"totalCapacity"`
	CapacityUsed  float64 `json:"capacityUsed"` // encoded bytes stored / capacity
	Stored        Stored  `json:"stored"`
	// LargestHolders are the (at most TopHolders) accounts owning the most unencoded bytes
	// of live blobs; Holders is how many accounts own any.
	LargestHolders []LargestHolder          `json:"largestHolders"`
	Holders        int                      `json:"holders"`
	Overhead       netmetrics.Overhead      `json:"overhead"`
	Committee      []Member                 `json:"committee"`
	Stake          netmetrics.Concentration `json:"stakeByOperator"`
	Shards         netmetrics.Concentration `json:"shardsByOperator"`
	ShardsMoved    int                      `json:"shardsMoved"`
	ReadLatency    Latency                  `json:"readLatency"`
	WriteLatency   Latency                  `json:"writeLatency"`
	Recovery       Recovery                 `json:"recovery"`
	HealthSamples  uint64                   `json:"healthSamples"`
	HealthInterval string                   `json:"healthInterval"`
	// Challenges is "not yet": storage challenges do not exist in this network yet.
	Challenges string `json:"challenges"`
}

const challengesNotYet = "not yet: storage challenges do not exist yet"

func rfc3339(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339) }

// pools reads every pool (bounded by maxPools), a page at a time.
func (x *Explorer) pools(ctx context.Context) ([]chain.Pool, error) {
	var out []chain.Pool
	req := chain.PoolsRequest{}
	for len(out) < maxPools {
		p, err := x.cfg.Chain.PoolPage(ctx, req)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Pools...)
		if !p.HasNext {
			break
		}
		req = chain.PoolsRequest{HasAfter: true, After: p.Next}
	}
	return out, nil
}

// Overview returns the network overview.
func (x *Explorer) Overview(ctx context.Context) (Overview, error) {
	o, err := x.overview(ctx)
	if err == nil {
		o.ReadLatency, o.WriteLatency = x.latencies()
	}
	return o, err
}

// overview is Overview without the latencies (the Prometheus collector's: reading the
// gateway's registry from inside its own collection would recurse).
func (x *Explorer) overview(ctx context.Context) (Overview, error) {
	sys, err := x.cfg.Chain.System(ctx)
	if err != nil {
		return Overview{}, err
	}
	info, err := x.cfg.Chain.CommitteeAt(ctx, sys.Epoch)
	if err != nil {
		return Overview{}, err
	}
	pools, err := x.pools(ctx)
	if err != nil {
		return Overview{}, err
	}
	stored, hist, rec, samples := x.snapshot()
	p := x.params
	o := Overview{
		Epoch: sys.Epoch, EpochState: sys.EpochState.String(), EpochStart: rfc3339(sys.EpochStart),
		NextEpochAt: rfc3339(chain.EpochStartEstimate(p, sys, sys.Epoch+1)),
		NShards:     int(info.NShards), StoragePrice: sys.StoragePrice, WritePrice: sys.WritePrice,
		TotalCapacity: sys.TotalCapacity, CapacityUsed: netmetrics.Ratio(stored.EncodedBytes, sys.TotalCapacity),
		Stored: stored, Overhead: netmetrics.NewOverhead(stored.Bytes, stored.EncodedBytes, stored.MetadataBytes),
		HealthSamples: samples, HealthInterval: x.cfg.HealthInterval.String(), Challenges: challengesNotYet,
		Recovery: Recovery{DownloadedBytes: rec.Downloaded, RecoveredBytes: rec.Recovered,
			PerLostByte: netmetrics.RecoveryPerLostByte(rec.Downloaded, rec.Recovered), NodesScraped: rec.Scraped, NodesFailed: rec.Failed},
	}
	top, holders := x.topHolders()
	o.Holders, o.LargestHolders = holders, make([]LargestHolder, 0, len(top))
	for _, h := range top {
		o.LargestHolders = append(o.LargestHolders, LargestHolder{Address: h.Address.String(), Blobs: h.Blobs, Bytes: h.Bytes,
			Share: netmetrics.Ratio(h.Bytes, stored.Bytes)})
	}
	if p.EpochDuration > 0 {
		o.EpochProgress = min(max(float64(sys.Time-sys.EpochStart)/float64(p.EpochDuration), 0), 1)
	}
	if int(sys.Epoch) < len(hist) {
		o.ShardsMoved = hist[sys.Epoch].ShardsMoved
	}
	// Operators: stake and shards summed over their nodes, in operator order.
	operatorOf := map[chain.ObjectID]chain.Address{}
	stake := map[chain.Address]uint64{}
	for _, pl := range pools {
		operatorOf[pl.NodeID] = pl.Operator
		stake[pl.Operator] += pl.Wal
	}
	shards := map[chain.Address]uint64{}
	for _, m := range info.Members {
		shards[operatorOf[m.NodeID]] += uint64(len(m.Shards))
		h, _ := x.healthOf(m.NodeID)
		o.Committee = append(o.Committee, Member{NodeID: m.NodeID.String(), Name: m.Name, Shards: len(m.Shards),
			Up: h.Up, Uptime: h.Uptime.Fraction(), Status: h.Status})
	}
	o.Stake = netmetrics.NewConcentration(values(stake))
	o.Shards = netmetrics.NewConcentration(values(shards))
	return o, nil
}

func values[K comparable](m map[K]uint64) []uint64 {
	out := make([]uint64, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// NodeRow is one storage node on the nodes page.
type NodeRow struct {
	NodeID         string  `json:"nodeId"`
	Name           string  `json:"name"`
	NetworkAddress string  `json:"networkAddress"`
	Operator       string  `json:"operator"`
	Stake          uint64  `json:"stake"` // WAL in the pool (FROST)
	Shards         int     `json:"shards"`
	InCommittee    bool    `json:"inCommittee"`
	CommissionBps  uint16  `json:"commissionBps"`
	Sampled        bool    `json:"sampled"`
	Up             bool    `json:"up"`
	Health         string  `json:"health"`
	Uptime         float64 `json:"uptime"`
	UptimeSamples  uint64  `json:"uptimeSamples"`
	SampledAt      string  `json:"sampledAt,omitempty"` // RFC 3339 UTC with nanoseconds: when the last sample was asked for
	Challenges     string  `json:"challenges"`
}

// NodePage is a page of nodes (GET /v1/network/nodes?after=&limit=).
type NodePage struct {
	Epoch uint32    `json:"epoch"`
	Nodes []NodeRow `json:"nodes"`
	Next  string    `json:"next,omitempty"` // the after= of the next page
}

// Nodes returns a page of the registered nodes in node ID order, after the given node ID
// ("" for the first page).
func (x *Explorer) Nodes(ctx context.Context, after string, limit int) (NodePage, error) {
	req := chain.PoolsRequest{Limit: uint32(x.limit(limit))}
	if after != "" {
		id, err := chain.ParseObjectID(after)
		if err != nil {
			return NodePage{}, fmt.Errorf("%w: %v", ErrBadID, err)
		}
		req.HasAfter, req.After = true, id
	}
	sys, err := x.cfg.Chain.System(ctx)
	if err != nil {
		return NodePage{}, err
	}
	info, err := x.cfg.Chain.CommitteeAt(ctx, sys.Epoch)
	if err != nil {
		return NodePage{}, err
	}
	page, err := x.cfg.Chain.PoolPage(ctx, req)
	if err != nil {
		return NodePage{}, err
	}
	shards := map[chain.ObjectID]int{}
	for _, m := range info.Members {
		shards[m.NodeID] = len(m.Shards)
	}
	out := NodePage{Epoch: sys.Epoch}
	for _, p := range page.Pools {
		n, in := shards[p.NodeID]
		row := NodeRow{NodeID: p.NodeID.String(), Name: p.Name, NetworkAddress: p.NetworkAddress, Operator: p.Operator.String(),
			Stake: p.Wal, Shards: n, InCommittee: in, CommissionBps: p.CommissionRate, Health: "not sampled", Challenges: challengesNotYet}
		if h, ok := x.healthOf(p.NodeID); ok {
			row.Sampled, row.Up, row.Health, row.Uptime, row.UptimeSamples = true, h.Up, h.Status, h.Uptime.Fraction(), h.Uptime.Total
			row.SampledAt = h.At.UTC().Format(time.RFC3339Nano)
		}
		out.Nodes = append(out.Nodes, row)
	}
	if page.HasNext {
		out.Next = page.Next.String()
	}
	return out, nil
}

func (x *Explorer) limit(l int) int {
	if l <= 0 {
		return x.cfg.PageSize
	}
	return min(l, MaxPageSize)
}

// ShardHolder is one committee member's part of a blob.
type ShardHolder struct {
	NodeID  string   `json:"nodeId"`
	Name    string   `json:"name"`
	Shards  []uint16 `json:"shards"`
	Answers bool     `json:"answers"` // the node answered that it stores the blob's metadata
	Status  string   `json:"status"`  // its answer, or why it did not answer
}

// BlobView is a blob page (GET /v1/network/blobs/{id}): one Blob object, or a blob ID with
// the Blob objects registered for it.
type BlobView struct {
	BlobID       string            `json:"blobId"`
	ObjectID     string            `json:"objectId,omitempty"`
	Objects      []string          `json:"objects,omitempty"` // live Blob objects of the blob ID
	Status       string            `json:"status"`
	Size         uint64            `json:"size"`
	EncodedSize  uint64            `json:"encodedSize"`
	Owner        string            `json:"owner,omitempty"`
	Shared       bool              `json:"shared"`
	Deletable    bool              `json:"deletable"`
	Registered   uint32            `json:"registeredEpoch"`
	Certified    bool              `json:"certified"`
	EndEpoch     uint32            `json:"endEpoch"`
	EndDate      string            `json:"endDate"` // RFC 3339 UTC, estimated
	Attributes   []chain.Attribute `json:"attributes"`
	Holders      []ShardHolder     `json:"holders"`
	DownloadPath string            `json:"downloadPath"`
}

// Blob returns the blob page of a blob ID (base64url) or Blob object ID (0x hex).
func (x *Explorer) Blob(ctx context.Context, id string) (BlobView, error) {
	var b *chain.Blob
	var v BlobView
	if strings.HasPrefix(id, "0x") {
		oid, err := chain.ParseObjectID(id)
		if err != nil {
			return v, fmt.Errorf("%w: %v", ErrBadID, err)
		}
		o, err := x.cfg.Chain.Object(ctx, oid)
		if err != nil {
			if errors.Is(err, chain.ErrNotFound) {
				return v, fmt.Errorf("%w: object %s", ErrNotFound, id)
			}
			return v, err
		}
		var ok bool
		if b, ok = o.(*chain.Blob); !ok {
			return v, fmt.Errorf("%w: %s is a %s, not a blob", ErrNotFound, id, o.Kind())
		}
	} else {
		bid, err := redstuff.ParseBlobID(id)
		if err != nil {
			return v, fmt.Errorf("%w: %v", ErrBadID, err)
		}
		x.mu.Lock()
		objs := x.agg.objectsOf(bid, MaxPageSize)
		x.mu.Unlock()
		if len(objs) == 0 {
			return v, fmt.Errorf("%w: no live blob object of blob ID %s", ErrNotFound, id)
		}
		for _, oid := range objs {
			v.Objects = append(v.Objects, oid.String())
		}
		o, err := x.cfg.Chain.Object(ctx, objs[0])
		if err != nil {
			return v, err
		}
		var ok bool
		if b, ok = o.(*chain.Blob); !ok {
			return v, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
	}
	sys, err := x.cfg.Chain.System(ctx)
	if err != nil {
		return v, err
	}
	enc, _ := x.agg.enc.EncodedLength(b.Size)
	v.BlobID, v.ObjectID, v.Size, v.EncodedSize = b.BlobID.String(), b.ID.String(), b.Size, enc
	v.Shared, v.Deletable, v.Registered, v.Certified, v.EndEpoch = b.Shared, b.Deletable, b.RegisteredEpoch, b.Certified, b.EndEpoch()
	if !b.Shared {
		v.Owner = b.Owner.String()
	}
	v.EndDate = rfc3339(chain.EpochStartEstimate(x.params, sys, b.EndEpoch()))
	v.Attributes = b.Attributes
	if v.Attributes == nil {
		v.Attributes = []chain.Attribute{}
	}
	switch {
	case b.EndEpoch() <= sys.Epoch:
		v.Status = "expired"
	case b.Certified:
		v.Status = "certified"
	default:
		v.Status = "registered"
	}
	v.DownloadPath = "/v1/blobs/" + b.BlobID.String()
	info, err := x.cfg.Chain.CommitteeAt(ctx, sys.Epoch)
	if err != nil {
		return v, err
	}
	v.Holders = make([]ShardHolder, len(info.Members))
	var wg sync.WaitGroup
	for i, m := range info.Members {
		v.Holders[i] = ShardHolder{NodeID: m.NodeID.String(), Name: m.Name, Shards: m.Shards}
		n, err := x.node(m)
		if err != nil {
			v.Holders[i].Status = err.Error()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sctx, cancel := context.WithTimeout(ctx, x.cfg.NodeTimeout)
			defer cancel()
			st, err := n.MetadataStatus(sctx, b.BlobID)
			if err != nil {
				v.Holders[i].Status = "no answer: " + err.Error()
				return
			}
			v.Holders[i].Answers = st == sn.StatusStored
			v.Holders[i].Status = string(st)
		}()
	}
	wg.Wait()
	return v, nil
}

// AccountView is an account page (GET /v1/network/accounts/{address}).
type AccountView struct {
	Address   string     `json:"address"`
	Balance   uint64     `json:"balance"` // FROST
	Blobs     []BlobRow  `json:"blobs"`
	NextBlobs string     `json:"nextBlobs,omitempty"` // blobs_after= of the next page
	Stakes    []StakeRow `json:"stakes"`
	NextStake string     `json:"nextStakes,omitempty"` // stakes_after= of the next page
}

// BlobRow is one blob in a list.
type BlobRow struct {
	ObjectID  string `json:"objectId"`
	BlobID    string `json:"blobId"`
	Size      uint64 `json:"size"`
	Certified bool   `json:"certified"`
	EndEpoch  uint32 `json:"endEpoch"`
	EndDate   string `json:"endDate"`
}

// StakeRow is one StakedWal object.
type StakeRow struct {
	ObjectID        string `json:"objectId"`
	NodeID          string `json:"nodeId"`
	Principal       uint64 `json:"principal"`
	ActivationEpoch uint32 `json:"activationEpoch"`
	Withdrawing     bool   `json:"withdrawing"`
}

// Account returns an account page: balance, a page of blobs and a page of stakes.
func (x *Explorer) Account(ctx context.Context, addr, blobsAfter, stakesAfter string, limit int) (AccountView, error) {
	a, err := chain.ParseAddress(addr)
	if err != nil {
		return AccountView{}, fmt.Errorf("%w: %v", ErrBadID, err)
	}
	acct, err := x.cfg.Chain.Account(ctx, a)
	if err != nil {
		return AccountView{}, err
	}
	sys, err := x.cfg.Chain.System(ctx)
	if err != nil {
		return AccountView{}, err
	}
	v := AccountView{Address: a.String(), Balance: acct.Balance, Blobs: []BlobRow{}, Stakes: []StakeRow{}}
	page := func(kind chain.ObjectKind, after string) (chain.ObjectPage, error) {
		r := chain.OwnedRequest{Owner: a, Kind: kind, Limit: uint32(x.limit(limit))}
		if after != "" {
			id, err := chain.ParseObjectID(after)
			if err != nil {
				return chain.ObjectPage{}, fmt.Errorf("%w: %v", ErrBadID, err)
			}
			r.HasAfter, r.After = true, id
		}
		return x.cfg.Chain.Owned(ctx, r)
	}
	bp, err := page(chain.KindBlob, blobsAfter)
	if err != nil {
		return v, err
	}
	for _, o := range bp.Objects {
		if b, ok := o.(*chain.Blob); ok {
			v.Blobs = append(v.Blobs, BlobRow{ObjectID: b.ID.String(), BlobID: b.BlobID.String(), Size: b.Size, Certified: b.Certified,
				EndEpoch: b.EndEpoch(), EndDate: rfc3339(chain.EpochStartEstimate(x.params, sys, b.EndEpoch()))})
		}
	}
	if bp.HasNext {
		v.NextBlobs = bp.Next.String()
	}
	sp, err := page(chain.KindStakedWal, stakesAfter)
	if err != nil {
		return v, err
	}
	for _, o := range sp.Objects {
		if s, ok := o.(*chain.StakedWal); ok {
			v.Stakes = append(v.Stakes, StakeRow{ObjectID: s.ID.String(), NodeID: s.NodeID.String(), Principal: s.Principal,
				ActivationEpoch: s.ActivationEpoch, Withdrawing: s.Withdrawing})
		}
	}
	if sp.HasNext {
		v.NextStake = sp.Next.String()
	}
	return v, nil
}

// EpochsView is a page of the epoch history, newest first (GET /v1/network/epochs?page=).
type EpochsView struct {
	Epochs   []EpochStats `json:"epochs"`
	Page     int          `json:"page"`
	HasNext  bool         `json:"hasNext"`
	Current  uint32       `json:"current"`
	Chart    []EpochStats `json:"-"` // the last chartEpochs epochs, oldest first, for the charts
	NextPage int          `json:"-"`
}

const chartEpochs = 50

// Epochs returns page (from 0) of the epoch history, newest first.
func (x *Explorer) Epochs(page, limit int) EpochsView {
	_, hist, _, _ := x.snapshot()
	n := x.limit(limit)
	page = min(max(page, 0), len(hist)) // bounds page*n
	slices.Reverse(hist)
	v := EpochsView{Page: page, Epochs: []EpochStats{}}
	if len(hist) > 0 {
		v.Current = hist[0].Epoch
	}
	if start := page * n; start < len(hist) {
		end := min(start+n, len(hist))
		v.Epochs = hist[start:end]
		v.HasNext = end < len(hist)
		v.NextPage = page + 1
	}
	ch := slices.Clone(hist[:min(len(hist), chartEpochs)])
	slices.Reverse(ch)
	v.Chart = ch
	return v
}
